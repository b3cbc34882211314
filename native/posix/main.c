/* picowire-posix: the board's C host and core on a computer, over BSD sockets.
 *
 *   picowire-posix --host 127.0.0.1 --config board.conf --set http_port=8080 --set rgb=10,20,30
 *
 * Configuration lines (the file, then each --set) go to the core's init() exactly as on the board.
 * Log lines go to stdout as "[level] message". SIGINT/SIGTERM stop it cleanly (exit status 0).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

static void usage(FILE *to) {
  fprintf(to,
          "usage: picowire-posix [options]\n"
          "  --host ADDR          IPv4 address every socket binds to (default 127.0.0.1)\n"
          "  --config FILE        configuration lines (key=value) for the core\n"
          "  --set KEY=VALUE      one more configuration line (repeatable, after --config)\n"
          "  --log-level LEVEL    error, warn, info or debug (default info)\n"
          "  --flash FILE         keep the simulated flash in FILE across runs\n"
          "  --adc CH=VALUE       simulated 12-bit ADC reading of channel 0..4 (repeatable)\n"
          "  --time-offset MS     start the u32 millisecond clock at MS (test the 49.7-day wrap)\n"
          "  --no-canary          do not guard the core's memory above its cap\n"
#ifdef PW_ENGINE_WASM3
          "  --wasm FILE          run the core in FILE instead of the one embedded at build time\n"
#endif
          "  --version            print the ABI version, engine and core SHA-256, then exit\n"
          "Core ABI v%d, engine %s.\n",
          PW_ABI_VERSION, PW_POSIX_ENGINE.name);
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
  uint32_t time_offset = 0;
  bool canary = true;
  int32_t adc[5] = {-1, -1, -1, -1, -1};
  const char *wasm_file = NULL;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = strcmp(a, "--host") == 0 || strcmp(a, "--config") == 0 || strcmp(a, "--set") == 0 ||
                 strcmp(a, "--log-level") == 0 || strcmp(a, "--flash") == 0 || strcmp(a, "--adc") == 0 ||
                 strcmp(a, "--time-offset") == 0 || strcmp(a, "--wasm") == 0;
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
    } else if (strcmp(a, "--flash") == 0) {
      flash_file = v;
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

  if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    perror("picowire-posix: pipe");
    return 1;
  }
  plat.wake_fd = wake_pipe[0];
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
  };
  int32_t r = pw_host_start(&host, &opt);
  if (r != PW_OK) {
    posix_logf(&plat, PW_LOG_ERROR, "posix: the core did not start (%s); exiting", pw_err_name(r));
    pw_host_stop(&host);
    posix_platform_close_all(&plat);
    free((void *)wasm);
    return 2;
  }

  int status = 0;
  while (!stop_signal) {
    int32_t wait = 0;
    r = pw_host_service(&host, &wait);
    if (r != PW_OK) {
      posix_logf(&plat, PW_LOG_ERROR, "posix: the host cannot go on (%s); exiting", pw_err_name(r));
      status = 1;
      break;
    }
    if (stop_signal) break;
    posix_platform_poll(&plat, wait);
  }
  if (stop_signal)
    posix_logf(&plat, PW_LOG_INFO, "posix: stopping on %s", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
  pw_host_stop(&host);
  posix_platform_close_all(&plat);
  free((void *)wasm); /* NULL unless --wasm */
  close(wake_pipe[0]);
  close(wake_pipe[1]);
  return status;
}
