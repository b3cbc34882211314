/* Force-included before wasm3's sources (cmake/wasm3.cmake, pw_add_wasm3). wasm3's loads and stores
 * copy the value with memcpy so that any address works; on Cortex-M0+ (no unaligned access) GCC makes
 * every 2/4/8-byte copy a call to the ROM's memcpy, ~20% of a WebSocket unmask's cycles. Here an
 * aligned copy of those sizes is one or two plain accesses (may_alias, as memcpy would be); anything
 * else still goes to memcpy. Same bytes on every host. */
#ifndef PW_WASM3_FAST_H
#define PW_WASM3_FAST_H

/* PW_WASM3_OPS_IN_RAM (the Pico build, CMake PICOWIRE_WASM3_OPS_IN_RAM=all; the default, hot, moves only
 * the handlers of native/pico/wasm3_hot_ops.txt, by section names in the archive): every op handler (each is
 * declared through wasm3's `vectorcall`, which it leaves to the platform) goes to .time_critical, which
 * the SDK's linker script copies to RAM at boot. The compiled core is read from flash through the 16 KB
 * XIP cache; with the handlers there too they evict each other (tools/bench/xip.ts: a WebSocket parse
 * would miss ~30 extra cycles per byte, ~6 with the handlers in RAM). ~18 KB of RAM. */
#if defined(PW_WASM3_OPS_IN_RAM) && PW_WASM3_OPS_IN_RAM
#define vectorcall __attribute__((section(".time_critical.wasm3_ops")))
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* declared before the macro below takes the name */

typedef uint16_t pw_w3_u16 __attribute__((may_alias, aligned(2)));
typedef uint32_t pw_w3_u32 __attribute__((may_alias, aligned(4)));
typedef uint64_t pw_w3_u64 __attribute__((may_alias, aligned(4))); /* ARMv6-M: two LDR/STR, 4-aligned */

static inline __attribute__((always_inline, unused)) void *pw_w3_memcpy(void *d, const void *s, size_t n) {
  if (__builtin_constant_p(n)) {
    uintptr_t a = (uintptr_t)d | (uintptr_t)s;
    if (n == 2 && !(a & 1)) {
      *(pw_w3_u16 *)d = *(const pw_w3_u16 *)s;
      return d;
    }
    if (n == 4 && !(a & 3)) {
      *(pw_w3_u32 *)d = *(const pw_w3_u32 *)s;
      return d;
    }
    if (n == 8 && !(a & 3)) {
      *(pw_w3_u64 *)d = *(const pw_w3_u64 *)s;
      return d;
    }
  }
  return memcpy(d, s, n);
}
#define memcpy(d, s, n) pw_w3_memcpy((d), (s), (n))

#endif
