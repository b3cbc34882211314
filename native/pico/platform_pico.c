/* The Pico W port: pw_platform over lwIP's raw API, the CYW43 radio and the RP2040's peripherals.
 *
 * Architecture: pico_cyw43_arch_lwip_poll. Chosen over threadsafe_background because:
 *   - the whole board is one loop (main.c): cyw43_arch_poll() runs lwIP and the radio driver, then
 *     pw_host_service() runs the core. lwIP callbacks therefore run in that same thread, never in an
 *     interrupt, so they can call pw_host_on_*() (which only enqueue) without locks, and every lwIP
 *     call made from inside a core import needs no cyw43_arch_lwip_begin/end bracket;
 *   - lwIP callbacks can still fire synchronously inside our own lwIP calls (tcp_write -> tcp_output
 *     -> err, tcp_abort -> err, tcp_connect -> err). That is safe because they only record and
 *     enqueue; the core is never re-entered (the host refuses a nested pw_host_service());
 *   - the cost: the loop must poll often; it sleeps in cyw43_arch_wait_for_work_until() for at most
 *     the core's next deadline (pw_host_service's wait_ms), which the CYW43 interrupt cuts short.
 * The only interrupt-context code here is the GPIO edge handler, which writes a one-producer /
 * one-consumer ring that pico_platform_poll() drains into the host.
 *
 * TCP, UDP and DNS over lwIP's raw API are in pw_lwip.c (also built and tested on a computer).
 */
#include "platform_pico.h"
#include "cyw43_tx_guard.h"
#include "pixels_pio.h"
#include "pw_mdns.h"
#include "pw_assets.h"
#include "pw_flash_regions.h"
#include "pw_lwip.h"

#include <malloc.h>
#include <reent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hardware/adc.h"
#include "hardware/gpio.h"
#include "hardware/pwm.h"
#include "hardware/sync.h"
#include "hardware/clocks.h"
#include "hardware/watchdog.h"
#include "hardware/structs/watchdog.h"
#include "pico/bootrom.h"
#include "pico/cyw43_arch.h"
#include "pico/rand.h"
#include "pico/stdlib.h"
#include "pico/unique_id.h"

#include "lwip/dns.h"
#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "pw_build_config.h"

#define SCRATCH_SOFT_RESET 0 /* watchdog scratch register holding PW_SOFT_RESET_MAGIC before a reboot */
#define PW_SOFT_RESET_MAGIC 0x70775254u

#define EDGE_RING 32
static struct {
  pw_host *host;
  bool radio;
  int32_t reset_reason;
  /* WiFi */
  bool sta_wanted, ap_up;
  bool scanning; /* a wifi_scan is running: SCAN_DONE follows when cyw43 says it ended */
  int32_t scan_results;
  int sta_last; /* last cyw43_tcpip_link_status seen */
  uint32_t sta_creds; /* FNV-1a of the SSID and passphrase of the last join */
  /* pins */
  uint32_t watched;
  volatile uint8_t edge_pin[EDGE_RING], edge_level[EDGE_RING];
  volatile uint32_t edge_head, edge_tail; /* head written by the IRQ, tail by the loop */
  bool adc_ready;
  /* status LED */
  bool core_owns_led, led_on, led_broken, fatal;
  bool core_led_want, core_led_pending; /* the core's LED level, applied when the driver has credit */
  uint32_t led_next;
} P;

static uint32_t now_ms(void *ctx) { return to_ms_since_boot(get_absolute_time()); }

static void log_line(void *ctx, int32_t level, const char *msg, size_t len) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  if (level >= 0 && level <= 3) printf("[%s] %.*s\n", names[level], (int)len, msg);
  else printf("[level %d] %.*s\n", (int)level, (int)len, msg);
}

