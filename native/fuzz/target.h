/* One fuzz target: how it brings a fresh core to where every input starts, and what it does with one
 * input (fuzz_main.c takes the snapshot between the two). */
#ifndef PW_FUZZ_TARGET_H
#define PW_FUZZ_TARGET_H
#include <stddef.h>
#include <stdint.h>

/* From a fresh core (fuzz_start) to the state every input starts from; the same on every call. */
void target_prepare(void);
/* One input, from that state. Aborts on anything the core must never do. */
void target_run(const uint8_t* data, size_t size);
#endif
