/* picowire_emu: a boot + benchmark image that needs no radio (rp2040js does not emulate the CYW43).
 *
 * Prints a banner on UART0, starts the embedded core through the same C host as the firmware (with a
 * loopback platform: no lwIP, connections are driven from here), checks init, then measures through
 * the core:
 *   - RGB text parse: "r,g,b" copied into the io buffer + the rgb_parse export;
 *   - WebSocket echo: masked binary frames fed to an /echo connection as tcp_data; the core parses,
 *     unmasks (8-byte words) and echoes them through tcp_send; cycles per payload byte end to end;
 *   - the same unmask in plain C (byte and 32-bit word loops) as the native baseline.
 * Time comes from the 1 MHz timer; in rp2040js it advances exactly with executed cycles at 125 MHz, so
 * cycles = microseconds x 125. tools/emu/run.ts runs it and stops at "picowire emu: done".
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "hardware/clocks.h"
#include "hardware/timer.h"
#include "pico/stdlib.h"

#include "picowire_core_wasm.h"
#include "pw_assets.h"
#include "pw_boot.h"
#include "pw_flash_regions.h"
#include "pw_host.h"
#include "pw_pico_stack.h"
#include "pixels_pio.h"

#ifndef PW_ENGINE_VTBL
#define PW_ENGINE_VTBL pw_engine_wasm2c
#endif
extern const pw_engine_vtbl PW_ENGINE_VTBL;
#pragma weak pw_wasm3_log_usage /* linked only in the wasm3 image */

#define EMU_CYCLES_PER_US 125u

uint32_t pw_pico_stack[PW_PICO_STACK_BYTES / 4] __attribute__((aligned(8)));

/* PW_EMU_HEAP_KB (CMake PICOWIRE_EMU_HEAP_KB, a measurement image only): the C heap lives in RAM that
 * only an enlarged rp2040js has (tools/emu/run.ts --sram-kb), past the RP2040's 264 KB, so a core that
 * does not fit the board (wasm3 with the whole core) still loads and its heap and speed can be measured.
 * Overrides the SDK's weak _sbrk. */
#if defined(PW_EMU_HEAP_KB) && PW_EMU_HEAP_KB > 0
#define EMU_HEAP_BASE ((char *)0x20042000) /* just past SCRATCH_Y, the end of the real SRAM */
void *_sbrk(int incr) {
  static char *brk = EMU_HEAP_BASE;
  if (brk + incr > EMU_HEAP_BASE + PW_EMU_HEAP_KB * 1024 || brk + incr < EMU_HEAP_BASE) return (void *)-1;
  char *prev = brk;
  brk += incr;
  return prev;
}
#endif

extern char __StackLimit, end; /* the linker script's heap: from the end of .bss to the stack limit */

/* Bytes malloc has handed out (newlib's mallinfo: allocator overhead included). */
static uint32_t heap_used(void) { return (uint32_t)mallinfo().uordblks; }

static pw_host host;
static pw_platform ops;


/* ------------------------------------------------------------------ loopback platform */

static struct {
  int32_t listener; /* host handle of the port-80 listener the core opened */
  uint32_t echoed;  /* bytes the core sent on the benchmark connection */
  bool upgraded;    /* saw "HTTP/1.1 101" */
  char head[16];
  uint32_t head_len;
  uint32_t rng;
  bool quiet;
} E;

static uint32_t emu_now(void *ctx) { return to_ms_since_boot(get_absolute_time()); }

static void emu_log(void *ctx, int32_t level, const char *msg, size_t len) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  if (E.quiet && level > PW_LOG_WARN) return;
  printf("[%s] %.*s\n", level >= 0 && level <= 3 ? names[level] : "?", (int)len, msg);
}

static int32_t emu_random(void *ctx, uint8_t *dst, size_t len) {
  for (size_t i = 0; i < len; i++) {
    E.rng ^= E.rng << 13, E.rng ^= E.rng >> 17, E.rng ^= E.rng << 5;
    dst[i] = (uint8_t)E.rng;
  }
  return PW_OK;
}

