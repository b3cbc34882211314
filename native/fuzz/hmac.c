/* HMAC-SHA256 over native/host/pw_sha256 (hmac.h). */
#include "hmac.h"
#include <string.h>
#include "pw_sha256.h"

void fuzz_hmac(const char* key, const fuzz_span* parts, int count, uint8_t out[32]) {
  uint8_t k[64] = {0}, pad[64], inner[32];
  size_t kn = strlen(key);
  if (kn > 64) pw_sha256((const uint8_t*)key, kn, k);
  else memcpy(k, key, kn);
  pw_sha256_ctx c;
  for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  pw_sha256_init(&c);
  pw_sha256_update(&c, pad, 64);
  for (int i = 0; i < count; i++) pw_sha256_update(&c, parts[i].p, parts[i].n);
  pw_sha256_final(&c, inner);
  for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  pw_sha256_init(&c);
  pw_sha256_update(&c, pad, 64);
  pw_sha256_update(&c, inner, 32);
  pw_sha256_final(&c, out);
}
