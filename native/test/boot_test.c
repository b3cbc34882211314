/* Unit tests of the boot rules (native/host/pw_boot.c) and the SHA-256 they rest on, on a simulated NOR
 * flash with the board's regions. The scenarios are those of test/system/ota.test.ts ("the boot rules"); the
 * full table is compared with the Node host's chooseBoot by test/system/native-boot.test.ts through the second
 * form:
 *
 *   pw_boot_test                     the unit tests; prints one line per group, exit status 0 = pass
 *   pw_boot_test --choose FILE SKIP  runs the rules on the flash image FILE (written back: the "tried"
 *                                    mark), skip a bit mask of slots; prints {"slot","trial","sha256","notes"}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_flash.h"
#include "pw_boot.h"
#include "pw_sha256.h"

#include "check.h"

/* ------------------------------------------------------------------ the platform: a flash and a log */

static char notes[4096]; /* the rules' log lines, "host: " taken off, one per line */

static uint32_t f_now(void *ctx) { return 0; }
static void f_log(void *ctx, int32_t level, const char *msg, size_t len) {
  if (len >= 6 && memcmp(msg, "host: ", 6) == 0) msg += 6, len -= 6;
  size_t used = strlen(notes);
  snprintf(notes + used, sizeof notes - used, "%.*s\n", (int)len, msg);
}

static pw_platform platform = {.now_ms = f_now, .log = f_log};
static uint8_t images[4][1100];
static const uint8_t *img(int n) { /* test/system/ota.test.ts: 1000 + n bytes of n */
  memset(images[n], n, 1000 + n);
  return images[n];
}
#define IMG(n) img(n), 1000 + (n)

static bool tried(int32_t slot) {
  pw_slot_info i;
  return pw_slot_read(&platform, slot, &i) && i.tried;
}

static pw_boot_choice choose(uint32_t skip) {
  pw_boot_choice c;
  notes[0] = 0;
  pw_boot_choose(&platform, skip, &c);
  return c;
}

/* ------------------------------------------------------------------ tests */

static void hex_of(const char *text, size_t repeat, char out[65]) {
  pw_sha256_ctx c;
  uint8_t d[32];
  pw_sha256_init(&c);
  for (size_t i = 0; i < repeat; i++) pw_sha256_update(&c, (const uint8_t *)text, strlen(text));
  pw_sha256_final(&c, d);
  pw_hex(d, 32, out);
}

