/* The engine interface: how the host loads a picowire core and calls its exports, whatever runs it.
 *
 * An engine (wasm2c, wasm3) provides one pw_engine_vtbl. The host never touches an
 * engine's own types: it calls exports through the vtable and reads/writes the core's linear memory
 * through memory(). Imports go the other way: an engine binds every import of the module to the host's
 * pw_import_<name>() functions (declared in pw_host.h), passing engine->host.
 *
 * Traps are the engine's business: every export call returns PW_ENGINE_OK or PW_ENGINE_TRAP, and after
 * a trap engine->error says what happened. A core that trapped is in an unknown state; the host unloads
 * it and loads a fresh one.
 */
#ifndef PW_ENGINE_H
#define PW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picowire_abi.h"
#include "pw_abi_util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pw_host;
typedef struct pw_engine pw_engine;

enum {
  PW_ENGINE_OK = 0,
  PW_ENGINE_TRAP = 1, /* the call trapped; engine->error describes it */
  PW_ENGINE_FAILED = 2, /* load failed; engine->error says why */
};

#define PW_ENGINE_ERROR_CAP 160

typedef struct pw_engine_vtbl {
  const char *name; /* "wasm2c", "wasm3" */
  /* load() runs the module bytes it is given (wasm3): a core from a flash slot can run, so the host boots
   * from the slots (pw_boot.h). false (wasm2c): the core was compiled into the firmware. */
  bool loads_bytes;
  /* Instantiates the core. wasm/wasm_len are the module bytes for engines that load at run time
   * (wasm2c ignores them: its core was translated at build time). Runs the module's start function.
   * PW_ENGINE_OK, or PW_ENGINE_FAILED/PW_ENGINE_TRAP with engine->error set. */
  int (*load)(pw_engine *e, const uint8_t *wasm, size_t wasm_len);
  /* Frees the instance; load() may be called again afterwards. */
  void (*unload)(pw_engine *e);
  /* The core's linear memory; the pointer is valid until the next export call (memory may grow). */
  uint8_t *(*memory)(pw_engine *e, uint32_t *size);
  /* SHA-256 (hex) of the wasm this engine runs, when known at build time; else NULL. */
  const char *(*core_sha256)(pw_engine *e);
  /* One entry per export of the ABI: int <name>(engine, result pointer (may be NULL), parameters...). */
#define PW_ENGINE_EXPORT_SLOT(name, sig, ret, params) int (*name)(pw_engine * e, PW_RESULT_PTR(ret) result PW_DECL(params));
  PW_ABI_EXPORTS(PW_ENGINE_EXPORT_SLOT)
#undef PW_ENGINE_EXPORT_SLOT
} pw_engine_vtbl;

struct pw_engine {
  const pw_engine_vtbl *v;
  struct pw_host *host; /* passed to pw_import_*() by the engine's import bindings */
  void *impl;            /* the engine's own state */
  /* Set by the host for one load(): the SHA-256 (hex) of the bytes it gives, already checked against
   * their flash slot's header (pw_boot.c), so the engine need not hash them again; NULL: it hashes them. */
  const char *verified_sha256;
  char error[PW_ENGINE_ERROR_CAP];
};

/* The engines this build links; each file defines its own. */
extern const pw_engine_vtbl pw_engine_wasm2c;
/* engine_wasm3.c: load() takes the module bytes (pw_host_options.wasm) or, when given NULL, the core
 * embedded at build time (PW_WASM3_EMBEDDED); core_sha256() is then the hash of the bytes it loaded. */
extern const pw_engine_vtbl pw_engine_wasm3;
/** wasm3 only: logs the heap the engine holds and its code pages (again, e.g. after lazy compilation). */
void pw_wasm3_log_usage(pw_engine *e);

#ifdef __cplusplus
}
#endif
#endif