static void plog(int32_t level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pw_vlogf(log_line, NULL, level, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------ WiFi */

struct netif *pw_lwip_netif(int32_t iface) {
  return &cyw43_state.netif[iface == PW_IFACE_AP ? CYW43_ITF_AP : CYW43_ITF_STA];
}
static struct netif *iface_netif(int32_t iface) { return pw_lwip_netif(iface); }

static bool copy_z(char *dst, size_t cap, const uint8_t *src, size_t len) {
  if (len >= cap) return false;
  memcpy(dst, src, len);
  dst[len] = 0;
  return true;
}

/* picowire-XXXX from the last two bytes of the flash unique ID: stable per board, short to type. */
static const char *mdns_name(void) {
  static char name[16];
  if (!name[0]) {
    pico_unique_board_id_t id;
    pico_get_unique_board_id(&id);
    snprintf(name, sizeof name, "picowire-%02x%02x", id.id[PICO_UNIQUE_BOARD_ID_SIZE_BYTES - 2],
             id.id[PICO_UNIQUE_BOARD_ID_SIZE_BYTES - 1]);
  }
  return name;
}

static int32_t wifi_join_(void *ctx, const uint8_t *ssid, size_t ssid_len, const uint8_t *pass, size_t pass_len) {
  if (!P.radio) return PW_ERR_UNSUPPORTED;
  char s[33], k[65];
  if (ssid_len == 0 || !copy_z(s, sizeof s, ssid, ssid_len) || !copy_z(k, sizeof k, pass, pass_len))
    return PW_ERR_INVAL;
  if (pass_len > 0 && pass_len < 8) return PW_ERR_INVAL;
  uint32_t creds = 2166136261u;
  for (size_t i = 0; i <= ssid_len + pass_len; i++)
    creds = (creds ^ (i < ssid_len ? ssid[i] : i == ssid_len ? 0u : pass[i - ssid_len - 1])) * 16777619u;
  /* Still joined to this network (the core restarted, the radio did not): say so. Joining again while
   * associated, the chip leaves the old association after the driver has marked the new join active,
   * and that DISASSOC clears the driver's join state for good: the station stayed down, every retry
   * alike (found with tools/emu/RADIO.md's model; test/firmware/emu-radio.test.ts). */
  if (P.sta_wanted && creds == P.sta_creds && cyw43_tcpip_link_status(&cyw43_state, CYW43_ITF_STA) == CYW43_LINK_UP) {
    pw_host_on_wifi_event(P.host, PW_WIFI_EV_STA_UP, PW_OK);
    return PW_OK;
  }
  P.sta_creds = creds;
  cyw43_arch_enable_sta_mode();
  int r = cyw43_arch_wifi_connect_async(s, pass_len ? k : NULL,
                                        pass_len ? CYW43_AUTH_WPA2_MIXED_PSK : CYW43_AUTH_OPEN);
  if (r != 0) return PW_ERR_IO;
  P.sta_wanted = true;
  P.sta_last = CYW43_LINK_JOIN;
  return PW_OK;
}

static int32_t wifi_start_ap_(void *ctx, const uint8_t *ssid, size_t ssid_len, const uint8_t *pass, size_t pass_len,
                              int32_t channel) {
  if (!P.radio) return PW_ERR_UNSUPPORTED;
  char s[33], k[65];
  if (ssid_len == 0 || !copy_z(s, sizeof s, ssid, ssid_len) || !copy_z(k, sizeof k, pass, pass_len))
    return PW_ERR_INVAL;
  if (pass_len > 0 && pass_len < 8) return PW_ERR_INVAL;
  if (channel >= 1 && channel <= 13) cyw43_wifi_ap_set_channel(&cyw43_state, (uint32_t)channel);
  cyw43_arch_enable_ap_mode(s, pass_len ? k : NULL, pass_len ? CYW43_AUTH_WPA2_AES_PSK : CYW43_AUTH_OPEN);
  /* The AP netif gets cyw43's default 192.168.4.1/24, the tutorial's address; the core's DHCP server
   * (assembly/dhcp/server.ts) starts on WIFI_EV_AP_UP and leases from dhcp_first. */
  P.ap_up = true;
  pw_mdns_up(iface_netif(PW_IFACE_AP), mdns_name());
  pw_host_on_wifi_event(P.host, PW_WIFI_EV_AP_UP, PW_OK);
  return PW_OK;
}

static int32_t wifi_stop_ap_(void *ctx) {
  if (!P.radio) return PW_ERR_UNSUPPORTED;
  if (P.ap_up) {
    cyw43_arch_disable_ap_mode();
    P.ap_up = false;
    pw_host_on_wifi_event(P.host, PW_WIFI_EV_AP_DOWN, PW_OK);
  }
  return PW_OK;
}

static int32_t wifi_mac_(void *ctx, int32_t iface, uint8_t *mac) {
  if (!P.radio) return PW_ERR_UNSUPPORTED;
  if (iface != PW_IFACE_STA && iface != PW_IFACE_AP) return PW_ERR_INVAL;
  if (cyw43_wifi_get_mac(&cyw43_state, iface == PW_IFACE_AP ? CYW43_ITF_AP : CYW43_ITF_STA, mac) != 0) return PW_ERR_IO;
  return 6;
}

static int32_t wifi_status_(void *ctx, int32_t iface) {
  if (!P.radio) return PW_WIFI_DOWN;
  if (iface == PW_IFACE_AP) return P.ap_up ? PW_WIFI_UP : PW_WIFI_DOWN;
  switch (cyw43_tcpip_link_status(&cyw43_state, CYW43_ITF_STA)) {
    case CYW43_LINK_UP: return PW_WIFI_UP;
    case CYW43_LINK_JOIN: case CYW43_LINK_NOIP: return PW_WIFI_CONNECTING;
    case CYW43_LINK_FAIL: case CYW43_LINK_NONET: case CYW43_LINK_BADAUTH: return PW_WIFI_FAILED;
    default: return PW_WIFI_DOWN;
  }
}

static uint32_t wifi_ip_(void *ctx, int32_t iface) {
  if (!P.radio) return 0;
  if (wifi_status_(ctx, iface) != PW_WIFI_UP) return 0;
  return lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(iface_netif(iface))));
}

