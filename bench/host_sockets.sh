#!/usr/bin/env bash
# Whole-command comparison on a host with many sockets: sockscope against ss,
# netstat and lsof, and the overview against `sockets --tcp -p`, in the same run,
# as ratios.
#   bench/host_sockets.sh [BUILD_DIR] [CONNECTIONS...]     (default: build/release 10000 50000)
# Opens CONNECTIONS loopback TCP connections (both ends, so 2x sockets) spread
# over processes of <= 9,000 connections (one process may hold 20,000
# descriptors here), each with its own 127.0.0.x address and server port.
# Each command runs 3 times; best wall time and largest peak RSS are reported.
# BASELINE=path/to/another/sockscope adds its `sockets --tcp` row to the same
# run (e.g. the binary of an earlier commit, to measure a change).
set -euo pipefail
BUILD=${1:-build/release}
shift || true
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(10000 50000)
SOCKSCOPE=$BUILD/sockscope
HOLD=$BUILD/bench/bench_host_hold
# shellcheck source=bench/host_hold.sh
. "$(dirname "$0")/host_hold.sh"
hold_init "$SOCKSCOPE" "$HOLD"

# measure NAME CMD...: best wall seconds and max RSS (KiB) of 3 runs -> "wall rss rows"
measure() {
  local best="" rss=0 rows=0
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" > "$WORK/out" 2>/dev/null || true
    read -r w m < <(tail -1 "$WORK/t")
    rows=$(wc -l < "$WORK/out")
    if [ -z "$best" ] || awk "BEGIN{exit !($w < $best)}"; then best=$w; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$best $rss $rows"
}

row() {  # row LABEL WALL RSS ROWS BASE_WALL BASE_RSS
  awk -v l="$1" -v w="$2" -v m="$3" -v r="$4" -v bw="$5" -v bm="$6" 'BEGIN {
    printf "| %-28s | %8.3f | %9.1f | %7d | %6s | %6s |\n", l, w, m / 1024, r,
      (bw > 0 ? sprintf("%.2f", w / bw) : "-"), (bm > 0 ? sprintf("%.2f", m / bm) : "-") }'
}

base_port=23000
for n in "${COUNTS[@]}"; do
  hold_start "$n" "$base_port" 20 "$n"
  procs=$HOLD_PROCS
  base_port=$((base_port + procs))
  total=$(ss -tanH | wc -l)
  echo
  echo "### $n connections held ($procs processes); ss -tanH shows $total TCP sockets"
  echo
  echo "| command                      | wall (s) | peak MiB |    rows | x wall | x mem  |"
  echo "|------------------------------|---------:|----------:|--------:|-------:|-------:|"
  read -r sw sm sr < <(measure ss -tanH)
  read -r pw pm pr < <(measure ss -tanpH)
  read -r w m r < <(measure "$SOCKSCOPE" sockets --tcp --no-color)
  row "sockscope sockets --tcp" "$w" "$m" "$r" "$sw" "$sm"
  if [ -n "${BASELINE:-}" ]; then
    read -r w m r < <(measure "$BASELINE" sockets --tcp --no-color)
    row "baseline sockets --tcp" "$w" "$m" "$r" "$sw" "$sm"
  fi
  row "ss -tanH" "$sw" "$sm" "$sr" "$sw" "$sm"
  # Issue 5's goal: ephemeral accounting costs no more than listing the sockets.
  read -r w m r < <(measure "$SOCKSCOPE" ephemeral --no-color)
  row "sockscope ephemeral" "$w" "$m" "$r" "$sw" "$sm"
  read -r w m r < <(measure "$SOCKSCOPE" sockets --no-color)
  row "sockscope sockets (tcp+udp)" "$w" "$m" "$r" "$sw" "$sm"
  read -r w m r < <(measure netstat -tan)
  row "netstat -tan" "$w" "$m" "$r" "$sw" "$sm"
  read -r spw spm spr < <(measure "$SOCKSCOPE" sockets --tcp --no-color -p)
  row "sockscope sockets --tcp -p" "$spw" "$spm" "$spr" "$pw" "$pm"
  # Issue 19: the overview with owners (the default) costs at most 1.5x `sockets --tcp -p`.
  read -r ow om or < <(measure "$SOCKSCOPE" --no-color)
  row "sockscope (overview, owners)" "$ow" "$om" "$or" "$pw" "$pm"
  # Issue 4: the owners' two sources (auto above is the BPF iterator when root).
  read -r w m r < <(measure "$SOCKSCOPE" sockets --tcp --no-color -p --owners-from proc)
  row "  ... -p --owners-from proc" "$w" "$m" "$r" "$pw" "$pm"
  row "ss -tanpH" "$pw" "$pm" "$pr" "$pw" "$pm"
  read -r w m r < <(measure netstat -tanp)
  row "netstat -tanp" "$w" "$m" "$r" "$pw" "$pm"
  read -r w m r < <(measure lsof -nP -iTCP)
  row "lsof -nP -iTCP" "$w" "$m" "$r" "$pw" "$pm"
  read -r w m r < <(measure "$SOCKSCOPE" sockets --tcp --json -p)
  row "sockscope ... -p --json" "$w" "$m" "$r" "$pw" "$pm"
  echo
  echo "(x wall / x mem: ratio to ss -tanH for the rows above -p, to ss -tanpH for the rows below)"
  awk -v o="$ow" -v p="$spw" -v om="$om" -v pm="$spm" 'BEGIN {
    printf "overview / sockets --tcp -p: wall %.2f, memory %.2f (goal: wall <= 1.5)\n",
      (p > 0 ? o / p : 0), (pm > 0 ? om / pm : 0) }'
  hold_stop
done
