#!/usr/bin/env bash
# Runs the README's host programs (tests/consumer/examples/) inside a fresh network
# namespace (readme_programs.sh starts this under `unshare --net`) where the only
# sockets are the ones a python3 process of this script holds, and checks that they
# report exactly those, as the kernel's rules say they must:
#   - a TCP listener on 127.0.0.1:8080 and three connections to it from clients
#     whose ports the kernel chose, in an ephemeral range set here to 40000-40009;
#   - sockets: the listener (role listener), three accepted sockets (server, evidence
#     accepted), three clients (client, autobound), all named http-alt (IANA's name
#     for 8080/tcp) and owned by the python3 process: 7 sockets;
#   - ephemeral: 10 usable ports, none held by bind() (8080 is outside the range),
#     three of them in use, all toward 127.0.0.1:8080 and held by the python3 process.
#   host_programs.sh BIN NAME...   (BIN/cmake/NAME and BIN/pkg-config/NAME)
set -euo pipefail
bin=$1
shift
readonly kSeconds=30 kReadyTries=100
work=$(mktemp -d)
holder=""
cleanup() {
  if [ -n "$holder" ]; then kill "$holder" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

ip link set lo up
echo "40000 40009" >/proc/sys/net/ipv4/ip_local_port_range

# The holder: the listener and three connections, then it waits to be killed
# (60 s at most, so a lost one does not stay).
python3 - "$work/ports" <<'PY' &
import os, socket, sys, time
server = socket.socket()
server.bind(("127.0.0.1", 8080))
server.listen(8)
held = []
for _ in range(3):
    client = socket.create_connection(("127.0.0.1", 8080))
    accepted, _ = server.accept()
    held += [client, accepted]
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(" ".join(str(c.getsockname()[1]) for c in held[::2]) + "\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
PY
holder=$!
for ((i = 0; i < kReadyTries; i++)); do
  [ -s "$work/ports" ] && break
  sleep 0.05
done
[ -s "$work/ports" ] || { echo "host_programs: the holder did not start" >&2; exit 1; }
read -ra ports <"$work/ports"
command=$(cat "/proc/$holder/comm")
owner="$holder/$command"

# What each program must print, from the facts above (sockets: in any order).
expected_sockets() {
  row() { printf '%-5s%-11s%-24s%-24s%-9s%-24s%-15s %s\n' "$@"; }
  row tcp LISTEN 127.0.0.1:8080 0.0.0.0:0 listener listener http-alt "$owner"
  for port in "${ports[@]}"; do
    row tcp ESTAB 127.0.0.1:8080 "127.0.0.1:$port" server accepted http-alt "$owner"
    row tcp ESTAB "127.0.0.1:$port" 127.0.0.1:8080 client autobound http-alt "$owner"
  done
  echo "7 sockets (netlink)"
}
expected_ephemeral() {
  echo "range 40000-40009: 10 usable ports, 0 held by bind()"
  echo "bind(0) pool: 3 of 10 used"
  echo "tcp 127.0.0.1 -> 127.0.0.1:8080: 3 of 10 ports, 0 in TIME-WAIT"
  echo "  $holder $command: 3 sockets"
}

failures=0
for name in "$@"; do
  case $name in
    sockets) expected_sockets | sort >"$work/$name.expected" ;;
    ephemeral) expected_ephemeral >"$work/$name.expected" ;;
    *) echo "host_programs: no check for $name" >&2; failures=$((failures + 1)); continue ;;
  esac
  for way in cmake pkg-config; do
    rc=0
    timeout "$kSeconds" "$bin/$way/$name" >"$work/$name.$way" 2>"$work/$name.$way.err" || rc=$?
    [ "$name" = sockets ] && sort -o "$work/$name.$way" "$work/$name.$way"
    if [ "$rc" -ne 0 ] || ! diff -u "$work/$name.expected" "$work/$name.$way" >&2; then
      echo "host_programs: $name ($way build, exit $rc) differs from the sockets held (above)" >&2
      cat "$work/$name.$way.err" >&2
      failures=$((failures + 1))
    fi
  done
done
[ "$failures" -eq 0 ]
