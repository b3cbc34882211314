/* Simulated board peripherals for the POSIX port, with the rules of the Node host's virtual boards
 * (tools/host/hardware.ts, tools/host/flash.ts): GP23-25 and GP29 belong to the radio, the LED has no
 * PWM, NOR flash only clears bits when programmed, on aligned pages and sectors. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform_posix.h"
#include "pw_regions.h"
#include "pw_sha256.h"

static const uint32_t region_size[4] = PW_LAYOUT_SIZES;

static void changed(posix_platform *pp) {
  if (pp->observe) pp->observe(pp, false);
}

posix_pin *posix_pin_of(posix_platform *pp, int32_t n) {
  if (n == PW_PIN_LED) return &pp->led;
  if (n < 0 || n >= PW_PIN_COUNT || n == 23 || n == 24 || n == 25 || n == 29) return NULL;
  return &pp->pins[n];
}

int32_t posix_gpio_setup(void *ctx, int32_t n, int32_t mode, int32_t pull) {
  posix_platform *pp = ctx;
  posix_pin *p = posix_pin_of(pp, n);
  if (!p) return PW_ERR_NOTFOUND;
  if ((mode != PW_GPIO_IN && mode != PW_GPIO_OUT) || pull < PW_PULL_NONE || pull > PW_PULL_DOWN) return PW_ERR_INVAL;
  p->mode = (int8_t)mode;
  p->pull = (uint8_t)pull;
  p->pwm = false;
  if (mode == PW_GPIO_IN) p->level = pull == PW_PULL_UP;
  posix_logf(pp, PW_LOG_DEBUG, "sim: gpio %d %s pull %d", n, mode == PW_GPIO_OUT ? "out" : "in", pull);
  changed(pp);
  return PW_OK;
}

int32_t posix_gpio_write(void *ctx, int32_t n, int32_t value) {
  posix_platform *pp = ctx;
  posix_pin *p = posix_pin_of(pp, n);
  if (!p) return PW_ERR_NOTFOUND;
  if (p->mode != PW_GPIO_OUT && n != PW_PIN_LED) return PW_ERR_INVAL;
  p->level = value != 0;
  p->pwm = false;
  posix_logf(pp, PW_LOG_DEBUG, "sim: gpio %d = %d", n, p->level);
  changed(pp);
  return PW_OK;
}

int32_t posix_gpio_read(void *ctx, int32_t n) {
  posix_pin *p = posix_pin_of(ctx, n);
  return p ? p->level : PW_ERR_NOTFOUND;
}

int32_t posix_gpio_watch(void *ctx, int32_t n, int32_t edges) {
  posix_platform *pp = ctx;
  posix_pin *p = posix_pin_of(pp, n);
  if (!p) return PW_ERR_NOTFOUND;
  p->watch = (uint8_t)edges;
  changed(pp);
  return PW_OK;
}

int32_t posix_gpio_drive(posix_platform *pp, int32_t n, int32_t level) {
  posix_pin *p = posix_pin_of(pp, n);
  if (!p) return PW_ERR_NOTFOUND;
  uint8_t old = p->level;
  p->level = level != 0;
  int32_t edge = p->level > old ? PW_EDGE_RISE : p->level < old ? PW_EDGE_FALL : 0;
  posix_logf(pp, PW_LOG_DEBUG, "sim: gpio %d driven to %d", n, p->level);
  if (edge & p->watch) pw_host_on_gpio_edge(pp->host, n, p->level);
  changed(pp);
  return PW_OK;
}

int32_t posix_pwm_set(void *ctx, int32_t n, int32_t freq_hz, int32_t duty) {
  posix_platform *pp = ctx;
  posix_pin *p = posix_pin_of(pp, n);
  if (!p || n == PW_PIN_LED) return PW_ERR_NOTFOUND; /* the LED sits on the radio chip: no PWM */
  if (freq_hz < 1 || duty < 0 || duty > 65535) return PW_ERR_RANGE;
  p->mode = PW_GPIO_OUT;
  p->pwm = true;
  p->freq_hz = freq_hz;
  p->duty = duty;
  posix_logf(pp, PW_LOG_DEBUG, "sim: pwm pin %d freq %d duty %d", n, freq_hz, duty);
  changed(pp);
  return PW_OK;
}

