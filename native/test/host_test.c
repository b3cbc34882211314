/* Unit tests of the engine-neutral host (native/host/pw_host.c, pw_imports.c) with a scripted fake engine and a fake
 * platform: the event queue, flow control, FIN ordering, traps and restarts, the ABI check — what the
 * real core cannot be made to do from outside. Prints one line per check group; exit status 0 = pass.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pw_host.h"
#include "fake_flash.h"

#include "check.h"

/* ------------------------------------------------------------------ fake platform */

static uint32_t clock_ms = 1000;
static char logbuf[16384];
static int closes, aborts, unlistens, listens;
static int32_t last_closed, last_aborted;
static size_t send_cap = 1 << 20;

static uint32_t f_now(void *ctx) { return clock_ms; }
static void f_log(void *ctx, int32_t level, const char *msg, size_t len) {
  size_t used = strlen(logbuf);
  snprintf(logbuf + used, sizeof logbuf - used, "[%d] %.*s\n", level, (int)len, msg);
}
static int32_t f_listen(void *ctx, int32_t l, uint16_t port) { listens++; return PW_OK; }
static void f_unlisten(void *ctx, int32_t l) { unlistens++; }
static int32_t f_send(void *ctx, int32_t c, const uint8_t *s, size_t len) { return (int32_t)(len < send_cap ? len : send_cap); }
static void f_close(void *ctx, int32_t c) { closes++; last_closed = c; }
static void f_abort(void *ctx, int32_t c) { aborts++; last_aborted = c; }

static pw_platform platform = {
    .now_ms = f_now, .log = f_log, .tcp_listen = f_listen, .tcp_unlisten = f_unlisten,
    .tcp_send = f_send, .tcp_close = f_close, .tcp_abort = f_abort,
};

/* ------------------------------------------------------------------ fake engine: a scripted core */

static uint8_t mem[65536];
#define IO 1024
static int depth, max_depth, loads, inits;
static int32_t abi = PW_ABI_VERSION;
static int32_t init_result = PW_OK;
static char init_config[PW_IO_CAPACITY + 1];
static int32_t tick_result = PW_TICK_NONE;
static int32_t accept_result = PW_OK;
static int32_t consume_limit = 1 << 30; /* tcp_data consumes at most this much */
static bool trap_in_data, service_from_data, write_above_cap, send_on_accept;
static int32_t sent_on_accept;
static int32_t service_result_inside = 1;
static char events[8192]; /* what the core saw, in order */
static char received[8192];
static int32_t listener_handle;
static pw_host host;

static void ev(const char *fmt, ...) {
  size_t used = strlen(events);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(events + used, sizeof events - used, fmt, ap);
  va_end(ap);
}

#define ENTER() do { if (++depth > max_depth) max_depth = depth; } while (0)
#define LEAVE() depth--

