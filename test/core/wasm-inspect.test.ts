// The inspector guards what runs on the board (no floats, only wasm3's features), so it is tested on
// hand-assembled modules whose every byte we know, cross-checked against the engine's own validator.
import { describe, it, expect } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { callGraph, featuresUsed, floatDeclarations, floatInstructions, parseModule, WasmError } from "../../tools/wasm/inspect.ts";
import { ALLOWED_FEATURES, checkBudgets, controlDepths, groupByCallGraph, protocolOf, staticDataEnd } from "../../tools/wasm/size.ts";
import binaryen from "binaryen";

// ---- a tiny assembler: just enough encoding helpers to write modules by hand ----
const leb = (n: number): number[] => {
  const out: number[] = [];
  do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n);
  return out;
};
const str = (s: string) => [...leb(s.length), ...new TextEncoder().encode(s)];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const wasm = (...sections: number[][]) => new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...sections.flat()]);
const I32 = 0x7f, F64 = 0x7c;
const type = (params: number[], results: number[]) => [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
const body = (code: number[], locals: number[][] = []) => { const b = [...vec(locals), ...code]; return [...leb(b.length), ...b]; };
const types = (...t: number[][]) => section(1, vec(t));
const funcs = (...typeIdx: number[]) => section(3, vec(typeIdx.map((t) => leb(t))));
const code = (...bodies: number[][]) => section(10, vec(bodies));
const exports = (...e: [string, number, number][]) => section(7, vec(e.map(([n, k, i]) => [...str(n), k, ...leb(i)])));
const memory = (flags: number, ...limits: number[]) => section(5, vec([[flags, ...limits.flatMap(leb)]]));
const names = (...n: [number, string][]) => section(0, [...str("name"), ...section(1, vec(n.map(([i, s]) => [...leb(i), ...str(s)])))]);

// f64.add (func 0) next to an i32-only add (func 1)
const mixed = wasm(
  types(type([F64, F64], [F64]), type([I32, I32], [I32])),
  funcs(0, 1),
  exports(["fadd", 0, 0], ["iadd", 0, 1]),
  code(body([0x20, 0, 0x20, 1, 0xa0, 0x0b]), body([0x20, 0, 0x20, 1, 0x6a, 0x0b])),
);

// an i32-only module with every other section the board build has
const full = wasm(
  types(type([I32], []), type([], [I32])),
  section(2, vec([[...str("env"), ...str("log"), 0x00, 0x00]])), // import env.log: func type 0
  funcs(1),
  memory(0x01, 1, 1),
  section(6, vec([[I32, 0x01, 0x41, 42, 0x0b]])), // (global (mut i32) (i32.const 42))
  exports(["run", 0, 1], ["memory", 2, 0]),
  code(body([0x41, 7, 0x10, 0, 0x23, 0, 0x0b], [[2, I32]])), // i32.const 7; call 0; global.get 0; end
  section(11, vec([[0x00, 0x41, 16, 0x0b, ...str("hi!")]])), // data at 16: "hi!"
  names([0, "env.log"], [1, "assembly/rgb/codec/parseText"]),
);

describe("parseModule on hand-assembled modules", () => {
  it("the test modules are valid wasm (so the expectations below are about real modules)", () => {
    expect(WebAssembly.validate(mixed)).toBe(true);
    expect(WebAssembly.validate(full)).toBe(true);
  });

  it("reads types, functions, exports and body sizes", () => {
    const m = parseModule(mixed);
    expect(m.types).toEqual([{ params: ["f64", "f64"], results: ["f64"] }, { params: ["i32", "i32"], results: ["i32"] }]);
    expect(m.funcs.map((f) => [f.index, f.typeIndex, f.bodySize, f.entrySize])).toEqual([[0, 0, 7, 8], [1, 1, 7, 8]]);
    expect(m.funcs[0].instructions.map((i) => i.name)).toEqual(["local.get", "local.get", "f64.add", "end"]);
    expect(m.funcs[1].instructions.map((i) => i.name)).toEqual(["local.get", "local.get", "i32.add", "end"]);
    expect(m.exports).toEqual([{ name: "fadd", kind: "func", index: 0 }, { name: "iadd", kind: "func", index: 1 }]);
    expect(m.sections.reduce((n, s) => n + s.size, 8)).toBe(mixed.length);
  });

  it("reads imports, memory, globals, data, locals and the name section", () => {
    const m = parseModule(full);
    expect(m.imports).toEqual([{ module: "env", name: "log", kind: "func", typeIndex: 0, sig: { params: ["i32"], results: [] } }]);
    expect(m.importedFuncs).toBe(1);
    expect(m.memories).toEqual([{ initial: 1, maximum: 1, shared: false, memory64: false }]);
    expect(m.globals).toMatchObject([{ index: 0, type: "i32", mutable: true, init: [{ name: "i32.const", args: [42] }, { name: "end" }] }]);
    expect(m.data).toMatchObject([{ mode: "active", offset: 16, size: 3 }]);
    expect(m.funcs[0]).toMatchObject({ index: 1, name: "assembly/rgb/codec/parseText", locals: ["i32", "i32"] });
    expect(m.funcs[0].instructions.map((i) => [i.name, ...i.args])).toEqual([["i32.const", 7], ["call", 0], ["global.get", 0], ["end"]]);
    expect(m.exports[1]).toEqual({ name: "memory", kind: "memory", index: 0 });
    expect(staticDataEnd(m)).toBe(19);
    expect(callGraph(m).get(1)).toEqual(new Set([0]));
  });

  it("decodes signed LEB immediates, including negative and 5-byte ones", () => {
    const m = parseModule(wasm(types(type([], [])), funcs(0), code(body([
      0x41, 0x7f, 0x1a, // i32.const -1
      0x41, 0x80, 0x80, 0x80, 0x80, 0x78, 0x1a, // i32.const -2^31 (5 bytes)
      0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1a, // i64.const 2^63-1 (10 bytes)
      0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x1a, // f64.const 1.5
      0x0b]))));
    expect(m.funcs[0].instructions.filter((i) => i.args.length).map((i) => i.args[0])).toEqual([-1, -(2 ** 31), 2 ** 63, 1.5]);
  });
});

describe("float detection", () => {
  it("finds exactly the f64 function's float instructions, none in the i32 one", () => {
    const found = floatInstructions(parseModule(mixed));
    expect(found.map((f) => f.opcode)).toEqual(["local.get", "local.get", "f64.add"]); // the gets read f64 params
    expect(new Set(found.map((f) => f.func))).toEqual(new Set([0]));
    expect(found[2]).toMatchObject({ funcName: "export:fadd", offset: mixed.indexOf(0xa0) });
    expect(floatDeclarations(parseModule(mixed))).toEqual(["type 0 (f64 f64) -> (f64)", "function export:fadd (f64 f64) -> (f64)"]);
  });

  it("reports nothing for an i32-only module", () => {
    expect(floatInstructions(parseModule(full))).toEqual([]);
    expect(floatDeclarations(parseModule(full))).toEqual([]);
  });

  it("catches floats hidden in loads, consts, conversions, reinterprets, saturating truncations and locals", () => {
    const m = parseModule(wasm(types(type([], [])), funcs(0), memory(0, 1), code(body([
      0x41, 0, 0x2a, 2, 0, 0x1a, // f32.load; drop
      0x41, 0, 0xb7, 0x1a, // f64.convert_i32_s
      0x41, 0, 0xbe, 0xbc, 0x1a, // f32.reinterpret_i32; i32.reinterpret_f32
      0x43, 0, 0, 0, 0, 0xfc, 0x00, 0x1a, // f32.const; i32.trunc_sat_f32_s
      0x20, 0, 0x1a, // local.get of an f64 local
      0x41, 0, 0xc0, 0x1a, // i32.extend8_s: not a float
      0x0b], [[1, F64]]))));
    expect(floatInstructions(m).map((f) => f.opcode)).toEqual([
      "f32.load", "f64.convert_i32_s", "f32.reinterpret_i32", "i32.reinterpret_f32", "f32.const", "i32.trunc_sat_f32_s", "local.get"]);
    expect(floatDeclarations(m)).toEqual(["function func[0] has 1 float local(s)"]);
  });
});

describe("feature detection", () => {
  // one function of type 0; `extra` holds sections that sit between function and code (memory)
  const single = (ops: number[], extra: number[][] = [], t = [type([], [])]) => wasm(types(...t), funcs(0), ...extra, code(body(ops)));
  const cases: [string, ReturnType<typeof wasm>, string[]][] = [
    ["i32 only", mixed.slice(), ["mvp"]],
    ["sign-ext", single([0x41, 1, 0xc0, 0x1a, 0x0b]), ["mvp", "sign-ext"]],
    ["nontrapping-f2i", single([0x43, 0, 0, 0, 0, 0xfc, 0x00, 0x1a, 0x0b]), ["mvp", "nontrapping-f2i"]],
    ["bulk-memory", single([0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0b, 0x00, 0x0b], [memory(0, 1)]), ["mvp", "bulk-memory"]],
    ["multi-value", single([0x02, 0x01, 0x41, 1, 0x41, 2, 0x0b, 0x1a, 0x1a, 0x0b], [], [type([], []), type([], [I32, I32])]), ["mvp", "multi-value"]],
    // a block taking a param: only the block type (a type index) needs multi-value here
    ["block params", single([0x41, 1, 0x02, 0x01, 0x0b, 0x1a, 0x0b], [], [type([], []), type([I32], [I32])]), ["mvp", "multi-value"]],
    ["simd", single([0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, 0x0b]), ["mvp", "simd"]],
    ["threads", single([0x41, 0, 0xfe, 0x10, 2, 0, 0x1a, 0x0b], [memory(0x03, 1, 1)]), ["mvp", "threads"]],
    ["reference-types", single([0xd0, 0x70, 0xd1, 0x1a, 0x0b]), ["mvp", "reference-types"]],
    ["tail-call", single([0x12, 0, 0x0b]), ["mvp", "tail-call"]],
    ["exceptions", single([0x06, 0x40, 0x0b, 0x0b]), ["mvp", "exceptions"]],
    ["mutable-globals", wasm(section(2, vec([[...str("env"), ...str("g"), 0x03, I32, 0x01]]))), ["mvp", "mutable-globals"]],
  ];
  for (const [name, bytes, expected] of cases) {
    it(`${name}: reports ${expected.join(", ")}`, () => {
      expect(WebAssembly.validate(bytes)).toBe(true);
      expect(featuresUsed(parseModule(bytes))).toEqual(expected);
    });
  }

  it("decodes past SIMD immediates (shuffle, lanes) so later instructions are still seen", () => {
    const bytes = single([0xfd, 0x0c, ...new Array(16).fill(0), 0xfd, 0x0c, ...new Array(16).fill(0),
      0xfd, 0x0d, ...new Array(16).fill(1), 0xfd, 0x15, 3, 0xc0, 0x1a, 0x0b]);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const m = parseModule(bytes);
    expect(m.funcs[0].instructions.map((i) => i.name)).toEqual(["v128.const", "v128.const", "simd.0x0d", "simd.0x15", "i32.extend8_s", "drop", "end"]);
  });
});

describe("malformed input throws clear errors", () => {
  it("rejects bad magic and bad version", () => {
    expect(() => parseModule(new TextEncoder().encode("\x7fELF\x02\x01\x01\x00"))).toThrow(/bad magic: not a WebAssembly binary/);
    expect(() => parseModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]))).toThrow(/unsupported wasm binary version/);
    expect(() => parseModule(new Uint8Array([0, 0x61, 0x73]))).toThrow(/truncated module.*8-byte header/);
  });

  it("agrees with the engine on every truncation of a valid module: only section boundaries parse", () => {
    for (let n = 0; n < full.length; n++) {
      const cut = full.slice(0, n);
      if (WebAssembly.validate(cut)) expect(() => parseModule(cut)).not.toThrow();
      else expect(() => parseModule(cut), `prefix of ${n} bytes`).toThrow(WasmError);
    }
    expect(() => parseModule(mixed.slice(0, -3))).toThrow(/truncated/);
  });

  it("rejects over-long and overflowing LEB128s", () => {
    const longSize = wasm([1, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00]);
    expect(() => parseModule(longSize)).toThrow(/bad LEB128 .*longer than 5 bytes/);
    const overflow = wasm(types(type([], [])), funcs(0), code(body([0x41, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x1a, 0x0b])));
    expect(WebAssembly.validate(overflow)).toBe(false);
    expect(() => parseModule(overflow)).toThrow(/bad LEB128 .*exceeds 32 bits/);
    const bigIndex = wasm(types(type([], [])), funcs(0), code(body([0x20, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x1a, 0x0b]))); // local.get 2^33-1
    expect(() => parseModule(bigIndex)).toThrow(/bad LEB128 .*exceeds 32 bits/);
  });

  it("rejects unknown opcodes and bodies that do not end where they say", () => {
    expect(() => parseModule(wasm(types(type([], [])), funcs(0), code(body([0xff, 0x0b]))))).toThrow(/unknown or unsupported opcode 0xff/);
    expect(() => parseModule(wasm(types(type([], [])), funcs(0), code(body([0x0b, 0x01]))))).toThrow(/after its final end/);
    expect(() => parseModule(wasm(types(type([], [])), funcs(0)))).toThrow(/no code section/);
  });
});

