#!/usr/bin/env bash
# npm run fuzz [-- --seconds N] [-- --target rgb|json|http|frame|mqtt]: translates the identical
# build/picowire.wasm with wasm2c (Debian wabt) and runs libFuzzer with AddressSanitizer and UBSan on
# each target, seeded from test/fuzz/corpus/<target>. New inputs stay in build/fuzz; a crash is saved
# as build/fuzz/crash-<target>-*: copy it to test/fuzz/regressions/<target>/ so the test suite replays it.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=60
targets="rgb json http frame mqtt"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --target) targets="$2"; shift 2 ;;
    *) echo "fuzz: unknown option $1" >&2; exit 2 ;;
  esac
done
cc=$(command -v clang-19 || command -v clang || true)
if ! command -v wasm2c >/dev/null || [ -z "$cc" ]; then
  echo "fuzz: NOT RUN: needs wasm2c and clang with libFuzzer (apt-get install wabt clang-19 libclang-rt-19-dev)" >&2
  exit 3
fi
rt=/usr/share/wabt/wasm2c/wasm-rt-impl.c
[ -f "$rt" ] || { echo "fuzz: NOT RUN: $rt missing (Debian wabt)" >&2; exit 3; }
out=build/fuzz
mkdir -p "$out"
wasm2c build/picowire.wasm -n core -o "$out/core.c"
# weak do-nothing versions of every import the core uses; the harness defines the ones that matter
awk '/^\/\* import: / { getline proto; print proto }' "$out/core.h" | sed -E 's/;$//' | awk '{
  ret = $1; sub(/\(.*/, "", $2); name = $2
  n = split($0, parts, ","); args = "struct Z_picowire_instance_t* h"
  for (i = 2; i <= n; i++) args = args ", u32 a" i
  print "__attribute__((weak)) " ret " " name "(" args ") { (void)h; " (ret == "void" ? "" : "return 0; ") "}"
}' > "$out/stubs.c"
echo "fuzz: build/picowire.wasm sha256 $(sha256sum build/picowire.wasm | cut -c1-16), ${seconds}s per target"
for t in $targets; do
  T=$(echo "$t" | tr a-z A-Z)
  "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 -DWASM_RT_TRAP_HANDLER=fuzz_trap -DFUZZ_TARGET_"$T" \
    -include native/fuzz/trap_handler.h -I"$out" -Inative/host \
    -include "$out/core.h" native/fuzz/fuzz_core.c "$out/stubs.c" "$out/core.c" "$rt" -o "$out/fuzz_$t" 2> "$out/build_$t.log" \
    || { cat "$out/build_$t.log" >&2; exit 1; }
  mkdir -p "$out/corpus-$t" "test/fuzz/corpus/$t"
  echo "fuzz: $t"
  "$out/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
    "$out/corpus-$t" "test/fuzz/corpus/$t" 2>&1 | grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY|core trapped|#[0-9]+ *DONE" || true
  if ls "$out"/crash-"$t"-* >/dev/null 2>&1; then
    echo "fuzz: $t FOUND A CRASH: $(ls "$out"/crash-"$t"-*)" >&2
    exit 1
  fi
done
echo "fuzz: no crashes"
