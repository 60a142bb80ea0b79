# Sourced by the host benchmarks: holders of many loopback TCP connections
# (bench_host_hold), their scratch directory and their cleanup.
#   hold_init BINARY...          checks the binaries, makes $WORK, kills holders on exit
#   hold_start N PORT OCTET TAG  N connections over processes of <= 9,000 (one process
#                                may hold 20,000 descriptors here), process i listening
#                                on 127.0.0.(OCTET+i):(PORT+i); waits until all are ready;
#                                sets HOLD_PROCS
#   hold_stop                    kills the holders started so far

hold_init() {
  for f in "$@"; do
    [ -x "$f" ] || { echo "missing $f (build the release preset first)" >&2; exit 2; }
  done
  WORK=$(mktemp -d)
  PIDS=()
  trap 'hold_stop; rm -rf "$WORK"' EXIT
}

hold_stop() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}

hold_start() {
  local n=$1 port=$2 octet=$3 tag=$4 per=9000 i count
  HOLD_PROCS=$(( (n + per - 1) / per ))
  for ((i = 0; i < HOLD_PROCS; i++)); do
    count=$(( i == HOLD_PROCS - 1 ? n - per * (HOLD_PROCS - 1) : per ))
    "$HOLD" "127.0.0.$((octet + i))" $((port + i)) "$count" "$WORK/ready.$tag.$i" &
    PIDS+=($!)
  done
  for ((i = 0; i < HOLD_PROCS; i++)); do
    for _ in $(seq 600); do [ -e "$WORK/ready.$tag.$i" ] && break; sleep 0.1; done
    [ -e "$WORK/ready.$tag.$i" ] || { echo "holder $i did not get ready" >&2; exit 1; }
  done
}
