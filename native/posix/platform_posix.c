/* BSD sockets for the picowire host, driven by one poll() loop.
 *
 * Every socket binds to the --host address. Received bytes are read only while the host has room for
 * them, so a core that stops consuming pushes back on the peer through TCP's window, as lwIP's
 * tcp_recved does on the board. Sends queue up to PW_POSIX_SNDBUF bytes per connection; what the kernel
 * took is reported as sent. A connection the core closed keeps its slot until its queue is out, then
 * sends FIN and waits (at most PW_POSIX_LINGER_MS) for the peer's FIN before closing, so the peer never
 * sees a reset in place of the last bytes.
 */
#define _GNU_SOURCE
#include "platform_posix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* K_GROUP: a multicast group joined for the K_UDP socket of the same handle (udp_join) */
enum { K_LISTEN = 1, K_CONN, K_UDP, K_GROUP };
enum { S_CONNECTING = 1, S_OPEN, S_CLOSING, S_LINGER };

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* ------------------------------------------------------------------ log and time */

void posix_log(void *ctx, int32_t level, const char *msg, size_t len) {
  posix_platform *pp = ctx;
  if (level > pp->log_level) return;
  if (level >= 0 && level <= 3) printf("[%s] %.*s\n", level_names[level], (int)len, msg);
  else printf("[level %d] %.*s\n", level, (int)len, msg);
}

void posix_logf(posix_platform *pp, int32_t level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pw_vlogf(posix_log, pp, level, fmt, ap);
  va_end(ap);
}

uint32_t posix_now_ms(void *ctx) {
  posix_platform *pp = ctx;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u) + pp->time_offset;
}

static bool reached(uint32_t now, uint32_t deadline) { return (int32_t)(now - deadline) >= 0; }

/* ------------------------------------------------------------------ sockets */

static int32_t map_errno(int err) {
  switch (err) {
    case ECONNREFUSED: return PW_ERR_REFUSED;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return PW_ERR_RESET;
    case ETIMEDOUT: return PW_ERR_TIMEOUT;
    case EADDRINUSE: return PW_ERR_BUSY;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM: return PW_ERR_NOMEM;
    case EINVAL: return PW_ERR_INVAL;
    default: return PW_ERR_IO;
  }
}

static posix_socket *sock_find(posix_platform *pp, int32_t handle, uint8_t kind) {
  if (handle <= 0) return NULL;
  for (int i = 0; i < PW_POSIX_MAX_SOCKETS; i++)
    if (pp->socks[i].handle == handle && pp->socks[i].kind == kind) return &pp->socks[i];
  return NULL;
}

static posix_socket *sock_new(posix_platform *pp, int32_t handle, uint8_t kind, int fd) {
  for (int i = 0; i < PW_POSIX_MAX_SOCKETS; i++) {
    posix_socket *s = &pp->socks[i];
    if (s->handle != 0) continue;
    memset(s, 0, sizeof *s);
    s->handle = handle;
    s->kind = kind;
    s->fd = fd;
    return s;
  }
  return NULL;
}

static bool sock_room(posix_platform *pp) {
  for (int i = 0; i < PW_POSIX_MAX_SOCKETS; i++)
    if (pp->socks[i].handle == 0) return true;
  return false;
}

