// Where the CLI finds the core: the same build/picowire.wasm the tests and the firmware use.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../abi/generate.ts";

export const DEFAULT_WASM = join(ROOT, "build", "picowire.wasm");

export function readCore(path = DEFAULT_WASM): Uint8Array {
  if (!existsSync(path)) throw new Error(`${path} not found: run \`npm run build\` first`);
  return readFileSync(path);
}
