/* picowire's TCP/UDP/DNS over lwIP's raw API (pw_lwip.c): the network half of a pw_platform. */
#ifndef PW_LWIP_H
#define PW_LWIP_H

#include "pw_host.h"
#include "pw_platform.h"

#define PW_LWIP_MAX_CONNS PW_HOST_MAX_CONNS
#define PW_LWIP_MAX_LISTENERS PW_HOST_MAX_LISTENERS
#define PW_LWIP_MAX_UDP PW_HOST_MAX_UDP
#define PW_LWIP_MAX_GROUPS 8 /* multicast groups per UDP socket: E1.31 spans at most 8 universes */

struct netif;

/** What happened on the receive and send paths (for tests and diagnostics). */
typedef struct pw_lwip_counters {
  uint32_t merged;         /* a segment arrived while bytes were still waiting: chained (pbuf_cat) */
  uint32_t partial;        /* the host's hold took only part of a pbuf: the rest waits here */
  uint32_t send_full;      /* tcp_send took less than offered (send buffer or lwIP heap full) */
  uint32_t send_starved;   /* tcp_write found lwIP's heap or segments exhausted (the core retries) */
  uint32_t syn_refused;    /* a SYN found no free pcb, from an address holding many: answered with a reset */
  uint32_t syn_deferred;   /* a SYN found no free pcb, from another address: left to its retry */
  uint64_t recved;         /* bytes the window was opened by, as the core consumed them */
  uint64_t recved_on_close;/* unread bytes acknowledged at close */
} pw_lwip_counters;
extern pw_lwip_counters pw_lwip_stats;

/** Forgets every socket (call once, before lwIP callbacks can fire). */
void pw_lwip_init(pw_host *host);
/** Sets the tcp_*, udp_* and dns_resolve entries of a platform. */
void pw_lwip_fill(pw_platform *p);
/** From the port's loop: offers received bytes the host had no room for earlier, and late FINs. */
void pw_lwip_poll(void);
/** After the core ran (pw_host_service): sends what tcp_send queued. tcp_send only queues, so the small
 *  writes of one round (a WebSocket echo's header and payload, many pipelined echoes) leave as one
 *  segment instead of one segment and one radio frame each. */
void pw_lwip_flush(void);
/** Provided by the port: the netif of PW_IFACE_STA / PW_IFACE_AP (UDP sends go out of it). */
struct netif *pw_lwip_netif(int32_t iface);

#endif
