// The firmware inputs `npm run deps` prepared in .deps/ (tools/build/deps.ts): where PICO_SDK_PATH,
// picotool_DIR, WASM3_PATH or RP2040_BOOTROM are not set, they are taken from .deps/env.json. A user's own
// variables always win, so an SDK of their own keeps working as before.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
export const DEPS_DIR = join(REPO_ROOT, ".deps");
export const DEPS_ENV_JSON = join(DEPS_DIR, "env.json");
export const DEPS_ENV_KEYS = ["PICO_SDK_PATH", "picotool_DIR", "WASM3_PATH", "RP2040_BOOTROM"] as const;

/** Fills the unset firmware variables from .deps/env.json; returns the names it set. */
export function loadDepsEnv(env: NodeJS.ProcessEnv = process.env, file = DEPS_ENV_JSON): string[] {
  if (!existsSync(file)) return [];
  let saved: Record<string, string>;
  try {
    saved = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (run npm run deps again): ${(e as Error).message}`);
  }
  const set: string[] = [];
  for (const key of DEPS_ENV_KEYS) {
    if (env[key] || typeof saved[key] !== "string") continue;
    env[key] = saved[key];
    set.push(key);
  }
  return set;
}

loadDepsEnv();
