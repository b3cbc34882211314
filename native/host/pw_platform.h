/* The platform interface: what a port (Pico W, POSIX, a fuzz harness) implements for the host.
 *
 * Every function receives the port's ctx. Only now_ms and log are required; any other pointer may be
 * NULL, and the matching ABI import then answers PW_ERR_UNSUPPORTED (0 for the u32 results).
 *
 * Threading rule: the host calls these from its one loop (pw_host_service), usually from inside an
 * import the core is executing. A port reports network and hardware activity back through the
 * pw_host_on_*() functions of pw_host.h; those only enqueue, so a port may call them from its own
 * callbacks, even synchronously from inside one of the calls below (e.g. a connect that fails at
 * once). If they can run in interrupt context, provide lock/unlock.
 *
 * Handles: the host picks the handle of every listener, connection and UDP socket (positive int32)
 * and passes it in; the port maps it to its own socket/pcb and uses it when reporting back.
 */
#ifndef PW_PLATFORM_H
#define PW_PLATFORM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "picowire_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The longest log line the host and the ports format, with its terminating NUL. */
#define PW_LOG_LINE_MAX 300

/** Formats one log line (cut at PW_LOG_LINE_MAX - 1 bytes) and hands it to a port's log function: the
 *  host's, the boot rules' and the ports' printf-style logging all go through here. */
