/* pw_lwip.c on a computer: the host and the real core (wasm2c) serve on lwIP's loopback netif, and raw
 * lwIP client pcbs in the same process talk to them in odd splits (MSS 536, window 3,216 B, send buffer 1,072 B):
 *   1. the tutorial's "GET Data" in three segments -> "r,g,b", then FIN;
 *   2. HTTP PUT /rgb with the body in a separate segment, then GET /rgb;
 *   3. WebSocket /echo of a 200,000-byte binary message in 4,000-byte frames: every byte must come back
 *      (the window closes while the core is busy; tcp_recved only for consumed bytes; tcp_sent
 *      backpressure), then a close handshake;
 *   4. a connection to a port nobody listens on -> refused, reported through the err callback;
 *   5. GET / -> the dashboard page the firmware embeds (../pw_assets.c), compared byte for byte with the
 *      file it was built from (PW_TEST_PAGE, build/index.html.gz), streamed through the small window;
 *      HEAD / -> the same headers, no body; the core.sha256 asset names the core that runs;
 *   6. UDP: the bus's "WHO" and the tutorial's "HELLO" on port 5000 from a raw lwIP pcb -> the member list
 *      (the board founds a bus of one on its loopback address), answered to the asker's port;
 *   7. mDNS (../pw_mdns.c on lwIP's responder): legacy unicast queries for picowire-test.local (A) and
 *      _http._tcp.local (PTR) are answered with the address and the advertised port.
 *   8. lwIP's heap exhausted (by other connections' bursts) while a WebSocket has nothing in flight:
 *      the echo waits, the connection stays, and the echo comes once the heap is free again;
 *   9. every pcb in use: a SYN from an address holding few pcbs is left to its retry (served once a pcb is
 *      free); the crowd's (an address holding 4 or more) is refused with a reset at once;
 *  10. a multicast group joined while the netif cannot take IGMP yet (the core starts before WiFi) is
 *      joined once it can.
 * Exit status 0 and "pw_lwip_test: all passed" on success.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lwip/init.h"
#include "lwip/igmp.h"
#include "lwip/mem.h"
#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "lwip/timeouts.h"
#include "pw_host.h"
#include "../pw_assets.h"
#include "../pw_lwip.h"
#include "../pw_mdns.h"

static pw_host host;
static pw_platform plat;
static int failures;

u32_t sys_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (u32_t)(ts.tv_sec * 1000u + ts.tv_nsec / 1000000u);
}

static uint32_t now_ms(void *ctx) { return sys_now(); }
/* the board's address is the loopback netif's: the bus lists it */
static int32_t wifi_status(void *ctx, int32_t iface) { return iface == PW_IFACE_STA ? PW_WIFI_UP : PW_WIFI_DOWN; }
static uint32_t wifi_ip(void *ctx, int32_t iface) { return iface == PW_IFACE_STA ? 0x7F000001u : 0; }
static void log_line(void *ctx, int32_t level, const char *msg, size_t len) {
  if (level <= PW_LOG_WARN || getenv("PW_TEST_VERBOSE")) printf("  [core %d] %.*s\n", (int)level, (int)len, msg);
}

struct netif *pw_lwip_netif(int32_t iface) { return netif_list; /* the loopback netif */ }

static void check(bool ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s ", ok ? "ok  " : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  if (!ok) failures++;
}

/* ------------------------------------------------------------------ a raw lwIP client */

typedef struct client {
  struct tcp_pcb *pcb;
  bool connected, fin, err;
  err_t err_code;
  uint8_t *in;
  size_t in_len, in_cap;
  size_t recv_calls, max_chunk;
} client;

static err_t cl_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  client *c = arg;
  if (!p) {
    c->fin = true;
    return ERR_OK;
  }
  c->recv_calls++;
  if (p->tot_len > c->max_chunk) c->max_chunk = p->tot_len;
  if (c->in_len + p->tot_len > c->in_cap) {
    c->in_cap = (c->in_len + p->tot_len) * 2;
    c->in = realloc(c->in, c->in_cap);
  }
  pbuf_copy_partial(p, c->in + c->in_len, p->tot_len, 0);
  c->in_len += p->tot_len;
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void cl_err(void *arg, err_t err) {
  client *c = arg;
  c->err = true;
  c->err_code = err;
  c->pcb = NULL;
}

