/* The picowire host: runs one core on one engine over one platform.
 *
 *   port callbacks --pw_host_on_*()--> event queue --pw_host_service()--> core exports
 *   core imports  --pw_import_*()---> host state / platform functions
 *
 * The core is only ever called from pw_host_service(), never from inside an import and never from a
 * port callback: pw_host_on_*() only record and enqueue. Received TCP bytes wait in the host (at most
 * PW_HOST_RX_HOLD per connection) until the core consumes them; what tcp_data leaves unconsumed is
 * re-offered after the core calls tcp_resume. A trap is logged and the core restarted with the same
 * configuration (reset_reason() then answers PW_RESET_TRAP); every connection of the dead core is reset.
 *
 * Sizes are compile-time knobs (define them before including this file, or with -D).
 */
#ifndef PW_HOST_H
#define PW_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picowire_abi.h"
#include "pw_abi_util.h"
#include "pw_engine.h"
#include "pw_platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/** TCP connections the host tracks at once (accepted + outgoing). */
#ifndef PW_HOST_MAX_CONNS
#define PW_HOST_MAX_CONNS 16
#endif
/** Listening sockets. */
#ifndef PW_HOST_MAX_LISTENERS
#define PW_HOST_MAX_LISTENERS 4
#endif
/** UDP sockets. */
#ifndef PW_HOST_MAX_UDP
#define PW_HOST_MAX_UDP 4
#endif
/** Received bytes held per connection until the core consumes them. */
#ifndef PW_HOST_RX_HOLD
#define PW_HOST_RX_HOLD PW_IO_CAPACITY
#endif
/** Datagrams waiting for the core; more are dropped (and counted). */
#ifndef PW_HOST_UDP_QUEUE
#define PW_HOST_UDP_QUEUE 4
#endif
/** Events waiting for the core. TCP events are coalesced per connection, so this only fills up when
 *  UDP, DNS, WiFi or GPIO events pile up; those are then dropped and counted. */
#ifndef PW_HOST_EVENT_QUEUE
#define PW_HOST_EVENT_QUEUE (4 * PW_HOST_MAX_CONNS + 32)
#endif
/** Configuration bytes kept for restarts (the core's io buffer bounds it anyway). */
#ifndef PW_HOST_CONFIG_CAP
#define PW_HOST_CONFIG_CAP PW_IO_CAPACITY
#endif

/* Bytes of the canary area checked per service round (a multiple of 4). After every round in which the
 * core ran (events delivered, tick, or any other export call) the host owes the area a full pass: it
 * checks the next stripe in that round and in each following round (wait_ms 0 until the pass is done),
 * so a stray write is found at most ceil(area / stripe) rounds after it happened, even if the core then
 * stays idle: 24 rounds for the 24 KiB above a 40 KiB cap. Rounds in which the core did not run and no
 * pass is owed check nothing. RP2040 (rp2040js): ~1,540 cycles per 1 KiB stripe, a full pass ~50,000
 * (the byte-by-byte scan of every round cost 262,000); see native/README.md "The memory canary".
 * Set it to the area's size (or more) for a whole pass in one round. */
#ifndef PW_HOST_CANARY_STRIPE
#define PW_HOST_CANARY_STRIPE 1024u
#endif
/** A trap within this many ms of the previous restart doubles the delay before the next one. */
#ifndef PW_HOST_TRAP_WINDOW_MS
#define PW_HOST_TRAP_WINDOW_MS 10000u
#endif
#ifndef PW_HOST_RESTART_MAX_MS
#define PW_HOST_RESTART_MAX_MS 10000u
#endif

/** A core booted on trial must confirm itself within this many ms (pw_host_options.trial_ms, 0: this),
 *  as the Node host's otaTrialMs. */
#ifndef PW_HOST_TRIAL_MS
#define PW_HOST_TRIAL_MS 60000u
#endif
/** A reboot the core asks for (reset BOARD/BOOTSEL) waits this long, the core still running, so the
 *  reply it just queued (ota_end's, reboot's) leaves the board first. */
#ifndef PW_HOST_REBOOT_DELAY_MS
#define PW_HOST_REBOOT_DELAY_MS 100u
#endif

/** Returned by pw_host_service() in *wait_ms when only an event can wake the host. */
#define PW_HOST_WAIT_FOREVER (-1)