static inline void pw_vlogf(void (*log)(void *ctx, int32_t level, const char *msg, size_t len), void *ctx,
                            int32_t level, const char *fmt, va_list ap) {
  char line[PW_LOG_LINE_MAX];
  int n = vsnprintf(line, sizeof line, fmt, ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
  log(ctx, level, line, (size_t)n);
}

/* reboot() kind of the host's own trial watchdog (pw_host.h, trial_ms): a core booted on trial did not
 * confirm itself in time. The board's next start reports PW_RESET_WATCHDOG, as after a hardware watchdog. */
#define PW_REBOOT_WATCHDOG (-1)

typedef struct pw_platform {
  void *ctx;

  /* --- required --- */
  uint32_t (*now_ms)(void *ctx); /* monotonic milliseconds; wraps after 49.7 days */
  void (*log)(void *ctx, int32_t level, const char *msg, size_t len); /* one line, no line end */

  /* --- optional --- */
  void (*lock)(void *ctx);   /* around the host's queue when pw_host_on_*() can run concurrently */
  void (*unlock)(void *ctx);

  int32_t (*random_fill)(void *ctx, uint8_t *dst, size_t len);     /* PW_OK or PW_ERR_ */
  int32_t (*board_id)(void *ctx, uint8_t *dst, size_t cap);        /* bytes written */
  int32_t (*free_heap)(void *ctx);
  int32_t (*reset_reason)(void *ctx);                              /* PW_RESET_* of the board's start */
  int32_t (*temperature_mc)(void *ctx);
  /* Reboot the board (PW_RESET_KIND_BOARD / _BOOTSEL, or PW_REBOOT_WATCHDOG). Called from
   * pw_host_service(), outside any core call, PW_HOST_REBOOT_DELAY_MS after the core asked (so its reply
   * can leave). It may return (POSIX: the port restarts the host after pw_host_service returns); the
   * host then delivers nothing more. Without it the host restarts the core (and reruns the boot rules). */
  void (*reboot)(void *ctx, int32_t kind);
  /* PW_SLEEP_*: called by the host after the event that asked for it returned. */
  int32_t (*sleep)(void *ctx, int32_t kind, int32_t ms);

  /* TCP. listen: accept connections on port; report each with pw_host_on_tcp_accept(). */
  int32_t (*tcp_listen)(void *ctx, int32_t listener, uint16_t port);
  void (*tcp_unlisten)(void *ctx, int32_t listener);
  /* Start connecting; PW_OK now and pw_host_on_tcp_connected() later (also for failures found at once),
   * or an PW_ERR_ now (then nothing is reported). After a failed outcome the port forgets the handle. */
  int32_t (*tcp_connect)(void *ctx, int32_t conn, uint32_t ip, uint16_t port);
  /* Queue bytes for sending; returns how many were taken (0 when the send queue is full; the port
   * reports drained bytes with pw_host_on_tcp_sent(), or room without drained bytes with a len of 0
   * when memory shared by all connections ran out while nothing of this one was in flight), or PW_ERR_. */
  int32_t (*tcp_send)(void *ctx, int32_t conn, const uint8_t *src, size_t len);
  /* The core consumed len received bytes: open the receive window / re-offer held data (lwIP's
   * tcp_recved). Ports that ask pw_host_tcp_room() before reading may leave it NULL. */
  void (*tcp_recved)(void *ctx, int32_t conn, size_t len);
  /* Graceful close: send what is queued, then FIN. The port forgets the handle (reports nothing more). */
  void (*tcp_close)(void *ctx, int32_t conn);
  /* Reset at once. The port forgets the handle. */
  void (*tcp_abort)(void *ctx, int32_t conn);

  /* UDP. Datagrams arrive through pw_host_on_udp_data(). */
  int32_t (*udp_open)(void *ctx, int32_t sock, uint16_t port, int32_t iface);
  int32_t (*udp_send)(void *ctx, int32_t sock, uint32_t ip, uint16_t port, const uint8_t *src, size_t len);
  void (*udp_close)(void *ctx, int32_t sock); /* also leaves the socket's multicast groups */
  /* Join (or leave) an IPv4 multicast group on the socket's interface: datagrams to group and the
   * socket's port then arrive for the socket too. PW_OK or PW_ERR_. */
  int32_t (*udp_join)(void *ctx, int32_t sock, uint32_t group, bool join);

  /* DNS: PW_OK now and pw_host_on_dns_result(req, ...) later, or PW_ERR_ now. */
  int32_t (*dns_resolve)(void *ctx, int32_t req, const char *name, size_t len);

  /* WiFi; events come back through pw_host_on_wifi_event(). */
  int32_t (*wifi_start_ap)(void *ctx, const uint8_t *ssid, size_t ssid_len, const uint8_t *pass, size_t pass_len,
                           int32_t channel);
  int32_t (*wifi_join)(void *ctx, const uint8_t *ssid, size_t ssid_len, const uint8_t *pass, size_t pass_len);
  int32_t (*wifi_scan)(void *ctx);
  int32_t (*wifi_stop_ap)(void *ctx);
  /* the interface's 6-byte MAC (an access point's BSSID) into mac; 6 or PW_ERR_ */
  int32_t (*wifi_mac)(void *ctx, int32_t iface, uint8_t *mac);
  int32_t (*wifi_status)(void *ctx, int32_t iface);
  uint32_t (*wifi_ip)(void *ctx, int32_t iface);
  int32_t (*wifi_rssi)(void *ctx);

  /* Pins; edges of watched pins come back through pw_host_on_gpio_edge(). */
  int32_t (*gpio_setup)(void *ctx, int32_t pin, int32_t mode, int32_t pull);
  int32_t (*gpio_write)(void *ctx, int32_t pin, int32_t value);
  int32_t (*gpio_read)(void *ctx, int32_t pin);
  int32_t (*gpio_watch)(void *ctx, int32_t pin, int32_t edges);
  int32_t (*pwm_set)(void *ctx, int32_t pin, int32_t freq_hz, int32_t duty);
  int32_t (*adc_read)(void *ctx, int32_t channel);
  int32_t (*pixels_show)(void *ctx, int32_t pin, const uint8_t *src, size_t len);

  /* Flash regions (PW_REGION_*), NOR semantics: erase to 0xFF by sector, program clears bits by page. */
  int32_t (*flash_size)(void *ctx, int32_t region);
  int32_t (*flash_read)(void *ctx, int32_t region, uint32_t offset, uint8_t *dst, size_t len);
  int32_t (*flash_write)(void *ctx, int32_t region, uint32_t offset, const uint8_t *src, size_t len);
  int32_t (*flash_erase)(void *ctx, int32_t region, uint32_t offset, size_t len);
  /* The region's bytes as mapped in memory (the Pico's XIP flash; the POSIX port's flash image), valid
   * for as long as the board runs; NULL if it is not mapped. The host boots cores from the slots only
   * with it: wasm3 parses a slot's image in place, so the image costs no RAM for its bytes. */
  const uint8_t *(*flash_map)(void *ctx, int32_t region);

  /* wasm3's compiled code (engine_wasm3_flash.h): a region only the host uses, sector-aligned, readable
   * at code_map (the Pico's XIP flash) for *size bytes while the board runs. code_write_sector replaces
   * the PW_FLASH_SECTOR bytes at offset (a multiple of it) with src: erase, then program. Without them
   * wasm3 keeps the compiled code in RAM. */
  const uint8_t *(*code_map)(void *ctx, uint32_t *size);
  int32_t (*code_write_sector)(void *ctx, uint32_t offset, const uint8_t *src);
  /* 32 bytes that change whenever the firmware's code may have moved (the compiled code names wasm3's
   * op handlers by address): with it, a boot whose code region already holds this core's code for this
   * firmware binds to it instead of compiling. NULL: always compiled. */
  void (*code_firmware_id)(void *ctx, uint8_t id[32]);

  /* Read-only assets kept with the firmware. */
  int32_t (*asset_find)(void *ctx, const char *name, size_t len);
  int32_t (*asset_size)(void *ctx, int32_t asset);
  int32_t (*asset_read)(void *ctx, int32_t asset, uint32_t offset, uint8_t *dst, size_t len);
} pw_platform;

#ifdef __cplusplus
}
#endif
#endif