static int32_t wifi_rssi_(void *ctx) {
  int32_t rssi = 0;
  if (!P.radio || cyw43_wifi_get_rssi(&cyw43_state, &rssi) != 0) return PW_ERR_UNSUPPORTED;
  return rssi;
}

/* One scan result (cyw43 calls this from cyw43_arch_poll, i.e. the loop): queued for the core as the
 * ABI's payload (rssi i8, channel u8, auth u8, ssid_len u8, ssid, bssid). The same network can be reported
 * more than once; the core only looks for its SSID. */
static int on_scan_result(void *env, const cyw43_ev_scan_result_t *r) {
  uint8_t rec[4 + 32 + 6];
  uint8_t n = r->ssid_len > 32 ? 32 : r->ssid_len;
  rec[0] = (uint8_t)(int8_t)(r->rssi < -128 ? -128 : r->rssi > 0 ? 0 : r->rssi);
  rec[1] = (uint8_t)r->channel;
  rec[2] = r->auth_mode != 0;
  rec[3] = n;
  memcpy(rec + 4, r->ssid, n);
  memcpy(rec + 4 + n, r->bssid, 6);
  pw_host_on_wifi_event_payload(P.host, PW_WIFI_EV_SCAN_RESULT, rec, 10u + n);
  P.scan_results++;
  return 0;
}

static int32_t wifi_scan_(void *ctx) {
  if (!P.radio) return PW_ERR_UNSUPPORTED;
  if (P.scanning) return PW_ERR_BUSY;
  cyw43_wifi_scan_options_t opts = {0};
  if (cyw43_wifi_scan(&cyw43_state, &opts, NULL, on_scan_result) != 0) return PW_ERR_IO;
  P.scanning = true;
  P.scan_results = 0;
  return PW_OK;
}

