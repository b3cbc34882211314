/* The engine-neutral picowire host: boots the core, queues the port's events and delivers them to the
 * core's exports; see pw_host.h for the model. The imports the core calls are in pw_imports.c. */
#include "pw_host_internal.h"
#include "pw_boot.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { EV_CONN = 1, EV_UDP, EV_DNS, EV_WIFI, EV_GPIO };
#define CONNECT_PENDING 1 /* connect_status before the port reported an outcome */

/* Wrap-safe u32 time. */
static bool reached(uint32_t now, uint32_t deadline) { return (int32_t)(now - deadline) >= 0; }
static uint32_t ms_until(uint32_t now, uint32_t deadline) {
  int32_t d = (int32_t)(deadline - now);
  return d > 0 ? (uint32_t)d : 0;
}

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

int32_t pw_host_bad_buffer(pw_host *h, const char *import, uint32_t ptr, int32_t len) {
  pw_host_logf(h, PW_LOG_WARN, "host: %s: buffer %" PRIu32 "+%" PRId32 " is outside the core's memory", import, ptr, len);
  return PW_ERR_RANGE;
}

/* ------------------------------------------------------------------ handles and queue */

int32_t pw_host_new_handle(pw_host *h) {
  int32_t id = h->next_handle;
  h->next_handle = id == INT32_MAX ? 1 : id + 1;
  return id;
}

pw_conn *pw_host_conn_new(pw_host *h, uint8_t state) {
  for (int i = 0; i < PW_HOST_MAX_CONNS; i++) {
    pw_conn *c = &h->conns[i];
    if (c->handle != 0) continue;
    memset(c, 0, offsetof(pw_conn, rx));
    c->handle = pw_host_new_handle(h);
    c->state = state;
    c->connect_status = CONNECT_PENDING;
    return c;
  }
  return NULL;
}

void pw_host_conn_free(pw_conn *c) {
  c->handle = 0;
  c->state = CS_FREE;
  c->rx_len = 0;
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
  PW_LOCK(h);
  if (h->q_len > 0) {
    *out = h->queue[h->q_head];
    h->q_head = (h->q_head + 1) % PW_HOST_EVENT_QUEUE;
    h->q_len--;
    ok = true;
  }
  PW_UNLOCK(h);
  return ok;
}

void pw_host_schedule(pw_host *h, pw_conn *c) {
  if (c->scheduled) return;
  if (push(h, EV_CONN, c->handle, 0, 0, 0)) c->scheduled = true;
}

/* ------------------------------------------------------------------ calling the core */

/** Checks an export call's outcome: a trap is logged and the core scheduled for a restart. */
static bool call_ok(pw_host *h, const char *export_name, int status) {
  if (status == PW_ENGINE_OK) return true;
  h->traps++;
  pw_host_logf(h, PW_LOG_ERROR, "host: core trapped in %s: %s; restarting the core", export_name,
               h->engine.error[0] ? h->engine.error : "unknown trap");
  pw_host_schedule_restart(h, PW_RESET_TRAP);
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

static uint8_t *io_ptr(pw_host *h) { return pw_host_span(h, h->io, PW_IO_CAPACITY); }

/* ------------------------------------------------------------------ start, restart, stop */

static void teardown(pw_host *h) {
  const pw_platform *p = h->p;
  for (int i = 0; i < PW_HOST_MAX_CONNS; i++) {
    pw_conn *c = &h->conns[i];
    if (c->handle == 0) continue;
    if (!c->gone && p->tcp_abort) p->tcp_abort(p->ctx, c->handle);
    pw_host_conn_free(c);
  }
  for (int i = 0; i < PW_HOST_MAX_LISTENERS; i++) {
    if (h->listeners[i] && p->tcp_unlisten) p->tcp_unlisten(p->ctx, h->listeners[i]);
    h->listeners[i] = 0;
  }
  for (int i = 0; i < PW_HOST_MAX_UDP; i++) {
    if (h->udps[i] && p->udp_close) p->udp_close(p->ctx, h->udps[i]);
    h->udps[i] = 0;
  }
  PW_LOCK(h);
  h->q_head = h->q_len = 0;
  for (int i = 0; i < PW_HOST_UDP_QUEUE; i++) h->datagrams[i].used = false;
  PW_UNLOCK(h);
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
  if (!CALL(h, init, &status, (int32_t)h->config_len, pw_host_now(h))) return PW_ERR_BUSY;
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
      if (r == PW_OK && h->trial) h->trial_deadline = pw_host_now(h) + (h->opt.trial_ms ? h->opt.trial_ms : PW_HOST_TRIAL_MS);
      return r;
    }
    pw_host_logf(h, PW_LOG_ERROR, "host: the core in slot %s does not start (%s); falling back", pw_slot_name(c.slot),
                 pw_err_name(r == PW_ERR_BUSY ? PW_ERR_IO : r));
    h->restart_pending = false; /* a trap while starting: this slot is passed over instead */
    teardown(h);
    skip |= 1u << c.slot;
  }
}

