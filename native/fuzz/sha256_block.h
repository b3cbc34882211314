/* One SHA-256 compression (FIPS 180-4) for the harness's HMACs: with the x86 SHA extensions when the
 * CPU has them (a tenth of the portable code's time), else through native/host/pw_sha256. */
#ifndef PW_FUZZ_SHA256_BLOCK_H
#define PW_FUZZ_SHA256_BLOCK_H
#include <stdint.h>

/* Folds the 64-byte block p into the state h. */
void fuzz_sha256_block(uint32_t h[8], const uint8_t p[64]);
#endif
