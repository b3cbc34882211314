// Tests that need an input from outside the repository (the Pico SDK, wasm3, the RP2040 boot ROM, a
// compiler, Chromium, mosquitto, root for network namespaces): where one is missing they are skipped,
// loudly, on a developer's machine, and they FAIL in CI (CI=true), where `.ci/run` provides every input;
// a tier that quietly stops running is how a broken firmware lands.
//
//   const { describe } = needs(["PICO_SDK_PATH is not set", ...]);   // [] or null: nothing missing
//   describe("the firmware", () => { ... });
import { spawnSync } from "node:child_process";
import { describe as vDescribe, it as vIt } from "vitest";
import { wasm3Env } from "../../tools/build/firmware.ts";

/** CI sets CI=true (GitHub, GitLab and `.ci/run`'s caller all do). */
export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? "");

type Missing = string | readonly (string | null | undefined | false)[] | null | undefined | false;

function list(missing: Missing): string[] {
  if (!missing) return [];
  if (typeof missing === "string") return [missing];
  return missing.filter((m): m is string => typeof m === "string" && m.length > 0);
}

const warned = new Set<string>();
function banner(what: string, items: string[]): void {
  const key = `${what}\0${items.join("\0")}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(
    `\n${"!".repeat(100)}\n!!! SKIPPED: ${what} did NOT run. Missing:\n${items.map((m) => `!!!   - ${m}`).join("\n")}\n` +
      `!!! (in CI, CI=true, this is a failure; \`npm run deps -- firmware-deps.tar.xz\` provides the firmware inputs)\n${"!".repeat(100)}\n`,
  );
}

/** describe/it that run when nothing is missing; otherwise skip loudly, or fail naming the inputs in CI. */
export function needs(missing: Missing) {
  const items = list(missing);
  const failure = () => {
    throw new Error(`missing input in CI: ${items.join("; ")}`);
  };
  return {
    missing: items,
    describe: ((name: string, ...rest: unknown[]) => {
      if (items.length === 0) return (vDescribe as (...a: unknown[]) => void)(name, ...rest);
      if (IN_CI) return vDescribe(name, () => vIt(`has its inputs (${items.join("; ")})`, failure));
      banner(`describe("${name}")`, items);
      return (vDescribe.skip as (...a: unknown[]) => void)(name, ...rest);
    }) as typeof vDescribe,
    it: ((name: string, ...rest: unknown[]) => {
      if (items.length === 0) return (vIt as (...a: unknown[]) => void)(name, ...rest);
      if (IN_CI) return vIt(`${name} (has its inputs: ${items.join("; ")})`, failure);
      banner(`it("${name}")`, items);
      return (vIt.skip as (...a: unknown[]) => void)(name, ...rest);
    }) as typeof vIt,
  };
}

/** Whether `cmd --version` runs here: how the suites probe for a tool. */
export function commandRuns(cmd: string): boolean {
  const r = spawnSync(cmd, ["--version"], { stdio: "ignore", timeout: 10_000 });
  return !r.error && r.status === 0;
}

/** What tools/native/build-posix.sh (the C host on this computer) needs and is missing. */
export function nativeHostMissing(): string[] {
  return [
    commandRuns("wasm2c") ? null : "wasm2c (apt-get install wabt)",
    commandRuns("cmake") ? null : "cmake",
    commandRuns("cc") || commandRuns("gcc") || commandRuns("clang") ? null : "a C compiler",
  ].filter((m): m is string => m !== null);
}

/** The wasm3 engine's sources (WASM3_PATH), or why they are missing. */
export function wasm3Missing(): string | null {
  return wasm3Env().missing ?? null;
}
