/* wasm3's compiled code in flash: see engine_wasm3_flash.h for the method. */
#include "engine_wasm3_flash.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* wasm3's internals (code pages, the runtime's page lists, a function's compiled state), built from the
 * same tree with the same definitions as the interpreter itself */
#include "m3_code.h"
#include "m3_compile.h"
#include "m3_env.h"
#include "m3_function.h"
#include "pw_sha256.h"

#define LINE ((uint32_t)sizeof(code_t))

/* The pages one compile of a function filled, in list order (full pages, then open ones). */
typedef struct {
  IM3CodePage *page;
  uint32_t count;
  uint32_t lines; /* used lines over all pages */
} page_set;

/* The region being written: one sector assembled in RAM, compared with flash, rewritten if it differs. */
typedef struct {
  const pw_platform *p;
  const uint8_t *map;
  uint8_t *sector;
  uint32_t sector_at; /* region offset of the sector being assembled */
  uint32_t fill;      /* bytes of it assembled */
  pw_w3_flash_stats *stats;
} region_writer;

typedef struct {
  char *err;
  size_t cap;
} err_out;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static const char *fail(err_out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->err, o->cap, fmt, ap);
  va_end(ap);
  return o->err;
}

static unsigned fn_index(IM3Function f) {
  return (unsigned)(f - f->module->functions);
}

static const char *function_name(IM3Function f) {
  const char *n = m3_GetFunctionName(f);
  return n ? n : "?";
}

/* ------------------------------------------------------------------ one compile, its pages set aside */

static void free_set(IM3Runtime rt, page_set *s) {
  for (uint32_t i = 0; i < s->count; i++) {
    IM3CodePage pg = s->page[i];
    pg->info.next = NULL;
    FreeCodePages(&pg);
  }
  if (rt->numCodePages >= s->count) rt->numCodePages -= s->count;
  free(s->page);
  memset(s, 0, sizeof *s);
}

/* Compiles f into pages of its own: the runtime's page lists are emptied first (so no page is shared
 * with another function) and restored after; the new pages end up in *out. The constants wasm3 copies
 * into f's frame at each call are kept only from the compile whose code stays (keep_constants). */
static const char *compile_alone(IM3Function f, bool keep_constants, page_set *out, err_out *e) {
  IM3Runtime rt = f->module->runtime;
  IM3CodePage open = rt->pagesOpen, full = rt->pagesFull;
  rt->pagesOpen = rt->pagesFull = NULL;
  M3Result r = CompileFunction(f);
  IM3CodePage lists[2] = {rt->pagesFull, rt->pagesOpen};
  rt->pagesOpen = open;
  rt->pagesFull = full;
  memset(out, 0, sizeof *out);
  uint32_t n = CountCodePages(lists[0]) + CountCodePages(lists[1]);
  out->page = n ? calloc(n, sizeof *out->page) : NULL;
  for (int l = 0; l < 2; l++)
    for (IM3CodePage pg = lists[l]; pg;) {
      IM3CodePage next = pg->info.next;
      if (out->page) out->page[out->count++] = pg;
      else FreeCodePages(&pg); /* no memory for the list: give the pages back and fail below */
      pg = next;
    }
  for (uint32_t i = 0; i < out->count; i++) out->lines += out->page[i]->info.lineIndex;
  if (f->constants && (!keep_constants || r)) {
    m3_Free(f->constants);
    f->constants = NULL;
  }
  if (n && !out->page) return fail(e, "wasm3: no memory to list the code pages of function %u", fn_index(f));
  if (r) {
    free_set(rt, out);
    return fail(e, "wasm3 cannot compile function %u (%s, %u wasm bytes): %s", fn_index(f), function_name(f),
                (unsigned)(f->wasmEnd - f->wasm), r);
  }
  return NULL;
}

