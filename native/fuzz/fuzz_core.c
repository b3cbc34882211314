/* libFuzzer harness for the identical build/picowire.wasm, translated by wasm2c (tools/fuzz/run.sh).
 * One binary per target (FUZZ_TARGET_RGB, _JSON, _HTTP, _FRAME, _MQTT). A wasm trap is a crash: the core must never
 * trap on any input. So is an allocation after init (the heap top moving). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "core.h"
#include "picowire_abi.h"

/* The import module's instance: what the core's imports see as their host. */
struct Z_picowire_instance_t {
  uint32_t next_handle;
  uint32_t window; /* bytes tcp_send accepts per call, from the input */
  uint32_t random;
};

static Z_core_instance_t core;
static struct Z_picowire_instance_t host;
static int ready;

static uint8_t* mem(void) { return core.w2c_memory.data; }

/* Only the imports the current core uses exist in core.h; add one here when the core starts using it. */
void Z_picowireZ_log(struct Z_picowire_instance_t* h, u32 level, u32 p, u32 n) {
  (void)h; (void)level;
  if (p + (uint64_t)n > core.w2c_memory.size) abort(); /* the core passed a bad pointer */
  if (getenv("PW_FUZZ_VERBOSE")) fprintf(stderr, "%.*s\n", (int)n, (const char*)mem() + p);
}
void Z_picowireZ_random_fill(struct Z_picowire_instance_t* h, u32 p, u32 n) {
  if (p + (uint64_t)n > core.w2c_memory.size) abort();
  for (u32 i = 0; i < n; i++) mem()[p + i] = (uint8_t)(h->random = h->random * 1103515245u + 12345u) >> 3;
}
u32 Z_picowireZ_tcp_listen(struct Z_picowire_instance_t* h, u32 port) { (void)h; (void)port; return 1; }
u32 Z_picowireZ_tcp_connect(struct Z_picowire_instance_t* h, u32 ip, u32 port) { (void)ip; (void)port; return h->next_handle++; }
u32 Z_picowireZ_tcp_send(struct Z_picowire_instance_t* h, u32 conn, u32 p, u32 n) {
  (void)conn;
  if (p + (uint64_t)n > core.w2c_memory.size) abort();
  return n < h->window ? n : h->window;
}
void Z_picowireZ_tcp_resume(struct Z_picowire_instance_t* h, u32 conn) { (void)h; (void)conn; }
u32 Z_picowireZ_tcp_close(struct Z_picowire_instance_t* h, u32 conn) { (void)h; (void)conn; return 0; }
void Z_picowireZ_tcp_abort(struct Z_picowire_instance_t* h, u32 conn) { (void)h; (void)conn; }
u32 Z_picowireZ_pwm_set(struct Z_picowire_instance_t* h, u32 pin, u32 f, u32 d) { (void)h; (void)pin; (void)f; (void)d; return 0; }
u32 Z_picowireZ_adc_read(struct Z_picowire_instance_t* h, u32 ch) { (void)h; return ch * 1000; }

void fuzz_trap(int code) {
  fprintf(stderr, "core trapped: %s\n", wasm_rt_strerror((wasm_rt_trap_t)code));
  abort();
}

static u32 io_write(const uint8_t* d, size_t n) {
  if (n > PW_IO_CAPACITY) n = PW_IO_CAPACITY;
  memcpy(mem() + Z_coreZ_io_buffer(&core), d, n);
  return (u32)n;
}

static void start_at(const char* config, u32 now) {
  if (ready) Z_core_free(&core);
  memset(&host, 0, sizeof host);
  host.next_handle = 100;
  host.window = 1u << 30;
  Z_core_instantiate(&core, &host);
  ready = 1;
  if ((int32_t)Z_coreZ_init(&core, io_write((const uint8_t*)config, strlen(config)), now) != PW_OK) abort();
}

static void start(const char* config) { start_at(config, 1000); }

/* Offers bytes as a host does: re-offering what the core did not consume after a send-queue drain. */
static void deliver(u32 conn, const uint8_t* d, size_t n, size_t chunk, u32 now) {
  size_t at = 0;
  int stalls = 0;
  while (at < n && stalls < 64) {
    size_t k = n - at < chunk ? n - at : chunk;
    u32 used = Z_coreZ_tcp_data(&core, conn, io_write(d + at, k), now);
    if (used > k) abort();
    at += used;
    if (used < k) {
      stalls++;
      host.window = 1u << 30; /* the peer reads again */
      Z_coreZ_tcp_sent(&core, conn, 1u << 20, now);
    }
  }
}