static const uint8_t *loaded_wasm; /* what the host gave the last load */
static size_t loaded_len;
static int e_load(pw_engine *e, const uint8_t *w, size_t n) {
  loads++;
  loaded_wasm = w;
  loaded_len = n;
  memset(mem, 0, sizeof mem);
  if (w && n && w[0] == 0xEE) { /* a slot image the tests mark as not a module */
    snprintf(e->error, sizeof e->error, "not a module (test)");
    return PW_ENGINE_FAILED;
  }
  return PW_ENGINE_OK;
}
static void e_unload(pw_engine *e) {}
static uint8_t *e_memory(pw_engine *e, uint32_t *size) { *size = sizeof mem; return mem; }
static const char *e_sha(pw_engine *e) { return NULL; }
static int e_abi_version(pw_engine *e, int32_t *r) { *r = abi; return PW_ENGINE_OK; }
static int e_io_buffer(pw_engine *e, uint32_t *r) { *r = IO; return PW_ENGINE_OK; }
static int e_init(pw_engine *e, int32_t *r, int32_t len, uint32_t now) {
  ENTER();
  inits++;
  memcpy(init_config, mem + IO, (size_t)len);
  init_config[len] = 0;
  listener_handle = pw_import_tcp_listen(e->host, 80);
  *r = init_result;
  LEAVE();
  return PW_ENGINE_OK;
}
static int e_tick(pw_engine *e, int32_t *r, uint32_t now) { ENTER(); ev("tick;"); *r = tick_result; LEAVE(); return PW_ENGINE_OK; }
static int e_tcp_accepted(pw_engine *e, int32_t *r, int32_t l, int32_t c, uint32_t ip, int32_t port, uint32_t now) {
  ENTER();
  ev("accepted %d;", c);
  if (send_on_accept) sent_on_accept = pw_import_tcp_send(e->host, c, IO, 3);
  *r = accept_result;
  LEAVE();
  return PW_ENGINE_OK;
}
static int e_tcp_connected(pw_engine *e, void *r, int32_t c, int32_t status, uint32_t now) { ENTER(); ev("connected %d %d;", c, status); LEAVE(); return PW_ENGINE_OK; }
static int e_tcp_data(pw_engine *e, int32_t *r, int32_t c, int32_t len, uint32_t now) {
  ENTER();
  if (trap_in_data) {
    snprintf(e->error, sizeof e->error, "unreachable executed (test)");
    LEAVE();
    return PW_ENGINE_TRAP;
  }
  if (write_above_cap) mem[40000] = 1;
  if (service_from_data) {
    int32_t w;
    service_result_inside = pw_host_service(e->host, &w);
  }
  int32_t take = len < consume_limit ? len : consume_limit;
  ev("data %d %d/%d;", c, take, len);
  strncat(received, (const char *)mem + IO, (size_t)take);
  *r = take;
  LEAVE();
  return PW_ENGINE_OK;
}
static int e_tcp_sent(pw_engine *e, void *r, int32_t c, int32_t len, uint32_t now) { ENTER(); ev("sent %d %d;", c, len); LEAVE(); return PW_ENGINE_OK; }
static int e_tcp_closed(pw_engine *e, void *r, int32_t c, int32_t reason, uint32_t now) { ENTER(); ev("closed %d %d;", c, reason); LEAVE(); return PW_ENGINE_OK; }
static int e_udp_data(pw_engine *e, void *r, int32_t s, uint32_t ip, int32_t port, int32_t len, uint32_t now) { return PW_ENGINE_OK; }
static int e_dns_result(pw_engine *e, void *r, int32_t req, uint32_t ip, int32_t status, uint32_t now) { return PW_ENGINE_OK; }
static int e_wifi_event(pw_engine *e, void *r, int32_t k, int32_t s, uint32_t now) {
  ENTER();
  ev("wifi %d %d %.*s;", k, s, k == PW_WIFI_EV_SCAN_RESULT && s > 4 ? (int)mem[IO + 3] : 0, (const char *)mem + IO + 4);
  LEAVE();
  return PW_ENGINE_OK;
}
static int e_gpio_edge(pw_engine *e, void *r, int32_t pin, int32_t level, uint32_t now) { ev("edge %d %d;", pin, level); return PW_ENGINE_OK; }
static int e_stat(pw_engine *e, int32_t *r, int32_t kind) { *r = kind == PW_STAT_HEAP_LIMIT ? 32768 : 0; return PW_ENGINE_OK; }
static int e_rgb_parse(pw_engine *e, int32_t *r, int32_t len, int32_t f) { *r = 0; return PW_ENGINE_OK; }
static int e_rgb_format(pw_engine *e, int32_t *r, int32_t rgb, int32_t f) { *r = 0; return PW_ENGINE_OK; }

static const pw_engine_vtbl fake_engine = {
    .name = "fake", .load = e_load, .unload = e_unload, .memory = e_memory, .core_sha256 = e_sha,
    .abi_version = e_abi_version, .io_buffer = e_io_buffer, .init = e_init, .tick = e_tick,
    .tcp_accepted = e_tcp_accepted, .tcp_connected = e_tcp_connected, .tcp_data = e_tcp_data,
    .tcp_sent = e_tcp_sent, .tcp_closed = e_tcp_closed, .udp_data = e_udp_data, .dns_result = e_dns_result,
    .wifi_event = e_wifi_event, .gpio_edge = e_gpio_edge, .stat = e_stat, .rgb_parse = e_rgb_parse,
    .rgb_format = e_rgb_format,
};

/* ------------------------------------------------------------------ helpers */

static const char CONFIG[] = "http_port=80\nrgb=1,2,3";