/* The line of the function's flat image (its pages' used lines, in list order) that word w points at, or
 * -1 when w points into none of the set's pages. A pointer just past a page's used lines is kept (the
 * end of a block with nothing after it). */
static int64_t line_of(const page_set *s, uintptr_t w) {
  uint32_t flat = 0;
  for (uint32_t i = 0; i < s->count; i++) {
    uintptr_t start = (uintptr_t)s->page[i]->code, end = start + (uintptr_t)s->page[i]->info.lineIndex * LINE;
    if (w >= start && w <= end && (w - start) % LINE == 0) return (int64_t)flat + (int64_t)((w - start) / LINE);
    flat += s->page[i]->info.lineIndex;
  }
  return -1;
}

/* ------------------------------------------------------------------ the region */

static const char *flush_sector(region_writer *w, err_out *e) {
  if (w->fill == 0) return NULL;
  memset(w->sector + w->fill, 0xFF, PW_FLASH_SECTOR - w->fill); /* erased flash */
  if (memcmp(w->map + w->sector_at, w->sector, PW_FLASH_SECTOR) == 0) {
    w->stats->sectors_same++;
  } else {
    int32_t r = w->p->code_write_sector(w->p->ctx, w->sector_at, w->sector);
    if (r != PW_OK || memcmp(w->map + w->sector_at, w->sector, PW_FLASH_SECTOR) != 0)
      return fail(e, "wasm3: writing the code region's sector at %u failed (%d)", (unsigned)w->sector_at, (int)r);
    w->stats->sectors_written++;
  }
  w->sector_at += PW_FLASH_SECTOR;
  w->fill = 0;
  return NULL;
}

static const char *put_bytes(region_writer *w, const void *src, uint32_t len, err_out *e) {
  const uint8_t *b = src;
  while (len) {
    uint32_t n = PW_FLASH_SECTOR - w->fill < len ? PW_FLASH_SECTOR - w->fill : len;
    memcpy(w->sector + w->fill, b, n);
    w->fill += n;
    b += n;
    len -= n;
    if (w->fill == PW_FLASH_SECTOR) {
      const char *err = flush_sector(w, e);
      if (err) return err;
    }
  }
  return NULL;
}

static const char *put_word(region_writer *w, const void *word, err_out *e) {
  return put_bytes(w, word, LINE, e);
}

/* wasm3 allocated f's constants just above the pages of its second compile; with those pages freed, a
 * new copy lands in the space they left, so the heap does not creep up by a function's pages each time
 * (on the RP2040 the heap's high-water mark during the load was 55 KB above what stays). */
static const char *move_constants_down(IM3Function f, err_out *e) {
  if (!f->constants || !f->numConstantBytes) return NULL;
  void *moved = m3_Malloc("M3Function.constants", f->numConstantBytes);
  if (!moved) return fail(e, "wasm3: no memory for the constants of function %u", fn_index(f));
  memcpy(moved, f->constants, f->numConstantBytes);
  m3_Free(f->constants);
  f->constants = moved;
  return NULL;
}

/* ------------------------------------------------------------------ the two passes */

/* Moves the function compiled twice (a, b: the same code at two addresses) to flash at byte offset
 * `at` of the region, and checks that its entry lands where its callers were told it would. */
