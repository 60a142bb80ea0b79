#!/usr/bin/env bash
# Golden-output test: runs every case of cases.txt with the given sockscope and
# compares command line, exit code, stdout and stderr with expected/CASE.txt.
#   run.sh SOCKSCOPE_BINARY [CASE_GLOB]
#   UPDATE_GOLDEN=1 run.sh ...    rewrite the expected files instead (review with git diff)
#   GOLDEN_FIXTURE=PATH           the golden_fixture program (host cases need it;
#                                 default: tests/golden_fixture beside the binary)
#   GOLDEN_JOBS=N                 cases run side by side (default: the CPU count)
# Exit 0 all equal, 1 a difference (a unified diff per case), 2 bad use or set-up,
# 77 skipped (not root: the test needs a network namespace of its own).
#
# Nothing of this machine shows: every case runs inside a network namespace made
# here, with a fixed ephemeral range (40000-40999, 40990-40999 reserved,
# tcp_tw_reuse 0), a fixed /etc/services (etc-services, bind-mounted by `ip netns
# exec` from /etc/netns/NAME/) and a scrubbed environment. Host cases see only
# golden_fixture's sockets (fixture.cpp lists them).
#
# Normalisation: only what varies from run to run, and only in host cases:
#   - the ports the kernel chose for the fixture's autobound clients (the fixture
#     names them) -> 4xxxx, the same width, so tables stay aligned;
#   - on a line where such a port was masked, its Community ID -> 1:<community-id>;
#   - the fixture's pid (in "PID/golden_fixture:fdN", "golden_fixture[PID]",
#     JSON "pid") -> PID; its command line (JSON "cmdline", the binary's path) ->
#     golden_fixture; socket inodes (JSON "inode", the CSV inode column; 0
#     stays) -> INODE; net:[INODE] labels; the namespace's name -> sockscope-golden;
#   - --watch's snapshot times ("-- 14:02:07 every", JSON "time") -> HH:MM:SS, TIME;
#   - with the sort flag: rows that come in the kernel's hash order are sorted.
# In every case: Zeek's #open/#close timestamps -> TIMESTAMP.
set -uo pipefail

readonly kSkip=77
readonly kRange="40000 40999" kReserved="40990-40999"
readonly kReadyTries=200 kStopTries=100 kCaseSeconds=60 kTimeWaitSeconds=55

