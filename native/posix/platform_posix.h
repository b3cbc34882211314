/* The POSIX port of the picowire host: BSD sockets driven by poll(), simulated pins, ADC and flash.
 * Used to run the exact core of the board (translated by wasm2c) on any computer, for tests.
 */
#ifndef PW_PLATFORM_POSIX_H
#define PW_PLATFORM_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pw_host.h"
#include "pw_layout.h"
#include "pw_platform.h"

/** Bytes queued per connection before tcp_send accepts fewer (lwIP's TCP_SND_BUF on the board). */
#ifndef PW_POSIX_SNDBUF
#define PW_POSIX_SNDBUF 8192
#endif
/** Sockets of every kind, including closed connections still sending their last bytes. */
#ifndef PW_POSIX_MAX_SOCKETS
#define PW_POSIX_MAX_SOCKETS 64
#endif
/** How long a closed connection may take to send its queue and see the peer's FIN. */
#ifndef PW_POSIX_LINGER_MS
#define PW_POSIX_LINGER_MS 5000u
#endif

typedef struct posix_socket {
  int32_t handle; /* host handle; 0 = free slot; -1 = closed by the core, still draining */
  int fd;
  uint8_t kind;
  uint8_t state;
  bool peer_fin;
  uint32_t linger_until;
  uint32_t group; /* K_GROUP: the multicast group it receives */
  size_t tx_len;
  uint8_t *tx;
} posix_socket;

typedef struct posix_pin {
  int8_t mode; /* -1 unset, PW_GPIO_IN, PW_GPIO_OUT */
  uint8_t pull, level, watch;
  bool pwm;
  int32_t freq_hz, duty;
} posix_pin;

#define POSIX_FLASH_BYTES PW_LAYOUT_REGIONS_BYTES

typedef struct posix_platform {
  pw_host *host;
  uint32_t host_ip;       /* --host, the address every socket binds to (host byte order) */
  int32_t log_level;      /* lines above this level are not printed */
  uint32_t time_offset;   /* added to the monotonic clock: start anywhere in the u32 range */
  uint8_t board_id[8];
  int wake_fd;            /* read end of the signal self-pipe (-1: none) */
  /* Commands for the simulated hardware (main.c --commands: stdin): polled before every socket, so a
   * command written before a peer's bytes is applied before those bytes reach the core. -1: none. */
  int cmd_fd;
  void (*on_cmd)(struct posix_platform *pp);
  /* Called with now = false when a simulated pin changed, and with now = true before bytes are handed to
   * a peer (tcp_send), so an observer (main.c --status-ms) can publish the board's state before the peer
   * sees its effect. Runs inside a core call: it must not call the core. NULL: none. */
  void (*observe)(struct posix_platform *pp, bool now);
  posix_socket socks[PW_POSIX_MAX_SOCKETS];
  /* simulated hardware */
  posix_pin pins[PW_PIN_COUNT];
  posix_pin led;
  int32_t adc[5];
  const char *flash_file;
  /* Read-only between erases and programs (mprotect), as the board's XIP flash is: wasm3 runs a slot's
   * core from these bytes in place, and a write into them would fault here as it would go nowhere there.
   * Whole pages: POSIX_FLASH_BYTES is 43 x 4 KiB. */
  uint8_t flash[POSIX_FLASH_BYTES] __attribute__((aligned(4096)));
  /* wasm3's code region (engine_wasm3_flash.h; main.c --wasm3-code-kb): mmap'd, read-only but while a
   * sector is rewritten, so an op that wrote into its own code would fault here as it would fail on the
   * board's XIP flash. Not in the flash file; in code_file when given (--wasm3-code-file: kept across
   * runs, as the board's flash keeps it; it binds only when the binary and RAM addresses are the same,
   * e.g. under `setarch -R`). NULL: none. */
  uint8_t *code;
  uint32_t code_size;
  const char *code_file;
  /* power-loss test (--wasm3-code-cut N): the Nth code sector write (0-based) writes a prefix of its sector, then
   * the process ends at once with status 86, as the board would lose power mid-write; -1: never */
  int32_t code_cut_at;
  int32_t code_writes;
  /* reboots (main.c restarts the host in this process, as the board would boot) */
  int32_t reset_reason;   /* what the next start of the host reports (PW_RESET_*) */
  bool reboot_requested;  /* set by the host's reboot(); main.c restarts the host after the round */
  int32_t reboot_kind;
} posix_platform;

