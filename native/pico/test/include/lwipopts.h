/* lwIP options for the host-side test: like native/pico/lwipopts.h, but a small MSS and window so
 * that messages split into many segments, pbufs chain, and the window really closes. */
#ifndef PW_TEST_LWIPOPTS_H
#define PW_TEST_LWIPOPTS_H
#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0
#define MEM_ALIGNMENT 8
#define MEM_SIZE (64 * 1024)
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_SEG 64
#define PBUF_POOL_SIZE 64
#define PBUF_POOL_BUFSIZE 256        /* small pool pbufs: a segment arrives as a chain */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 0
#define LWIP_ETHERNET 0
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_DNS 1
#define LWIP_DHCP 0
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 0
#define SO_REUSE 1
#define LWIP_IGMP 1                   /* mDNS joins 224.0.0.251 */
#define LWIP_LOOPIF_MULTICAST 1       /* ... on the loopback netif, as on the radio's */
#define LWIP_MDNS_RESPONDER 1
#define LWIP_NUM_NETIF_CLIENT_DATA 1
#define MDNS_MAX_SERVICES 2
#define MEMP_NUM_SYS_TIMEOUT 16
#define TCP_MSS 536
#define TCP_WND (6 * TCP_MSS)         /* 3,216 B: more than the host holds (1,536), so bytes wait in pw_lwip */
#define TCP_SND_BUF (2 * TCP_MSS)     /* 1,072 B: the echo fills it, tcp_send answers 0, tcp_sent resumes */
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_STATS 0
#define LWIP_CHECKSUM_ON_COPY 1
#endif
