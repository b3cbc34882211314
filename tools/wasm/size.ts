// Size and budget report for the core: `npx tsx tools/wasm/size.ts [path]` (default build/picowire.wasm).
// Prints where the bytes go and the board RAM the build will need under wasm3; exits 1 if a budget breaks.
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { componentTable, mapComponentsOf } from "../build/map-components.ts";
import { callGraph, dataEnd, featuresUsed, floatDeclarations, floatInstructions, funcName, parseModule, type WasmModule } from "./inspect.ts";

// ---- budgets ------------------------------------------------------------------------------------
/** wasm3 keeps the module bytes and its compiled code in the Pico W's 264 KB of SRAM next to the WiFi
 *  stack. DESIGN.md set 36 KB; the bus and the access point's DHCP server (~6 KB), the LED-strip
 *  protocols (~3.2 KB), over-the-air update (~2.3 KB), provisioning and the MQTT bridge (~11 KB) need
 *  more, so the budget is 64 KB; docs/DESIGN.md ("Budgets") says what that means for wasm3 on the board. */
export const MAX_WASM_BYTES = 65536 - 256; // and it must fit an OTA slot: 64 KiB less its header page
/** The board hands the core 40 KiB of linear memory (wasm3 memoryLimit, HEAP_LIMIT in assembly/util/heap.ts);
 *  static data must fit below it, leaving the rest for the slots init() reserves. */
export const MAX_LINEAR_MEMORY = 40960;
/** One declared page max: the core must never grow memory; wasm3 caps what it really allocates. */
export const MAX_MEMORY_PAGES = 1;
/** The RP2040 has no FPU: floats would be soft-float calls in wasm3, slow and big, and the core needs none. */
export const FLOATS_ALLOWED = false;
/** What the board's wasm3 build runs; anything else would fail to load there even though Node accepts it. */
export const ALLOWED_FEATURES = new Set(["mvp", "sign-ext", "bulk-memory", "mutable-globals", "multi-value"]);

// wasm3 on the RP2040 (rp2040js, build/picowire-emu-wasm3.uf2, core 85e66c20…, 283 functions): the compiled
// code goes to flash (engine_wasm3_flash.c), 195,780 B for 63,617 B of wasm; what stays in RAM besides the
// linear memory and the wasm stack (6 KiB on the board: PW_WASM3_STACK_BYTES in native/pico/CMakeLists.txt)
// is ~167 B per function (47,240 B) and a code page of import stubs
const WASM3_FLASH_PER_BYTE = 3.1;
const WASM3_RAM_PER_FUNCTION = 167;
const WASM3_STACK_BYTES = 6144;

/** AssemblyScript's stub runtime sets its bump offset to the heap base in the start function. Zero-filled
 *  static buffers (memory.data(n)) get no data segment after memory packing, so segments can undercount. */
export function staticDataEnd(m: WasmModule): number {
  let end = dataEnd(m);
  const start = m.start !== undefined ? m.funcs[m.start - m.importedFuncs] : undefined;
  const pages = m.memories[0]?.maximum ?? m.memories[0]?.initial ?? 1;
  start?.instructions.forEach((ins, i) => {
    const next = start.instructions[i + 1];
    if (ins.name === "i32.const" && next?.name === "global.set" && ins.args[0] > end && ins.args[0] <= pages * 65536) end = ins.args[0];
  });
  return end;
}

/** The board's wasm3 is built with d_m3ValCtrlDepth = 32: a function whose blocks nest deeper (counting
 *  the function's own frame) does not load. */
export const MAX_CONTROL_DEPTH = 32;

/** The deepest block/loop/if nesting in each function, plus one for the function's own frame. */
export function controlDepths(m: WasmModule): { func: number; depth: number }[] {
  return m.funcs.map((f) => {
    let depth = 1;
    let deepest = 1;
    for (const ins of f.instructions) {
      if (ins.name === "block" || ins.name === "loop" || ins.name === "if" || ins.name === "try") deepest = Math.max(deepest, ++depth);
      else if (ins.name === "end") depth--;
    }
    return { func: f.index, depth: deepest };
  });
}