static err_t cl_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  ((client *)arg)->connected = true;
  return ERR_OK;
}

static void cl_open(client *c, uint16_t port) {
  memset(c, 0, sizeof *c);
  c->pcb = tcp_new();
  tcp_arg(c->pcb, c);
  tcp_recv(c->pcb, cl_recv);
  tcp_err(c->pcb, cl_err);
  tcp_nagle_disable(c->pcb); /* send every split as its own segment */
  ip_addr_t a;
  IP_ADDR4(&a, 127, 0, 0, 1);
  tcp_connect(c->pcb, &a, port, cl_connected);
}

/* Called in each round between lwIP's input and the core, when set (a test taking memory away). */
static void (*after_input)(void);

/* One round of the board's loop. */
static void step(void) {
  netif_poll_all();
  if (after_input) after_input();
  sys_check_timeouts();
  pw_lwip_poll();
  int32_t wait = 0;
  pw_host_service(&host, &wait);
  pw_lwip_flush();
  netif_poll_all();
}

/* Runs the loop until cond holds or ms of wall time pass (lwIP's timers, e.g. the 250 ms delayed
 * ACK, run on real time). */
static bool run_until(bool (*cond)(void *), void *arg, int ms) {
  u32_t end = sys_now() + (u32_t)ms;
  while ((s32_t)(sys_now() - end) < 0) {
    if (cond(arg)) return true;
    step();
  }
  return cond(arg);
}

static bool is_connected(void *a) { return ((client *)a)->connected || ((client *)a)->err; }
static bool is_fin(void *a) { return ((client *)a)->fin || ((client *)a)->err; }
static size_t want_len;
static bool has_len(void *a) { return ((client *)a)->in_len >= want_len || ((client *)a)->err; }

/* burst > 1: lwIP moves segments burst times between two runs of the host, so they pile up on the
 * board's side faster than the core consumes them (chains, partial takes, a closing window). */
static int burst = 1;
static void cl_write(client *c, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len > 0 && c->pcb) {
    for (int b = 0; b < burst && len > 0 && c->pcb; b++) {
      size_t room = tcp_sndbuf(c->pcb);
      size_t n = len < room ? len : room;
      if (n > 0 && tcp_write(c->pcb, p, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK) {
        tcp_output(c->pcb);
        p += n;
        len -= n;
      }
      netif_poll_all();
    }
    step();
  }
}

static void cl_close(client *c) {
  if (c->pcb) {
    tcp_arg(c->pcb, NULL);
    tcp_recv(c->pcb, NULL);
    tcp_err(c->pcb, NULL);
    tcp_close(c->pcb);
  }
  free(c->in);
  for (int i = 0; i < 20; i++) step();
}

/* ------------------------------------------------------------------ the tests */

static void test_tutorial(void) {
  client c;
  cl_open(&c, 8080);
  run_until(is_connected, &c, 2000);
  check(c.connected, "tutorial: connected");
  cl_write(&c, "GE", 2);
  for (int i = 0; i < 5; i++) step();
  cl_write(&c, "T Da", 4);
  for (int i = 0; i < 5; i++) step();
  cl_write(&c, "ta", 2);
  run_until(is_fin, &c, 3000);
  check(c.in_len == 8 && memcmp(c.in, "10,20,30", 8) == 0, "tutorial: \"GET Data\" in 3 segments -> \"%.*s\"",
        (int)c.in_len, c.in ? (char *)c.in : "");
  check(c.fin && !c.err, "tutorial: the board closed with FIN (no reset)");
  cl_close(&c);
}

