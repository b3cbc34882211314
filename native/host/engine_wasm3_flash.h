/* wasm3's compiled code kept in flash instead of RAM (engine_wasm3_flash.c).
 *
 * wasm3 compiles every function into "code pages" of op pointers and immediates, ~3.3 bytes of RAM per
 * wasm byte that it never frees: 208 KB for today's core, more than a Pico W has beside WiFi. This
 * compiles each function in RAM, moves its code to the port's code region (XIP flash on the board) and
 * frees the RAM, so only wasm3's tables, the linear memory and the stack stay in RAM.
 *
 * wasm3 has no relocation records, so each function is compiled twice at two RAM addresses: a word that
 * differs by the distance between the two copies is a pointer into the function's own code (a branch,
 * a page bridge) and is moved with it; every other word must be identical (ops, immediates, pointers to
 * wasm3's RAM structures, calls to other functions). A first pass finds every function's size so that a
 * call always names its callee's final flash address: wasm3's self-patching op_Compile is never emitted,
 * so nothing ever writes to the code while it runs.
 *
 * The code is rebuilt at every load and a sector is erased and programmed only when its bytes differ,
 * so a power cut mid-write heals at the next boot, and flash wears only when the core, the firmware or
 * the RAM addresses of wasm3's structures change.
 */
#ifndef ENGINE_WASM3_FLASH_H
#define ENGINE_WASM3_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "pw_platform.h"
#include "wasm3.h"

typedef struct pw_w3_flash_stats {
  uint32_t functions;       /* compiled into the region */
  uint32_t code_bytes;      /* bytes of the region the code uses */
  uint32_t region_bytes;    /* the region's size */
  uint32_t sectors_written; /* sectors whose bytes differed and were rewritten */
  uint32_t sectors_same;    /* sectors left as they were */
} pw_w3_flash_stats;

/** Compiles every function of module (its imports already linked) into the platform's code region
 *  (p->code_map, p->code_write_sector). NULL on success; otherwise a message in err (the module is
 *  then in an unknown state: free the runtime). */
const char *pw_w3_compile_to_flash(IM3Module module, const pw_platform *p, pw_w3_flash_stats *stats, char *err,
                                   size_t err_cap);

#endif