/** Every broken budget, one clear sentence each; empty when the build fits the board. */
export function checkBudgets(bytes: Uint8Array): string[] {
  let m: WasmModule;
  try {
    m = parseModule(bytes);
  } catch (e) {
    return [`not a readable wasm module: ${(e as Error).message}`];
  }
  const out: string[] = [];
  if (bytes.length > MAX_WASM_BYTES) {
    out.push(`wasm size: ${bytes.length} bytes is over the ${MAX_WASM_BYTES}-byte (64 KB less a slot header) budget by ${bytes.length - MAX_WASM_BYTES}`);
  }
  const mems = [...m.imports.flatMap((i) => (i.memory ? [i.memory] : [])), ...m.memories];
  if (mems.length !== 1) out.push(`linear memory: the module has ${mems.length} memories, the board provides exactly 1`);
  else if (mems[0].maximum === undefined) out.push(`linear memory: no maximum declared; it must declare max ${MAX_MEMORY_PAGES} page`);
  else if (mems[0].maximum > MAX_MEMORY_PAGES) out.push(`linear memory: declares max ${mems[0].maximum} pages; the board allows ${MAX_MEMORY_PAGES}`);
  const end = staticDataEnd(m);
  if (end >= MAX_LINEAR_MEMORY) out.push(`linear memory: static data ends at ${end}, not below the ${MAX_LINEAR_MEMORY}-byte cap`);
  if (!FLOATS_ALLOWED) {
    const fi = floatInstructions(m);
    if (fi.length) {
      const eg = fi.slice(0, 3).map((f) => `${f.opcode} in ${f.funcName} at 0x${f.offset.toString(16)}`).join("; ");
      out.push(`floats: ${fi.length} float instruction(s), e.g. ${eg}`);
    }
    const fd = floatDeclarations(m);
    if (fd.length) out.push(`floats: f32/f64 declared in ${fd.slice(0, 3).join("; ")}${fd.length > 3 ? ` (+${fd.length - 3} more)` : ""}`);
  }
  for (const d of controlDepths(m).filter((d) => d.depth > MAX_CONTROL_DEPTH)) {
    out.push(`nesting: ${funcName(m, d.func)} nests ${d.depth} control frames; the board's wasm3 loads at most ${MAX_CONTROL_DEPTH} (split the function)`);
  }
  const bad = featuresUsed(m).filter((f) => !ALLOWED_FEATURES.has(f));
  if (bad.length) out.push(`features: uses ${bad.join(", ")}, which the board's wasm3 does not run (allowed: ${[...ALLOWED_FEATURES].join(", ")})`);
  return out;
}

// ---- grouping -----------------------------------------------------------------------------------
/** `assembly/rgb/codec/parseText` -> rgb, `~lib/...` -> stdlib: the folder under assembly/ is the protocol. */
export function protocolOf(name: string): string {
  const n = name.replace(/^start:/, "");
  if (n.startsWith("~lib/")) return "stdlib";
  if (n.startsWith("~")) return "(start)";
  const parts = n.split("/");
  return parts[0] === "assembly" && parts.length > 1 ? parts[1] : "other"; // start:assembly/index -> index
}

export interface Group { funcs: number; bytes: number }
function add(groups: Map<string, Group>, key: string, bytes: number) {
  const g = groups.get(key) ?? { funcs: 0, bytes: 0 };
  g.funcs++;
  g.bytes += bytes;
  groups.set(key, g);
}

/** Code bytes per export: a function reachable from one export only is charged to it; from several, to
 *  "shared"; from none, to "unreachable". The start function and table entries count as roots too. */
export function groupByCallGraph(m: WasmModule): Map<string, Group> {
  const roots = new Map<string, number[]>();
  for (const e of m.exports) if (e.kind === "func") {
    const same = [...roots].find(([, r]) => r[0] === e.index);
    if (same) { roots.delete(same[0]); roots.set(`${same[0]}/${e.name}`, [e.index]); } else roots.set(e.name, [e.index]);
  }
  if (m.start !== undefined) roots.set("(start)", [m.start]);
  const table = m.elements.flatMap((e) => e.funcs);
  if (table.length) roots.set("(table)", table);
  const graph = callGraph(m), reachedBy = new Map<number, Set<string>>();
  for (const [root, starts] of roots) {
    const todo = [...starts], seen = new Set<number>();
    while (todo.length) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      if (!reachedBy.has(f)) reachedBy.set(f, new Set());
      reachedBy.get(f)!.add(root);
      todo.push(...(graph.get(f) ?? []));
    }
  }
  const groups = new Map<string, Group>();
  for (const f of m.funcs) {
    const by = reachedBy.get(f.index);
    add(groups, !by ? "unreachable" : by.size > 1 ? "shared" : [...by][0], f.entrySize);
  }
  return groups;
}

