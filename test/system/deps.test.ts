// `npm run deps -- BUNDLE` (tools/build/deps.ts) refuses what is not the firmware bundle before it touches
// .deps/, and says how it is used; the bundle itself is prepared by .ci/run and every firmware suite reads it.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { loadDepsEnv } from "../../tools/build/deps-env.ts";

const deps = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "tools/build/deps.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

describe("npm run deps", () => {
  it("prints its usage and exits 2 without exactly one bundle", () => {
    for (const args of [[], ["a.tar.xz", "b.tar.xz"], ["--help"]]) {
      const r = deps(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("usage: npm run deps -- PATH/firmware-deps.tar.xz");
    }
  });

  it("refuses a missing file and a file that is not an xz archive, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-deps-"));
    const missing = deps(join(dir, "nope.tar.xz"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("nope.tar.xz: no such file");
    const text = join(dir, "firmware-deps.tar.xz");
    writeFileSync(text, "not an archive\n");
    const notXz = deps(text);
    expect(notXz.status).toBe(2);
    expect(notXz.stderr).toContain("firmware-deps.tar.xz: not an xz archive");
  });

  it("fills only the variables the user has not set, from .deps/env.json", () => {
    const file = join(mkdtempSync(join(tmpdir(), "pw-deps-")), "env.json");
    writeFileSync(file, JSON.stringify({ PICO_SDK_PATH: "/deps/pico-sdk", WASM3_PATH: "/deps/wasm3", OTHER: "x" }));
    const env: NodeJS.ProcessEnv = { PICO_SDK_PATH: "/my/own/sdk" };
    expect(loadDepsEnv(env, file)).toEqual(["WASM3_PATH"]);
    expect(env).toEqual({ PICO_SDK_PATH: "/my/own/sdk", WASM3_PATH: "/deps/wasm3" });
    writeFileSync(file, "{ not json");
    expect(() => loadDepsEnv({}, file)).toThrow(/env\.json is not valid JSON \(run npm run deps again\)/);
  });
});
