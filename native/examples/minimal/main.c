/* Runs the picowire core on a Pico (W) with the smallest possible platform: a clock and a console.
 * Every other ABI import answers PW_ERR_UNSUPPORTED, so the configuration turns the network off.
 */
#include <stdio.h>

#include "picowire_core_wasm.h" /* the embedded core's bytes and SHA-256 */
#include "pico/stdlib.h"
#include "pw_host.h"

#ifndef PW_ENGINE_VTBL
#define PW_ENGINE_VTBL pw_engine_wasm2c
#endif
extern const pw_engine_vtbl PW_ENGINE_VTBL;

static uint32_t now_ms(void *ctx) { return to_ms_since_boot(get_absolute_time()); }

static void log_line(void *ctx, int32_t level, const char *msg, size_t len) {
  printf("[%ld] %.*s\n", (long)level, (int)len, msg);
}

static pw_host host;

int main(void) {
  stdio_init_all();
  printf("minimal: picowire core sha256 %s on %s\n", pw_core_wasm_sha256, PW_ENGINE_VTBL.name);

  static const pw_platform platform = {.now_ms = now_ms, .log = log_line};
  static const char config[] = "http_port=0\nrgb_source=fixed\nrgb=#ff8000";
  pw_host_options opt = {
      .platform = &platform,
      .engine = &PW_ENGINE_VTBL,
      .wasm = PW_CORE_WASM_BYTES,
      .wasm_len = pw_core_wasm_len,
      .config = config,
      .config_len = sizeof config - 1,
  };
  if (pw_host_start(&host, &opt) != PW_OK) {
    printf("minimal: the core did not start\n");
    return 1;
  }
  int32_t rgb = 0;
  host.engine.v->stat(&host.engine, &rgb, PW_STAT_RGB);
  printf("minimal: core running, colour 0x%06lx\n", (unsigned long)rgb);

  for (int i = 0; i < 3; i++) { /* the usual main loop: service, then sleep until the next deadline */
    int32_t wait = 0;
    if (pw_host_service(&host, &wait) != PW_OK) break;
    sleep_ms(wait < 0 || wait > 100 ? 100 : (uint32_t)wait);
  }
  printf("minimal: done\n");
  for (;;) sleep_ms(1000);
}