static void sock_free(posix_socket *s, bool reset) {
  if (s->fd >= 0) {
    if (reset) {
      struct linger lg = {1, 0};
      setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(s->fd);
  }
  free(s->tx);
  memset(s, 0, sizeof *s);
  s->fd = -1;
}

static struct sockaddr_in addr_of(uint32_t ip, uint16_t port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(ip);
  a.sin_port = htons(port);
  return a;
}

static void ip_text(uint32_t ip, char out[16]) {
  snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static int32_t os_error(posix_platform *pp, const char *what, uint32_t ip, uint16_t port) {
  int err = errno;
  char t[16];
  ip_text(ip, t);
  posix_logf(pp, PW_LOG_WARN, "posix: %s %s:%u: %s", what, t, port, strerror(err));
  return map_errno(err);
}

static void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int32_t tcp_listen(void *ctx, int32_t listener, uint16_t port) {
  posix_platform *pp = ctx;
  if (!sock_room(pp)) return PW_ERR_NOMEM;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return os_error(pp, "socket for listening on", pp->host_ip, port);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = addr_of(pp->host_ip, port);
  /* A deep kernel queue: with a short one (16) a burst of connections overflows it and Linux answers
   * with SYN cookies, then drops the handshakes that complete while the queue is still full; those
   * peers believe they are connected and wait forever for a reply or a FIN that never comes. The host
   * and the core decide what to accept (a polite FIN when no slot is free); the kernel only holds. */
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, SOMAXCONN) != 0) {
    int32_t r = os_error(pp, "cannot listen on", pp->host_ip, port);
    close(fd);
    return r;
  }
  sock_new(pp, listener, K_LISTEN, fd);
  return PW_OK;
}

static void tcp_unlisten(void *ctx, int32_t listener) {
  posix_socket *s = sock_find(ctx, listener, K_LISTEN);
  if (s) sock_free(s, false);
}

static int32_t tcp_connect(void *ctx, int32_t conn, uint32_t ip, uint16_t port) {
  posix_platform *pp = ctx;
  if (!sock_room(pp)) return PW_ERR_NOMEM;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return os_error(pp, "socket for connecting to", ip, port);
  struct sockaddr_in local = addr_of(pp->host_ip, 0);
  if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
    int32_t r = os_error(pp, "cannot bind an outgoing connection to", pp->host_ip, 0);
    close(fd);
    return r;
  }
  set_nodelay(fd);
  posix_socket *s = sock_new(pp, conn, K_CONN, fd);
  struct sockaddr_in a = addr_of(ip, port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    s->state = S_OPEN;
    pw_host_on_tcp_connected(pp->host, conn, PW_OK);
  } else if (errno == EINPROGRESS) {
    s->state = S_CONNECTING;
  } else {
    int32_t r = map_errno(errno); /* found at once, reported like any outcome */
    sock_free(s, false);
    pw_host_on_tcp_connected(pp->host, conn, r);
  }
  return PW_OK;
}

/** Writes what the kernel takes; false when the connection broke (the caller reports it). */
static bool flush(posix_platform *pp, posix_socket *s) {
  while (s->tx_len > 0) {
    ssize_t n = send(s->fd, s->tx, s->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      return false;
    }
    memmove(s->tx, s->tx + n, s->tx_len - (size_t)n);
    s->tx_len -= (size_t)n;
    if (s->handle > 0) pw_host_on_tcp_sent(pp->host, s->handle, (size_t)n);
  }
  return true;
}

static void conn_broke(posix_platform *pp, posix_socket *s, int err) {
  int32_t handle = s->handle;
  sock_free(s, false);
  if (handle > 0) pw_host_on_tcp_error(pp->host, handle, map_errno(err));
}

static int32_t tcp_send(void *ctx, int32_t conn, const uint8_t *src, size_t len) {
  posix_platform *pp = ctx;
  posix_socket *s = sock_find(pp, conn, K_CONN);
  if (!s) return PW_ERR_NOTFOUND;
  if (s->state != S_OPEN) return PW_ERR_BUSY;
  if (!s->tx && !(s->tx = malloc(PW_POSIX_SNDBUF))) return PW_ERR_NOMEM;
  if (pp->observe) pp->observe(pp, true); /* the board's state is published before the peer can react to these bytes */
  size_t take = PW_POSIX_SNDBUF - s->tx_len;
  if (take > len) take = len;
  memcpy(s->tx + s->tx_len, src, take);
  s->tx_len += take;
  if (!flush(pp, s)) {
    /* reported as an event; the bytes count as accepted so the core hears of the loss from tcp_closed */
    conn_broke(pp, s, errno);
  }
  return (int32_t)take;
}

