#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds a tiny consumer against
# it twice: with find_package(sockscope) and with pkg-config.
set -euo pipefail
build_dir=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
# The man page and completion scripts are installed with the binary.
for doc in share/man/man1/sockscope.1 share/bash-completion/completions/sockscope \
           share/zsh/site-functions/_sockscope; do
  [ -s "$work/prefix/$doc" ] || { echo "not installed: $doc" >&2; exit 1; }
done
cmake -S "$here/project" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
out=$("$work/cmake-build/consumer")
echo "cmake consumer: $out"
[ "$out" = "client 192.168.1.5:1099 server 192.168.1.7:80" ]
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/$(gcc -print-multiarch 2>/dev/null)/pkgconfig"
c++ "$here/project/consumer.cpp" -o "$work/pc-consumer" $(pkg-config --cflags --libs sockscope)
out=$("$work/pc-consumer")
echo "pkg-config consumer: $out"
[ "$out" = "client 192.168.1.5:1099 server 192.168.1.7:80" ]