static void test_sha256(void) {
  char h[65];
  hex_of("", 1, h);
  CHECK(strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
  hex_of("abc", 1, h);
  CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, h); /* 56 bytes: padding in a 2nd block */
  CHECK(strcmp(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
  hex_of("a", 1000000, h); /* one byte at a time through the buffer */
  CHECK(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
  GROUP("SHA-256: FIPS 180-4 vectors, streamed in pieces of any size");
}

static void test_rules(void) {
  const int32_t A = PW_REGION_SLOT_A, B = PW_REGION_SLOT_B;
  memset(ff_bytes, 0xFF, sizeof ff_bytes);
  pw_boot_choice c = choose(0);
  CHECK(c.slot == 0 && !c.trial && c.image == NULL && c.sha256[0] == 0); /* blank flash: the firmware's core */
  ff_write_slot(A, IMG(1), 1, PW_ABI_VERSION, true);
  ff_write_slot(B, IMG(2), 2, PW_ABI_VERSION, true);
  c = choose(0);
  CHECK(c.slot == B && !c.trial && c.length == 1002 && c.image && c.image[0] == 2 && c.image[1001] == 2);
  char want[65];
  uint8_t d[32];
  pw_sha256(img(2), 1002, d);
  pw_hex(d, 32, want);
  CHECK(strcmp(c.sha256, want) == 0);
  ff_write_slot(A, IMG(3), 3, PW_ABI_VERSION, false); /* pending */
  c = choose(0);
  CHECK(c.slot == A && c.trial);
  CHECK(tried(A)); /* marked before it runs */
  CHECK(strstr(notes, "slot A: booting the new core ") && strstr(notes, " on trial"));
  c = choose(0);
  CHECK(c.slot == B && !c.trial);
  CHECK(strstr(notes, "slot A: core ") && strstr(notes, " was tried and never confirmed itself: rolled back"));
  pw_slot_flag(&platform, A, PW_SLOT_H_CONFIRMED);
  c = choose(0);
  CHECK(c.slot == A && !c.trial);
  GROUP("boots the newest confirmed slot, a newer pending one on trial (tried first), rolls back a tried one");

  memset(ff_bytes, 0xFF, sizeof ff_bytes);
  ff_write_slot(B, IMG(2), 5, PW_ABI_VERSION, true);
  ff_write_slot(A, IMG(1), 4, PW_ABI_VERSION, false); /* pending but older: never booted */
  CHECK(choose(0).slot == B);
  CHECK(!tried(A));
  ff_write_slot(A, IMG(1), 6, PW_ABI_VERSION + 1, false); /* another ABI */
  c = choose(0);
  CHECK(c.slot == B && strstr(notes, "slot A: the pending image does not match its header or this host's ABI: skipped"));
  CHECK(!tried(A));
  ff_write_slot(A, IMG(1), 6, PW_ABI_VERSION, true);
  CHECK(choose(0).slot == A);
  uint8_t page[PW_FLASH_PAGE];
  memset(page, 0xFF, sizeof page);
  page[10] = 0; /* one bit flipped in the image: its SHA-256 no longer matches the header */
  ff_write(NULL, A, PW_SLOT_HEADER_BYTES, page, sizeof page);
  c = choose(0);
  CHECK(c.slot == B && strstr(notes, "slot A: the image does not match its header (damaged flash): skipped"));
  CHECK(choose(1u << B).slot == 0); /* B failed to start too: the firmware's core */
  GROUP("passes over a pending slot older than the confirmed one, another ABI, a damaged image, a skipped slot");

  memset(ff_bytes, 0xFF, sizeof ff_bytes);
  ff_write_slot(A, IMG(1), 1, PW_ABI_VERSION + 1, true);
  c = choose(0);
  CHECK(c.slot == 0 && strstr(notes, "slot A: its core speaks ABI v"));
  ff_write_slot(A, IMG(1), 1, PW_ABI_VERSION, true);
  memset(page, 0xFF, sizeof page);
  page[3] = 0xFE; /* a bit of the header's magic: its check fails, the slot holds nothing */
  ff_write(NULL, A, 0, page, sizeof page);
  CHECK(choose(0).slot == 0);
  ff_write_slot(A, IMG(1), 1, PW_ABI_VERSION, false);
  memset(page, 0xFF, sizeof page);
  page[PW_SLOT_H_TRIED + 2] = 0x7F; /* a "tried" program cut short: one bit is enough */
  ff_write(NULL, A, 0, page, sizeof page);
  c = choose(0);
  CHECK(c.slot == 0 && strstr(notes, "rolled back"));
  /* booting a pending slot programs exactly one page: its "tried" word */
  ff_write_slot(B, IMG(2), 1, PW_ABI_VERSION, false);
  ff_programs = 0;
  c = choose(0);
  CHECK(c.slot == B && c.trial && ff_programs == 1);
  GROUP("another ABI, a broken header, a cut \"tried\" program (any bit counts)");
}

/* ------------------------------------------------------------------ --choose FILE SKIP */

static int choose_file(const char *path, const char *skip_text) {
  ff_attach(&platform);
  FILE *f = fopen(path, "rb");
  if (!f || fread(ff_bytes, 1, sizeof ff_bytes, f) != sizeof ff_bytes) {
    fprintf(stderr, "pw_boot_test: %s: cannot read a %d-byte flash image\n", path, FF_BYTES);
    if (f) fclose(f);
    return 2;
  }
  fclose(f);
  pw_boot_choice c = choose((uint32_t)strtoul(skip_text, NULL, 10));
  f = fopen(path, "wb");
  if (!f || fwrite(ff_bytes, 1, sizeof ff_bytes, f) != sizeof ff_bytes) {
    fprintf(stderr, "pw_boot_test: %s: cannot write it back\n", path);
    if (f) fclose(f);
    return 2;
  }
  fclose(f);
  printf("{\"slot\":%d,\"trial\":%s,\"sha256\":\"%s\",\"notes\":[", (int)c.slot, c.trial ? "true" : "false", c.sha256);
  const char *line = notes;
  for (int n = 0; *line; n++) {
    const char *end = strchr(line, '\n');
    printf("%s\"%.*s\"", n ? "," : "", (int)(end - line), line); /* the notes hold no quotes or backslashes */
    line = end + 1;
  }
  printf("]}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--choose") == 0) return choose_file(argv[2], argv[3]);
  if (argc != 1) {
    fprintf(stderr, "usage: pw_boot_test [--choose FLASH_FILE SKIP_MASK]\n");
    return 2;
  }
  ff_attach(&platform);
  test_sha256();
  test_rules();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\nlast notes:\n%s", failures, notes);
    return 1;
  }
  printf("all boot tests passed\n");
  return 0;
}
