/* The board's flash regions, see pw_flash_regions.h. */
#include "pw_flash_regions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardware/flash.h"
#include "hardware/sync.h"
#include "pico/flash.h"
#include "pico/stdlib.h"
#include "pw_regions.h"

static const uint32_t region_size[4] = PW_LAYOUT_SIZES;

/** pw_region_span, as an offset into the whole flash. */
static int32_t region_check(int32_t region, uint32_t offset, size_t len, uint32_t unit, uint32_t *abs) {
  int32_t r = pw_region_span(region_size, region, offset, len, unit, abs);
  if (r == PW_OK) *abs += PW_PICO_FLASH_REGIONS_OFFSET;
  return r;
}

/* XIP: the flash is mapped at XIP_BASE, so wasm3 parses a slot's core where it lies, with no copy in
 * RAM. The host never lets the core write the running slot's image (only its header page). */
static const uint8_t *flash_map_(void *ctx, int32_t region) {
  uint32_t abs;
  return region_check(region, 0, 0, 1, &abs) == PW_OK ? (const uint8_t *)(XIP_BASE + abs) : NULL;
}

static int32_t flash_size_(void *ctx, int32_t region) {
  return pw_region_size(region_size, region);
}

static int32_t flash_read_(void *ctx, int32_t region, uint32_t offset, uint8_t *dst, size_t len) {
  uint32_t abs;
  int32_t r = region_check(region, offset, len, 1, &abs);
  if (r != PW_OK) return r;
  memcpy(dst, (const void *)(XIP_BASE + abs), len);
  return (int32_t)len;
}

typedef struct flash_op {
  bool erase;   /* erase len bytes at abs first */
  uint32_t abs;
  const uint8_t *src; /* then program len bytes from src, if not NULL */
  size_t len;
} flash_op;

/* Runs with interrupts off and the other core parked (flash_safe_execute): nothing may execute from
 * flash while it is being written, and the CYW43/lwIP code lives in flash. */
static void __no_inline_not_in_flash_func(flash_do)(void *arg) {
  flash_op *op = arg;
  if (op->erase) flash_range_erase(op->abs, op->len);
  if (op->src) flash_range_program(op->abs, op->src, op->len);
}

static int32_t flash_run(flash_op *op) {
  int r = flash_safe_execute(flash_do, op, 100);
  if (r != PICO_OK) {
    /* flash_safe_execute needs the other core idle or in lockout; without it, disable interrupts */
    uint32_t irq = save_and_disable_interrupts();
    flash_do(op);
    restore_interrupts(irq);
  }
  return PW_OK;
}

static int32_t flash_write_(void *ctx, int32_t region, uint32_t offset, const uint8_t *src, size_t len) {
  uint32_t abs;
  int32_t r = region_check(region, offset, len, PW_FLASH_PAGE, &abs);
  if (r != PW_OK || len == 0) return r;
  flash_op op = {false, abs, src, len}; /* src is the core's memory: RAM, readable while flash is busy */
  return flash_run(&op);
}

static int32_t flash_erase_(void *ctx, int32_t region, uint32_t offset, size_t len) {
  uint32_t abs;
  int32_t r = region_check(region, offset, len, PW_FLASH_SECTOR, &abs);
  if (r != PW_OK || len == 0) return r;
  flash_op op = {true, abs, NULL, len};
  return flash_run(&op);
}

#if PW_PICO_CODE_REGION_SIZE > 0
static const uint8_t *code_map_(void *ctx, uint32_t *size) {
  *size = PW_PICO_CODE_REGION_SIZE;
  return (const uint8_t *)(XIP_BASE + PW_PICO_CODE_REGION_OFFSET);
}

/* One sector: erased and programmed in one lockout. src is the engine's sector buffer, in RAM. */
static int32_t code_write_sector_(void *ctx, uint32_t offset, const uint8_t *src) {
  if (offset % PW_FLASH_SECTOR || offset > PW_PICO_CODE_REGION_SIZE - PW_FLASH_SECTOR) return PW_ERR_RANGE;
  flash_op op = {true, PW_PICO_CODE_REGION_OFFSET + offset, src, PW_FLASH_SECTOR};
  return flash_run(&op);
}

/* The firmware's identity for wasm3's cached code: a hash of the whole image as it lies in flash, so any
 * rebuild that moves an op handler (or changes one) changes it. Word-wise multiply-rotate in two lanes,
 * ~2 cycles per byte (docs/FLASH-LAYOUT.md has the measured cost); not a defence against an attacker,
 * who could write the code region only by reflashing the board anyway. */
extern char __flash_binary_start, __flash_binary_end;

static void code_firmware_id_(void *ctx, uint8_t id[32]) {
  (void)ctx;
  const uint32_t *w = (const uint32_t *)&__flash_binary_start, *end = (const uint32_t *)&__flash_binary_end;
  uint32_t h[4] = {0x811C9DC5u, 0x9E3779B9u, 0x85EBCA6Bu, (uint32_t)(end - w)};
  for (; w + 1 < end; w += 2) {
    h[0] = (h[0] ^ w[0]) * 0x01000193u;
    h[1] = (h[1] ^ w[1]) * 0x01000193u;
    h[2] = ((h[2] + w[0]) << 7 | (h[2] + w[0]) >> 25) * 0xC2B2AE35u;
    h[3] = ((h[3] + w[1]) << 13 | (h[3] + w[1]) >> 19) * 0x27D4EB2Fu;
  }
  if (w < end) h[0] = (h[0] ^ w[0]) * 0x01000193u;
  memset(id, 0, 32);
  memcpy(id, h, sizeof h);
  uint32_t at[2] = {(uint32_t)&__flash_binary_start, (uint32_t)&__flash_binary_end};
  memcpy(id + sizeof h, at, sizeof at);
}
#endif