int32_t posix_adc_read(void *ctx, int32_t channel) {
  posix_platform *pp = ctx;
  return channel >= 0 && channel < 5 ? pp->adc[channel] : PW_ERR_NOTFOUND;
}

/* The RP2040 datasheet's conversion: T = 27 - (V - 0.706) / 0.001721, V = raw * 3.3 / 4096. */
int32_t posix_temperature_mc(void *ctx) {
  posix_platform *pp = ctx;
  int64_t microvolts = (int64_t)pp->adc[4] * 3300000 / 4096;
  return (int32_t)(27000 - (microvolts - 706000) * 1000 / 1721);
}

int32_t posix_pixels_show(void *ctx, int32_t n, const uint8_t *src, size_t len) {
  posix_platform *pp = ctx;
  if (!posix_pin_of(pp, n) || n == PW_PIN_LED) return PW_ERR_NOTFOUND;
  char hex[2 * 24 + 4];
  size_t shown = len < 24 ? len : 24;
  for (size_t i = 0; i < shown; i++) snprintf(hex + 2 * i, 3, "%02x", src[i]);
  hex[2 * shown] = 0;
  posix_logf(pp, PW_LOG_DEBUG, "sim: pixels pin %d %zu bytes %s%s", n, len, hex, len > shown ? "..." : "");
  return PW_OK;
}

/* The flash is writable only inside an erase, a program or a load (see posix_platform.flash). */
static void flash_writable(posix_platform *pp, bool on) {
  if (mprotect(pp->flash, sizeof pp->flash, on ? PROT_READ | PROT_WRITE : PROT_READ) != 0)
    posix_logf(pp, PW_LOG_ERROR, "sim: mprotect of the flash image failed: %s", strerror(errno));
}

static void flash_save(posix_platform *pp) {
  if (!pp->flash_file) return;
  FILE *f = fopen(pp->flash_file, "wb");
  if (!f || fwrite(pp->flash, 1, sizeof pp->flash, f) != sizeof pp->flash)
    posix_logf(pp, PW_LOG_ERROR, "sim: cannot write flash image %s: %s", pp->flash_file, strerror(errno));
  if (f) fclose(f);
}

/* A file in the layout before this one (64 KiB slots, pw_layout.h) gets every region moved to its new
 * offset (the slots' images fit the larger slots as they are), written to a new file renamed over the
 * old one, so a cut leaves the old file or the new. */