/* Station state changes seen from the loop, reported as events. */
static void wifi_poll(void) {
  if (P.scanning && !cyw43_wifi_scan_active(&cyw43_state)) {
    P.scanning = false;
    pw_host_on_wifi_event(P.host, PW_WIFI_EV_SCAN_DONE, P.scan_results);
  }
  if (!P.radio || !P.sta_wanted) return;
  int st = cyw43_tcpip_link_status(&cyw43_state, CYW43_ITF_STA);
  if (st == P.sta_last) return;
  int was = P.sta_last;
  P.sta_last = st;
  if (st == CYW43_LINK_UP) {
    uint32_t ip = wifi_ip_(NULL, PW_IFACE_STA);
    plog(PW_LOG_INFO, "pico: wifi joined, address %lu.%lu.%lu.%lu", (unsigned long)(ip >> 24),
         (unsigned long)((ip >> 16) & 255), (unsigned long)((ip >> 8) & 255), (unsigned long)(ip & 255));
    if (pw_mdns_up(iface_netif(PW_IFACE_STA), mdns_name()) == 0)
      plog(PW_LOG_INFO, "pico: mDNS: %s.local (_http._tcp port %u, _picowire._tcp port %u)", mdns_name(),
           pw_mdns_http_port(), pw_mdns_control_port());
    pw_host_on_wifi_event(P.host, PW_WIFI_EV_STA_UP, PW_OK);
  } else if (st == CYW43_LINK_FAIL || st == CYW43_LINK_NONET || st == CYW43_LINK_BADAUTH ||
             (st == CYW43_LINK_DOWN && was != CYW43_LINK_DOWN)) {
    /* DOWN from any state: a deauthenticated link passes UP -> JOIN (LINK down event) -> DOWN (the
     * driver's disassociation), so "UP -> DOWN" alone never fired (found with tools/emu/RADIO.md's model) */
    int32_t why = st == CYW43_LINK_BADAUTH ? PW_ERR_REFUSED : st == CYW43_LINK_NONET ? PW_ERR_NOTFOUND : PW_ERR_IO;
    plog(PW_LOG_WARN, "pico: wifi station down (cyw43 link status %d)", st);
    pw_host_on_wifi_event(P.host, PW_WIFI_EV_STA_DOWN, why);
  }
}

/* ------------------------------------------------------------------ pins, PWM, ADC */

/* GP23 (WL_ON), GP24 (WL_D), GP25 (WL_CS) and GP29 (WL_CLK / VSYS sense) belong to the radio. */
static bool pin_ok(int32_t pin) { return pin >= 0 && pin < PW_PIN_COUNT && !(pin >= 23 && pin <= 25) && pin != 29; }

static int32_t gpio_setup_(void *ctx, int32_t pin, int32_t mode, int32_t pull) {
  if (pin == PW_PIN_LED) {
    if (mode != PW_GPIO_OUT) return PW_ERR_INVAL;
    P.core_owns_led = true;
    return P.radio ? PW_OK : PW_ERR_UNSUPPORTED;
  }
  if (!pin_ok(pin)) return PW_ERR_NOTFOUND;
  gpio_init((uint)pin);
  gpio_set_dir((uint)pin, mode == PW_GPIO_OUT);
  gpio_set_pulls((uint)pin, pull == PW_PULL_UP, pull == PW_PULL_DOWN);
  return PW_OK;
}

/* The LED is a CYW43 ioctl: sent only when the driver need not wait for credit (cyw43_tx_guard.h), else
 * in a later round of the loop. */
static void core_led_flush(void) {
  if (!P.core_led_pending || !pw_cyw43_has_credit()) return;
  P.core_led_pending = false;
  cyw43_arch_gpio_put(CYW43_WL_GPIO_LED_PIN, P.core_led_want);
}

static int32_t gpio_write_(void *ctx, int32_t pin, int32_t value) {
  if (pin == PW_PIN_LED) {
    if (!P.radio) return PW_ERR_UNSUPPORTED;
    P.core_owns_led = true;
    P.core_led_want = value != 0;
    P.core_led_pending = true;
    core_led_flush();
    return PW_OK;
  }
  if (!pin_ok(pin)) return PW_ERR_NOTFOUND;
  gpio_put((uint)pin, value != 0);
  return PW_OK;
}

static int32_t gpio_read_(void *ctx, int32_t pin) {
  if (pin == PW_PIN_LED) return P.radio ? (int32_t)cyw43_arch_gpio_get(CYW43_WL_GPIO_LED_PIN) : PW_ERR_UNSUPPORTED;
  if (!pin_ok(pin)) return PW_ERR_NOTFOUND;
  return gpio_get((uint)pin) ? 1 : 0;
}