static void reset_world(void) {
  logbuf[0] = events[0] = received[0] = 0;
  closes = aborts = unlistens = listens = loads = inits = 0;
  depth = max_depth = 0;
  abi = PW_ABI_VERSION;
  init_result = PW_OK;
  tick_result = PW_TICK_NONE;
  accept_result = PW_OK;
  consume_limit = 1 << 30;
  trap_in_data = service_from_data = write_above_cap = send_on_accept = false;
  sent_on_accept = 0;
  send_cap = 1 << 20;
}

static int32_t start(bool canary) {
  pw_host_options o = {.platform = &platform, .engine = &fake_engine, .config = CONFIG,
                       .config_len = sizeof CONFIG - 1, .check_canary = canary};
  return pw_host_start(&host, &o);
}

/** Services until the queue is empty (bounded). */
static int32_t settle(void) {
  int32_t wait = 0;
  for (int i = 0; i < 50; i++) {
    if (pw_host_service(&host, &wait) != PW_OK) return -1000;
    if (wait != 0) break;
  }
  return wait;
}

static void feed(int32_t conn, const char *s) { pw_host_on_tcp_data(&host, conn, (const uint8_t *)s, strlen(s)); }

/* ------------------------------------------------------------------ tests */

static void test_abi_and_config(void) {
  reset_world();
  abi = 99;
  CHECK(start(false) == PW_ERR_UNSUPPORTED);
  char want[96];
  snprintf(want, sizeof want, "core speaks ABI v99, this host speaks v%d: rebuild the core or update the host", PW_ABI_VERSION);
  CHECK(strstr(logbuf, want) != NULL);
  CHECK(inits == 0);
  int32_t wait;
  CHECK(pw_host_service(&host, &wait) != PW_OK);

  reset_world();
  init_result = PW_ERR_CONFIG;
  CHECK(start(false) == PW_ERR_CONFIG);
  CHECK(strstr(logbuf, "the core refused to start: ERR_CONFIG (-13)") != NULL);

  reset_world();
  CHECK(start(false) == PW_OK);
  CHECK(strcmp(init_config, CONFIG) == 0);
  CHECK(pw_import_reset_reason(&host) == PW_RESET_POWER_ON);
  GROUP("abi check and configuration");
}

static void test_flow_control_and_fin(void) {
  reset_world();
  CHECK(start(false) == PW_OK);
  settle();
  events[0] = 0;
  int32_t c = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5555);
  CHECK(c > 0);
  feed(c, "hello world");
  pw_host_on_tcp_fin(&host, c);
  CHECK(strcmp(events, "") == 0); /* callbacks only enqueue */
  consume_limit = 5;
  settle();
  /* accepted, then 5 of 11 bytes consumed; the rest held, FIN held back behind it */
  char want[200];
  snprintf(want, sizeof want, "accepted %d;data %d 5/11;tick;", c, c);
  CHECK(strcmp(events, want) == 0);
  CHECK(strcmp(received, "hello") == 0);
  CHECK(pw_host_tcp_room(&host, c) == 0); /* FIN seen: the port reads nothing more */
  events[0] = 0;
  settle();
  CHECK(strcmp(events, "") == 0); /* paused: nothing until tcp_resume */
  consume_limit = 1 << 30;
  pw_import_tcp_resume(&host, c);
  settle();
  snprintf(want, sizeof want, "data %d 6/6;closed %d 0;tick;", c, c);
  CHECK(strcmp(events, want) == 0);
  CHECK(strcmp(received, "hello world") == 0);
  /* the handle stays valid after FIN until the core closes it */
  CHECK(pw_import_tcp_send(&host, c, IO, 4) == 4);
  CHECK(pw_import_tcp_close(&host, c) == PW_OK);
  CHECK(closes == 1 && last_closed == c);
  CHECK(pw_import_tcp_send(&host, c, IO, 4) == PW_ERR_NOTFOUND);
  CHECK(pw_import_tcp_close(&host, c) == PW_ERR_NOTFOUND);
  GROUP("flow control: partial consumption, resume, FIN after the held bytes");
}

