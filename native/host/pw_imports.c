/* The ABI imports: the functions the core calls (pw_import_*, declared in pw_host.h from the ABI's
 * X-macro), each checking the core's arguments (handles, buffers inside its memory) before it reaches the
 * host's state or the port. The event loop that calls the core is pw_host.c; what both share is in
 * pw_host_internal.h. An import never calls into the core: it only changes state and calls the port. */
#include "pw_host_internal.h"
#include "pw_boot.h"

#include <inttypes.h>
#include <string.h>

typedef uint32_t __attribute__((may_alias)) pw_xor_word; /* the core's bytes, read as words */

#define P (h->p)
/* Forward to an optional platform function: PW_ERR_UNSUPPORTED when the port has none. */
#define FORWARD(fn, ...) return P->fn ? P->fn(P->ctx, __VA_ARGS__) : PW_ERR_UNSUPPORTED
#define FORWARD0(fn) return P->fn ? P->fn(P->ctx) : PW_ERR_UNSUPPORTED

void pw_import_log(pw_host *h, int32_t level, uint32_t msg, int32_t len) {
  uint8_t *s = pw_host_span(h, msg, len);
  if (!s) {
    pw_host_bad_buffer(h, "log", msg, len);
    return;
  }
  P->log(P->ctx, level, (const char *)s, (size_t)len);
}

void pw_import_random_fill(pw_host *h, uint32_t dst, int32_t len) {
  uint8_t *d = pw_host_span(h, dst, len);
  if (!d) {
    pw_host_bad_buffer(h, "random_fill", dst, len);
    return;
  }
  if (P->random_fill && P->random_fill(P->ctx, d, (size_t)len) == PW_OK) return;
  /* No entropy source: say so loudly, every time, rather than hand out predictable bytes quietly. */
  pw_host_logf(h, PW_LOG_ERROR, "host: random_fill: this platform has no random source; returning zeros");
  memset(d, 0, (size_t)len);
}

/** XORs n bytes at p with mask's bytes repeating, its least significant byte first. Whole words where
 *  aligned, four a round: about 2 cycles a byte on a Cortex-M0+, against ~30 for the best wasm loop
 *  under wasm3 (docs/BOARD-PERFORMANCE.md). In RAM on the board (PW_RAM_FUNC): no flash-cache misses. */
static void PW_RAM_FUNC(xor_mask)(uint8_t *p, size_t n, uint32_t mask) {
  for (; n > 0 && ((uintptr_t)p & 3u) != 0; n--, p++) {
    *p ^= (uint8_t)mask;
    mask = mask >> 8 | mask << 24; /* the next byte's mask first */
  }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  uint32_t word = __builtin_bswap32(mask); /* the first byte in memory is the word's most significant */
#else
  uint32_t word = mask;
#endif
  pw_xor_word *w = (pw_xor_word *)(void *)p;
  for (; n >= 16; n -= 16, w += 4) {
    w[0] ^= word;
    w[1] ^= word;
    w[2] ^= word;
    w[3] ^= word;
  }
  for (; n >= 4; n -= 4) *w++ ^= word;
  for (p = (uint8_t *)w; n > 0; n--, p++) {
    *p ^= (uint8_t)mask;
    mask = mask >> 8 | mask << 24;
  }
}

int32_t pw_import_xor_mask(pw_host *h, uint32_t ptr, int32_t len, uint32_t mask) {
  uint8_t *p = pw_host_span(h, ptr, len);
  if (!p) return pw_host_bad_buffer(h, "xor_mask", ptr, len);
  xor_mask(p, (size_t)len, mask);
  return PW_OK;
}

int32_t pw_import_board_id(pw_host *h, uint32_t dst, int32_t cap) {
  uint8_t *d = pw_host_span(h, dst, cap);
  if (!d) return pw_host_bad_buffer(h, "board_id", dst, cap);
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
  int32_t handle = pw_host_new_handle(h);
  int32_t r = P->tcp_listen(P->ctx, handle, (uint16_t)port);
  if (r != PW_OK) return r < 0 ? r : PW_ERR_IO;
  h->listeners[slot] = handle;
  return handle;
}

int32_t pw_import_tcp_connect(pw_host *h, uint32_t ip, int32_t port) {
  if (port < 1 || port > 65535 || ip == 0) return PW_ERR_INVAL;
  if (!P->tcp_connect) return PW_ERR_UNSUPPORTED;
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_new(h, CS_CONNECTING);
  PW_UNLOCK(h);
  if (!c) return PW_ERR_NOMEM;
  int32_t handle = c->handle;
  int32_t r = P->tcp_connect(P->ctx, handle, ip, (uint16_t)port);
  if (r != PW_OK) {
    PW_LOCK(h);
    pw_host_conn_free(c);
    PW_UNLOCK(h);
    return r < 0 ? r : PW_ERR_IO;
  }
  return handle;
}

int32_t pw_import_tcp_send(pw_host *h, int32_t conn, uint32_t src, int32_t len) {
  pw_conn *c = pw_host_conn_core(h, conn);
  if (!c) return PW_ERR_NOTFOUND;
  if (c->gone) return PW_ERR_CLOSED;
  if (c->state != CS_OPEN) return PW_ERR_BUSY; /* still connecting */
  uint8_t *s = pw_host_span(h, src, len);
  if (!s) return pw_host_bad_buffer(h, "tcp_send", src, len);
  if (len == 0) return 0;
  FORWARD(tcp_send, conn, s, (size_t)len);
}

void pw_import_tcp_resume(pw_host *h, int32_t conn) {
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_core(h, conn);
  if (c) {
    c->paused = false;
    if (c->rx_len > 0 || (c->fin && !c->fin_told)) pw_host_schedule(h, c);
  }
  PW_UNLOCK(h);
}

