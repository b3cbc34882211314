# Run at build time (cmake -P) right after wasm2c: -DFILE=<generated .c>.
# Points wabt 1.0.32's MEMCHECK at PW_W2C_MEMCHECK (native/host/wasm2c_fast.h, force-included), which
# compares with the fixed memory size when PW_W2C_FIXED_MEMORY is set and is wasm2c's own RANGE_CHECK
# otherwise (also when the header is not included); and addresses with an offset at PW_W2C_EA. Fails when the line is not there exactly once (another wasm2c: check the header still fits).
file(READ "${FILE}" src)
set(from "#define MEMCHECK(mem, a, t) RANGE_CHECK(mem, a, sizeof(t))")
# wasm2c_fast.h defines PW_W2C_MEMCHECK; without it (PICOWIRE_W2C_FAST=OFF) wabt's own check stays.
set(to "/* patched by native/cmake/w2c_patch.cmake: */\n#ifndef PW_W2C_MEMCHECK\n#define PW_W2C_MEMCHECK(mem, a, t) RANGE_CHECK(mem, a, sizeof(t))\n#endif\n#define MEMCHECK(mem, a, t) PW_W2C_MEMCHECK(mem, a, t)")
string(FIND "${src}" "${from}" first)
string(FIND "${src}" "${from}" last REVERSE)
if(first EQUAL -1 OR NOT first EQUAL last)
  message(FATAL_ERROR "w2c_patch: ${FILE} does not define MEMCHECK as wabt 1.0.32 does (exactly once)")
endif()
string(REPLACE "${from}" "${to}" src "${src}")
# a load/store with an offset: wasm2c adds the offset in 64 bits ((u64)(x) + N), which GCC does not fold
# on 32-bit targets (~10 Thumb instructions per check instead of ~5); PW_W2C_EA (wasm2c_fast.h) adds in
# 32 bits and turns a carry into an address that fails the bounds check. Without the header: as generated.
string(REGEX REPLACE "w2c_memory, \\(u64\\)\\((w2c_[a-z0-9]+)\\) \\+ ([0-9]+)u?" "w2c_memory, PW_W2C_EA(\\1, \\2u)" src "${src}")
string(REPLACE "#define RANGE_CHECK(mem, offset, len)"
       "#ifndef PW_W2C_EA\n#define PW_W2C_EA(x, off) ((u64)(x) + (off))\n#endif\n#define RANGE_CHECK(mem, offset, len)" src "${src}")
file(WRITE "${FILE}" "${src}")
