// tools/build/function-order.ts: the WebSocket path's functions first (wasm3 lays the compiled code out
// in module order), and the module computing exactly what it computed before.
import { describe, it, expect } from "vitest";
import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hotFirst } from "../../tools/build/function-order.ts";
import { parseModule } from "../../tools/wasm/inspect.ts";

const WAT = `(module
 (func $cold (param $0 i32) (result i32) (i32.mul (local.get $0) (i32.const 3)))
 (func $a/hot/one (export "one") (param $0 i32) (result i32) (call $cold (i32.add (local.get $0) (call $b/warm (local.get $0)))))
 (func $b/warm (param $0 i32) (result i32) (i32.sub (local.get $0) (i32.const 1)))
 (func $cold2 (export "two") (param $0 i32) (result i32) (call $a/hot/one (call $b/warm (local.get $0))))
)`;

function emit(text: string): Uint8Array {
  const m = binaryen.parseText(text);
  expect(m.validate()).toBeTruthy();
  const b = m.emitBinary();
  m.dispose();
  return b;
}

describe("function-order", () => {
  it("puts the named prefixes first, in their order, and the module computes the same", async () => {
    const m = binaryen.parseText(WAT);
    binaryen.setDebugInfo(true);
    const text = m.emitText();
    binaryen.setDebugInfo(false);
    m.dispose();
    const r = hotFirst(text, ["$a/hot/", "$b/"]);
    expect(r.moved).toBe(2);
    expect([...r.wat.matchAll(/^ \(func (\$\S+)/gm)].map((x) => x[1])).toEqual(["$a/hot/one", "$b/warm", "$cold", "$cold2"]);
    const run = async (t: string) => (await WebAssembly.instantiate(emit(t))).instance.exports as { one(n: number): number; two(n: number): number };
    const [before, after] = [await run(text), await run(r.wat)];
    for (const n of [0, 5, -7, 1 << 29]) {
      expect(after.one(n)).toBe(before.one(n));
      expect(after.two(n)).toBe(before.two(n));
    }
  });

  it("starts the built core (build/picowire.wasm) with tcp_data's export", () => {
    const bytes = readFileSync(join(import.meta.dirname, "..", "..", "build", "picowire.wasm"));
    const core = parseModule(bytes);
    const tcp = core.exports.find((e) => e.name === "tcp_data");
    expect(tcp?.index).toBe(core.importedFuncs);
  });
});
