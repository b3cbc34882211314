/* A simulated NOR flash with the board's regions (tools/host/flash.ts REGIONS) for the C unit tests,
 * and a slot writer that writes as an update does (tools/host/slots.ts writeSlot). Header-only: each test
 * program includes it once. */
#ifndef PW_FAKE_FLASH_H
#define PW_FAKE_FLASH_H

#include <string.h>

#include "pw_boot.h"
#include "pw_regions.h"
#include "pw_sha256.h"

static const uint32_t ff_region_size[4] = PW_LAYOUT_SIZES;
#define FF_BYTES PW_LAYOUT_REGIONS_BYTES
static uint8_t ff_bytes[FF_BYTES];
static int ff_programs, ff_erases;

static int32_t ff_size(void *ctx, int32_t region) {
  (void)ctx;
  return pw_region_size(ff_region_size, region);
}
static int32_t ff_read(void *ctx, int32_t region, uint32_t offset, uint8_t *dst, size_t len) {
  uint32_t at;
  int32_t r = pw_region_span(ff_region_size, region, offset, len, 1, &at);
  if (r != PW_OK) return r;
  memcpy(dst, ff_bytes + at, len);
  (void)ctx;
  return (int32_t)len;
}
static int32_t ff_write(void *ctx, int32_t region, uint32_t offset, const uint8_t *src, size_t len) {
  uint32_t at;
  int32_t r = pw_region_span(ff_region_size, region, offset, len, PW_FLASH_PAGE, &at);
  if (r != PW_OK) return r;
  for (size_t i = 0; i < len; i++) ff_bytes[at + i] &= src[i]; /* programming only clears bits */
  ff_programs++;
  (void)ctx;
  return PW_OK;
}
static int32_t ff_erase(void *ctx, int32_t region, uint32_t offset, size_t len) {
  uint32_t at;
  int32_t r = pw_region_span(ff_region_size, region, offset, len, PW_FLASH_SECTOR, &at);
  if (r != PW_OK) return r;
  memset(ff_bytes + at, 0xFF, len);
  ff_erases++;
  (void)ctx;
  return PW_OK;
}
static const uint8_t *ff_map(void *ctx, int32_t region) {
  uint32_t at;
  (void)ctx;
  return pw_region_span(ff_region_size, region, 0, 0, 1, &at) == PW_OK ? ff_bytes + at : NULL;
}

/** Gives a platform this flash. */
static void ff_attach(pw_platform *p) {
  p->flash_size = ff_size;
  p->flash_read = ff_read;
  p->flash_write = ff_write;
  p->flash_erase = ff_erase;
  p->flash_map = ff_map;
}

static void ff_put32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

/** Erase, image pages, then the header (+ both flags when confirmed), as writeSlot does. */
static void ff_write_slot(int32_t slot, const uint8_t *image, uint32_t len, uint32_t gen, uint32_t abi, bool confirmed) {
  for (uint32_t o = 0; o < PW_SLOT_HEADER_BYTES + len; o += PW_FLASH_SECTOR) ff_erase(NULL, slot, o, PW_FLASH_SECTOR);
  for (uint32_t o = 0; o < len; o += PW_FLASH_PAGE) {
    uint8_t page[PW_FLASH_PAGE];
    memset(page, 0xFF, sizeof page);
    memcpy(page, image + o, len - o < PW_FLASH_PAGE ? len - o : PW_FLASH_PAGE);
    ff_write(NULL, slot, PW_SLOT_HEADER_BYTES + o, page, sizeof page);
  }
  uint8_t h[PW_FLASH_PAGE];
  memset(h, 0xFF, sizeof h);
  ff_put32(h, PW_SLOT_MAGIC);
  ff_put32(h + PW_SLOT_H_GEN, gen);
  ff_put32(h + PW_SLOT_H_LENGTH, len);
  ff_put32(h + PW_SLOT_H_ABI, abi);
  pw_sha256(image, len, h + PW_SLOT_H_SHA);
  pw_sha256(h, PW_SLOT_H_CHECK, h + PW_SLOT_H_CHECK);
  ff_write(NULL, slot, 0, h, sizeof h);
  if (confirmed) {
    for (uint32_t at = PW_SLOT_H_TRIED; at <= PW_SLOT_H_CONFIRMED; at += 4) {
      memset(h, 0xFF, sizeof h);
      memset(h + at, 0, 4);
      ff_write(NULL, slot, 0, h, sizeof h);
    }
  }
}

#endif
