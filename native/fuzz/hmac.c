/* HMAC-SHA256 over native/host/pw_sha256 (hmac.h). The key's inner and outer pads are hashed once and
 * the two states reused: half the compressions of a short message. */
#include "hmac.h"
#include <string.h>
#include "pw_sha256.h"

static const char* cached_key;
static pw_sha256_ctx inner_start, outer_start;

static void prepare(const char* key) {
  uint8_t k[64] = {0}, pad[64];
  size_t kn = strlen(key);
  if (kn > 64) pw_sha256((const uint8_t*)key, kn, k);
  else memcpy(k, key, kn);
  for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  pw_sha256_init(&inner_start);
  pw_sha256_update(&inner_start, pad, 64);
  for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  pw_sha256_init(&outer_start);
  pw_sha256_update(&outer_start, pad, 64);
  cached_key = key;
}

void fuzz_hmac(const char* key, const fuzz_span* parts, int count, uint8_t out[32]) {
  if (key != cached_key) prepare(key);
  uint8_t inner[32];
  pw_sha256_ctx c = inner_start;
  for (int i = 0; i < count; i++) pw_sha256_update(&c, parts[i].p, parts[i].n);
  pw_sha256_final(&c, inner);
  c = outer_start;
  pw_sha256_update(&c, inner, 32);
  pw_sha256_final(&c, out);
}
