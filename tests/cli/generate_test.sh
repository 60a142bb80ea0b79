#!/usr/bin/env bash
# The man page and the completion scripts list every command and every option the
# command takes. The truth is CLI11's own --help of each command (its formatter,
# another code path than cli/generate.cpp). Also: the man page renders without a
# groff warning, the scripts parse, bash completes a command's options and an
# interface name, `help CMD` is `CMD --help`, -V is --version, and every
# command's --help lists the global options.
#   generate_test.sh SOCKSCOPE_BINARY [INSTALLED_DOC_DIR]
set -uo pipefail
bin=$1
docs=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
problem() { echo "generate_test: $*"; fail=1; }

"$bin" --generate man >"$work/sockscope.1" || problem "--generate man failed"
"$bin" --generate bash >"$work/bash" || problem "--generate bash failed"
"$bin" --generate zsh >"$work/zsh" || problem "--generate zsh failed"
# The build's copies are what gets installed: the same text.
if [ -n "$docs" ]; then
  cmp -s "$work/sockscope.1" "$docs/sockscope.1" || problem "build's sockscope.1 is stale"
  cmp -s "$work/bash" "$docs/sockscope.bash" || problem "build's sockscope.bash is stale"
  cmp -s "$work/zsh" "$docs/_sockscope" || problem "build's _sockscope is stale"
fi

groff -man -Tutf8 -ww -z "$work/sockscope.1" 2>"$work/groff.err"
[ -s "$work/groff.err" ] && problem "groff warns: $(head -3 "$work/groff.err")"
man_text=$(MANWIDTH=250 man -l "$work/sockscope.1" 2>/dev/null | col -b)
bash -n "$work/bash" || problem "bash completion does not parse"
if command -v zsh >/dev/null; then zsh -n "$work/zsh" || problem "zsh completion does not parse"; fi

# Option names in a CLI11 help text: "-t,--tcp" and "--state STATES ..." columns.
options_in() { sed -n '/^Options:/,/^$/p' | grep -oE '^  -[^ ]+' | tr ',' '\n' | sed 's/^ *//'; }
has() {  # has WHAT WHERE-NAME TEXT
  grep -qF -- "$1" <<<"$3" || problem "$2 lacks $1"
}
mapfile -t commands < <("$bin" --help | sed -n '/^Subcommands:/,$p' | tail -n +2 |
  awk 'NF {print $1; if ($2 ~ /^[a-z]+$/ && $1 ~ /,$/) print $2}' | tr -d ',')
[ ${#commands[@]} -ge 10 ] || problem "only ${#commands[@]} commands in sockscope --help"
bash_text=$(cat "$work/bash")
zsh_text=$(cat "$work/zsh")
for opt in $("$bin" --help | options_in); do
  has "$opt" "the man page" "$man_text"
  has "$opt" "bash completion" "$bash_text"
  has "$opt" "zsh completion" "$zsh_text"
done
checked=0
for cmd in "${commands[@]}"; do
  help_text=$("$bin" "$cmd" --help)
  has "sockscope $cmd" "the man page" "$man_text"
  has "$cmd" "bash completion" "$bash_text"
  has "$cmd" "zsh completion" "$zsh_text"
  for opt in $(options_in <<<"$help_text"); do
    has "$opt" "the man page (sockscope $cmd)" "$man_text"
    has "$opt" "bash completion (sockscope $cmd)" "$bash_text"
    has "$opt" "zsh completion (sockscope $cmd)" "$zsh_text"
    checked=$((checked + 1))
  done
  has "--json" "sockscope $cmd --help (global options)" "$help_text"
  [ "$cmd" = help ] && continue
  [ "$("$bin" help "$cmd")" = "$help_text" ] || problem "help $cmd differs from $cmd --help"
done
[ $checked -ge 60 ] || problem "only $checked command options checked"
[ "$("$bin" -V)" = "$("$bin" --version)" ] || problem "-V is not --version"
[ "$("$bin" help)" = "$("$bin" --help)" ] || problem "help is not --help"
"$bin" help no-such-command 2>/dev/null; [ $? -eq 2 ] || problem "help of an unknown command: not exit 2"

# bash: what a user gets on <Tab>.
complete_words() {  # complete_words WORD... (the last is being completed)
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sockscope
           printf "%s\n" "${COMPREPLY[@]}"' _ "$work/bash" sockscope "$@"
}
[ "$(complete_words sockets --sta)" = "--state" ] || problem "bash: sockets --sta"
complete_words so | grep -qx sockets || problem "bash: so -> sockets"
complete_words conv -i l | grep -qx lo || problem "bash: conv -i l -> lo"
complete_words help lis | grep -qx listen || problem "bash: help lis -> listen"

[ $fail = 0 ] && echo "generate_test: $checked command options in the man page and both completions"
exit $fail