usage() { echo "usage: $0 SOCKSCOPE_BINARY [CASE_GLOB]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
binary=$(realpath "$1") || usage
glob=${2:-*}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
fixture=$(realpath "${GOLDEN_FIXTURE:-$(dirname "$binary")/tests/golden_fixture}")
update=${UPDATE_GOLDEN:-0}
njobs=${GOLDEN_JOBS:-$(nproc)}
[ -x "$binary" ] || { echo "golden: $binary is not an executable" >&2; exit 2; }

skip() { echo "golden: SKIP: $*"; exit $kSkip; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace"
[ -e /etc/services ] || skip "no /etc/services for ip netns exec to bind etc-services over"

# --- cases -----------------------------------------------------------------
names=() flags=() args=()
while read -r name flag rest; do
  case $name in '' | '#'*) continue ;; esac
  # shellcheck disable=SC2053  # the glob is a pattern on purpose
  [[ $name == $glob ]] || continue
  names+=("$name") flags+=("$flag") args+=("$rest")
done <"$here/cases.txt"
[ ${#names[@]} -gt 0 ] || { echo "golden: no case matches '$glob'" >&2; exit 2; }
is_host() { [[ ,${flags[$1]}, == *,host,* ]]; }
need_fixture=0
for i in "${!names[@]}"; do is_host "$i" && need_fixture=1; done
if [ $need_fixture = 1 ] && [ ! -x "$fixture" ]; then
  echo "golden: host cases need GOLDEN_FIXTURE (the golden_fixture program)" >&2
  exit 2
fi

# --- the namespace and the fixture ------------------------------------------
# One namespace per fixture: a fixture's sockets linger in TIME-WAIT after it ends.
ns_base=sockscope-golden-$$ ns_count=0 ns=
work=$(mktemp -d)
fixture_pid='' made_etc_netns=0 namespaces=()
# True while process $1 runs (a zombie has ended: whoever adopted it may reap it late).
running() {
  local state
  read -r _ _ state _ <"/proc/$1/stat" 2>/dev/null && [ "$state" != Z ]
}
stop_fixture() {
  [ -n "$fixture_pid" ] || return 0
  kill "$fixture_pid" 2>/dev/null
  for ((i = 0; i < kStopTries; i++)); do
    running "$fixture_pid" || break
    sleep 0.02
  done
  fixture_pid=
}
cleanup() {
  local -a jobs_left
  mapfile -t jobs_left < <(jobs -p)
  [ ${#jobs_left[@]} -eq 0 ] || kill "${jobs_left[@]}" 2>/dev/null
  stop_fixture
  local n
  for n in "${namespaces[@]}"; do
    ip netns del "$n" 2>/dev/null
    rm -rf "/etc/netns/$n"
  done
  rm -rf "$work"
  [ "$made_etc_netns" = 0 ] || rmdir /etc/netns 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -d /etc/netns ] || made_etc_netns=1
# A fresh namespace with the fixed settings; cases run in the newest one.
new_namespace() {
  ns=$ns_base-$((ns_count++))
  ip netns add "$ns" 2>"$work/netns.err" || skip "cannot create a network namespace: $(cat "$work/netns.err")"
  namespaces+=("$ns")
  mkdir -p "/etc/netns/$ns" && cp "$here/etc-services" "/etc/netns/$ns/services" || exit 2
  ip -n "$ns" link set lo up || exit 2
  ip netns exec "$ns" sysctl -q -w net.ipv4.ip_local_port_range="$kRange" \
    net.ipv4.ip_local_reserved_ports="$kReserved" net.ipv4.tcp_tw_reuse=0 || exit 2
}
new_namespace

autobound=()
start_fixture() {
  # Started from a subshell, so it is no job of this shell (`wait` below waits
  # for cases only); `ip netns exec` execs the program: $! is the fixture's pid.
  (ip netns exec "$ns" "$fixture" >"$work/fixture.out" 2>&1 & echo $! >"$work/fixture.pid")
  fixture_pid=$(<"$work/fixture.pid")
  for ((i = 0; i < kReadyTries; i++)); do
    grep -qx ready "$work/fixture.out" && break
    running "$fixture_pid" || break
    sleep 0.05
  done
  if ! grep -qx ready "$work/fixture.out"; then
    echo "golden: golden_fixture did not get ready:" >&2
    cat "$work/fixture.out" >&2
    exit 2
  fi
  read -r -a autobound < <(sed -n 's/^autobound //p' "$work/fixture.out")
  fixture_ready=$SECONDS
}

# --- normalisation -----------------------------------------------------------
readonly kZeekTimes='s/^#\(open\|close\)\t[0-9-]*$/#\1\tTIMESTAMP/'
# The sed program of host cases, once the fixture's ports and pid are known.
host_sed() {
  local p
  echo "$kZeekTimes"
  for p in "${autobound[@]}"; do
    # endpoint text, a JSON port, a CSV port cell (endpoints flattened)
    printf 's/:%s\\b/:4xxxx/g\ns/"port":%s\\b/"port":4xxxx/g\ns/,%s,/,4xxxx,/g\n' "$p" "$p" "$p"
  done
  printf '/4xxxx/s|1:[A-Za-z0-9+/]\\{27\\}=|1:<community-id>|g\n'
  printf 's|\\b%s/golden_fixture|PID/golden_fixture|g\n' "$fixture_pid"
  printf 's|golden_fixture\\[%s\\]|golden_fixture[PID]|g\n' "$fixture_pid"
  printf 's|"pid":%s,"command":"golden_fixture"|"pid":PID,"command":"golden_fixture"|g\n' \
    "$fixture_pid"
  printf 's|"cmdline":"[^"]*golden_fixture"|"cmdline":"golden_fixture"|g\n'
  printf 's|"inode":[1-9][0-9]*|"inode":INODE|g\n'
  printf 's|net:\\[[0-9]*\\]|net:[INODE]|g\n'
  # --watch: the time of each snapshot
  printf 's|^-- [0-9:]\\{8\\} every|-- HH:MM:SS every|\n'
  printf 's|"time":[0-9.]*|"time":TIME|g\n'
  printf 's|\\b%s\\b|sockscope-golden|g\n' "$ns"
}

# The CSV column headed "inode" (sockets, listen): non-zero values -> INODE.
# Rows with another field count than the header are left as they are (a
# difference then shows instead of being hidden).
mask_csv_inode() {
  awk -F, -v OFS=, '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "inode") col = i; cols = NF; print; next }
    col && NF == cols && $col != "0" { $col = "INODE" }
    { print }'
}

# Cases run in parallel and most of a case's time is process start-up: the steps
# below start a tool only where one is needed and otherwise work in bash.

# Sets `text` to the exact contents of file $1 (trailing newlines kept).
slurp() { text=; IFS= read -r -d '' text <"$1"; }

# Normalises file $1 in place; $2=1 for a host case.
normalise() {
  local file=$1 first
  [ -s "$file" ] || return 0
  if [ "$2" = 1 ]; then
    sed -i -f "$work/host.sed" "$file"
    IFS= read -r first <"$file"
    if [[ ,$first, == *,inode,* ]]; then
      mask_csv_inode <"$file" >"$file.csv" && cat "$file.csv" >"$file"
    fi
  else
    slurp "$file"
    [[ $text == *'#open'* ]] && sed -i "$kZeekTimes" "$file"
  fi
}

# Sorts the lines of file $1 after the first $2 (<0: 1, or 0 when the output is JSON).
sort_rows() {
  local file=$1 keep=$2
  local -a lines
  mapfile -t lines <"$file"
  if [ "$keep" -lt 0 ]; then
    keep=1
    [[ ${lines[0]:-} == '{'* ]] && keep=0
  fi
  {
    ((keep > 0)) && printf '%s\n' "${lines[@]:0:keep}"
    ((${#lines[@]} > keep)) && printf '%s\n' "${lines[@]:keep}" | LC_ALL=C sort
  } >"$file.sorted"
  mv "$file.sorted" "$file"
}

# Appends file $1 to `record`, marking a last line without a newline.
add_stream() {
  slurp "$1"
  record+=$text
  [ -z "$text" ] || [[ $text == *$'\n' ]] || record+=$'\n\\ no newline at end\n'
}

# The environment of every case: nothing of the caller's but the sanitizers' options.
case_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C SOCKSCOPE_SAMPLE=data/sample.pcapng)
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
  [ -n "${!v:-}" ] && case_env+=("$v=${!v}")
done
cd "$src" || exit 2  # file arguments in cases.txt are relative to the source tree

# --- one case: writes $work/I.actual -----------------------------------------
run_case() {
  local i=$1 base=$work/$1 args_text=${args[$1]} stdin='' keep='' f rc host=0 text record
  local -a argv=() fl=()
  is_host "$i" && host=1
  IFS=, read -r -a fl <<<"${flags[i]}"
  for f in "${fl[@]}"; do
    case $f in
      stdin=*) stdin=${f#stdin=} ;;
      sort) keep=-1 ;;
      sort=*) keep=${f#sort=} ;;
    esac
  done
  set -f
  eval "argv=($args_text)"  # quotes only: cases.txt is reviewed like code
  set +f
  timeout -k 5 "$kCaseSeconds" ip netns exec "$ns" "${case_env[@]}" "$binary" "${argv[@]}" \
    <"${stdin:-/dev/null}" >"$base.out" 2>"$base.err" 3>&-
  rc=$?
  # timeout's own codes: no output of sockscope's, never to be recorded.
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then : >"$base.timed-out"; fi
  normalise "$base.out" $host
  normalise "$base.err" $host
  [ -z "$keep" ] || sort_rows "$base.out" "$keep"
  record="\$ sockscope${args_text:+ $args_text}${stdin:+ < $stdin}"$'\n'"[exit $rc]"$'\n--- stdout\n'
  add_stream "$base.out"
  record+=$'--- stderr\n'
  add_stream "$base.err"
  printf '%s' "$record" >"$base.actual"
}

# Runs the given cases, at most $njobs at a time: a case takes a token from the
# pipe on fd 3 and puts it back when done.
mkfifo "$work/tokens" && exec 3<>"$work/tokens" || exit 2
for ((i = 0; i < njobs; i++)); do echo >&3; done
run_cases() {
  local i
  for i in "$@"; do
    read -r -u 3
    { run_case "$i"; echo >&3; } &
  done
  wait
}

# --- run: host cases first (the fixture's TIME-WAIT lives 60 s), then the rest
host_cases=() other_cases=()
for i in "${!names[@]}"; do
  if is_host "$i"; then host_cases+=("$i"); else other_cases+=("$i"); fi
done
failed=() host_seconds=0
# In batches, each with a fixture of its own when the last one is 30 s old, so that
# a slow machine (sanitizers, load) still runs every case inside one TIME-WAIT.
kBatch=12
for ((b = 0; b < ${#host_cases[@]}; b += kBatch)); do
  if [ -z "$fixture_pid" ] || ((SECONDS - fixture_ready > 30)); then
    [ -z "$fixture_pid" ] || host_seconds=$((host_seconds + SECONDS - fixture_ready))
    if [ -n "$fixture_pid" ]; then
      stop_fixture
      new_namespace
    fi
    start_fixture
    host_sed >"$work/host.sed"
  fi
  run_cases "${host_cases[@]:b:kBatch}"
  if ((SECONDS - fixture_ready > kTimeWaitSeconds)); then
    echo "golden: host cases took $((SECONDS - fixture_ready)) s with one fixture: its" \
      "TIME-WAIT (60 s) may have ended during them" >&2
    failed+=("(slow host cases)")
  fi
done
if [ -n "$fixture_pid" ]; then
  host_seconds=$((host_seconds + SECONDS - fixture_ready))
  stop_fixture
fi
run_cases "${other_cases[@]}"

# --- compare (or record), in the order of cases.txt
for i in "${!names[@]}"; do
  if [ -e "$work/$i.timed-out" ]; then
    echo "golden: ${names[i]} did not end within $kCaseSeconds s"
    failed+=("${names[i]}")
  fi
done
if [ "$update" = 1 ] && [ ${#failed[@]} -gt 0 ]; then
  echo "golden: nothing written: ${failed[*]}"
  exit 1
fi
for i in "${!names[@]}"; do
  [ -e "$work/$i.timed-out" ] && continue
  expected=$here/expected/${names[i]}.txt
  if [ "$update" = 1 ]; then
    cp "$work/$i.actual" "$expected"
    continue
  fi
  slurp "$work/$i.actual"
  actual=$text
  text=
  [ -e "$expected" ] && slurp "$expected"
  if [ ! -e "$expected" ] || [ "$text" != "$actual" ]; then
    diff -u --label "expected/${names[i]}.txt" --label "actual/${names[i]}.txt" \
      "$expected" "$work/$i.actual" 2>&1
    failed+=("${names[i]}")
  fi
done
# Expected files without a case (only looked for over the whole list).
if [ "$glob" = "*" ]; then
  declare -A known=()
  for n in "${names[@]}"; do known[$n]=1; done
  for e in "$here"/expected/*.txt; do
    [ -e "$e" ] || continue
    n=$(basename "$e" .txt)
    [ -n "${known[$n]:-}" ] && continue
    if [ "$update" = 1 ]; then rm -f "$e"; echo "golden: removed stale expected/$n.txt"
    else echo "golden: expected/$n.txt has no case in cases.txt"; failed+=("$n"); fi
  done
fi
if [ "$update" = 1 ]; then
  echo "golden: wrote ${#names[@]} expected files"
  exit 0
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "golden: ${#failed[@]} of ${#names[@]} cases differ: ${failed[*]}"
  echo "golden: after an intended change: UPDATE_GOLDEN=1 $0 $1, then review git diff"
  exit 1
fi
echo "golden: all ${#names[@]} cases equal${host_seconds:+ (host cases: $host_seconds s)}"
