/* The wasm3 engine: interprets the core's .wasm bytes at run time (github.com/wasm3/wasm3, built from
 * ${WASM3_PATH}/source by native/cmake/wasm3.cmake with the board's configuration described there).
 *
 * load():
 *   1. takes the module bytes the host passes (a core from flash, after an update) or, when it passes
 *      none, the bytes embedded at build time (PW_WASM3_EMBEDDED: build/picowire.wasm as a const array,
 *      its SHA-256 recorded next to it as PW_CORE_SHA256); computes their SHA-256 and refuses embedded
 *      bytes whose hash differs from the recorded one;
 *   2. parses and loads the module into a fresh environment and runtime, with the linear memory capped
 *      at PW_WASM3_MEMORY_LIMIT bytes (runtime->memoryLimit: the module declares 64 KiB pages, the board
 *      gives the core 40 KiB; an access above the cap traps as out of bounds, as it would fault there);
 *   3. binds every import of the ABI (PW_ABI_IMPORTS) with m3_LinkRawFunctionEx and its wasm3 signature;
 *      an import of the module that the ABI lacks, or one whose signature differs, fails the load and
 *      names the function;
 *   4. compiles every function (as m3_CompileModule does, naming a function that fails), so all code exists before the first event and
 *      the RAM the core costs is known at boot: into the port's code region when it has one (code_map; engine_wasm3_flash.h: the
 *      board's flash, so the compiled code costs no RAM), else into code pages on the heap; logs "wasm3: N bytes ... after
 *      compiling M functions [into flash] (...)";
 *   5. finds every export of the ABI (PW_ABI_EXPORTS) and checks its signature; runs the start function.
 * A trap (an M3Result from a call) becomes PW_ENGINE_TRAP with the same text the wasm2c engine gives
 * for the same trap, so the host's log line and restart are identical whichever engine runs the core.
 *
 * Knobs (define with -D): PW_WASM3_MEMORY_LIMIT (40960), PW_WASM3_STACK_BYTES (wasm operand stack,
 * 8192), PW_WASM3_COMPILE_AT_LOAD (1; 0 skips step 4: wasm3 then compiles a function at its first call,
 * so RAM grows while the core runs and a function that cannot compile fails only when first called).
 * One instance at a time, as on the board.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_wasm3_flash.h"
#include "pw_engine.h"
#include "pw_host.h"
#include "pw_sha256.h"

#include "wasm3.h"
/* wasm3's internal headers: the module's import table and the runtime's code pages, read to name a
 * missing import and to count the compiled code. Built from the same tree, with the same definitions. */
#include "m3_compile.h"
#include "m3_env.h"
#include "m3_function.h"

#if defined(__GLIBC__) || defined(_NEWLIB_VERSION) || defined(__NEWLIB__)
#include <malloc.h>
#define PW_WASM3_HAVE_MALLINFO 1
#if defined(_NEWLIB_VERSION) || defined(__NEWLIB__)
#include <reent.h>
#endif
#endif

#if defined(__has_include)
#if __has_include("picowire_core_info.h")
#include "picowire_core_info.h" /* PW_CORE_SHA256, written by the build next to the embedded core */
#endif
#endif

#ifndef PW_WASM3_MEMORY_LIMIT
#define PW_WASM3_MEMORY_LIMIT 40960u
#endif
#ifndef PW_WASM3_STACK_BYTES
#define PW_WASM3_STACK_BYTES 8192u
#endif
#ifndef PW_WASM3_COMPILE_AT_LOAD
#define PW_WASM3_COMPILE_AT_LOAD 1
#endif

#ifdef PW_WASM3_EMBEDDED
extern const uint8_t pw_core_wasm[];
extern const uint32_t pw_core_wasm_len;
#endif

/* ------------------------------------------------------------------ state */

