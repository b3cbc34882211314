/* The engine-neutral picowire host; see pw_host.h for the model. */
#include "pw_host.h"
#include "pw_boot.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { CS_FREE = 0, CS_ACCEPTING, CS_CONNECTING, CS_OPEN };
enum { EV_CONN = 1, EV_UDP, EV_DNS, EV_WIFI, EV_GPIO };
#define CONNECT_PENDING 1 /* connect_status before the port reported an outcome */

#define LOCK(h) do { if ((h)->p->lock) (h)->p->lock((h)->p->ctx); } while (0)
#define UNLOCK(h) do { if ((h)->p->unlock) (h)->p->unlock((h)->p->ctx); } while (0)

/* Wrap-safe u32 time. */
static bool reached(uint32_t now, uint32_t deadline) { return (int32_t)(now - deadline) >= 0; }
static uint32_t ms_until(uint32_t now, uint32_t deadline) {
  int32_t d = (int32_t)(deadline - now);
  return d > 0 ? (uint32_t)d : 0;
}

static uint32_t now_ms(pw_host *h) { return h->p->now_ms(h->p->ctx); }

/** A wait_ms shortened to at most ms (PW_HOST_WAIT_FOREVER is longer than any). */
static int32_t sooner(int32_t wait, uint32_t ms) {
  if (ms > INT32_MAX) ms = INT32_MAX;
  return wait < 0 || (uint32_t)wait > ms ? (int32_t)ms : wait;
}

const char *pw_err_name(int32_t err) {
  static const char *const names[] = {
      "OK", "ERR_INVAL", "ERR_NOMEM", "ERR_WOULDBLOCK", "ERR_CLOSED", "ERR_UNSUPPORTED", "ERR_NOTFOUND",
      "ERR_BUSY", "ERR_IO", "ERR_TIMEOUT", "ERR_REFUSED", "ERR_RESET", "ERR_RANGE", "ERR_CONFIG", "ERR_PROTOCOL",
  };
  if (err <= 0 && -err < (int32_t)(sizeof names / sizeof names[0])) return names[-err];
  return "?";
}

