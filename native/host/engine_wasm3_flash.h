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
 * After the code come a table (per function: its entry and what wasm3's compile sets in its M3Function)
 * and the functions' constants, and in the region's last sector a record: the core's SHA-256, the
 * firmware's identity (the port's code_firmware_id: the op handlers' addresses), a fingerprint of the
 * RAM addresses the code names, wasm3's layout, and a sum of the content, sealed with a SHA-256. A load
 * whose record matches binds every function to its code without compiling (docs/FLASH-LAYOUT.md: ~0.1 s
 * instead of ~1 s on the board). Otherwise the record is erased first, the code rewritten (a sector is
 * erased and programmed only when its bytes differ, so flash wears only when the core, the firmware or
 * the RAM addresses change) and the record written last: a power cut anywhere in between leaves no
 * record, and the next boot compiles again.
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
  uint32_t content_bytes;   /* code, table and constants */
  uint32_t bound;           /* 1: bound to the cached code, nothing compiled */
} pw_w3_flash_stats;

/** Binds every function of module (its imports already linked) to the code the platform's code region
 *  holds for it, or compiles them into it (p->code_map, p->code_write_sector); core_sha256 (hex) names
 *  the core for the record (NULL, or a port without code_firmware_id: always compiled). NULL on success;
 *  otherwise a message in err (the module is then in an unknown state: free the runtime). */
const char *pw_w3_compile_to_flash(IM3Module module, const pw_platform *p, const char *core_sha256,
                                   pw_w3_flash_stats *stats, char *err, size_t err_cap);

#endif
