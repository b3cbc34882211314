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

/** Brings the flash into this firmware's layout (pw_layout.h) before anything reads a region: a flash
 *  without the layout sector's stamp is the layout before (64 KiB slots), whose configuration is copied
 *  to its new place, the state being where it was (the old copy is not touched until the stamp is written last, so a
 *  power cut only makes the next boot do it again); one stamped by another layout is left alone. NULL
 *  when the layout was already this one; else what was done, or why not, in msg. */
const char *pw_flash_layout_migrate(char *msg, size_t cap);

#endif
