/* TCP, UDP and DNS for the picowire host over lwIP's raw API (NO_SYS), without anything Pico-specific:
 * the Pico W port (platform_pico.c) uses it over the CYW43's netifs, and native/pico/test/ runs it on a
 * computer over lwIP's loopback netif against the real core (test/firmware/firmware.test.ts).
 *
 * Threading: every function here and every lwIP callback runs in the port's one loop (on the Pico W,
 * pico_cyw43_arch_lwip_poll). Callbacks only record and enqueue through pw_host_on_*(); they may fire
 * synchronously inside our own lwIP calls (tcp_write/tcp_output/tcp_abort/tcp_connect), which is safe
 * for that reason.
 *
 * TCP receive path (segments split/merged): lwIP hands us pbuf chains of any shape. They are
 * appended to one chain per connection (pbuf_cat); pico_platform_poll() and tcp_recved offer the
 * chain to the host piece by piece (pw_host_on_tcp_data takes what fits its hold) and free what was
 * taken with pbuf_free_header(). The TCP window opens (tcp_recved) only for bytes the CORE consumed,
 * which the host reports through our tcp_recved(): bytes waiting here or in the host's hold keep the
 * window shut, so a slow core pushes back on the peer.
 * TCP send path: tcp_send takes at most tcp_sndbuf() bytes (copied by lwIP), returns 0 when the queue
 * is full; the sent callback reports acknowledged bytes (pw_host_on_tcp_sent) and the core resumes.
 * tcp_send only queues: pw_lwip_flush() sends after the core's round, so its small writes coalesce.
 * When lwIP's heap or segments (shared by all connections) run out while this connection has nothing
 * in flight, pw_lwip_poll resumes the core with a tcp_sent of 0 bytes in the next round.
 */
#include "pw_lwip.h"

#include <string.h>

#include "lwip/dns.h"
#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "lwip/igmp.h"
#include "lwip/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/priv/tcp_priv.h" /* tcp_rst_netif */

enum { C_FREE = 0, C_CONNECTING, C_OPEN };

typedef struct pico_conn {
  uint8_t state;
  int32_t handle;
  struct tcp_pcb *pcb;
  struct pbuf *rx;   /* received, not yet taken by the host (a chain; segments merged) */
  uint32_t unrecved; /* taken by the host but not yet consumed by the core (window still shut) */
  bool fin;          /* the peer's FIN arrived (p == NULL) */
  bool fin_told;
  bool starved;      /* tcp_write found lwIP's memory exhausted with nothing of ours in flight: retry */
} pico_conn;

typedef struct pico_listener {
  int32_t handle;
  struct tcp_pcb *pcb;
} pico_listener;

typedef struct pico_udp {
  int32_t handle;
  int32_t iface;
  struct udp_pcb *pcb;
  uint32_t groups[PW_LWIP_MAX_GROUPS]; /* multicast groups the core joined (lwIP keeps them per netif) */
  uint8_t in_lwip;                     /* bit i: groups[i] is joined in lwIP on the socket's netif */
} pico_udp;

static struct {
  pw_host *host;
  pico_conn conns[PW_LWIP_MAX_CONNS];
  pico_listener listeners[PW_LWIP_MAX_LISTENERS];
  pico_udp udps[PW_LWIP_MAX_UDP];
  bool unflushed; /* tcp_send queued bytes that pw_lwip_flush has not sent yet */
} L;

pw_lwip_counters pw_lwip_stats;

static int32_t map_err(err_t err) {
  switch (err) {
    case ERR_OK: return PW_OK;
    case ERR_MEM: case ERR_BUF: return PW_ERR_NOMEM;
    case ERR_TIMEOUT: return PW_ERR_TIMEOUT;
    case ERR_RTE: case ERR_CONN: case ERR_CLSD: return PW_ERR_CLOSED;
    case ERR_ABRT: case ERR_RST: return PW_ERR_RESET;
    case ERR_USE: case ERR_ISCONN: case ERR_ALREADY: case ERR_INPROGRESS: return PW_ERR_BUSY;
    case ERR_VAL: case ERR_ARG: return PW_ERR_INVAL;
    default: return PW_ERR_IO;
  }
}