/* Interrupt context: only records (ring of pin/level), the loop reports. */
static void on_gpio_irq(uint gpio, uint32_t events) {
  uint32_t head = P.edge_head;
  if (head - P.edge_tail >= EDGE_RING) return; /* full: dropped */
  P.edge_pin[head % EDGE_RING] = (uint8_t)gpio;
  P.edge_level[head % EDGE_RING] = (events & GPIO_IRQ_EDGE_RISE) ? 1 : 0;
  __dmb();
  P.edge_head = head + 1;
}

static int32_t gpio_watch_(void *ctx, int32_t pin, int32_t edges) {
  if (!pin_ok(pin)) return PW_ERR_NOTFOUND;
  uint32_t mask = ((edges & PW_EDGE_RISE) ? GPIO_IRQ_EDGE_RISE : 0) | ((edges & PW_EDGE_FALL) ? GPIO_IRQ_EDGE_FALL : 0);
  gpio_set_irq_enabled_with_callback((uint)pin, GPIO_IRQ_EDGE_RISE | GPIO_IRQ_EDGE_FALL, false, on_gpio_irq);
  if (mask) gpio_set_irq_enabled_with_callback((uint)pin, mask, true, on_gpio_irq);
  if (mask) P.watched |= 1u << pin;
  else P.watched &= ~(1u << pin);
  return PW_OK;
}

static void gpio_poll(void) {
  while (P.edge_tail != P.edge_head) {
    uint32_t t = P.edge_tail;
    pw_host_on_gpio_edge(P.host, P.edge_pin[t % EDGE_RING], P.edge_level[t % EDGE_RING]);
    __dmb();
    P.edge_tail = t + 1;
  }
}

/* duty 0..65535. Both pins of a slice (GPn and GPn^1) share its frequency. */
static int32_t pwm_set_(void *ctx, int32_t pin, int32_t freq_hz, int32_t duty) {
  if (!pin_ok(pin)) return PW_ERR_NOTFOUND;
  if (freq_hz <= 0 || duty < 0 || duty > 65535) return PW_ERR_RANGE;
  uint32_t clk = clock_get_hz(clk_sys);
  /* divider in 1/16 steps so that the counter's wrap fits 16 bits: clk / (div * (wrap + 1)) = freq */
  uint64_t div16 = ((uint64_t)clk * 16u + (uint64_t)freq_hz * 65536u - 1) / ((uint64_t)freq_hz * 65536u);
  if (div16 < 16) div16 = 16;
  if (div16 > 255 * 16 + 15) return PW_ERR_RANGE; /* below ~8 Hz at 125 MHz */
  uint32_t wrap = (uint32_t)(((uint64_t)clk * 16u) / (div16 * (uint64_t)freq_hz));
  if (wrap == 0) return PW_ERR_RANGE;
  wrap -= 1;
  if (wrap > 65535) wrap = 65535;
  uint slice = pwm_gpio_to_slice_num((uint)pin);
  gpio_set_function((uint)pin, GPIO_FUNC_PWM);
  pwm_set_clkdiv_int_frac(slice, (uint8_t)(div16 / 16), (uint8_t)(div16 % 16));
  pwm_set_wrap(slice, (uint16_t)wrap);
  pwm_set_gpio_level((uint)pin, (uint16_t)(((uint64_t)duty * (wrap + 1)) / 65535u));
  pwm_set_enabled(slice, true);
  return PW_OK;
}

static void adc_ready(void) {
  if (P.adc_ready) return;
  adc_init();
  adc_set_temp_sensor_enabled(true);
  P.adc_ready = true;
}

static int32_t adc_read_(void *ctx, int32_t channel) {
  if (channel < 0 || channel > 4) return PW_ERR_NOTFOUND;
  if (channel == 3) return PW_ERR_UNSUPPORTED; /* GP29: the radio's clock line on the Pico W */
  adc_ready();
  if (channel < 3) adc_gpio_init(26u + (uint)channel);
  adc_select_input((uint)channel);
  return adc_read();
}

static int32_t temperature_mc_(void *ctx) {
  adc_ready();
  adc_select_input(4);
  int64_t uv = (int64_t)adc_read() * 3300000 / 4096; /* microvolts, 3.3 V reference */
  /* RP2040 datasheet: T = 27 - (V - 0.706) / 0.001721 */
  return (int32_t)(27000 - (uv - 706000) * 1000 / 1721);
}

