// A short round of every libFuzzer target (npm run fuzz) on the identical wasm, so CI exercises the
// fuzz build and finds shallow crashes; long runs: npm run fuzz -- --seconds N.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../tools/abi/generate.ts";
import { needs } from "./helpers/inputs.ts";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const ready = has("wasm2c") && (has("clang-19") || has("clang"));

needs(ready ? null : "wasm2c and clang-19 with libFuzzer (apt-get install wabt clang-19 libclang-rt-19-dev)").describe("fuzzing (short round)", () => {
  it("builds every target with ASan+UBSan and finds no crash in 5 s each", () => {
    const r = spawnSync("bash", [join(ROOT, "tools/fuzz/run.sh"), "--seconds", "5"], { encoding: "utf8", timeout: 240_000 });
    expect(r.stderr + r.stdout).toMatch(/fuzz: no crashes/);
    expect(r.status).toBe(0);
    for (const t of ["rgb", "json", "http", "frame", "mqtt"]) expect(r.stdout).toContain(`fuzz: ${t}`);
  }, 240_000);
});
