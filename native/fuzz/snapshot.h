/* The core allocates nothing after init, so its whole state is its linear memory, its wasm globals
 * (fields of the wasm2c instance struct) and the fake host's struct. A target brings the core to its
 * starting point once, takes a snapshot, and every input starts from a restored copy: a fresh
 * instance's result at a fraction of the cost. */
#ifndef PW_FUZZ_SNAPSHOT_H
#define PW_FUZZ_SNAPSHOT_H
#include <stdint.h>

/* Test knob (PW_FUZZ_BREAK_RESTORE): restore the memory only, to show the verify mode notices. */
extern int snapshot_break_globals;

void snapshot_take(void);
/* Restores memory up to the core's cap (PW_STAT_HEAP_LIMIT), its globals and the host. */
void snapshot_restore(void);
/* Whether the memory above the cap is as in the snapshot: the core never writes there. */
int snapshot_above_cap_untouched(void);
/* A digest of the core's memory, its globals and the host's trace: equal for equal states. */
uint64_t snapshot_state_digest(void);
#endif