function groupByNames(m: WasmModule, names: Map<number, string>): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const f of m.funcs) add(groups, protocolOf(names.get(f.index) ?? ""), f.entrySize);
  return groups;
}

/** Function names for `m` from a build without its own: they only transfer if both builds have the same
 *  functions, which we check by count and by every export pointing at the same index. */
function namesFrom(m: WasmModule, other: { funcs: number; imported: number; exports: Map<string, number>; names: Map<number, string> }) {
  if (other.funcs !== m.funcs.length || other.imported !== m.importedFuncs) return undefined;
  for (const e of m.exports) if (e.kind === "func" && other.exports.get(e.name) !== e.index) return undefined;
  return other.names;
}

/** asc writes the release .wat from the same binaryen module as the .wasm, so its $names are the release
 *  functions' own (in index order: imports first, then bodies). */
function watNames(text: string) {
  const names = new Map<number, string>(), exports = new Map<string, number>();
  let imported = 0, funcs = 0;
  for (const line of text.split("\n")) {
    const imp = line.match(/^ \(import "[^"]*" "[^"]*" \(func \$(\S+)/);
    const fn = line.match(/^ \(func \$(\S+)/);
    if (imp) names.set(imported++, imp[1]);
    else if (fn) names.set(imported + funcs++, fn[1]);
  }
  const byName = new Map([...names].map(([i, n]) => [n, i]));
  for (const [, e, f] of text.matchAll(/^ \(export "([^"]*)" \(func \$(\S+)\)\)/gm)) exports.set(e, byName.get(f)!);
  return { funcs, imported, exports, names };
}

// ---- report -------------------------------------------------------------------------------------
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`.padStart(6);
function table(title: string, groups: Map<string, Group>, total: number) {
  console.log(`\n${title}`);
  console.log(`  ${"group".padEnd(28)} funcs   bytes  of code`);
  for (const [k, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes)) {
    console.log(`  ${k.padEnd(28)} ${String(g.funcs).padStart(5)} ${String(g.bytes).padStart(7)}  ${pct(g.bytes, total)}`);
  }
}

function main() {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const path = process.argv[2] ? resolve(process.argv[2]) : resolve(root, "build/picowire.wasm");
  if (!existsSync(path)) {
    console.error(`size: ${path} not found; build it with: npx asc assembly/index.ts --target release`);
    process.exit(1);
  }
  const bytes = new Uint8Array(readFileSync(path));
  let m: WasmModule;
  try {
    m = parseModule(bytes);
  } catch (e) {
    console.error(`size: ${path}: ${(e as Error).message}`);
    process.exit(1);
  }
  console.log(`${relative(process.cwd(), path)}: ${bytes.length} bytes (${pct(bytes.length, MAX_WASM_BYTES).trim()} of the ${MAX_WASM_BYTES}-byte budget)`);
  console.log(`\n  ${"section".padEnd(20)}   bytes`);
  for (const s of m.sections) console.log(`  ${s.name.padEnd(20)} ${String(s.size).padStart(7)}  ${pct(s.size, bytes.length)}`);
  const initialised = m.data.reduce((n, d) => n + d.size, 0), end = staticDataEnd(m);
  console.log(`\ndata: ${m.data.length} segment(s), ${initialised} bytes initialised; static data ends at ${end}`);

  const code = m.sections.find((s) => s.id === 10)?.payloadSize ?? 0;
  const biggest = [...m.funcs].sort((a, b) => b.entrySize - a.entrySize).slice(0, Number(process.env.PICOWIRE_SIZE_TOP ?? 5));
  let names: Map<number, string> | undefined, source = "";
  if (m.names.size) [names, source] = [m.names, "its own name section"];
  const show = (p: string) => relative(process.cwd(), p) || p;
  const debugPath = path.replace(/\.wasm$/, ".debug.wasm"), watPath = path.replace(/\.wasm$/, ".wat");
  let debug: WasmModule | undefined;
  if (!names && existsSync(debugPath)) {
    try { debug = parseModule(new Uint8Array(readFileSync(debugPath))); } catch { /* reported below as no mapping */ }
    const exports = new Map(debug?.exports.filter((e) => e.kind === "func").map((e) => [e.name, e.index]));
    if (debug && (names = namesFrom(m, { funcs: debug.funcs.length, imported: debug.importedFuncs, exports, names: debug.names }))) source = show(debugPath);
  }
  if (!names && existsSync(watPath) && (names = namesFrom(m, watNames(readFileSync(watPath, "utf8"))))) source = show(watPath);
  if (names) table(`code per protocol (function names from ${source})`, groupByNames(m, names), code);
  else {
    console.log(`\nno per-protocol mapping possible: ${debug ? `the debug build has ${debug.funcs.length} functions, this one ${m.funcs.length} (the optimizer inlined and merged)` : `no ${show(debugPath)}`}, and no matching ${show(watPath)}`);
    if (debug?.names.size) table(`unoptimised debug build per protocol, for proportions only`, groupByNames(debug, debug.names), debug.sections.find((s) => s.id === 10)!.payloadSize);
  }
  table(`code per export (call graph; reached from several exports = "shared")`, groupByCallGraph(m), code);
  console.log(`\nlargest functions: ${biggest.map((f) => `${names?.get(f.index) ?? funcName(m, f.index)} ${f.entrySize}`).join(", ")}`);

  const nfuncs = m.funcs.length + m.importedFuncs;
  const ram = nfuncs * WASM3_RAM_PER_FUNCTION + 1024 + WASM3_STACK_BYTES;
  console.log(`\nboard under wasm3 (projection; the emulator image's boot line has the measured figures)`);
  console.log(`  code in flash  ${bytes.length} B x ${WASM3_FLASH_PER_BYTE}   = ${Math.round(bytes.length * WASM3_FLASH_PER_BYTE)} (PICOWIRE_WASM3_CODE_KB, default 256 KiB)`);
  console.log(`  RAM functions  ${nfuncs} x ${WASM3_RAM_PER_FUNCTION} B    = ${nfuncs * WASM3_RAM_PER_FUNCTION}, + import stubs 1024 + wasm stack ${WASM3_STACK_BYTES}`);
  console.log(`  linear mem     static data ${end}, capped at ${MAX_LINEAR_MEMORY}`);
  console.log(`  RAM total      ${ram + end} B with static data only, ${ram + MAX_LINEAR_MEMORY} B with the full ${MAX_LINEAR_MEMORY}-byte cap`);

  // the firmware images, where `npm run build` made them (Pico SDK present): flash and RAM per component
  for (const [elf, what] of [["build/pico-wasm3/native/pico/picowire.elf", "Pico W firmware (wasm3, build/picowire.uf2)"], ["build/pico/native/pico/picowire.elf", "Pico W firmware (wasm2c)"],
    ["build/pico/native/pico/picowire_emu.elf", "rp2040js image (wasm2c)"]]) {
    const map = resolve(root, `${elf}.map`);
    if (existsSync(map)) console.log(componentTable(`${what} per component (${relative(process.cwd(), map)}; bytes)`, mapComponentsOf(map)));
    else console.log(`
${what}: no ${elf}.map (the firmware is built where the Pico SDK is: docs/FIRMWARE.md)`);
  }

  const violations = checkBudgets(bytes);
  const mem = m.memories[0] ?? m.imports.find((i) => i.memory)?.memory;
  console.log(`\nbudgets`);
  console.log(`  wasm size       ${bytes.length} <= ${MAX_WASM_BYTES}`);
  console.log(`  linear memory   static end ${end} < ${MAX_LINEAR_MEMORY}, pages ${mem?.initial}..${mem?.maximum ?? "unbounded"} (max ${MAX_MEMORY_PAGES})`);
  console.log(`  floats          ${floatInstructions(m).length} instructions, ${floatDeclarations(m).length} declarations`);
  console.log(`  features        ${featuresUsed(m).join(", ")}`);
  if (violations.length) {
    for (const v of violations) console.error(`BUDGET BROKEN: ${v}`);
    process.exit(1);
  }
  console.log(`  all budgets ok`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