static uint32_t ip_of(const ip_addr_t *a) { return lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(a))); }

/* ------------------------------------------------------------------ TCP */

static pico_conn *conn_find(int32_t handle) {
  for (int i = 0; i < PW_LWIP_MAX_CONNS; i++)
    if (L.conns[i].state != C_FREE && L.conns[i].handle == handle) return &L.conns[i];
  return NULL;
}

static pico_conn *conn_new(int32_t handle, struct tcp_pcb *pcb, uint8_t state) {
  for (int i = 0; i < PW_LWIP_MAX_CONNS; i++) {
    pico_conn *c = &L.conns[i];
    if (c->state != C_FREE) continue;
    memset(c, 0, sizeof *c);
    c->state = state;
    c->handle = handle;
    c->pcb = pcb;
    return c;
  }
  return NULL;
}

/* Detaches our callbacks from the pcb and frees the slot (and what it held). The pcb itself is the
 * caller's business (closed, aborted, or already freed by lwIP). */
static void conn_release(pico_conn *c) {
  if (c->pcb) {
    tcp_arg(c->pcb, NULL);
    tcp_recv(c->pcb, NULL); /* lwIP's tcp_recv_null: acknowledges and drops, closes on FIN */
    tcp_sent(c->pcb, NULL);
    tcp_err(c->pcb, NULL);
    tcp_poll(c->pcb, NULL, 0);
  }
  if (c->rx) pbuf_free(c->rx);
  memset(c, 0, sizeof *c);
}

/* Offers the waiting chain to the host, as much as its hold takes; reports FIN after the last byte. */
static void conn_deliver(pico_conn *c) {
  while (c->rx) {
    struct pbuf *q = c->rx;
    u16_t len = q->len;
    if (len == 0) { /* an empty pbuf inside a chain */
      c->rx = q->next; /* the chain's reference on next becomes ours */
      q->next = NULL;
      pbuf_free(q);
      continue;
    }
    size_t took = pw_host_on_tcp_data(L.host, c->handle, (const uint8_t *)q->payload, len);
    if (took == 0) break;
    c->unrecved += (uint32_t)took;
    c->rx = pbuf_free_header(q, (u16_t)took); /* frees whole pbufs, or advances inside the first */
    if (took < len) {                         /* the host's hold is full */
      pw_lwip_stats.partial++;
      break;
    }
  }
  if (!c->rx && c->fin && !c->fin_told) {
    c->fin_told = true;
    pw_host_on_tcp_fin(L.host, c->handle);
  }
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  pico_conn *c = arg;
  if (!c) { /* not ours any more */
    if (p) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (err != ERR_OK) {
    if (p) pbuf_free(p);
    return ERR_OK;
  }
  if (!p) {
    c->fin = true;
  } else if (c->rx) {
    pbuf_cat(c->rx, p); /* merge: the chain now owns p */
    pw_lwip_stats.merged++;
  } else {
    c->rx = p;
  }
  conn_deliver(c);
  return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  pico_conn *c = arg;
  if (c) pw_host_on_tcp_sent(L.host, c->handle, len);
  return ERR_OK;
}

/* The pcb is already freed by lwIP when this runs. */
static void on_err(void *arg, err_t err) {
  pico_conn *c = arg;
  if (!c) return;
  int32_t handle = c->handle;
  bool connecting = c->state == C_CONNECTING;
  c->pcb = NULL;
  conn_release(c);
  if (connecting) pw_host_on_tcp_connected(L.host, handle, map_err(err));
  else pw_host_on_tcp_error(L.host, handle, map_err(err));
}

static void conn_attach(pico_conn *c) {
  tcp_arg(c->pcb, c);
  tcp_recv(c->pcb, on_recv);
  tcp_sent(c->pcb, on_sent);
  tcp_err(c->pcb, on_err);
  tcp_nagle_disable(c->pcb); /* the core sends whole replies/frames; latency matters more */
}

/* lwIP had no pcb for a SYN (all MEMP_NUM_TCP_PCB in use, none in TIME_WAIT, LAST_ACK or CLOSING to
 * reuse) and drops it; the peer retries after ~1 s, then with backoff for minutes. An address that holds
 * PW_LWIP_CROWD_PCBS pcbs or more is the crowd: its SYN is refused with a reset at once, so a burst
 * settles in seconds. Another address's SYN is left to its retry, and the oldest pcb in FIN_WAIT_2 (the
 * core closed it and the peer has all of it) is reclaimed for that retry: a reconnecting crowd cannot
 * starve a second address of pcbs. The SYN is lwIP's current input segment. */
#ifndef PW_LWIP_CROWD_PCBS
#define PW_LWIP_CROWD_PCBS (MEMP_NUM_TCP_PCB / 4)
#endif
#ifndef PW_LWIP_PCB_RESERVE
#define PW_LWIP_PCB_RESERVE 2 /* pcbs and host slots a crowd's accepted connection may not take */
#endif
/* Pcbs that lwIP cannot reuse (not TIME_WAIT) and how many of them `peer` holds; the oldest in FIN_WAIT_2. */
static int pcbs_in_use(const ip_addr_t *peer, int *held, struct tcp_pcb **oldest_fin_wait_2) {
  int used = 0;
  *held = 0;
  if (oldest_fin_wait_2) *oldest_fin_wait_2 = NULL;
  for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
    used++;
    if (ip_addr_cmp(&p->remote_ip, peer)) (*held)++;
    if (oldest_fin_wait_2 && p->state == FIN_WAIT_2 &&
        (!*oldest_fin_wait_2 || (u32_t)(tcp_ticks - p->tmr) > (u32_t)(tcp_ticks - (*oldest_fin_wait_2)->tmr)))
      *oldest_fin_wait_2 = p;
  }
  return used;
}

