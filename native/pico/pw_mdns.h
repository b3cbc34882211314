/* mDNS on the board (lwIP's responder): the board answers as picowire-XXXX.local and advertises its
 * web page (_http._tcp) and control port (_picowire._tcp) on each interface that comes up. */
#ifndef PW_MDNS_H
#define PW_MDNS_H
#include <stddef.h>
#include <stdint.h>

struct netif;

/* The ports to advertise, from the configuration text the core was started with (http_port=,
 * control_port=; the core's defaults when absent; 0: not advertised). */
void pw_mdns_services_from_config(const char *config, size_t len);

/* The interface is up (station joined, or access point started): answer and announce on it. 0, or
 * lwIP's error (the responder could not be added to the interface). */
int pw_mdns_up(struct netif *netif, const char *hostname);

/* The advertised ports (for tests and the log). */
uint16_t pw_mdns_http_port(void);
uint16_t pw_mdns_control_port(void);
#endif
