/* bus: datagrams from other boards on the bus port, to a board that founded its bus with a key.
 * The input is records: flags u8, length u16 (little-endian), then the datagram from its type byte on
 * (the harness writes the "PW" magic and version before it and appends the HMAC tag, as a board with
 * the key would). Flags: bits 0-1 the sender (10.0.0.2-5); bit 2 the board's own bus id in the
 * header; bit 3 the board's term (plus the record's term % 4); bit 4 the record as it is (no magic,
 * no tag: forgeries, the tutorial's HELLO/WHO); bits 5-7 a tick that many 150 ms later.
 * At most RECORDS_MAX records count. */
#include <stdlib.h>
#include <string.h>
#include "fuzz_host.h"
#include "hmac.h"
#include "target.h"

#define KEY "fuzzing-bus-key-0123456789"
#define PORT 5000
#define START 0xFFFFF000u /* the input runs across the u32 wrap of the clock */
#define HEADER 24
#define TAG 16
#define RECORDS_MAX 8 /* datagrams per input: enough for join, list and a vote; keeps the speed */

static u32 heap;
static uint8_t bus_id[8];
static u32 term;
static u32 now;
static u32 ready_at;

void target_prepare(void) {
  now = START;
  fuzz_start("http_port=0\ncontrol_port=0\nbus=1\nbus_election_ms=200\nbus_heartbeat_ms=1000\nkey=" KEY, now);
  heap = Z_coreZ_stat(&core, PW_STAT_HEAP_TOP);
  for (int i = 0; i < 100 && Z_coreZ_stat(&core, PW_STAT_BUS_ROLE) != PW_BUS_ROLE_MASTER; i++) Z_coreZ_tick(&core, now += 50);
  if (Z_coreZ_stat(&core, PW_STAT_BUS_ROLE) != PW_BUS_ROLE_MASTER) abort(); /* would fuzz nothing */
  Z_coreZ_tick(&core, now += 100); /* a heartbeat: the bus id and term as the board sends them */
  if (host.sent_len < HEADER + TAG || host.sent[0] != 'P' || host.sent[1] != 'W') abort();
  uint8_t mac[32]; /* the harness tags as the board does, or every datagram would be dropped unseen */
  fuzz_span signed_part = {host.sent, host.sent_len - TAG};
  fuzz_hmac(KEY, &signed_part, 1, mac);
  if (memcmp(mac, host.sent + host.sent_len - TAG, TAG) != 0) abort();
  memcpy(bus_id, host.sent + 4, 8);
  memcpy(&term, host.sent + 12, 4);
  ready_at = now;
}

static void datagram(uint8_t flags, const uint8_t* d, size_t n) {
  static uint8_t out[PW_IO_CAPACITY];
  size_t len;
  if (flags & 0x10) {
    len = n < sizeof out ? n : sizeof out;
    memcpy(out, d, len);
  } else {
    if (n > sizeof out - 3 - TAG) n = sizeof out - 3 - TAG;
    out[0] = 'P', out[1] = 'W', out[2] = 1;
    memcpy(out + 3, d, n);
    len = 3 + n;
    if (flags & 0x04 && len >= 12) memcpy(out + 4, bus_id, 8);
    if (flags & 0x08 && len >= 16) {
      u32 t = term + out[12] % 4;
      memcpy(out + 12, &t, 4);
    }
    uint8_t mac[32];
    fuzz_span part = {out, len};
    fuzz_hmac(KEY, &part, 1, mac);
    memcpy(out + len, mac, TAG);
    len += TAG;
  }
  Z_coreZ_udp_data(&core, PORT, 0x0a000002 + (flags & 3), PORT, fuzz_io_write(out, len), now);
  if (flags >> 5) Z_coreZ_tick(&core, now += (u32)(flags >> 5) * 150); /* one tick: due timers fire together */
}

void target_run(const uint8_t* data, size_t size) {
  now = ready_at;
  int records = 0;
  for (size_t at = 0; at + 3 <= size && records++ < RECORDS_MAX;) {
    size_t n = data[at + 1] | (size_t)data[at + 2] << 8;
    if (n > size - at - 3) n = size - at - 3;
    datagram(data[at], data + at + 3, n);
    at += 3 + n;
  }
  for (int i = 0; i < 2; i++) Z_coreZ_tick(&core, now += 600); /* a heartbeat, election timers */
  if (Z_coreZ_stat(&core, PW_STAT_HEAP_TOP) != heap) abort();
}
