#!/usr/bin/env bash
# The connection log against `ss -E` and libbpf-tools' tcplife on the same burst,
# in the same run: each watcher runs alone in a fresh namespace while
# bench_connlog_burst opens and closes CONNECTIONS loopback connections there
# (2 sockets each, so 2 x CONNECTIONS closes to see). Reported: closes seen,
# opens seen, loss reported, closes with an owner, and the watcher's CPU (user
# + system of the process; the BPF programs' own kernel time is not in it, for
# tcplife as for sockscope's tracer) and peak RSS. Then sockscope's idle cost
# and its memory per live socket.
#   bench/connlog_compare.sh [BUILD_DIR] [CONNECTIONS] [THREADS]   (build/release 20000 2)
# Needs root (namespaces, BPF), tcplife (package libbpf-tools), tracefs.
set -euo pipefail
BUILD=${1:-build/release}
N=${2:-20000}
THREADS=${3:-2}
SOCKSCOPE=$(realpath "$BUILD/sockscope")
BURST=$(realpath "$BUILD/bench/bench_connlog_burst")
MEMORY=$(realpath "$BUILD/bench/bench_connlog_memory")
TCPLIFE=$(command -v tcplife || echo /usr/sbin/tcplife)
WORK=$(mktemp -d)
NS=sockscope-connlog-$$
TCPLIFE_NAME="tcplife (libbpf-tools)"
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
# tcplife attaches through tracefs's tracepoint ids.
[ -d /sys/kernel/tracing/events/sock ] || mount -t tracefs nodev /sys/kernel/tracing

fresh_ns() {
  ip netns del "$NS" 2>/dev/null || true
  ip netns add "$NS"
  ip -n "$NS" link set lo up
}

# watch NAME SIGNAL CMD...: runs CMD under time(1) in a fresh namespace around one
# burst, then stops it with SIGNAL (ss -E reads SIGINT only between messages);
# leaves $WORK/NAME.out, .err, .time and the burst's line.
watch() {
  local name=$1 signal=$2
  shift 2
  fresh_ns
  # tcplife traces every namespace from here (`ip netns exec` would hide tracefs).
  local inside=(ip netns exec "$NS")
  [ "$name" = "$TCPLIFE_NAME" ] && inside=()
  "${inside[@]}" /usr/bin/time -f "%U %S %M" -o "$WORK/$name.time" "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err" &
  local timer=$!
  sleep 1.5  # subscribed, baseline dumped, BPF attached
  # A short burst (a connect() that failed) is reported by the counts, not fatal.
  ip netns exec "$NS" "$BURST" "$N" "$THREADS" > "$WORK/$name.burst" || true
  sleep 1.5  # the last messages
  local child
  child=$(pgrep -P "$timer" | head -1)
  if [ -n "$child" ]; then kill "-$signal" "$child"; fi
  wait "$timer" || true
}

row() {  # NAME CLOSES OPENS LOST OWNED
  local name=$1 closes=$2 opens=$3 lost=$4 owned=$5 user sys rss made secs
  read -r user sys rss < <(tail -1 "$WORK/$name.time")
  read -r made secs < "$WORK/$name.burst"
  awk -v n="$name" -v c="$closes" -v o="$opens" -v l="$lost" -v w="$owned" -v u="$user" \
      -v s="$sys" -v r="$rss" -v m="$made" -v t="$secs" 'BEGIN {
    cpu = u + s
    printf "| %-28s | %6d/%d | %6s | %6s | %6s | %6.2f s | %5.0f %% | %7.1f | %6.2f s | %7.0f |\n",
      n, c, 2 * m, o, l, w, cpu, 100 * cpu / t, r / 1024, t, (c + o) / t }'
}

echo "burst: $N connections ($((2 * N)) sockets), $THREADS client/server threads, $(nproc) cores"
echo "| watcher | closes seen | opens | lost reported | closes with owner | CPU | CPU / burst time | peak RSS MiB | burst time | events/s (opens + closes) |"
echo "|---|---|---|---|---|---|---|---|---|---|"

for tracer in on off; do
  name="sockscope watch (tracer $tracer)"
  watch "$name" INT "$SOCKSCOPE" --json watch --tcp --tracer "$tracer"
  out="$WORK/$name.out"
  closes=$(grep -c '"event":"close"' "$out" || true)
  opens=$(grep -c '"event":"open"' "$out" || true)
  owned=$(grep '"event":"close"' "$out" | grep -c '"processes"' || true)
  lost=$(grep '"event":"summary"' "$out" | sed 's/.*"events_lost":\([0-9]*\).*/\1/')
  row "$name" "$closes" "$opens" "${lost:-?}" "$owned"
done

name="ss -E"
watch "$name" TERM stdbuf -oL ss -E -t -n -H -p
out="$WORK/$name.out"
closes=$(grep -vc ' \*$\|:\*$\|0\.0\.0\.0:\*' "$out" || true)
owned=$(grep -c 'users:' "$out" || true)
row "$name" "$closes" 0 "none" "$owned"

name=$TCPLIFE_NAME
watch "$name" INT stdbuf -oL "$TCPLIFE"
out="$WORK/$name.out"
closes=$(($(wc -l < "$out") - 1))
owned=$(grep -c 'bench_connlog_b' "$out" || true)
lost=$( (grep -o 'lost [0-9]*' "$WORK/$name.err" || true) | awk '{s += $2} END {print s + 0}')
row "$name" "$closes" 0 "$lost" "$owned"

# Idle: a namespace with nothing happening, 20 s.
fresh_ns
ip netns exec "$NS" /usr/bin/time -f "%U %S %M" -o "$WORK/idle.time" \
  "$SOCKSCOPE" --json watch --duration 20 > /dev/null 2>&1
read -r user sys rss < "$WORK/idle.time"
awk -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
  printf "\nidle: %.2f s CPU in 20 s = %.2f %% of a core, peak RSS %.1f MiB\n", u + s, 5 * (u + s), r / 1024 }'

fresh_ns
echo
echo "memory per live socket (owners off, tracer off, 9,000 held connections):"
ip netns exec "$NS" "$MEMORY" 9000 | sed 's/^/  /'