static void tcp_close(void *ctx, int32_t conn) {
  posix_socket *s = sock_find(ctx, conn, K_CONN);
  if (!s) return;
  s->handle = -1; /* the host forgot it; we finish sending */
  s->state = S_CLOSING;
  s->linger_until = posix_now_ms(ctx) + PW_POSIX_LINGER_MS;
}

static void tcp_abort(void *ctx, int32_t conn) {
  posix_socket *s = sock_find(ctx, conn, K_CONN);
  if (s) sock_free(s, true);
}

static int32_t udp_open(void *ctx, int32_t sock, uint16_t port, int32_t iface) {
  posix_platform *pp = ctx;
  (void)iface; /* one interface here: the --host address */
  if (!sock_room(pp)) return PW_ERR_NOMEM;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return os_error(pp, "udp socket on", pp->host_ip, port);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  struct sockaddr_in a = addr_of(pp->host_ip, port);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    int32_t r = os_error(pp, "cannot bind udp", pp->host_ip, port);
    close(fd);
    return r;
  }
  sock_new(pp, sock, K_UDP, fd);
  return PW_OK;
}

static int32_t udp_send(void *ctx, int32_t sock, uint32_t ip, uint16_t port, const uint8_t *src, size_t len) {
  posix_platform *pp = ctx;
  posix_socket *s = sock_find(pp, sock, K_UDP);
  if (!s) return PW_ERR_NOTFOUND;
  struct sockaddr_in a = addr_of(ip, port);
  ssize_t n = sendto(s->fd, src, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? PW_ERR_WOULDBLOCK : map_errno(errno);
  return PW_OK;
}

static void udp_close(void *ctx, int32_t sock) {
  posix_socket *s = sock_find(ctx, sock, K_UDP);
  if (s) sock_free(s, false);
  while ((s = sock_find(ctx, sock, K_GROUP))) sock_free(s, false); /* closing leaves the groups */
}

static posix_socket *group_find(posix_platform *pp, int32_t sock, uint32_t group) {
  for (int i = 0; i < PW_POSIX_MAX_SOCKETS; i++)
    if (pp->socks[i].handle == sock && pp->socks[i].kind == K_GROUP && pp->socks[i].group == group) return &pp->socks[i];
  return NULL;
}

/* A socket bound to the --host address never sees multicast: a second one, bound to the group and the
 * same port and a member of the group on the --host interface, receives it for the same handle. */
static int32_t udp_join(void *ctx, int32_t sock, uint32_t group, bool join) {
  posix_platform *pp = ctx;
  posix_socket *u = sock_find(pp, sock, K_UDP);
  if (!u) return PW_ERR_NOTFOUND;
  posix_socket *g = group_find(pp, sock, group);
  if (!join || g) {
    if (g && !join) sock_free(g, false); /* closing the socket leaves the group */
    return PW_OK;
  }
  if (!sock_room(pp)) return PW_ERR_NOMEM;
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  if (getsockname(u->fd, (struct sockaddr *)&a, &alen) != 0) return map_errno(errno);
  uint16_t port = ntohs(a.sin_port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return os_error(pp, "udp socket for group", group, port);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in b = addr_of(group, port);
  struct ip_mreq m = {.imr_multiaddr.s_addr = htonl(group), .imr_interface.s_addr = htonl(pp->host_ip)};
  if (bind(fd, (struct sockaddr *)&b, sizeof b) != 0 || setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0) {
    int32_t r = os_error(pp, "cannot join multicast group", group, port);
    close(fd);
    return r;
  }
  sock_new(pp, sock, K_GROUP, fd)->group = group;
  return PW_OK;
}

/* A blocking lookup is acceptable on a test host; the result still arrives as an event. */
static int32_t dns_resolve(void *ctx, int32_t req, const char *name, size_t len) {
  posix_platform *pp = ctx;
  char host[256];
  if (len == 0 || len >= sizeof host) return PW_ERR_INVAL;
  memcpy(host, name, len);
  host[len] = 0;
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  int r = getaddrinfo(host, NULL, &hints, &res);
  if (r != 0 || !res) {
    pw_host_on_dns_result(pp->host, req, 0, PW_ERR_NOTFOUND);
  } else {
    uint32_t ip = ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
    pw_host_on_dns_result(pp->host, req, ip, PW_OK);
  }
  if (res) freeaddrinfo(res);
  return PW_OK;
}

static int32_t wifi_status(void *ctx, int32_t iface) {
  (void)ctx;
  return iface == PW_IFACE_STA ? PW_WIFI_UP : PW_WIFI_DOWN; /* a computer is always "on a network" */
}

static uint32_t wifi_ip(void *ctx, int32_t iface) {
  posix_platform *pp = ctx;
  return iface == PW_IFACE_STA ? pp->host_ip : 0;
}

static int32_t random_fill(void *ctx, uint8_t *dst, size_t len) {
  (void)ctx;
  while (len > 0) {
    ssize_t n = getrandom(dst, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PW_ERR_IO;
    }
    dst += n;
    len -= (size_t)n;
  }
  return PW_OK;
}

static int32_t board_id(void *ctx, uint8_t *dst, size_t cap) {
  posix_platform *pp = ctx;
  size_t n = cap < sizeof pp->board_id ? cap : sizeof pp->board_id;
  memcpy(dst, pp->board_id, n);
  return (int32_t)n;
}

/* Assets: "core.sha256", the SHA-256 (hex) of the core the engine runs, which the core reports in get_info
 * (the Node host offers the same asset). */
static const char *asset_text(posix_platform *pp, int32_t asset) {
  if (asset != 0 || !pp->host || !pp->host->engine.v) return NULL;
  return pp->host->engine.v->core_sha256(&pp->host->engine);
}

static int32_t asset_find(void *ctx, const char *name, size_t len) {
  static const char sha_name[] = "core.sha256";
  if (len == sizeof sha_name - 1 && memcmp(name, sha_name, len) == 0 && asset_text(ctx, 0)) return 0;
  return PW_ERR_NOTFOUND;
}

static int32_t asset_size(void *ctx, int32_t asset) {
  const char *t = asset_text(ctx, asset);
  return t ? (int32_t)strlen(t) : PW_ERR_NOTFOUND;
}

static int32_t asset_read(void *ctx, int32_t asset, uint32_t offset, uint8_t *dst, size_t len) {
  const char *t = asset_text(ctx, asset);
  if (!t) return PW_ERR_NOTFOUND;
  size_t size = strlen(t);
  if (offset > size) return PW_ERR_RANGE;
  size_t n = size - offset < len ? size - offset : len;
  memcpy(dst, t + offset, n);
  return (int32_t)n;
}

static int32_t reset_reason(void *ctx) { return ((posix_platform *)ctx)->reset_reason; }

/* The host calls it outside any core call; main.c restarts the host once the service round returns. */
static void reboot(void *ctx, int32_t kind) {
  posix_platform *pp = ctx;
  pp->reboot_requested = true;
  pp->reboot_kind = kind;
}

void posix_platform_init(posix_platform *pp, pw_host *host, uint32_t host_ip) {
  memset(pp, 0, sizeof *pp);
  pp->code_cut_at = -1;
  pp->host = host;
  pp->host_ip = host_ip;
  pp->log_level = PW_LOG_INFO;
  pp->wake_fd = -1;
  pp->cmd_fd = -1;
  for (int i = 0; i < PW_POSIX_MAX_SOCKETS; i++) pp->socks[i].fd = -1;
  for (int i = 0; i < PW_PIN_COUNT; i++) pp->pins[i].mode = -1;
  pp->led.mode = PW_GPIO_OUT;
  pp->adc[4] = 876; /* about 27 degrees C on the RP2040's sensor */
  /* board id: FNV-1a of the host name and address, stable across runs of one setup */
  char name[256] = "";
  gethostname(name, sizeof name - 1);
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char *c = name; *c; c++) hash = (hash ^ (uint8_t)*c) * 0x100000001b3ull;
  for (int i = 0; i < 4; i++) hash = (hash ^ ((host_ip >> (8 * i)) & 255)) * 0x100000001b3ull;
  for (int i = 0; i < 8; i++) pp->board_id[i] = (uint8_t)(hash >> (56 - 8 * i));
}

pw_platform posix_platform_ops(posix_platform *pp) {
  pw_platform p;
  memset(&p, 0, sizeof p);
  p.ctx = pp;
  p.now_ms = posix_now_ms;
  p.log = posix_log;
  p.random_fill = random_fill;
  p.board_id = board_id;
  p.temperature_mc = posix_temperature_mc;
  p.tcp_listen = tcp_listen;
  p.tcp_unlisten = tcp_unlisten;
  p.tcp_connect = tcp_connect;
  p.tcp_send = tcp_send;
  p.tcp_close = tcp_close;
  p.tcp_abort = tcp_abort;
  p.udp_open = udp_open;
  p.udp_send = udp_send;
  p.udp_close = udp_close;
  p.udp_join = udp_join;
  p.dns_resolve = dns_resolve;
  p.wifi_status = wifi_status;
  p.wifi_ip = wifi_ip;
  p.gpio_setup = posix_gpio_setup;
  p.gpio_write = posix_gpio_write;
  p.gpio_read = posix_gpio_read;
  p.gpio_watch = posix_gpio_watch;
  p.pwm_set = posix_pwm_set;
  p.adc_read = posix_adc_read;
  p.pixels_show = posix_pixels_show;
  p.flash_size = posix_flash_size;
  p.flash_read = posix_flash_read;
  p.flash_write = posix_flash_write;
  p.flash_erase = posix_flash_erase;
  p.flash_map = posix_flash_map;
  if (pp->code) {
    p.code_map = posix_code_map;
    p.code_write_sector = posix_code_write_sector;
    p.code_firmware_id = posix_code_firmware_id;
  }
  p.reset_reason = reset_reason;
  p.reboot = reboot;
  p.asset_find = asset_find;
  p.asset_size = asset_size;
  p.asset_read = asset_read;
  return p;
}

void posix_platform_close_all(posix_platform *pp) {
  for (int i = 0; i < PW_POSIX_MAX_SOCKETS; i++) {
    posix_socket *s = &pp->socks[i];
    if (s->handle == 0) continue;
    if (s->kind == K_CONN && s->state != S_CONNECTING) flush(pp, s); /* best effort for closing ones */
    sock_free(s, s->kind == K_CONN && s->handle > 0);
  }
}

bool posix_platform_reboot(posix_platform *pp) {
  posix_platform_close_all(pp);
  memset(pp->pins, 0, sizeof pp->pins);
  for (int i = 0; i < PW_PIN_COUNT; i++) pp->pins[i].mode = -1;
  memset(&pp->led, 0, sizeof pp->led);
  pp->led.mode = PW_GPIO_OUT;
  pp->reset_reason = pp->reboot_kind == PW_REBOOT_WATCHDOG ? PW_RESET_WATCHDOG : PW_RESET_SOFTWARE;
  pp->reboot_requested = false;
  if (pp->reboot_kind == PW_RESET_KIND_BOOTSEL)
    posix_logf(pp, PW_LOG_WARN, "posix: no USB bootloader here: rebooting instead");
  if (!pp->flash_file) return true;
  return posix_flash_load(pp);
}

/* ------------------------------------------------------------------ the poll loop */

/** Free entries in the host's connection table (pw_host.h: handle 0 = free). */
static int host_free_conns(const pw_host *h) {
  int n = 0;
  for (int i = 0; i < PW_HOST_MAX_CONNS; i++)
    if (h->conns[i].handle == 0) n++;
  return n;
}

static void on_listener(posix_platform *pp, posix_socket *l) {
  /* Take only as many as the host has entries for: the rest wait in the kernel's queue for the next
   * round, when the core has seen these (and refused them politely, with FIN and counted, if it has no
   * slot). Accepting more would make the host refuse them before the core sees them: closed with their
   * request unread, i.e. a reset, and missing from STAT_REFUSED. Only when the table is already full
   * does the host refuse, so that a saturated board still answers instead of leaving peers queued. */
  int limit = host_free_conns(pp->host);
  /* a full table that holds accepts the core has not seen yet frees itself at the next service (the core
   * drops what its policy drops, docs/SECURITY.md): peers wait in the kernel's queue meanwhile, in order,
   * rather than one of them, perhaps the legitimate one among a reconnecting attacker's, being refused */
  if (limit == 0 && pp->host->q_len > 0) return;
  if (limit == 0 || limit > 16) limit = 16;
  for (int i = 0; i < limit; i++) {
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or an error the next accept will show again */
    uint32_t ip = ntohl(peer.sin_addr.s_addr);
    uint16_t port = ntohs(peer.sin_port);
    int32_t handle = sock_room(pp) ? pw_host_on_tcp_accept(pp->host, l->handle, ip, port) : PW_ERR_NOMEM;
    if (handle < 0) {
      char t[16];
      ip_text(ip, t);
      posix_logf(pp, PW_LOG_DEBUG, "posix: refused %s:%u (%s)", t, port, pw_err_name(handle));
      close(fd);
      continue;
    }
    set_nodelay(fd);
    posix_socket *s = sock_new(pp, handle, K_CONN, fd);
    s->state = S_OPEN;
  }
}

static void on_conn(posix_platform *pp, posix_socket *s, short revents) {
  if (s->state == S_CONNECTING) {
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
      int32_t handle = s->handle;
      sock_free(s, false);
      pw_host_on_tcp_connected(pp->host, handle, map_errno(err));
      return;
    }
    if (!(revents & POLLOUT)) return;
    s->state = S_OPEN;
    pw_host_on_tcp_connected(pp->host, s->handle, PW_OK);
    return;
  }
  if ((revents & POLLOUT) && !flush(pp, s)) {
    conn_broke(pp, s, errno);
    return;
  }
  if (!(revents & (POLLIN | POLLHUP | POLLERR))) return;
  uint8_t buf[4096];
  size_t want = sizeof buf;
  if (s->state == S_OPEN) {
    size_t room = pw_host_tcp_room(pp->host, s->handle);
    if (room < want) want = room;
  }
  if (want == 0) {
    if (!(revents & POLLERR)) return;
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    conn_broke(pp, s, err ? err : ECONNRESET);
    return;
  }
  ssize_t n = recv(s->fd, buf, want, MSG_DONTWAIT);
  if (n > 0) {
    if (s->state == S_OPEN) pw_host_on_tcp_data(pp->host, s->handle, buf, (size_t)n);
    /* closing or lingering: the core is gone, the bytes are dropped */
  } else if (n == 0) {
    s->peer_fin = true;
    if (s->state == S_OPEN) pw_host_on_tcp_fin(pp->host, s->handle);
    else if (s->state == S_LINGER) sock_free(s, false);
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    conn_broke(pp, s, errno);
  }
}

