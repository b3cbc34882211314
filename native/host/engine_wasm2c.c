/* The wasm2c engine: binds the core translated at build time (wasm2c -n picowire_core, wabt 1.0.32
 * naming: Z_<module>Z_<name>) to the host. One instance per process, kept in static storage as on the
 * board. Every import of the ABI is defined here from the PW_ABI_IMPORTS X-macro and forwards to the
 * host's pw_import_<name>(); every export gets a guarded thunk from PW_ABI_EXPORTS. A core that imports
 * something outside the ABI fails to link (undefined Z_picowireZ_<name>); one that lacks an export of
 * the ABI fails to link too (undefined Z_picowire_coreZ_<name>).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pw_engine.h"
#include "pw_host.h"
#include "wasm2c_rt.h"

/* The import environment wasm2c passes to every import; its type is named after the import module. */
struct Z_picowire_instance_t {
  pw_engine *engine;
};

#include "picowire_core.h"

#if defined(__has_include)
#if __has_include("picowire_core_info.h")
#include "picowire_core_info.h" /* PW_CORE_SHA256, written by the build next to the translated core */
#endif
#endif

#define W2C_EXPORT(name) PW_CAT(Z_picowire_coreZ_, name)
#define W2C_IMPORT(name) PW_CAT(Z_picowireZ_, name)

static Z_picowire_core_instance_t instance;
static struct Z_picowire_instance_t env;
static bool module_ready;
static bool live;

/* ---- imports: uint32_t Z_picowireZ_tcp_send(env, uint32_t conn, ...) -> pw_import_tcp_send(host, conn, ...) */
#define BIND_IMPORT(name, sig, ret, params)                                                     \
  PW_WASM_RESULT(ret) W2C_IMPORT(name)(struct Z_picowire_instance_t * e PW_U32(params)) {        \
    PW_RETURN(ret) pw_import_##name(e->engine->host PW_NAMES(params));                           \
  }
PW_ABI_IMPORTS(BIND_IMPORT)
#undef BIND_IMPORT

static int trapped(pw_engine *e, const char *where) {
  const char *why = pw_w2c_alloc_error ? pw_w2c_alloc_error : wasm_rt_strerror(pw_w2c_trap_code);
  snprintf(e->error, sizeof e->error, "%s%s", why, where);
  return PW_ENGINE_TRAP;
}

/* A guarded call: a trap inside `body` longjmps back here and the call reports PW_ENGINE_TRAP.
 * Nothing assigned between setjmp and the trap is read after it, so no volatile is needed. */
#define GUARDED(e, where, body) GUARDED_CLEANUP(e, where, body, (void)0)
#define GUARDED_CLEANUP(e, where, body, cleanup)                        \
  do {                                                                  \
    jmp_buf jb;                                                         \
    jmp_buf *outer = pw_w2c_trap_target;                                \
    uint32_t depth = wasm_rt_call_stack_depth;                          \
    pw_w2c_alloc_error = NULL;                                          \
    if (setjmp(jb) != 0) {                                              \
      pw_w2c_trap_target = outer;                                       \
      wasm_rt_call_stack_depth = depth;                                 \
      cleanup;                                                          \
      return trapped((e), (where));                                     \
    }                                                                   \
    pw_w2c_trap_target = &jb;                                           \
    body;                                                               \
    pw_w2c_trap_target = outer;                                         \
  } while (0)

/* ---- exports: int call_tcp_data(engine, int32_t *result, int32_t conn, ...) */
#define CALL_EXPORT(name, sig, ret, params)                                                        \
  static int call_##name(pw_engine *e, PW_RESULT_PTR(ret) result PW_DECL(params)) {                  \
    if (!live) {                                                                                     \
      snprintf(e->error, sizeof e->error, "no core loaded");                                         \
      return PW_ENGINE_TRAP;                                                                         \
    }                                                                                                \
    GUARDED(e, "", PW_STORE(ret, result, W2C_EXPORT(name)(&instance PW_NAMES(params))));            \
    return PW_ENGINE_OK;                                                                             \
  }
PW_ABI_EXPORTS(CALL_EXPORT)
#undef CALL_EXPORT

static void w2c_unload(pw_engine *e) {
  (void)e;
  if (live) Z_picowire_core_free(&instance);
  live = false;
}

static int w2c_load(pw_engine *e, const uint8_t *wasm, size_t wasm_len) {
  (void)wasm; /* translated at build time: see core_sha256() for which bytes */
  (void)wasm_len;
  w2c_unload(e);
  if (!wasm_rt_is_initialized()) wasm_rt_init();
  env.engine = e;
  e->impl = &instance;
  if (!module_ready) {
    GUARDED(e, " (registering function types)", Z_picowire_core_init_module());
    module_ready = true;
  }
  memset(&instance, 0, sizeof instance);
  /* instantiate allocates memory and runs the start function: either may trap */
  GUARDED_CLEANUP(e, " (while instantiating)", Z_picowire_core_instantiate(&instance, &env),
                  Z_picowire_core_free(&instance));
  live = true;
  return PW_ENGINE_OK;
}

static uint8_t *w2c_memory(pw_engine *e, uint32_t *size) {
  (void)e;
  if (!live) {
    *size = 0;
    return NULL;
  }
  wasm_rt_memory_t *m = W2C_EXPORT(memory)(&instance);
  *size = m->size;
  return m->data;
}

static const char *w2c_core_sha256(pw_engine *e) {
  (void)e;
#ifdef PW_CORE_SHA256
  return PW_CORE_SHA256;
#else
  return NULL;
#endif
}

const pw_engine_vtbl pw_engine_wasm2c = {
    .name = "wasm2c",
    .loads_bytes = false, /* the core is compiled in: a new one needs new firmware */
    .load = w2c_load,
    .unload = w2c_unload,
    .memory = w2c_memory,
    .core_sha256 = w2c_core_sha256,
#define EXPORT_SLOT(name, sig, ret, params) .name = call_##name,
    PW_ABI_EXPORTS(EXPORT_SLOT)
#undef EXPORT_SLOT
};