static bool flash_migrate(posix_platform *pp) {
  static const uint32_t old_size[4] = {PW_LAYOUT_CONFIG_SIZE, PW_LAYOUT_OLD_SLOT_SIZE, PW_LAYOUT_OLD_SLOT_SIZE,
                                       PW_LAYOUT_STATE_SIZE};
  static uint8_t old[PW_LAYOUT_OLD_BYTES];
  memcpy(old, pp->flash, sizeof old);
  memset(pp->flash, 0xFF, sizeof pp->flash);
  for (int32_t r = 0, from = 0; r < 4; from += (int32_t)old_size[r], r++) {
    uint32_t to;
    pw_region_span(region_size, r, 0, 0, 1, &to);
    memcpy(pp->flash + to, old + from, old_size[r]);
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.migrating", pp->flash_file);
  FILE *f = fopen(tmp, "wb");
  bool ok = f && fwrite(pp->flash, 1, sizeof pp->flash, f) == sizeof pp->flash;
  if (f && fclose(f) != 0) ok = false;
  if (!ok || rename(tmp, pp->flash_file) != 0) {
    fprintf(stderr, "picowire-posix: %s: cannot write the migrated flash image (%s); the file is unchanged\n",
            pp->flash_file, strerror(errno));
    return false;
  }
  fprintf(stderr, "picowire-posix: %s: migrated from the %u-byte layout (64 KiB slots) to %zu bytes (80 KiB slots)\n",
          pp->flash_file, (unsigned)PW_LAYOUT_OLD_BYTES, sizeof pp->flash);
  return true;
}

bool posix_flash_load(posix_platform *pp) {
  flash_writable(pp, true);
  memset(pp->flash, 0xFF, sizeof pp->flash);
  FILE *f = pp->flash_file ? fopen(pp->flash_file, "rb") : NULL;
  size_t n = f ? fread(pp->flash, 1, sizeof pp->flash, f) : 0;
  int extra = f ? fgetc(f) : EOF;
  int missing = f ? 0 : errno;
  if (f) fclose(f);
  bool ok = true;
  if (pp->flash_file && f && n == PW_LAYOUT_OLD_BYTES && extra == EOF) ok = flash_migrate(pp);
  else if (pp->flash_file && f && (n != sizeof pp->flash || extra != EOF)) {
    fprintf(stderr,
            "picowire-posix: %s: expected a %zu-byte flash image (or a %u-byte one of the layout before, which is "
            "migrated); it is neither: give another --flash-file, or move this one away to start blank\n",
            pp->flash_file, sizeof pp->flash, (unsigned)PW_LAYOUT_OLD_BYTES);
    ok = false;
  }
  flash_writable(pp, false);
  if (!pp->flash_file) return true;
  if (!f) return missing == ENOENT; /* created on the first write */
  return ok;
}

/* The flash image in memory is the board's mapped flash: wasm3 parses a slot's core in place. */
const uint8_t *posix_flash_map(void *ctx, int32_t region) {
  posix_platform *pp = ctx;
  uint32_t at;
  return pw_region_span(region_size, region, 0, 0, 1, &at) == PW_OK ? pp->flash + at : NULL;
}

bool posix_code_region(posix_platform *pp, uint32_t kb) {
  if (kb == 0) return true;
  size_t size = (size_t)kb * 1024u;
  int fd = -1;
  bool fresh = true;
  if (pp->code_file) {
    fd = open(pp->code_file, O_RDWR | O_CREAT, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      fprintf(stderr, "picowire-posix: --wasm3-code-file %s: %s\n", pp->code_file, strerror(errno));
      if (fd >= 0) close(fd);
      return false;
    }
    fresh = st.st_size == 0;
    if (!fresh && (size_t)st.st_size != size) {
      fprintf(stderr, "picowire-posix: --wasm3-code-file %s: %lld bytes, expected %zu (--wasm3-code-kb %u): give "
                      "the same --wasm3-code-kb, or another file\n", pp->code_file, (long long)st.st_size, size, (unsigned)kb);
      close(fd);
      return false;
    }
    if (fresh && ftruncate(fd, (off_t)size) != 0) {
      fprintf(stderr, "picowire-posix: --wasm3-code-file %s: %s\n", pp->code_file, strerror(errno));
      close(fd);
      return false;
    }
  }
  void *m = fd >= 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                    : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (fd >= 0) close(fd);
  if (m == MAP_FAILED) {
    fprintf(stderr, "picowire-posix: cannot map a %u KiB code region: %s\n", (unsigned)kb, strerror(errno));
    return false;
  }
  if (fresh) memset(m, 0xFF, size); /* erased flash */
  mprotect(m, size, PROT_READ);
  pp->code = m;
  pp->code_size = (uint32_t)size;
  return true;
}

const uint8_t *posix_code_map(void *ctx, uint32_t *size) {
  posix_platform *pp = ctx;
  *size = pp->code_size;
  return pp->code;
}

int32_t posix_code_write_sector(void *ctx, uint32_t offset, const uint8_t *src) {
  posix_platform *pp = ctx;
  if (!pp->code || offset % PW_FLASH_SECTOR || offset > pp->code_size - PW_FLASH_SECTOR) return PW_ERR_RANGE;
  uint8_t *sector = pp->code + offset;
  if (mprotect(sector, PW_FLASH_SECTOR, PROT_READ | PROT_WRITE) != 0) return PW_ERR_IO;
  if (pp->code_writes++ == pp->code_cut_at) {
    /* erased, then a prefix programmed (1/8 to 8/8 of it, by N, as the Node and emulator flash models do) */
    memset(sector, 0xFF, PW_FLASH_SECTOR);
    memcpy(sector, src, (size_t)PW_FLASH_SECTOR * (size_t)(pp->code_cut_at % 7 + 1) / 8u);
    msync(pp->code, pp->code_size, MS_SYNC);
    fprintf(stderr, "picowire-posix: power cut in code sector write %d (offset %u)\n", (int)pp->code_cut_at, (unsigned)offset);
    _exit(86);
  }
  memcpy(sector, src, PW_FLASH_SECTOR);
  mprotect(sector, PW_FLASH_SECTOR, PROT_READ);
  return PW_OK;
}

/* What the op handlers' addresses depend on: the binary (its bytes, hashed once per process: a code file
 * outlives it) and where it is loaded (ASLR). */
void posix_code_firmware_id(void *ctx, uint8_t id[32]) {
  (void)ctx;
  static uint8_t binary[32];
  static bool hashed;
  if (!hashed) {
    pw_sha256_ctx c;
    pw_sha256_init(&c);
    FILE *f = fopen("/proc/self/exe", "rb");
    uint8_t buf[65536];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) pw_sha256_update(&c, buf, n);
    if (f) fclose(f);
    else pw_sha256_update(&c, (const uint8_t *)__DATE__ __TIME__, sizeof __DATE__ __TIME__);
    pw_sha256_final(&c, binary);
    hashed = true;
  }
  uintptr_t at[2] = {(uintptr_t)&posix_code_firmware_id, (uintptr_t)&memcpy};
  memcpy(id, binary, 32);
  for (size_t i = 0; i < sizeof at; i++) id[i] ^= ((const uint8_t *)at)[i];
}

