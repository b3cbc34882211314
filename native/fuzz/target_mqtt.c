/* mqtt: the broker's side of an MQTT connection, after a CONNACK that accepts the board (discovery on,
 * two peers: every topic path is reachable). The first two bytes as in target_http.c. */
#include <stdlib.h>
#include "fuzz_host.h"
#include "target.h"

#define CONN 100 /* the first handle tcp_connect gives */
#define START 0xFFFFFF00u

static u32 heap;

void target_prepare(void) {
  fuzz_start("http_port=0\ncontrol_port=0\nmqtt=mqtt://127.0.0.1:1883\nmqtt_id=f\nmqtt_peers=2", START);
  heap = Z_coreZ_stat(&core, PW_STAT_HEAP_TOP);
  Z_coreZ_tick(&core, START); /* dials */
  if (host.next_handle != CONN + 1) abort(); /* the harness would fuzz nothing */
  Z_coreZ_tcp_connected(&core, CONN, PW_OK, START);
  static const uint8_t CONNACK[] = {0x20, 2, 0, 0};
  fuzz_deliver(CONN, CONNACK, sizeof CONNACK, 4, START);
}

void target_run(const uint8_t* data, size_t size) {
  if (size < 2) return;
  u32 now = START;
  fuzz_deliver_chosen(CONN, data[0], data[1], data + 2, size - 2, now);
  for (int i = 0; i < 10; i++) Z_coreZ_tick(&core, now += 200);
  Z_coreZ_tcp_closed(&core, CONN, PW_ERR_CLOSED, now);
  for (int i = 0; i < 3; i++) Z_coreZ_tick(&core, now += 1700); /* the reconnect backoff */
  if (Z_coreZ_stat(&core, PW_STAT_HEAP_TOP) != heap) abort();
}
