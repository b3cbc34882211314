/* Minimal wasm2c runtime for the picowire hosts, written for the wasm-rt.h of Debian's wabt 1.0.32:
 * linear memory and tables on the C heap, func-type registration, traps via longjmp, call-depth count.
 * Exception handling (--enable-exceptions) is not provided: a core that needs it fails to link.
 */
#include "wasm2c_rt.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if WASM_RT_MEMCHECK_SIGNAL_HANDLER || !WASM_RT_USE_STACK_DEPTH_COUNT
#error "build with -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0: this runtime checks bounds in code, not with guard pages"
#endif

#define PAGE_SIZE 65536u
#define MAX_FUNC_TYPES 64
#define MAX_FUNC_TYPE_VALUES 16

uint32_t wasm_rt_call_stack_depth;
jmp_buf *pw_w2c_trap_target;
volatile wasm_rt_trap_t pw_w2c_trap_code;
const char *volatile pw_w2c_alloc_error;

static bool initialized;

typedef struct {
  uint8_t params, results;
  uint8_t types[MAX_FUNC_TYPE_VALUES];
} func_type;

static func_type func_types[MAX_FUNC_TYPES];
static uint32_t func_type_count;

void wasm_rt_init(void) {
  initialized = true;
  wasm_rt_call_stack_depth = 0;
}

bool wasm_rt_is_initialized(void) { return initialized; }

void wasm_rt_free(void) { initialized = false; }

void wasm_rt_trap(wasm_rt_trap_t code) {
  pw_w2c_trap_code = code;
  if (!pw_w2c_trap_target) abort(); /* a trap outside any guarded call: nothing sane to return to */
  longjmp(*pw_w2c_trap_target, 1);
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "no trap";
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory or table access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer division by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed (abort)";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
#if !WASM_RT_MERGED_OOB_AND_EXHAUSTION_TRAPS
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
#endif
  }
  return "unknown trap";
}

static void fail_alloc(const char *why) {
  pw_w2c_alloc_error = why;
  wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
}

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  func_type t;
  memset(&t, 0, sizeof t);
  if (params + results > MAX_FUNC_TYPE_VALUES) fail_alloc("wasm2c glue: function type with too many values");
  t.params = (uint8_t)params;
  t.results = (uint8_t)results;
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < params + results; i++) t.types[i] = (uint8_t)va_arg(ap, int);
  va_end(ap);
  for (uint32_t i = 0; i < func_type_count; i++)
    if (memcmp(&func_types[i], &t, sizeof t) == 0) return i + 1; /* 0 is the null funcref's type */
  if (func_type_count == MAX_FUNC_TYPES) fail_alloc("wasm2c glue: too many function types");
  func_types[func_type_count++] = t;
  return func_type_count;
}

#if PW_W2C_FIXED_MEMORY
/* The one core's memory, static: wasm2c_fast.h addresses it as a constant (PW_W2C_MEM_ADDR). */
uint8_t pw_w2c_fixed_data[PW_W2C_FIXED_MEMORY] __attribute__((aligned(8)));
static bool fixed_in_use;
#endif

void wasm_rt_allocate_memory(wasm_rt_memory_t *mem, uint32_t initial_pages, uint32_t max_pages) {
  uint64_t bytes = (uint64_t)initial_pages * PAGE_SIZE;
  mem->data = NULL;
  mem->size = 0;
  mem->pages = 0;
  mem->max_pages = max_pages;
  if (bytes > PW_W2C_MEMORY_MAX) fail_alloc("wasm2c glue: the core's initial memory is above PW_W2C_MEMORY_MAX");
#if PW_W2C_FIXED_MEMORY
  /* the core was compiled with bounds checks against this constant (wasm2c_fast.h) */
  if (bytes != PW_W2C_FIXED_MEMORY || max_pages != initial_pages)
    fail_alloc("wasm2c glue: the core's memory is not the fixed size it was compiled for (PW_W2C_FIXED_MEMORY)");
  if (fixed_in_use) fail_alloc("wasm2c glue: a second core's memory (PW_W2C_FIXED_MEMORY: one core at a time)");
  fixed_in_use = true;
  memset(pw_w2c_fixed_data, 0, sizeof pw_w2c_fixed_data);
  mem->data = pw_w2c_fixed_data;
#else
  mem->data = calloc(bytes ? (size_t)bytes : 1, 1);
#endif
  if (!mem->data) fail_alloc("wasm2c glue: out of memory for the core's linear memory");
  /* wasm2c_fast.h compiles the core assuming it (PW_W2C_MEM_ADDR) */
  if ((uintptr_t)mem->data & 7) fail_alloc("wasm2c glue: the core's linear memory is not 8-byte aligned");
  mem->pages = initial_pages;
  mem->size = (uint32_t)bytes;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *mem, uint32_t delta) {
  uint32_t old = mem->pages;
#if PW_W2C_FIXED_MEMORY
  if (delta != 0) return UINT32_MAX; /* never reached: max_pages == pages (checked at allocation) */
#endif
  uint64_t pages = (uint64_t)old + delta;
  if (pages > mem->max_pages || pages * PAGE_SIZE > PW_W2C_MEMORY_MAX) return UINT32_MAX;
  if (delta == 0) return old;
  uint8_t *data = realloc(mem->data, (size_t)(pages * PAGE_SIZE));
  if (!data) return UINT32_MAX;
  memset(data + mem->size, 0, (size_t)delta * PAGE_SIZE);
  mem->data = data;
  mem->pages = (uint32_t)pages;
  mem->size = (uint32_t)(pages * PAGE_SIZE);
  return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *mem) {
#if PW_W2C_FIXED_MEMORY
  if (mem->data == pw_w2c_fixed_data) fixed_in_use = false;
#else
  free(mem->data);
#endif
  mem->data = NULL;
  mem->size = 0;
  mem->pages = 0;
}

/* Tables: the same shape for funcref and externref. */
#define TABLE_FUNCS(kind, elem_t)                                                                          \
  void wasm_rt_allocate_##kind##_table(wasm_rt_##kind##_table_t *table, uint32_t elements, uint32_t max) { \
    table->size = 0;                                                                                       \
    table->max_size = max;                                                                                 \
    table->data = calloc(elements ? elements : 1, sizeof(elem_t));                                         \
    if (!table->data) fail_alloc("wasm2c glue: out of memory for a table");                                \
    table->size = elements;                                                                                \
  }                                                                                                        \
  void wasm_rt_free_##kind##_table(wasm_rt_##kind##_table_t *table) {                                       \
    free(table->data);                                                                                     \
    table->data = NULL;                                                                                    \
    table->size = 0;                                                                                       \
  }                                                                                                        \
  uint32_t wasm_rt_grow_##kind##_table(wasm_rt_##kind##_table_t *table, uint32_t delta, elem_t init) {     \
    uint32_t old = table->size;                                                                            \
    uint64_t size = (uint64_t)old + delta;                                                                 \
    if (size > table->max_size || size > (1u << 20)) return UINT32_MAX;                                    \
    if (delta == 0) return old;                                                                            \
    elem_t *data = realloc(table->data, (size_t)size * sizeof(elem_t));                                    \
    if (!data) return UINT32_MAX;                                                                          \
    for (uint32_t i = old; i < (uint32_t)size; i++) data[i] = init;                                        \
    table->data = data;                                                                                    \
    table->size = (uint32_t)size;                                                                          \
    return old;                                                                                            \
  }

TABLE_FUNCS(funcref, wasm_rt_funcref_t)
TABLE_FUNCS(externref, wasm_rt_externref_t)