/* ------------------------------------------------------------------ the layout sector */

typedef struct {
  uint32_t magic, config_size, slot_size, state_size, check;
} layout_stamp;

static layout_stamp stamp_now(void) {
  layout_stamp s = {PW_LAYOUT_STAMP_MAGIC, PW_LAYOUT_CONFIG_SIZE, PW_LAYOUT_SLOT_SIZE, PW_LAYOUT_STATE_SIZE, 0};
  s.check = ~(s.magic ^ s.config_size ^ s.slot_size ^ s.state_size);
  return s;
}

static int32_t erase_at(uint32_t abs) {
  flash_op op = {true, abs, NULL, PW_FLASH_SECTOR};
  return flash_run(&op);
}

static int32_t program_at(uint32_t abs, const uint8_t *src, size_t len) {
  flash_op op = {false, abs, src, len};
  return flash_run(&op);
}

/* Copies one sector (old bytes, read into RAM first: the source may not be read while flash is busy) to
 * abs: its first 4 bytes (a configuration copy's magic) programmed last, on their own, so a sector whose
 * magic is there was copied whole. */
static void copy_sector(uint32_t abs, uint32_t from, uint8_t *buf) {
  memcpy(buf, (const void *)(XIP_BASE + from), PW_FLASH_SECTOR);
  erase_at(abs);
  uint8_t head[4];
  memcpy(head, buf, 4);
  memset(buf, 0xFF, 4);
  program_at(abs, buf, PW_FLASH_SECTOR);
  memset(buf, 0xFF, PW_FLASH_PAGE);
  memcpy(buf, head, 4);
  program_at(abs, buf, PW_FLASH_PAGE);
}

const char *pw_flash_layout_migrate(char *msg, size_t cap) {
  const layout_stamp want = stamp_now();
  const layout_stamp *have = (const layout_stamp *)(XIP_BASE + PW_PICO_LAYOUT_SECTOR_OFFSET);
  if (memcmp(have, &want, sizeof want) == 0) return NULL;
  if (have->magic == PW_LAYOUT_STAMP_MAGIC &&
      have->check == ~(have->magic ^ have->config_size ^ have->slot_size ^ have->state_size)) {
    snprintf(msg, cap,
             "flash layout: the regions were laid out by another firmware (%u-byte slots; this one has %u): left as "
             "they are, the configuration and slots are not this firmware's. Flash that firmware again, or erase the "
             "board's flash (picotool erase) and provision it anew (docs/FLASH-LAYOUT.md)",
             (unsigned)have->slot_size, (unsigned)PW_LAYOUT_SLOT_SIZE);
    return msg;
  }
  /* no stamp: the layout before (or a blank chip). Its state sector is this one's (the flash's last); its
   * configuration lies inside this layout's slot A, which nothing writes before the stamp is there */
  const uint32_t old_config = PICO_FLASH_SIZE_BYTES - PW_LAYOUT_OLD_BYTES;
  uint8_t *buf = malloc(PW_FLASH_SECTOR);
  if (!buf) return snprintf(msg, cap, "flash layout: no memory to migrate the regions; next boot tries again"), msg;
  /* a configuration UF2 made for this layout already put a copy in sector 0 (its magic "PWCF"): kept */
  bool provisioned = memcmp((const void *)(XIP_BASE + PW_PICO_FLASH_REGIONS_OFFSET), "PWCF", 4) == 0;
  if (!provisioned) {
    copy_sector(PW_PICO_FLASH_REGIONS_OFFSET + PW_FLASH_SECTOR, old_config + PW_FLASH_SECTOR, buf);
    copy_sector(PW_PICO_FLASH_REGIONS_OFFSET, old_config, buf); /* sector 0 last: its magic says both are done */
  }
  erase_at(PW_PICO_LAYOUT_SECTOR_OFFSET);
  memset(buf, 0xFF, PW_FLASH_PAGE);
  memcpy(buf, &want, sizeof want);
  program_at(PW_PICO_LAYOUT_SECTOR_OFFSET, buf, PW_FLASH_PAGE);
  free(buf);
  snprintf(msg, cap,
           "flash layout: migrated to %u-byte slots: %s, the state kept where it was; the cores in the old 64 KiB slots are "
           "dropped (this firmware's own core runs; picowire update installs another)",
           (unsigned)PW_LAYOUT_SLOT_SIZE,
           provisioned ? "the configuration UF2 written for this layout kept" : "the configuration moved along");
  return msg;
}

void pw_flash_regions_fill(pw_platform *p) {
  p->flash_size = flash_size_;
  p->flash_read = flash_read_;
  p->flash_write = flash_write_;
  p->flash_erase = flash_erase_;
  p->flash_map = flash_map_;
#if PW_PICO_CODE_REGION_SIZE > 0
  p->code_map = code_map_;
  p->code_write_sector = code_write_sector_;
  p->code_firmware_id = code_firmware_id_;
#endif
}