static void test_hold_limit_and_sent(void) {
  reset_world();
  CHECK(start(false) == PW_OK);
  settle();
  int32_t c = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5556);
  static uint8_t big[PW_HOST_RX_HOLD + 100];
  memset(big, 'x', sizeof big);
  CHECK(pw_host_tcp_room(&host, c) == PW_HOST_RX_HOLD);
  CHECK(pw_host_on_tcp_data(&host, c, big, sizeof big) == PW_HOST_RX_HOLD);
  CHECK(pw_host_tcp_room(&host, c) == 0);
  pw_host_on_tcp_sent(&host, c, 100);
  pw_host_on_tcp_sent(&host, c, 23);
  settle();
  char want[200];
  snprintf(want, sizeof want, "tick;accepted %d;sent %d 123;data %d %d/%d;tick;", c, c, c, PW_IO_CAPACITY,
           PW_IO_CAPACITY);
  CHECK(strcmp(events, want) == 0);
  CHECK(pw_host_tcp_room(&host, c) == PW_HOST_RX_HOLD);
  send_cap = 10;
  CHECK(pw_import_tcp_send(&host, c, IO, 50) == 10);
  CHECK(pw_import_tcp_send(&host, c, 65530, 50) == PW_ERR_RANGE); /* outside the core's memory */
  /* the peer resets: tcp_closed(err), then the handle is dead */
  events[0] = 0;
  pw_host_on_tcp_error(&host, c, PW_ERR_RESET);
  settle();
  snprintf(want, sizeof want, "closed %d %d;tick;", c, PW_ERR_RESET);
  CHECK(strcmp(events, want) == 0);
  CHECK(pw_import_tcp_send(&host, c, IO, 4) == PW_ERR_NOTFOUND);
  CHECK(aborts == 0 && closes == 0); /* the port already forgot it */
  GROUP("receive hold limit, coalesced tcp_sent, send cap, reset");
}

static void test_refused_accept(void) {
  reset_world();
  CHECK(start(false) == PW_OK);
  settle();
  accept_result = PW_ERR_NOMEM;
  int32_t c = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5557);
  feed(c, "GET Data");
  settle();
  char want[200];
  snprintf(want, sizeof want, "tick;accepted %d;tick;", c);
  CHECK(strcmp(events, want) == 0); /* no data for a refused connection */
  CHECK(closes == 1 && last_closed == c);
  CHECK(pw_host_on_tcp_accept(&host, 12345, 0x7f000001, 1) < 0); /* not a listener */
  /* a core may greet a peer from inside tcp_accepted */
  accept_result = PW_OK;
  send_on_accept = true;
  pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5563);
  settle();
  CHECK(sent_on_accept == 3);
  GROUP("refused accept closes the connection; sending from inside tcp_accepted works");
}

static void test_no_reentry(void) {
  reset_world();
  CHECK(start(false) == PW_OK);
  settle();
  int32_t c = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5558);
  feed(c, "abc");
  service_from_data = true;
  settle();
  CHECK(service_result_inside == PW_ERR_BUSY);
  CHECK(max_depth == 1); /* the core was never entered twice */
  CHECK(strstr(logbuf, "called from inside a core call") != NULL);
  GROUP("the core is never re-entered");
}

static void test_trap_restart(void) {
  reset_world();
  CHECK(start(false) == PW_OK);
  settle();
  int32_t c = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5559);
  int32_t c2 = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5560);
  feed(c, "boom");
  trap_in_data = true;
  int32_t wait = 0;
  CHECK(pw_host_service(&host, &wait) == PW_OK);
  CHECK(strstr(logbuf, "host: core trapped in tcp_data: unreachable executed (test); restarting the core") != NULL);
  CHECK(wait == 0);
  trap_in_data = false;
  CHECK(pw_host_service(&host, &wait) == PW_OK); /* the restart */
  CHECK(loads == 2 && inits == 2);
  CHECK(aborts == 2); /* both connections of the dead core were reset */
  CHECK(unlistens == 1 && listens == 2);
  CHECK(pw_import_reset_reason(&host) == PW_RESET_TRAP);
  CHECK(strcmp(init_config, CONFIG) == 0);
  CHECK(pw_import_tcp_send(&host, c2, IO, 1) == PW_ERR_NOTFOUND);
  CHECK(strstr(logbuf, "host: restarting the core (after a trap)") != NULL);

  /* a second trap soon after: the restart waits (backoff) instead of spinning */
  int32_t c3 = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5561);
  feed(c3, "boom");
  trap_in_data = true;
  settle();
  CHECK(pw_host_service(&host, &wait) == PW_OK);
  CHECK(wait > 0 && wait <= 100);
  CHECK(loads == 2);
  clock_ms += (uint32_t)wait;
  trap_in_data = false;
  settle();
  CHECK(loads == 3);
  GROUP("trap -> log line, connections reset, core restarted with its configuration (with backoff)");
}

