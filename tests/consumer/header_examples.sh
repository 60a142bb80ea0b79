#!/usr/bin/env bash
# Compiles and runs the worked example at the top of every public header, as
# installed in PREFIX, against the installed package:
#   header_examples.sh PREFIX WORK
#
# The example of a header (CONTRIBUTING.md states the rule for authors): in the
# header's opening comment (its first lines, all starting with //), the first run
# of lines that start with "//   " (two slashes, three blanks), blank "//" lines
# inside the run included; the run ends at the first other line. Each line loses
# its "//   ". Lines starting with #include go above main(); the rest becomes the
# body of main() in a translation unit of its own, built as a CMake project
# (find_package(sockscope), sockscope::sockscope):
#     #include <sockscope/HEADER.hpp>     (first: every header stands alone)
#     THE EXAMPLE'S #include LINES
#     using namespace sockscope;
#     int main() { THE REST OF THE EXAMPLE }
# With pkg-config's flags, every example is compiled once more, each as a function
# of one program that runs the one named by its argument (a compiler run per header
# again would double the test's time for what the CMake build already shows: that
# each header stands alone).
# Each example runs in PREFIX/share/sockscope, so "sample.pcapng" is the shipped
# sample capture, and must exit 0 within 30 s. A comment "// => TEXT" in the
# example claims a line TEXT of its standard output: the claims must appear, in
# order, among the lines it prints (other lines may come between).
set -euo pipefail
prefix=$(realpath "$1")
work=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
readonly kSeconds=30
rm -rf "$work"
mkdir -p "$work/src" "$work/run"

# The example of header $1, one line per line, "//   " removed.
example_of() {
  awk '
    !/^\/\// { exit }
    /^\/\/   / { in_example = 1; for (; blanks > 0; blanks--) print ""; print substr($0, 6); next }
    in_example && /^\/\/$/ { blanks++; next }
    in_example { exit }
  ' "$1"
}

failures=0
fail() {
  echo "header_examples: $*" >&2
  failures=$((failures + 1))
}

headers=("$prefix"/include/sockscope/*.hpp)
[ ${#headers[@]} -gt 1 ] || { echo "header_examples: no headers in $prefix" >&2; exit 2; }
names=()
all="$work/src/all_examples.cpp"
{
  echo "// Every header's example as a function: all_examples NAME runs one."
  for header in "${headers[@]}"; do echo "#include <sockscope/$(basename "$header")>"; done
} >"$all.head"
: >"$all.body"
for header in "${headers[@]}"; do
  name=$(basename "$header" .hpp)
  example=$(example_of "$header")
  if [ -z "$example" ]; then
    fail "sockscope/$name.hpp has no example (see CONTRIBUTING.md)"
    continue
  fi
  names+=("$name")
  includes=$(grep '^#include' <<<"$example" || true)
  body=$(grep -v '^#include' <<<"$example" || true)
  {
    echo "// The example of sockscope/$name.hpp (tests/consumer/header_examples.sh)."
    echo "#include <sockscope/$name.hpp>"
    [ -z "$includes" ] || echo "$includes"
    echo "using namespace sockscope;"
    echo "int main() {"
    echo "$body"
    echo "}"
  } >"$work/src/$name.cpp"
  [ -z "$includes" ] || echo "$includes" >>"$all.head"
  printf 'int example_%s() {\n%s\nreturn 0;\n}\n' "$name" "$body" >>"$all.body"
  sed -n 's|.*// => \(.*[^ ]\) *$|\1|p' <<<"$example" >"$work/src/$name.claims"
done
{
  sort -u "$all.head"
  echo "#include <cstring>"
  echo "using namespace sockscope;"
  echo "namespace {"
  cat "$all.body"
  echo "}  // namespace"
  echo "int main(int argc, char** argv) {"
  for name in "${names[@]}"; do
    echo "  if (argc == 2 && std::strcmp(argv[1], \"$name\") == 0) return example_$name();"
  done
  echo "  return 2;"
  echo "}"
} >"$all"

sources=()
for name in "${names[@]}"; do sources+=("$work/src/$name.cpp"); done
"$here/build.sh" cmake "$prefix" "$work/bin" "${sources[@]}" || exit 1
"$here/build.sh" pkg-config "$prefix" "$work/bin" "$all" || exit 1

for name in "${names[@]}"; do
  for way in cmake pkg-config; do
    command=("$work/bin/cmake/$name")
    [ "$way" = cmake ] || command=("$work/bin/pkg-config/all_examples" "$name")
    out="$work/run/$name.$way"
    rc=0
    (cd "$prefix/share/sockscope" && timeout "$kSeconds" "${command[@]}") \
      >"$out.out" 2>"$out.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
      fail "sockscope/$name.hpp's example ($way build) exited $rc; stderr:"
      head -n 20 "$out.err" >&2
      continue
    fi
    if ! missing=$(awk -v claims="$work/src/$name.claims" '
           BEGIN { i = n = 0; while ((getline line < claims) > 0) want[n++] = line }
           i < n && $0 == want[i] { i++ }
           END { if (i < n) { print want[i]; exit 1 } }' "$out.out"); then
      fail "sockscope/$name.hpp's example ($way build) did not print the claimed line"
      echo "  wanted: $missing" >&2
      echo "  printed:" >&2
      sed 's/^/    /' "$out.out" | head -n 20 >&2
    fi
  done
done
echo "header_examples: ${#names[@]} headers' examples, $failures failures"
[ "$failures" -eq 0 ]