typedef struct pw_host_options {
  const pw_platform *platform;
  const pw_engine_vtbl *engine;
  const uint8_t *wasm; /* module bytes, for engines that load at run time; NULL for wasm2c */
  size_t wasm_len;
  /* Boot from the core slots (docs/OTA.md, pw_boot.h) when the engine loads bytes at run time (wasm3)
   * and the port maps its flash (flash_map): the rules pick a slot's core or the one above (the
   * firmware's), at start and at every restart. Otherwise the host offers no slots (flash_size answers
   * PW_ERR_UNSUPPORTED for them) and the core refuses updates with "needs new firmware". */
  bool boot_slots;
  uint32_t trial_ms; /* a core booted on trial must confirm itself within this (0: PW_HOST_TRIAL_MS) */
  const char *config; /* "key=value" lines handed to the core's init() */
  size_t config_len;
  /* Fill the core's memory above its cap (stat STAT_HEAP_LIMIT) with a canary and check it after the
   * core ran: a write there would fault on the board, so it counts as a trap here. The check compares
   * 32-bit words, one stripe of PW_HOST_CANARY_STRIPE bytes per service round, and only while the area
   * is owed a full pass since the core last ran (see pw_host_service). */
  bool check_canary;
} pw_host_options;

typedef struct pw_conn {
  int32_t handle; /* 0: free slot */
  uint8_t state;
  bool paused;     /* the core left bytes unconsumed: wait for tcp_resume */
  bool fin;        /* peer sent FIN; delivered once the held bytes are consumed */
  bool fin_told;   /* tcp_closed(conn, PW_TCP_FIN) was delivered */
  bool gone;       /* the port lost the connection; deliver tcp_closed(err) and free */
  bool scheduled;  /* a service event for this connection is in the queue */
  bool send_again; /* the port has room again though nothing was acknowledged: tcp_sent with 0 bytes */
  int32_t gone_reason;
  int32_t connect_status;
  int32_t listener;
  uint32_t peer_ip;
  uint16_t peer_port;
  uint32_t sent; /* drained bytes not yet reported with tcp_sent */
  uint16_t rx_len;
  /* word-aligned so copies into the (aligned) io buffer run word by word: ~14 cycles/B saved on the M0+ */
  uint8_t rx[PW_HOST_RX_HOLD] __attribute__((aligned(4)));
} pw_conn;

typedef struct pw_event {
  uint8_t type;
  int32_t a, b, c, d;
} pw_event;

typedef struct pw_datagram {
  bool used;
  uint16_t len;
  uint8_t data[PW_IO_CAPACITY];
} pw_datagram;

typedef struct pw_host {
  pw_host_options opt;
  /* fail-safe levels the core registered (pin_safe), GPIO 0..PIN_COUNT-1 then the LED; -1: none.
   * Kept by the host so a pin falls back even when the core that armed the revert has died. */
  int8_t pin_safe[PW_PIN_COUNT + 1];
  const pw_platform *p;
  pw_engine engine;
  bool loaded;   /* the engine holds an instance */
  bool running;  /* the instance passed init and may receive events */
  bool fatal;    /* the host cannot go on (bad ABI, configuration refused) */
  bool in_core;  /* an export call is running */
  uint32_t io;   /* the core's io buffer (offset in its memory) */
  int32_t heap_limit;
  int32_t reset_reason;

  /* the canary check (opt.check_canary) */
  bool core_ran;         /* an export was called since the last canary stripe */
  uint32_t canary_owed;  /* stripes still to check for a full pass since the core last ran */
  uint32_t canary_next;  /* offset above heap_limit of the next stripe */

  /* restart bookkeeping */
  bool restart_pending;
  int32_t restart_reason;
  uint32_t restart_at;
  uint32_t restart_delay;
  uint32_t last_restart;
  bool restarted_once;
  uint32_t traps;

  /* over-the-air updates: where the running core came from (pw_boot.h) */
  bool slots;              /* boot_slots and the engine and port can: the slots are offered to the core */
  int32_t slot;            /* PW_REGION_SLOT_A/B, 0: the firmware's core */
  bool trial;              /* booted on trial, not confirmed yet */
  uint32_t trial_deadline;
  char slot_sha256[65];    /* of the slot's image ("" for the firmware's core) */

  /* a reboot the core asked for, run PW_HOST_REBOOT_DELAY_MS later from pw_host_service */
  bool reboot_pending;
  bool rebooting;          /* the port's reboot() returned: nothing more is delivered */
  int32_t reboot_kind;
  uint32_t reboot_at;

  /* a sleep the core asked for, run after the current event */
  bool sleep_pending;
  int32_t sleep_kind, sleep_ms;

  /* timers */
  bool tick_due;        /* events ran since the last tick: deadlines may have moved */
  bool deadline_armed;
  uint32_t deadline;

  int32_t next_handle;
  int32_t next_dns;
  pw_conn conns[PW_HOST_MAX_CONNS];
  int32_t listeners[PW_HOST_MAX_LISTENERS];
  int32_t udps[PW_HOST_MAX_UDP];
  pw_datagram datagrams[PW_HOST_UDP_QUEUE];

  pw_event queue[PW_HOST_EVENT_QUEUE];
  uint32_t q_head, q_len;
  uint32_t dropped_events, dropped_datagrams, reported_drops;

  uint32_t config_len;
  char config[PW_HOST_CONFIG_CAP];
} pw_host;