static int32_t emu_listen(void *ctx, int32_t listener, uint16_t port) {
  if (port == 80) E.listener = listener;
  return PW_OK;
}

static int32_t emu_send(void *ctx, int32_t conn, const uint8_t *src, size_t len) {
  if (E.head_len < sizeof E.head - 1) {
    size_t n = len < sizeof E.head - 1 - E.head_len ? len : sizeof E.head - 1 - E.head_len;
    memcpy(E.head + E.head_len, src, n);
    E.head_len += (uint32_t)n;
    E.head[E.head_len] = 0;
    if (strncmp(E.head, "HTTP/1.1 101", 12) == 0) E.upgraded = true;
  }
  E.echoed += (uint32_t)len;
  pw_host_on_tcp_sent(&host, conn, len); /* an infinitely fast peer: acknowledged at once */
  return (int32_t)len;
}

static void emu_close(void *ctx, int32_t conn) {}

/* ------------------------------------------------------------------ helpers */

static void service_until_idle(void) {
  for (int i = 0; i < 64; i++) {
    int32_t wait = 0;
    if (pw_host_service(&host, &wait) != PW_OK) return;
    if (wait != 0) return;
  }
}

static uint32_t cycles_since(uint64_t t0) { return (uint32_t)((time_us_64() - t0) * EMU_CYCLES_PER_US); }

static void print_ratio(const char *what, uint64_t cycles, uint32_t units, const char *unit) {
  uint64_t x100 = units ? cycles * 100u / units : 0;
  printf("bench: %-44s %6lu.%02lu cycles/%s\n", what, (unsigned long)(x100 / 100), (unsigned long)(x100 % 100), unit);
}

/* ------------------------------------------------------------------ benchmarks */

static void bench_rgb(void) {
  static const char text[] = "255,128,7";
  const uint32_t n = 2000;
  uint32_t size = 0;
  uint8_t *mem = host.engine.v->memory(&host.engine, &size);
  int32_t result = 0;
  uint64_t t0 = time_us_64();
  for (uint32_t i = 0; i < n; i++) {
    memcpy(mem + host.io, text, sizeof text - 1);
    host.engine.v->rgb_parse(&host.engine, &result, (int32_t)(sizeof text - 1), PW_RGB_FMT_TEXT);
  }
  uint64_t cycles = (time_us_64() - t0) * EMU_CYCLES_PER_US;
  printf("bench: rgb_parse(\"%s\") = 0x%06lx\n", text, (unsigned long)result);
  print_ratio("rgb text parse through the core (per parse)", cycles, n, "parse");
  print_ratio("rgb text parse through the core (per byte)", cycles, n * (uint32_t)(sizeof text - 1), "B");
}

static uint8_t frame[8 + 1024] __attribute__((aligned(4)));
static const uint8_t frame_mask[4] = {0x37, 0xfa, 0x21, 0x3d};

/* one masked binary frame, 1024 bytes of payload, 16-bit length */
static void build_frame(void) {
  const uint32_t payload = 1024;
  frame[0] = 0x82, frame[1] = 0x80 | 126, frame[2] = payload >> 8, frame[3] = payload & 255;
  memcpy(frame + 4, frame_mask, 4);
  for (uint32_t i = 0; i < payload; i++) frame[8 + i] = (uint8_t)(i * 7u) ^ frame_mask[i & 3];
}

static int32_t ws_conn;

static void ws_frames(const char *label, bool stream);

