/* Force-included (-include wasm2c_fast.h) before the core translated by wasm2c (wabt 1.0.32): faster
 * linear-memory accesses on cores without unaligned access (Cortex-M0+), the same results everywhere.
 * native/README.md "wasm2c memory accesses" has the figures.
 *
 * wabt 1.0.32's DEFINE_LOAD / DEFINE_STORE copy every value with wasm_rt_memcpy, which wasm-rt.h
 * defines as __builtin_memcpy. A 2/4/8-byte __builtin_memcpy of unknown alignment is a call to memcpy
 * on the RP2040. wasm-rt.h has an include guard, so this header includes it first and then replaces
 * wasm_rt_memcpy with pw_w2c_memcpy: when the address is aligned (the common case: AssemblyScript aligns
 * its fields and buffers) the value is moved with direct 16/32-bit accesses; otherwise an out-of-line
 * helper copies it by value. The access types are may_alias, so a wasm store of one width followed by a
 * load of another at the same address stays ordered (wasm memory is untyped bytes). The byte order is
 * the machine's, as with memcpy (wasm2c's little-endian layout).
 *
 * PW_W2C_INLINE (default 1): the generated code's inline helpers are always inlined (below).
 *
 * PW_W2C_FIXED_MEMORY (bytes, e.g. 65536; 0 = off): the core's memory has this size and cannot grow
 * (the picowire core declares `(memory 1 1)`). Then PW_W2C_MEMCHECK compares with a constant instead of
 * adding in 64 bits and reloading mem->size; wasm2c_rt.c (same definition) refuses to allocate any other
 * memory, so a core that disagrees fails at start instead of running with wrong checks. wasm2c defines
 * MEMCHECK after this header, so native/cmake/w2c_patch.cmake rewrites that line of the generated C to
 * use PW_W2C_MEMCHECK.
 */
#ifndef PW_WASM2C_FAST_H
#define PW_WASM2C_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "wasm-rt.h"

typedef uint16_t pw_w2c_u16 __attribute__((may_alias, aligned(2)));
typedef uint32_t pw_w2c_u32 __attribute__((may_alias, aligned(4)));
typedef uint64_t pw_w2c_u64 __attribute__((may_alias, aligned(4))); /* ARMv6-M: two LDR/STR, 4-aligned */

/* The misaligned cases, out of line and by value: the generated code's local (`result`/`wrapped`)
 * never has its address passed to a call, so it stays in registers on the aligned path. */
__attribute__((noinline, unused)) static uint16_t pw_w2c_get16(const void *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
__attribute__((noinline, unused)) static uint32_t pw_w2c_get32(const void *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
__attribute__((noinline, unused)) static uint64_t pw_w2c_get64(const void *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
__attribute__((noinline, unused)) static void pw_w2c_put16(void *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
__attribute__((noinline, unused)) static void pw_w2c_put32(void *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
__attribute__((noinline, unused)) static void pw_w2c_put64(void *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }

#define PW_W2C_MOVE(bits, mask)                                                                             \
  do {                                                                                                     \
    uint##bits##_t v_ = ((uintptr_t)src & (mask)) ? pw_w2c_get##bits(src) : *(const pw_w2c_u##bits *)src; \
    if ((uintptr_t)dst & (mask))                                                                           \
      pw_w2c_put##bits(dst, v_);                                                                           \
    else                                                                                                   \
      *(pw_w2c_u##bits *)dst = v_;                                                                         \
  } while (0)

/* wasm2c calls this with one side a local of the access's type (aligned: its test folds away) and the
 * other side linear memory; n is a constant. */
static inline __attribute__((always_inline)) void pw_w2c_memcpy(void *dst, const void *src, size_t n) {
  if (n == 2)
    PW_W2C_MOVE(16, 1u);
  else if (n == 4)
    PW_W2C_MOVE(32, 3u);
  else if (n == 8)
    PW_W2C_MOVE(64, 3u);
  else
    __builtin_memcpy(dst, src, n);
}

#undef wasm_rt_memcpy
#define wasm_rt_memcpy pw_w2c_memcpy

/* PW_W2C_INLINE (default 1): every `inline` function of the generated code (the per-type loads and
 * stores, memory_copy/fill, CLZ/CTZ, table helpers: all a few instructions) is always inlined. At -Os GCC
 * otherwise keeps i32_load/i64_store/... as out-of-line functions, so a hot loop pays a call, the
 * argument shuffle and a 64-bit bounds check per access. The headers the generated code includes are
 * included here first, so their include guards keep the redefined `inline` away from them. */
#ifndef PW_W2C_INLINE
#define PW_W2C_INLINE 1
#endif
#if PW_W2C_INLINE
#include <assert.h>
#include <math.h>
#include <string.h>
#if !defined(_MSC_VER)
#include <alloca.h>
#endif
#define inline __inline__ __attribute__((__always_inline__))
#endif

/* The effective address of an access with an offset (cmake/w2c_patch.cmake rewrites wasm2c's
 * `(u64)(x) + off` to this): added in 32 bits, a carry (the sum passed 4 GiB) becomes 2^32, which every
 * bounds check refuses, so the result traps exactly where wabt's does; GCC then checks with adds/bcs
 * instead of a 64-bit add. */
static inline __attribute__((always_inline, unused)) uint64_t pw_w2c_ea(uint32_t x, uint32_t off) {
  uint32_t a = x + off;
  return __builtin_expect(a < x, 0) ? (uint64_t)1 << 32 : (uint64_t)a;
}
#define PW_W2C_EA(x, off) pw_w2c_ea((x), (off))

/* Where a load or store lands (cmake/w2c_patch.cmake rewrites wabt's &mem->data[addr] to this). With
 * the fixed memory it is one static array (wasm2c_rt.c): a link-time constant, where mem->data had to be
 * reloaded after every store (a may_alias store might have changed it). Either way it is 8-aligned
 * (wasm2c_rt.c checks), so an access's alignment test becomes one on the wasm address, which GCC folds
 * where the core masks its pointer. */
#if defined(PW_W2C_FIXED_MEMORY) && PW_W2C_FIXED_MEMORY
extern uint8_t pw_w2c_fixed_data[];
#define PW_W2C_MEM_ADDR(mem, addr) ((uint8_t *)__builtin_assume_aligned(pw_w2c_fixed_data, 8) + (addr))
#else
#define PW_W2C_MEM_ADDR(mem, addr) ((uint8_t *)__builtin_assume_aligned((mem)->data, 8) + (addr))
#endif

#ifndef PW_W2C_FIXED_MEMORY
#define PW_W2C_FIXED_MEMORY 0
#endif

#if PW_W2C_FIXED_MEMORY
/* addr is wasm2c's u64 (a u32 address plus a u32 offset): out of bounds when addr + len > size. */
#define PW_W2C_MEMCHECK(mem, a, t)                                                           \
  if (UNLIKELY((uint64_t)(a) > (uint64_t)(PW_W2C_FIXED_MEMORY - sizeof(t)))) \
    TRAP(OOB);
#else
#define PW_W2C_MEMCHECK(mem, a, t) RANGE_CHECK(mem, a, sizeof(t))
#endif

#endif
