/* picowire-posix: the board's C host and core on a computer, over BSD sockets.
 *
 *   picowire-posix --host 127.0.0.1 --config board.conf --set http_port=8080 --set rgb=10,20,30
 *
 * Configuration lines (the file, then each --set) go to the core's init() exactly as on the board.
 * Log lines go to stdout as "[level] message". SIGINT/SIGTERM stop it cleanly (exit status 0).
 *
 * For tests that drive this process as a virtual board (test/helpers/posix-board.ts, PICOWIRE_TEST_HOST=posix):
 *   --status-ms N   prints "[status] {json}" once the core runs, whenever the state changes (after every
 *                   service round, when a simulated pin changes, and before bytes go to a peer), and every
 *                   N ms (0: only on change). The JSON: running, traps, reset_reason, stat (every STAT_ kind
 *                   by number), pins (those in use: mode, pull, level, watch, pwm [freq, duty] or null),
 *                   safe (the pin_safe levels the host holds), adc (channels 0..4).
 *   --commands      reads commands from stdin, one per line: "adc CH VALUE", "drive PIN LEVEL", "status";
 *                   they are applied before any socket event of the same round. End of stdin stops the
 *                   process as SIGTERM does (a test runner that dies takes its boards with it).
 *   --status-ack    after printing a status line, waits for "ack" on stdin (at most 5 s): a reader that
 *                   acks each line has the state before any peer can see what follows it (two pipes
 *                   and sockets are not ordered with each other on the reader's side).
 *
 * Over-the-air updates (docs/OTA.md; wasm3 only: wasm2c runs the core compiled in): the host boots from
 * the core slots of the simulated flash (--flash-file keeps it across runs). A reboot the core asks for
 * (reset BOARD after ota_end) or the host's trial watchdog restarts the host in this process as the board
 * would boot: sockets closed, pins reset, the flash file read again, the boot rules run again.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform_posix.h"
#include "pw_host.h"

/* The engine this binary runs the core with: wasm2c (picowire-posix) or wasm3 (picowire-posix-wasm3, built
 * with -DPW_ENGINE_WASM3=1; it interprets the core's bytes embedded at build time: .wasm = NULL). */
#ifdef PW_ENGINE_WASM3
#define PW_POSIX_ENGINE pw_engine_wasm3
#else
#define PW_POSIX_ENGINE pw_engine_wasm2c
#endif

static pw_host host;
static posix_platform plat;
static volatile sig_atomic_t stop_signal;
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  stop_signal = sig;
  if (wake_pipe[1] >= 0) {
    int saved = errno;
    ssize_t ignored = write(wake_pipe[1], "x", 1);
    (void)ignored;
    errno = saved;
  }
}

/* 64-bit code words take twice the board's flash: the board's default region (256 KiB) doubled, and more */
#define POSIX_CODE_KB_DEFAULT 1024u

static void usage(FILE *to) {
  fprintf(to,
          "usage: picowire-posix [options]\n"
          "  --host ADDR          IPv4 address every socket binds to (default 127.0.0.1)\n"
          "  --config FILE        configuration lines (key=value) for the core\n"
          "  --set KEY=VALUE      one more configuration line (repeatable, after --config)\n"
          "  --log-level LEVEL    error, warn, info or debug (default info)\n"
          "  --flash-file FILE    keep the simulated flash in FILE across runs and reboots (also --flash)\n"
          "  --trial-ms N         a core booted on trial after an update must confirm itself within N ms\n"
          "                       (default 60000), else the host reboots and rolls it back\n"
          "  --adc CH=VALUE       simulated 12-bit ADC reading of channel 0..4 (repeatable)\n"
          "  --time-offset MS     start the u32 millisecond clock at MS (test the 49.7-day wrap)\n"
          "  --no-canary          do not guard the core's memory above its cap\n"
          "  --status-ms N        print \"[status] {json}\" on every change and every N ms (0: on change only)\n"
          "  --commands           read \"adc CH VALUE\", \"drive PIN LEVEL\", \"status\" lines from stdin;\n"
          "                       end of stdin stops the process\n"
          "  --status-ack         after each status line, wait (at most 5 s) for an \"ack\" line on stdin\n"
#ifdef PW_ENGINE_WASM3
          "  --wasm FILE          run the core in FILE instead of the one embedded at build time\n"
          "  --wasm3-code-kb N    compile the core into a read-only code region of N KiB, as the board\n"
          "                       keeps it in flash (default %u; 0: compiled code stays in RAM)\n"
          "  --wasm3-code-file F  keep the code region in F across runs (a later run with the same binary and\n"
          "                       RAM addresses binds to it without compiling)\n"
          "  --wasm3-code-cut N   power-loss test: end the process (status 86) in the Nth code sector write\n"
#endif
          "  --version            print the ABI version, engine and core SHA-256, then exit\n"
          "Core ABI v%d, engine %s.\n",
#ifdef PW_ENGINE_WASM3
          (unsigned)POSIX_CODE_KB_DEFAULT,
#endif
          PW_ABI_VERSION, PW_POSIX_ENGINE.name);
}

