/* libFuzzer entry for every target (target_*.c): the first input prepares the core and takes a
 * snapshot, every input runs on a restored copy. PW_FUZZ_VERIFY=1 checks each input three ways (after a
 * restore, again after another restore, and on a fresh instance) and aborts unless the states and the
 * host traces agree: the snapshot must be indistinguishable from starting over. It also checks that
 * nothing was written above the core's memory cap, which restores leave out. */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_host.h"
#include "guard.h"
#include "snapshot.h"
#include "target.h"

static int prepared;
static int verify;
static const char* probe_fault;

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc; (void)argv;
  guard_init();
  Z_core_init_module();
  verify = getenv("PW_FUZZ_VERIFY") != NULL;
  snapshot_break_globals = getenv("PW_FUZZ_BREAK_RESTORE") != NULL;
  probe_fault = getenv("PW_FUZZ_PROBE_FAULT");
  return 0;
}

static uint64_t run_restored(const uint8_t* data, size_t size) {
  snapshot_restore();
  target_run(data, size);
  return verify ? snapshot_state_digest() : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!prepared) {
    fuzz_tracing = 1;
    target_prepare();
    fuzz_tracing = verify;
    snapshot_take();
    prepared = 1;
    if (probe_fault) guard_probe(probe_fault);
  }
  uint64_t first = run_restored(data, size);
  if (verify) {
    if (!snapshot_above_cap_untouched()) {
      fprintf(stderr, "fuzz: the core wrote above its memory cap\n");
      abort();
    }
    uint64_t again = run_restored(data, size);
    target_prepare(); /* a fresh instance, as before snapshots */
    target_run(data, size);
    uint64_t fresh = snapshot_state_digest();
    if (first != again || first != fresh) {
      fprintf(stderr, "fuzz: VERIFY FAILED: state after a restore %016llx, after another %016llx, fresh instance %016llx\n",
              (unsigned long long)first, (unsigned long long)again, (unsigned long long)fresh);
      abort();
    }
  }
  return 0;
}
