#!/usr/bin/env bash
# Whole-command comparison: `sockscope port|service` against glibc's
# `getent services`, same machine, same run (hyperfine, no shell in between).
#   bench/registry_cli.sh [path/to/sockscope]     (default build/release/sockscope)
# The sockscope runs include process start, loading /etc/services as local
# labels, the lookups and the table; getent reads /etc/services once per call.
# BASELINE=path/to/another/sockscope adds its `port 443` and `--version` to the
# same run (e.g. the binary of an earlier commit, to measure a change).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/sockscope}
[ -x "$bin" ] || { echo "registry_cli.sh: no sockscope binary at $bin (build first)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "registry_cli.sh: hyperfine is not installed" >&2; exit 2; }
out=${TMPDIR:-/tmp}/sockscope-registry-cli.md
extra=()
[ -n "${BASELINE:-}" ] && extra=("$BASELINE port 443" "$BASELINE --version")
hyperfine -N --warmup 20 --runs "${RUNS:-300}" --export-markdown "$out" \
  "$bin port 443" "getent services 443" \
  "$bin service ssh" "getent services ssh" \
  "$bin --version" "${extra[@]}" \
  >&2
cat "$out"
