/* Included first into every fuzz translation unit: wasm2c's runtime calls this on a trap. */
#include <stdint.h>
#ifndef PW_FUZZ_TRAP_HANDLER_H
#define PW_FUZZ_TRAP_HANDLER_H
void fuzz_trap(int code);
#endif
