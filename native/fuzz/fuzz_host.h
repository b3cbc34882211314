/* The fake host every fuzz target runs the core against (wasm2c translation of build/picowire.wasm):
 * deterministic imports, and a running hash of everything the core asked of it, so two runs of one
 * input can be compared (snapshot.c). */
#ifndef PW_FUZZ_HOST_H
#define PW_FUZZ_HOST_H
#include <stddef.h>
#include <stdint.h>
#include "core.h"
#include "picowire_abi.h"

#define FUZZ_SENT_MAX 4096 /* the latest tcp_send / udp_send bytes a target may read back */

/* The import module's instance: what the core's imports see as their host. Plain data only: the
 * snapshot copies it whole. */
struct Z_picowire_instance_t {
  uint32_t next_handle;
  uint32_t window; /* bytes tcp_send accepts per call, from the input */
  uint32_t random;
  uint32_t ip; /* what wifi_ip answers */
  uint64_t trace; /* FNV-1a over every import call with its arguments and bytes */
  uint32_t sent_len; /* the last tcp_send or udp_send, up to FUZZ_SENT_MAX bytes */
  uint8_t sent[FUZZ_SENT_MAX];
};

/* When set, the imports hash their calls into host.trace and keep the bytes sent in host.sent:
 * while a target prepares and when verifying (fuzz_main.c); off, they cost a tenth of the speed. */
extern int fuzz_tracing;
extern Z_core_instance_t core;
extern struct Z_picowire_instance_t host;

uint8_t* fuzz_mem(void);
/* Copies bytes into the core's io buffer (at most PW_IO_CAPACITY); returns how many. */
u32 fuzz_io_write(const uint8_t* d, size_t n);
/* A fresh instance initialised with config at time now (aborts when init fails). */
void fuzz_start(const char* config, u32 now);
/* Offers bytes as a host does: re-offering what the core did not consume after a send-queue drain. */
void fuzz_deliver(u32 conn, const uint8_t* d, size_t n, size_t chunk, u32 now);
/* The peer's bytes as a target's first two input bytes choose: segments of 1 + seg % 97 bytes, and a
 * peer that reads slowly (a 3-byte send window) when reader % 8 == 0. */
void fuzz_deliver_chosen(u32 conn, uint8_t seg, uint8_t reader, const uint8_t* d, size_t n, u32 now);
#endif
