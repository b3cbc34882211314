# Run at build time (cmake -P) right after wasm2c: -DFILE=<generated .c>.
# Points wabt 1.0.32's MEMCHECK at PW_W2C_MEMCHECK (native/host/wasm2c_fast.h, force-included), which
# compares with the fixed memory size when PW_W2C_FIXED_MEMORY is set and is wasm2c's own RANGE_CHECK
# otherwise (also when the header is not included); addresses with an offset at PW_W2C_EA, loads and stores at
# PW_W2C_MEM_ADDR (both as generated without the header). Fails when the line is not there exactly once (another wasm2c: check the header still fits).
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
# the little-endian loads and stores take their address from PW_W2C_MEM_ADDR (wasm2c_fast.h: the fixed
# memory's static array, a constant known 8-aligned, so an access's alignment test is one on the wasm
# address, often folded away, and nothing is reloaded after a store)
# (no CMake lists here: the code holds semicolons, and list() splits on them differently under CMP0007 OLD
# and NEW — with CMake >= 4.0 a list-based pair turned every access into an empty statement)
function(w2c_replace_once from to)
  string(FIND "${src}" "${from}" first)
  string(FIND "${src}" "${from}" last REVERSE)
  if(first EQUAL -1 OR NOT first EQUAL last)
    message(FATAL_ERROR "w2c_patch: ${FILE} does not contain \"${from}\" exactly once (another wasm2c?)")
  endif()
  string(REPLACE "${from}" "${to}" patched "${src}")
  set(src "${patched}" PARENT_SCOPE)
endfunction()
w2c_replace_once("wasm_rt_memcpy(&result, &mem->data[addr], sizeof(t1));" "wasm_rt_memcpy(&result, PW_W2C_MEM_ADDR(mem, addr), sizeof(t1));")
w2c_replace_once("wasm_rt_memcpy(&mem->data[addr], &wrapped, sizeof(t1));" "wasm_rt_memcpy(PW_W2C_MEM_ADDR(mem, addr), &wrapped, sizeof(t1));")
# wabt passes every loaded value through an empty asm with an "r" operand (it keeps float NaN bits
# intact); PW_W2C_LOAD_FENCE lets wasm2c_fast.h drop it for our integer-only core
string(REPLACE "wasm_asm(\"\" ::\"r\"(result));" "PW_W2C_LOAD_FENCE(result);" src "${src}")
# a load/store with an offset: wasm2c adds the offset in 64 bits ((u64)(x) + N), which GCC does not fold
# on 32-bit targets (~10 Thumb instructions per check instead of ~5); PW_W2C_EA (wasm2c_fast.h) adds in
# 32 bits and turns a carry into an address that fails the bounds check. Without the header: as generated.
string(REGEX REPLACE "w2c_memory, \\(u64\\)\\((w2c_[a-z0-9]+)\\) \\+ ([0-9]+)u?" "w2c_memory, PW_W2C_EA(\\1, \\2u)" src "${src}")
string(REPLACE "#define RANGE_CHECK(mem, offset, len)"
       "#ifndef PW_W2C_EA\n#define PW_W2C_EA(x, off) ((u64)(x) + (off))\n#endif\n#ifndef PW_W2C_LOAD_FENCE\n#define PW_W2C_LOAD_FENCE(r) wasm_asm(\"\" ::\"r\"(r))\n#endif\n#ifndef PW_W2C_MEM_ADDR\n#define PW_W2C_MEM_ADDR(mem, addr) (&(mem)->data[addr])\n#endif\n#define RANGE_CHECK(mem, offset, len)" src "${src}")
file(WRITE "${FILE}" "${src}")