int32_t posix_flash_size(void *ctx, int32_t region) {
  (void)ctx;
  return pw_region_size(region_size, region);
}

int32_t posix_flash_read(void *ctx, int32_t region, uint32_t offset, uint8_t *dst, size_t len) {
  posix_platform *pp = ctx;
  uint32_t at;
  int32_t r = pw_region_span(region_size, region, offset, len, 1, &at);
  if (r != PW_OK) return r;
  memcpy(dst, pp->flash + at, len);
  return (int32_t)len;
}

int32_t posix_flash_write(void *ctx, int32_t region, uint32_t offset, const uint8_t *src, size_t len) {
  posix_platform *pp = ctx;
  uint32_t at;
  int32_t r = pw_region_span(region_size, region, offset, len, PW_FLASH_PAGE, &at);
  if (r != PW_OK) return r;
  flash_writable(pp, true);
  for (size_t i = 0; i < len; i++) pp->flash[at + i] &= src[i];
  flash_writable(pp, false);
  flash_save(pp);
  return PW_OK;
}

int32_t posix_flash_erase(void *ctx, int32_t region, uint32_t offset, size_t len) {
  posix_platform *pp = ctx;
  uint32_t at;
  int32_t r = pw_region_span(region_size, region, offset, len, PW_FLASH_SECTOR, &at);
  if (r != PW_OK) return r;
  flash_writable(pp, true);
  memset(pp->flash + at, 0xFF, len);
  flash_writable(pp, false);
  flash_save(pp);
  return PW_OK;
}