static void test_http(void) {
  client c;
  cl_open(&c, 8080);
  run_until(is_connected, &c, 2000);
  const char head[] = "PUT /rgb HTTP/1.1\r\nHost: b\r\nContent-Length: 7\r\n\r\n";
  cl_write(&c, head, sizeof head - 1);
  for (int i = 0; i < 5; i++) step();
  cl_write(&c, "#0a0b0c", 7);
  run_until(is_fin, &c, 3000);
  bool ok = c.in_len > 12 && memcmp(c.in, "HTTP/1.1 200", 12) == 0;
  check(ok, "http: PUT /rgb with the body in its own segment -> %.12s", c.in ? (char *)c.in : "(nothing)");
  cl_close(&c);

  cl_open(&c, 8080);
  run_until(is_connected, &c, 2000);
  const char get[] = "GET /rgb HTTP/1.1\r\nHost: b\r\n\r\n";
  cl_write(&c, get, sizeof get - 1);
  run_until(is_fin, &c, 3000);
  ok = c.in_len >= 8 && memcmp(c.in + c.in_len - 8, "10,11,12", 8) == 0;
  check(ok, "http: GET /rgb -> body \"%.*s\"", (int)(c.in_len >= 8 ? 8 : 0), c.in ? (char *)c.in + c.in_len - 8 : "");
  cl_close(&c);
}

/* Connects to /echo and sends the upgrade request; returns once the first 12 bytes of the answer are in. */
static void ws_open(client *c) {
  cl_open(c, 8080);
  run_until(is_connected, c, 2000);
  const char req[] = "GET /echo HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  cl_write(c, req, sizeof req - 1);
  want_len = 12;
  run_until(has_len, c, 3000);
}

static void test_ws(void) {
  client c;
  ws_open(&c);
  size_t hs_end = 0;
  for (size_t i = 3; i < c.in_len; i++)
    if (memcmp(c.in + i - 3, "\r\n\r\n", 4) == 0) {
      hs_end = i + 1;
      break;
    }
  check(c.in_len >= 12 && memcmp(c.in, "HTTP/1.1 101", 12) == 0 && hs_end > 0, "ws: handshake 101");
  if (!hs_end) {
    cl_close(&c);
    return;
  }

  enum { TOTAL = 200000, FRAME = 4000 };
  static uint8_t msg[TOTAL], frame[FRAME + 14];
  for (size_t i = 0; i < TOTAL; i++) msg[i] = (uint8_t)(i * 31u + (i >> 9));
  const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
  size_t sent = 0;
  burst = 4;
  while (sent < TOTAL) {
    size_t n = TOTAL - sent < FRAME ? TOTAL - sent : FRAME;
    bool first = sent == 0, last = sent + n == TOTAL;
    frame[0] = (uint8_t)((last ? 0x80 : 0) | (first ? 0x2 : 0x0));
    frame[1] = 0x80 | 126;
    frame[2] = (uint8_t)(n >> 8), frame[3] = (uint8_t)n;
    memcpy(frame + 4, mask, 4);
    for (size_t i = 0; i < n; i++) frame[8 + i] = msg[sent + i] ^ mask[i & 3];
    cl_write(&c, frame, 8 + n);
    sent += n;
  }
  burst = 1;
  /* read the echo: server frames are unmasked; collect payloads until TOTAL bytes */
  size_t got = 0, pos = hs_end, frames = 0;
  bool same = true;
  for (int round = 0; round < 20000 && got < TOTAL && !c.err; round++) {
    step();
    while (c.in_len - pos >= 2) {
      size_t len = c.in[pos + 1] & 127, hdr = 2;
      if (len == 126) {
        if (c.in_len - pos < 4) break;
        len = (size_t)c.in[pos + 2] << 8 | c.in[pos + 3], hdr = 4;
      } else if (len == 127) {
        if (c.in_len - pos < 10) break;
        len = 0;
        for (int i = 2; i < 10; i++) len = len << 8 | c.in[pos + i];
        hdr = 10;
      }
      if (c.in_len - pos < hdr + len) break;
      if ((c.in[pos] & 0x0f) <= 2) { /* data or continuation */
        if (got + len > TOTAL || memcmp(c.in + pos + hdr, msg + got, len) != 0) same = false;
        got += len;
      }
      frames++;
      pos += hdr + len;
    }
  }
  check(got == TOTAL && same, "ws: %d-byte message in %d-byte frames echoed intact (%zu bytes back in %zu frames, "
        "client saw %zu segments of at most %zu B)", TOTAL, FRAME, got, frames, c.recv_calls, c.max_chunk);
  /* close handshake: masked close 1000 */
  const uint8_t close_frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
  size_t before = c.in_len;
  cl_write(&c, close_frame, sizeof close_frame);
  run_until(is_fin, &c, 3000);
  bool closed = c.in_len >= before + 4 && c.in[before] == 0x88;
  check(closed && c.fin && !c.err, "ws: close 1000 echoed, then FIN");
  cl_close(&c);
}

