/* The Pico W port of the picowire host: lwIP raw API over the CYW43, RP2040 pins/PWM/ADC, flash
 * regions at the top of the flash, watchdog, status LED. See platform_pico.c.
 */
#ifndef PW_PLATFORM_PICO_H
#define PW_PLATFORM_PICO_H

#include <stdbool.h>
#include <stdint.h>

#include "pw_host.h"
#include "pw_layout.h"
#include "pw_platform.h"

/* Flash regions, laid out downwards from the end of the 2 MiB flash (sizes: native/host/pw_layout.h):
 *   [end - 176 KiB] layout (4 KiB) | config (8 KiB) | slot A (80 KiB) | slot B (80 KiB) | state (4 KiB) [end]
 * The layout sector is the host's own (its stamp: pw_flash_regions.c migrates the layout before, whose
 * state sector was the same last sector). The configuration region holds two 4 KiB copies
 * (docs/CONFIG.md); configuration UF2s are aimed at it (tools/provision/layout.ts). The firmware must end
 * below PW_PICO_CODE_REGION_OFFSET: main.c checks it at boot and the build keeps the UF2 under 1 MiB. */
#define PW_PICO_REGION_CONFIG_SIZE PW_LAYOUT_CONFIG_SIZE
#define PW_PICO_REGION_SLOT_SIZE PW_LAYOUT_SLOT_SIZE
#define PW_PICO_REGION_STATE_SIZE PW_LAYOUT_STATE_SIZE
#define PW_PICO_LAYOUT_SECTOR_SIZE 4096u
#define PW_PICO_FLASH_REGIONS_BYTES PW_LAYOUT_REGIONS_BYTES
#define PW_PICO_FLASH_REGIONS_OFFSET (PICO_FLASH_SIZE_BYTES - PW_PICO_FLASH_REGIONS_BYTES)
#define PW_PICO_LAYOUT_SECTOR_OFFSET (PW_PICO_FLASH_REGIONS_OFFSET - PW_PICO_LAYOUT_SECTOR_SIZE)

/* wasm3's compiled code (native/host/engine_wasm3_flash.h) lies just below the layout sector, in a region only
 * the host uses: CMake PICOWIRE_WASM3_CODE_KB (320 for wasm3 images: a full 80 KiB slot's core compiles to
 * ~3.3 bytes of code per wasm byte, plus its table and the record's sector; 0 for wasm2c, which needs none). The firmware must end below it. */
#ifndef PW_PICO_CODE_REGION_SIZE
#define PW_PICO_CODE_REGION_SIZE 0u
#endif
#define PW_PICO_CODE_REGION_OFFSET (PW_PICO_LAYOUT_SECTOR_OFFSET - PW_PICO_CODE_REGION_SIZE)

/** Initialises the port's state and hardware that needs no radio (ADC, reset reason). */
void pico_platform_init(pw_host *host);
/** The pw_platform table. */
pw_platform pico_platform_ops(void);
/** Brings up the radio (cyw43_arch_init) and joins / starts the network from the build-time settings.
 *  false when the radio does not start (the board then runs without network). */
bool pico_platform_radio_start(void);
/** Work done from the main loop: lwIP/cyw43 polling, WiFi state changes, pin edges queued by the
 *  interrupt handler, received bytes the host had no room for, status LED. */
void pico_platform_poll(void);
/** Sleeps until network activity or at most ms. */
void pico_platform_wait(uint32_t ms);
/** Status LED pattern: the core's own use of the LED pin turns this off. */
void pico_platform_led_fatal(void);

#endif
