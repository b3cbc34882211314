// Post-link step of `npm run build`, after shrink(): the core's module globals become words of linear
// memory below its static data (which asc starts at 1024). wasm3 keeps every global in a 32-byte record
// on the board's heap (about 300 of them: ~9.6 KB of RAM), while a word of the core's memory costs 4 bytes
// the core already has. Each access grows by 2-4 bytes of wasm (an i32.const 0 and a load or store with
// the address as its offset), so the least-used globals go first: every global read or written at most
// MAX_USES times moves, the most used of them at the lowest addresses (a one-byte offset below 128).
// The same module runs on every engine (Node, wasm2c, wasm3); docs/BOARD-PERFORMANCE.md has the figures.
//
// The rewrite is textual on binaryen's own printed form, where `(global.get $g)` is a whole expression and
// `(global.set $g VALUE)` holds its value: a get becomes `(T.load offset=A (i32.const 0))`, a set
// `(T.store offset=A (i32.const 0) VALUE)`, with the same evaluation order (the address is a constant).
// Initial values other than zero go into one data segment.

/** Globals read or written more often than this stay wasm globals: the heap floor beside WiFi and the size gate
 *  set it (6 since the 80 KiB slots: 221 globals, 904 of the 1024 low bytes; docs/BOARD-PERFORMANCE.md). */
export const MAX_USES = 6;
/** Where the moved globals live: below asc's static data, which starts at 1024 (checked). */
export const LOW_MEMORY_END = 1024;

interface Global {
  name: string;
  type: "i32" | "i64";
  init: bigint;
  uses: number;
}

export interface MovedGlobals {
  wat: string;
  moved: number;
  kept: number;
  bytes: number; // of low memory used
}

const GLOBAL_DECL = /^ \(global (\$\S+) \(mut (i32|i64)\) \((?:i32|i64)\.const (-?\d+)\)\)\n/gm;
const ACCESS = /\(global\.(get|set) (\$[^\s()]+)(?=[\s)])/g;

function dataBytes(type: "i32" | "i64", v: bigint): number[] {
  const out: number[] = [];
  const n = type === "i32" ? 4 : 8;
  let u = BigInt.asUintN(n * 8, v);
  for (let i = 0; i < n; i++, u >>= 8n) out.push(Number(u & 0xffn));
  return out;
}

/** Rewrites binaryen's text of the core; throws when the module is not of the expected shape. */
export function globalsToMemory(wat: string, maxUses = MAX_USES): MovedGlobals {
  const globals = new Map<string, Global>();
  for (const m of wat.matchAll(GLOBAL_DECL)) globals.set(m[1], { name: m[1], type: m[2] as "i32" | "i64", init: BigInt(m[3]), uses: 0 });
  for (const m of wat.matchAll(ACCESS)) {
    const g = globals.get(m[2]);
    if (g) g.uses++;
  }
  // an exported or imported global, or one whose initialiser is not a constant, stays
  for (const m of wat.matchAll(/\(export "[^"]*" \(global (\$\S+)\)\)/g)) globals.delete(m[1]);
  const firstData = Math.min(...[...wat.matchAll(/^ \(data \S+ \(i32\.const (\d+)\)/gm)].map((m) => Number(m[1])));
  if (firstData < LOW_MEMORY_END) throw new Error(`globals-to-memory: the core's static data starts at ${firstData}, below ${LOW_MEMORY_END}`);
  const moving = [...globals.values()].filter((g) => g.uses <= maxUses).sort((a, b) => b.uses - a.uses || a.name.localeCompare(b.name));
  // i64 first at 8-aligned addresses, then i32: the most used nearest 0 within each kind
  const at = new Map<string, number>();
  let next = 0;
  for (const g of [...moving.filter((g) => g.type === "i64"), ...moving.filter((g) => g.type === "i32")]) {
    at.set(g.name, next);
    next += g.type === "i64" ? 8 : 4;
  }
  if (next > LOW_MEMORY_END) throw new Error(`globals-to-memory: ${next} bytes of globals do not fit below ${LOW_MEMORY_END}`);
  const image = new Array<number>(next).fill(0);
  for (const g of moving) image.splice(at.get(g.name)!, g.type === "i32" ? 4 : 8, ...dataBytes(g.type, g.init));
  let out = wat.replace(GLOBAL_DECL, (line, name: string) => (at.has(name) ? "" : line));
  out = out.replace(ACCESS, (whole, op: string, name: string) => {
    const a = at.get(name);
    if (a === undefined) return whole;
    const type = globals.get(name)!.type;
    // the access's own closing paren (after the set's value) now closes the load or store
    return `(${type}.${op === "get" ? "load" : "store"} offset=${a} (i32.const 0)`;
  });
  const first = image.findIndex((b) => b !== 0);
  if (first >= 0) {
    let last = image.length - 1;
    while (image[last] === 0) last--;
    const esc = image.slice(first, last + 1).map((b) => "\\" + b.toString(16).padStart(2, "0")).join("");
    out = out.replace(/^( \(data )/m, ` (data $pw_globals (i32.const ${first}) "${esc}")\n$1`);
  }
  return { wat: out, moved: moving.length, kept: globals.size - moving.length, bytes: next };
}
