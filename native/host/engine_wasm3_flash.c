/* wasm3's compiled code in flash: see engine_wasm3_flash.h for the method. */
#include "engine_wasm3_flash.h"

#include <stdarg.h>
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

static const char *put_word(region_writer *w, const void *word, err_out *e) {
  memcpy(w->sector + w->fill, word, LINE);
  w->fill += LINE;
  return w->fill == PW_FLASH_SECTOR ? flush_sector(w, e) : NULL;
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

const char *pw_w3_compile_to_flash(IM3Module module, const pw_platform *p, pw_w3_flash_stats *stats, char *err,
                                   size_t err_cap) {
  err_out e = {err, err_cap};
  memset(stats, 0, sizeof *stats);
  if (!p || !p->code_map || !p->code_write_sector) return fail(&e, "wasm3: this port has no code region");
  uint32_t size = 0;
  const uint8_t *map = p->code_map(p->ctx, &size);
  if (!map || size < PW_FLASH_SECTOR || size % PW_FLASH_SECTOR || (uintptr_t)map % LINE)
    return fail(&e, "wasm3: the port's code region is unusable (%u bytes at %p)", (unsigned)size, (const void *)map);
  stats->region_bytes = size;

  uint32_t first = module->numFuncImports, n = module->numFunctions - first;
  uint32_t *lines = n ? calloc(n, sizeof *lines) : NULL;
  if (n && !lines) return fail(&e, "wasm3: no memory for the code layout");
  const char *bad = NULL;

  /* pass 1: every function's size, so that every call can name its callee's flash address */
  uint64_t total = 0;
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
  }
  if (!bad && total * LINE > size)
    bad = fail(&e, "wasm3: the compiled core needs %llu bytes of code region, the port has %u (PICOWIRE_WASM3_CODE_KB)",
               (unsigned long long)(total * LINE), (unsigned)size);

  /* pass 2: each function twice at two addresses, moved to flash */
  region_writer w = {p, map, NULL, 0, 0, stats};
  if (!bad && !(w.sector = malloc(PW_FLASH_SECTOR))) bad = fail(&e, "wasm3: no memory for a code sector");
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
  if (!bad) bad = flush_sector(&w, &e);
  stats->code_bytes = at;
  free(w.sector);
  free(lines);
  return bad;
}
