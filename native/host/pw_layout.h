/* The flash layout every host shares: the sizes of the four regions the core sees (PW_REGION_*), in this
 * order, and on the board a host-only layout sector before them. The one place these sizes are defined:
 * the Pico port (platform_pico.h), the POSIX port (sim.c), the C tests (native/test/fake_flash.h) and the
 * Node host (tools/provision/layout.ts reads this file) all take them from here. docs/FLASH-LAYOUT.md. */
#ifndef PW_LAYOUT_H
#define PW_LAYOUT_H

/* two 4 KiB copies of the configuration (docs/CONFIG.md) */
#define PW_LAYOUT_CONFIG_SIZE 8192u
/* an OTA slot: a 256-byte header page and the core's image (at most 80 KiB - 256 B; tools/wasm/size.ts) */
#define PW_LAYOUT_SLOT_SIZE 81920u
/* the core's own state (its bus vote) */
#define PW_LAYOUT_STATE_SIZE 4096u
#define PW_LAYOUT_REGIONS_BYTES (PW_LAYOUT_CONFIG_SIZE + 2u * PW_LAYOUT_SLOT_SIZE + PW_LAYOUT_STATE_SIZE)

/* The layout before this one (64 KiB slots, no layout sector): what a board's flash holds until the
 * first boot of a firmware with this layout migrates it (native/pico/pw_flash_regions.c), and what a
 * flash file of PW_LAYOUT_OLD_BYTES holds (native/posix/sim.c, tools/host/flash.ts). */
#define PW_LAYOUT_OLD_SLOT_SIZE 65536u
#define PW_LAYOUT_OLD_BYTES (PW_LAYOUT_CONFIG_SIZE + 2u * PW_LAYOUT_OLD_SLOT_SIZE + PW_LAYOUT_STATE_SIZE)

/* The board's layout sector (the sector just below the regions): its first page holds the stamp that
 * says the regions are in this layout. */
#define PW_LAYOUT_STAMP_MAGIC 0x324C5750u /* "PWL2", little-endian */

#endif