static void test_canary(void) {
  reset_world();
  clock_ms += 60000;
  CHECK(start(true) == PW_OK);
  settle();
  CHECK(mem[40000] == 0xA5 && mem[32768] == 0xA5 && mem[32767] == 0);
  int32_t c = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5562);
  feed(c, "x");
  write_above_cap = true;
  settle();
  CHECK(strstr(logbuf, "core wrote at offset 40000, above its 32768-byte memory cap") != NULL);
  CHECK(loads == 2);
  GROUP("a write above the memory cap counts as a trap");
}

static void test_ticks_and_wrap(void) {
  reset_world();
  clock_ms = 0xFFFFFF00u; /* 256 ms before the u32 wrap */
  CHECK(start(false) == PW_OK);
  tick_result = 1000;
  int32_t wait = settle();
  CHECK(wait == 1000);
  clock_ms += 999;
  events[0] = 0;
  CHECK(pw_host_service(&host, &wait) == PW_OK);
  CHECK(strcmp(events, "") == 0 && wait == 1);
  clock_ms += 1; /* past the wrap */
  tick_result = PW_TICK_NONE;
  CHECK(pw_host_service(&host, &wait) == PW_OK);
  CHECK(strcmp(events, "tick;") == 0);
  CHECK(wait == PW_HOST_WAIT_FOREVER);
  pw_host_on_gpio_edge(&host, 3, 1);
  settle();
  CHECK(strcmp(events, "tick;edge 3 1;tick;") == 0);
  GROUP("timers across the u32 wrap, tick after events, waiting forever when idle");
}

/* ------------------------------------------------------------------ booting from the core slots */

static pw_engine_vtbl bytes_engine; /* the fake engine, loading bytes at run time as wasm3 does */
static const uint8_t firmware_core[4] = {0, 'a', 's', 'm'};
static int reboots;
static int32_t reboot_kind;
static void f_reboot(void *ctx, int32_t kind) { reboots++; reboot_kind = kind; }

static int32_t start_slots(void) {
  bytes_engine = fake_engine;
  bytes_engine.loads_bytes = true;
  reboots = 0;
  pw_host_options o = {.platform = &platform, .engine = &bytes_engine, .wasm = firmware_core,
                       .wasm_len = sizeof firmware_core, .config = CONFIG, .config_len = sizeof CONFIG - 1,
                       .boot_slots = true, .trial_ms = 1000};
  return pw_host_start(&host, &o);
}

static uint8_t images[3][3000];
/** A 3000-byte image whose first byte is `first` (0xEE: one the fake engine refuses to load). */
static const uint8_t *image(int n, uint8_t first) {
  memset(images[n], 0x40 + n, sizeof images[n]);
  images[n][0] = first;
  return images[n];
}

static const uint8_t *slot_image(int32_t slot) { return ff_map(NULL, slot) + PW_SLOT_HEADER_BYTES; }

/** An asset through the ABI, as the core reads it: its text, or "" when there is none. */
static const char *asset(const char *name) {
  static char text[32];
  memcpy(mem + 2000, name, strlen(name));
  int32_t a = pw_import_asset_find(&host, 2000, (int32_t)strlen(name));
  int32_t n = a < 0 ? 0 : pw_import_asset_read(&host, a, 0, 2100, 31);
  if (n < 0 || n != (a < 0 ? 0 : pw_import_asset_size(&host, a))) n = 0;
  memcpy(text, mem + 2100, (size_t)n);
  text[n] = 0;
  return text;
}

static bool tried(int32_t slot) {
  pw_slot_info i;
  return pw_slot_read(&platform, slot, &i) && i.tried;
}