/* lwIP's heap (and segments) are shared by every connection: a burst on others can exhaust them while
 * this one has nothing in flight, so no tcp_sent will come for it. Its echo must wait, not kill it. */
static bool is_err(void *a) { return ((client *)a)->err; }
static void *heap_held[512];
static int heap_taken;
static void take_heap(void) {
  for (mem_size_t size = 4096; size >= 8; size /= 2)
    while (heap_taken < 512 && (heap_held[heap_taken] = mem_malloc(size)) != NULL) heap_taken++;
}
static void test_starved(void) {
  client c;
  ws_open(&c);
  run_until(is_err, &c, 600); /* past the client's delayed ACK: the 101 is acknowledged */
  size_t hs = c.in_len;
  const uint8_t hi[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
  tcp_write(c.pcb, hi, sizeof hi, TCP_WRITE_FLAG_COPY); /* queued on the loopback netif, not yet delivered */
  tcp_output(c.pcb);
  /* the loop's round with the heap taken between lwIP's input and the core: whatever the input freed is
   * gone again before the core echoes */
  uint32_t starved = pw_lwip_stats.send_starved;
  after_input = take_heap;
  run_until(is_err, &c, 600);
  after_input = NULL;
  int n = heap_taken;
  check(!c.err && c.in_len == hs && pw_lwip_stats.send_starved > starved,
        "starved: with lwIP's heap taken (%d blocks) the echo waits (%u tries, %zu B back) and the connection stays", n,
        (unsigned)(pw_lwip_stats.send_starved - starved), c.in_len - hs);
  while (heap_taken > 0) mem_free(heap_held[--heap_taken]);
  want_len = hs + 4;
  run_until(has_len, &c, 2000);
  check(!c.err && c.in_len == hs + 4 && memcmp(c.in + hs, "\x81\x02hi", 4) == 0, "starved: the echo comes once the heap is free");
  cl_close(&c);
}

/* Every pcb in use. A SYN from an address that holds few pcbs is left to its retry (and an old FIN_WAIT_2
 * pcb, if any, reclaimed for it); one from an address that holds PW_LWIP_CROWD_PCBS (4) or more is the
 * crowd and refused with a reset at once. */
static client *no_pcb_client(client *c) {
  memset(c, 0, sizeof *c);
  c->pcb = tcp_new(); /* the client's own pcb before the pool is taken */
  tcp_arg(c->pcb, c);
  tcp_recv(c->pcb, cl_recv);
  tcp_err(c->pcb, cl_err);
  return c;
}
static void *pcb_held[64];
static int pcbs_taken;
static void take_pcbs(void) {
  /* lwIP takes a pcb in TIME_WAIT, LAST_ACK or CLOSING for a new connection: leave none to take */
  for (struct tcp_pcb *q = tcp_active_pcbs; q;) {
    struct tcp_pcb *next = q->next;
    if (q->state == LAST_ACK || q->state == CLOSING) tcp_abort(q);
    q = next;
  }
  while (tcp_tw_pcbs) tcp_abort(tcp_tw_pcbs);
  while (pcbs_taken < 64 && (pcb_held[pcbs_taken] = memp_malloc(MEMP_TCP_PCB)) != NULL) pcbs_taken++;
}
static void give_pcbs(void) {
  while (pcbs_taken > 0) memp_free(MEMP_TCP_PCB, pcb_held[--pcbs_taken]);
}
static void connect_8080(client *c) {
  ip_addr_t a;
  IP_ADDR4(&a, 127, 0, 0, 1);
  tcp_connect(c->pcb, &a, 8080, cl_connected);
}

static void test_no_pcb(void) {
  client lone, crowd[2], last;
  no_pcb_client(&lone);
  take_pcbs();
  uint32_t deferred = pw_lwip_stats.syn_deferred, refused = pw_lwip_stats.syn_refused;
  connect_8080(&lone);
  run_until(is_connected, &lone, 500);
  check(!lone.err && !lone.connected && pw_lwip_stats.syn_deferred == deferred + 1 && pw_lwip_stats.syn_refused == refused,
        "no pcb: a SYN from an address holding few pcbs is left to its retry (err %d)", (int)lone.err_code);
  give_pcbs();
  run_until(is_connected, &lone, 5000); /* lwIP's first SYN retransmission is 3 s away */
  check(lone.connected && !lone.err, "no pcb: its retry is served once a pcb is free");
  for (int i = 0; i < 2; i++) {
    cl_open(&crowd[i], 8080);
    run_until(is_connected, &crowd[i], 2000);
  }
  no_pcb_client(&last);
  take_pcbs();
  refused = pw_lwip_stats.syn_refused;
  connect_8080(&last);
  run_until(is_connected, &last, 1000);
  check(last.err && last.err_code == ERR_RST && pw_lwip_stats.syn_refused == refused + 1,
        "no pcb: with every pcb taken (%d more) the crowd's address is refused with a reset at once (err %d)", pcbs_taken,
        (int)last.err_code);
  give_pcbs();
  cl_close(&last);
  for (int i = 0; i < 2; i++) cl_close(&crowd[i]);
  cl_close(&lone);
}

/* The core joins its E1.31 groups at its start, before WiFi is up: the station's netif cannot take an
 * IGMP join yet (no NETIF_FLAG_IGMP until the driver initialises it). The group waits and is joined once
 * the netif can take it; a leave undoes it. */
static void test_join_later(void) {
  struct netif *n = netif_list;
  ip4_addr_t g;
  IP4_ADDR(&g, 239, 255, 0, 7);
  check(plat.udp_open(plat.ctx, 9001, 5568, PW_IFACE_STA) == PW_OK, "join later: a UDP socket");
  u8_t flags = n->flags;
  n->flags &= (u8_t)~NETIF_FLAG_IGMP; /* as the station's netif before the driver brings it up */
  int32_t r = plat.udp_join(plat.ctx, 9001, 0xEFFF0007u, true);
  bool before = igmp_lookfor_group(n, &g) != NULL;
  n->flags = flags;
  pw_lwip_poll();
  bool after = igmp_lookfor_group(n, &g) != NULL;
  check(r == PW_OK && !before && after, "join later: 239.255.0.7 accepted while the netif cannot join (%d), joined once it can (%d -> %d)",
        (int)r, before, after);
  check(plat.udp_join(plat.ctx, 9001, 0x0A000001u, true) == PW_ERR_INVAL, "join later: 10.0.0.1 is not a multicast group");
  plat.udp_join(plat.ctx, 9001, 0xEFFF0007u, false);
  check(igmp_lookfor_group(n, &g) == NULL, "join later: left");
  plat.udp_close(plat.ctx, 9001);
}

static void test_refused(void) {
  client c;
  cl_open(&c, 9);
  run_until(is_connected, &c, 2000);
  check(c.err && c.err_code == ERR_RST, "refused: err callback with ERR_RST (%d)", (int)c.err_code);
  cl_close(&c);
}

/* Reads a whole file; NULL when it cannot. */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0, r;
  uint8_t *b = malloc(cap);
  while ((r = fread(b + n, 1, cap - n, f)) > 0)
    if ((n += r) == cap) b = realloc(b, cap *= 2);
  fclose(f);
  *len = n;
  return b;
}

