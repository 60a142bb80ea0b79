#!/usr/bin/env bash
# What --ipfix adds to `sockscope conversations` on the bench file, same run: the
# JSON stream alone, with the file form, and over UDP to nfcapd on loopback (which
# must receive every record: its own count is printed), and over UDP to a socket that
# never reads (sockscope's own cost, without the collector's). RUNS alternating rounds;
# the least and the median wall and CPU time of each.
# OUTPUT=table measures beside the default table instead of the JSON stream.
# nfcapd is started as a user starts one for a fast exporter: with a socket receive
# buffer of NFCAPD_BUFFER bytes (-B; the kernel caps it at net.core.rmem_max), and
# sockscope paces UDP to IPFIX_RATE bytes a second (--ipfix-rate).
#
#   bench/ipfix_compare.sh [BUILD_DIR] [FILE]
# BUILD_DIR defaults to build/release; FILE to /tmp/sockscope-bench.pcap (made by
# bench/capture_compare.sh or capture_gen; never commit it).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
file=${2:-/tmp/sockscope-bench.pcap}
runs=${RUNS:-3}
out=${OUTPUT:-json}
case $out in
  json) format=(--json) ;;
  table) format=() ;;
  *) echo "OUTPUT: want json or table" >&2; exit 2 ;;
esac
rate=${IPFIX_RATE:-40000000}
buffer=${NFCAPD_BUFFER:-$(cat /proc/sys/net/core/rmem_max)}
sockscope=$build/sockscope
[ -x "$sockscope" ] || { echo "missing $sockscope" >&2; exit 2; }
[ -s "$file" ] || { echo "missing $file: run bench/capture_compare.sh once" >&2; exit 2; }
work=$(mktemp -d)
nfpid="" sinkpid=""
trap '[ -n "$nfpid" ] && kill -INT "$nfpid" 2>/dev/null; [ -n "$sinkpid" ] && kill "$sinkpid" 2>/dev/null; rm -rf "$work"' EXIT
cat "$file" >/dev/null
echo "file: $file ($(du -h "$file" | cut -f1)), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nfcapd -B $buffer (net.core.rmem_max $(cat /proc/sys/net/core/rmem_max)), --ipfix-rate $rate"

# The collectors first: a loopback socket that is bound and never read (sockscope's own
# cost of a UDP export, apart from the collector's CPU: the kernel drops what overflows
# its buffer after the whole send path has run in the sender's time, as to nfcapd), and
# nfcapd.
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(3600)' >"$work/sink.port" &
sinkpid=$!
for _ in $(seq 50); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/nf"
nfcapd -b 127.0.0.1 -p "$port" -w "$work/nf" -t 3600 -B "$buffer" >"$work/nfcapd.log" 2>&1 &
nfpid=$!
for _ in $(seq 50); do grep -q "$(printf ':%04X ' "$port")" /proc/net/udp && break; sleep 0.1; done
nfcpu() {  # nfcapd's CPU seconds so far (utime + stime from /proc)
  awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' \
    "/proc/$nfpid/stat"
}
nf_before=$(nfcpu)

# The four runs alternate, RUNS rounds, the order reversed every other round: on a
# shared machine the load drifts within minutes, and runs of one kind in a row caught
# different loads than the others (the file form's ratio moved from 1.03 to 1.36
# between two such scripts run back to back). Each kind's min and median are kept.
names=("$out" "$out"+ipfix-file "$out"+ipfix-udp-sink "$out"+ipfix-udp-nfcapd)
run() {  # run KIND: one run, its "wall cpu" appended to $work/KIND.runs
  local cmd=("$sockscope" conversations "$file" "${format[@]}")
  case $1 in
    *+ipfix-file) cmd+=(--ipfix "file:$work/flows.ipfix") ;;
    *+ipfix-udp-sink) cmd+=(--ipfix "udp://127.0.0.1:$(cat "$work/sink.port")" --ipfix-rate "$rate") ;;
    *+ipfix-udp-nfcapd) cmd+=(--ipfix "udp://127.0.0.1:$port" --ipfix-rate "$rate") ;;
  esac
  /usr/bin/time -o "$work/time" -f "%e %U %S" "${cmd[@]}" >/dev/null 2>"$work/err"
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/time" >>"$work/$1.runs"
}
for r in $(seq "$runs"); do
  order=("${names[@]}")
  if ((r % 2 == 0)); then order=("${names[3]}" "${names[2]}" "${names[1]}" "${names[0]}"); fi
  for kind in "${order[@]}"; do run "$kind"; done
