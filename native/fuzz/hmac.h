/* HMAC-SHA256 (RFC 2104) for the targets that must speak with the bus key: the control session signs
 * its commands, the bus tags its datagrams. */
#ifndef PW_FUZZ_HMAC_H
#define PW_FUZZ_HMAC_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const uint8_t* p;
  size_t n;
} fuzz_span;

/* The MAC of the concatenation of the parts (key: a string constant, compared by address). */
void fuzz_hmac(const char* key, const fuzz_span* parts, int count, uint8_t out[32]);
#endif
