/* SHA-256 (FIPS 180-4), small and portable: the host checks core images in flash slots with it and the
 * wasm3 engine names the core it loaded. Streaming, so an image can be hashed piece by piece. */
#ifndef PW_SHA256_H
#define PW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pw_sha256_ctx {
  uint32_t h[8];
  uint64_t len; /* bytes hashed so far */
  uint8_t buf[64];
  uint32_t used; /* bytes waiting in buf */
} pw_sha256_ctx;

/** The 64 round constants (FIPS 180-4, 4.2.2), for other implementations of the compression. */
extern const uint32_t pw_sha256_k[64];

void pw_sha256_init(pw_sha256_ctx *c);
void pw_sha256_update(pw_sha256_ctx *c, const uint8_t *data, size_t len);
void pw_sha256_final(pw_sha256_ctx *c, uint8_t out[32]);
/** One call: the digest of data[0, len). */
void pw_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
/** Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void pw_hex(const uint8_t *bytes, size_t n, char *out);

#ifdef __cplusplus
}
#endif
#endif
