/* The boot rules, see pw_boot.h. Mirrors chooseBoot in tools/host/slots.ts line for line: keep the two
 * in step (test/system/native-boot.test.ts compares them on one table of flash images). */
#include "pw_boot.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pw_sha256.h"

static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void note(const pw_platform *p, int32_t level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pw_vlogf(p->log, p->ctx, level, fmt, ap);
  va_end(ap);
}

const char *pw_slot_name(int32_t slot) {
  return slot == PW_REGION_SLOT_A ? "A" : slot == PW_REGION_SLOT_B ? "B" : "firmware";
}

bool pw_slot_read(const pw_platform *p, int32_t slot, pw_slot_info *info) {
  uint8_t h[PW_SLOT_H_READ];
  memset(info, 0, sizeof *info);
  info->slot = slot;
  if (!p->flash_read || p->flash_read(p->ctx, slot, 0, h, sizeof h) != (int32_t)sizeof h) return false;
  uint8_t check[32];
  pw_sha256(h, PW_SLOT_H_CHECK, check);
  info->valid = le32(h) == PW_SLOT_MAGIC && memcmp(check, h + PW_SLOT_H_CHECK, 32) == 0;
  if (info->valid) {
    info->gen = le32(h + PW_SLOT_H_GEN);
    info->length = le32(h + PW_SLOT_H_LENGTH);
    info->abi = le32(h + PW_SLOT_H_ABI);
    memcpy(info->sha256, h + PW_SLOT_H_SHA, 32);
  }
  /* any bit programmed counts: a cut program of the word still says the step was taken */
  info->tried = le32(h + PW_SLOT_H_TRIED) != 0xFFFFFFFFu;
  info->confirmed = le32(h + PW_SLOT_H_CONFIRMED) != 0xFFFFFFFFu;
  return true;
}

const uint8_t *pw_slot_image(const pw_platform *p, const pw_slot_info *info) {
  int32_t size = p->flash_size ? p->flash_size(p->ctx, info->slot) : -1;
  if (!info->valid || info->length == 0 || size < (int32_t)PW_SLOT_HEADER_BYTES ||
      info->length > (uint32_t)size - PW_SLOT_HEADER_BYTES || !p->flash_map)
    return NULL;
  const uint8_t *base = p->flash_map(p->ctx, info->slot);
  if (!base) return NULL;
  uint8_t digest[32];
  pw_sha256(base + PW_SLOT_HEADER_BYTES, info->length, digest);
  return memcmp(digest, info->sha256, 32) == 0 ? base + PW_SLOT_HEADER_BYTES : NULL;
}

int32_t pw_slot_flag(const pw_platform *p, int32_t slot, uint32_t at) {
  uint8_t page[PW_FLASH_PAGE];
  memset(page, 0xFF, sizeof page);
  memset(page + at, 0, 4);
  return p->flash_write ? p->flash_write(p->ctx, slot, 0, page, sizeof page) : PW_ERR_UNSUPPORTED;
}

static void pick(pw_boot_choice *out, const pw_slot_info *info, const uint8_t *image, bool trial) {
  out->slot = info->slot;
  out->trial = trial;
  out->image = image;
  out->length = info->length;
  pw_hex(info->sha256, 32, out->sha256);
}

void pw_boot_choose(const pw_platform *p, uint32_t skip, pw_boot_choice *out) {
  static const int32_t slots[2] = {PW_REGION_SLOT_A, PW_REGION_SLOT_B};
  pw_slot_info infos[2];
  char sha8[9];
  memset(out, 0, sizeof *out);
  for (int i = 0; i < 2; i++) pw_slot_read(p, slots[i], &infos[i]);

  /* the newest confirmed slot that matches this host's ABI and its own SHA-256 */
  const pw_slot_info *best = NULL;
  const uint8_t *best_image = NULL;
  for (int i = 0; i < 2; i++) {
    const pw_slot_info *info = &infos[i];
    const char *name = pw_slot_name(info->slot);
    if (!info->valid || (skip & (1u << info->slot))) continue;
    if (info->tried && !info->confirmed) {
      pw_hex(info->sha256, 4, sha8);
      note(p, PW_LOG_WARN, "host: slot %s: core %s was tried and never confirmed itself: rolled back", name, sha8);
      continue;
    }
    if (!info->confirmed) continue;
    if (info->abi != PW_ABI_VERSION) {
      note(p, PW_LOG_WARN, "host: slot %s: its core speaks ABI v%lu, this host v%d: skipped", name,
           (unsigned long)info->abi, PW_ABI_VERSION);
      continue;
    }
    const uint8_t *image = pw_slot_image(p, info);
    if (!image) {
      note(p, PW_LOG_WARN, "host: slot %s: the image does not match its header (damaged flash): skipped", name);
    } else if (!best || info->gen > best->gen) {
      best = info;
      best_image = image;
    }
  }

  /* a pending slot newer than that: marked tried first, then booted on trial */
  for (int i = 0; i < 2; i++) {
    const pw_slot_info *info = &infos[i];
    const char *name = pw_slot_name(info->slot);
    if (!info->valid || info->tried || (skip & (1u << info->slot)) || (best && info->gen <= best->gen)) continue;
    const uint8_t *image = info->abi == PW_ABI_VERSION ? pw_slot_image(p, info) : NULL;
    if (!image) {
      note(p, PW_LOG_WARN, "host: slot %s: the pending image does not match its header or this host's ABI: skipped", name);
      continue;
    }
    pw_slot_flag(p, info->slot, PW_SLOT_H_TRIED);
    pw_hex(info->sha256, 4, sha8);
    note(p, PW_LOG_INFO, "host: slot %s: booting the new core %s on trial", name, sha8);
    pick(out, info, image, true);
    return;
  }
  if (best) pick(out, best, best_image, false);
}