/** Sets defaults (log level info, all ADC channels 0 but the temperature sensor). */
void posix_platform_init(posix_platform *pp, pw_host *host, uint32_t host_ip);
/** Loads the flash image from pp->flash_file if it exists; false after printing why. */
bool posix_flash_load(posix_platform *pp);
/** The pw_platform table for this port. */
pw_platform posix_platform_ops(posix_platform *pp);
/** Waits up to wait_ms (PW_HOST_WAIT_FOREVER: until activity) for socket activity or a wake-up on
 *  wake_fd, and reports what happened to the host. Returns true when wake_fd fired. */
bool posix_platform_poll(posix_platform *pp, int32_t wait_ms);
/** Closes every socket. */
void posix_platform_close_all(posix_platform *pp);
/** What a reboot resets: every socket closed, the pins as at power-on, the flash image read again from
 *  flash_file (without one it stays as it is in memory, as the Node host's flash does), reset_reason set
 *  from reboot_kind. false when the flash file cannot be read (main.c then exits). */
bool posix_platform_reboot(posix_platform *pp);
/** A "[level] message" line on stdout, filtered by log_level. */
void posix_log(void *ctx, int32_t level, const char *msg, size_t len);
void posix_logf(posix_platform *pp, int32_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
uint32_t posix_now_ms(void *ctx);

/* simulated hardware (sim.c) */
int32_t posix_gpio_setup(void *ctx, int32_t pin, int32_t mode, int32_t pull);
int32_t posix_gpio_write(void *ctx, int32_t pin, int32_t value);
int32_t posix_gpio_read(void *ctx, int32_t pin);
int32_t posix_gpio_watch(void *ctx, int32_t pin, int32_t edges);
/** What a test does to an input pin (as tools/host/hardware.ts drive()): the level changes and a watched
 *  edge is reported to the host. PW_ERR_NOTFOUND for a pin that does not exist or belongs to the radio. */
int32_t posix_gpio_drive(posix_platform *pp, int32_t pin, int32_t level);
/** The simulated pin (PW_PIN_LED included), or NULL for one that does not exist or belongs to the radio. */
posix_pin *posix_pin_of(posix_platform *pp, int32_t pin);
int32_t posix_pwm_set(void *ctx, int32_t pin, int32_t freq_hz, int32_t duty);
int32_t posix_adc_read(void *ctx, int32_t channel);
int32_t posix_temperature_mc(void *ctx);
int32_t posix_pixels_show(void *ctx, int32_t pin, const uint8_t *src, size_t len);
int32_t posix_flash_size(void *ctx, int32_t region);
int32_t posix_flash_read(void *ctx, int32_t region, uint32_t offset, uint8_t *dst, size_t len);
int32_t posix_flash_write(void *ctx, int32_t region, uint32_t offset, const uint8_t *src, size_t len);
int32_t posix_flash_erase(void *ctx, int32_t region, uint32_t offset, size_t len);
const uint8_t *posix_flash_map(void *ctx, int32_t region);
/** Maps a code region of kb KiB for wasm3 (0: none), from pp->code_file when set (created erased if
 *  missing); false after printing why. */
bool posix_code_region(posix_platform *pp, uint32_t kb);
const uint8_t *posix_code_map(void *ctx, uint32_t *size);
int32_t posix_code_write_sector(void *ctx, uint32_t offset, const uint8_t *src);
void posix_code_firmware_id(void *ctx, uint8_t id[32]);

#endif
