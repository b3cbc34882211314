/* The fake host's imports (fuzz_host.h). Only the imports a target needs are here; tools/fuzz/run.sh
 * generates weak do-nothing versions of all the others from the translated core.h. */
#include "fuzz_host.h"
#include "guard.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fuzz_tracing;
Z_core_instance_t core;
struct Z_picowire_instance_t host;
static int instantiated;

uint8_t* fuzz_mem(void) { return core.w2c_memory.data; }

static void check_range(u32 p, u32 n) {
  if (p + (uint64_t)n > core.w2c_memory.size) abort(); /* the core passed a bad pointer */
}

static void mix(struct Z_picowire_instance_t* h, const void* d, size_t n) {
  if (!fuzz_tracing) return;
  const uint8_t* b = d;
  for (size_t i = 0; i < n; i++) h->trace = (h->trace ^ b[i]) * 0x100000001b3ull;
}

static void mix_call(struct Z_picowire_instance_t* h, u32 id, u32 a, u32 b, u32 c) {
  u32 w[4] = {id, a, b, c};
  mix(h, w, sizeof w);
}

static void keep_sent(struct Z_picowire_instance_t* h, u32 p, u32 n) {
  if (!fuzz_tracing) return;
  h->sent_len = n < FUZZ_SENT_MAX ? n : FUZZ_SENT_MAX;
  memcpy(h->sent, fuzz_mem() + p, h->sent_len);
  mix(h, h->sent, h->sent_len);
}

void Z_picowireZ_log(struct Z_picowire_instance_t* h, u32 level, u32 p, u32 n) {
  check_range(p, n);
  mix_call(h, 1, level, n, 0);
  mix(h, fuzz_mem() + p, n);
  static int verbose = -1;
  if (verbose < 0) verbose = getenv("PW_FUZZ_VERBOSE") != NULL;
  if (verbose) fprintf(stderr, "%.*s\n", (int)n, (const char*)fuzz_mem() + p);
}
void Z_picowireZ_random_fill(struct Z_picowire_instance_t* h, u32 p, u32 n) {
  check_range(p, n);
  for (u32 i = 0; i < n; i++) fuzz_mem()[p + i] = (uint8_t)((h->random = h->random * 1103515245u + 12345u) >> 16);
}
u32 Z_picowireZ_xor_mask(struct Z_picowire_instance_t* h, u32 p, u32 n, u32 mask) {
  check_range(p, n);
  for (u32 i = 0; i < n; i++) fuzz_mem()[p + i] ^= (uint8_t)(mask >> (8 * (i & 3)));
  return 0;
}
u32 Z_picowireZ_tcp_listen(struct Z_picowire_instance_t* h, u32 port) {
  mix_call(h, 2, port, 0, 0);
  return port; /* a distinct listener handle per port */
}
u32 Z_picowireZ_tcp_connect(struct Z_picowire_instance_t* h, u32 ip, u32 port) {
  mix_call(h, 3, ip, port, 0);
  return h->next_handle++;
}
u32 Z_picowireZ_tcp_send(struct Z_picowire_instance_t* h, u32 conn, u32 p, u32 n) {
  check_range(p, n);
  u32 k = n < h->window ? n : h->window;
  mix_call(h, 4, conn, k, 0);
  keep_sent(h, p, k);
  return k;
}
void Z_picowireZ_tcp_resume(struct Z_picowire_instance_t* h, u32 conn) { mix_call(h, 5, conn, 0, 0); }
u32 Z_picowireZ_tcp_close(struct Z_picowire_instance_t* h, u32 conn) {
  mix_call(h, 6, conn, 0, 0);
  return 0;
}
void Z_picowireZ_tcp_abort(struct Z_picowire_instance_t* h, u32 conn) { mix_call(h, 7, conn, 0, 0); }
u32 Z_picowireZ_pwm_set(struct Z_picowire_instance_t* h, u32 pin, u32 f, u32 d) {
  mix_call(h, 8, pin, f, d);
  return 0;
}
u32 Z_picowireZ_adc_read(struct Z_picowire_instance_t* h, u32 ch) {
  mix_call(h, 9, ch, 0, 0);
  return ch * 1000;
}
u32 Z_picowireZ_udp_open(struct Z_picowire_instance_t* h, u32 port, u32 iface) {
  mix_call(h, 10, port, iface, 0);
  return port; /* a distinct socket per port */
}
u32 Z_picowireZ_udp_send(struct Z_picowire_instance_t* h, u32 sock, u32 ip, u32 port, u32 p, u32 n) {
  check_range(p, n);
  mix_call(h, 11, sock, ip, port);
  keep_sent(h, p, n);
  return 0;
}
u32 Z_picowireZ_wifi_ip(struct Z_picowire_instance_t* h, u32 iface) { return iface == PW_IFACE_STA ? h->ip : 0; }
u32 Z_picowireZ_board_id(struct Z_picowire_instance_t* h, u32 p, u32 n) {
  (void)h;
  check_range(p, n);
  for (u32 i = 0; i < n; i++) fuzz_mem()[p + i] = (uint8_t)(0xb0 + i);
  return n;
}

void fuzz_trap(int code) {
  fprintf(stderr, "core trapped: %s\n", wasm_rt_strerror((wasm_rt_trap_t)code));
  abort();
}

u32 fuzz_io_write(const uint8_t* d, size_t n) {
  if (n > PW_IO_CAPACITY) n = PW_IO_CAPACITY;
  memcpy(fuzz_mem() + Z_coreZ_io_buffer(&core), d, n);
  return (u32)n;
}

void fuzz_start(const char* config, u32 now) {
  if (instantiated) {
    uint8_t* data = core.w2c_memory.data;
    uint64_t size = core.w2c_memory.size;
    Z_core_free(&core);
    guard_release(data, size);
  }
  memset(&host, 0, sizeof host);
  host.next_handle = 100;
  host.window = 1u << 30;
  host.ip = 0x0a000001; /* 10.0.0.1: the bus needs an address to found a bus */
  Z_core_instantiate(&core, &host);
  instantiated = 1;
  if ((int32_t)Z_coreZ_init(&core, fuzz_io_write((const uint8_t*)config, strlen(config)), now) != PW_OK) abort();
}

void fuzz_deliver(u32 conn, const uint8_t* d, size_t n, size_t chunk, u32 now) {
  size_t at = 0;
  int stalls = 0;
  while (at < n && stalls < 64) {
    size_t k = n - at < chunk ? n - at : chunk;
    u32 used = Z_coreZ_tcp_data(&core, conn, fuzz_io_write(d + at, k), now);
    if (used > k) abort();
    at += used;
    if (used < k) {
      stalls++;
      host.window = 1u << 30; /* the peer reads again */
      Z_coreZ_tcp_sent(&core, conn, 1u << 20, now);
    }
  }
}

void fuzz_deliver_chosen(u32 conn, uint8_t seg, uint8_t reader, const uint8_t* d, size_t n, u32 now) {
  host.window = reader % 8 == 0 ? 3 : 1u << 30;
  fuzz_deliver(conn, d, n, 1 + seg % 97, now);
}
