#!/usr/bin/env bash
# Builds programs (one per source file, each its own translation unit) against the
# sockscope installed in PREFIX, the way a third party would:
#   build.sh cmake PREFIX OUT SOURCE.cpp...       a CMake project: find_package(sockscope),
#                                                 target sockscope::sockscope -> OUT/cmake/NAME
#   build.sh pkg-config PREFIX OUT SOURCE.cpp...  c++ with pkg-config's flags -> OUT/pkg-config/NAME
# Two compilers at a time at most (the machine's cores are shared). On a failure the
# compiler's output is shown and the exit status is 1.
set -euo pipefail
way=$1
prefix=$(realpath "$2")
out=$(realpath -m "$3")
shift 3
sources=()
for source in "$@"; do sources+=("$(realpath "$source")"); done
set -- "${sources[@]}"
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/$way"

if [ "$way" = cmake ]; then
  list=$(IFS=';' && echo "$*")
  if ! { cmake -S "$here/programs" -B "$out/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
           -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$out/cmake" -DSOCKSCOPE_PROGRAMS="$list" &&
         cmake --build "$out/cmake-build" -j2 -- -k 0; } >"$out/cmake.log" 2>&1; then
    echo "build.sh: the CMake build failed:" >&2
    tail -n 40 "$out/cmake.log" >&2
    exit 1
  fi
  exit 0
fi

[ "$way" = pkg-config ] || { echo "build.sh: cmake or pkg-config, not '$way'" >&2; exit 2; }
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/$multiarch/pkgconfig"
SOCKSCOPE_CFLAGS=$(pkg-config --cflags sockscope)
SOCKSCOPE_LIBS=$(pkg-config --libs sockscope)
export SOCKSCOPE_CFLAGS SOCKSCOPE_LIBS out
# The flags are several words each: word splitting is wanted.
# shellcheck disable=SC2016
if ! printf '%s\n' "$@" | xargs -P2 -I{} bash -c \
     'name=$(basename "$1" .cpp)
      c++ $SOCKSCOPE_CFLAGS "$1" -o "$out/pkg-config/$name" $SOCKSCOPE_LIBS \
        >"$out/pkg-config/$name.log" 2>&1 || { cat "$out/pkg-config/$name.log" >&2; exit 255; }' \
     _ {}; then
  echo "build.sh: a pkg-config build failed (above)" >&2
  exit 1
fi
