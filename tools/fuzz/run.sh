#!/usr/bin/env bash
# npm run fuzz [-- --seconds N] [-- --runs N] [-- --target "rgb json ..."] [-- --fresh] [-- --asan] [-- --build-only]
# (--fresh: new inputs go to an empty scratch directory, on tmpfs where there is one and removed after,
# instead of build/fuzz/corpus-<target>, so a measurement starts from the committed seeds alone;
# --asan: the harness under AddressSanitizer too, as the test suite builds it, a quarter slower): translates
# the identical build/picowire.wasm with wasm2c (Debian wabt) and runs libFuzzer on each target, seeded
# from test/fuzz/corpus/<target>. Every input starts from a snapshot of the prepared core
# (native/fuzz/snapshot.c). New inputs stay in build/fuzz; a crash is saved as
# build/fuzz/crash-<target>-*: copy it to test/fuzz/regressions/<target>/ so the test suite replays it.
# Exec/s and the long runs: docs/FUZZING.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=60
runs=-1
build_only=0
fresh=0
asan=0
targets="rgb json http frame mqtt control bus"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; seconds=0; shift 2 ;;
    --target) targets="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --fresh) fresh=1; shift ;;
    --asan) asan=1; shift ;;
    *) echo "fuzz: unknown option $1" >&2; exit 2 ;;
  esac
done
for t in $targets; do
  [ -f "native/fuzz/target_$t.c" ] || { echo "fuzz: unknown target $t (native/fuzz/target_<name>.c)" >&2; exit 2; }
done
cc=$(command -v clang-19 || command -v clang || true)
if ! command -v wasm2c >/dev/null || [ -z "$cc" ]; then
  echo "fuzz: NOT RUN: needs wasm2c and clang with libFuzzer (apt-get install wabt clang-19 libclang-rt-19-dev)" >&2
  exit 3
fi
rt=/usr/share/wabt/wasm2c/wasm-rt-impl.c
[ -f "$rt" ] || { echo "fuzz: NOT RUN: $rt missing (Debian wabt)" >&2; exit 3; }
out=build/fuzz
mkdir -p "$out/obj"
wasm2c build/picowire.wasm -n core -o "$out/core.c"
# weak do-nothing versions of every import the core uses; native/fuzz/fuzz_host.c defines the ones that matter
awk '/^\/\* import: / { getline proto; print proto }' "$out/core.h" | sed -E 's/;$//' | awk '{
  ret = $1; sub(/\(.*/, "", $2); name = $2
  n = split($0, parts, ","); args = "struct Z_picowire_instance_t* h"
  for (i = 2; i <= n; i++) args = args ", u32 a" i
  print "__attribute__((weak)) " ret " " name "(" args ") { (void)h; " (ret == "void" ? "" : "return 0; ") "}"
}' > "$out/stubs.c"
echo "fuzz: build/picowire.wasm sha256 $(sha256sum build/picowire.wasm | cut -c1-16)"
# Coverage (8-bit edge counters) guides the fuzzer through the translated core only: the harness's own
# loops would be noise. No comparison tracing (trace-cmp): on wasm2c's output it cost 4/5 of the speed
# while every memory access was a bounds compare, and still more than half with guard pages; the
# dictionaries in native/fuzz/dict/ give the tokens it would have found. The harness and wasm2c's
# runtime run with UBSan, and with ASan only when --asan is given (the test suite does): ASan there cost
# a quarter of control's and bus's speed and guards only the harness's own C. The core runs without
# either: its memory accesses are bounds-checked by guard pages (native/fuzz/guard.h: a fault there is
# the wasm trap; a fifth fewer instructions than wasm2c's compare per access), the call depth is still
# counted, so recursion traps where it did; UBSan on its generated C (unsigned arithmetic, explicit trap
# checks) cost 15%. DWARF 4: valgrind (tools/fuzz/instructions.sh) reads no newer.
common=(-gdwarf-4 -O2 -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1 -DWASM_RT_USE_STACK_DEPTH_COUNT=1 -DWASM_RT_TRAP_HANDLER=fuzz_trap
  -include native/fuzz/trap_handler.h -I"$out" -Inative/host -Inative/fuzz)