static int32_t end_conn(pw_host *h, int32_t conn, bool graceful) {
  PW_LOCK(h);
  pw_conn *c = pw_host_conn_core(h, conn);
  bool tell = c && !c->gone;
  if (c) pw_host_conn_free(c);
  PW_UNLOCK(h);
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
  int32_t handle = pw_host_new_handle(h);
  int32_t r = P->udp_open(P->ctx, handle, (uint16_t)port, iface);
  if (r != PW_OK) return r < 0 ? r : PW_ERR_IO;
  PW_LOCK(h);
  h->udps[slot] = handle;
  PW_UNLOCK(h);
  return handle;
}

int32_t pw_import_udp_send(pw_host *h, int32_t sock, uint32_t ip, int32_t port, uint32_t src, int32_t len) {
  if (pw_host_slot_of(h->udps, PW_HOST_MAX_UDP, sock) < 0) return PW_ERR_NOTFOUND;
  if (port < 1 || port > 65535) return PW_ERR_INVAL;
  uint8_t *s = pw_host_span(h, src, len);
  if (!s) return pw_host_bad_buffer(h, "udp_send", src, len);
  FORWARD(udp_send, sock, ip, (uint16_t)port, s, (size_t)len);
}

void pw_import_udp_close(pw_host *h, int32_t sock) {
  int slot = pw_host_slot_of(h->udps, PW_HOST_MAX_UDP, sock);
  if (slot < 0) return;
  PW_LOCK(h);
  h->udps[slot] = 0;
  PW_UNLOCK(h);
  if (P->udp_close) P->udp_close(P->ctx, sock);
}

int32_t pw_import_udp_join(pw_host *h, int32_t sock, uint32_t group, int32_t join) {
  if (pw_host_slot_of(h->udps, PW_HOST_MAX_UDP, sock) < 0) return PW_ERR_NOTFOUND;
  if ((group >> 28) != 0xE || (join != 0 && join != 1)) return PW_ERR_INVAL; /* 224.0.0.0/4 only */
  FORWARD(udp_join, sock, group, join != 0);
}

int32_t pw_import_dns_resolve(pw_host *h, uint32_t name, int32_t len) {
  uint8_t *s = pw_host_span(h, name, len);
  if (!s) return pw_host_bad_buffer(h, "dns_resolve", name, len);
  if (!P->dns_resolve) return PW_ERR_UNSUPPORTED;
  int32_t req = h->next_dns;
  h->next_dns = req == INT32_MAX ? 1 : req + 1;
  int32_t r = P->dns_resolve(P->ctx, req, (const char *)s, (size_t)len);
  return r == PW_OK ? req : (r < 0 ? r : PW_ERR_IO);
}

int32_t pw_import_wifi_start_ap(pw_host *h, uint32_t ssid, int32_t ssid_len, uint32_t pass, int32_t pass_len,
                                int32_t channel) {
  uint8_t *s = pw_host_span(h, ssid, ssid_len), *k = pw_host_span(h, pass, pass_len);
  if (!s || !k) return pw_host_bad_buffer(h, "wifi_start_ap", s ? pass : ssid, s ? pass_len : ssid_len);
  FORWARD(wifi_start_ap, s, (size_t)ssid_len, k, (size_t)pass_len, channel);
}

int32_t pw_import_wifi_join(pw_host *h, uint32_t ssid, int32_t ssid_len, uint32_t pass, int32_t pass_len) {
  uint8_t *s = pw_host_span(h, ssid, ssid_len), *k = pw_host_span(h, pass, pass_len);
  if (!s || !k) return pw_host_bad_buffer(h, "wifi_join", s ? pass : ssid, s ? pass_len : ssid_len);
  FORWARD(wifi_join, s, (size_t)ssid_len, k, (size_t)pass_len);
}

int32_t pw_import_wifi_scan(pw_host *h) { FORWARD0(wifi_scan); }

int32_t pw_import_wifi_stop_ap(pw_host *h) { FORWARD0(wifi_stop_ap); }

int32_t pw_import_wifi_mac(pw_host *h, int32_t iface, uint32_t dst) {
  uint8_t *d = pw_host_span(h, dst, 6);
  if (!d) return pw_host_bad_buffer(h, "wifi_mac", dst, 6);
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
  uint8_t *s = pw_host_span(h, src, len);
  if (!s) return pw_host_bad_buffer(h, "pixels_show", src, len);
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
  uint8_t *d = pw_host_span(h, dst, len);
  if (!d) return pw_host_bad_buffer(h, "flash_read", dst, len);
  if (offset < 0) return PW_ERR_RANGE;
  FORWARD(flash_read, region, (uint32_t)offset, d, (size_t)len);
}

int32_t pw_import_flash_write(pw_host *h, int32_t region, int32_t offset, uint32_t src, int32_t len) {
  uint8_t *s = pw_host_span(h, src, len);
  if (!s) return pw_host_bad_buffer(h, "flash_write", src, len);
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
  uint8_t *s = pw_host_span(h, name, len);
  if (!s) return pw_host_bad_buffer(h, "asset_find", name, len);
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
  uint8_t *d = pw_host_span(h, dst, len);
  if (!d) return pw_host_bad_buffer(h, "asset_read", dst, len);
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
      h->reboot_at = pw_host_now(h) + PW_HOST_REBOOT_DELAY_MS;
    }
    return;
  }
  if (kind != PW_RESET_KIND_CORE)
    pw_host_logf(h, PW_LOG_WARN, "host: reset kind %" PRId32 ": this platform cannot reboot; restarting the core", kind);
  pw_host_schedule_restart(h, PW_RESET_SOFTWARE);
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