/* v as a decimal number from lo to hi into *out (strtol's rules: an empty v reads as 0); false if not. */
static bool long_in(const char *v, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || *end || n < lo || n > hi) return false;
  *out = n;
  return true;
}

/* long_in for option a, saying on stderr what it expects when v is not that. */
static bool option_in(const char *a, const char *v, long lo, long hi, long *out) {
  if (long_in(v, lo, hi, out)) return true;
  fprintf(stderr, "picowire-posix: %s %s: expected %ld..%ld\n", a, v, lo, hi);
  return false;
}

static int level_of(const char *s) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) return i;
  return -1;
}

#ifdef PW_ENGINE_WASM3
/* --wasm FILE: the module bytes wasm3 loads instead of the embedded core (as a board loads an update). */
static uint8_t *read_wasm(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "picowire-posix: --wasm %s: %s\n", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0, got;
  do {
    if (n == cap) {
      uint8_t *more = realloc(buf, cap = cap ? 2 * cap : 65536);
      if (!more) break;
      buf = more;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  if (n == 0) {
    fprintf(stderr, "picowire-posix: --wasm %s: empty or unreadable\n", path);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}
#endif

/* ------------------------------------------------------------------ status channel and commands */

/* Every STAT_ kind of the ABI (assembly/abi/spec.json), by number. */
static const int32_t stat_kinds[] = {
    PW_STAT_HEAP_TOP,     PW_STAT_HEAP_LIMIT, PW_STAT_CONNS_USED, PW_STAT_CONNS_MAX,    PW_STAT_TIMERS_ARMED, PW_STAT_REFUSED,
    PW_STAT_REQUESTS,     PW_STAT_BAD_REQUESTS, PW_STAT_RGB,      PW_STAT_RGB_POLLS_OK, PW_STAT_RGB_POLLS_FAILED,
};
#define N_STATS (sizeof stat_kinds / sizeof stat_kinds[0])

static bool status_on;   /* --status-ms */
static bool status_ack;  /* --status-ack: every status line waits for "ack" on stdin */
static int32_t status_ms;
static uint32_t status_next; /* the next periodic line */
static int32_t stats[N_STATS];
static bool stats_known;
static char status_last[8192];

#define STATUS_ACK_MS 5000

typedef struct {
  char *buf;
  size_t cap, len;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...) {
  if (b->len >= b->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n > 0) b->len += (size_t)n;
}

/* stdin commands: bytes read but not yet run. A line is taken out before it runs, so a command that
 * reads more input (waiting for an ack) cannot disturb the one running. */
static char cmd_buf[8192];
static size_t cmd_len;

/** Reads what stdin has now; false at its end (the process then stops). */
static bool cmd_read(void) {
  for (;;) {
    if (cmd_len == sizeof cmd_buf) {
      posix_logf(&plat, PW_LOG_ERROR, "posix: %zu bytes of commands without a line end were dropped", cmd_len);
      cmd_len = 0;
    }
    ssize_t got = read(plat.cmd_fd, cmd_buf + cmd_len, sizeof cmd_buf - cmd_len);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return true; /* EAGAIN: all read */
    if (got == 0) {
      plat.cmd_fd = -1;
      stop_signal = -1; /* not a signal: the end of the command input */
      return false;
    }
    cmd_len += (size_t)got;
  }
}

/** Takes the first complete line (with only_ack: the first "ack" line) out of the buffer; false when there is none. */
static bool cmd_take(char *line, size_t cap, bool only_ack) {
  size_t at = 0;
  while (at < cmd_len) {
    char *nl = memchr(cmd_buf + at, '\n', cmd_len - at);
    if (!nl) return false;
    size_t n = (size_t)(nl - (cmd_buf + at));
    bool is_ack = n == 3 && memcmp(cmd_buf + at, "ack", 3) == 0;
    if (!only_ack || is_ack) {
      size_t keep = n < cap - 1 ? n : cap - 1;
      memcpy(line, cmd_buf + at, keep);
      line[keep] = 0;
      memmove(cmd_buf + at, nl + 1, cmd_len - at - n - 1);
      cmd_len -= n + 1;
      return true;
    }
    at += n + 1;
  }
  return false;
}

/** After a status line: waits until the reader says "ack" (it has taken the state in), at most
 *  STATUS_ACK_MS. Other commands that arrive meanwhile stay queued, in order, for cmd_run(). */
static void status_wait_ack(void) {
  if (!status_ack || plat.cmd_fd < 0) return;
  char line[8];
  uint32_t end = posix_now_ms(&plat) + STATUS_ACK_MS;
  for (;;) {
    if (cmd_take(line, sizeof line, true)) return;
    int32_t left = (int32_t)(end - posix_now_ms(&plat));
    if (left <= 0) {
      posix_logf(&plat, PW_LOG_WARN, "posix: no ack for a status line within %d ms; going on", STATUS_ACK_MS);
      return;
    }
    struct pollfd pfd = {.fd = plat.cmd_fd, .events = POLLIN};
    int r = poll(&pfd, 1, left);
    if (r < 0 && errno != EINTR) return;
    if (r > 0 && !cmd_read()) return;
    if (stop_signal) return;
  }
}

/** Reads every stat from the core; only between service rounds (never inside a core call). */
static void status_refresh(void) {
  if (!host.loaded || !host.running || host.in_core) return;
  for (size_t i = 0; i < N_STATS; i++) {
    int32_t v = 0;
    if (host.engine.v->stat(&host.engine, &v, stat_kinds[i]) != PW_ENGINE_OK) {
      posix_logf(&plat, PW_LOG_ERROR, "posix: stat(%d) trapped (%s); the status keeps the last values", (int)stat_kinds[i],
                 host.engine.error);
      return;
    }
    stats[i] = v;
  }
  stats_known = true;
}

static void status_pin(strbuf *b, bool *first, int32_t n, const posix_pin *p) {
  const char *mode = p->mode == PW_GPIO_IN ? "in" : p->mode == PW_GPIO_OUT ? "out" : "unset";
  sb_printf(b, "%s\"%d\":{\"mode\":\"%s\",\"pull\":%u,\"level\":%u,\"watch\":%u,\"pwm\":", *first ? "" : ",", (int)n, mode,
            p->pull, p->level, p->watch);
  if (p->pwm) sb_printf(b, "[%d,%d]}", (int)p->freq_hz, (int)p->duty);
  else sb_printf(b, "null}");
  *first = false;
}

/** Prints the status line when it differs from the last one (or always, when forced). */
static void status_emit(bool force) {
  if (!status_on) return;
  char line[sizeof status_last];
  strbuf b = {line, sizeof line, 0};
  sb_printf(&b, "{\"running\":%s,\"traps\":%u,\"reset_reason\":%d,\"stat\":{", host.running ? "true" : "false",
            (unsigned)host.traps, (int)host.reset_reason);
  for (size_t i = 0; i < N_STATS && stats_known; i++)
    sb_printf(&b, "%s\"%d\":%d", i ? "," : "", (int)stat_kinds[i], (int)stats[i]);
  sb_printf(&b, "},\"pins\":{");
  bool first = true;
  for (int32_t n = 0; n < PW_PIN_COUNT; n++) {
    const posix_pin *p = &plat.pins[n];
    if (p->mode != -1 || p->pwm || p->level || p->watch) status_pin(&b, &first, n, p);
  }
  status_pin(&b, &first, PW_PIN_LED, &plat.led);
  sb_printf(&b, "},\"safe\":{");
  first = true;
  for (int32_t i = 0; i <= PW_PIN_COUNT; i++) {
    if (host.pin_safe[i] < 0) continue;
    sb_printf(&b, "%s\"%d\":%d", first ? "" : ",", (int)(i == PW_PIN_COUNT ? PW_PIN_LED : i), (int)host.pin_safe[i]);
    first = false;
  }
  sb_printf(&b, "},\"adc\":[%d,%d,%d,%d,%d]}", (int)plat.adc[0], (int)plat.adc[1], (int)plat.adc[2], (int)plat.adc[3],
            (int)plat.adc[4]);
  if (b.len >= b.cap) {
    posix_logf(&plat, PW_LOG_ERROR, "posix: the status line does not fit %zu bytes", sizeof line);
    return;
  }
  if (!force && strcmp(line, status_last) == 0) return;
  memcpy(status_last, line, b.len + 1);
  printf("[status] %s\n", line);
  status_wait_ack();
}

/* Pin changes inside a core call are published at the end of the service round (after the log lines of
 * that call) or, if earlier, before bytes go to a peer. */
static void status_observe(posix_platform *pp, bool now) {
  (void)pp;
  if (now) status_emit(false);
}

static void command(const char *line) {
  char word[16] = "";
  int a = 0, v = 0, n = 0;
  if (sscanf(line, "%15s%n", word, &n) != 1) return; /* a blank line */
  if (strcmp(word, "adc") == 0 && sscanf(line + n, "%d %d", &a, &v) == 2 && a >= 0 && a <= 4 && v >= 0 && v <= 4095) {
    plat.adc[a] = v;
  } else if (strcmp(word, "drive") == 0 && sscanf(line + n, "%d %d", &a, &v) == 2) {
    if (posix_gpio_drive(&plat, a, v) != PW_OK)
      posix_logf(&plat, PW_LOG_ERROR, "posix: command \"%s\": pin %d does not exist or belongs to the radio", line, a);
  } else if (strcmp(word, "status") == 0) {
    status_refresh();
    status_emit(true);
  } else if (strcmp(word, "ack") == 0) {
    /* a late ack (its wait timed out) */
  } else {
    posix_logf(&plat, PW_LOG_ERROR, "posix: unknown command \"%.100s\" (expected adc CH VALUE, drive PIN LEVEL, status)", line);
  }
}

/** Runs every complete command line read so far; true if any ran. */
static bool cmd_run(void) {
  char line[256];
  bool ran = false;
  while (!stop_signal && cmd_take(line, sizeof line, false)) {
    command(line);
    ran = true;
  }
  return ran;
}

static void on_commands(posix_platform *pp) {
  (void)pp;
  cmd_read();
  cmd_run();
}

static char config[PW_IO_CAPACITY + 1];
static size_t config_len;

static bool config_add(const char *text, size_t len, const char *what) {
  if (config_len > 0 && config[config_len - 1] != '\n') {
    if (config_len + 1 > PW_IO_CAPACITY) goto too_long;
    config[config_len++] = '\n';
  }
  if (config_len + len > PW_IO_CAPACITY) goto too_long;
  memcpy(config + config_len, text, len);
  config_len += len;
  return true;
too_long:
  fprintf(stderr, "picowire-posix: %s: the configuration would exceed the core's %d-byte io buffer\n", what,
          PW_IO_CAPACITY);
  return false;
}

static bool config_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "picowire-posix: --config %s: %s\n", path, strerror(errno));
    return false;
  }
  char buf[PW_IO_CAPACITY + 1];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return config_add(buf, n, path);
}