/* The header block's end (index of the first body byte), or 0. */
static size_t head_end(const client *c) {
  for (size_t i = 3; i < c->in_len; i++)
    if (memcmp(c->in + i - 3, "\r\n\r\n", 4) == 0) return i + 1;
  return 0;
}

/* The value of header name (with ": ") in c's reply, as a NUL-terminated copy in out; false if absent. */
static bool header(const client *c, size_t end, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (size_t i = 0; i + nl + 2 < end; i++) {
    if ((i == 0 || c->in[i - 1] == '\n') && strncasecmp((const char *)c->in + i, name, nl) == 0 && c->in[i + nl] == ':') {
      size_t v = i + nl + 1, k = 0;
      while (v < end && c->in[v] == ' ') v++;
      while (v < end && c->in[v] != '\r' && k + 1 < cap) out[k++] = (char)c->in[v++];
      out[k] = 0;
      return true;
    }
  }
  return false;
}

static void test_page(void) {
  const char *path = getenv("PW_TEST_PAGE") ? getenv("PW_TEST_PAGE") : PW_TEST_PAGE;
  size_t want = 0;
  uint8_t *page = read_file(path, &want);
  check(page != NULL && want > 0, "page: %s read (%zu bytes)", path, want);
  if (!page) return;

  client c;
  cl_open(&c, 8080);
  run_until(is_connected, &c, 2000);
  const char get[] = "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
  cl_write(&c, get, sizeof get - 1);
  run_until(is_fin, &c, 5000);
  size_t end = head_end(&c);
  char len[16] = "", enc[16] = "", type[48] = "";
  header(&c, end, "Content-Length", len, sizeof len);
  header(&c, end, "Content-Encoding", enc, sizeof enc);
  header(&c, end, "Content-Type", type, sizeof type);
  bool ok200 = c.in_len >= 12 && memcmp(c.in, "HTTP/1.1 200", 12) == 0;
  check(ok200 && strcmp(enc, "gzip") == 0 && strncmp(type, "text/html", 9) == 0 && (size_t)atol(len) == want,
        "page: GET / -> %.12s, Content-Type %s, Content-Encoding %s, Content-Length %s (file: %zu)",
        c.in ? (char *)c.in : "(nothing)", type, enc, len, want);
  size_t body = end ? c.in_len - end : 0;
  check(end > 0 && body == want && memcmp(c.in + end, page, want) == 0 && c.fin && !c.err,
        "page: the body is build/index.html.gz byte for byte (%zu of %zu bytes, %zu segments of at most %zu B), then FIN",
        body, want, c.recv_calls, c.max_chunk);
  cl_close(&c);

  cl_open(&c, 8080);
  run_until(is_connected, &c, 2000);
  const char head[] = "HEAD / HTTP/1.1\r\nHost: b\r\n\r\n";
  cl_write(&c, head, sizeof head - 1);
  run_until(is_fin, &c, 3000);
  end = head_end(&c);
  len[0] = 0;
  header(&c, end, "Content-Length", len, sizeof len);
  check(end > 0 && c.in_len == end && memcmp(c.in, "HTTP/1.1 200", 12) == 0 && (size_t)atol(len) == want,
        "page: HEAD / -> 200, Content-Length %s, no body", len);
  cl_close(&c);
  free(page);

  /* core.sha256, as the core reads it for get_info */
  int32_t id = plat.asset_find(plat.ctx, "core.sha256", 11);
  uint8_t sha[65] = "";
  int32_t n = id >= 0 ? plat.asset_read(plat.ctx, id, 0, sha, 64) : id;
  check(n == 64 && plat.asset_size(plat.ctx, id) == 64 && strspn((char *)sha, "0123456789abcdef") == 64,
        "assets: core.sha256 %s", n == 64 ? (char *)sha : "missing");
  check(plat.asset_find(plat.ctx, "index.html", 10) == PW_ERR_NOTFOUND &&
        plat.asset_read(plat.ctx, 0, (uint32_t)want + 1, sha, 1) == PW_ERR_RANGE,
        "assets: an unknown name is not found, a read past the end is refused");
}