done
# KIND.wall and KIND.cpu: the min; KIND.mwall and KIND.mcpu: the median.
for kind in "${names[@]}"; do
  sort -n -k1 "$work/$kind.runs" | awk '{w[NR] = $1} END {print w[1] > "/dev/stderr"; print w[int((NR + 1) / 2)]}' \
    2>"$work/$kind.wall" >"$work/$kind.mwall"
  sort -n -k2 "$work/$kind.runs" | awk '{c[NR] = $2} END {print c[1] > "/dev/stderr"; print c[int((NR + 1) / 2)]}' \
    2>"$work/$kind.cpu" >"$work/$kind.mcpu"
  printf '%-28s wall %6.2f s (median %.2f)  cpu %6.2f s (median %.2f)\n' "$kind" \
    "$(cat "$work/$kind.wall")" "$(cat "$work/$kind.mwall")" "$(cat "$work/$kind.cpu")" \
    "$(cat "$work/$kind.mcpu")"
done
kill "$sinkpid"
wait "$sinkpid" 2>/dev/null
sinkpid=""
sleep 1
nf_cpu=$(echo "($(nfcpu) - $nf_before) / $runs" | bc -l)
kill -INT "$nfpid"
wait "$nfpid" 2>/dev/null
nfpid=""
# (the count from a JSON run: it prints its summary, with that count, on stderr)
exported=$("$sockscope" conversations "$file" --json --ipfix "file:$work/f2.ipfix" 2>&1 >/dev/null |
  grep -o 'IPFIX: [0-9]*' | grep -o '[0-9]*')
echo "exported: $exported records a run, $runs runs"
# The pace in effect, at least: the export's bytes (the file form's: 0.2 % fewer than
# the datagrams', which have more message headers) over the UDP run's wall time.
awk -v b="$(stat -c %s "$work/f2.ipfix")" -v w="$(cat "$work/$out+ipfix-udp-nfcapd.wall")" \
  -v r="$rate" 'BEGIN{printf "UDP: %.1f MB in %.2f s: %.1f MB/s at least (asked: %s)\n",
  b/1e6, w, b/1e6/w, r ? sprintf("%.1f MB/s", r/1e6) : "unpaced"}'
echo "nfcapd: $(grep -o 'Flows: [0-9]*.*Sequence Errors: [0-9]*' "$work/nfcapd.log")" \
  "(expected Flows: $((exported * runs)))"
# The collector shares the machine's cores: a UDP run cannot end before the CPU time of
# sockscope and nfcapd together is spread over all cores.
awk -v o="$out" -v n="$(nproc)" -v u="$(cat "$work/$out+ipfix-udp-nfcapd.cpu")" -v f="$nf_cpu" \
  -v j="$(cat "$work/$out.wall")" 'BEGIN{printf "nfcapd: %.2f s cpu a run; (sockscope %.2f + nfcapd %.2f) / %d cores = %.2f s: at least %.3f x the " o " wall here\n",
  f, u, f, n, (u + f) / n, (u + f) / n / j}'
for v in "$out"+ipfix-file "$out"+ipfix-udp-sink "$out"+ipfix-udp-nfcapd; do
  awk -v o="$out" -v a="$(cat "$work/$v.wall")" -v b="$(cat "$work/$out.wall")" \
    -v c="$(cat "$work/$v.cpu")" -v d="$(cat "$work/$out.cpu")" -v n="$v" \
    -v ma="$(cat "$work/$v.mwall")" -v mb="$(cat "$work/$out.mwall")" \
    -v mc="$(cat "$work/$v.mcpu")" -v md="$(cat "$work/$out.mcpu")" \
    'BEGIN{printf "%s / " o ": wall %.3f (median %.3f), cpu %.3f (median %.3f)\n", n, a/b, ma/mb, c/d, mc/md}'
done