static const char UPGRADE[] =
    "GET /echo HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/* discovery on, two peers: every topic path is reachable */
static const char MQTT_CONFIG[] = "http_port=0\ncontrol_port=0\nmqtt=mqtt://127.0.0.1:1883\nmqtt_id=f\nmqtt_peers=2";

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc; (void)argv;
  wasm_rt_init();
  Z_core_init_module();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#if defined(FUZZ_TARGET_RGB)
  if (!ready) start("http_port=0");
  for (u32 fmt = 0; fmt < 3; fmt++) {
    int32_t r = (int32_t)Z_coreZ_rgb_parse(&core, io_write(data, size), fmt);
    if (r > 0xffffff) abort();
  }
#elif defined(FUZZ_TARGET_JSON)
  if (!ready) start("http_port=0");
  u32 n = io_write(data, size);
  int32_t r = (int32_t)Z_coreZ_json_parse(&core, n, 8);
  if (r > 16 || (r < 0 && (uint32_t)(-1 - r) > n)) abort(); /* members within the table, errors inside the text */
#elif defined(FUZZ_TARGET_MQTT)
  /* the bytes are the broker's side of an MQTT connection, after a CONNACK that accepts the board */
  if (size < 2) return 0;
  size_t chunk = 1 + data[0] % 97;
  uint32_t window = data[1] % 8 == 0 ? 3 : 1u << 30;
  data += 2;
  size -= 2;
  u32 now = 0xFFFFFF00u; /* across the u32 wrap */
  start_at(MQTT_CONFIG, now);
  u32 heap = Z_coreZ_stat(&core, PW_STAT_HEAP_TOP);
  Z_coreZ_tick(&core, now); /* dials: tcp_connect gives handle 100 */
  if (host.next_handle != 101) abort(); /* the harness would fuzz nothing */
  Z_coreZ_tcp_connected(&core, 100, PW_OK, now);
  static const uint8_t CONNACK[] = {0x20, 2, 0, 0};
  deliver(100, CONNACK, sizeof CONNACK, 4, now);
  host.window = window;
  deliver(100, data, size, chunk, now);
  for (int i = 0; i < 20; i++) Z_coreZ_tick(&core, now += 100);
  Z_coreZ_tcp_closed(&core, 100, PW_ERR_CLOSED, now);
  for (int i = 0; i < 5; i++) Z_coreZ_tick(&core, now += 1000);
  if (Z_coreZ_stat(&core, PW_STAT_HEAP_TOP) != heap) abort();
#else
  if (size < 2) return 0;
  size_t chunk = 1 + data[0] % 97; /* the input chooses its own segmentation ... */
  uint32_t window = data[1] % 8 == 0 ? 3 : 1u << 30; /* ... and whether the peer reads slowly */
  data += 2;
  size -= 2;
  start("http_port=80\nmax_conns=4\nws_echo=1\nws_max_message=4096\nws_ping_ms=100\nws_idle_ms=300");
  u32 heap = Z_coreZ_stat(&core, PW_STAT_HEAP_TOP);
  u32 now = 0xFFFFFF00u; /* across the u32 wrap */
  if ((int32_t)Z_coreZ_tcp_accepted(&core, 1, 5, 0x7f000001, 4000, now) != PW_OK) abort();
#if defined(FUZZ_TARGET_FRAME)
  deliver(5, (const uint8_t*)UPGRADE, sizeof UPGRADE - 1, 1536, now);
#endif
  host.window = window;
  deliver(5, data, size, chunk, now);
  Z_coreZ_tick(&core, now += 200);
  Z_coreZ_tcp_closed(&core, 5, PW_TCP_FIN, now);
  for (int i = 0; i < 20; i++) Z_coreZ_tick(&core, now += 100);
  if (Z_coreZ_stat(&core, PW_STAT_HEAP_TOP) != heap) abort(); /* allocation after init */
#endif
  return 0;
}