static void test_slot_boot(void) {
  const int32_t A = PW_REGION_SLOT_A, B = PW_REGION_SLOT_B;
  pw_platform saved = platform;
  reset_world();
  CHECK(start(false) == PW_OK); /* wasm2c-like: compiled in */
  CHECK(strcmp(asset("core.engine"), "fake") == 0 && strcmp(asset("core.slot"), "firmware") == 0);
  CHECK(strcmp(asset("core.nothing"), "") == 0);

  reset_world();
  memset(ff_bytes, 0xFF, sizeof ff_bytes);
  ff_write_slot(A, image(0, 1), 3000, 1, PW_ABI_VERSION, true);
  ff_attach(&platform);
  CHECK(start_slots() == PW_OK);
  CHECK(loaded_wasm == slot_image(A) && loaded_len == 3000); /* parsed in place, no copy */
  CHECK(host.slot == A && !host.trial);
  CHECK(strcmp(asset("core.slot"), "A") == 0 && strcmp(asset("core.engine"), "fake") == 0);
  CHECK(pw_import_flash_size(&host, A) == PW_LAYOUT_SLOT_SIZE && pw_import_flash_size(&host, B) == PW_LAYOUT_SLOT_SIZE);
  /* the running core's image is never written; its header page may be (the "confirmed" word) */
  memset(mem + 3000, 0xFF, 4096);
  CHECK(pw_import_flash_write(&host, A, 256, 3000, 256) == PW_ERR_BUSY);
  CHECK(pw_import_flash_erase(&host, A, 0, 4096) == PW_ERR_BUSY);
  CHECK(pw_import_flash_write(&host, A, 0, 3000, 256) == PW_OK);
  CHECK(pw_import_flash_erase(&host, B, 0, 4096) == PW_OK && pw_import_flash_write(&host, B, 256, 3000, 256) == PW_OK);
  CHECK(strstr(logbuf, "host: flash_write of slot A at 256 refused: the running core's image is there") != NULL);

  reset_world();
  platform.flash_map = NULL; /* a port that cannot map its flash: no slots */
  CHECK(start_slots() == PW_OK);
  CHECK(loaded_wasm == firmware_core && host.slot == 0);
  CHECK(pw_import_flash_size(&host, A) == PW_ERR_UNSUPPORTED);
  CHECK(pw_import_flash_write(&host, B, 0, 3000, 256) == PW_ERR_UNSUPPORTED);
  CHECK(strstr(logbuf, "does not map its flash: no core slots") != NULL);
  platform = saved;
  GROUP("boots a confirmed slot's image in place; core.slot/core.engine; the running image is never written");
}

static void test_slot_trial(void) {
  const int32_t A = PW_REGION_SLOT_A, B = PW_REGION_SLOT_B;
  pw_platform saved = platform;
  reset_world();
  memset(ff_bytes, 0xFF, sizeof ff_bytes);
  ff_write_slot(A, image(0, 1), 3000, 1, PW_ABI_VERSION, true);
  ff_write_slot(B, image(1, 2), 3000, 2, PW_ABI_VERSION, false); /* pending: what ota_end leaves */
  ff_attach(&platform);
  platform.reboot = f_reboot;
  CHECK(start_slots() == PW_OK);
  CHECK(host.slot == B && host.trial && tried(B) && loaded_wasm == slot_image(B));
  clock_ms += 400;
  int32_t wait = settle();
  CHECK(wait > 0 && wait <= 600); /* the trial deadline bounds the wait */
  CHECK(reboots == 0);
  clock_ms += 600;
  settle();
  CHECK(reboots == 1 && reboot_kind == PW_REBOOT_WATCHDOG);
  CHECK(strstr(logbuf, "host: the new core in slot B did not confirm itself within 1000 ms: watchdog restart") != NULL);
  /* the board comes back: B was tried and never confirmed, A runs again */
  reset_world();
  CHECK(start_slots() == PW_OK);
  CHECK(host.slot == A && !host.trial && loaded_wasm == slot_image(A));
  CHECK(strstr(logbuf, "slot B: core ") && strstr(logbuf, "rolled back"));

  /* a port that cannot reboot: the host restarts the core itself, and the rules roll back the same way */
  reset_world();
  platform.reboot = NULL;
  ff_write_slot(B, image(1, 3), 3000, 2, PW_ABI_VERSION, false);
  CHECK(start_slots() == PW_OK && host.slot == B && host.trial);
  clock_ms += 1000;
  settle();
  CHECK(host.slot == A && host.running && pw_import_reset_reason(&host) == PW_RESET_WATCHDOG && loads == 2);
  CHECK(strstr(logbuf, "restarting the core (trial watchdog)") != NULL);

  /* confirmed in time: the host sees the core's own flag and the deadline no longer applies */
  reset_world();
  platform.reboot = f_reboot;
  ff_write_slot(B, image(1, 4), 3000, 3, PW_ABI_VERSION, false);
  CHECK(start_slots() == PW_OK && host.slot == B && host.trial);
  memset(mem + 3000, 0xFF, 256);
  memset(mem + 3000 + PW_SLOT_H_CONFIRMED, 0, 4);
  CHECK(pw_import_flash_write(&host, B, 0, 3000, 256) == PW_OK);
  CHECK(!host.trial && strstr(logbuf, "host: the new core in slot B confirmed itself") != NULL);
  clock_ms += 5000;
  CHECK(settle() == PW_HOST_WAIT_FOREVER && reboots == 0);

  /* a trial core that traps: the restart runs the rules, which roll it back */
  reset_world();
  ff_write_slot(B, image(1, 6), 3000, 4, PW_ABI_VERSION, false);
  CHECK(start_slots() == PW_OK && host.slot == B && host.trial);
  settle();
  int32_t c = pw_host_on_tcp_accept(&host, listener_handle, 0x7f000001, 5570);
  feed(c, "boom");
  trap_in_data = true;
  settle();
  trap_in_data = false;
  settle();
  CHECK(host.slot == A && !host.trial && host.running && pw_import_reset_reason(&host) == PW_RESET_TRAP && reboots == 0);
  CHECK(strstr(logbuf, "rolled back") != NULL);
  platform = saved;
  GROUP("a trial core that does not confirm itself in time (watchdog reboot or restart) or traps: rolled back");
}