static bool all_conns_free(void *a) {
  for (int i = 0; i < PW_HOST_MAX_CONNS; i++)
    if (host.conns[i].handle != 0) return false;
  return true;
}

/* ------------------------------------------------------------------ UDP */

static char udp_reply[256];
static void on_udp_reply(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
  size_t n = pbuf_copy_partial(p, udp_reply, sizeof udp_reply - 1, 0);
  udp_reply[n] = 0;
  pbuf_free(p);
}
static bool has_udp_reply(void *a) { return udp_reply[0] != 0; }

static void udp_ask(struct udp_pcb *pcb, const char *text) {
  udp_reply[0] = 0;
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)strlen(text), PBUF_RAM);
  memcpy(p->payload, text, strlen(text));
  ip_addr_t a;
  IP_ADDR4(&a, 127, 0, 0, 1);
  udp_sendto(pcb, p, &a, 5000);
  pbuf_free(p);
}

static void test_udp(void) {
  struct udp_pcb *pcb = udp_new();
  udp_bind(pcb, IP4_ADDR_ANY, 40000);
  udp_recv(pcb, on_udp_reply, NULL);
  /* the board founds its bus after 1-2 election timeouts (bus_election_ms=100 here) */
  bool founded = false;
  for (int i = 0; i < 20 && !founded; i++) {
    udp_ask(pcb, "WHO");
    founded = run_until(has_udp_reply, NULL, 200) && strcmp(udp_reply, "127.0.0.1") == 0;
  }
  check(founded, "UDP: WHO on the bus port is answered with the member list ('%s')", udp_reply);
  udp_ask(pcb, "HELLO from client");
  run_until(has_udp_reply, NULL, 1000);
  /* master first (on loopback the asker shares the board's address) */
  check(strncmp(udp_reply, "127.0.0.1", 9) == 0, "UDP: the tutorial's HELLO gets the list, answered to the asker's port ('%s')", udp_reply);
  udp_remove(pcb);
}

