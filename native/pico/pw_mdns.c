/* mDNS: see pw_mdns.h. Names are what users type (`ping picowire-1a2b.local`, a browser at
 * http://picowire-1a2b.local/), so the host name comes from the board's unique ID, not its address. */
#include "pw_mdns.h"

#include <stdbool.h>
#include <string.h>

#include "lwip/apps/mdns.h"
#include "lwip/netif.h"

static bool started;
static struct netif *added[2]; /* the station's and the access point's, once each */
static uint16_t http_port = 80, control_port = 12345; /* the core's defaults (assembly/config.ts) */

/* The value of `key=` on a line of its own, or -1 (absent or not a port). */
static int32_t setting(const char *config, size_t len, const char *key) {
  size_t k = strlen(key);
  for (size_t i = 0; i + k <= len; i++) {
    if ((i == 0 || config[i - 1] == '\n') && memcmp(config + i, key, k) == 0) {
      int32_t v = 0;
      size_t j = i + k, digits = 0;
      for (; j < len && config[j] >= '0' && config[j] <= '9' && digits < 6; j++, digits++) v = v * 10 + (config[j] - '0');
      return digits > 0 && v <= 65535 ? v : -1;
    }
  }
  return -1;
}

void pw_mdns_services_from_config(const char *config, size_t len) {
  int32_t h = setting(config, len, "http_port="), c = setting(config, len, "control_port=");
  if (h >= 0) http_port = (uint16_t)h;
  if (c >= 0) control_port = (uint16_t)c;
}

uint16_t pw_mdns_http_port(void) { return http_port; }
uint16_t pw_mdns_control_port(void) { return control_port; }

static void http_txt(struct mdns_service *service, void *userdata) {
  (void)userdata;
  mdns_resp_add_service_txtitem(service, "path=/", 6);
}

int pw_mdns_up(struct netif *netif, const char *hostname) {
  if (!started) {
    mdns_resp_init();
    started = true;
  }
  for (int i = 0; i < 2; i++)
    if (added[i] == netif) {
      mdns_resp_restart(netif); /* back after a drop: probe and announce again */
      return 0;
    }
  err_t err = mdns_resp_add_netif(netif, hostname);
  if (err != ERR_OK) return err;
  for (int i = 0; i < 2; i++)
    if (!added[i]) {
      added[i] = netif;
      break;
    }
  if (http_port) mdns_resp_add_service(netif, hostname, "_http", DNSSD_PROTO_TCP, http_port, http_txt, NULL);
  if (control_port) mdns_resp_add_service(netif, hostname, "_picowire", DNSSD_PROTO_TCP, control_port, NULL, NULL);
  return 0;
}
