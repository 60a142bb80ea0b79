#!/usr/bin/env bash
# What --ipfix adds to `sockscope conversations` on the bench file, same run: the
# JSON stream alone, with the file form, and over UDP to nfcapd on loopback (which
# must receive every record: its own count is printed). Best wall time of RUNS.
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
rate=${IPFIX_RATE:-40000000}
buffer=${NFCAPD_BUFFER:-$(cat /proc/sys/net/core/rmem_max)}
sockscope=$build/sockscope
[ -x "$sockscope" ] || { echo "missing $sockscope" >&2; exit 2; }
[ -s "$file" ] || { echo "missing $file: run bench/capture_compare.sh once" >&2; exit 2; }
work=$(mktemp -d)
nfpid=""
trap '[ -n "$nfpid" ] && kill -INT "$nfpid" 2>/dev/null; rm -rf "$work"' EXIT
cat "$file" >/dev/null
echo "file: $file ($(du -h "$file" | cut -f1)), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nfcapd -B $buffer (net.core.rmem_max $(cat /proc/sys/net/core/rmem_max)), --ipfix-rate $rate"

# best NAME CMD...: the lowest wall time of $runs runs (wall s, cpu s).
best() {
  local name=$1 b="" line
  shift
  for _ in $(seq "$runs"); do
    line=$( { /usr/bin/time -f "%e %U %S" "$@" >/dev/null 2>"$work/err"; } 2>&1; tail -1 "$work/err")
    line=$(tail -1 "$work/err")
    if [ -z "$b" ] || awk -v a="${line%% *}" -v c="${b%% *}" 'BEGIN{exit !(a<c)}'; then b=$line; fi
  done
  read -r w u s <<<"$b"
  printf '%-28s wall %6.2f s  cpu %6.2f s\n' "$name" "$w" "$(echo "$u + $s" | bc)"
  echo "$w" >"$work/$name.wall"
  echo "$u + $s" | bc >"$work/$name.cpu"
}

best json "$sockscope" conversations "$file" --json
best json+ipfix-file "$sockscope" conversations "$file" --json --ipfix "file:$work/flows.ipfix"
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
best json+ipfix-udp-nfcapd "$sockscope" conversations "$file" --json --ipfix \
  "udp://127.0.0.1:$port" --ipfix-rate "$rate"
sleep 1
nf_cpu=$(echo "($(nfcpu) - $nf_before) / $runs" | bc -l)
kill -INT "$nfpid"
wait "$nfpid" 2>/dev/null
nfpid=""
exported=$("$sockscope" conversations "$file" --json --ipfix "file:$work/f2.ipfix" 2>&1 >/dev/null |
  grep -o 'IPFIX: [0-9]*' | grep -o '[0-9]*')
echo "exported: $exported records a run, $runs runs"
# The pace in effect, at least: the export's bytes (the file form's: 0.2 % fewer than
# the datagrams', which have more message headers) over the UDP run's wall time.
awk -v b="$(stat -c %s "$work/f2.ipfix")" -v w="$(cat "$work/json+ipfix-udp-nfcapd.wall")" \
  -v r="$rate" 'BEGIN{printf "UDP: %.1f MB in %.2f s: %.1f MB/s at least (asked: %s)\n",
  b/1e6, w, b/1e6/w, r ? sprintf("%.1f MB/s", r/1e6) : "unpaced"}'
echo "nfcapd: $(grep -o 'Flows: [0-9]*.*Sequence Errors: [0-9]*' "$work/nfcapd.log")" \
  "(expected Flows: $((exported * runs)))"
# The collector shares the machine's cores: a UDP run cannot end before the CPU time of
# sockscope and nfcapd together is spread over all cores.
awk -v n="$(nproc)" -v u="$(cat "$work/json+ipfix-udp-nfcapd.cpu")" -v f="$nf_cpu" \
  -v j="$(cat "$work/json.wall")" 'BEGIN{printf "nfcapd: %.2f s cpu a run; (sockscope %.2f + nfcapd %.2f) / %d cores = %.2f s: at least %.3f x the json wall here\n",
  f, u, f, n, (u + f) / n, (u + f) / n / j}'
for v in json+ipfix-file json+ipfix-udp-nfcapd; do
  awk -v a="$(cat "$work/$v.wall")" -v b="$(cat "$work/json.wall")" \
    -v c="$(cat "$work/$v.cpu")" -v d="$(cat "$work/json.cpu")" -v n="$v" \
    'BEGIN{printf "%s / json: wall %.3f, cpu %.3f\n", n, a/b, c/d}'
done
