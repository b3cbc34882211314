// Every suite lives in a tier's folder (docs/TESTING.md, "Tiers: where a test goes"), so that its tier's
// npm script runs it, and the C host's runs (test:posix*) take the protocol folder whole.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";

const TIERS = ["core", "protocol", "system", "firmware"];

describe("tests in tiers", () => {
  it("every suite is in test/core, test/protocol, test/system or test/firmware", () => {
    const suites = readdirSync(join(ROOT, "test"), { recursive: true, encoding: "utf8" })
      .map((f) => `test/${f.split("\\").join("/")}`)
      .filter((f) => f.endsWith(".test.ts"));
    expect(suites.length).toBeGreaterThan(40);
    const astray = suites.filter((f) => !TIERS.some((t) => f.startsWith(`test/${t}/`)));
    expect(astray, "move each into the folder of its tier (docs/TESTING.md)").toEqual([]);
  });

  it("each tier has its npm script, and the C host runs the protocol folder", () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
    for (const t of TIERS) expect(scripts[`test:${t}`], `test:${t}`).toMatch(new RegExp(`vitest run test/${t}/$`));
    for (const s of ["test:posix", "test:posix-wasm3"]) expect(scripts[s], s).toMatch(/vitest run test\/protocol\/$/);
  });
});