static void bench_ws(void) {
  static const char req[] =
      "GET /echo HTTP/1.1\r\nHost: emu\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (E.listener <= 0) {
    printf("bench: ws echo skipped: the core opened no listener on port 80\n");
    return;
  }
  int32_t conn = pw_host_on_tcp_accept(&host, E.listener, 0x7F000002u, 40000);
  if (conn <= 0) {
    printf("bench: ws echo skipped: accept refused (%ld)\n", (long)conn);
    return;
  }
  service_until_idle();
  pw_host_on_tcp_data(&host, conn, (const uint8_t *)req, sizeof req - 1);
  service_until_idle();
  if (!E.upgraded) {
    printf("bench: ws echo skipped: no 101 from the core (got \"%s\")\n", E.head);
    return;
  }
  printf("bench: ws handshake ok (%s)\n", "HTTP/1.1 101");
  ws_conn = conn;
  /* "idle between frames": the host runs until idle after each segment, so with the canary on every
   * frame also pays a full pass of the area above the cap; "streamed": one service round per segment,
   * as when data keeps arriving (one canary stripe per round) */
  ws_frames("ws echo 1 KiB masked frames, memory canary on", false);
  host.opt.check_canary = false;
  ws_frames("ws echo 1 KiB masked frames, canary off", false);
  host.opt.check_canary = true;
  ws_frames("ws echo 1 KiB frames streamed, canary on", true);
  host.opt.check_canary = false;
  ws_frames("ws echo 1 KiB frames streamed, canary off", true);
  host.opt.check_canary = true;
}

static void ws_frames(const char *label, bool stream) {
  int32_t conn = ws_conn;

  const uint32_t payload = 1024, frames = 64;
  build_frame();

  E.echoed = 0;
  uint64_t t0 = time_us_64();
  for (uint32_t f = 0; f < frames; f++) {
    size_t off = 0;
    while (off < sizeof frame) {
      off += pw_host_on_tcp_data(&host, conn, frame + off, sizeof frame - off);
      if (stream) {
        int32_t wait;
        pw_host_service(&host, &wait);
      } else {
        service_until_idle();
      }
    }
  }
  service_until_idle();
  uint32_t cycles = cycles_since(t0);
  printf("bench: ws echo: %lu frames x %lu B in, %lu B echoed\n", (unsigned long)frames, (unsigned long)payload,
         (unsigned long)E.echoed);
  print_ratio(label, cycles, frames * payload, "B");
}

/* The plain C limit for bench_ws_parse: the same header checks and a 32-bit-word unmask in place. */
static __attribute__((noinline)) uint32_t c_parse_unmask(uint8_t *p, uint32_t n) {
  if (n < 2 || (p[0] & 0x70) || !(p[1] & 0x80)) return 0;
  uint32_t len = p[1] & 127, o = 2;
  if (len == 126) len = (uint32_t)p[2] << 8 | p[3], o = 4;
  else if (len == 127) return 0;
  if (n < o + 4 + len) return 0;
  uint32_t m;
  memcpy(&m, p + o, 4);
  uint8_t *q = p + o + 4;
  uint32_t i = 0;
  for (; i < len && ((uintptr_t)(q + i) & 3); i++) q[i] ^= (uint8_t)(m >> (8 * (i & 3)));
  uint32_t mr = i ? (m >> (8 * i)) | (m << (32 - 8 * i)) : m; /* the mask as seen from the aligned word */
  for (; i + 4 <= len; i += 4) *(uint32_t *)(q + i) ^= mr;
  for (; i < len; i++) q[i] ^= (uint8_t)(m >> (8 * (i & 3)));
  return o + 4 + len;
}

/* Issue 4's measure: unmask + parse of 1 KiB frames in the core alone. Each masked frame is copied into
 * the io buffer and given to the tcp_data export directly: no host hold, no service round, no tick
 * (what a busy round adds is in the echo figures above). The copies are timed alone and taken off. The
 * core's /echo still makes one tcp_send call per frame (the loopback port only counts it). */
