#!/usr/bin/env bash
# The README's Library programs: the README shows each one and what it prints; the
# program is kept as a file in tests/consumer/examples/. This checks that
#   - every README block marked <!-- program: NAME --> equals examples/NAME, and
#     every file of examples/ has such a block;
#   - each program builds against the package installed in PREFIX, with CMake
#     (sockscope::sockscope) and with pkg-config;
#   - each run prints exactly the output block the README shows under it, run with
#     the arguments of that block's "$ ./NAME ARGS" line (blank-separated, no quotes;
#     /usr/local/, the default prefix, stands for PREFIX/);
#   - the programs marked "(host)", whose output depends on the host, list exactly
#     the sockets a process of this test holds in a network namespace the test
#     makes (host_programs.sh; needs root, else this part is skipped: exit 77).
#   readme_programs.sh PREFIX WORK README EXAMPLES_DIR
#
# README layout of one program (the output block's first line is the command):
#   <!-- program: pair.cpp -->          or  <!-- program: sockets.cpp (host) -->
#   ```cpp
#   ...the program...
#   ```
#   ```
#   $ ./pair
#   ...what it prints...
#   ```
set -euo pipefail
prefix=$(realpath "$1")
work=$(realpath -m "$2")
readme=$3
examples=$(realpath "$4")
here=$(cd "$(dirname "$0")" && pwd)
readonly kSeconds=30
rm -rf "$work"
mkdir -p "$work/readme" "$work/run"

# Splits the README's program blocks into WORK/readme/NAME (code), NAME.cmd (the
# command line), NAME.out (the output) and a list "NAME host|fixed" per program.
awk -v dir="$work/readme" '
  function die(msg) { print "readme_programs: " FILENAME ":" FNR ": " msg > "/dev/stderr"; bad = 1; exit 1 }
  state == 0 && /^<!-- program: / {
    name = $3
    kind = ($4 == "(host)") ? "host" : "fixed"
    print name, kind > (dir "/list")
    printf "" > (dir "/" name)
    state = 1
    next
  }
  state == 1 { if ($0 != "```cpp") die("want ```cpp after the program marker"); state = 2; next }
  state == 2 && $0 == "```" { state = 3; next }
  state == 2 { print > (dir "/" name); next }
  state == 3 && $0 == "" { next }
  state == 3 { if ($0 != "```") die("want the output block after the program"); state = 4; next }
  state == 4 {
    if (substr($0, 1, 4) != "$ ./") die("the output block starts with \"$ ./NAME ...\"")
    print substr($0, 3) > (dir "/" name ".cmd")
    printf "" > (dir "/" name ".out")
    state = 5
    next
  }
  state == 5 && $0 == "```" { state = 0; next }
  state == 5 { print > (dir "/" name ".out"); next }
  END { if (!bad && state != 0) die("unterminated program block") }
' "$readme"
[ -s "$work/readme/list" ] || { echo "readme_programs: no program blocks in $readme" >&2; exit 1; }

failures=0
fail() {
  echo "readme_programs: $*" >&2
  failures=$((failures + 1))
}

names=()
host_names=()
while read -r name kind; do
  if [ ! -f "$examples/$name" ]; then
    fail "README's program $name is not in $examples"
    continue
  fi
  if ! diff -u "$examples/$name" "$work/readme/$name" >"$work/readme/$name.diff"; then
    fail "README's $name differs from $examples/$name:"
    cat "$work/readme/$name.diff" >&2
  fi
  names+=("$name")
  [ "$kind" = host ] && host_names+=("${name%.cpp}")
done <"$work/readme/list"
for file in "$examples"/*.cpp; do
  grep -q "^$(basename "$file") " "$work/readme/list" ||
    fail "$file is not shown in the README (<!-- program: $(basename "$file") -->)"
done

sources=()
for name in "${names[@]}"; do sources+=("$examples/$name"); done
"$here/build.sh" cmake "$prefix" "$work/bin" "${sources[@]}" || exit 1
"$here/build.sh" pkg-config "$prefix" "$work/bin" "${sources[@]}" || exit 1

while read -r name kind; do
  [ "$kind" = fixed ] || continue
  stem=${name%.cpp}
  read -ra words <"$work/readme/$name.cmd"
  args=("${words[@]:1}")
  args=("${args[@]//\/usr\/local\//$prefix/}")
  for way in cmake pkg-config; do
    out="$work/run/$stem.$way"
    rc=0
    timeout "$kSeconds" "$work/bin/$way/$stem" "${args[@]}" >"$out.out" 2>"$out.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
      fail "$name ($way build) exited $rc: $(head -n 3 "$out.err")"
    elif ! diff -u "$work/readme/$name.out" "$out.out" >"$out.diff"; then
      fail "$name ($way build) does not print what the README shows:"
      cat "$out.diff" >&2
    fi
  done
done <"$work/readme/list"

host_status=0
if [ ${#host_names[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "readme_programs: not root: the host programs (${host_names[*]}) are not checked"
    host_status=77
  elif ! unshare --net -- bash "$here/host_programs.sh" "$work/bin" "${host_names[@]}"; then
    fail "the host programs do not list what the test holds (above)"
  fi
fi
echo "readme_programs: ${#names[@]} programs, $failures failures"
[ "$failures" -eq 0 ] || exit 1
exit "$host_status"
