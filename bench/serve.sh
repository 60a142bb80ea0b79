#!/usr/bin/env bash
# `sockscope serve` at 20,000 sockets (10,000 loopback connections, both ends),
# in the same run: one scrape of /metrics against one `sockscope sockets --tcp`
# dump (issue 16: at most 1.5x), the idle server's CPU and RSS, and LOAD_CLIENTS
# clients scraping /metrics for LOAD_SECONDS (errors, p99, the server's peak RSS).
#   bench/serve.sh [BUILD_DIR]        LOAD_CLIENTS=50 LOAD_SECONDS=30 IDLE_SECONDS=30
set -euo pipefail
BUILD=${1:-build/release}
SOCKSCOPE=$BUILD/sockscope
HOLD=$BUILD/bench/bench_host_hold
LOAD=$BUILD/bench/bench_serve_load
CLIENTS=${LOAD_CLIENTS:-50}
SECONDS_LOAD=${LOAD_SECONDS:-30}
IDLE=${IDLE_SECONDS:-30}
PORT=19846
# shellcheck source=bench/host_hold.sh
. "$(dirname "$0")/host_hold.sh"
hold_init "$SOCKSCOPE" "$HOLD" "$LOAD"
hold_start 10000 31000 60 serve

"$SOCKSCOPE" serve --listen 127.0.0.1:$PORT 2>"$WORK/serve.err" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 100); do grep -q "serving on" "$WORK/serve.err" && break; sleep 0.1; done
sockets=$("$SOCKSCOPE" --json sockets --tcp | wc -l)
echo "sockets (tcp): $sockets"

# Best of 5 wall times of each, alternating, in the same run.
best() { sort -g | head -1; }
for _ in 1 2 3 4 5; do
  /usr/bin/time -f "%e" -a -o "$WORK/dump" "$SOCKSCOPE" sockets --tcp >/dev/null
  curl -s -o "$WORK/metrics" -w "%{time_total}\n" "http://127.0.0.1:$PORT/metrics" >>"$WORK/scrape"
done
dump=$(best <"$WORK/dump")
scrape=$(best <"$WORK/scrape")
awk -v d="$dump" -v s="$scrape" -v b="$(wc -c <"$WORK/metrics")" 'BEGIN {
  printf "sockets --tcp: %.3f s   /metrics scrape: %.3f s (%d bytes)   ratio %.2f\n", d, s, b, s / d }'

# Idle: CPU over IDLE seconds (no requests), resident memory at the end.
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
t0=$(ticks)
sleep "$IDLE"
t1=$(ticks)
hz=$(getconf CLK_TCK)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$IDLE" -v r="$rss" 'BEGIN {
  printf "idle: %.2f%% of a core over %d s, RSS %.1f MiB\n", 100 * (b - a) / hz / s, s, r / 1024 }'

# Load: CLIENTS keep-alive clients scraping for SECONDS_LOAD.
read -r n errors p50 p99 max < <("$LOAD" 127.0.0.1 $PORT "$CLIENTS" "$SECONDS_LOAD" /metrics || true)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
awk -v n="$n" -v e="$errors" -v p50="$p50" -v p99="$p99" -v m="$max" -v c="$CLIENTS" \
  -v s="$SECONDS_LOAD" -v h="$hwm" 'BEGIN {
  printf "load: %d clients x %d s: %d scrapes, %d errors, p50 %.0f ms, p99 %.0f ms, max %.0f ms, " \
         "server peak RSS %.1f MiB\n", c, s, n, e, p50, p99, m, h / 1024 }'
