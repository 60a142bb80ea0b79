#!/usr/bin/env bash
# Instructions and mispredicted branches per packet of the capture core, counted by
# valgrind's cachegrind: deterministic, so a change to the hot path can be judged
# on a busy or virtualised machine where wall times move by 10-15% from run to run
# (and where perf has no hardware counters). The one-thread table loop
# (capture_loops table1) runs on a generated capture of 1 M packets with the bench
# file's mix (50 k conversations, 5,000 at a time).
#
#   bench/capture_counts.sh [BUILD_DIR] [FILE]
# BUILD_DIR defaults to build/release (any build works; one with -g makes
# `cg_annotate --auto=yes OUT` show the costs per source line). FILE defaults to
# /tmp/sockscope-counts.pcap, generated when missing. Prints the totals per packet
# and the ten most expensive functions; the raw profile is left in OUT
# (/tmp/sockscope-counts.cg unless CG_OUT says otherwise).
# cachegrind's branch predictor is a simple model: compare mispredictions between
# versions of the code, and confirm a change with wall times (bench/capture_compare.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
file=${2:-/tmp/sockscope-counts.pcap}
out=${CG_OUT:-/tmp/sockscope-counts.cg}
command -v valgrind >/dev/null || { echo "capture_counts: valgrind is not installed" >&2; exit 2; }
for b in "$build/bench/capture_gen" "$build/bench/capture_loops"; do
  [ -x "$b" ] || { echo "missing $b: build the release preset first" >&2; exit 2; }
done
if [ ! -s "$file" ]; then
  "$build/bench/capture_gen" --out "$file" --packets 1000000 --conversations 50000 \
    --concurrent 5000 --seed 1 >/dev/null
fi
packets=$("$build/bench/capture_loops" decode "$file" 2>/dev/null | awk '{print $2}')
valgrind --tool=cachegrind --branch-sim=yes --cache-sim=no --cachegrind-out-file="$out" \
  "$build/bench/capture_loops" table1 "$file" >/dev/null 2>&1
cg_annotate --show-percs=no "$out" 2>/dev/null | awk -v n="$packets" '
  function num(s) { gsub(",", "", s); return s == "." ? 0 : s + 0 }
  /PROGRAM TOTALS/ {
    printf "%d packets: %.1f instructions, %.2f mispredicted branches per packet\n",
           n, num($1) / n, num($3) / n
  }
  /file:function/ { listing = 1; next }
  listing && NF > 5 && shown < 10 {
    name = $0
    for (i = 0; i < 5; i++) sub(/^ *[^ ]+/, "", name)
    sub(/^ +(\?\?\?:)?/, "", name)
    printf "  %7.1f %5.2f  %s\n", num($1) / n, num($3) / n, substr(name, 1, 90)
    shown++
  }'
