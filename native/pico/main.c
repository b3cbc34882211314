/* picowire firmware for the Pico W: the C host runs the embedded core over lwIP and the CYW43.
 *
 * Boot: console (UART0 at 115200 on GP0/GP1; USB CDC too when the SDK has tinyusb), banner with the core's SHA-256, switch to
 * the big stack, watchdog, radio + WiFi from the build-time settings, then the core with the
 * configuration sector the core reads itself (docs/CONFIG.md), unless one is baked in at build time.
 * Loop: poll lwIP/cyw43 and pins -> pw_host_service() -> feed the watchdog -> sleep until the core's
 * next deadline or network activity.
 */
#include <stdio.h>
#include <string.h>

#include "hardware/watchdog.h"
#include "pico/stdlib.h"

#include "picowire_core_wasm.h"
#include "platform_pico.h"
#include "pw_build_config.h"
#include "pw_flash_regions.h"
#include "pw_host.h"
#include "pw_lwip.h"
#include "pw_mdns.h"
#include "pw_pico_stack.h"

#ifndef PW_ENGINE_VTBL
#define PW_ENGINE_VTBL pw_engine_wasm2c
#endif
extern const pw_engine_vtbl PW_ENGINE_VTBL;

#define WATCHDOG_MS 8000u    /* cyw43_arch_init takes ~1 s; a service call far less */
#define MAX_WAIT_MS 100u     /* wake at least this often: LED, WiFi state, watchdog */

uint32_t pw_pico_stack[PW_PICO_STACK_BYTES / 4] __attribute__((aligned(8)));

static pw_host host;
static pw_platform ops;
static char config[PW_IO_CAPACITY];
extern char __flash_binary_end;

/* One firmware for every board: with no configuration baked in (PICOWIRE_CONFIG empty, the default),
 * init gets none and the core reads its configuration sector itself (docs/CONFIG.md: two copies,
 * checksums, the format-0 text older firmware stored, setup mode when there is none). A configuration
 * baked in at build time is for development: it wins, and the sector is not read. */
static size_t load_config(void) {
  static const char builtin[] = PW_BUILTIN_CONFIG;
  size_t n = sizeof builtin - 1 < sizeof config ? sizeof builtin - 1 : sizeof config;
  memcpy(config, builtin, n);
  if (n > 0) printf("[info] pico: built-in configuration (%u bytes)\n", (unsigned)n);
  else printf("[info] pico: configuration from the flash sector\n");
  return n;
}

static void fatal_loop(const char *why) {
  pico_platform_led_fatal();
  uint32_t next = 0;
  for (;;) {
    if ((int32_t)(to_ms_since_boot(get_absolute_time()) - next) >= 0) {
      printf("[error] pico: %s; the core is not running (fix it and reflash)\n", why);
      next = to_ms_since_boot(get_absolute_time()) + 10000;
    }
    pico_platform_poll();
    watchdog_update();
    pico_platform_wait(MAX_WAIT_MS);
  }
}

static void run(void *arg) {
  watchdog_enable(WATCHDOG_MS, true);
  pico_platform_radio_start();
  watchdog_update();

  size_t config_len = load_config();
  pw_mdns_services_from_config(config, config_len); /* what mDNS advertises when WiFi comes up */
  pw_host_options opt = {
      .platform = &ops,
      .engine = &PW_ENGINE_VTBL,
      .wasm = PW_CORE_WASM_BYTES,
      .wasm_len = pw_core_wasm_len,
      .config = config,
      .config_len = config_len,
      /* On: a core writing above its 40 KiB cap (which wasm2c's 64 KiB memory would let through) is
       * restarted as after a trap. The host checks the area in 32-bit words, one 1 KiB stripe per
       * service round and only until a full pass since the core last ran: ~1,540 cycles (12 us) per
       * round in which the core runs, ~25 when idle, a full pass of ~50,000 cycles after each burst of
       * activity (rp2040js, picowire_emu; native/README.md). It was off while the scan was byte by byte
       * over the whole area in every round: 262,000 cycles (2.1 ms) per pw_host_service(). */
      .check_canary = true,
      /* over-the-air updates: with wasm3 the host boots a core from the flash slots (docs/OTA.md), on
       * trial for PW_HOST_TRIAL_MS; wasm2c (the default image) runs its compiled-in core and offers none */
      .boot_slots = true,
  };
  if (pw_host_start(&host, &opt) != PW_OK) fatal_loop("the core did not start");
  /* the heap left beside WiFi, lwIP (static) and the running core: get_info reports the same figure */
  printf("[info] pico: core running, stack high-water %lu of %u bytes, free heap %ld bytes\n",
         (unsigned long)pw_pico_stack_used(), PW_PICO_STACK_BYTES, (long)ops.free_heap(ops.ctx));

  for (;;) {
    pico_platform_poll();
    int32_t wait = 0;
    if (pw_host_service(&host, &wait) != PW_OK) fatal_loop("the host cannot go on");
    pw_lwip_flush(); /* what the core queued this round leaves now, coalesced */
    if (!pw_pico_stack_intact()) {
      printf("[error] pico: the core's stack overflowed (%u bytes); rebooting\n", PW_PICO_STACK_BYTES);
      stdio_flush();
      watchdog_reboot(0, 0, 10);
      for (;;) tight_loop_contents();
    }
    watchdog_update();
    if (wait != 0) pico_platform_wait(wait < 0 || (uint32_t)wait > MAX_WAIT_MS ? MAX_WAIT_MS : (uint32_t)wait);
  }
}

int main(void) {
  stdio_init_all();
  pico_platform_init(&host);
  ops = pico_platform_ops();
  printf("\n[info] picowire firmware: ABI v%d, engine %s, core %lu bytes sha256 %s\n", PW_ABI_VERSION,
         PW_ENGINE_VTBL.name, (unsigned long)pw_core_wasm_len, pw_core_wasm_sha256);
  uint32_t end = (uint32_t)&__flash_binary_end - XIP_BASE;
  printf("[info] pico: firmware %lu bytes of flash, wasm3 code at 0x%06lx, regions at 0x%06lx..0x%06lx\n",
         (unsigned long)end, (unsigned long)PW_PICO_CODE_REGION_OFFSET, (unsigned long)PW_PICO_FLASH_REGIONS_OFFSET,
         (unsigned long)PICO_FLASH_SIZE_BYTES);
  if (end > PW_PICO_CODE_REGION_OFFSET) fatal_loop("the firmware overlaps the flash regions");
  char layout[320];
  const char *migrated = pw_flash_layout_migrate(layout, sizeof layout); /* before anything reads a region */
  if (migrated) printf("[warn] pico: %s\n", migrated);
  pw_pico_stack_run(run, NULL); /* never returns */
  return 0;
}
