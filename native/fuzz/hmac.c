/* HMAC-SHA256 (hmac.h). The key's inner and outer pads are compressed once and the two states reused:
 * half the compressions of a short message; every block goes through fuzz_sha256_block (SHA-NI where
 * the CPU has it). */
#include "hmac.h"
#include <string.h>
#include "pw_sha256.h"
#include "sha256_block.h"

typedef struct {
  uint32_t h[8];
  uint64_t len; /* bytes hashed, the pad block included */
  uint8_t buf[64];
  size_t used;
} sha_stream;

static const char* cached_key;
static sha_stream inner_start, outer_start;

static void put(sha_stream* s, const uint8_t* p, size_t n) {
  s->len += n;
  while (n > 0) {
    if (s->used == 0 && n >= 64) {
      fuzz_sha256_block(s->h, p);
      p += 64, n -= 64;
      continue;
    }
    size_t k = 64 - s->used < n ? 64 - s->used : n;
    memcpy(s->buf + s->used, p, k);
    s->used += k, p += k, n -= k;
    if (s->used == 64) {
      fuzz_sha256_block(s->h, s->buf);
      s->used = 0;
    }
  }
}

static void finish(sha_stream* s, uint8_t out[32]) {
  uint64_t bits = s->len * 8;
  s->buf[s->used++] = 0x80;
  if (s->used > 56) {
    memset(s->buf + s->used, 0, 64 - s->used);
    fuzz_sha256_block(s->h, s->buf);
    s->used = 0;
  }
  memset(s->buf + s->used, 0, 56 - s->used);
  for (int k = 0; k < 8; k++) s->buf[63 - k] = (uint8_t)(bits >> (8 * k));
  fuzz_sha256_block(s->h, s->buf);
  for (int k = 0; k < 32; k++) out[k] = (uint8_t)(s->h[k / 4] >> (24 - 8 * (k % 4)));
}

static void start(sha_stream* s, const uint8_t k[64], uint8_t x) {
  static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint8_t pad[64];
  for (int i = 0; i < 64; i++) pad[i] = k[i] ^ x;
  memcpy(s->h, IV, sizeof IV);
  s->len = 0;
  s->used = 0;
  put(s, pad, 64);
}

void fuzz_hmac(const char* key, const fuzz_span* parts, int count, uint8_t out[32]) {
  if (key != cached_key) {
    uint8_t k[64] = {0};
    size_t kn = strlen(key);
    if (kn > 64) pw_sha256((const uint8_t*)key, kn, k);
    else memcpy(k, key, kn);
    start(&inner_start, k, 0x36);
    start(&outer_start, k, 0x5c);
    cached_key = key;
  }
  uint8_t inner[32];
  sha_stream s = inner_start;
  for (int i = 0; i < count; i++) put(&s, parts[i].p, parts[i].n);
  finish(&s, inner);
  s = outer_start;
  put(&s, inner, 32);
  finish(&s, out);
}