static void on_udp(posix_platform *pp, posix_socket *s) {
  for (int i = 0; i < 16; i++) {
    uint8_t buf[PW_IO_CAPACITY + 1];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(s->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &flen);
    if (n < 0) return;
    if ((size_t)n > PW_IO_CAPACITY) continue; /* longer than any event payload: dropped, as the ABI says */
    pw_host_on_udp_data(pp->host, s->handle, ntohl(from.sin_addr.s_addr), ntohs(from.sin_port), buf, (size_t)n);
  }
}

/** Moves closing connections along: queue out -> FIN -> peer's FIN or the linger deadline -> closed. */
static int32_t housekeeping(posix_platform *pp) {
  uint32_t now = posix_now_ms(pp);
  int32_t wait = -1;
  for (int i = 0; i < PW_POSIX_MAX_SOCKETS; i++) {
    posix_socket *s = &pp->socks[i];
    if (s->kind != K_CONN || (s->state != S_CLOSING && s->state != S_LINGER)) continue;
    if (s->handle == 0) continue;
    if (reached(now, s->linger_until)) {
      sock_free(s, true);
      continue;
    }
    if (s->state == S_CLOSING && s->tx_len == 0) {
      shutdown(s->fd, SHUT_WR);
      s->state = S_LINGER;
      if (s->peer_fin) {
        sock_free(s, false);
        continue;
      }
    }
    int32_t left = (int32_t)(s->linger_until - now);
    if (wait < 0 || left < wait) wait = left;
  }
  return wait;
}