/** Loads the core, checks its ABI version, hands it the configuration. PW_OK, or a negative PW_ERR_
 *  after logging why (a wrong ABI version, a refused configuration, a trap during init). */
int32_t pw_host_start(pw_host *h, const pw_host_options *opt);

/** Delivers queued events, runs due timers, restarts a trapped core. *wait_ms is how long the port may
 *  wait for activity before calling again (0: call again at once; PW_HOST_WAIT_FOREVER: only
 *  activity). Returns PW_OK, or a negative PW_ERR_ when the host cannot go on (it logged why). */
int32_t pw_host_service(pw_host *h, int32_t *wait_ms);

/** Resets every connection, closes every socket, frees the core. */
void pw_host_stop(pw_host *h);

/** The host's own log lines ("host: ..."), through the platform. */
void pw_host_logf(pw_host *h, int32_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** Name of a PW_ERR_ code ("ERR_REFUSED"), or "?" */
const char *pw_err_name(int32_t err);

/* ---- called by the port: record and enqueue only ---- */

/** A peer connected to listener; returns the connection's handle, or a PW_ERR_ (the port then closes
 *  the socket: no slot, or no core running). */
int32_t pw_host_on_tcp_accept(pw_host *h, int32_t listener, uint32_t ip, uint16_t port);
/** Outcome of tcp_connect (PW_OK or PW_ERR_). On error the port has already forgotten the handle. */
void pw_host_on_tcp_connected(pw_host *h, int32_t conn, int32_t status);
/** Bytes the host can take for conn now (0 when its hold is full or the handle is unknown). */
size_t pw_host_tcp_room(pw_host *h, int32_t conn);
/** Received bytes; returns how many the host took (the port keeps the rest and offers them again after
 *  tcp_recved or when pw_host_tcp_room() says so). Bytes for an unknown handle are taken and dropped. */
size_t pw_host_on_tcp_data(pw_host *h, int32_t conn, const uint8_t *data, size_t len);
/** len queued bytes left the send queue; len 0: the port has room again without an acknowledgement (its
 *  memory, shared by every connection, was exhausted while nothing of conn's was in flight). */
void pw_host_on_tcp_sent(pw_host *h, int32_t conn, size_t len);
/** The peer finished sending (FIN). The handle stays valid until the core closes it. */
void pw_host_on_tcp_fin(pw_host *h, int32_t conn);
/** The connection is gone (reset, timeout); the port has forgotten the handle. */
void pw_host_on_tcp_error(pw_host *h, int32_t conn, int32_t err);
void pw_host_on_udp_data(pw_host *h, int32_t sock, uint32_t ip, uint16_t port, const uint8_t *data, size_t len);
void pw_host_on_dns_result(pw_host *h, int32_t req, uint32_t ip, int32_t status);
void pw_host_on_wifi_event(pw_host *h, int32_t kind, int32_t status);
/* A WiFi event whose payload the core reads from its io buffer (PW_WIFI_EV_SCAN_RESULT: rssi i8,
 * channel u8, auth u8, ssid_len u8, ssid); the status the core sees is the payload's length. */
void pw_host_on_wifi_event_payload(pw_host *h, int32_t kind, const uint8_t *data, size_t len);
void pw_host_on_gpio_edge(pw_host *h, int32_t pin, int32_t level);

/* ---- the ABI imports, called by engines: int32_t pw_import_tcp_send(pw_host *, int32_t conn, ...) ---- */
#define PW_HOST_IMPORT_DECL(name, sig, ret, params) ret pw_import_##name(pw_host *h PW_DECL(params));
PW_ABI_IMPORTS(PW_HOST_IMPORT_DECL)
#undef PW_HOST_IMPORT_DECL

#ifdef __cplusplus
}
#endif
#endif