int main(int argc, char **argv) {
  const char *host_text = "127.0.0.1";
  int log_level = PW_LOG_INFO;
  const char *flash_file = NULL;
  uint32_t trial_ms = 0;
  uint32_t time_offset = 0;
  bool canary = true;
  int32_t adc[5] = {-1, -1, -1, -1, -1};
  const char *wasm_file = NULL;
  uint32_t code_kb = POSIX_CODE_KB_DEFAULT;
  const char *code_file = NULL;
  int32_t code_cut = -1;
  bool commands = false;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = strcmp(a, "--host") == 0 || strcmp(a, "--config") == 0 || strcmp(a, "--set") == 0 ||
                 strcmp(a, "--log-level") == 0 || strcmp(a, "--flash") == 0 || strcmp(a, "--flash-file") == 0 ||
                 strcmp(a, "--trial-ms") == 0 || strcmp(a, "--adc") == 0 ||
                 strcmp(a, "--time-offset") == 0 || strcmp(a, "--wasm") == 0 || strcmp(a, "--status-ms") == 0 ||
                 strcmp(a, "--wasm3-code-kb") == 0 || strcmp(a, "--wasm3-code-file") == 0 ||
                 strcmp(a, "--wasm3-code-cut") == 0;
    if (takes && !v) {
      fprintf(stderr, "picowire-posix: %s needs a value\n", a);
      return 2;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--version") == 0) {
      const char *sha = PW_POSIX_ENGINE.core_sha256(NULL);
      printf("picowire-posix: ABI v%d, engine %s, core sha256 %s\n", PW_ABI_VERSION, PW_POSIX_ENGINE.name,
             sha ? sha : "unknown");
      return 0;
    } else if (strcmp(a, "--host") == 0) {
      host_text = v;
    } else if (strcmp(a, "--config") == 0) {
      if (!config_file(v)) return 2;
    } else if (strcmp(a, "--set") == 0) {
      if (!strchr(v, '=')) {
        fprintf(stderr, "picowire-posix: --set %s: expected key=value\n", v);
        return 2;
      }
      if (!config_add(v, strlen(v), "--set")) return 2;
    } else if (strcmp(a, "--log-level") == 0) {
      if ((log_level = level_of(v)) < 0) {
        fprintf(stderr, "picowire-posix: --log-level %s: expected error, warn, info or debug\n", v);
        return 2;
      }
    } else if (strcmp(a, "--flash") == 0 || strcmp(a, "--flash-file") == 0) {
      flash_file = v;
    } else if (strcmp(a, "--trial-ms") == 0) {
      long ms;
      if (!option_in(a, v, 1, 3600000, &ms)) return 2;
      trial_ms = (uint32_t)ms;
    } else if (strcmp(a, "--adc") == 0) {
      int ch = -1, value = -1;
      if (sscanf(v, "%d=%d", &ch, &value) != 2 || ch < 0 || ch > 4 || value < 0 || value > 4095) {
        fprintf(stderr, "picowire-posix: --adc %s: expected CHANNEL=VALUE with channel 0..4, value 0..4095\n", v);
        return 2;
      }
      adc[ch] = value;
    } else if (strcmp(a, "--time-offset") == 0) {
      char *end;
      errno = 0;
      unsigned long long t = strtoull(v, &end, 10);
      if (errno || *end || t > UINT32_MAX) {
        fprintf(stderr, "picowire-posix: --time-offset %s: expected 0..4294967295\n", v);
        return 2;
      }
      time_offset = (uint32_t)t;
    } else if (strcmp(a, "--no-canary") == 0) {
      canary = false;
    } else if (strcmp(a, "--status-ms") == 0) {
      long ms;
      if (!option_in(a, v, 0, 3600000, &ms)) return 2;
      status_on = true;
      status_ms = (int32_t)ms;
    } else if (strcmp(a, "--commands") == 0) {
      commands = true;
    } else if (strcmp(a, "--status-ack") == 0) {
      status_ack = true;
    } else if (strcmp(a, "--wasm3-code-kb") == 0) {
      long kb;
      if (!long_in(v, 0, 65536, &kb) || kb % 4) {
        fprintf(stderr, "picowire-posix: --wasm3-code-kb %s: expected 0..65536, a multiple of 4 (whole sectors)\n", v);
        return 2;
      }
      code_kb = (uint32_t)kb;
    } else if (strcmp(a, "--wasm3-code-file") == 0) {
      code_file = v;
    } else if (strcmp(a, "--wasm3-code-cut") == 0) {
      long n;
      if (!option_in(a, v, 0, 1000000, &n)) return 2;
      code_cut = (int32_t)n;
    } else if (strcmp(a, "--wasm") == 0) {
#ifdef PW_ENGINE_WASM3
      wasm_file = v;
#else
      fprintf(stderr, "picowire-posix: --wasm: the %s engine runs the core translated at build time; "
                      "use picowire-posix-wasm3 to load a module at run time\n", PW_POSIX_ENGINE.name);
      return 2;
#endif
    } else {
      fprintf(stderr, "picowire-posix: unknown argument %s\n", a);
      usage(stderr);
      return 2;
    }
    if (takes) i++;
  }

  struct in_addr addr;
  if (inet_pton(AF_INET, host_text, &addr) != 1) {
    fprintf(stderr, "picowire-posix: --host %s: not an IPv4 address\n", host_text);
    return 2;
  }

  setvbuf(stdout, NULL, _IOLBF, 0); /* tests read the log line by line through a pipe */

  posix_platform_init(&plat, &host, ntohl(addr.s_addr));
  plat.log_level = log_level;
  plat.flash_file = flash_file;
  plat.time_offset = time_offset;
  for (int i = 0; i < 5; i++)
    if (adc[i] >= 0) plat.adc[i] = adc[i];
  if (!posix_flash_load(&plat)) return 2;