void pw_host_logf(pw_host *h, int32_t level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pw_vlogf(h->p->log, h->p->ctx, level, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------ core memory */

/** The core's bytes [ptr, ptr+len), or NULL when that is not inside its memory. */
static uint8_t *span(pw_host *h, uint32_t ptr, int32_t len) {
  if (!h->loaded || len < 0) return NULL;
  uint32_t size = 0;
  uint8_t *mem = h->engine.v->memory(&h->engine, &size);
  if (!mem || (uint64_t)ptr + (uint64_t)(uint32_t)len > size) return NULL;
  return mem + ptr;
}

static int32_t bad_buffer(pw_host *h, const char *import, uint32_t ptr, int32_t len) {
  pw_host_logf(h, PW_LOG_WARN, "host: %s: buffer %" PRIu32 "+%" PRId32 " is outside the core's memory", import, ptr, len);
  return PW_ERR_RANGE;
}

/* ------------------------------------------------------------------ handles and queue */

static int32_t new_handle(pw_host *h) {
  int32_t id = h->next_handle;
  h->next_handle = id == INT32_MAX ? 1 : id + 1;
  return id;
}

static pw_conn *conn_find(pw_host *h, int32_t handle) {
  if (handle <= 0) return NULL;
  for (int i = 0; i < PW_HOST_MAX_CONNS; i++)
    if (h->conns[i].handle == handle) return &h->conns[i];
  return NULL;
}

/** A connection the core knows (not one still waiting for its tcp_accepted). */
static pw_conn *conn_core(pw_host *h, int32_t handle) {
  pw_conn *c = conn_find(h, handle);
  return c && c->state != CS_ACCEPTING ? c : NULL;
}

static pw_conn *conn_new(pw_host *h, uint8_t state) {
  for (int i = 0; i < PW_HOST_MAX_CONNS; i++) {
    pw_conn *c = &h->conns[i];
    if (c->handle != 0) continue;
    memset(c, 0, offsetof(pw_conn, rx));
    c->handle = new_handle(h);
    c->state = state;
    c->connect_status = CONNECT_PENDING;
    return c;
  }
  return NULL;
}

static void conn_free(pw_conn *c) {
  c->handle = 0;
  c->state = CS_FREE;
  c->rx_len = 0;
}

static int slot_of(const int32_t *table, int n, int32_t handle) {
  for (int i = 0; i < n; i++)
    if (handle > 0 && table[i] == handle) return i;
  return -1;
}

/** Caller holds the lock. Connection events may use the whole queue; others leave room for them. */
static bool push(pw_host *h, uint8_t type, int32_t a, int32_t b, int32_t c, int32_t d) {
  uint32_t limit = type == EV_CONN ? PW_HOST_EVENT_QUEUE : PW_HOST_EVENT_QUEUE - PW_HOST_MAX_CONNS;
  if (h->q_len >= limit) {
    h->dropped_events++;
    return false;
  }
  pw_event *e = &h->queue[(h->q_head + h->q_len) % PW_HOST_EVENT_QUEUE];
  e->type = type;
  e->a = a;
  e->b = b;
  e->c = c;
  e->d = d;
  h->q_len++;
  return true;
}

static bool pop(pw_host *h, pw_event *out) {
  bool ok = false;
  LOCK(h);
  if (h->q_len > 0) {
    *out = h->queue[h->q_head];
    h->q_head = (h->q_head + 1) % PW_HOST_EVENT_QUEUE;
    h->q_len--;
    ok = true;
  }
  UNLOCK(h);
  return ok;
}

/** Caller holds the lock. */
static void schedule(pw_host *h, pw_conn *c) {
  if (c->scheduled) return;
  if (push(h, EV_CONN, c->handle, 0, 0, 0)) c->scheduled = true;
}

/* ------------------------------------------------------------------ calling the core */

static void schedule_restart(pw_host *h, int32_t reason);

/** Checks an export call's outcome: a trap is logged and the core scheduled for a restart. */
static bool call_ok(pw_host *h, const char *export_name, int status) {
  if (status == PW_ENGINE_OK) return true;
  h->traps++;
  pw_host_logf(h, PW_LOG_ERROR, "host: core trapped in %s: %s; restarting the core", export_name,
               h->engine.error[0] ? h->engine.error : "unknown trap");
  schedule_restart(h, PW_RESET_TRAP);
  return false;
}

static void enter(pw_host *h) {
  h->in_core = true;
  h->core_ran = true; /* the canary area is owed a full pass */
}
static int leave(pw_host *h, int status) {
  h->in_core = false;
  return status;
}

/* CALL(h, export, result pointer, args...) -> true when the call returned normally. */
#define CALL(h, name, result, ...) \
  (enter(h), call_ok((h), #name, leave((h), (h)->engine.v->name(&(h)->engine, (result), __VA_ARGS__))))
#define CALL0(h, name, result) (enter(h), call_ok((h), #name, leave((h), (h)->engine.v->name(&(h)->engine, (result)))))

static uint8_t *io_ptr(pw_host *h) { return span(h, h->io, PW_IO_CAPACITY); }

/* ------------------------------------------------------------------ start, restart, stop */

static void teardown(pw_host *h) {
  const pw_platform *p = h->p;
  for (int i = 0; i < PW_HOST_MAX_CONNS; i++) {
    pw_conn *c = &h->conns[i];
    if (c->handle == 0) continue;
    if (!c->gone && p->tcp_abort) p->tcp_abort(p->ctx, c->handle);
    conn_free(c);
  }
  for (int i = 0; i < PW_HOST_MAX_LISTENERS; i++) {
    if (h->listeners[i] && p->tcp_unlisten) p->tcp_unlisten(p->ctx, h->listeners[i]);
    h->listeners[i] = 0;
  }
  for (int i = 0; i < PW_HOST_MAX_UDP; i++) {
    if (h->udps[i] && p->udp_close) p->udp_close(p->ctx, h->udps[i]);
    h->udps[i] = 0;
  }
  LOCK(h);
  h->q_head = h->q_len = 0;
  for (int i = 0; i < PW_HOST_UDP_QUEUE; i++) h->datagrams[i].used = false;
  UNLOCK(h);
  if (h->loaded) h->engine.v->unload(&h->engine);
  h->loaded = false;
  h->running = false;
  h->deadline_armed = false;
  h->sleep_pending = false;
}

#define PW_CANARY_BYTE 0xA5u
#define PW_CANARY_WORD 0xA5A5A5A5u
typedef uint32_t __attribute__((may_alias)) pw_canary_word; /* the engine writes this memory as bytes */

static void fill_canary(pw_host *h) {
  uint32_t size = 0;
  uint8_t *mem = h->engine.v->memory(&h->engine, &size);
  if (mem && h->heap_limit > 0 && (uint32_t)h->heap_limit < size)
    memset(mem + h->heap_limit, PW_CANARY_BYTE, size - (uint32_t)h->heap_limit);
  h->canary_owed = 0;
  h->canary_next = 0;
}

/** The first word in [w, end) that is not the canary, or end. Four words per test, out of line so the
 *  loop keeps everything in registers (Cortex-M0+, GCC -O3: 4 ldr, 4 eors, 3 orrs, one branch per 16
 *  bytes, ~1.5 cycles per byte in rp2040js). */
static __attribute__((noinline)) const pw_canary_word *canary_words(const pw_canary_word *w, const pw_canary_word *end) {
  const uint32_t p = PW_CANARY_WORD;
  while (end - w >= 4) {
    uint32_t a = w[0], b = w[1], c = w[2], d = w[3];
    if (((a ^ p) | (b ^ p) | (c ^ p) | (d ^ p)) != 0) break;
    w += 4;
  }
  while (w < end && *w == p) w++;
  return w;
}

/** The first byte in mem[from, to) that lost the canary, or -1. Compares words: the byte-by-byte scan
 *  of 32 KiB cost ~262,000 cycles on the RP2040. */
static int64_t canary_scan(const uint8_t *mem, uint32_t from, uint32_t to) {
  uint32_t i = from;
  for (; i < to && ((uintptr_t)(mem + i) & 3u) != 0; i++)
    if (mem[i] != PW_CANARY_BYTE) return i;
  const pw_canary_word *w = (const pw_canary_word *)(const void *)(mem + i);
  const pw_canary_word *stop = canary_words(w, w + (to - i) / 4u);
  for (i += (uint32_t)(stop - w) * 4u; i < to; i++) /* the broken word's first byte, or the tail */
    if (mem[i] != PW_CANARY_BYTE) return i;
  return -1;
}

/** One stripe of the canary check, when the area is owed a pass (the core ran since the last full one).
 *  Offset of the first byte above the cap that lost the canary, or -1. */
static int64_t canary_broken(pw_host *h) {
  if (h->core_ran) {
    h->core_ran = false;
    h->canary_owed = UINT32_MAX; /* a full pass from the next stripe on, set below */
  }
  if (h->canary_owed == 0) return -1;
  uint32_t size = 0;
  uint8_t *mem = h->engine.v->memory(&h->engine, &size);
  if (!mem || h->heap_limit <= 0 || (uint32_t)h->heap_limit >= size) {
    h->canary_owed = 0;
    return -1;
  }
  uint32_t base = (uint32_t)h->heap_limit, area = size - base, stripe = PW_HOST_CANARY_STRIPE;
  if (stripe < 4u || stripe > area) stripe = area;
  if (h->canary_owed == UINT32_MAX) h->canary_owed = (area + stripe - 1u) / stripe;
  if (h->canary_next >= area) h->canary_next = 0;
  uint32_t from = h->canary_next, to = area - from < stripe ? area : from + stripe;
  h->canary_next = to >= area ? 0 : to;
  h->canary_owed--;
  return canary_scan(mem, base + from, base + to);
}

/** Loads and initialises a core. PW_OK; PW_ERR_BUSY when it trapped (a restart is scheduled);
 *  another PW_ERR_ when it can never work (logged). */
static int32_t load_core(pw_host *h, const uint8_t *wasm, size_t wasm_len) {
  pw_engine *e = &h->engine;
  e->host = h;
  e->error[0] = 0;
  int r = e->v->load(e, wasm, wasm_len);
  if (r == PW_ENGINE_TRAP) {
    h->loaded = true;
    call_ok(h, "start", r);
    return PW_ERR_BUSY;
  }
  if (r != PW_ENGINE_OK) {
    pw_host_logf(h, PW_LOG_ERROR, "host: cannot load the core with %s: %s", e->v->name, e->error);
    return PW_ERR_IO;
  }
  h->loaded = true;

  int32_t version = 0;
  if (!CALL0(h, abi_version, &version)) return PW_ERR_BUSY;
  if (version != PW_ABI_VERSION) {
    pw_host_logf(h, PW_LOG_ERROR,
                 "host: core speaks ABI v%" PRId32 ", this host speaks v%d: rebuild the core or update the host", version,
                 PW_ABI_VERSION);
    return PW_ERR_UNSUPPORTED;
  }
  uint32_t io = 0;
  if (!CALL0(h, io_buffer, &io)) return PW_ERR_BUSY;
  h->io = io;
  if (!io_ptr(h)) {
    pw_host_logf(h, PW_LOG_ERROR, "host: the core's io buffer %" PRIu32 "+%d lies outside its memory", io, PW_IO_CAPACITY);
    return PW_ERR_RANGE;
  }
  h->heap_limit = 0;
  if (h->opt.check_canary) {
    if (!CALL(h, stat, &h->heap_limit, PW_STAT_HEAP_LIMIT)) return PW_ERR_BUSY;
    fill_canary(h);
  }

  memcpy(io_ptr(h), h->config, h->config_len);
  int32_t status = 0;
  if (!CALL(h, init, &status, (int32_t)h->config_len, now_ms(h))) return PW_ERR_BUSY;
  if (status != PW_OK) {
    pw_host_logf(h, PW_LOG_ERROR, "host: the core refused to start: %s (%" PRId32 ")", pw_err_name(status), status);
    return status < 0 ? status : PW_ERR_CONFIG;
  }
  h->running = true;
  h->tick_due = true;
  return PW_OK;
}

/** Runs the boot rules (pw_boot.h) when the host boots from the slots, and loads the core they pick; a
 *  slot whose core does not start (not a module, another ABI, init refused or trapped) is passed over at
 *  once and the rules run again without it, down to the firmware's core, as the Node host's boot(). A
 *  core on trial stays tried and unconfirmed, so later boots roll it back too. */
static int32_t boot_core(pw_host *h) {
  uint32_t skip = 0;
  for (;;) {
    pw_boot_choice c = {0};
    if (h->slots) pw_boot_choose(h->p, skip, &c);
    h->slot = c.slot;
    h->trial = c.trial;
    memcpy(h->slot_sha256, c.sha256, sizeof c.sha256);
    h->engine.verified_sha256 = c.slot ? c.sha256 : NULL;
    int32_t r = c.slot ? load_core(h, c.image, c.length) : load_core(h, h->opt.wasm, h->opt.wasm_len);
    h->engine.verified_sha256 = NULL;
    if (r == PW_OK || !c.slot) {
      if (r == PW_OK && h->trial) h->trial_deadline = now_ms(h) + (h->opt.trial_ms ? h->opt.trial_ms : PW_HOST_TRIAL_MS);
      return r;
    }
    pw_host_logf(h, PW_LOG_ERROR, "host: the core in slot %s does not start (%s); falling back", pw_slot_name(c.slot),
                 pw_err_name(r == PW_ERR_BUSY ? PW_ERR_IO : r));
    h->restart_pending = false; /* a trap while starting: this slot is passed over instead */
    teardown(h);
    skip |= 1u << c.slot;
  }
}

static void schedule_restart(pw_host *h, int32_t reason) {
  uint32_t now = now_ms(h);
  h->running = false;
  if (h->restart_pending) return;
  h->restart_pending = true;
  h->restart_reason = reason;
  if (reason == PW_RESET_TRAP && h->restarted_once && !reached(now, h->last_restart + PW_HOST_TRAP_WINDOW_MS)) {
    h->restart_delay = h->restart_delay ? h->restart_delay * 2 : 100;
    if (h->restart_delay > PW_HOST_RESTART_MAX_MS) h->restart_delay = PW_HOST_RESTART_MAX_MS;
  } else {
    h->restart_delay = 0;
  }
  h->restart_at = now + h->restart_delay;
}

/** Pins whose fail-safe revert was pending in the dead core go to their safe level now. */
static void apply_pin_safety(pw_host *h) {
  for (int32_t i = 0; i <= PW_PIN_COUNT; i++) {
    if (h->pin_safe[i] < 0) continue;
    int32_t pin = i == PW_PIN_COUNT ? PW_PIN_LED : i;
    if (h->p->gpio_write) h->p->gpio_write(h->p->ctx, pin, h->pin_safe[i]);
    pw_host_logf(h, PW_LOG_WARN, "host: pin %d back to its safe level %d (its revert was pending)", (int)pin, (int)h->pin_safe[i]);
    h->pin_safe[i] = -1;
  }
}

static int32_t restart(pw_host *h) {
  h->restart_pending = false;
  teardown(h);
  apply_pin_safety(h);
  h->reset_reason = h->restart_reason;
  h->last_restart = now_ms(h);
  h->restarted_once = true;
  pw_host_logf(h, PW_LOG_WARN, "host: restarting the core (%s)",
               h->restart_reason == PW_RESET_TRAP       ? "after a trap"
               : h->restart_reason == PW_RESET_WATCHDOG ? "trial watchdog"
                                                        : "the core asked for it");
  int32_t r = boot_core(h);
  if (r == PW_ERR_BUSY) return PW_OK; /* trapped again: another restart is scheduled */
  if (r != PW_OK) h->fatal = true;
  return r;
}

int32_t pw_host_start(pw_host *h, const pw_host_options *opt) {
  memset(h, 0, sizeof *h);
  h->opt = *opt;
  h->p = opt->platform;
  h->engine.v = opt->engine;
  h->next_handle = 1;
  h->next_dns = 1;
  memset(h->pin_safe, -1, sizeof h->pin_safe);
  h->reset_reason = h->p->reset_reason ? h->p->reset_reason(h->p->ctx) : PW_RESET_POWER_ON;
  if (opt->config_len > PW_HOST_CONFIG_CAP || opt->config_len > PW_IO_CAPACITY) {
    pw_host_logf(h, PW_LOG_ERROR, "host: the configuration is %zu bytes; the core's io buffer holds %d",
                 opt->config_len, PW_IO_CAPACITY);
    h->fatal = true;
    return PW_ERR_RANGE;
  }
  memcpy(h->config, opt->config, opt->config_len);
  h->config_len = (uint32_t)opt->config_len;
  const pw_platform *p = h->p;
  h->slots = opt->boot_slots && opt->engine->loads_bytes && p->flash_map && p->flash_size && p->flash_read &&
             p->flash_write && p->flash_erase;
  if (opt->boot_slots && opt->engine->loads_bytes && !h->slots)
    pw_host_logf(h, PW_LOG_WARN, "host: this port does not map its flash: no core slots, no over-the-air updates");
  int32_t r = boot_core(h);
  if (r != PW_OK) {
    h->fatal = true;
    h->restart_pending = false;
    return r;
  }
  return PW_OK;
}

void pw_host_stop(pw_host *h) {
  teardown(h);
  h->fatal = true;
}

/* ------------------------------------------------------------------ delivering events */

static void serve_conn(pw_host *h, int32_t handle) {
  uint32_t now = now_ms(h);
  pw_conn *c = conn_find(h, handle);
  if (!c) return;
  c->scheduled = false;

  if (c->state == CS_ACCEPTING) {
    int32_t r = 0;
    c->state = CS_OPEN; /* the core may already send on it (or close it) from inside tcp_accepted */
    if (!CALL(h, tcp_accepted, &r, c->listener, handle, c->peer_ip, (int32_t)c->peer_port, now)) return;
    if (!(c = conn_find(h, handle))) return; /* the core closed it already */
    if (r < 0) {
      if (!c->gone && h->p->tcp_close) h->p->tcp_close(h->p->ctx, handle);
      conn_free(c);
      return;
    }
  }

  if (c->state == CS_CONNECTING) {
    if (c->gone && c->connect_status == CONNECT_PENDING) c->connect_status = c->gone_reason;
    if (c->connect_status == CONNECT_PENDING) return;
    int32_t status = c->connect_status;
    if (status != PW_OK) {
      conn_free(c); /* dead to the core as soon as it hears of it */
      CALL(h, tcp_connected, NULL, handle, status, now);
      return;
    }
    c->state = CS_OPEN;
    if (!CALL(h, tcp_connected, NULL, handle, PW_OK, now)) return;
    if (!(c = conn_find(h, handle))) return;
  }

  LOCK(h);
  uint32_t sent = c->sent;
  c->sent = 0;
  UNLOCK(h);
  if (sent > 0) {
    if (!CALL(h, tcp_sent, NULL, handle, (int32_t)sent, now)) return;
    if (!(c = conn_find(h, handle))) return;
  }

  if (c->gone) {
    int32_t reason = c->gone_reason;
    conn_free(c);
    CALL(h, tcp_closed, NULL, handle, reason, now);
    return;
  }

  LOCK(h);
  size_t n = c->paused ? 0 : c->rx_len;
  if (n > PW_IO_CAPACITY) n = PW_IO_CAPACITY;
  uint8_t *io = n ? io_ptr(h) : NULL;
  if (io) memcpy(io, c->rx, n);
  UNLOCK(h);
  if (n > 0) {
    int32_t used = 0;
    if (!CALL(h, tcp_data, &used, handle, (int32_t)n, now)) return;
    if (!(c = conn_find(h, handle))) return;
    if (used < 0) used = 0;
    if ((size_t)used > n) used = (int32_t)n;
    LOCK(h);
    memmove(c->rx, c->rx + used, c->rx_len - (size_t)used);
    c->rx_len = (uint16_t)(c->rx_len - used);
    if ((size_t)used < n) c->paused = true;
    UNLOCK(h);
    if (used > 0 && h->p->tcp_recved) h->p->tcp_recved(h->p->ctx, handle, (size_t)used);
  }

  if (!c->paused && c->rx_len == 0 && c->fin && !c->fin_told && c->state == CS_OPEN) {
    c->fin_told = true;
    if (!CALL(h, tcp_closed, NULL, handle, PW_TCP_FIN, now)) return;
    if (!(c = conn_find(h, handle))) return;
  }

  LOCK(h);
  if ((!c->paused && c->rx_len > 0) || c->sent > 0 || c->gone || (c->fin && !c->fin_told && !c->paused && c->rx_len == 0))
    schedule(h, c);
  UNLOCK(h);
}

static void deliver(pw_host *h, const pw_event *ev) {
  uint32_t now = now_ms(h);
  switch (ev->type) {
    case EV_CONN:
      serve_conn(h, ev->a);
      break;
    case EV_UDP: {
      pw_datagram *d = &h->datagrams[ev->d];
      uint8_t *io = io_ptr(h);
      int32_t len = d->len;
      if (io) memcpy(io, d->data, d->len);
      LOCK(h);
      d->used = false;
      UNLOCK(h);
      if (io && slot_of(h->udps, PW_HOST_MAX_UDP, ev->a) >= 0) CALL(h, udp_data, NULL, ev->a, (uint32_t)ev->b, ev->c, len, now);
      break;
    }
    case EV_DNS:
      CALL(h, dns_result, NULL, ev->a, (uint32_t)ev->b, ev->c, now);
      break;
    case EV_WIFI:
      if (ev->d >= 0) { /* its payload goes into the io buffer first */
        pw_datagram *d = &h->datagrams[ev->d];
        uint8_t *io = io_ptr(h);
        if (io) memcpy(io, d->data, d->len);
        LOCK(h);
        d->used = false;
        UNLOCK(h);
        if (!io) break;
      }
      CALL(h, wifi_event, NULL, ev->a, ev->b, now);
      break;
    case EV_GPIO:
      CALL(h, gpio_edge, NULL, ev->a, ev->b, now);
      break;
  }
}

int32_t pw_host_service(pw_host *h, int32_t *wait_ms) {
  *wait_ms = PW_HOST_WAIT_FOREVER;
  if (h->fatal) return PW_ERR_CLOSED;
  if (h->in_core) {
    pw_host_logf(h, PW_LOG_ERROR, "host: pw_host_service called from inside a core call (a port bug)");
    return PW_ERR_BUSY;
  }
  uint32_t now = now_ms(h);
  if (h->rebooting) return PW_OK;
  if (h->reboot_pending && reached(now, h->reboot_at)) {
    h->reboot_pending = false;
    h->rebooting = true;
    h->p->reboot(h->p->ctx, h->reboot_kind); /* the Pico's does not return */
    return PW_OK;
  }
  if (h->trial && h->running && reached(now, h->trial_deadline)) {
    h->trial = false;
    pw_host_logf(h, PW_LOG_ERROR, "host: the new core in slot %s did not confirm itself within %lu ms: watchdog restart",
                 pw_slot_name(h->slot), (unsigned long)(h->opt.trial_ms ? h->opt.trial_ms : PW_HOST_TRIAL_MS));
    if (h->p->reboot) {
      h->rebooting = true;
      h->p->reboot(h->p->ctx, PW_REBOOT_WATCHDOG);
      return PW_OK;
    }
    schedule_restart(h, PW_RESET_WATCHDOG); /* the boot rules then roll it back */
  }
  if (h->restart_pending) {
    if (!reached(now, h->restart_at)) {
      *wait_ms = (int32_t)ms_until(now, h->restart_at);
      return PW_OK;
    }
    int32_t r = restart(h);
    if (r != PW_OK) return r;
    if (h->restart_pending) {
      *wait_ms = 0;
      return PW_OK;
    }
  }
  if (!h->running) return PW_OK;

  if (h->dropped_events + h->dropped_datagrams != h->reported_drops) {
    h->reported_drops = h->dropped_events + h->dropped_datagrams;
    pw_host_logf(h, PW_LOG_WARN, "host: dropped %" PRIu32 " events and %" PRIu32 " datagrams so far (queue full)", h->dropped_events,
                 h->dropped_datagrams);
  }

  /* Only the events queued before this call: what they cause waits for the next round. */
  uint32_t batch = h->q_len;
  pw_event ev;
  while (batch-- > 0 && h->running && pop(h, &ev)) {
    deliver(h, &ev);
    h->tick_due = true;
    if (h->sleep_pending && h->running) {
      h->sleep_pending = false;
      h->p->sleep(h->p->ctx, h->sleep_kind, h->sleep_ms);
    }
  }

  now = now_ms(h);
  if (h->running && (h->tick_due || (h->deadline_armed && reached(now, h->deadline)))) {
    int32_t next = 0;
    h->tick_due = false;
    if (CALL(h, tick, &next, now)) {
      h->deadline_armed = next >= 0;
      h->deadline = now + (uint32_t)(next >= 0 ? next : 0);
    }
  }

  /* After the core ran (events or tick, this round or an earlier one): the next stripe of the area above
   * the cap, until a full pass has been made since the core last ran. */
  if (h->running && h->opt.check_canary) {
    int64_t at = canary_broken(h);
    if (at >= 0) {
      pw_host_logf(h, PW_LOG_ERROR, "host: core wrote at offset %lld, above its %" PRId32 "-byte memory cap (a fault on the "
                   "board); restarting the core", (long long)at, h->heap_limit);
      schedule_restart(h, PW_RESET_TRAP);
    }
  }

  if (h->restart_pending || h->q_len > 0 || (h->running && h->opt.check_canary && h->canary_owed > 0)) *wait_ms = 0;
  else if (h->running && h->deadline_armed) *wait_ms = (int32_t)ms_until(now_ms(h), h->deadline);
  /* the host's own deadlines: a pending reboot, a trial core's confirmation */
  now = now_ms(h);
  if (h->reboot_pending) *wait_ms = sooner(*wait_ms, ms_until(now, h->reboot_at));
  if (h->trial && h->running) *wait_ms = sooner(*wait_ms, ms_until(now, h->trial_deadline));
  return PW_OK;
}

/* ------------------------------------------------------------------ port callbacks: enqueue only */

int32_t pw_host_on_tcp_accept(pw_host *h, int32_t listener, uint32_t ip, uint16_t port) {
  int32_t r;
  LOCK(h);
  pw_conn *c = h->running && slot_of(h->listeners, PW_HOST_MAX_LISTENERS, listener) >= 0 ? conn_new(h, CS_ACCEPTING) : NULL;
  if (!c) {
    r = h->running ? PW_ERR_NOMEM : PW_ERR_CLOSED;
  } else {
    c->listener = listener;
    c->peer_ip = ip;
    c->peer_port = port;
    schedule(h, c);
    r = c->handle;
  }
  UNLOCK(h);
  return r;
}

void pw_host_on_tcp_connected(pw_host *h, int32_t conn, int32_t status) {
  LOCK(h);
  pw_conn *c = conn_find(h, conn);
  if (c && c->state == CS_CONNECTING && c->connect_status == CONNECT_PENDING) {
    c->connect_status = status > 0 ? PW_ERR_IO : status;
    if (status != PW_OK) c->gone = true;
    schedule(h, c);
  }
  UNLOCK(h);
}

size_t pw_host_tcp_room(pw_host *h, int32_t conn) {
  LOCK(h);
  pw_conn *c = conn_find(h, conn);
  size_t room = c && !c->gone && !c->fin ? PW_HOST_RX_HOLD - c->rx_len : 0;
  UNLOCK(h);
  return room;
}

size_t pw_host_on_tcp_data(pw_host *h, int32_t conn, const uint8_t *data, size_t len) {
  LOCK(h);
  pw_conn *c = conn_find(h, conn);
  size_t take = len;
  if (c && !c->gone) {
    size_t room = PW_HOST_RX_HOLD - c->rx_len;
    if (take > room) take = room;
    memcpy(c->rx + c->rx_len, data, take);
    c->rx_len = (uint16_t)(c->rx_len + take);
    if (take > 0 && !c->paused) schedule(h, c);
  }
  UNLOCK(h);
  return take;
}

void pw_host_on_tcp_sent(pw_host *h, int32_t conn, size_t len) {
  LOCK(h);
  pw_conn *c = conn_find(h, conn);
  if (c && len > 0) {
    c->sent += (uint32_t)len;
    schedule(h, c);
  }
  UNLOCK(h);
}

void pw_host_on_tcp_fin(pw_host *h, int32_t conn) {
  LOCK(h);
  pw_conn *c = conn_find(h, conn);
  if (c && !c->gone) {
    c->fin = true;
    schedule(h, c);
  }
  UNLOCK(h);
}

void pw_host_on_tcp_error(pw_host *h, int32_t conn, int32_t err) {
  LOCK(h);
  pw_conn *c = conn_find(h, conn);
  if (c && !c->gone) {
    c->gone = true;
    c->gone_reason = err < 0 ? err : PW_ERR_RESET;
    schedule(h, c);
  }
  UNLOCK(h);
}

void pw_host_on_udp_data(pw_host *h, int32_t sock, uint32_t ip, uint16_t port, const uint8_t *data, size_t len) {
  LOCK(h);
  if (slot_of(h->udps, PW_HOST_MAX_UDP, sock) >= 0) {
    int slot = -1;
    for (int i = 0; i < PW_HOST_UDP_QUEUE && len <= PW_IO_CAPACITY; i++)
      if (!h->datagrams[i].used) {
        slot = i;
        break;
      }
    if (slot < 0 || !push(h, EV_UDP, sock, (int32_t)ip, port, slot)) {
      h->dropped_datagrams++;
    } else {
      h->datagrams[slot].used = true;
      h->datagrams[slot].len = (uint16_t)len;
      memcpy(h->datagrams[slot].data, data, len);
    }
  }
  UNLOCK(h);
}

void pw_host_on_dns_result(pw_host *h, int32_t req, uint32_t ip, int32_t status) {
  LOCK(h);
  push(h, EV_DNS, req, (int32_t)ip, status, 0);
  UNLOCK(h);
}

void pw_host_on_wifi_event(pw_host *h, int32_t kind, int32_t status) {
  LOCK(h);
  push(h, EV_WIFI, kind, status, 0, -1);
  UNLOCK(h);
}

/* A WiFi event with a payload for the io buffer (a scan result): it travels in a datagram slot, and the
 * core gets its length as the status. Dropped, and counted, when the slots are full. */
void pw_host_on_wifi_event_payload(pw_host *h, int32_t kind, const uint8_t *data, size_t len) {
  LOCK(h);
  int slot = -1;
  for (int i = 0; i < PW_HOST_UDP_QUEUE && len <= PW_IO_CAPACITY; i++)
    if (!h->datagrams[i].used) {
      slot = i;
      break;
    }
  if (slot < 0 || !push(h, EV_WIFI, kind, (int32_t)len, 0, slot)) {
    h->dropped_datagrams++;
  } else {
    h->datagrams[slot].used = true;
    h->datagrams[slot].len = (uint16_t)len;
    memcpy(h->datagrams[slot].data, data, len);
  }
  UNLOCK(h);
}

void pw_host_on_gpio_edge(pw_host *h, int32_t pin, int32_t level) {
  LOCK(h);
  push(h, EV_GPIO, pin, level, 0, 0);
  UNLOCK(h);
}

/* ------------------------------------------------------------------ the ABI imports */

#define P (h->p)
/* Forward to an optional platform function: PW_ERR_UNSUPPORTED when the port has none. */
#define FORWARD(fn, ...) return P->fn ? P->fn(P->ctx, __VA_ARGS__) : PW_ERR_UNSUPPORTED
#define FORWARD0(fn) return P->fn ? P->fn(P->ctx) : PW_ERR_UNSUPPORTED

void pw_import_log(pw_host *h, int32_t level, uint32_t msg, int32_t len) {
  uint8_t *s = span(h, msg, len);
  if (!s) {
    bad_buffer(h, "log", msg, len);
    return;
  }
  P->log(P->ctx, level, (const char *)s, (size_t)len);
}

void pw_import_random_fill(pw_host *h, uint32_t dst, int32_t len) {
  uint8_t *d = span(h, dst, len);
  if (!d) {
    bad_buffer(h, "random_fill", dst, len);
    return;
  }
  if (P->random_fill && P->random_fill(P->ctx, d, (size_t)len) == PW_OK) return;
  /* No entropy source: say so loudly, every time, rather than hand out predictable bytes quietly. */
  pw_host_logf(h, PW_LOG_ERROR, "host: random_fill: this platform has no random source; returning zeros");
  memset(d, 0, (size_t)len);
}

int32_t pw_import_board_id(pw_host *h, uint32_t dst, int32_t cap) {
  uint8_t *d = span(h, dst, cap);
  if (!d) return bad_buffer(h, "board_id", dst, cap);
  FORWARD(board_id, d, (size_t)cap);
}

int32_t pw_import_free_heap(pw_host *h) { FORWARD0(free_heap); }

int32_t pw_import_reset_reason(pw_host *h) { return h->reset_reason; }

int32_t pw_import_temperature_mc(pw_host *h) { FORWARD0(temperature_mc); }

int32_t pw_import_tcp_listen(pw_host *h, int32_t port) {
  if (port < 1 || port > 65535) return PW_ERR_INVAL;
  if (!P->tcp_listen) return PW_ERR_UNSUPPORTED;
  int slot = -1;
  for (int i = 0; i < PW_HOST_MAX_LISTENERS && slot < 0; i++)
    if (h->listeners[i] == 0) slot = i;
  if (slot < 0) return PW_ERR_NOMEM;
  int32_t handle = new_handle(h);
  int32_t r = P->tcp_listen(P->ctx, handle, (uint16_t)port);
  if (r != PW_OK) return r < 0 ? r : PW_ERR_IO;
  h->listeners[slot] = handle;
  return handle;
}

int32_t pw_import_tcp_connect(pw_host *h, uint32_t ip, int32_t port) {
  if (port < 1 || port > 65535 || ip == 0) return PW_ERR_INVAL;
  if (!P->tcp_connect) return PW_ERR_UNSUPPORTED;
  LOCK(h);
  pw_conn *c = conn_new(h, CS_CONNECTING);
  UNLOCK(h);
  if (!c) return PW_ERR_NOMEM;
  int32_t handle = c->handle;
  int32_t r = P->tcp_connect(P->ctx, handle, ip, (uint16_t)port);
  if (r != PW_OK) {
    LOCK(h);
    conn_free(c);
    UNLOCK(h);
    return r < 0 ? r : PW_ERR_IO;
  }
  return handle;
}

int32_t pw_import_tcp_send(pw_host *h, int32_t conn, uint32_t src, int32_t len) {
  pw_conn *c = conn_core(h, conn);
  if (!c) return PW_ERR_NOTFOUND;
  if (c->gone) return PW_ERR_CLOSED;
  if (c->state != CS_OPEN) return PW_ERR_BUSY; /* still connecting */
  uint8_t *s = span(h, src, len);
  if (!s) return bad_buffer(h, "tcp_send", src, len);
  if (len == 0) return 0;
  FORWARD(tcp_send, conn, s, (size_t)len);
}

void pw_import_tcp_resume(pw_host *h, int32_t conn) {
  LOCK(h);
  pw_conn *c = conn_core(h, conn);
  if (c) {
    c->paused = false;
    if (c->rx_len > 0 || (c->fin && !c->fin_told)) schedule(h, c);
  }
  UNLOCK(h);
}

static int32_t end_conn(pw_host *h, int32_t conn, bool graceful) {
  LOCK(h);
  pw_conn *c = conn_core(h, conn);
  bool tell = c && !c->gone;
  if (c) conn_free(c);
  UNLOCK(h);
  if (!c) return PW_ERR_NOTFOUND;
  if (tell) {
    if (graceful && P->tcp_close) P->tcp_close(P->ctx, conn);
    else if (P->tcp_abort) P->tcp_abort(P->ctx, conn);
  }
  return PW_OK;
}

int32_t pw_import_tcp_close(pw_host *h, int32_t conn) { return end_conn(h, conn, true); }

void pw_import_tcp_abort(pw_host *h, int32_t conn) { end_conn(h, conn, false); }

int32_t pw_import_udp_open(pw_host *h, int32_t port, int32_t iface) {
  if (port < 0 || port > 65535) return PW_ERR_INVAL;
  if (!P->udp_open) return PW_ERR_UNSUPPORTED;
  int slot = -1;
  for (int i = 0; i < PW_HOST_MAX_UDP && slot < 0; i++)
    if (h->udps[i] == 0) slot = i;
  if (slot < 0) return PW_ERR_NOMEM;
  int32_t handle = new_handle(h);
  int32_t r = P->udp_open(P->ctx, handle, (uint16_t)port, iface);
  if (r != PW_OK) return r < 0 ? r : PW_ERR_IO;
  LOCK(h);
  h->udps[slot] = handle;
  UNLOCK(h);
  return handle;
}

int32_t pw_import_udp_send(pw_host *h, int32_t sock, uint32_t ip, int32_t port, uint32_t src, int32_t len) {
  if (slot_of(h->udps, PW_HOST_MAX_UDP, sock) < 0) return PW_ERR_NOTFOUND;
  if (port < 1 || port > 65535) return PW_ERR_INVAL;
  uint8_t *s = span(h, src, len);
  if (!s) return bad_buffer(h, "udp_send", src, len);
  FORWARD(udp_send, sock, ip, (uint16_t)port, s, (size_t)len);
}

void pw_import_udp_close(pw_host *h, int32_t sock) {
  int slot = slot_of(h->udps, PW_HOST_MAX_UDP, sock);
  if (slot < 0) return;
  LOCK(h);
  h->udps[slot] = 0;
  UNLOCK(h);
  if (P->udp_close) P->udp_close(P->ctx, sock);
}

int32_t pw_import_dns_resolve(pw_host *h, uint32_t name, int32_t len) {
  uint8_t *s = span(h, name, len);
  if (!s) return bad_buffer(h, "dns_resolve", name, len);
  if (!P->dns_resolve) return PW_ERR_UNSUPPORTED;
  int32_t req = h->next_dns;
  h->next_dns = req == INT32_MAX ? 1 : req + 1;
  int32_t r = P->dns_resolve(P->ctx, req, (const char *)s, (size_t)len);
  return r == PW_OK ? req : (r < 0 ? r : PW_ERR_IO);
}

int32_t pw_import_wifi_start_ap(pw_host *h, uint32_t ssid, int32_t ssid_len, uint32_t pass, int32_t pass_len,
                                int32_t channel) {
  uint8_t *s = span(h, ssid, ssid_len), *k = span(h, pass, pass_len);
  if (!s || !k) return bad_buffer(h, "wifi_start_ap", s ? pass : ssid, s ? pass_len : ssid_len);
  FORWARD(wifi_start_ap, s, (size_t)ssid_len, k, (size_t)pass_len, channel);
}

int32_t pw_import_wifi_join(pw_host *h, uint32_t ssid, int32_t ssid_len, uint32_t pass, int32_t pass_len) {
  uint8_t *s = span(h, ssid, ssid_len), *k = span(h, pass, pass_len);
  if (!s || !k) return bad_buffer(h, "wifi_join", s ? pass : ssid, s ? pass_len : ssid_len);
  FORWARD(wifi_join, s, (size_t)ssid_len, k, (size_t)pass_len);
}

int32_t pw_import_wifi_scan(pw_host *h) { FORWARD0(wifi_scan); }

int32_t pw_import_wifi_stop_ap(pw_host *h) { FORWARD0(wifi_stop_ap); }

int32_t pw_import_wifi_mac(pw_host *h, int32_t iface, uint32_t dst) {
  uint8_t *d = span(h, dst, 6);
  if (!d) return bad_buffer(h, "wifi_mac", dst, 6);
  FORWARD(wifi_mac, iface, d);
}

int32_t pw_import_wifi_status(pw_host *h, int32_t iface) { FORWARD(wifi_status, iface); }

uint32_t pw_import_wifi_ip(pw_host *h, int32_t iface) { return P->wifi_ip ? P->wifi_ip(P->ctx, iface) : 0; }

int32_t pw_import_wifi_rssi(pw_host *h) { FORWARD0(wifi_rssi); }

int32_t pw_import_gpio_setup(pw_host *h, int32_t pin, int32_t mode, int32_t pull) { FORWARD(gpio_setup, pin, mode, pull); }

int32_t pw_import_gpio_write(pw_host *h, int32_t pin, int32_t value) { FORWARD(gpio_write, pin, value); }

int32_t pw_import_gpio_read(pw_host *h, int32_t pin) { FORWARD(gpio_read, pin); }

void pw_import_pin_safe(pw_host *h, int32_t pin, int32_t value) {
  int32_t i = pin == PW_PIN_LED ? PW_PIN_COUNT : pin;
  if (i < 0 || i > PW_PIN_COUNT || value < -1 || value > 1) return;
  h->pin_safe[i] = (int8_t)value;
}

int32_t pw_import_gpio_watch(pw_host *h, int32_t pin, int32_t edges) { FORWARD(gpio_watch, pin, edges); }

int32_t pw_import_pwm_set(pw_host *h, int32_t pin, int32_t freq_hz, int32_t duty) { FORWARD(pwm_set, pin, freq_hz, duty); }

int32_t pw_import_adc_read(pw_host *h, int32_t channel) { FORWARD(adc_read, channel); }

int32_t pw_import_pixels_show(pw_host *h, int32_t pin, uint32_t src, int32_t len) {
  uint8_t *s = span(h, src, len);
  if (!s) return bad_buffer(h, "pixels_show", src, len);
  FORWARD(pixels_show, pin, s, (size_t)len);
}

static bool is_slot(int32_t region) { return region == PW_REGION_SLOT_A || region == PW_REGION_SLOT_B; }

/* A host that does not boot from the core slots (wasm2c: the core is compiled into the firmware) offers
 * none, so the core refuses an over-the-air update with "needs new firmware" instead of writing an image
 * that would never run. */
int32_t pw_import_flash_size(pw_host *h, int32_t region) {
  if (is_slot(region) && !h->slots) return PW_ERR_UNSUPPORTED;
  FORWARD(flash_size, region);
}

/** The running core's image is never written: the engine runs it from that flash (wasm3 parses it in
 *  place; on the Pico, XIP). Only its header page may be programmed (the core's "confirmed" word). */
static bool touches_running_image(pw_host *h, bool write, int32_t region, int32_t offset, int32_t len) {
  if (!h->slot || region != h->slot) return false;
  if (write && offset == 0 && len <= (int32_t)PW_SLOT_HEADER_BYTES) return false;
  pw_host_logf(h, PW_LOG_WARN, "host: flash_%s of slot %s at %d refused: the running core's image is there",
               write ? "write" : "erase", pw_slot_name(region), (int)offset);
  return true;
}

int32_t pw_import_flash_read(pw_host *h, int32_t region, int32_t offset, uint32_t dst, int32_t len) {
  uint8_t *d = span(h, dst, len);
  if (!d) return bad_buffer(h, "flash_read", dst, len);
  if (offset < 0) return PW_ERR_RANGE;
  FORWARD(flash_read, region, (uint32_t)offset, d, (size_t)len);
}

int32_t pw_import_flash_write(pw_host *h, int32_t region, int32_t offset, uint32_t src, int32_t len) {
  uint8_t *s = span(h, src, len);
  if (!s) return bad_buffer(h, "flash_write", src, len);
  if (offset < 0) return PW_ERR_RANGE;
  if (is_slot(region) && !h->slots) return PW_ERR_UNSUPPORTED;
  if (touches_running_image(h, true, region, offset, len)) return PW_ERR_BUSY;
  if (!P->flash_write) return PW_ERR_UNSUPPORTED;
  int32_t r = P->flash_write(P->ctx, region, (uint32_t)offset, s, (size_t)len);
  /* a core on trial confirms itself by programming its own header's "confirmed" word */
  pw_slot_info info;
  if (r == PW_OK && h->trial && region == h->slot && offset == 0 && pw_slot_read(P, region, &info) && info.confirmed) {
    h->trial = false;
    pw_host_logf(h, PW_LOG_INFO, "host: the new core in slot %s confirmed itself", pw_slot_name(region));
  }
  return r;
}

int32_t pw_import_flash_erase(pw_host *h, int32_t region, int32_t offset, int32_t len) {
  if (offset < 0 || len < 0) return PW_ERR_RANGE;
  if (is_slot(region) && !h->slots) return PW_ERR_UNSUPPORTED;
  if (touches_running_image(h, false, region, offset, len)) return PW_ERR_BUSY;
  FORWARD(flash_erase, region, (uint32_t)offset, (size_t)len);
}

/* Assets the host itself answers, whatever the port: "core.engine" (wasm3, wasm2c) and "core.slot" (A, B,
 * firmware), which the core reports in get_info as the Node host's do. Their ids lie above any port's. */
enum { HOST_ASSET_ENGINE = 0x7FFFFF00, HOST_ASSET_SLOT };

static const char *host_asset(pw_host *h, int32_t asset) {
  if (asset == HOST_ASSET_ENGINE) return h->engine.v->name;
  if (asset == HOST_ASSET_SLOT) return pw_slot_name(h->slot);
  return NULL;
}

int32_t pw_import_asset_find(pw_host *h, uint32_t name, int32_t len) {
  uint8_t *s = span(h, name, len);
  if (!s) return bad_buffer(h, "asset_find", name, len);
  for (int32_t a = HOST_ASSET_ENGINE; a <= HOST_ASSET_SLOT; a++) {
    static const char *const names[] = {"core.engine", "core.slot"};
    const char *n = names[a - HOST_ASSET_ENGINE];
    if ((size_t)len == strlen(n) && memcmp(s, n, (size_t)len) == 0) return a;
  }
  FORWARD(asset_find, (const char *)s, (size_t)len);
}

int32_t pw_import_asset_size(pw_host *h, int32_t asset) {
  const char *t = host_asset(h, asset);
  if (t) return (int32_t)strlen(t);
  FORWARD(asset_size, asset);
}

int32_t pw_import_asset_read(pw_host *h, int32_t asset, int32_t offset, uint32_t dst, int32_t len) {
  uint8_t *d = span(h, dst, len);
  if (!d) return bad_buffer(h, "asset_read", dst, len);
  if (offset < 0) return PW_ERR_RANGE;
  const char *t = host_asset(h, asset);
  if (t) {
    size_t size = strlen(t);
    if ((size_t)offset > size) return PW_ERR_RANGE;
    size_t n = size - (size_t)offset < (size_t)len ? size - (size_t)offset : (size_t)len;
    memcpy(d, t + offset, n);
    return (int32_t)n;
  }
  FORWARD(asset_read, asset, (uint32_t)offset, d, (size_t)len);
}

void pw_import_reset(pw_host *h, int32_t kind) {
  if ((kind == PW_RESET_KIND_BOARD || kind == PW_RESET_KIND_BOOTSEL) && P->reboot) {
    /* from pw_host_service, a moment later: the reply the core just queued leaves first */
    if (!h->reboot_pending) {
      h->reboot_pending = true;
      h->reboot_kind = kind;
      h->reboot_at = now_ms(h) + PW_HOST_REBOOT_DELAY_MS;
    }
    return;
  }
  if (kind != PW_RESET_KIND_CORE)
    pw_host_logf(h, PW_LOG_WARN, "host: reset kind %" PRId32 ": this platform cannot reboot; restarting the core", kind);
  schedule_restart(h, PW_RESET_SOFTWARE);
}

int32_t pw_import_sleep(pw_host *h, int32_t kind, int32_t ms) {
  if (!P->sleep) return PW_ERR_UNSUPPORTED;
  if (kind != PW_SLEEP_LIGHT && kind != PW_SLEEP_DEEP) return PW_ERR_INVAL;
  if (ms < 0) return PW_ERR_RANGE;
  h->sleep_pending = true;
  h->sleep_kind = kind;
  h->sleep_ms = ms;
  return PW_OK;
}