static void bench_ws_parse(void) {
  if (ws_conn <= 0) return;
  const uint32_t payload = 1024, frames = 64;
  build_frame();
  uint32_t size = 0;
  uint8_t *io = host.engine.v->memory(&host.engine, &size) + host.io;
  uint32_t now = emu_now(NULL), bad = 0;
  uint64_t t0 = time_us_64();
  for (uint32_t f = 0; f < frames; f++) {
    memcpy(io, frame, sizeof frame);
    int32_t used = 0;
    host.engine.v->tcp_data(&host.engine, &used, ws_conn, (int32_t)sizeof frame, now);
    bad += used != (int32_t)sizeof frame;
  }
  uint64_t total = time_us_64() - t0;
  t0 = time_us_64();
  for (uint32_t f = 0; f < frames; f++) {
    memcpy(io, frame, sizeof frame);
    __asm volatile("" ::: "memory");
  }
  uint64_t copies = time_us_64() - t0;
  static uint8_t c_frame[sizeof frame] __attribute__((aligned(4)));
  t0 = time_us_64();
  for (uint32_t f = 0; f < frames; f++) {
    memcpy(c_frame, frame, sizeof frame);
    bad += c_parse_unmask(c_frame, sizeof frame) != sizeof frame;
  }
  uint64_t c_total = time_us_64() - t0;
  service_until_idle(); /* the acknowledgements of the echoes */
  printf("bench: ws parse: %lu frames x %lu B through tcp_data, %lu refused or short\n", (unsigned long)frames,
         (unsigned long)payload, (unsigned long)bad);
  print_ratio("ws unmask+parse 1 KiB frames, core", (total - copies) * EMU_CYCLES_PER_US, frames * payload, "B");
  print_ratio("ws unmask+parse 1 KiB frames, plain C", (c_total - copies) * EMU_CYCLES_PER_US, frames * payload, "B");
  print_ratio("ws copy of a frame into the io buffer", copies * EMU_CYCLES_PER_US, frames * payload, "B");
}

static void bench_call(void) {
  const uint32_t n = 2000;
  int32_t v = 0;
  uint64_t t0 = time_us_64();
  for (uint32_t i = 0; i < n; i++) host.engine.v->stat(&host.engine, &v, PW_STAT_CONNS_MAX);
  print_ratio("one export call through the engine (stat)", cycles_since(t0), n, "call");
  t0 = time_us_64();
  for (uint32_t i = 0; i < n / 10; i++) {
    int32_t wait;
    pw_host_service(&host, &wait);
  }
  print_ratio("pw_host_service, idle, canary on", cycles_since(t0), n / 10, "call");
  host.opt.check_canary = false;
  t0 = time_us_64();
  for (uint32_t i = 0; i < n / 10; i++) {
    int32_t wait;
    pw_host_service(&host, &wait);
  }
  print_ratio("pw_host_service, idle, canary off", cycles_since(t0), n / 10, "call");
  /* rounds in which the core runs (a tick each): the canary then checks one stripe per round */
  for (int on = 1; on >= 0; on--) {
    host.opt.check_canary = on;
    service_until_idle();
    t0 = time_us_64();
    for (uint32_t i = 0; i < n / 10; i++) {
      int32_t wait;
      host.tick_due = true;
      pw_host_service(&host, &wait);
    }
    print_ratio(on ? "pw_host_service, tick, canary on" : "pw_host_service, tick, canary off", cycles_since(t0), n / 10,
                "call");
  }
  host.opt.check_canary = true;
  service_until_idle();
}

/* The canary is a real check: a stray write above the cap after the core ran is found within a pass
 * (ceil(area / PW_HOST_CANARY_STRIPE) rounds) even when nothing else happens, and the core restarts. */
