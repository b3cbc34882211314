// A short round of every libFuzzer target (npm run fuzz) on the identical wasm, so CI exercises the
// fuzz build and finds shallow crashes; then the snapshot every input starts from is checked against a
// fresh instance (PW_FUZZ_VERIFY), and the guard pages that bounds-check the core against a stray
// fault (PW_FUZZ_PROBE_FAULT). Long runs and exec/s: docs/FUZZING.md.
import { it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { needs } from "../helpers/inputs.ts";

const TARGETS = readdirSync(join(ROOT, "native/fuzz"))
  .map((f) => /^target_(\w+)\.c$/.exec(f)?.[1])
  .filter((t): t is string => !!t);
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const ready = has("wasm2c") && (has("clang-19") || has("clang"));

/** One fuzz binary over its seeds, then `runs` mutated inputs, with extra environment. */
function runTarget(t: string, runs: number, env: Record<string, string>) {
  const scratch = mkdtempSync(join(tmpdir(), `fuzz-${t}-`)); // new inputs stay out of the seeds
  try {
    return spawnSync(join(ROOT, `build/fuzz/fuzz_${t}`), [`-runs=${runs}`, "-max_len=512", `-artifact_prefix=${scratch}/`, scratch, join(ROOT, "test/fuzz/corpus", t)], {
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, ...env },
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

needs(ready ? null : "wasm2c and clang-19 with libFuzzer (apt-get install wabt clang-19 libclang-rt-19-dev)").describe("fuzzing (short round)", () => {
  it("names the seven targets, the control session and the bus datagrams among them", () => {
    expect(TARGETS.sort()).toEqual(["bus", "control", "frame", "http", "json", "mqtt", "rgb"]);
  });

  it("builds every target and finds no crash in 3 s each (the harness under AddressSanitizer too)", () => {
    const r = spawnSync("bash", [join(ROOT, "tools/fuzz/run.sh"), "--asan", "--seconds", "3"], { encoding: "utf8", timeout: 420_000 });
    expect(r.stderr + r.stdout).toMatch(/fuzz: no crashes/);
    expect(r.status).toBe(0);
    for (const t of TARGETS) expect(r.stdout).toMatch(new RegExp(`fuzz: ${t} \\d+ executions`));
  }, 420_000);

  it.each(TARGETS)("%s: an input run from the snapshot ends as on a fresh instance (seeds and 300 mutations)", (t) => {
    const r = runTarget(t, 300, { PW_FUZZ_VERIFY: "1" });
    expect(r.stderr).not.toMatch(/VERIFY FAILED|above its memory cap|ERROR/);
    expect(r.stderr).toMatch(/Done 300 runs|DONE/);
    expect(r.status).toBe(0);
  }, 120_000);

  it("a read past the core's memory is a wasm trap, a fault anywhere else is reported as itself", () => {
    const core = runTarget("http", 10, { PW_FUZZ_PROBE_FAULT: "core" });
    expect(core.stderr).toMatch(/core trapped: Out-of-bounds access in linear memory/);
    expect(core.status).not.toBe(0);
    const other = runTarget("http", 10, { PW_FUZZ_PROBE_FAULT: "other" });
    expect(other.stderr).toMatch(/SEGV on unknown address 0x0+10\b/);
    expect(other.stderr).not.toMatch(/core trapped/);
    expect(other.status).not.toBe(0);
  }, 120_000);

  it("the check notices a restore that forgets the wasm globals", () => {
    const r = runTarget("http", 50, { PW_FUZZ_VERIFY: "1", PW_FUZZ_BREAK_RESTORE: "1" });
    expect(r.stderr).toMatch(/VERIFY FAILED/);
    expect(r.status).not.toBe(0);
  }, 120_000);
});