typedef struct {
  IM3Environment env;
  IM3Runtime runtime;
  IM3Module module; /* owned by runtime once loaded */
  bool module_loaded;
  long heap0; /* heap in use before the load, -1 when unknown */
  bool code_in_flash; /* compiled into the port's code region (engine_wasm3_flash.h) */
  pw_w3_flash_stats flash;
  size_t wasm_len;
#define EXPORT_FIELD(name, sig, ret, params) IM3Function f_##name;
  PW_ABI_EXPORTS(EXPORT_FIELD)
#undef EXPORT_FIELD
} w3_state;

static w3_state st;
static bool live;
static char loaded_sha[65];

/* ------------------------------------------------------------------ imports */

/* An indexed map over a parameter list: W3_ARGS(params) -> , ARG(0) , ARG(1) ... (nothing for (void)).
 * Each argument is read from its 64-bit slot on wasm3's stack (the i32 in the low half, as wasm3's own
 * m3ApiGetArg does). */
#define W3_IMAP(f, ...) PW_CAT(W3_IMAP_, PW_NARG(__VA_ARGS__))(f, __VA_ARGS__)
#define W3_IMAP_1(f, a) f(0, a)
#define W3_IMAP_2(f, a, b) f(0, a) f(1, b)
#define W3_IMAP_3(f, a, b, c) f(0, a) f(1, b) f(2, c)
#define W3_IMAP_4(f, a, b, c, d) f(0, a) f(1, b) f(2, c) f(3, d)
#define W3_IMAP_5(f, a, b, c, d, e) f(0, a) f(1, b) f(2, c) f(3, d) f(4, e)
#define W3_IMAP_6(f, a, b, c, d, e, g) f(0, a) f(1, b) f(2, c) f(3, d) f(4, e) f(5, g)
#define W3_IMAP_7(f, a, b, c, d, e, g, h) f(0, a) f(1, b) f(2, c) f(3, d) f(4, e) f(5, g) f(6, h)
#define W3_IMAP_8(f, a, b, c, d, e, g, h, i) f(0, a) f(1, b) f(2, c) f(3, d) f(4, e) f(5, g) f(6, h) f(7, i)
#define W3_IMAP_9(f, a, b, c, d, e, g, h, i, j) f(0, a) f(1, b) f(2, c) f(3, d) f(4, e) f(5, g) f(6, h) f(7, i) f(8, j)
#define W3_IMAP_10(f, a, b, c, d, e, g, h, i, j, k) \
  f(0, a) f(1, b) f(2, c) f(3, d) f(4, e) f(5, g) f(6, h) f(7, i) f(8, j) f(9, k)
/* "int32_t conn" pasted onto W3_ARG_ -> W3_ARG_int32_t conn -> W3_TAKE(conn, i) */
#define W3_ARG_int32_t W3_TAKE(
#define W3_ARG_uint32_t W3_TAKE(
#define W3_ARG_void W3_NONE(
#define W3_TAKE(name, i) , (*(const uint32_t *)(const void *)(args + (i)))
#define W3_NONE(...)
#define W3_ARG_1(i, p) PW_CAT(W3_ARG_, p), i)
#define W3_ARGS(params) W3_IMAP(W3_ARG_1, PW_UNPAREN params)

/* The return slot, then the arguments: _sp[0] = result (non-void only), _sp[n..] = arguments. */
#define W3_NRET(ret) PW_CAT(W3_NRET_, ret)
#define W3_NRET_int32_t 1
#define W3_NRET_uint32_t 1
#define W3_NRET_void 0
#define W3_CALL_STORE(ret, call) PW_CAT(W3_CALL_STORE_, ret)(call)
#define W3_CALL_STORE_int32_t(call) *(uint32_t *)(void *)_sp = (uint32_t)(call)
#define W3_CALL_STORE_uint32_t(call) *(uint32_t *)(void *)_sp = (uint32_t)(call)
#define W3_CALL_STORE_void(call) call