static void check_canary(void) {
  service_until_idle(); /* the pass owed by the benchmarks */
  int32_t wait = 0;
  pw_host_service(&host, &wait);
  printf("canary: idle round after a full pass: wait %ld ms (%s)\n", (long)wait, wait != 0 ? "not forced" : "FORCED");
  uint32_t size = 0;
  uint8_t *mem = host.engine.v->memory(&host.engine, &size);
  uint32_t base = (uint32_t)host.heap_limit, area = size > base ? size - base : 0;
  if (area == 0) { /* wasm3: the memory ends at the cap, so a write above it traps as out of bounds */
    printf("canary: no memory above the %lu-byte cap to guard (the engine traps writes there)\n", (unsigned long)base);
    return;
  }
  uint32_t most = (area + PW_HOST_CANARY_STRIPE - 1) / PW_HOST_CANARY_STRIPE;
  const uint32_t at[] = {size - 1, base, base + area / 2 + 1};
  for (unsigned t = 0; t < sizeof at / sizeof at[0]; t++) {
    mem = host.engine.v->memory(&host.engine, &size);
    mem[at[t]] = 0x5A; /* as if the core had written there in this round's tick */
    host.tick_due = true;
    uint32_t rounds = 0;
    while (host.running && rounds < 4 * most) {
      pw_host_service(&host, &wait);
      rounds++;
    }
    bool found = !host.running && host.restart_pending;
    for (int i = 0; i < 2000 && !host.running; i++) { /* the restart, after its backoff */
      pw_host_service(&host, &wait);
      if (!host.running && wait > 0) sleep_ms((uint32_t)wait);
    }
    printf("canary: a stray write at offset %lu %s after %lu service rounds (at most %lu), core %s, reset_reason %ld\n",
           (unsigned long)at[t], found ? "found" : "NOT FOUND", (unsigned long)rounds, (unsigned long)most,
           host.running ? "restarted" : "NOT RESTARTED", (long)host.reset_reason);
  }
}

static void bench_native(void) {
  static uint8_t buf[4096] __attribute__((aligned(4)));
  const uint8_t m[4] = {0x37, 0xfa, 0x21, 0x3d};
  const uint32_t reps = 8;
  uint64_t t0 = time_us_64();
  for (uint32_t r = 0; r < reps; r++) {
    for (uint32_t i = 0; i < sizeof buf; i++) buf[i] ^= m[i & 3];
    __asm volatile("" ::: "memory");
  }
  print_ratio("unmask, native C, bytes", cycles_since(t0), reps * (uint32_t)sizeof buf, "B");
  uint32_t m32;
  memcpy(&m32, m, 4);
  t0 = time_us_64();
  for (uint32_t r = 0; r < reps; r++) {
    uint32_t *w = (uint32_t *)buf;
    for (uint32_t i = 0; i < sizeof buf / 4; i++) w[i] ^= m32;
    __asm volatile("" ::: "memory"); /* keep every pass: an even number of XORs would cancel out */
  }
  print_ratio("unmask, native C, u32 words", cycles_since(t0), reps * (uint32_t)sizeof buf, "B");
}

/* ------------------------------------------------------------------ main */

/* LED strip frames (issue 10): a 480-pixel DDP datagram through the core: parse, gamma and brightness,
 * GRB, pixels_show (a counting stub here: on the board PIO and DMA send the bytes). */
static int32_t lights_sock = -1;
static uint32_t lights_bytes;
static int32_t emu_udp_open(void *ctx, int32_t sock, uint16_t port, int32_t iface) {
  if (port == 4048) lights_sock = sock;
  return PW_OK;
}
static int32_t emu_pixels_count(void *ctx, int32_t pin, const uint8_t *src, size_t len) {
  lights_bytes += (uint32_t)len;
  return PW_OK;
}
static void bench_lights(void) {
  static uint8_t d[10 + 1440];
  if (lights_sock < 0) {
    printf("bench: lights skipped: the core opened no DDP socket\n");
    return;
  }
  d[0] = 0x41, d[2] = 0x0b, d[3] = 1, d[8] = 1440 >> 8, d[9] = 1440 & 255;
  for (uint32_t i = 0; i < 1440; i++) d[10 + i] = (uint8_t)(i * 7);
  const uint32_t n = 30;
  lights_bytes = 0;
  uint64_t t0 = time_us_64();
  for (uint32_t i = 0; i < n; i++) {
    uint32_t size = 0;
    uint8_t *mem = host.engine.v->memory(&host.engine, &size);
    memcpy(mem + host.io, d, sizeof d);
    host.engine.v->udp_data(&host.engine, NULL, lights_sock, 0x7f000001u, 4000, (int32_t)sizeof d, 0);
  }
  uint64_t cycles = (time_us_64() - t0) * EMU_CYCLES_PER_US;
  printf("bench: lights: %lu DDP frames of 480 px, %lu bytes shown\n", (unsigned long)n, (unsigned long)lights_bytes);
  print_ratio("480-px DDP frame -> gamma -> GRB -> show (frame)", cycles, n, "frame");
  print_ratio("480-px DDP frame -> gamma -> GRB -> show (pixel)", cycles, n * 480u, "px");
  uint64_t per_frame = cycles / n;
  uint64_t share = per_frame * 60u * 10000u / 125000000u; /* 1/100 percent */
  printf("bench: lights: 480 px at 60 fps = %lu.%02lu%% of one core at 125 MHz\n", (unsigned long)(share / 100), (unsigned long)(share % 100));
}

