/* The board's flash regions (config, core slot A, core slot B, state; sizes and place in platform_pico.h)
 * as the pw_platform flash functions: reads and the map straight from XIP, erases and programs through
 * flash_safe_execute. Shared by the firmware and the emulator image, so rp2040js runs the same code that
 * boots a core from a slot in place. */
#ifndef PW_FLASH_REGIONS_H
#define PW_FLASH_REGIONS_H

#include "platform_pico.h"

/** Sets p->flash_size/read/write/erase/map, and p->code_map/code_write_sector when the image has a code
 *  region for wasm3 (PW_PICO_CODE_REGION_SIZE). */
void pw_flash_regions_fill(pw_platform *p);

#endif
