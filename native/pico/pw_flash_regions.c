/* The board's flash regions, see pw_flash_regions.h. */
#include "pw_flash_regions.h"

#include <string.h>

#include "hardware/flash.h"
#include "hardware/sync.h"
#include "pico/flash.h"
#include "pico/stdlib.h"
#include "pw_regions.h"

static const uint32_t region_size[4] = {PW_PICO_REGION_CONFIG_SIZE, PW_PICO_REGION_SLOT_SIZE, PW_PICO_REGION_SLOT_SIZE,
                                        PW_PICO_REGION_STATE_SIZE};

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
#endif

void pw_flash_regions_fill(pw_platform *p) {
  p->flash_size = flash_size_;
  p->flash_read = flash_read_;
  p->flash_write = flash_write_;
  p->flash_erase = flash_erase_;
  p->flash_map = flash_map_;
#if PW_PICO_CODE_REGION_SIZE > 0
  p->code_map = code_map_;
  p->code_write_sector = code_write_sector_;
#endif
}