/* pixels_show as the firmware does it (PIO + DMA): a known frame on GP16; the emulator's test decodes
 * the pin's waveform back into bytes (test/firmware/firmware.test.ts). */
static void check_pixels(void) {
  static const uint8_t frame[] = {0xff, 0x00, 0x80, 0x01, 0x02, 0x03, 0xa5, 0x5a, 0xc3};
  int32_t r = pw_pixels_show(NULL, 16, frame, sizeof frame);
  uint64_t t0 = time_us_64();
  /* the next call answers WOULDBLOCK until the frame and the strip's latch are through */
  while (pw_pixels_show(NULL, 16, NULL, 0) == PW_ERR_WOULDBLOCK && time_us_64() - t0 < 100000) tight_loop_contents();
  printf("picowire emu: pixels: %s, %u bytes on GP16 in %lu us (refused: pin 24 %s, %u bytes %s)\n", pw_err_name(r),
         (unsigned)sizeof frame, (unsigned long)(time_us_64() - t0), pw_err_name(pw_pixels_show(NULL, 24, frame, 3)),
         PW_PIXELS_MAX_BYTES + 1, pw_err_name(pw_pixels_show(NULL, 16, frame, PW_PIXELS_MAX_BYTES + 1)));
}

static void run(void *arg) {
  memset(&ops, 0, sizeof ops);
  ops.now_ms = emu_now;
  ops.log = emu_log;
  ops.random_fill = emu_random;
  ops.tcp_listen = emu_listen;
  ops.tcp_send = emu_send;
  ops.tcp_close = emu_close;
  ops.tcp_abort = emu_close;
  ops.udp_open = emu_udp_open;
  ops.pixels_show = emu_pixels_count;
  pw_assets_fill(&ops, &host); /* the same assets as the firmware */
  /* the same flash regions and wasm3 code region as the firmware, written through the ROM (rp2040js runs
   * with a flash model, tools/emu/qspi-flash.ts): a wasm3 image boots a core from a slot */
  pw_flash_regions_fill(&ops);
  char layout[320];
  const char *migrated = pw_flash_layout_migrate(layout, sizeof layout);
  if (migrated) printf("picowire emu: %s\n", migrated);
  E.rng = 0x9E3779B9u;

  static const char config[] = "http_port=80\nws_echo=1\nmax_conns=2\nrgb_source=fixed\nrgb=1,2,3\npixels_count=480\nlights=ddp";
  pw_host_options opt = {
      .platform = &ops,
      .engine = &PW_ENGINE_VTBL,
      .wasm = PW_CORE_WASM_BYTES,
      .wasm_len = pw_core_wasm_len,
      .config = config,
      .config_len = sizeof config - 1,
      .check_canary = true,
      .boot_slots = true, /* wasm3 only: the wasm2c image runs its compiled-in core */
  };
  uint32_t heap0 = heap_used();
  uint64_t t0 = time_us_64();
  int32_t r = pw_host_start(&host, &opt);
  uint32_t start_cycles = cycles_since(t0);
  /* the timer starts at reset: boot2, the runtime's init, the layout check and pw_host_start included */
  printf("picowire emu: power-on to the core's init: %lu cycles\n", (unsigned long)(time_us_64() * EMU_CYCLES_PER_US));
  if (r != PW_OK) {
    printf("picowire emu: core init FAILED (%s)\n", pw_err_name(r));
    printf("picowire emu: done\n");
    return;
  }
  int32_t top = 0, limit = 0;
  host.engine.v->stat(&host.engine, &top, PW_STAT_HEAP_TOP);
  host.engine.v->stat(&host.engine, &limit, PW_STAT_HEAP_LIMIT);
  printf("picowire emu: core initialised: init OK in %lu cycles, heap top %ld of %ld bytes, stack %lu B\n",
         (unsigned long)start_cycles, (long)top, (long)limit, (unsigned long)pw_pico_stack_used());
  const char *sha = host.engine.v->core_sha256(&host.engine);
  printf("picowire emu: core from %s%s, sha256 %s\n", host.slot ? "slot " : "", pw_slot_name(host.slot), sha ? sha : "unknown");
  printf("picowire emu: C heap used by the engine after start: %lu B (heap arena, its high-water mark: %lu B)\n",
         (unsigned long)(heap_used() - heap0), (unsigned long)mallinfo().arena);
  service_until_idle();

  E.quiet = true; /* per-connection info lines would dominate the timing */
  bench_call();
  bench_rgb();
  bench_ws();
  bench_ws_parse();
  bench_native();
  bench_lights();
  check_canary();
  check_pixels();
  printf("picowire emu: stack high-water %lu of %u bytes, guard %s\n", (unsigned long)pw_pico_stack_used(),
         PW_PICO_STACK_BYTES, pw_pico_stack_intact() ? "intact" : "BROKEN");
  /* after every benchmark: with lazy compilation (wasm3) this is the working set of these paths */
  printf("picowire emu: C heap used by the engine at the end: %lu B\n", (unsigned long)(heap_used() - heap0));
  E.quiet = false;
  if (pw_wasm3_log_usage) pw_wasm3_log_usage(&host.engine);
  /* a restart of the core as after a trap: wasm3 frees all it holds, then compiles the same code to the
   * same RAM addresses, so its code region is left as it is (the engine's line says "0 sectors rewritten") */
  if (pw_wasm3_log_usage) {
    host.engine.v->unload(&host.engine);
    printf("picowire emu: C heap used by the engine after unloading the core: %ld B\n", (long)(int32_t)(heap_used() - heap0));
    int r = host.engine.v->load(&host.engine, PW_CORE_WASM_BYTES, pw_core_wasm_len);
    printf("picowire emu: core loaded again: %s\n", r == PW_ENGINE_OK ? "ok" : host.engine.error);
  }

  printf("picowire emu: done\n");
}

int main(void) {
  stdio_init_all();
  printf("\npicowire emu: boot, ABI v%d, engine %s, core %lu bytes sha256 %s, clk_sys %lu Hz\n", PW_ABI_VERSION,
         PW_ENGINE_VTBL.name, (unsigned long)pw_core_wasm_len, pw_core_wasm_sha256,
         (unsigned long)clock_get_hz(clk_sys));
#if defined(PW_EMU_HEAP_KB) && PW_EMU_HEAP_KB > 0
  printf("picowire emu: MEASUREMENT IMAGE: a %u KiB heap past the RP2040's RAM (needs rp2040js with --sram-kb), "
         "the real image's heap would be %lu B\n",
         (unsigned)PW_EMU_HEAP_KB, (unsigned long)(&__StackLimit - &end));
#else
  printf("picowire emu: heap (end of .bss to the stack limit) %lu B\n", (unsigned long)(&__StackLimit - &end));
#endif
  pw_pico_stack_run(run, NULL);
  for (;;) sleep_ms(1000);
}
