/* http (and frame, which includes this file after a WebSocket upgrade): the bytes a TCP peer sends to
 * the HTTP port. The first two input bytes choose the segmentation and whether the peer reads slowly. */
#include <stdlib.h>
#include "fuzz_host.h"
#include "target.h"

#define CONN 5
#define START 0xFFFFFF00u /* the input runs across the u32 wrap of the clock */

static u32 heap;

void target_prepare(void) {
  fuzz_start("http_port=80\nmax_conns=4\nws_echo=1\nws_max_message=4096\nws_ping_ms=100\nws_idle_ms=300", 1000);
  heap = Z_coreZ_stat(&core, PW_STAT_HEAP_TOP);
  if ((int32_t)Z_coreZ_tcp_accepted(&core, 80, CONN, 0x7f000001, 4000, START) != PW_OK) abort();
#ifdef FUZZ_WS_UPGRADE
  static const char UPGRADE[] =
      "GET /echo HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  fuzz_deliver(CONN, (const uint8_t*)UPGRADE, sizeof UPGRADE - 1, PW_IO_CAPACITY, START);
  if (host.sent_len < 12 || memcmp(host.sent, "HTTP/1.1 101", 12) != 0) abort(); /* would fuzz nothing */
#endif
}

void target_run(const uint8_t* data, size_t size) {
  if (size < 2) return;
  u32 now = START;
  fuzz_deliver_chosen(CONN, data[0], data[1], data + 2, size - 2, now);
  Z_coreZ_tick(&core, now += 200);
  Z_coreZ_tcp_closed(&core, CONN, PW_TCP_FIN, now);
  for (int i = 0; i < 20; i++) Z_coreZ_tick(&core, now += 100);
  if (Z_coreZ_stat(&core, PW_STAT_HEAP_TOP) != heap) abort(); /* allocation after init */
}