/* ------------------------------------------------------------------ board */

static int32_t random_fill_(void *ctx, uint8_t *dst, size_t len) {
  while (len > 0) {
    uint32_t r = get_rand_32(); /* ring oscillator + timer entropy, SDK pico_rand */
    size_t n = len < 4 ? len : 4;
    memcpy(dst, &r, n);
    dst += n;
    len -= n;
  }
  return PW_OK;
}

static int32_t board_id_(void *ctx, uint8_t *dst, size_t cap) {
  pico_unique_board_id_t id;
  pico_get_unique_board_id(&id);
  size_t n = cap < sizeof id.id ? cap : sizeof id.id;
  memcpy(dst, id.id, n);
  return (int32_t)n;
}

extern char __StackLimit, __bss_end__;
static int32_t free_heap_(void *ctx) {
  /* _mallinfo_r, not mallinfo: newlib keeps mallinfo beside malloc_stats, whose fiprintf drags ~7 KB of
   * stdio into the image */
  struct mallinfo mi = _mallinfo_r(_REENT);
  int32_t total = (int32_t)(&__StackLimit - &__bss_end__);
  /* arena not yet taken from sbrk counts as free, plus the free blocks inside the arena */
  return total - (int32_t)mi.arena + (int32_t)mi.fordblks;
}

static int32_t reset_reason_(void *ctx) { return P.reset_reason; }

static void reboot_(void *ctx, int32_t kind) {
  printf("[info] pico: rebooting (%s)\n", kind == PW_RESET_KIND_BOOTSEL ? "USB bootloader"
                                          : kind == PW_REBOOT_WATCHDOG   ? "trial watchdog"
                                                                         : "board");
  stdio_flush();
  if (kind == PW_RESET_KIND_BOOTSEL) reset_usb_boot(0, 0);
  /* the host's trial watchdog reboots as the hardware watchdog would: the next start says "watchdog" */
  watchdog_hw->scratch[SCRATCH_SOFT_RESET] = kind == PW_REBOOT_WATCHDOG ? 0 : PW_SOFT_RESET_MAGIC;
  watchdog_reboot(0, 0, 10);
  for (;;) tight_loop_contents();
}

/* ------------------------------------------------------------------ status LED */

/* The LED hangs off the CYW43, which the driver brings up lazily on first use: a radio that does not
 * start (a broken board, or rp2040js) shows here first. Then the LED is given up, once, with a log
 * line, instead of retrying the bring-up on every blink. */
static void led_put(bool on) {
  if (!P.radio || P.core_owns_led || P.led_broken) return;
  if (on != P.led_on && !pw_cyw43_has_credit()) return; /* the next round of led_poll tries again */
  if (on != P.led_on) {
    cyw43_thread_enter();
    int err = cyw43_gpio_set(&cyw43_state, CYW43_WL_GPIO_LED_PIN, on);
    cyw43_thread_exit();
    if (err != 0) {
      P.led_broken = true;
      plog(PW_LOG_ERROR, "pico: the CYW43 does not respond (error %d): no status LED, no WiFi", err);
      return;
    }
  }
  P.led_on = on;
}

/* fatal: fast blink (5 Hz); joining: 1 Hz; up: on; no network configured: short blink every 2 s */
static void led_poll(void) {
  uint32_t now = now_ms(NULL);
  if ((int32_t)(now - P.led_next) < 0) return;
  int st = P.radio ? wifi_status_(NULL, PW_IFACE_STA) : PW_WIFI_DOWN;
  uint32_t period;
  bool on;
  if (P.fatal) {
    period = 100, on = !P.led_on;
  } else if (st == PW_WIFI_UP || P.ap_up) {
    period = 500, on = true;
  } else if (st == PW_WIFI_CONNECTING) {
    period = 500, on = !P.led_on;
  } else {
    on = !P.led_on, period = on ? 50 : 1950;
  }
  led_put(on);
  P.led_next = now + period;
}

void pico_platform_led_fatal(void) { P.fatal = true; }

