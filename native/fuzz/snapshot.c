/* Snapshot and restore of the core and the fake host (snapshot.h). */
#include "snapshot.h"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_host.h"

int snapshot_break_globals;
static Z_core_instance_t saved_core;
static struct Z_picowire_instance_t saved_host;
static uint8_t* saved_memory;
static uint64_t saved_size;
static uint64_t saved_limit; /* the core's memory cap: nothing above it is ever written */

/* The wasm globals: every field between the import pointer and the memory descriptor, which holds
 * pointers of this process and must stay the live instance's own. */
#define GLOBALS_AT (offsetof(Z_core_instance_t, Z_picowire_instance) + sizeof(void*))
#define GLOBALS_END offsetof(Z_core_instance_t, w2c_memory)

void snapshot_take(void) {
  saved_core = core;
  saved_host = host;
  saved_size = core.w2c_memory.size;
  saved_limit = Z_coreZ_stat(&core, PW_STAT_HEAP_LIMIT);
  if (saved_limit > saved_size) abort();
  free(saved_memory);
  saved_memory = malloc(saved_size);
  if (!saved_memory) abort();
  memcpy(saved_memory, core.w2c_memory.data, saved_size);
}

void snapshot_restore(void) {
  if (core.w2c_memory.size != saved_size) abort(); /* the core grew its memory after init */
  if (!snapshot_break_globals)
    memcpy((uint8_t*)&core + GLOBALS_AT, (uint8_t*)&saved_core + GLOBALS_AT, GLOBALS_END - GLOBALS_AT);
  /* host.sent changes only while tracing (fuzz_host.h): otherwise its 4 KiB are left as they are */
  memcpy(&host, &saved_host, fuzz_tracing ? sizeof host : offsetof(struct Z_picowire_instance_t, sent));
  memcpy(core.w2c_memory.data, saved_memory, saved_limit);
}

int snapshot_above_cap_untouched(void) {
  return memcmp(core.w2c_memory.data + saved_limit, saved_memory + saved_limit, saved_size - saved_limit) == 0;
}

uint64_t snapshot_state_digest(void) {
  uint64_t h = 0xcbf29ce484222325ull;
  const uint8_t* g = (const uint8_t*)&core + GLOBALS_AT;
  for (size_t i = 0; i < GLOBALS_END - GLOBALS_AT; i++) h = (h ^ g[i]) * 0x100000001b3ull;
  for (uint64_t i = 0; i < core.w2c_memory.size; i++) h = (h ^ core.w2c_memory.data[i]) * 0x100000001b3ull;
  return h ^ host.trace * 0x9e3779b97f4a7c15ull;
}
