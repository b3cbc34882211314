// tools/build/globals-to-memory.ts: module globals moved into the core's low linear memory must behave
// exactly as the globals did (values, i64s, initial values, sets inside expressions), and the pass must
// refuse a module whose static data would overlap them.
import { describe, it, expect } from "vitest";
import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { globalsToMemory, LOW_MEMORY_END } from "../../tools/build/globals-to-memory.ts";
import { parseModule } from "../../tools/wasm/inspect.ts";

const WAT = `(module
 (memory $0 1 1)
 (data $d (i32.const 1024) "xy")
 (global $a (mut i32) (i32.const 7))
 (global $b (mut i64) (i64.const -2))
 (global $c (mut i32) (i32.const 0))
 (global $hot (mut i32) (i32.const 100))
 (export "memory" (memory $0))
 (func $bump (export "bump") (param $0 i32) (result i32)
  (global.set $c (i32.add (global.get $c) (local.get $0)))
  (global.set $hot (i32.add (global.get $hot) (i32.const 1)))
  (global.set $hot (i32.add (global.get $hot) (i32.const 1)))
  (global.get $hot)
  (global.get $hot)
  (drop)
  (drop)
  (global.get $c)
 )
 (func $mix (export "mix") (result i64)
  (global.set $b (i64.mul (global.get $b) (i64.extend_i32_s (global.get $a))))
  (global.get $b)
 )
)`;

function toText(wat: string): string {
  const m = binaryen.parseText(wat);
  const t = m.emitText();
  m.dispose();
  return t;
}

async function instance(wat: string) {
  const m = binaryen.parseText(wat);
  m.setFeatures(binaryen.Features.MVP);
  expect(m.validate()).toBeTruthy();
  const bin = m.emitBinary();
  m.dispose();
  const { instance } = await WebAssembly.instantiate(bin);
  return { e: instance.exports as { bump(n: number): number; mix(): bigint; memory: WebAssembly.Memory }, bin };
}

describe("globals-to-memory", () => {
  it("moves the globals used at most max times, and the module computes the same", async () => {
    const text = toText(WAT);
    const r = globalsToMemory(text, 3);
    expect(r.moved).toBe(3); // $a, $b, $c; $hot (6 uses) stays
    expect(r.kept).toBe(1);
    expect(r.wat).not.toMatch(/global\.(get|set) \$(a|b|c)\b/);
    const before = await instance(text);
    const after = await instance(r.wat);
    expect(parseModule(after.bin).globals.length).toBe(1);
    for (const n of [5, -3, 1 << 30]) expect(after.e.bump(n)).toBe(before.e.bump(n));
    for (let i = 0; i < 4; i++) expect(after.e.mix()).toBe(before.e.mix());
    // the values live below the static data: the i64 first, 8-aligned
    const mem = new DataView(after.e.memory.buffer);
    expect(mem.getBigInt64(0, true)).toBe(before.e.mix() / 7n);
    expect(new TextDecoder().decode(new Uint8Array(after.e.memory.buffer, 1024, 2))).toBe("xy");
  });

  it("refuses a module whose static data starts below the moved globals' area", () => {
    const text = toText(WAT.replace("(i32.const 1024)", "(i32.const 512)"));
    expect(() => globalsToMemory(text, 3)).toThrow(/static data starts at 512, below 1024/);
  });

  it("refuses more globals than fit below the static data", () => {
    const many = Array.from({ length: LOW_MEMORY_END / 4 + 1 }, (_, i) => ` (global $g${i} (mut i32) (i32.const ${i}))`).join("\n");
    const uses = Array.from({ length: LOW_MEMORY_END / 4 + 1 }, (_, i) => `(drop (global.get $g${i}))`).join(" ");
    const text = toText(`(module (memory 1 1) (data (i32.const 1024) "x")\n${many}\n (func $f (export "f") ${uses}))`);
    expect(() => globalsToMemory(text, 3)).toThrow(/do not fit below 1024/);
  });

  it("leaves the built core (build/picowire.wasm) with its low memory for globals only", () => {
    const core = parseModule(readFileSync(join(import.meta.dirname, "..", "..", "build", "picowire.wasm")));
    expect(core.globals.length).toBeLessThan(160); // 300 before the pass
    const low = core.data.filter((d) => d.offset !== undefined && d.offset < LOW_MEMORY_END);
    for (const d of low) expect(d.offset! + d.size).toBeLessThanOrEqual(LOW_MEMORY_END);
  });
});
