/* What the C host's two halves share: pw_host.c (the event loop: booting the core, queueing the port's
 * events and delivering them) and pw_imports.c (the ABI imports the core calls). Not a port's API: ports
 * use pw_host.h only. */
#ifndef PW_HOST_INTERNAL_H
#define PW_HOST_INTERNAL_H

#include "pw_host.h"

/* pw_conn.state */
enum { CS_FREE = 0, CS_ACCEPTING, CS_CONNECTING, CS_OPEN };

/* The port's lock around state its callbacks share with pw_host_service (pw_platform.h). */
#define PW_LOCK(h) do { if ((h)->p->lock) (h)->p->lock((h)->p->ctx); } while (0)
#define PW_UNLOCK(h) do { if ((h)->p->unlock) (h)->p->unlock((h)->p->ctx); } while (0)

/* PW_RAM_FUNC(name): a function the board runs from RAM, out of reach of the flash cache's misses (the Pico
 * build defines PW_HOST_RAM_FUNCS: the SDK's linker script copies .time_critical.* to RAM at boot). */
#if defined(PW_HOST_RAM_FUNCS) && PW_HOST_RAM_FUNCS
#define PW_RAM_FUNC(name) __attribute__((section(".time_critical.pw_host." #name), noinline)) name
#else
#define PW_RAM_FUNC(name) name
#endif

static inline uint32_t pw_host_now(pw_host *h) { return h->p->now_ms(h->p->ctx); }

/** The core's bytes [ptr, ptr+len), or NULL when that is not inside its memory. */
static inline uint8_t *pw_host_span(pw_host *h, uint32_t ptr, int32_t len) {
  if (!h->loaded || len < 0) return NULL;
  uint32_t size = 0;
  uint8_t *mem = h->engine.v->memory(&h->engine, &size);
  if (!mem || (uint64_t)ptr + (uint64_t)(uint32_t)len > size) return NULL;
  return mem + ptr;
}

/** Logs an import's buffer outside the core's memory; PW_ERR_RANGE. */
int32_t pw_host_bad_buffer(pw_host *h, const char *import, uint32_t ptr, int32_t len);

static inline pw_conn *pw_host_conn_find(pw_host *h, int32_t handle) {
  if (handle <= 0) return NULL;
  for (int i = 0; i < PW_HOST_MAX_CONNS; i++)
    if (h->conns[i].handle == handle) return &h->conns[i];
  return NULL;
}

/** A connection the core knows (not one still waiting for its tcp_accepted). */
static inline pw_conn *pw_host_conn_core(pw_host *h, int32_t handle) {
  pw_conn *c = pw_host_conn_find(h, handle);
  return c && c->state != CS_ACCEPTING ? c : NULL;
}

/** The index of handle in table[0..n), or -1. */
static inline int pw_host_slot_of(const int32_t *table, int n, int32_t handle) {
  for (int i = 0; i < n; i++)
    if (handle > 0 && table[i] == handle) return i;
  return -1;
}

/** A fresh handle (connections, listeners, sockets share one sequence). */
int32_t pw_host_new_handle(pw_host *h);
/** A free connection in `state` with a fresh handle, or NULL. Caller holds the lock. */
pw_conn *pw_host_conn_new(pw_host *h, uint8_t state);
/** Caller holds the lock. */
void pw_host_conn_free(pw_conn *c);
/** Queues the connection for service (once). Caller holds the lock. */
void pw_host_schedule(pw_host *h, pw_conn *c);
/** Restarts the core from pw_host_service, soon (backing off after repeated traps). */
void pw_host_schedule_restart(pw_host *h, int32_t reason);

#endif
