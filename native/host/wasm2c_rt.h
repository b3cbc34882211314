/* Our own wasm2c runtime glue (wasm2c_rt.c) in place of wabt's wasm-rt-impl.c, which assumes POSIX
 * (mmap guard pages, signal handlers). This glue bounds-checks in code (build the generated core with
 * -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0), counts call depth, and turns a trap into a longjmp to the
 * innermost pw_w2c_guard set by the engine. It runs the same on the RP2040.
 */
#ifndef PW_WASM2C_RT_H
#define PW_WASM2C_RT_H

#include <setjmp.h>
#include <stdint.h>

#include "wasm-rt.h"

/** Largest linear memory the glue hands out, in bytes (grow fails beyond it). */
#ifndef PW_W2C_MEMORY_MAX
#define PW_W2C_MEMORY_MAX (16u * 1024u * 1024u)
#endif

/** Fixed size of the core's memory in bytes when the core was compiled with constant bounds checks
 * (wasm2c_fast.h); 0: the checks read mem->size. */
#ifndef PW_W2C_FIXED_MEMORY
#define PW_W2C_FIXED_MEMORY 0
#endif

/** Where wasm_rt_trap() jumps; NULL outside any call into the core. */
extern jmp_buf *pw_w2c_trap_target;
/** Why the last trap happened. */
extern volatile wasm_rt_trap_t pw_w2c_trap_code;
/** Set when a trap was really an allocation failure of the glue (else NULL). */
extern const char *volatile pw_w2c_alloc_error;

#endif
