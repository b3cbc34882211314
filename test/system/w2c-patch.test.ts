// native/cmake/w2c_patch.cmake rewrites wasm2c's generated C (MEMCHECK, the load/store address, the offset
// add). Its output must not depend on CMake policy CMP0007 (list() and empty elements): under the NEW
// behaviour, the default from CMake 4.0 on, an earlier list-based version replaced every memory access of
// the translated core with an empty statement and still exited 0.
import { expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { needs, nativeHostMissing } from "../helpers/inputs.ts";

const PATCH = join(ROOT, "native/cmake/w2c_patch.cmake");

needs(nativeHostMissing()).describe("the wasm2c patch step (native/cmake/w2c_patch.cmake)", () => {
  it("writes the same C under CMP0007 OLD and NEW, with every load and store through PW_W2C_MEM_ADDR", () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-w2c-patch-"));
    const generated = join(dir, "core.c");
    const w2c = spawnSync("wasm2c", [join(ROOT, "build/picowire.wasm"), "-o", generated], { encoding: "utf8", timeout: 60_000 });
    expect(w2c.status, w2c.stderr).toBe(0);
    const patchWith = (policy: "OLD" | "NEW") => {
      const file = join(dir, `core-${policy}.c`);
      copyFileSync(generated, file);
      const script = join(dir, `patch-${policy}.cmake`);
      writeFileSync(script, `cmake_policy(SET CMP0007 ${policy})\ninclude("${PATCH}")\n`);
      const r = spawnSync("cmake", [`-DFILE=${file}`, "-P", script], { encoding: "utf8", timeout: 60_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      return readFileSync(file, "utf8");
    };
    const before = readFileSync(generated, "utf8");
    const oldPolicy = patchWith("OLD");
    const newPolicy = patchWith("NEW");
    expect(newPolicy === oldPolicy, "the patched C differs between CMP0007 OLD and NEW").toBe(true);
    expect(newPolicy).toContain("wasm_rt_memcpy(&result, PW_W2C_MEM_ADDR(mem, addr), sizeof(t1));");
    expect(newPolicy).toContain("wasm_rt_memcpy(PW_W2C_MEM_ADDR(mem, addr), &wrapped, sizeof(t1));");
    expect(newPolicy).not.toContain("wasm_rt_memcpy(&result, &mem->data[addr], sizeof(t1));");
    expect(newPolicy).toContain("#define MEMCHECK(mem, a, t) PW_W2C_MEMCHECK(mem, a, t)");
    // every offset access of the core goes through the 32-bit add, as many as wasm2c wrote 64-bit ones
    const offsetAdds = before.match(/w2c_memory, \(u64\)\(w2c_[a-z0-9]+\) \+ [0-9]+u?/g) ?? [];
    expect(offsetAdds.length).toBeGreaterThan(100);
    expect(newPolicy.match(/w2c_memory, PW_W2C_EA\(w2c_[a-z0-9]+, [0-9]+u\)/g)?.length).toBe(offsetAdds.length);
  });

  it("fails, naming the file, on C that another wasm2c wrote", () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-w2c-patch-"));
    const file = join(dir, "other.c");
    writeFileSync(file, "/* not wabt 1.0.32's output */\n");
    const r = spawnSync("cmake", [`-DFILE=${file}`, "-P", PATCH], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`w2c_patch: ${file} does not define MEMCHECK`);
  });
});