#define BIND_IMPORT(name, sig, ret, params)                                   \
  static m3ApiRawFunction(w3_import_##name) {                                 \
    const uint64_t *args = _sp + W3_NRET(ret);                                \
    pw_engine *e = (pw_engine *)_ctx->userdata;                               \
    (void)args;                                                               \
    (void)runtime;                                                            \
    (void)_mem;                                                               \
    W3_CALL_STORE(ret, pw_import_##name(e->host W3_ARGS(params)));            \
    m3ApiSuccess();                                                           \
  }
PW_ABI_IMPORTS(BIND_IMPORT)
#undef BIND_IMPORT

typedef struct {
  const char *name, *sig;
  M3RawCall fn;
} w3_import;

static const w3_import imports[] = {
#define IMPORT_ROW(name, sig, ret, params) {#name, sig, w3_import_##name},
    PW_ABI_IMPORTS(IMPORT_ROW)
#undef IMPORT_ROW
};

/* ------------------------------------------------------------------ errors and traps */

/* The wasm2c engine's words for the same traps (wasm_rt_strerror), so the host logs the same line. */
static const char *trap_text(M3Result r) {
  if (r == m3Err_trapUnreachable) return "unreachable executed (abort)";
  if (r == m3Err_trapStackOverflow) return "call stack exhausted";
  if (r == m3Err_trapOutOfBoundsMemoryAccess || r == m3Err_trapTableOutOfBounds || r == m3Err_trapTableIndexOutOfRange)
    return "out-of-bounds memory or table access";
  if (r == m3Err_trapDivisionByZero) return "integer division by zero";
  if (r == m3Err_trapIntegerOverflow) return "integer overflow";
  if (r == m3Err_trapIntegerConversion) return "invalid conversion to integer";
  if (r == m3Err_trapIndirectCallTypeMismatch || r == m3Err_trapTableElementIsNull) return "invalid call_indirect";
  return NULL;
}

static int trapped(pw_engine *e, M3Result r, const char *where) {
  const char *known = trap_text(r);
  if (known) {
    snprintf(e->error, sizeof e->error, "%s%s", known, where);
  } else {
    M3ErrorInfo info;
    memset(&info, 0, sizeof info);
    if (st.runtime) m3_GetErrorInfo(st.runtime, &info);
    snprintf(e->error, sizeof e->error, "wasm3: %s%s%s%s", r, info.message && info.message[0] ? " (" : "",
             info.message && info.message[0] ? info.message : "", info.message && info.message[0] ? ")" : "");
    size_t n = strlen(e->error);
    snprintf(e->error + n, sizeof e->error - n, "%s", where);
  }
  return PW_ENGINE_TRAP;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int failed(pw_engine *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->error, sizeof e->error, fmt, ap);
  va_end(ap);
  return PW_ENGINE_FAILED;
}

/* ------------------------------------------------------------------ exports */

static char type_char(M3ValueType t) {
  switch (t) {
    case c_m3Type_i32: return 'i';
    case c_m3Type_i64: return 'I';
    case c_m3Type_f32: return 'f';
    case c_m3Type_f64: return 'F';
    default: return '?';
  }
}

/* The function's type written as a wasm3 signature string: "i(iii)", "v()". */
static void signature_of(IM3Function f, char *out, size_t cap) {
  size_t n = 0;
  uint32_t rets = m3_GetRetCount(f), argc = m3_GetArgCount(f);
  if (cap < 4) return;
  out[n++] = rets == 0 ? 'v' : type_char(m3_GetRetType(f, 0));
  for (uint32_t i = 1; i < rets && n + 3 < cap; i++) out[n++] = type_char(m3_GetRetType(f, i));
  out[n++] = '(';
  for (uint32_t i = 0; i < argc && n + 2 < cap; i++) out[n++] = type_char(m3_GetArgType(f, i));
  out[n++] = ')';
  out[n] = 0;
}

#define W3_GET_RESULT(ret) PW_CAT(W3_GET_RESULT_, ret)
#define W3_GET_RESULT_int32_t(f, result) W3_GET_I32(f, (void *)(result))
#define W3_GET_RESULT_uint32_t(f, result) W3_GET_I32(f, (void *)(result))
#define W3_GET_RESULT_void(f, result) m3Err_none

static M3Result W3_GET_I32(IM3Function f, void *result) {
  uint32_t v = 0;
  M3Result r = m3_GetResultsV(f, &v);
  if (!r && result) memcpy(result, &v, sizeof v);
  return r;
}

#define CALL_EXPORT(name, sig, ret, params)                                                   \
  static int call_##name(pw_engine *e, PW_RESULT_PTR(ret) result PW_DECL(params)) {            \
    if (!live) {                                                                               \
      snprintf(e->error, sizeof e->error, "no core loaded");                                   \
      return PW_ENGINE_TRAP;                                                                   \
    }                                                                                          \
    M3Result r = m3_CallV(st.f_##name PW_NAMES(params));                                       \
    if (r) return trapped(e, r, "");                                                           \
    r = W3_GET_RESULT(ret)(st.f_##name, result);                                               \
    if (r) return trapped(e, r, " (reading the result)");                                      \
    return PW_ENGINE_OK;                                                                       \
  }
PW_ABI_EXPORTS(CALL_EXPORT)
#undef CALL_EXPORT

/* ------------------------------------------------------------------ heap accounting */

/* Bytes the C heap hands out now (allocator overhead included), or -1 when the libc cannot say. */
static long heap_in_use(void) {
#if defined(PW_WASM3_HAVE_MALLINFO)
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
#elif defined(_NEWLIB_VERSION) || defined(__NEWLIB__)
  /* newlib keeps mallinfo beside malloc_stats, whose fiprintf drags ~7 KB of stdio into the image */
  struct mallinfo mi = _mallinfo_r(_REENT);
#else
  struct mallinfo mi = mallinfo();
#endif
  return (long)mi.uordblks + (long)mi.hblkhd;
#else
  return -1;
#endif
}

/* The deepest the wasm operand stack has been: it grows upwards from originStack, which m3_Malloc
 * zeroed, so the last non-zero byte bounds it (a slot that only ever held zeros is not seen). */
static uint32_t wasm_stack_used(IM3Runtime rt) {
  const uint8_t *s = rt->originStack;
  uint32_t n = PW_WASM3_STACK_BYTES;
  while (s && n > 0 && s[n - 1] == 0) n--;
  return n;
}

/* Code pages the runtime holds: count and bytes (header + lines, as NewCodePage allocates them). */
static void code_pages(IM3Runtime rt, uint32_t *pages, size_t *bytes) {
  *pages = 0;
  *bytes = 0;
  IM3CodePage lists[2] = {rt->pagesOpen, rt->pagesFull};
  for (int l = 0; l < 2; l++)
    for (IM3CodePage p = lists[l]; p; p = p->info.next) {
      (*pages)++;
      *bytes += sizeof(M3CodePageHeader) + sizeof(code_t) * p->info.numLines;
    }
}

/* Logs the C heap the engine holds and how much of it is compiled code. Called after the load; with
 * PW_WASM3_COMPILE_AT_LOAD 0 call it again later to see what the core's first calls compiled. */
void pw_wasm3_log_usage(pw_engine *e) {
  if (!st.runtime || !st.module) return;
  long heap0 = st.heap0;
  size_t wasm_len = st.wasm_len;
  uint32_t functions = 0; /* compiled so far (all of them unless PW_WASM3_COMPILE_AT_LOAD is 0) */
  for (uint32_t i = st.module->numFuncImports; i < st.module->numFunctions; i++) functions += st.module->functions[i].compiled != NULL;
  uint32_t pages = 0;
  size_t code_bytes = 0;
  code_pages(st.runtime, &pages, &code_bytes);
  uint32_t mem_bytes = 0;
  m3_GetMemory(st.runtime, &mem_bytes, 0);
  long heap1 = heap_in_use();
  if (e && e->host && st.code_in_flash) {
    char heap[80] = "heap use unknown (no mallinfo from this allocator)";
    if (heap0 >= 0 && heap1 > heap0) /* ASan's allocator answers mallinfo with zeros */
      snprintf(heap, sizeof heap, "%ld bytes (other %ld)", heap1 - heap0,
               heap1 - heap0 - (long)code_bytes - (long)mem_bytes - (long)PW_WASM3_STACK_BYTES);
    pw_host_logf(e->host, PW_LOG_INFO,
                 "wasm3: %s after compiling %u functions into flash (code %u of %u bytes, %u sectors rewritten, %u "
                 "unchanged; code pages %zu bytes in %u, linear memory %u, stack %u (%u used so far); module %zu bytes, "
                 "sha256 %s)",
                 heap, (unsigned)st.flash.functions, (unsigned)st.flash.code_bytes, (unsigned)st.flash.region_bytes,
                 (unsigned)st.flash.sectors_written, (unsigned)st.flash.sectors_same, code_bytes, (unsigned)pages,
                 (unsigned)mem_bytes, (unsigned)PW_WASM3_STACK_BYTES, (unsigned)wasm_stack_used(st.runtime), wasm_len,
                 loaded_sha);
  } else if (e && e->host) {
    if (heap0 >= 0 && heap1 > heap0) /* ASan's allocator answers mallinfo with zeros */
      pw_host_logf(e->host, PW_LOG_INFO,
                   "wasm3: %ld bytes after compiling %u functions (code pages %zu bytes in %u, linear memory %u, "
                   "stack %u, other %ld; module %zu bytes, sha256 %s)",
                   heap1 - heap0, (unsigned)functions, code_bytes, (unsigned)pages, (unsigned)mem_bytes,
                   (unsigned)PW_WASM3_STACK_BYTES,
                   heap1 - heap0 - (long)code_bytes - (long)mem_bytes - (long)PW_WASM3_STACK_BYTES, wasm_len, loaded_sha);
    else
      pw_host_logf(e->host, PW_LOG_INFO,
                   "wasm3: heap use unknown (no mallinfo from this allocator) after compiling %u functions (code pages %zu bytes in %u, "
                   "linear memory %u, stack %u; module %zu bytes, sha256 %s)",
                   (unsigned)functions, code_bytes, (unsigned)pages, (unsigned)mem_bytes, (unsigned)PW_WASM3_STACK_BYTES,
                   wasm_len, loaded_sha);
  }
}

/* ------------------------------------------------------------------ linear memory around the compile */

/* Cuts the linear memory to its last non-zero byte (what the data segments wrote; nothing has run yet)
 * and returns that length. */
static uint32_t linear_memory_shrink(IM3Runtime rt) {
  M3Memory *m = &rt->memory;
  if (!m->mallocated || m->numPages == 0) return 0;
  const uint8_t *data = m3MemData(m->mallocated);
  uint32_t kept = (uint32_t)m->mallocated->length;
  while (kept > 0 && data[kept - 1] == 0) kept--;
  kept = (kept + 7u) & ~7u;
  if (kept == 0) kept = 8;
  uint32_t limit = rt->memoryLimit;
  rt->memoryLimit = kept;
  if (ResizeMemory(rt, m->numPages) != m3Err_none) kept = (uint32_t)m->mallocated->length; /* kept as it was */
  rt->memoryLimit = limit;
  return kept;
}

/* Grows the linear memory back to the cap, the bytes past `kept` zeroed. false without memory. */
static bool linear_memory_restore(IM3Runtime rt, uint32_t kept) {
  M3Memory *m = &rt->memory;
  if (!m->mallocated || m->numPages == 0 || m->mallocated->length >= rt->memoryLimit) return true;
  if (ResizeMemory(rt, m->numPages) != m3Err_none) return false;
  uint32_t length = (uint32_t)m->mallocated->length;
  if (length > kept) memset(m3MemData(m->mallocated) + kept, 0, length - kept);
  return true;
}

/* ------------------------------------------------------------------ load / unload */

static void w3_unload(pw_engine *e) {
  (void)e;
  if (st.module && !st.module_loaded) m3_FreeModule(st.module); /* parsed, never owned by the runtime */
  if (st.runtime) m3_FreeRuntime(st.runtime);                   /* frees the module it loaded */
  if (st.env) m3_FreeEnvironment(st.env);
  memset(&st, 0, sizeof st);
  live = false;
}

static int w3_load(pw_engine *e, const uint8_t *wasm, size_t wasm_len) {
  w3_unload(e);
  e->impl = &st;
  bool embedded = false;
#ifdef PW_WASM3_EMBEDDED
  if (!wasm) {
    wasm = pw_core_wasm;
    wasm_len = pw_core_wasm_len;
    embedded = true;
  }
#endif
  if (!wasm || wasm_len == 0) return failed(e, "no module bytes to load");
#if SIZE_MAX > UINT32_MAX
  if (wasm_len > UINT32_MAX) return failed(e, "the module is too large");
#endif

  if (!embedded && e->verified_sha256 && strlen(e->verified_sha256) == 64) {
    memcpy(loaded_sha, e->verified_sha256, 65); /* a slot the boot rules just hashed: once is enough */
  } else {
    uint8_t digest[32];
    pw_sha256(wasm, wasm_len, digest);
    pw_hex(digest, sizeof digest, loaded_sha);
  }
#ifdef PW_CORE_SHA256
  if (embedded && strcmp(loaded_sha, PW_CORE_SHA256) != 0)
    return failed(e, "the embedded core hashes to %s, the build recorded %s", loaded_sha, PW_CORE_SHA256);
#else
  (void)embedded;
#endif

  long heap0 = heap_in_use();
  M3Result r;
  st.env = m3_NewEnvironment();
  if (!st.env) return failed(e, "wasm3: no memory for an environment");
  st.runtime = m3_NewRuntime(st.env, PW_WASM3_STACK_BYTES, e);
  if (!st.runtime) {
    w3_unload(e);
    return failed(e, "wasm3: no memory for a runtime with a %u-byte stack", (unsigned)PW_WASM3_STACK_BYTES);
  }
  st.runtime->memoryLimit = PW_WASM3_MEMORY_LIMIT;

  r = m3_ParseModule(st.env, &st.module, wasm, (uint32_t)wasm_len);
  if (r) {
    int rc = failed(e, "wasm3 cannot parse the core: %s", r);
    st.module = NULL;
    w3_unload(e);
    return rc;
  }
  r = m3_LoadModule(st.runtime, st.module);
  if (r) {
    int rc = failed(e, "wasm3 cannot load the core: %s", r);
    w3_unload(e);
    return rc;
  }
  st.module_loaded = true;

  /* every ABI import the module declares gets its binding; the ABI's others are simply not used */
  for (size_t i = 0; i < sizeof imports / sizeof imports[0]; i++) {
    r = m3_LinkRawFunctionEx(st.module, PW_ABI_MODULE, imports[i].name, imports[i].sig, imports[i].fn, e);
    if (r && r != m3Err_functionLookupFailed) {
      int rc = failed(e, "the core's import " PW_ABI_MODULE ".%s does not match host ABI v%d (%s; the ABI says %s)",
                      imports[i].name, PW_ABI_VERSION, r, imports[i].sig);
      w3_unload(e);
      return rc;
    }
  }
  /* an import left unbound is one the ABI does not have */
  for (uint32_t i = 0; i < st.module->numFuncImports; i++) {
    IM3Function f = &st.module->functions[i];
    if (!f->compiled) {
      int rc = failed(e, "the core imports %s.%s, which host ABI v%d does not provide",
                      f->import.moduleUtf8 ? f->import.moduleUtf8 : "?", f->import.fieldUtf8 ? f->import.fieldUtf8 : "?",
                      PW_ABI_VERSION);
      w3_unload(e);
      return rc;
    }
  }

  /* into the port's code region when it has one: the compiled code then costs flash, not RAM */
  const pw_platform *p = e->host ? e->host->p : NULL;
  st.code_in_flash = PW_WASM3_COMPILE_AT_LOAD && p && p->code_map && p->code_write_sector;
  if (st.code_in_flash) {
    /* the compile's scratch pages need room while they exist: the linear memory holds only the data
     * segments so far, so it is cut to them meanwhile (on the RP2040 this lets the load peak ~20 KB
     * lower, what decides whether the core fits beside WiFi) and grown back, zeroed, after */
    uint32_t kept = linear_memory_shrink(st.runtime);
    int rc = PW_ENGINE_OK;
    if (pw_w3_compile_to_flash(st.module, p, &st.flash, e->error, sizeof e->error))
      rc = PW_ENGINE_FAILED; /* e->error says why */
    else if (!linear_memory_restore(st.runtime, kept))
      rc = failed(e, "wasm3: no memory to give the core its %u-byte linear memory back", (unsigned)PW_WASM3_MEMORY_LIMIT);
    if (rc != PW_ENGINE_OK) {
      w3_unload(e);
      return rc;
    }
  }

  /* what m3_CompileModule does, one function at a time, to name the one that does not compile (with the
   * RP2040 configuration, d_m3MaxFunctionStackHeight=128 slots bound a function's locals + operands) */
  for (uint32_t i = st.module->numFuncImports; PW_WASM3_COMPILE_AT_LOAD && !st.code_in_flash && i < st.module->numFunctions; i++) {
    IM3Function f = &st.module->functions[i];
    if (!f->wasm || f->compiled) continue;
    r = CompileFunction(f);
    if (r) {
      const char *name = m3_GetFunctionName(f);
      int rc = failed(e, "wasm3 cannot compile function %u (%s, %u locals, %u wasm bytes): %s", (unsigned)i,
                      name ? name : "?", (unsigned)(f->numLocals + m3_GetArgCount(f)),
                      (unsigned)(f->wasmEnd - f->wasm), r);
      w3_unload(e);
      return rc;
    }
  }

#define FIND_EXPORT(name, sig, ret, params)                                                                 \
  do {                                                                                                      \
    r = m3_FindFunction(&st.f_##name, st.runtime, #name);                                                   \
    if (r) {                                                                                                \
      int rc = failed(e, "the core lacks the export %s of host ABI v%d (%s)", #name, PW_ABI_VERSION, r);     \
      w3_unload(e);                                                                                         \
      return rc;                                                                                            \
    }                                                                                                       \
    char have[32];                                                                                          \
    signature_of(st.f_##name, have, sizeof have);                                                           \
    if (strcmp(have, sig) != 0) {                                                                           \
      int rc = failed(e, "the core's export %s has the type %s; host ABI wants %s", #name, have, sig);      \
      w3_unload(e);                                                                                         \
      return rc;                                                                                            \
    }                                                                                                       \
  } while (0);
  PW_ABI_EXPORTS(FIND_EXPORT)
#undef FIND_EXPORT

  st.heap0 = heap0;
  st.wasm_len = wasm_len;
  pw_wasm3_log_usage(e);

  live = true;
  r = m3_RunStart(st.module);
  if (r) {
    live = false;
    return trapped(e, r, " (while instantiating)");
  }
  return PW_ENGINE_OK;
}

static uint8_t *w3_memory(pw_engine *e, uint32_t *size) {
  (void)e;
  if (!live) {
    *size = 0;
    return NULL;
  }
  uint8_t *m = m3_GetMemory(st.runtime, size, 0);
  if (!m) *size = 0;
  return m;
}

static const char *w3_core_sha256(pw_engine *e) {
  (void)e;
  if (loaded_sha[0]) return loaded_sha; /* the bytes actually loaded */
#ifdef PW_CORE_SHA256
  return PW_CORE_SHA256; /* before the first load: the embedded core's, recorded at build time */
#else
  return NULL;
#endif
}

const pw_engine_vtbl pw_engine_wasm3 = {
    .name = "wasm3",
    .loads_bytes = true,
    .load = w3_load,
    .unload = w3_unload,
    .memory = w3_memory,
    .core_sha256 = w3_core_sha256,
#define EXPORT_SLOT(name, sig, ret, params) .name = call_##name,
    PW_ABI_EXPORTS(EXPORT_SLOT)
#undef EXPORT_SLOT
};
