/* The boot rules for over-the-air updates (docs/OTA.md, "Boot rules"): which core to run, from the two
 * flash slots or the firmware's own. The same decision as the Node host's chooseBoot
 * (tools/host/slots.ts), case for case; test/system/native-boot.test.ts runs one table of flash images through
 * both and compares.
 *
 * A slot is a 256-byte header page and the image after it. Header (little-endian): 0 magic "PWI1",
 * 4 generation, 8 image length, 12 ABI version, 16 SHA-256 of the image, 48 SHA-256 of [0, 48), then at
 * 128 "tried" and at 132 "confirmed": words left erased (0xFFFFFFFF) until the host (tried) and the
 * core (confirmed) program them to 0. A flag counts as set when any bit of it is 0.
 */
#ifndef PW_BOOT_H
#define PW_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "pw_platform.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PW_SLOT_MAGIC 0x31495750u /* "PWI1" */
#define PW_SLOT_HEADER_BYTES 256u
enum {
  PW_SLOT_H_GEN = 4,
  PW_SLOT_H_LENGTH = 8,
  PW_SLOT_H_ABI = 12,
  PW_SLOT_H_SHA = 16,
  PW_SLOT_H_CHECK = 48,
  PW_SLOT_H_TRIED = 128,
  PW_SLOT_H_CONFIRMED = 132,
  PW_SLOT_H_READ = 136, /* the bytes of the header the rules read */
};

typedef struct pw_slot_info {
  int32_t slot; /* PW_REGION_SLOT_A or _B */
  bool valid;   /* magic and check match */
  uint32_t gen, length, abi; /* 0 unless valid */
  uint8_t sha256[32];
  bool tried, confirmed;
} pw_slot_info;

typedef struct pw_boot_choice {
  int32_t slot;         /* PW_REGION_SLOT_A/B, or 0: the core built into the firmware */
  bool trial;           /* booted on trial: it must confirm itself before the host's deadline */
  const uint8_t *image; /* the slot's image, in mapped flash (NULL for the firmware's core) */
  uint32_t length;
  char sha256[65];      /* hex; "" for the firmware's core */
} pw_boot_choice;

/** "A", "B" or "firmware". */
const char *pw_slot_name(int32_t slot);

/** Reads a slot's header. false when the flash cannot be read (info then says: not valid). */
bool pw_slot_read(const pw_platform *p, int32_t slot, pw_slot_info *info);

/** The slot's image in mapped flash if its length fits the slot and its SHA-256 matches the header;
 *  else NULL (also without flash_map). */
const uint8_t *pw_slot_image(const pw_platform *p, const pw_slot_info *info);

/** Programs one header word of a slot to 0 (the rest of the page programs as 0xFF: unchanged). */
int32_t pw_slot_flag(const pw_platform *p, int32_t slot, uint32_t at);

/** Decides what to boot and logs why ("host: slot A: ..." lines, as the Node host's notes), programming
 *  the "tried" word of a pending slot before it is chosen. skip: bit (1 << slot) for each slot whose core
 *  already failed to start during this boot. */
void pw_boot_choose(const pw_platform *p, uint32_t skip, pw_boot_choice *out);

#ifdef __cplusplus
}
#endif
#endif
