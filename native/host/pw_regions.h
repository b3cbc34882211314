/* The four flash regions every port offers (PW_REGION_CONFIG, _SLOT_A, _SLOT_B, _STATE), laid out one
 * after another, and the one check of an access to them: ports differ only in the sizes' source and in
 * where the regions lie (native/pico/pw_flash_regions.c, native/posix/sim.c, native/test/fake_flash.h). */
#ifndef PW_REGIONS_H
#define PW_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#include "picowire_abi.h"
#include "pw_layout.h"

/** Each region's size, in PW_REGION_* order (pw_layout.h). */
#define PW_LAYOUT_SIZES {PW_LAYOUT_CONFIG_SIZE, PW_LAYOUT_SLOT_SIZE, PW_LAYOUT_SLOT_SIZE, PW_LAYOUT_STATE_SIZE}

/** The size of region (sizes[r]: each region's), or PW_ERR_NOTFOUND. */
static inline int32_t pw_region_size(const uint32_t sizes[4], int32_t region) {
  return region >= 0 && region <= 3 ? (int32_t)sizes[region] : PW_ERR_NOTFOUND;
}

/** Checks len bytes at offset in region, both multiples of unit (1, PW_FLASH_PAGE, PW_FLASH_SECTOR); the
 *  access's offset from the first region's start in *at. PW_OK, PW_ERR_NOTFOUND, _RANGE or _INVAL. */
static inline int32_t pw_region_span(const uint32_t sizes[4], int32_t region, uint32_t offset, size_t len,
                                     uint32_t unit, uint32_t *at) {
  if (region < 0 || region > 3) return PW_ERR_NOTFOUND;
  if ((uint64_t)offset + len > sizes[region]) return PW_ERR_RANGE;
  if (offset % unit || len % unit) return PW_ERR_INVAL;
  uint32_t base = 0;
  for (int32_t r = 0; r < region; r++) base += sizes[r];
  *at = base + offset;
  return PW_OK;
}

#endif
