/* control: commands inside an authenticated control session (TCP, with a bus key). The harness has
 * answered the challenge; each input line ending in '}' is signed as a keyed client signs it
 * (tools/client.ts: a rising "seq", then "mac" last over the nonce and the text), any other line goes
 * as it is. The first byte chooses the segmentation; the second whether the peer reads slowly (bit 0-2
 * zero) and whether seq stays put instead of rising (bit 4), as a replaying attacker's would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_host.h"
#include "hmac.h"
#include "target.h"

#define CONN 7
#define PORT 12345
#define START 0xFFFFFF00u /* across the u32 wrap of the clock */
#define KEY "fuzzing-bus-key-0123456789"

static u32 heap;
static char nonce[33];
static uint8_t stream[1 << 16];

static void hex(const uint8_t* b, size_t n, char* out) {
  static const char DIGITS[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) out[2 * i] = DIGITS[b[i] >> 4], out[2 * i + 1] = DIGITS[b[i] & 15];
  out[2 * n] = 0;
}

void target_prepare(void) {
  fuzz_start("http_port=0\ncontrol_port=12345\nkey=" KEY, 1000);
  heap = Z_coreZ_stat(&core, PW_STAT_HEAP_TOP);
  if ((int32_t)Z_coreZ_tcp_accepted(&core, PORT, CONN, 0x7f000001, 4000, START) != PW_OK) abort();
  host.sent[host.sent_len < FUZZ_SENT_MAX ? host.sent_len : FUZZ_SENT_MAX - 1] = 0;
  const char* c = strstr((const char*)host.sent, "\"challenge\":\"");
  if (!c || strlen(c) < 13 + 32) abort(); /* no challenge: the harness would fuzz nothing */
  memcpy(nonce, c + 13, 32);
  nonce[32] = 0;
  uint8_t mac[32];
  char line[128] = "{\"auth\":\"";
  fuzz_span parts[] = {{(const uint8_t*)"picowire-auth:", 14}, {(const uint8_t*)nonce, 32}};
  fuzz_hmac(KEY, parts, 2, mac);
  hex(mac, 32, line + 9);
  strcat(line, "\"}\n");
  fuzz_deliver(CONN, (const uint8_t*)line, strlen(line), PW_IO_CAPACITY, START);
  host.sent[host.sent_len < FUZZ_SENT_MAX ? host.sent_len : FUZZ_SENT_MAX - 1] = 0;
  if (!strstr((const char*)host.sent, "\"authenticated\":true")) abort();
}

/* Appends one line, signed when it ends in '}'; returns the new length (unchanged when full). */
static size_t append_line(size_t at, const uint8_t* l, size_t n, u32 seq) {
  if (at + n + 128 > sizeof stream) return at;
  if (n < 2 || l[n - 1] != '}') {
    memcpy(stream + at, l, n);
    stream[at + n] = '\n';
    return at + n + 1;
  }
  size_t start = at;
  memcpy(stream + at, l, n - 1);
  at += n - 1;
  at += (size_t)snprintf((char*)stream + at, 32, "%s\"seq\":%u", l[n - 2] == '{' ? "" : ",", seq);
  uint8_t mac[32];
  fuzz_span parts[] = {{(const uint8_t*)nonce, 32}, {stream + start, at - start}, {(const uint8_t*)"}", 1}};
  fuzz_hmac(KEY, parts, 3, mac);
  memcpy(stream + at, ",\"mac\":\"", 8);
  hex(mac, 32, (char*)stream + at + 8);
  memcpy(stream + at + 72, "\"}\n", 3);
  return at + 75;
}

void target_run(const uint8_t* data, size_t size) {
  if (size < 2) return;
  int replay = data[1] & 0x10;
  size_t at = 0;
  u32 seq = 1;
  for (size_t i = 2, from = 2; i <= size; i++) {
    if (i < size && data[i] != '\n') continue;
    at = append_line(at, data + from, i - from, seq);
    if (!replay) seq++;
    from = i + 1;
  }
  u32 now = START;
  fuzz_deliver_chosen(CONN, data[0], data[1], stream, at, now);
  Z_coreZ_tick(&core, now += 200);
  Z_coreZ_tcp_closed(&core, CONN, PW_TCP_FIN, now);
  for (int i = 0; i < 10; i++) Z_coreZ_tick(&core, now += 200); /* fail-safe reverts, idle timers */
  if (Z_coreZ_stat(&core, PW_STAT_HEAP_TOP) != heap) abort();
}