describe("budgets and grouping", () => {
  it("flags floats, forbidden features and memory without a cap", () => {
    expect(checkBudgets(full)).toEqual([]);
    expect(checkBudgets(mixed).join("\n")).toMatch(/3 float instruction\(s\), e.g. local.get in export:fadd/);
    expect(checkBudgets(mixed).join("\n")).toMatch(/the module has 0 memories/);
    const simd = wasm(types(type([], [])), funcs(0), memory(1, 1, 1), code(body([0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, 0x0b])));
    expect(checkBudgets(simd)).toEqual([expect.stringMatching(/^features: uses simd/)]);
    expect(checkBudgets(wasm(memory(0, 1)))).toEqual([expect.stringMatching(/no maximum declared/)]);
    expect(checkBudgets(wasm(memory(1, 1, 2)))).toEqual([expect.stringMatching(/declares max 2 pages/)]);
    expect(checkBudgets(new Uint8Array([1, 2, 3]))[0]).toMatch(/not a readable wasm module/);
  });

  it("flags a module too big and static data past the 40 KiB cap", () => {
    const blob = new Array(90000).fill(1);
    const big = wasm(memory(1, 1, 1), section(11, vec([[0x00, 0x41, ...leb(0), 0x0b, ...leb(blob.length), ...blob]])));
    const v = checkBudgets(big);
    expect(v).toHaveLength(2);
    expect(v[0]).toMatch(/wasm size: \d+ bytes is over the 81664-byte .*an OTA slot holds 81664 bytes/);
    expect(v[1]).toMatch(/static data ends at 90000, not below the 40960-byte cap/);
  });

  it("maps debug names to protocols and groups code by export call graph", () => {
    expect(["assembly/rgb/codec/parseText", "~lib/rt/stub/__alloc", "start:assembly/config", "assembly/index/x"].map(protocolOf))
      .toEqual(["rgb", "stdlib", "config", "index"]);
    // a=0 -> 2 -> 4 and b=1 -> 3 -> 4: 4 is shared; 5 is never called. Call bodies are 5-byte entries, nops 4.
    const m = parseModule(wasm(types(type([], [])), funcs(0, 0, 0, 0, 0, 0), exports(["a", 0, 0], ["b", 0, 1]),
      code(body([0x10, 2, 0x0b]), body([0x10, 3, 0x0b]), body([0x10, 4, 0x0b]), body([0x10, 4, 0x0b]), body([0x01, 0x0b]), body([0x01, 0x0b]))));
    expect(Object.fromEntries(groupByCallGraph(m))).toEqual({
      a: { funcs: 2, bytes: 10 }, b: { funcs: 2, bytes: 10 }, shared: { funcs: 1, bytes: 4 }, unreachable: { funcs: 1, bytes: 4 },
    });
  });
});

