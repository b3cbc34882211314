/* SHA-256 compression (sha256_block.h). The SHA-NI path follows Intel's reference sequence (the state as
 * ABEF/CDGH, four rounds per message quad); it is checked against the portable path on first use, so a
 * CPU or compiler that gets it wrong stops the fuzzer instead of signing everything wrongly. */
#include "sha256_block.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pw_sha256.h"
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static void portable(uint32_t h[8], const uint8_t p[64]) {
  pw_sha256_ctx c;
  memcpy(c.h, h, sizeof c.h);
  c.len = 0;
  c.used = 0;
  pw_sha256_update(&c, p, 64); /* an empty buffer and a whole block: exactly one compression */
  memcpy(h, c.h, sizeof c.h);
}

#if defined(__x86_64__)
__attribute__((target("sha,sse4.1"))) static void sha_ni(uint32_t h[8], const uint8_t p[64]) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i*)&h[0]), 0xb1); /* CDAB */
  __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i*)&h[4]), 0x1b); /* EFGH */
  __m128i s0 = _mm_alignr_epi8(t, s1, 8); /* ABEF */
  s1 = _mm_blend_epi16(s1, t, 0xf0); /* CDGH */
  const __m128i abef = s0, cdgh = s1;
  __m128i m[4];
  for (int i = 0; i < 16; i++) {
    if (i < 4) {
      m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(p + 16 * i)), bswap);
    } else { /* W[4i..4i+3] from the four quads before */
      __m128i w9 = _mm_alignr_epi8(m[(i + 3) % 4], m[(i + 2) % 4], 4);
      m[i % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(m[i % 4], m[(i + 1) % 4]), w9), m[(i + 3) % 4]);
    }
    __m128i k = _mm_add_epi32(m[i % 4], _mm_loadu_si128((const __m128i*)&pw_sha256_k[4 * i]));
    s1 = _mm_sha256rnds2_epu32(s1, s0, k);
    s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(k, 0x0e));
  }
  s0 = _mm_add_epi32(s0, abef);
  s1 = _mm_add_epi32(s1, cdgh);
  t = _mm_shuffle_epi32(s0, 0x1b); /* FEBA */
  s1 = _mm_shuffle_epi32(s1, 0xb1); /* DCHG */
  _mm_storeu_si128((__m128i*)&h[0], _mm_blend_epi16(t, s1, 0xf0)); /* DCBA */
  _mm_storeu_si128((__m128i*)&h[4], _mm_alignr_epi8(s1, t, 8)); /* HGFE */
}

static int has_sha_ni(void) {
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1);
}
#endif

static void first_use(uint32_t h[8], const uint8_t p[64]);
static void (*compress)(uint32_t[8], const uint8_t[64]) = first_use;

/* Picks the implementation; the fast one only after it agrees with the portable one on 64 blocks. */
static void first_use(uint32_t h[8], const uint8_t p[64]) {
  compress = portable;
#if defined(__x86_64__)
  if (has_sha_ni()) {
    uint32_t a[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint32_t b[8];
    memcpy(b, a, sizeof b);
    uint8_t block[64];
    for (int round = 0; round < 64; round++) {
      for (int i = 0; i < 64; i++) block[i] = (uint8_t)(round * 131 + i * 7 + (a[i % 8] >> (i % 24)));
      portable(a, block);
      sha_ni(b, block);
    }
    if (memcmp(a, b, sizeof a) != 0) {
      fprintf(stderr, "fuzz: the SHA-NI compression disagrees with the portable one\n");
      abort();
    }
    compress = sha_ni;
  }
#endif
  compress(h, p);
}

void fuzz_sha256_block(uint32_t h[8], const uint8_t p[64]) { compress(h, p); }