static void test_slot_does_not_start(void) {
  const int32_t A = PW_REGION_SLOT_A, B = PW_REGION_SLOT_B;
  pw_platform saved = platform;
  reset_world();
  memset(ff_bytes, 0xFF, sizeof ff_bytes);
  ff_write_slot(A, image(0, 1), 3000, 1, PW_ABI_VERSION, true);
  ff_write_slot(B, image(1, 0xEE), 3000, 2, PW_ABI_VERSION, false); /* pending, whole, but not a module */
  ff_attach(&platform);
  CHECK(start_slots() == PW_OK);
  CHECK(host.slot == A && !host.trial && loads == 2 && tried(B) && loaded_wasm == slot_image(A));
  CHECK(strstr(logbuf, "host: the core in slot B does not start (ERR_IO); falling back") != NULL);
  /* the confirmed one does not start either: the firmware's core */
  reset_world();
  ff_write_slot(A, image(0, 0xEE), 3000, 1, PW_ABI_VERSION, true);
  CHECK(start_slots() == PW_OK && host.slot == 0 && loaded_wasm == firmware_core);
  /* a trial core whose init is refused is passed over the same way */
  reset_world();
  ff_write_slot(B, image(1, 5), 3000, 4, PW_ABI_VERSION, false);
  init_result = PW_ERR_CONFIG;
  CHECK(start_slots() == PW_ERR_CONFIG); /* the firmware's core refuses too: the host cannot start */
  CHECK(strstr(logbuf, "host: the core in slot B does not start (ERR_CONFIG); falling back") != NULL && tried(B));
  platform = saved;
  GROUP("a slot whose core does not start is passed over at once, down to the firmware's core");
}

static void test_reboot_after_reply(void) {
  pw_platform saved = platform;
  reset_world();
  platform.reboot = f_reboot;
  CHECK(start_slots() == PW_OK);
  settle();
  pw_import_reset(&host, PW_RESET_KIND_BOARD); /* ota_end's: the reply is queued, the reboot waits */
  CHECK(reboots == 0);
  clock_ms += PW_HOST_REBOOT_DELAY_MS - 1;
  int32_t wait = settle();
  CHECK(reboots == 0 && wait == 1);
  clock_ms += 1;
  settle();
  CHECK(reboots == 1 && reboot_kind == PW_RESET_KIND_BOARD);
  settle();
  CHECK(reboots == 1); /* once, and nothing more is delivered */
  platform = saved;
  GROUP("reset(BOARD): the port reboots 100 ms later, from the service loop, once");
}