/* ------------------------------------------------------------------ mDNS */

static uint8_t dns_reply[512];
static size_t dns_reply_len;
static void on_dns_reply(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
  dns_reply_len = pbuf_copy_partial(p, dns_reply, sizeof dns_reply, 0);
  pbuf_free(p);
}
static bool has_dns_reply(void *a) { return dns_reply_len > 0; }

/* One question (a legacy query: from a port other than 5353, so the answer comes back to it). */
static void mdns_ask(struct udp_pcb *pcb, const char *const *labels, uint16_t type) {
  uint8_t q[128] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}; /* id, flags, 1 question */
  size_t n = 12;
  for (; *labels; labels++) {
    q[n++] = (uint8_t)strlen(*labels);
    memcpy(q + n, *labels, strlen(*labels));
    n += strlen(*labels);
  }
  q[n++] = 0;
  q[n++] = (uint8_t)(type >> 8), q[n++] = (uint8_t)type, q[n++] = 0, q[n++] = 1; /* class IN */
  dns_reply_len = 0;
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)n, PBUF_RAM);
  memcpy(p->payload, q, n);
  ip_addr_t a;
  IP_ADDR4(&a, 127, 0, 0, 1);
  udp_sendto(pcb, p, &a, 5353);
  pbuf_free(p);
}

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t k) {
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(hay + i, needle, k) == 0) return true;
  return false;
}

