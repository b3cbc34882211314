#!/usr/bin/env bash
# bash tools/fuzz/instructions.sh build/fuzz/fuzz_<target> DIR...: machine instructions per execution of a
# fuzz binary over a fixed set of inputs (the files in DIR), counted by valgrind's callgrind:
# (instructions for all n inputs - instructions for the first alone) / (n - 1), so start-up and the
# snapshot are left out. Unlike exec/s it does not depend on the machine's load. Valgrind cannot run
# an ASan build (build without --asan; run.sh emits DWARF 4, which valgrind 3.19 reads).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 FUZZ_BINARY DIR..." >&2; exit 2; }
bin="$1"; shift
command -v valgrind >/dev/null || { echo "instructions: NOT RUN: needs valgrind" >&2; exit 3; }
files=()
for d in "$@"; do for f in "$d"/*; do [ -f "$f" ] && files+=("$f"); done; done
n=${#files[@]}
[ "$n" -ge 2 ] || { echo "instructions: needs at least two inputs" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() { # inputs... -> total instructions
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" "$@" > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/log"
}
one=$(count "${files[0]}")
all=$(count "${files[@]}")
echo "instructions: $(basename "$bin") over $n inputs: $(( (all - one) / (n - 1) )) per execution"
