#!/usr/bin/env bash
# ss filter expressions at scale: the kernel-filtered dump (SocketFilter's
# bytecode ahead of the netlink source's own halves) against ss with the same
# expression, and against filtering in user space after a full dump, in the
# same run, as ratios to ss.
#   bench/host_filter.sh [BUILD_DIR] [CONNECTIONS]     (default: build/release 10000)
# Holds CONNECTIONS loopback TCP connections (both ends: 2x sockets) with
# bench_host_hold, as bench/host_sockets.sh does; times are hyperfine's medians
# (milliseconds, process start included); the row counts must agree with ss's.
set -euo pipefail
BUILD=${1:-build/release}
N=${2:-10000}
FILTER=$BUILD/bench/bench_host_filter
HOLD=$BUILD/bench/bench_host_hold
# shellcheck source=bench/host_hold.sh
. "$(dirname "$0")/host_hold.sh"
hold_init "$FILTER" "$HOLD"
hold_start "$N" 24000 40 filter
procs=$HOLD_PROCS

# median wall milliseconds (hyperfine -N, 30 runs after 3 warm-ups) and the
# row count -> "median rows"
measure() {
  hyperfine -N -w 3 -r 30 --export-csv "$WORK/h.csv" "$(printf '%q ' "$@")" \
    > /dev/null 2>&1 || { echo "hyperfine failed: $*" >&2; exit 1; }
  "$@" > "$WORK/out" 2>/dev/null || true
  echo "$(awk -F, 'NR == 2 { printf "%.1f", $4 * 1000 }' "$WORK/h.csv") $(wc -l < "$WORK/out")"
}

total=$(ss -tanH | wc -l)
echo "### $N connections held ($procs processes); ss -tanH shows $total TCP sockets"
echo
echo "| expression | rows | ss -tanH EXPR (ms) | kernel-filtered (ms) | x ss | user-space filter (ms) | x ss |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for expr in "" "sport = :24000" "dport = :24000 and autobound" "state listening" \
            "src 127.0.0.1 and ( sport > :40000 or dport < :1024 )" "sport = :1" \
            "state established ( dport = :443 or sport = :https )"; do
  # shellcheck disable=SC2086  # the words, as a user types them
  read -r sw sr < <(measure ss -tanH $expr)
  # shellcheck disable=SC2086
  read -r kw kr < <(measure "$FILTER" $expr)
  # shellcheck disable=SC2086
  read -r uw ur < <(measure "$FILTER" --user-space $expr)
  [ "$kr" = "$sr" ] && [ "$ur" = "$sr" ] || echo "row counts differ for '$expr': ss $sr, kernel $kr, user space $ur" >&2
  awk -v e="${expr:-(none)}" -v sr="$sr" -v sw="$sw" -v kw="$kw" -v uw="$uw" 'BEGIN {
    printf "| `%s` | %d | %.1f | %.1f | %.2f | %.1f | %.2f |\n", e, sr, sw, kw, kw / sw, uw, uw / sw }'
done