static void test_mdns(void) {
  static const char cfg[] = "max_conns=4\nhttp_port=8080\ncontrol_port=12346\n";
  pw_mdns_services_from_config(cfg, sizeof cfg - 1);
  check(pw_mdns_http_port() == 8080 && pw_mdns_control_port() == 12346, "mDNS: ports from the configuration (%u, %u)",
        pw_mdns_http_port(), pw_mdns_control_port());
  int up = pw_mdns_up(netif_list, "picowire-test");
  check(up == 0, "mDNS: the responder runs on the interface (%d)", up);
  struct udp_pcb *pcb = udp_new();
  udp_bind(pcb, IP4_ADDR_ANY, 40001);
  udp_recv(pcb, on_dns_reply, NULL);
  /* the responder probes for its name first (~1 s of lwIP's real-time timers), then answers */
  static const char *const host[] = {"picowire-test", "local", NULL};
  bool answered = false;
  for (int i = 0; i < 30 && !answered; i++) {
    mdns_ask(pcb, host, 1 /* A */);
    answered = run_until(has_dns_reply, NULL, 200);
  }
  static const uint8_t name[] = "\x0dpicowire-test\x05local";
  static const uint8_t a_record[] = {0, 1, 0, 1}; /* type A, class IN (cache-flush bit clear in a legacy answer) */
  static const uint8_t loopback[] = {0, 4, 127, 0, 0, 1};
  check(answered && dns_reply[0] == 0x12 && dns_reply[1] == 0x34 && (dns_reply[2] & 0x80) && contains(dns_reply, dns_reply_len, name, sizeof name - 1) &&
            contains(dns_reply, dns_reply_len, a_record, sizeof a_record) && contains(dns_reply, dns_reply_len, loopback, sizeof loopback),
        "mDNS: picowire-test.local answers with 127.0.0.1 (%u bytes back, same id)", (unsigned)dns_reply_len);
  static const char *const http[] = {"_http", "_tcp", "local", NULL};
  answered = false;
  for (int i = 0; i < 10 && !answered; i++) {
    mdns_ask(pcb, http, 12 /* PTR */);
    answered = run_until(has_dns_reply, NULL, 500);
  }
  static const uint8_t port_8080[] = {0x1f, 0x90};
  check(answered && contains(dns_reply, dns_reply_len, "picowire-test", 13) && contains(dns_reply, dns_reply_len, port_8080, 2),
        "mDNS: _http._tcp.local names the board and port 8080 (%u bytes back)", (unsigned)dns_reply_len);
  udp_remove(pcb);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  lwip_init();
  netif_set_default(netif_list);
  pw_lwip_init(&host);
  memset(&plat, 0, sizeof plat);
  plat.now_ms = now_ms;
  plat.log = log_line;
  plat.wifi_status = wifi_status;
  plat.wifi_ip = wifi_ip;
  pw_lwip_fill(&plat);
  pw_assets_fill(&plat, &host);
  static const char config[] = "http_port=8080\nws_echo=1\nrgb_source=fixed\nrgb=10,20,30\nmax_conns=4\n"
                               "bus=1\nbus_election_ms=100\nbus_peers=127.0.0.2";
  pw_host_options opt = {.platform = &plat, .engine = &pw_engine_wasm2c, .config = config, .config_len = sizeof config - 1,
                         .check_canary = true};
  if (pw_host_start(&host, &opt) != PW_OK) {
    printf("FAIL the core did not start\n");
    return 1;
  }
  for (int i = 0; i < 10; i++) step();
  test_tutorial();
  test_http();
  test_ws();
  test_starved();
  test_no_pcb();
  test_join_later();
  test_refused();
  test_page();
  test_udp();
  test_mdns();
  bool freed = run_until(all_conns_free, NULL, 3000);
  check(freed, "every host connection slot is free at the end");
  printf("     pw_lwip: %lu segments chained, %lu partial takes by the host, %lu full sends, window opened by %llu B "
         "as consumed, %llu B acknowledged at close\n", (unsigned long)pw_lwip_stats.merged,
         (unsigned long)pw_lwip_stats.partial, (unsigned long)pw_lwip_stats.send_full,
         (unsigned long long)pw_lwip_stats.recved, (unsigned long long)pw_lwip_stats.recved_on_close);
  check(pw_lwip_stats.merged > 0 && pw_lwip_stats.partial > 0 && pw_lwip_stats.send_full > 0,
        "the chain, partial-take and send-full paths all ran");
  pw_host_stop(&host);
  if (failures) {
    printf("pw_lwip_test: %d FAILED\n", failures);
    return 1;
  }
  printf("pw_lwip_test: all passed\n");
  return 0;
}