#ifdef PW_ENGINE_WASM3
  plat.code_file = code_file;
  plat.code_cut_at = code_cut;
  if (!posix_code_region(&plat, code_kb)) return 2;
#else
  (void)code_kb;
  (void)code_file;
  (void)code_cut;
#endif

  if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    perror("picowire-posix: pipe");
    return 1;
  }
  plat.wake_fd = wake_pipe[0];
  if (commands) {
    int fl = fcntl(STDIN_FILENO, F_GETFL);
    if (fl < 0 || fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK) != 0) {
      perror("picowire-posix: --commands: stdin");
      return 1;
    }
    plat.cmd_fd = STDIN_FILENO;
    plat.on_cmd = on_commands;
  }
  if (status_on) plat.observe = status_observe;
  if (status_ack && !(status_on && commands)) {
    fprintf(stderr, "picowire-posix: --status-ack needs --status-ms and --commands (the acks come on stdin)\n");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  pw_platform ops = posix_platform_ops(&plat);
  const uint8_t *wasm = NULL; /* NULL: the engine's own core (wasm2c: translated; wasm3: embedded) */
  size_t wasm_len = 0;
  if (wasm_file) {
#ifdef PW_ENGINE_WASM3
    if (!(wasm = read_wasm(wasm_file, &wasm_len))) return 2;
#endif
    posix_logf(&plat, PW_LOG_INFO, "posix: picowire host, ABI v%d, engine %s, core %s (%zu bytes), host %s",
               PW_ABI_VERSION, PW_POSIX_ENGINE.name, wasm_file, wasm_len, host_text);
  } else {
    const char *sha = PW_POSIX_ENGINE.core_sha256(NULL);
    posix_logf(&plat, PW_LOG_INFO, "posix: picowire host, ABI v%d, engine %s, core sha256 %s, host %s", PW_ABI_VERSION,
               PW_POSIX_ENGINE.name, sha ? sha : "unknown", host_text);
  }

  pw_host_options opt = {
      .platform = &ops,
      .engine = &PW_POSIX_ENGINE,
      .wasm = wasm,
      .wasm_len = wasm_len,
      .config = config,
      .config_len = config_len,
      .check_canary = canary,
      .boot_slots = true, /* the host uses them only with an engine that loads bytes (wasm3) */
      .trial_ms = trial_ms,
  };
  int status = 0;
  int32_t r;
boot:
  r = pw_host_start(&host, &opt);
  if (r != PW_OK) {
    posix_logf(&plat, PW_LOG_ERROR, "posix: the core did not start (%s); exiting", pw_err_name(r));
    pw_host_stop(&host);
    posix_platform_close_all(&plat);
    free((void *)wasm);
    return 2;
  }

  bool first_round = true; /* its status line says: the core runs, listeners bound, first tick done */
  status_next = posix_now_ms(&plat) + (uint32_t)status_ms;
  while (!stop_signal) {
    int32_t wait = 0;
    r = pw_host_service(&host, &wait);
    if (r != PW_OK) {
      posix_logf(&plat, PW_LOG_ERROR, "posix: the host cannot go on (%s); exiting", pw_err_name(r));
      status = 1;
      break;
    }
    if (plat.reboot_requested) {
      /* as the board boots: a fresh host, the flash as it is now, the boot rules run again */
      posix_logf(&plat, PW_LOG_WARN, "posix: rebooting (%s)",
                 plat.reboot_kind == PW_REBOOT_WATCHDOG ? "trial watchdog" : "the core asked for it");
      pw_host_stop(&host);
      if (!posix_platform_reboot(&plat)) {
        status = 2;
        break;
      }
      goto boot;
    }
    if (stop_signal) break;
    if (status_on) {
      status_refresh();
      uint32_t now = posix_now_ms(&plat);
      bool periodic = status_ms > 0 && (int32_t)(now - status_next) >= 0;
      if (periodic) status_next = now + (uint32_t)status_ms;
      status_emit(periodic || first_round);
      first_round = false;
      if (status_ms > 0) {
        int32_t left = (int32_t)(status_next - now);
        if (wait < 0 || left < wait) wait = left < 0 ? 0 : left;
      }
    }
    if (stop_signal) break;
    if (cmd_run()) wait = 0; /* commands queued while waiting for an ack: their events need a round */
    posix_platform_poll(&plat, wait);
  }
  if (stop_signal)
    posix_logf(&plat, PW_LOG_INFO, "posix: stopping on %s",
               stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" : "the end of the command input");
  pw_host_stop(&host);
  posix_platform_close_all(&plat);
  free((void *)wasm); /* NULL unless --wasm */
  close(wake_pipe[0]);
  close(wake_pipe[1]);
  return status;
}