static void no_pcb_for_syn(void) {
  const struct ip_hdr *iph = ip4_current_header();
  if (!iph || !ip_current_input_netif()) return;
  int held;
  struct tcp_pcb *oldest;
  pcbs_in_use(ip_current_src_addr(), &held, &oldest);
  if (held < PW_LWIP_CROWD_PCBS) {
    if (oldest) tcp_abort(oldest); /* detached (conn_release): nothing of ours hears of it */
    pw_lwip_stats.syn_deferred++;
    return;
  }
  /* tcp_input has turned the header's ports and numbers into host order in place */
  const struct tcp_hdr *th = (const struct tcp_hdr *)((const uint8_t *)iph + IPH_HL_BYTES(iph));
  tcp_rst_netif(ip_current_input_netif(), 0, th->seqno + 1, ip_current_dest_addr(), ip_current_src_addr(), th->dest, th->src);
  pw_lwip_stats.syn_refused++;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  pico_listener *l = arg;
  if (err == ERR_MEM && !pcb) no_pcb_for_syn();
  if (err != ERR_OK || !pcb) return ERR_VAL;
  if (!l || l->handle <= 0) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  /* the crowd's connection that leaves fewer than PW_LWIP_PCB_RESERVE pcbs or host slots free is refused
   * now, so a second address finds one (a reconnecting crowd would otherwise take each as it frees) */
  int held, conns = 0;
  for (int i = 0; i < PW_LWIP_MAX_CONNS; i++) conns += L.conns[i].state != C_FREE;
  bool scarce = pcbs_in_use(&pcb->remote_ip, &held, NULL) > MEMP_NUM_TCP_PCB - PW_LWIP_PCB_RESERVE ||
                conns >= PW_LWIP_MAX_CONNS - PW_LWIP_PCB_RESERVE;
  if (scarce && held >= PW_LWIP_CROWD_PCBS) {
    pw_lwip_stats.syn_refused++;
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  int32_t handle = pw_host_on_tcp_accept(L.host, l->handle, ip_of(&pcb->remote_ip), pcb->remote_port);
  pico_conn *c = handle > 0 ? conn_new(handle, pcb, C_OPEN) : NULL;
  if (!c) {
    if (handle > 0) pw_host_on_tcp_error(L.host, handle, PW_ERR_NOMEM);
    tcp_abort(pcb); /* no slot (host or port): refuse */
    return ERR_ABRT;
  }
  conn_attach(c);
  return ERR_OK;
}

static int32_t tcp_listen_(void *ctx, int32_t listener, uint16_t port) {
  pico_listener *l = NULL;
  for (int i = 0; i < PW_LWIP_MAX_LISTENERS; i++)
    if (L.listeners[i].handle == 0) l = &L.listeners[i];
  if (!l) return PW_ERR_NOMEM;
  struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (!pcb) return PW_ERR_NOMEM;
  ip_set_option(pcb, SOF_REUSEADDR);
  err_t err = tcp_bind(pcb, IP4_ADDR_ANY, port);
  if (err != ERR_OK) {
    tcp_close(pcb);
    return map_err(err);
  }
  /* no backlog limit below the pcbs: lwIP drops a SYN over the backlog silently, one without a pcb
   * reaches on_accept (no_pcb_for_syn) */
  struct tcp_pcb *lp = tcp_listen_with_backlog(pcb, MEMP_NUM_TCP_PCB);
  if (!lp) {
    tcp_close(pcb);
    return PW_ERR_NOMEM;
  }
  l->handle = listener;
  l->pcb = lp;
  tcp_arg(lp, l);
  tcp_accept(lp, on_accept);
  return PW_OK;
}

static void tcp_unlisten_(void *ctx, int32_t listener) {
  for (int i = 0; i < PW_LWIP_MAX_LISTENERS; i++) {
    pico_listener *l = &L.listeners[i];
    if (l->handle != listener) continue;
    tcp_arg(l->pcb, NULL);
    tcp_accept(l->pcb, NULL);
    tcp_close(l->pcb); /* a listening pcb always closes */
    memset(l, 0, sizeof *l);
  }
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  pico_conn *c = arg;
  if (!c) return ERR_OK;
  c->state = C_OPEN;
  pw_host_on_tcp_connected(L.host, c->handle, map_err(err)); /* lwIP only calls this with ERR_OK */
  return ERR_OK;
}

static int32_t tcp_connect_(void *ctx, int32_t conn, uint32_t ip, uint16_t port) {
  struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (!pcb) return PW_ERR_NOMEM;
  pico_conn *c = conn_new(conn, pcb, C_CONNECTING);
  if (!c) {
    tcp_close(pcb);
    return PW_ERR_NOMEM;
  }
  conn_attach(c);
  ip_addr_t a;
  IP_ADDR4(&a, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  err_t err = tcp_connect(pcb, &a, port, on_connected);
  if (err != ERR_OK) { /* e.g. ERR_RTE: no route (not joined). Found at once, reported now. */
    conn_release(c);
    tcp_abort(pcb);
    return map_err(err);
  }
  return PW_OK;
}

static int32_t tcp_send_(void *ctx, int32_t conn, const uint8_t *src, size_t len) {
  pico_conn *c = conn_find(conn);
  if (!c || !c->pcb) return PW_ERR_NOTFOUND;
  if (c->state != C_OPEN) return PW_ERR_BUSY;
  size_t room = tcp_sndbuf(c->pcb);
  if (tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 1) room = 0;
  size_t n = len < room ? len : room;
  if (n == 0) { /* on_sent follows: something is in flight */
    pw_lwip_stats.send_full++;
    return 0;
  }
  err_t err = tcp_write(c->pcb, src, (u16_t)n, TCP_WRITE_FLAG_COPY);
  while (err == ERR_MEM && n > 64) { /* lwIP's heap is shared by all connections: try less */
    n /= 2;
    err = tcp_write(c->pcb, src, (u16_t)n, TCP_WRITE_FLAG_COPY);
  }
  if (err == ERR_MEM) {
    /* lwIP's heap and segments are shared: other connections hold them. With bytes of ours in flight
     * their tcp_sent resumes the core; with none, pw_lwip_poll does (tcp_sent with 0 bytes), so a
     * connection is never lost to another's burst. */
    pw_lwip_stats.send_starved++;
    if (!c->pcb->unacked && !c->pcb->unsent) c->starved = true;
    return 0;
  }
  if (err != ERR_OK) return map_err(err);
  if (n < len) pw_lwip_stats.send_full++;
  L.unflushed = true;
  return (int32_t)n;
}

/* The core consumed len bytes: open the window by that much, then offer what waits here. */
static void tcp_recved_(void *ctx, int32_t conn, size_t len) {
  pico_conn *c = conn_find(conn);
  if (!c || !c->pcb) return;
  if (len > c->unrecved) len = c->unrecved;
  pw_lwip_stats.recved += len;
  c->unrecved -= (uint32_t)len;
  while (len > 0) {
    u16_t step = len > 0xFFFF ? 0xFFFF : (u16_t)len;
    tcp_recved(c->pcb, step);
    len -= step;
  }
  conn_deliver(c);
}

/* After our FIN: bytes the peer still sends are acknowledged and dropped (lwIP's tcp_recv_null, which
 * also completes the close on the peer's FIN). After PW_LWIP_LINGER_POLLS poll periods (0.5 s each) the
 * pcb is closed fully; from then on lwIP's FIN_WAIT_2 timeout bounds it, and late data gets a RST. */
#ifndef PW_LWIP_LINGER_POLLS
#define PW_LWIP_LINGER_POLLS 4
#endif
static err_t linger_poll(void *arg, struct tcp_pcb *pcb) {
  if (tcp_close(pcb) == ERR_OK) tcp_poll(pcb, NULL, 0); /* else: out of memory, try again next poll */
  return ERR_OK;
}

static void tcp_close_(void *ctx, int32_t conn) {
  pico_conn *c = conn_find(conn);
  if (!c) return;
  struct tcp_pcb *pcb = c->pcb;
  bool connecting = c->state == C_CONNECTING;
  if (pcb) {
    /* Bytes the core will never read: acknowledge them, or lwIP answers the close with a RST
     * (rst_on_unacked_data) and the peer may lose our last reply. */
    uint32_t drop = c->unrecved + (c->rx ? c->rx->tot_len : 0);
    pw_lwip_stats.recved_on_close += drop;
    while (drop > 0) {
      u16_t step = drop > 0xFFFF ? 0xFFFF : (u16_t)drop;
      tcp_recved(pcb, step);
      drop -= step;
    }
  }
  conn_release(c); /* recv -> tcp_recv_null from here on */
  if (!pcb) return;
  /* Half-close: FIN after the queued bytes, but keep receiving. A full tcp_close() would answer any
   * byte still arriving (e.g. the tutorial client's request split across segments, answered at its
   * fifth byte) with a RST, which can destroy our reply at the peer. */
  if (connecting || tcp_shutdown(pcb, 0, 1) != ERR_OK) {
    if (tcp_close(pcb) != ERR_OK) tcp_poll(pcb, linger_poll, 2); /* out of memory: retry in 1 s */
    return;
  }
  tcp_poll(pcb, linger_poll, PW_LWIP_LINGER_POLLS);
}

static void tcp_abort_(void *ctx, int32_t conn) {
  pico_conn *c = conn_find(conn);
  if (!c) return;
  struct tcp_pcb *pcb = c->pcb;
  conn_release(c); /* callbacks off first: tcp_abort calls the err callback synchronously */
  if (pcb) tcp_abort(pcb);
}

/* ------------------------------------------------------------------ UDP */

static pico_udp *udp_find(int32_t handle) {
  for (int i = 0; i < PW_LWIP_MAX_UDP; i++)
    if (L.udps[i].handle == handle && handle > 0) return &L.udps[i];
  return NULL;
}

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
  pico_udp *u = arg;
  static uint8_t buf[PW_IO_CAPACITY];
  if (u && p) {
    u16_t n = pbuf_copy_partial(p, buf, sizeof buf, 0); /* flattens a chained datagram */
    if (p->tot_len <= sizeof buf) pw_host_on_udp_data(L.host, u->handle, ip_of(addr), port, buf, n);
    /* larger datagrams than the core's io buffer are dropped */
  }
  if (p) pbuf_free(p);
}

static int32_t udp_open_(void *ctx, int32_t sock, uint16_t port, int32_t iface) {
  pico_udp *u = NULL;
  for (int i = 0; i < PW_LWIP_MAX_UDP && !u; i++)
    if (L.udps[i].handle == 0) u = &L.udps[i];
  if (!u) return PW_ERR_NOMEM;
  struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V4);
  if (!pcb) return PW_ERR_NOMEM;
  ip_set_option(pcb, SOF_BROADCAST | SOF_REUSEADDR);
  err_t err = udp_bind(pcb, IP4_ADDR_ANY, port);
  if (err != ERR_OK) {
    udp_remove(pcb);
    return map_err(err);
  }
  u->handle = sock;
  u->iface = iface;
  u->pcb = pcb;
  udp_recv(pcb, on_udp, u);
  return PW_OK;
}

