#!/usr/bin/env bash
# Whole-command comparison for `sockscope conversations`, every tool in the same run:
# the read() floor and a bare libpcap loop (bench/capture_loops), sockscope (table,
# JSON, and the table alone without output, pipelined and on one thread), softflowd
# -r, nfpcapd -r, argus -r, and tshark -z conv,tcp -z conv,udp on a tenth of the file
# (tshark needs minutes and gigabytes on the whole). Prints wall and CPU seconds, peak memory and ratios.
#
#   bench/capture_compare.sh [BUILD_DIR] [FILE]
# BUILD_DIR defaults to build/release; FILE to /tmp/sockscope-bench.pcap, generated
# when missing (~1 GB, 10 M packets, 500 k conversations; never commit it).
# Also, same run: FILE.zst (zstd -3, made when missing) against `zstd -dc` alone, the
# same traffic inside VXLAN (VXLAN_FILE, default /tmp/sockscope-bench-vxlan.pcap, made
# when missing by capture_gen --vxlan yes), and with BASE_BUILD=DIR another build's
# sockscope on FILE (e.g. the commit before a change: the plain path's cost).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
file=${2:-/tmp/sockscope-bench.pcap}
runs=${RUNS:-3}
gen=$build/bench/capture_gen
loops=$build/bench/capture_loops
sockscope=$build/sockscope
for b in "$gen" "$loops" "$sockscope"; do
  [ -x "$b" ] || { echo "missing $b: build the release preset first" >&2; exit 2; }
done
if [ ! -s "$file" ]; then
  echo "generating $file ..."
  "$gen" --out "$file" --packets 10000000 --conversations 500000 --concurrent 5000 --seed 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat "$file" >/dev/null  # into the page cache: every tool reads from memory
echo "file: $file ($(du -h "$file" | cut -f1)), load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# measure NAME RUNS CMD...: the run with the lowest wall time (wall, cpu, peak KB).
declare -A wall cpu mem
measure() {
  local name=$1 n=$2
  shift 2
  local best=""
  for ((i = 0; i < n; i++)); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" ||
      { echo "$name failed: $(tail -n 2 "$work/err")" >&2; return; }
    read -r w u s m <"$work/t"
    if [ -z "$best" ] || awk "BEGIN{exit !($w < ${wall[$name]})}"; then
      wall[$name]=$w
      cpu[$name]=$(awk "BEGIN{printf \"%.2f\", $u + $s}")
      mem[$name]=$m
      best=1
    fi
  done
  printf '  %-34s %8.2f s wall %8.2f s cpu %10d KB\n' "$name" "${wall[$name]}" \
    "${cpu[$name]}" "${mem[$name]}"
}

order=()
run() { order+=("$1"); measure "$@"; }
run "read() floor (1 MiB buffer)" "$runs" "$loops" read "$file"
run "libpcap pcap_next_ex loop" "$runs" "$loops" pcap "$file"
run "sockscope conversations (table)" "$runs" "$sockscope" conversations "$file"
run "sockscope --json conversations" "$runs" "$sockscope" --json conversations "$file"
run "sockscope core, no output" "$runs" "$loops" table "$file"
run "sockscope core, one thread" "$runs" "$loops" table1 "$file"
if command -v softflowd >/dev/null; then
  run "softflowd -r" 1 softflowd -r "$file" -n 127.0.0.1:9
fi
if command -v nfpcapd >/dev/null; then
  mkdir -p "$work/nf"
  run "nfpcapd -r" 1 nfpcapd -r "$file" -w "$work/nf"
fi
if command -v argus >/dev/null; then
  run "argus -r" 1 argus -r "$file" -w "$work/argus.out"
fi
if [ -n "${BASE_BUILD:-}" ] && [ -x "$BASE_BUILD/sockscope" ]; then
  run "base: sockscope conversations (table)" "$runs" "$BASE_BUILD/sockscope" conversations "$file"
  run "base: sockscope core, no output" "$runs" "$BASE_BUILD/bench/capture_loops" table "$file"
fi
if command -v zstd >/dev/null; then
  [ -s "$file.zst" ] || zstd -q -T2 -3 "$file" -o "$file.zst"
  cat "$file.zst" >/dev/null
  run "zstd -dc FILE.zst (decompression alone)" "$runs" zstd -q -dc "$file.zst"
  run "sockscope conversations FILE.zst" "$runs" "$sockscope" conversations "$file.zst"
fi
vxlan=${VXLAN_FILE:-/tmp/sockscope-bench-vxlan.pcap}
if [ ! -s "$vxlan" ]; then
  "$gen" --out "$vxlan" --packets 10000000 --conversations 500000 --concurrent 5000 --seed 1 \
    --vxlan yes
fi
cat "$vxlan" >/dev/null
run "sockscope conversations, all VXLAN" "$runs" "$sockscope" conversations "$vxlan"
run "sockscope core, all VXLAN" "$runs" "$loops" table "$vxlan"
if command -v tshark >/dev/null && command -v editcap >/dev/null; then
  editcap -r "$file" "$work/tenth.pcap" 1-1000000 >/dev/null 2>&1
  run "tshark conv (1/10 of the file)" 1 tshark -n -q -r "$work/tenth.pcap" -z conv,tcp \
    -z conv,udp
  run "sockscope (1/10 of the file)" "$runs" "$sockscope" conversations "$work/tenth.pcap"
fi

base="sockscope conversations (table)"
echo
echo "ratios to '$base' (wall; above 1 = slower than sockscope):"
for name in "${order[@]}"; do
  [ -n "${wall[$name]:-}" ] || continue
  awk -v n="$name" -v a="${wall[$name]}" -v b="${wall[$base]}" \
    'BEGIN{printf "  %-34s %8.2fx\n", n, a / b}'
done