void pw_host_schedule_restart(pw_host *h, int32_t reason) {
  uint32_t now = pw_host_now(h);
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
  h->last_restart = pw_host_now(h);
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
  uint32_t now = pw_host_now(h);
  pw_conn *c = pw_host_conn_find(h, handle);
  if (!c) return;
  c->scheduled = false;

  if (c->state == CS_ACCEPTING) {
    int32_t r = 0;
    c->state = CS_OPEN; /* the core may already send on it (or close it) from inside tcp_accepted */
    if (!CALL(h, tcp_accepted, &r, c->listener, handle, c->peer_ip, (int32_t)c->peer_port, now)) return;
    if (!(c = pw_host_conn_find(h, handle))) return; /* the core closed it already */
    if (r < 0) {
      if (!c->gone && h->p->tcp_close) h->p->tcp_close(h->p->ctx, handle);
      pw_host_conn_free(c);
      return;
    }
  }

  if (c->state == CS_CONNECTING) {
    if (c->gone && c->connect_status == CONNECT_PENDING) c->connect_status = c->gone_reason;
    if (c->connect_status == CONNECT_PENDING) return;
    int32_t status = c->connect_status;
    if (status != PW_OK) {
      pw_host_conn_free(c); /* dead to the core as soon as it hears of it */
      CALL(h, tcp_connected, NULL, handle, status, now);
      return;
    }
    c->state = CS_OPEN;
    if (!CALL(h, tcp_connected, NULL, handle, PW_OK, now)) return;
    if (!(c = pw_host_conn_find(h, handle))) return;
  }

  PW_LOCK(h);
  uint32_t sent = c->sent;
  bool again = c->send_again;
  c->sent = 0;
  c->send_again = false;
  PW_UNLOCK(h);
  if (sent > 0 || again) {
    if (!CALL(h, tcp_sent, NULL, handle, (int32_t)sent, now)) return;
    if (!(c = pw_host_conn_find(h, handle))) return;
  }

  if (c->gone) {
    int32_t reason = c->gone_reason;
    pw_host_conn_free(c);
    CALL(h, tcp_closed, NULL, handle, reason, now);
    return;
  }

  PW_LOCK(h);
  size_t n = c->paused ? 0 : c->rx_len;
  if (n > PW_IO_CAPACITY) n = PW_IO_CAPACITY;
  uint8_t *io = n ? io_ptr(h) : NULL;
  if (io) memcpy(io, c->rx, n);
  PW_UNLOCK(h);
  if (n > 0) {
    int32_t used = 0;
    if (!CALL(h, tcp_data, &used, handle, (int32_t)n, now)) return;
    if (!(c = pw_host_conn_find(h, handle))) return;
    if (used < 0) used = 0;
    if ((size_t)used > n) used = (int32_t)n;
    PW_LOCK(h);
    memmove(c->rx, c->rx + used, c->rx_len - (size_t)used);
    c->rx_len = (uint16_t)(c->rx_len - used);
    if ((size_t)used < n) c->paused = true;
    PW_UNLOCK(h);
    if (used > 0 && h->p->tcp_recved) h->p->tcp_recved(h->p->ctx, handle, (size_t)used);
  }

  if (!c->paused && c->rx_len == 0 && c->fin && !c->fin_told && c->state == CS_OPEN) {
    c->fin_told = true;
    if (!CALL(h, tcp_closed, NULL, handle, PW_TCP_FIN, now)) return;
    if (!(c = pw_host_conn_find(h, handle))) return;
  }

  PW_LOCK(h);
  if ((!c->paused && c->rx_len > 0) || c->sent > 0 || c->send_again || c->gone || (c->fin && !c->fin_told && !c->paused && c->rx_len == 0))
    pw_host_schedule(h, c);
  PW_UNLOCK(h);
}

static void deliver(pw_host *h, const pw_event *ev) {
  uint32_t now = pw_host_now(h);
  switch (ev->type) {
    case EV_CONN:
      serve_conn(h, ev->a);
      break;
    case EV_UDP: {
      pw_datagram *d = &h->datagrams[ev->d];
      uint8_t *io = io_ptr(h);
      int32_t len = d->len;
      if (io) memcpy(io, d->data, d->len);
      PW_LOCK(h);
      d->used = false;
      PW_UNLOCK(h);
      if (io && pw_host_slot_of(h->udps, PW_HOST_MAX_UDP, ev->a) >= 0) CALL(h, udp_data, NULL, ev->a, (uint32_t)ev->b, ev->c, len, now);
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
        PW_LOCK(h);
        d->used = false;
        PW_UNLOCK(h);
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
  uint32_t now = pw_host_now(h);
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
    pw_host_schedule_restart(h, PW_RESET_WATCHDOG); /* the boot rules then roll it back */
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

  now = pw_host_now(h);
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
      pw_host_schedule_restart(h, PW_RESET_TRAP);
    }
  }

  if (h->restart_pending || h->q_len > 0 || (h->running && h->opt.check_canary && h->canary_owed > 0)) *wait_ms = 0;
  else if (h->running && h->deadline_armed) *wait_ms = (int32_t)ms_until(pw_host_now(h), h->deadline);
  /* the host's own deadlines: a pending reboot, a trial core's confirmation */
  now = pw_host_now(h);
  if (h->reboot_pending) *wait_ms = sooner(*wait_ms, ms_until(now, h->reboot_at));
  if (h->trial && h->running) *wait_ms = sooner(*wait_ms, ms_until(now, h->trial_deadline));
  return PW_OK;
}

