// The host ABI has one source of truth (assembly/abi/spec.json): the generated AssemblyScript, C and
// TypeScript views must be current, build/picowire.wasm must match it, and hosts refuse any other core.
import { describe, it, expect } from "vitest";
import binaryen from "binaryen";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpec, staleOutputs, ROOT, type AbiFunction } from "../../tools/abi/generate.ts";
import { ABI_VERSION, C } from "../../tools/host/abi.generated.ts";
import { compileCore, Core, AbiError } from "../../tools/host/core.ts";
import { wasmBytes, FakeHost } from "../helpers/core.ts";
import { fakeCoreWat, type Misfit } from "../helpers/fake-core.ts";

const spec = loadSpec();

/** Imported and exported functions of a wasm binary with their signatures, read by binaryen. */
function signatures(bytes: Uint8Array) {
  const m = binaryen.readBinary(bytes);
  const sig = (fn: binaryen.FunctionRef) => {
    const info = binaryen.getFunctionInfo(fn);
    return { info, params: binaryen.expandType(info.params).length, result: info.results !== binaryen.none, allI32: [...binaryen.expandType(info.params), ...binaryen.expandType(info.results)].every((t) => t === binaryen.i32) };
  };
  const imports = new Map<string, ReturnType<typeof sig>>();
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const s = sig(m.getFunctionByIndex(i));
    if (s.info.module) imports.set(`${s.info.module}.${s.info.base}`, s);
  }
  const exports = new Map<string, ReturnType<typeof sig>>();
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = binaryen.getExportInfo(m.getExportByIndex(i));
    if (e.kind === binaryen.ExternalFunction) exports.set(e.name, sig(m.getFunction(e.value)));
  }
  m.dispose();
  return { imports, exports };
}

function matches(fn: AbiFunction, s: { params: number; result: boolean; allI32: boolean }) {
  return s.params === fn.params.length && s.result === (fn.result !== null) && s.allI32;
}

/** The fake core of test/helpers/fake-core.ts, as a binary. */
function fakeCore(o: Misfit = {}): Uint8Array {
  const m = binaryen.parseText(fakeCoreWat(o));
  const out = m.emitBinary();
  m.dispose();
  return out;
}

describe("ABI source of truth", () => {
  it("generated views are current (npm run gen)", () => {
    expect(staleOutputs()).toEqual([]);
  });

  it("the core exports every ABI function with the spec's signature, and abi_version", () => {
    const { exports } = signatures(wasmBytes);
    for (const f of spec.exports) {
      expect(exports.has(f.name), `export ${f.name}`).toBe(true);
      expect(matches(f, exports.get(f.name)!), `signature of export ${f.name}`).toBe(true);
    }
    expect(new Core(compileCore(wasmBytes), new FakeHost().imports()).exports.abi_version()).toBe(spec.version);
  });

  it("the core imports only from its host module, only spec functions, with the spec's signatures", () => {
    const { imports } = signatures(wasmBytes);
    expect(imports.size).toBeGreaterThan(0);
    for (const [name, s] of imports) {
      const [mod, base] = name.split(".");
      expect(mod).toBe(spec.module);
      const fn = spec.imports.find((f) => f.name === base);
      expect(fn, `import ${base} is in the spec`).toBeDefined();
      expect(matches(fn!, s), `signature of import ${base}`).toBe(true);
    }
  });

  it("the C header compiles and lists every import and export", () => {
    const cc = ["cc", "gcc", "clang"].find((c) => spawnSync(c, ["--version"]).status === 0);
    if (!cc) throw new Error("no C compiler: install gcc (apt-get install gcc) to check native/host/picowire_abi.h");
    const dir = mkdtempSync(join(tmpdir(), "abi-"));
    const src = join(dir, "check.c");
    writeFileSync(src, `#include "picowire_abi.h"
#define COUNT(name, sig, ret, params) + 1
_Static_assert(0 PW_ABI_IMPORTS(COUNT) == ${spec.imports.length}, "imports");
_Static_assert(0 PW_ABI_EXPORTS(COUNT) == ${spec.exports.length}, "exports");
_Static_assert(PW_ABI_VERSION == ${spec.version}, "version");
_Static_assert(PW_IO_CAPACITY == ${C.IO_CAPACITY}, "io");
#define PROTO(name, sig, ret, params) ret pw_import_##name params;
PW_ABI_IMPORTS(PROTO)
`);
    const r = spawnSync(cc, ["-fsyntax-only", "-Wall", "-Werror", "-I", join(ROOT, "native/host"), src], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("hosts refuse a mismatched core", () => {
  it("accepts a module that matches (the fake is well-formed)", () => {
    expect(() => new Core(compileCore(fakeCore()), new FakeHost().imports())).not.toThrow();
  });

  it("refuses another ABI version with a clear error", () => {
    const run = () => new Core(compileCore(fakeCore({ abi: ABI_VERSION + 1 })), new FakeHost().imports());
    expect(run).toThrow(AbiError);
    expect(run).toThrow(`core speaks ABI v${ABI_VERSION + 1}, this host speaks v${ABI_VERSION}`);
  });

  it("refuses imports outside the host module or the spec", () => {
    expect(() => compileCore(fakeCore({ extraImport: '(import "env" "abort" (func))' }))).toThrow(/may only import from "picowire"/);
    expect(() => compileCore(fakeCore({ extraImport: '(import "picowire" "teleport" (func))' }))).toThrow(new RegExp(`picowire.teleport, which ABI v${ABI_VERSION} does not define`));
  });

  it("refuses a core missing an export", () => {
    expect(() => compileCore(fakeCore({ drop: "tcp_data" }))).toThrow(new RegExp(`lacks exports required by ABI v${ABI_VERSION}: tcp_data`));
  });

  it("refuses bytes that are not WebAssembly", () => {
    expect(() => compileCore(new TextEncoder().encode("GET Data"))).toThrow(/not a valid WebAssembly module/);
  });
});
