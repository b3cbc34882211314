/* The core's memory accesses checked by guard pages instead of a compare on every load and store
 * (tools/fuzz/run.sh builds wasm2c's output with WASM_RT_MEMCHECK_SIGNAL_HANDLER=1): wasm2c's runtime
 * reserves 8 GiB per memory and maps only the pages in use, so every out-of-bounds access of a 32-bit
 * address faults. A fault there is the wasm trap it would have been (fuzz_trap); any other fault goes
 * to the handler that was installed before (AddressSanitizer's, libFuzzer's). */
#ifndef PW_FUZZ_GUARD_H
#define PW_FUZZ_GUARD_H
#include <stdint.h>

/* Calls wasm_rt_init and takes SIGSEGV and SIGBUS over from the handler it installs. */
void guard_init(void);
/* After Z_core_free: unmaps the rest of the reservation (wabt 1.0.32 unmaps only the pages in use,
 * so a fresh instance per input, PW_FUZZ_VERIFY, would use up the address space). */
void guard_release(uint8_t* data, uint64_t size);
/* Test knob (PW_FUZZ_PROBE_FAULT): reads past the core's memory ("core", a trap) or at a small
 * address ("other", the previous handler's report), to show that faults are told apart. */
void guard_probe(const char* where);
#endif
