// Tests that need an external input (a firmware build, the RP2040 bootrom, a system tool): without it they
// are skipped with a banner, except under CI=true, where a missing input is a failure (CI provides them all).
import { describe, it } from "vitest";

/** describe(name, body) when nothing is missing; else a loud skip, or under CI one failing test naming
 *  what is missing. */
export function describeWithInputs(name: string, missing: string[], body: () => void): void {
  if (!missing.length) return void describe(name, body);
  if (process.env.CI === "true") {
    describe(name, () => it("has its inputs (CI=true: missing inputs fail)", () => {
      throw new Error(`missing: ${missing.join("; ")}`);
    }));
    return;
  }
  console.warn(`\n${"!".repeat(100)}\n!!! SKIPPED: ${name}\n!!! missing: ${missing.join("\n!!!          ")}\n${"!".repeat(100)}\n`);
  describe.skip(name, body);
}