bool posix_platform_poll(posix_platform *pp, int32_t wait_ms) {
  struct pollfd fds[PW_POSIX_MAX_SOCKETS + 2];
  posix_socket *owner[PW_POSIX_MAX_SOCKETS + 2];
  nfds_t n = 0;
  int32_t linger = housekeeping(pp);
  if (linger >= 0 && (wait_ms < 0 || linger < wait_ms)) wait_ms = linger;
  if (pp->wake_fd >= 0) {
    fds[n].fd = pp->wake_fd;
    fds[n].events = POLLIN;
    owner[n++] = NULL;
  }
  if (pp->cmd_fd >= 0) {
    fds[n].fd = pp->cmd_fd;
    fds[n].events = POLLIN;
    owner[n++] = NULL;
  }
  for (int i = 0; i < PW_POSIX_MAX_SOCKETS; i++) {
    posix_socket *s = &pp->socks[i];
    if (s->handle == 0) continue;
    short ev = 0;
    if (s->kind == K_LISTEN || s->kind == K_UDP || s->kind == K_GROUP) ev = POLLIN;
    else if (s->state == S_CONNECTING) ev = POLLOUT;
    else {
      if (s->tx_len > 0) ev |= POLLOUT;
      if (!s->peer_fin && (s->state != S_OPEN || pw_host_tcp_room(pp->host, s->handle) > 0)) ev |= POLLIN;
    }
    if (ev == 0) continue; /* nothing wanted now: leaving it out also keeps POLLHUP from spinning us */
    fds[n].fd = s->fd;
    fds[n].events = ev;
    owner[n++] = s;
  }
  int r = poll(fds, n, wait_ms < 0 ? -1 : wait_ms);
  if (r <= 0) return false;
  bool woken = false;
  /* Existing connections first, new ones last: closes and FINs seen in the same round free their slots
   * before the core is asked to accept more. */
  for (int pass = 0; pass < 2; pass++) {
    for (nfds_t i = 0; i < n; i++) {
      if (!fds[i].revents) continue;
      posix_socket *s = owner[i];
      if (!s) {
        if (pass == 1) continue;
        if (fds[i].fd == pp->cmd_fd) { /* before any socket of this round (it comes first in fds) */
          if (pp->on_cmd) pp->on_cmd(pp);
          continue;
        }
        char drain[64];
        while (read(pp->wake_fd, drain, sizeof drain) > 0) {
        }
        woken = true;
        continue;
      }
      if (s->handle == 0 || s->fd != fds[i].fd) continue; /* freed earlier in this round */
      if ((s->kind == K_LISTEN) != (pass == 1)) continue;
      if (s->kind == K_LISTEN) on_listener(pp, s);
      else if (s->kind == K_UDP || s->kind == K_GROUP) on_udp(pp, s);
      else on_conn(pp, s, fds[i].revents);
    }
  }
  return woken;
}