static int32_t udp_send_(void *ctx, int32_t sock, uint32_t ip, uint16_t port, const uint8_t *src, size_t len) {
  pico_udp *u = udp_find(sock);
  if (!u) return PW_ERR_NOTFOUND;
  if (len > 0xFFFF) return PW_ERR_RANGE;
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
  if (!p) return PW_ERR_WOULDBLOCK;
  memcpy(p->payload, src, len);
  ip_addr_t a;
  IP_ADDR4(&a, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  err_t err;
  if (ip == 0xFFFFFFFFu) {
    /* broadcast goes out of the interface the socket was opened for, or the other one when that is
     * down: a board that took over the bus's access point opened its sockets as a station */
    struct netif *out = pw_lwip_netif(u->iface);
    if (!netif_is_up(out) || ip4_addr_isany_val(*netif_ip4_addr(out)))
      out = pw_lwip_netif(u->iface == PW_IFACE_AP ? PW_IFACE_STA : PW_IFACE_AP);
    err = udp_sendto_if(u->pcb, p, &a, port, out);
  } else {
    err = udp_sendto(u->pcb, p, &a, port); /* routed: the interface whose subnet holds the address */
  }
  pbuf_free(p);
  return err == ERR_MEM ? PW_ERR_WOULDBLOCK : map_err(err);
}

/* Brings lwIP's IGMP joins of a socket in line with the groups the core asked for. The core joins at its
 * start, before WiFi is up: the station's netif is not initialised yet (no NETIF_FLAG_IGMP) and lwIP
 * refuses the join; and when the driver takes the netif down and up again (a rejoin) lwIP forgets its
 * groups. So a group waits here and is joined whenever the netif can take it (pw_lwip_poll), once per
 * socket: lwIP counts joins per group and netif, so each socket leaves exactly what it joined. */
static void udp_sync_groups(pico_udp *u) {
  struct netif *n = pw_lwip_netif(u->iface);
  bool ready = n && (n->flags & NETIF_FLAG_IGMP) && netif_is_up(n);
  for (int i = 0; i < PW_LWIP_MAX_GROUPS; i++) {
    if (!u->groups[i]) continue;
    uint8_t bit = (uint8_t)(1u << i);
    ip4_addr_t g;
    ip4_addr_set_u32(&g, lwip_htonl(u->groups[i]));
    if ((u->in_lwip & bit) && !(ready && igmp_lookfor_group(n, &g))) u->in_lwip &= (uint8_t)~bit; /* forgotten with its netif */
    if (!(u->in_lwip & bit) && ready && igmp_joingroup_netif(n, &g) == ERR_OK) u->in_lwip |= bit;
  }
}

/* IGMP on the socket's interface, now or as soon as the interface is up (udp_sync_groups). */
static int32_t udp_join_(void *ctx, int32_t sock, uint32_t group, bool join) {
  pico_udp *u = udp_find(sock);
  if (!u) return PW_ERR_NOTFOUND;
  if ((group & 0xf0000000u) != 0xe0000000u) return PW_ERR_INVAL; /* not 224.0.0.0/4 */
  int at = -1, free_at = -1;
  for (int i = 0; i < PW_LWIP_MAX_GROUPS; i++) {
    if (u->groups[i] == group) at = i;
    if (u->groups[i] == 0 && free_at < 0) free_at = i;
  }
  if (join ? at >= 0 : at < 0) return PW_OK;
  if (join && free_at < 0) return PW_ERR_NOMEM;
  if (join) {
    u->groups[free_at] = group;
    udp_sync_groups(u);
    return PW_OK;
  }
  uint8_t bit = (uint8_t)(1u << at);
  if (u->in_lwip & bit) {
    ip4_addr_t g;
    ip4_addr_set_u32(&g, lwip_htonl(group));
    igmp_leavegroup_netif(pw_lwip_netif(u->iface), &g);
  }
  u->in_lwip &= (uint8_t)~bit;
  u->groups[at] = 0;
  return PW_OK;
}

static void udp_close_(void *ctx, int32_t sock) {
  pico_udp *u = udp_find(sock);
  if (!u) return;
  for (int i = 0; i < PW_LWIP_MAX_GROUPS; i++)
    if (u->groups[i]) udp_join_(ctx, sock, u->groups[i], false);
  udp_remove(u->pcb);
  memset(u, 0, sizeof *u);
}

/* ------------------------------------------------------------------ DNS */

static void on_dns(const char *name, const ip_addr_t *ip, void *arg) {
  int32_t req = (int32_t)(intptr_t)arg;
  if (ip) pw_host_on_dns_result(L.host, req, ip_of(ip), PW_OK);
  else pw_host_on_dns_result(L.host, req, 0, PW_ERR_NOTFOUND);
}

static int32_t dns_resolve_(void *ctx, int32_t req, const char *name, size_t len) {
  char host[DNS_MAX_NAME_LENGTH];
  if (len == 0 || len >= sizeof host) return PW_ERR_INVAL;
  memcpy(host, name, len);
  host[len] = 0;
  ip_addr_t a;
  err_t err = dns_gethostbyname(host, &a, on_dns, (void *)(intptr_t)req);
  if (err == ERR_OK) pw_host_on_dns_result(L.host, req, ip_of(&a), PW_OK); /* cached or a literal */
  else if (err != ERR_INPROGRESS) return map_err(err);
  return PW_OK;
}

/* ------------------------------------------------------------------ setup */

void pw_lwip_init(pw_host *host) {
  memset(&L, 0, sizeof L);
  memset(&pw_lwip_stats, 0, sizeof pw_lwip_stats);
  L.host = host;
}

void pw_lwip_fill(pw_platform *p) {
  p->tcp_listen = tcp_listen_;
  p->tcp_unlisten = tcp_unlisten_;
  p->tcp_connect = tcp_connect_;
  p->tcp_send = tcp_send_;
  p->tcp_recved = tcp_recved_;
  p->tcp_close = tcp_close_;
  p->tcp_abort = tcp_abort_;
  p->udp_open = udp_open_;
  p->udp_send = udp_send_;
  p->udp_close = udp_close_;
  p->udp_join = udp_join_;
  p->dns_resolve = dns_resolve_;
}

void pw_lwip_flush(void) {
  if (!L.unflushed) return;
  L.unflushed = false;
  for (int i = 0; i < PW_LWIP_MAX_CONNS; i++)
    if (L.conns[i].state == C_OPEN && L.conns[i].pcb && L.conns[i].pcb->unsent) tcp_output(L.conns[i].pcb);
}

void pw_lwip_poll(void) {
  for (int i = 0; i < PW_LWIP_MAX_UDP; i++)
    if (L.udps[i].handle > 0) udp_sync_groups(&L.udps[i]);
  for (int i = 0; i < PW_LWIP_MAX_CONNS; i++) {
    pico_conn *c = &L.conns[i];
    if (c->state != C_OPEN) continue;
    if (c->rx || (c->fin && !c->fin_told)) conn_deliver(c); /* bytes the host had no room for earlier */
    if (c->starved) { /* once per round of the loop: memory comes back as lwIP runs */
      c->starved = false;
      pw_host_on_tcp_sent(L.host, c->handle, 0);
    }
  }
}