static int32_t f_flash_size(void *ctx, int32_t region) { return 65536; }

static void test_no_core_slots(void) {
  reset_world();
  platform.flash_size = f_flash_size;
  CHECK(start(false) == PW_OK);
  CHECK(pw_import_flash_size(&host, PW_REGION_SLOT_A) == PW_ERR_UNSUPPORTED);
  CHECK(pw_import_flash_size(&host, PW_REGION_SLOT_B) == PW_ERR_UNSUPPORTED);
  CHECK(pw_import_flash_size(&host, PW_REGION_CONFIG) == 65536);
  platform.flash_size = NULL;
  GROUP("no core slots with an engine whose core is compiled in: an update is refused, not written");
}

/* xor_mask against a byte-at-a-time reference: every start alignment, lengths around the word and
 * four-word rounds, every mask phase; bytes around the span untouched; a span outside memory refused. */
static void test_xor_mask(void) {
  reset_world();
  CHECK(start(false) == PW_OK);
  const uint32_t masks[] = {0x3d21fa37u, 0xffffffffu, 0x00000080u};
  for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++)
    for (uint32_t at = 2000; at < 2008; at++)
      for (int32_t len = 0; len <= 70; len++) {
        uint8_t want[96];
        for (int i = 0; i < 96; i++) mem[at - 8 + i] = (uint8_t)(i * 7 + len);
        memcpy(want, mem + at - 8, sizeof want);
        for (int32_t i = 0; i < len; i++) want[8 + i] ^= (uint8_t)(masks[m] >> (8 * (i & 3)));
        CHECK(pw_import_xor_mask(&host, at, len, masks[m]) == PW_OK);
        CHECK(memcmp(mem + at - 8, want, sizeof want) == 0);
      }
  logbuf[0] = 0;
  mem[sizeof mem - 1] = 0x55;
  CHECK(pw_import_xor_mask(&host, sizeof mem - 1, 2, 0xffffffffu) == PW_ERR_RANGE);
  CHECK(pw_import_xor_mask(&host, 2000, -1, 0xffffffffu) == PW_ERR_RANGE);
  CHECK(mem[sizeof mem - 1] == 0x55);
  CHECK(strstr(logbuf, "host: xor_mask: buffer 65535+2 is outside the core's memory") != NULL);
  CHECK(pw_import_xor_mask(&host, sizeof mem - 1, 1, 0xffffffffu) == PW_OK && mem[sizeof mem - 1] == 0xaa);
  GROUP("xor_mask: every alignment, length and mask phase as byte by byte; a span outside memory refused");
}

static void test_wifi_payload(void) {
  reset_world();
  CHECK(start(false) == PW_OK);
  settle();
  events[0] = 0;
  const uint8_t rec[] = {(uint8_t)-48, 6, 1, 7, 'p', 'i', 'c', 'o', 'b', 'u', 's', 2, 0, 0, 0, 0, 1};
  pw_host_on_wifi_event_payload(&host, PW_WIFI_EV_SCAN_RESULT, rec, sizeof rec);
  pw_host_on_wifi_event(&host, PW_WIFI_EV_SCAN_DONE, 1);
  settle();
  char want[96];
  snprintf(want, sizeof want, "wifi %d 17 picobus;wifi %d 1 ;", PW_WIFI_EV_SCAN_RESULT, PW_WIFI_EV_SCAN_DONE);
  CHECK(strstr(events, want) != NULL);
  CHECK(mem[IO] == (uint8_t)-48 && mem[IO + 1] == 6 && mem[IO + 3] == 7);
  GROUP("a WiFi event with a payload (scan result) reaches the core through the io buffer, in order");
}

int main(void) {
  test_xor_mask();
  test_wifi_payload();
  test_no_core_slots();
  test_slot_boot();
  test_slot_trial();
  test_slot_does_not_start();
  test_reboot_after_reply();
  test_abi_and_config();
  test_flow_control_and_fin();
  test_hold_limit_and_sent();
  test_refused_accept();
  test_no_reentry();
  test_trap_restart();
  test_canary();
  test_ticks_and_wrap();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\nhost log:\n%s", failures, logbuf);
    return 1;
  }
  printf("all host tests passed\n");
  return 0;
}