static const char *relocate(IM3Function f, const page_set *a, const page_set *b, pc_t entry_a, pc_t entry_b,
                            uint32_t at, region_writer *w, err_out *e) {
  if (a->count != b->count || a->lines != b->lines)
    return fail(e, "wasm3: function %u (%s) compiled to different page layouts twice", fn_index(f), function_name(f));
  uintptr_t base = (uintptr_t)w->map + at;
  int64_t ea = line_of(a, (uintptr_t)entry_a), eb = line_of(b, (uintptr_t)entry_b);
  if (ea < 0 || ea != eb || (uintptr_t)f->compiled != base + (uintptr_t)ea * LINE)
    return fail(e, "wasm3: function %u (%s): its entry moved between passes", fn_index(f), function_name(f));
  for (uint32_t i = 0; i < a->count; i++) {
    if (a->page[i]->info.lineIndex != b->page[i]->info.lineIndex)
      return fail(e, "wasm3: function %u (%s) compiled to different page layouts twice", fn_index(f), function_name(f));
    for (uint32_t k = 0; k < a->page[i]->info.lineIndex; k++) {
      code_t wa = a->page[i]->code[k], wb = b->page[i]->code[k];
      if (wa != wb) {
        int64_t la = line_of(a, (uintptr_t)wa), lb = line_of(b, (uintptr_t)wb);
        if (la < 0 || la != lb)
          return fail(e, "wasm3: function %u (%s): word %u of page %u differs between two compiles and points into "
                      "neither", fn_index(f), function_name(f), (unsigned)k, (unsigned)i);
        wa = (code_t)(base + (uintptr_t)la * LINE);
      }
      const char *err = put_word(w, &wa, e);
      if (err) return err;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ the cache record */

/* What the region holds after a compile, besides the code: per function, where its entry is and what
 * wasm3's compile would have set in its M3Function (so a boot can bind it without compiling), then the
 * functions' constants, and in the region's last sector the record saying for what it all was. */
#define CACHE_MAGIC 0x43335750u /* "PW3C", little-endian */
#define CACHE_VERSION 1u

typedef struct {
  uint32_t entry_line; /* f->compiled = region + entry_line * LINE */
  uint32_t num_local_bytes;
  uint32_t constants_at; /* region offset of its constants */
  uint16_t max_stack_slots, num_ret_slots, num_ret_and_arg_slots, num_locals, num_constant_bytes, unused;
} fn_record;

typedef struct {
  uint32_t magic, version;
  uint32_t line_bytes, slot_bytes; /* sizeof (code_t), sizeof (m3slot_t): wasm3's layout */
  uint32_t functions;              /* defined functions in the table */
  uint32_t code_bytes;             /* [0, code_bytes): the code */
  uint32_t table_at;               /* the fn_records, then the constants */
  uint32_t content_bytes;          /* [0, content_bytes): what content_sum covers */
  uint32_t content_sum[2];
  uint8_t core_sha256[32];    /* the core's SHA-256 */
  uint8_t firmware_id[32];    /* the port's identity of the firmware: the op handlers' addresses */
  uint8_t ram_fingerprint[32]; /* the RAM addresses the code names (wasm3's module structures) */
  uint8_t check[32];          /* SHA-256 of everything above */
} cache_record;

/* A cheap two-lane sum of the content: a power cut cannot leave a record over half-written code (the
 * record is erased before and written after the code), this catches what else may change the bytes. */
static void content_sum(const uint8_t *b, uint32_t len, uint32_t out[2]) {
  uint32_t a = 0x811C9DC5u, c = 0x9E3779B9u;
  for (uint32_t i = 0; i + 4 <= len; i += 4) {
    uint32_t v;
    memcpy(&v, b + i, 4);
    a = (a ^ v) * 0x01000193u;
    c = ((c + v) << 5 | (c + v) >> 27) * 0x85EBCA6Bu;
  }
  out[0] = a;
  out[1] = c;
}

static void hash_word(pw_sha256_ctx *c, uintptr_t v) {
  pw_sha256_update(c, (const uint8_t *)&v, sizeof v);
}

/* The RAM addresses compiled code embeds (m3_compile.c's EmitPointer): the module's arrays (globals,
 * functions, tables, segments), its function types, the imports' call stubs (RAM code pages built at
 * link), the module and runtime. Same firmware and same allocations give the same fingerprint. */
static void ram_fingerprint(IM3Module m, uint8_t out[32]) {
  pw_sha256_ctx c;
  pw_sha256_init(&c);
  hash_word(&c, (uintptr_t)m);
  hash_word(&c, (uintptr_t)m->runtime);
  hash_word(&c, (uintptr_t)m->functions);
  hash_word(&c, m->numFunctions);
  hash_word(&c, (uintptr_t)m->globals);
  hash_word(&c, m->numGlobals);
  hash_word(&c, (uintptr_t)m->tables);
  hash_word(&c, m->numTables);
  hash_word(&c, (uintptr_t)m->dataSegments);
  hash_word(&c, m->numDataSegments);
  hash_word(&c, (uintptr_t)m->elementSegments);
  hash_word(&c, m->numElementSegments);
  for (uint32_t i = 0; i < m->numFuncTypes; i++) hash_word(&c, (uintptr_t)m->funcTypes[i]);
  for (uint32_t i = 0; i < m->numFunctions; i++) {
    hash_word(&c, (uintptr_t)m->functions[i].funcType);
    if (i < m->numFuncImports) hash_word(&c, (uintptr_t)m->functions[i].compiled);
  }
  pw_sha256_final(&c, out);
}

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The record the region should hold for this module, the content fields left 0. */
static bool expected_record(IM3Module m, const pw_platform *p, const char *core_sha256, cache_record *r) {
  memset(r, 0, sizeof *r);
  if (!p->code_firmware_id || !core_sha256 || strlen(core_sha256) != 64) return false;
  r->magic = CACHE_MAGIC;
  r->version = CACHE_VERSION;
  r->line_bytes = LINE;
  r->slot_bytes = (uint32_t)sizeof(m3slot_t);
  for (int i = 0; i < 64; i++) {
    int d = hex_digit(core_sha256[i]);
    if (d < 0) return false;
    r->core_sha256[i / 2] = (uint8_t)(i % 2 ? r->core_sha256[i / 2] | d : d << 4);
  }
  p->code_firmware_id(p->ctx, r->firmware_id);
  ram_fingerprint(m, r->ram_fingerprint);
  return true;
}

static void seal(cache_record *r) {
  pw_sha256((const uint8_t *)r, offsetof(cache_record, check), r->check);
}

static uint32_t defined_functions(IM3Module m) {
  uint32_t n = 0;
  for (uint32_t i = m->numFuncImports; i < m->numFunctions; i++) n += m->functions[i].wasm != NULL;
  return n;
}

/* Binds every function to the code the region holds when its record is for this very module: the
 * region's record sealed, for this core, firmware and RAM layout, and its content unchanged. true when
 * bound; false (nothing changed) when it must be compiled. */
static bool bind_cached(IM3Module m, const uint8_t *map, uint32_t size, const cache_record *want, cache_record *got,
                        err_out *e, const char **bad) {
  cache_record r;
  memcpy(&r, map + size - PW_FLASH_SECTOR, sizeof r);
  *got = r;
  uint8_t check[32];
  pw_sha256((const uint8_t *)&r, offsetof(cache_record, check), check);
  if (memcmp(check, r.check, 32) != 0) return false;
  /* the fields that say what it was compiled for, then the content's bounds */
  if (memcmp(&r, want, offsetof(cache_record, functions)) != 0 ||
      memcmp(r.core_sha256, want->core_sha256, 96) != 0 || r.functions != defined_functions(m) ||
      r.content_bytes > size - PW_FLASH_SECTOR || r.code_bytes > r.table_at || r.table_at > r.content_bytes ||
      (uint64_t)r.functions * sizeof(fn_record) > r.content_bytes - r.table_at)
    return false;
  uint32_t sum[2];
  content_sum(map, r.content_bytes, sum);
  if (sum[0] != r.content_sum[0] || sum[1] != r.content_sum[1]) return false;
  const uint8_t *table = map + r.table_at;
  uint32_t k = 0;
  for (uint32_t i = m->numFuncImports; i < m->numFunctions; i++) { /* every entry checked before any is used */
    if (!m->functions[i].wasm) continue;
    fn_record fr;
    memcpy(&fr, table + (size_t)k++ * sizeof fr, sizeof fr);
    if ((uint64_t)fr.entry_line * LINE >= r.code_bytes || fr.constants_at < r.table_at ||
        (uint64_t)fr.constants_at + fr.num_constant_bytes > r.content_bytes)
      return false;
  }
  k = 0;
  for (uint32_t i = m->numFuncImports; i < m->numFunctions && !*bad; i++) {
    IM3Function f = &m->functions[i];
    if (!f->wasm) continue;
    fn_record fr;
    memcpy(&fr, table + (size_t)k++ * sizeof fr, sizeof fr);
    f->compiled = (pc_t)(map + (size_t)fr.entry_line * LINE);
    f->maxStackSlots = fr.max_stack_slots;
    f->numRetSlots = fr.num_ret_slots;
    f->numRetAndArgSlots = fr.num_ret_and_arg_slots;
    f->numLocals = fr.num_locals;
    f->numLocalBytes = fr.num_local_bytes;
    f->numConstantBytes = fr.num_constant_bytes;
    if (fr.num_constant_bytes) {
      if (!(f->constants = m3_Malloc("M3Function.constants", fr.num_constant_bytes)))
        *bad = fail(e, "wasm3: no memory for the constants of function %u", fn_index(f));
      else
        memcpy(f->constants, map + fr.constants_at, fr.num_constant_bytes);
    }
  }
  return true;
}

/* ------------------------------------------------------------------ compile, write, then the record */

const char *pw_w3_compile_to_flash(IM3Module module, const pw_platform *p, const char *core_sha256,
                                   pw_w3_flash_stats *stats, char *err, size_t err_cap) {
  err_out e = {err, err_cap};
  memset(stats, 0, sizeof *stats);
  if (!p || !p->code_map || !p->code_write_sector) return fail(&e, "wasm3: this port has no code region");
  uint32_t size = 0;
  const uint8_t *map = p->code_map(p->ctx, &size);
  if (!map || size < 2 * PW_FLASH_SECTOR || size % PW_FLASH_SECTOR || (uintptr_t)map % LINE)
    return fail(&e, "wasm3: the port's code region is unusable (%u bytes at %p)", (unsigned)size, (const void *)map);
  stats->region_bytes = size;
  const uint32_t record_at = size - PW_FLASH_SECTOR; /* the last sector: written last */

  cache_record rec;
  bool cacheable = expected_record(module, p, core_sha256, &rec);
  const char *bad = NULL;
  cache_record got;
  if (cacheable && bind_cached(module, map, size, &rec, &got, &e, &bad)) {
    stats->bound = 1;
    stats->functions = got.functions;
    stats->code_bytes = got.code_bytes;
    stats->content_bytes = got.content_bytes;
    return bad;
  }

  region_writer w = {p, map, NULL, 0, 0, stats};
  if (!(w.sector = malloc(PW_FLASH_SECTOR))) return fail(&e, "wasm3: no memory for a code sector");
  /* the old record goes first: from here until the new one is written, no boot binds this region */
  w.sector_at = record_at;
  w.fill = 1;
  memset(w.sector, 0xFF, 1);
  if ((bad = flush_sector(&w, &e))) {
    free(w.sector);
    return bad;
  }
  w.sector_at = 0;

  uint32_t first = module->numFuncImports, n = module->numFunctions - first;
  uint32_t *lines = n ? calloc(n, sizeof *lines) : NULL;
  if (n && !lines) bad = fail(&e, "wasm3: no memory for the code layout");

  /* pass 1: every function's size, so that every call can name its callee's flash address */
  uint64_t total = 0, constant_bytes = 0;
  uint32_t defined = 0;
  for (uint32_t i = 0; i < n && !bad; i++) {
    IM3Function f = &module->functions[first + i];
    if (!f->wasm) continue;
    f->compiled = NULL;
    page_set s;
    if ((bad = compile_alone(f, false, &s, &e))) break;
    int64_t entry = line_of(&s, (uintptr_t)f->compiled);
    lines[i] = s.lines;
    free_set(module->runtime, &s);
    if (entry < 0) {
      bad = fail(&e, "wasm3: function %u (%s): its entry lies outside its code", fn_index(f), function_name(f));
      break;
    }
    f->compiled = (pc_t)((uintptr_t)map + (uintptr_t)(total + (uint64_t)entry) * LINE);
    total += lines[i];
    constant_bytes += f->numConstantBytes;
    defined++;
  }
  uint64_t table_at = total * LINE, content = table_at + (uint64_t)defined * sizeof(fn_record) + constant_bytes;
  if (!bad && content > record_at)
    bad = fail(&e, "wasm3: the compiled core needs %llu bytes of code region, the port has %u (PICOWIRE_WASM3_CODE_KB)",
               (unsigned long long)(content + PW_FLASH_SECTOR), (unsigned)size);

  /* pass 2: each function twice at two addresses, moved to flash */
  uint32_t at = 0;
  for (uint32_t i = 0; i < n && !bad; i++) {
    IM3Function f = &module->functions[first + i];
    if (!f->wasm) continue;
    pc_t final = f->compiled;
    page_set a, b;
    if ((bad = compile_alone(f, false, &a, &e))) break;
    pc_t entry_a = f->compiled;
    f->compiled = final; /* a call of f to itself names its flash address, as everyone else's calls do */
    if ((bad = compile_alone(f, true, &b, &e))) {
      free_set(module->runtime, &a);
      break;
    }
    pc_t entry_b = f->compiled;
    f->compiled = final;
    if (b.lines != lines[i])
      bad = fail(&e, "wasm3: function %u (%s) compiled to %u lines, then %u", fn_index(f), function_name(f),
                 (unsigned)lines[i], (unsigned)b.lines);
    else
      bad = relocate(f, &a, &b, entry_a, entry_b, at, &w, &e);
    free_set(module->runtime, &a);
    free_set(module->runtime, &b);
    if (!bad) bad = move_constants_down(f, &e);
    at += lines[i] * LINE;
    stats->functions++;
  }

  /* the table and the constants, after the code: what a cached boot sets instead of compiling */
  uint32_t constants_at = (uint32_t)table_at + defined * (uint32_t)sizeof(fn_record);
  for (uint32_t i = 0; i < n && !bad; i++) {
    IM3Function f = &module->functions[first + i];
    if (!f->wasm) continue;
    fn_record fr = {(uint32_t)(((uintptr_t)f->compiled - (uintptr_t)map) / LINE), f->numLocalBytes, constants_at,
                    f->maxStackSlots, f->numRetSlots, f->numRetAndArgSlots, f->numLocals, f->numConstantBytes, 0};
    constants_at += f->numConstantBytes;
    bad = put_bytes(&w, &fr, sizeof fr, &e);
  }
  for (uint32_t i = 0; i < n && !bad; i++) {
    IM3Function f = &module->functions[first + i];
    if (f->wasm && f->numConstantBytes) bad = put_bytes(&w, f->constants, f->numConstantBytes, &e);
  }
  if (!bad) bad = flush_sector(&w, &e);
  stats->code_bytes = at;
  stats->content_bytes = (uint32_t)content;

  /* last, the record: sealed over what the region now holds */
  if (!bad && cacheable) {
    rec.functions = defined;
    rec.code_bytes = at;
    rec.table_at = (uint32_t)table_at;
    rec.content_bytes = (uint32_t)content;
    content_sum(map, rec.content_bytes, rec.content_sum);
    seal(&rec);
    w.sector_at = record_at;
    bad = put_bytes(&w, &rec, sizeof rec, &e);
    if (!bad) bad = flush_sector(&w, &e);
  }
  free(w.sector);
  free(lines);
  return bad;
}
