/* lwIP options for picowire on the Pico W: NO_SYS raw API only, driven by pico_cyw43_arch_lwip_poll.
 * Sized for the host's 12 connection slots (PW_HOST_MAX_CONNS) with a small send buffer per
 * connection: tcp_send answers 0 when lwIP's queue or heap is full, and the core resumes on tcp_sent.
 */
#ifndef PICOWIRE_LWIPOPTS_H
#define PICOWIRE_LWIPOPTS_H

#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 1 /* cyw43_arch provides sys_arch_protect */

#define MEM_LIBC_MALLOC 0
#define MEM_ALIGNMENT 4
#define MEM_SIZE (16 * 1024)   /* tcp_write copies outgoing bytes here (TCP_WRITE_FLAG_COPY) */
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_PCB_LISTEN 4
#define MEMP_NUM_UDP_PCB 7 /* + mDNS */
#define MEMP_NUM_TCP_SEG 48
#define MEMP_NUM_ARP_QUEUE 10
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2 + 2 * 3) /* + mDNS: 3 per interface */
#define PBUF_POOL_SIZE 16 /* lwIP's default: 24 KB of receive buffers (24 took 12 KB more of the heap wasm3 needs) */

#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_DNS 1
#define LWIP_DHCP 1
#define LWIP_IGMP 1 /* mDNS, and the E1.31 universes' groups (udp_join) */
/* all-systems and mDNS per interface (4), plus the 8 universes an E1.31 frame may span */
#define MEMP_NUM_IGMP_GROUP 12
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_CHKSUM_ALGORITHM 3
/* Not LWIP_NETIF_TX_SINGLE_PBUF: with it every tcp_write takes a whole MSS-sized pbuf (1,532 B of the
 * 16 KiB heap) however few bytes it carries, so ten small unacknowledged echoes exhaust the heap for every
 * connection. The CYW43 driver copies a pbuf chain itself (cyw43_ll_send_ethernet). Without it lwIP
 * sends IP fragments as references (one FRAG_PBUF each, freed once the driver copied it): a datagram of
 * at most the core's 1,536-byte io buffer is two fragments, not lwIP's default of 15 pool entries. */
#define MEMP_NUM_FRAG_PBUF 2
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define SO_REUSE 1
/* mDNS responder (pw_mdns.c): the board's name and its _http / _picowire services */
#define LWIP_MDNS_RESPONDER 1
#define LWIP_NUM_NETIF_CLIENT_DATA 1
#define MDNS_MAX_SERVICES 2

#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)               /* opened only as the core consumes (tcp_recved) */
#define TCP_SND_BUF (4 * TCP_MSS)           /* per connection; tcp_sndbuf() bounds tcp_send */
#define TCP_SND_QUEUELEN ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define TCP_LISTEN_BACKLOG 1

#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0
#define MEM_STATS 0
#define SYS_STATS 0
#define MEMP_STATS 0
#define LINK_STATS 0

#ifndef NDEBUG
#define LWIP_DEBUG 1
#endif
#endif