/* ------------------------------------------------------------------ port callbacks: enqueue only */

int32_t pw_host_on_tcp_accept(pw_host *h, int32_t listener, uint32_t ip, uint16_t port) {
  int32_t r;
  PW_LOCK(h);
  pw_conn *c = h->running && pw_host_slot_of(h->listeners, PW_HOST_MAX_LISTENERS, listener) >= 0 ? pw_host_conn_new(h, CS_ACCEPTING) : NULL;
  if (!c) {
    r = h->running ? PW_ERR_NOMEM : PW_ERR_CLOSED;
  } else {
    c->listener = listener;
    c->peer_ip = ip;
    c->peer_port = port;
    pw_host_schedule(h, c);
    r = c->handle;
  }
  PW_UNLOCK(h);
  return r;
}

void pw_host_on_tcp_connected(pw_host *h, int32_t conn, int32_t status) {
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_find(h, conn);
  if (c && c->state == CS_CONNECTING && c->connect_status == CONNECT_PENDING) {
    c->connect_status = status > 0 ? PW_ERR_IO : status;
    if (status != PW_OK) c->gone = true;
    pw_host_schedule(h, c);
  }
  PW_UNLOCK(h);
}

size_t pw_host_tcp_room(pw_host *h, int32_t conn) {
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_find(h, conn);
  size_t room = c && !c->gone && !c->fin ? PW_HOST_RX_HOLD - c->rx_len : 0;
  PW_UNLOCK(h);
  return room;
}

size_t pw_host_on_tcp_data(pw_host *h, int32_t conn, const uint8_t *data, size_t len) {
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_find(h, conn);
  size_t take = len;
  if (c && !c->gone) {
    size_t room = PW_HOST_RX_HOLD - c->rx_len;
    if (take > room) take = room;
    memcpy(c->rx + c->rx_len, data, take);
    c->rx_len = (uint16_t)(c->rx_len + take);
    if (take > 0 && !c->paused) pw_host_schedule(h, c);
  }
  PW_UNLOCK(h);
  return take;
}

void pw_host_on_tcp_sent(pw_host *h, int32_t conn, size_t len) {
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_find(h, conn);
  if (c) {
    c->sent += (uint32_t)len;
    if (len == 0) c->send_again = true; /* room without an acknowledgement (the port's memory came back) */
    pw_host_schedule(h, c);
  }
  PW_UNLOCK(h);
}

void pw_host_on_tcp_fin(pw_host *h, int32_t conn) {
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_find(h, conn);
  if (c && !c->gone) {
    c->fin = true;
    pw_host_schedule(h, c);
  }
  PW_UNLOCK(h);
}

void pw_host_on_tcp_error(pw_host *h, int32_t conn, int32_t err) {
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_find(h, conn);
  if (c && !c->gone) {
    c->gone = true;
    c->gone_reason = err < 0 ? err : PW_ERR_RESET;
    pw_host_schedule(h, c);
  }
  PW_UNLOCK(h);
}

void pw_host_on_udp_data(pw_host *h, int32_t sock, uint32_t ip, uint16_t port, const uint8_t *data, size_t len) {
  PW_LOCK(h);
  if (pw_host_slot_of(h->udps, PW_HOST_MAX_UDP, sock) >= 0) {
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
  PW_UNLOCK(h);
}

void pw_host_on_dns_result(pw_host *h, int32_t req, uint32_t ip, int32_t status) {
  PW_LOCK(h);
  push(h, EV_DNS, req, (int32_t)ip, status, 0);
  PW_UNLOCK(h);
}

void pw_host_on_wifi_event(pw_host *h, int32_t kind, int32_t status) {
  PW_LOCK(h);
  push(h, EV_WIFI, kind, status, 0, -1);
  PW_UNLOCK(h);
}

/* A WiFi event with a payload for the io buffer (a scan result): it travels in a datagram slot, and the
 * core gets its length as the status. Dropped, and counted, when the slots are full. */
void pw_host_on_wifi_event_payload(pw_host *h, int32_t kind, const uint8_t *data, size_t len) {
  PW_LOCK(h);
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
  PW_UNLOCK(h);
}

void pw_host_on_gpio_edge(pw_host *h, int32_t pin, int32_t level) {
  PW_LOCK(h);
  push(h, EV_GPIO, pin, level, 0, 0);
  PW_UNLOCK(h);
}