sanitizers=undefined
[ "$asan" = 1 ] && sanitizers=address,undefined
harness=(-fsanitize="$sanitizers" -fno-sanitize-recover=undefined)
core_flags=(-fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp)
compile() { # object source flags...
  local o="$1" src="$2"; shift 2
  "$cc" "${common[@]}" "$@" -c "$src" -o "$o" 2>> "$out/build.log" || { cat "$out/build.log" >&2; exit 1; }
}
: > "$out/build.log"
compile "$out/obj/core.o" "$out/core.c" "${core_flags[@]}" -include "$out/core.h" -include native/fuzz/fuzz_host.h
compile "$out/obj/rt.o" "$rt" "${harness[@]}"
compile "$out/obj/stubs.o" "$out/stubs.c" "${harness[@]}" -include native/fuzz/fuzz_host.h
for f in fuzz_host hmac fuzz_main guard; do compile "$out/obj/$f.o" "native/fuzz/$f.c" "${harness[@]}"; done
compile "$out/obj/snapshot.o" native/fuzz/snapshot.c # whole-memory copies: ASan's range checks cost 5%
compile "$out/obj/pw_sha256.o" native/host/pw_sha256.c # the harness's HMACs: a third of bus's time under ASan
compile "$out/obj/sha256_block.o" native/fuzz/sha256_block.c
for t in $targets; do
  compile "$out/obj/target_$t.o" "native/fuzz/target_$t.c" "${harness[@]}"
  "$cc" -fsanitize=fuzzer,"$sanitizers" "$out"/obj/{core,rt,stubs,fuzz_host,snapshot,hmac,fuzz_main,guard,pw_sha256,sha256_block}.o \
    "$out/obj/target_$t.o" -o "$out/fuzz_$t" 2>> "$out/build.log" || { cat "$out/build.log" >&2; exit 1; }
done
[ "$build_only" = 1 ] && { echo "fuzz: built $targets"; exit 0; }
# Per target: a dictionary where tokens matter, and for the two that sign every line or datagram
# (two HMACs each) a shorter input limit: ten commands or datagrams explore as much as a hundred.
# CPU seconds used by finished children (user + sys): the machine may be shared, so exec/s is per CPU
# second, not per wall second.
# (`times` runs in this shell: in a command substitution it would see the subshell's children only)
children_cpu() { times > "$out/times"; tail -1 "$out/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }'; }
dict_for() { case "$1" in json) echo native/fuzz/dict/control.dict ;; *) [ -f "native/fuzz/dict/$1.dict" ] && echo "native/fuzz/dict/$1.dict" ;; esac; }
max_len_for() { case "$1" in control|bus) echo 256 ;; *) echo 4096 ;; esac; }
for t in $targets; do
  mkdir -p "$out/corpus-$t" "test/fuzz/corpus/$t"
  echo "fuzz: $t"
  opts=(-max_len="$(max_len_for "$t")" -print_final_stats=1 -artifact_prefix="$out/crash-$t-")
  d=$(dict_for "$t" || true)
  [ -n "$d" ] && opts+=(-dict="$d")
  if [ "$runs" -ge 0 ]; then opts+=(-runs="$runs"); else opts+=(-max_total_time="$seconds"); fi
  children_cpu > "$out/cpu"; before=$(cat "$out/cpu")
  wall=$(date +%s.%N)
  # new inputs go to the first directory (build/), never into the committed seeds
  found="$out/corpus-$t"
  # a measurement's scratch inputs go to tmpfs where there is one: from the seeds nearly every input
  # early on is new, and creating ~600 files on ext4 took a quarter of control's CPU time (docs/FUZZING.md)
  scratch_root="$out"
  [ -d /dev/shm ] && [ -w /dev/shm ] && scratch_root=/dev/shm
  [ "$fresh" = 1 ] && found=$(mktemp -d "$scratch_root/picowire-fuzz-scratch-$t.XXXXXX")
  "$out/fuzz_$t" "${opts[@]}" "$found" "test/fuzz/corpus/$t" > "$out/log-$t.txt" 2>&1 || true
  children_cpu > "$out/cpu"; cpu=$(awk -v a="$before" -v b="$(cat "$out/cpu")" 'BEGIN { print b - a }')
  wall=$(awk -v a="$wall" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  [ "$fresh" = 1 ] && rm -rf "$found"
  grep -E "ERROR|SUMMARY|core trapped|VERIFY|DONE" "$out/log-$t.txt" || true
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log-$t.txt")
  [ -n "$n" ] && printf "fuzz: %s %d executions, %.1f s CPU (%.1f s wall): %.0f exec/s per CPU second (target 100000)\n" \
    "$t" "$n" "$cpu" "$wall" "$(awk -v n="$n" -v c="$cpu" 'BEGIN { print n / (c + 0.001) }')"
  if ls "$out"/crash-"$t"-* >/dev/null 2>&1; then
    echo "fuzz: $t FOUND A CRASH: $(ls "$out"/crash-"$t"-*)" >&2
    exit 1
  fi
done
echo "fuzz: no crashes"