/* ------------------------------------------------------------------ setup and loop */

void pico_platform_init(pw_host *host) {
  memset(&P, 0, sizeof P);
  P.host = host;
  pw_lwip_init(host);
  if (watchdog_caused_reboot()) {
    bool soft = watchdog_hw->scratch[SCRATCH_SOFT_RESET] == PW_SOFT_RESET_MAGIC;
    P.reset_reason = soft ? PW_RESET_SOFTWARE : PW_RESET_WATCHDOG;
  } else {
    P.reset_reason = PW_RESET_POWER_ON;
  }
  watchdog_hw->scratch[SCRATCH_SOFT_RESET] = 0;
}

bool pico_platform_radio_start(void) {
  if (cyw43_arch_init() != 0) {
    plog(PW_LOG_ERROR, "pico: cyw43_arch_init failed: running without WiFi");
    return false;
  }
  P.radio = true;
  static const char ssid[] = PW_WIFI_SSID, pass[] = PW_WIFI_PASSWORD;
  static const char ap_ssid[] = PW_AP_SSID, ap_pass[] = PW_AP_PASSWORD;
  if (sizeof ssid > 1) {
    plog(PW_LOG_INFO, "pico: joining WiFi \"%s\"", ssid);
    if (wifi_join_(NULL, (const uint8_t *)ssid, sizeof ssid - 1, (const uint8_t *)pass, sizeof pass - 1) != PW_OK)
      plog(PW_LOG_ERROR, "pico: could not start joining \"%s\"", ssid);
  } else if (sizeof ap_ssid > 1) {
    plog(PW_LOG_INFO, "pico: starting access point \"%s\" at 192.168.4.1", ap_ssid);
    wifi_start_ap_(NULL, (const uint8_t *)ap_ssid, sizeof ap_ssid - 1, (const uint8_t *)ap_pass, sizeof ap_pass - 1, 0);
  } else {
    plog(PW_LOG_WARN, "pico: no WiFi configured at build time (native/pico/secrets.cmake)");
  }
  return true;
}

void pico_platform_poll(void) {
  if (P.radio) cyw43_arch_poll();
  if (P.radio) pw_cyw43_tx_guard_poll();
  if (P.radio) core_led_flush();
  wifi_poll();
  gpio_poll();
  pw_lwip_poll();
  led_poll();
}

void pico_platform_wait(uint32_t ms) {
  if (P.edge_tail != P.edge_head) return;
  if (P.radio) cyw43_arch_wait_for_work_until(make_timeout_time_ms(ms));
  else sleep_ms(ms);
}

pw_platform pico_platform_ops(void) {
  pw_platform p;
  memset(&p, 0, sizeof p);
  p.ctx = &P;
  p.now_ms = now_ms;
  p.log = log_line;
  p.random_fill = random_fill_;
  p.board_id = board_id_;
  p.free_heap = free_heap_;
  p.reset_reason = reset_reason_;
  p.temperature_mc = temperature_mc_;
  p.reboot = reboot_;
  pw_lwip_fill(&p); /* TCP, UDP, DNS */
  p.wifi_start_ap = wifi_start_ap_;
  p.wifi_join = wifi_join_;
  p.wifi_scan = wifi_scan_;
  p.wifi_stop_ap = wifi_stop_ap_;
  p.wifi_mac = wifi_mac_;
  p.pixels_show = pw_pixels_show; /* WS2812 through PIO + DMA (pixels_pio.c) */
  p.wifi_status = wifi_status_;
  p.wifi_ip = wifi_ip_;
  p.wifi_rssi = wifi_rssi_;
  p.gpio_setup = gpio_setup_;
  p.gpio_write = gpio_write_;
  p.gpio_read = gpio_read_;
  p.gpio_watch = gpio_watch_;
  p.pwm_set = pwm_set_;
  p.adc_read = adc_read_;
  pw_flash_regions_fill(&p); /* config, core slots, state: erase/program via flash_safe_execute, XIP map */
  pw_assets_fill(&p, P.host); /* index.html.gz (the dashboard page, in flash) and core.sha256 */
  /* not yet: sleep */
  return p;
}