describe("build/picowire.wasm (built by: npx asc assembly/index.ts --target release)", () => {
  const path = fileURLToPath(new URL("../../build/picowire.wasm", import.meta.url));
  const read = () => {
    if (!existsSync(path)) throw new Error(`${path} is missing: run npx asc assembly/index.ts --target release first`);
    return new Uint8Array(readFileSync(path));
  };

  it("parses, and agrees with the engine on imports and exports", () => {
    const bytes = read(), m = parseModule(bytes), engine = new WebAssembly.Module(bytes);
    const js = (k: string) => (k === "func" ? "function" : k); // the JS API spells it out
    expect(m.imports.map((i) => [i.module, i.name, js(i.kind)])).toEqual(WebAssembly.Module.imports(engine).map((i) => [i.module, i.name, i.kind]));
    expect(m.exports.map((e) => [e.name, js(e.kind)])).toEqual(WebAssembly.Module.exports(engine).map((e) => [e.name, e.kind]));
    expect(m.exports.map((e) => e.name)).toEqual(expect.arrayContaining(["init", "memory", "abi_version"]));
    expect(m.funcs.reduce((n, f) => n + f.instructions.length, 0)).toBeGreaterThan(1000);
  });

  it("has no float instructions or declarations, only allowed features, and meets every budget", () => {
    const bytes = read(), m = parseModule(bytes);
    expect(floatInstructions(m)).toEqual([]);
    expect(floatDeclarations(m)).toEqual([]);
    expect(featuresUsed(m).filter((f) => !ALLOWED_FEATURES.has(f))).toEqual([]);
    expect(checkBudgets(bytes)).toEqual([]);
  });
});

describe("control nesting budget (wasm3 d_m3ValCtrlDepth = 32)", () => {
  const nested = (n: number) => {
    // a br_table to every label keeps each block (unused ones would be dropped when emitted)
    const labels = Array.from({ length: n }, (_, i) => `$b${i}`);
    const body = labels.map((l) => `(block ${l} `).join("") + `(br_table ${labels.join(" ")} (i32.const 0))` + ")".repeat(n);
    const m = binaryen.parseText(`(module (memory 1 1) (func (export "f") ${body}))`);
    m.setFeatures(binaryen.Features.MVP);
    const out = m.emitBinary();
    m.dispose();
    return out;
  };
  it("passes 31 nested blocks and refuses 32, naming the function", () => {
    expect(controlDepths(parseModule(nested(31)))[0].depth).toBe(32);
    expect(checkBudgets(nested(31)).filter((b) => b.startsWith("nesting"))).toEqual([]);
    expect(checkBudgets(nested(32)).join("\n")).toMatch(/nesting: .* nests 33 control frames; the board's wasm3 loads at most 32/);
  });
});
