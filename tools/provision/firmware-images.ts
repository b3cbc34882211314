// The firmware images a package carries (build/picowire.uf2, build/picowire-wasm2c.uf2) and their
// manifest, build/firmware.json: each image's own SHA-256 and the SHA-256 of the core it embeds.
// tools/build/firmware.ts writes it after a build; `npm pack` (tools/build/pack.ts) refuses a package
// whose images are missing or embed another core than its build/picowire.wasm; `picowire flash` checks
// the image it writes against it.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readUf2Blocks, RP2040_FAMILY_ID } from "./uf2.ts";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
export type Engine = "wasm3" | "wasm2c";
/** What a board is flashed with by default (the wasm3 image in a package) and the wasm2c image, as
 *  package-relative paths. */
export const DEFAULT_IMAGE = "build/picowire.uf2";
export const WASM2C_IMAGE = "build/picowire-wasm2c.uf2";
export const CORE = "build/picowire.wasm";
export const MANIFEST = "build/firmware.json";

export interface ImageEntry {
  file: string;
  engine: Engine;
  bytes: number;
  sha256: string;
  /** The core compiled into (wasm2c) or stored beside (wasm3) the firmware. */
  core_sha256: string;
}
export interface Manifest {
  core: { file: string; sha256: string };
  images: ImageEntry[];
}

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Records the images present under root for the core that was built into them. */
export function writeManifest(coreSha: string, engines: Record<string, Engine>, root = ROOT): Manifest {
  const images: ImageEntry[] = [];
  for (const [file, engine] of Object.entries(engines)) {
    const bytes = readFileSync(join(root, file));
    images.push({ file, engine, bytes: bytes.length, sha256: sha256(bytes), core_sha256: coreSha });
  }
  const manifest: Manifest = { core: { file: CORE, sha256: coreSha }, images };
  writeFileSync(join(root, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/** One image under root (file: DEFAULT_IMAGE or WASM2C_IMAGE) checked against the manifest, the core
 *  and its own bytes — an RP2040 UF2 that carries the core's SHA-256 text, which the firmware prints at
 *  boot — with its manifest entry, or what is wrong. */
export function checkImage(file: string, root = ROOT): { entry: ImageEntry; bytes: Uint8Array } | { problem: string } {
  const problem = (text: string) => ({ problem: text });
  const manifestPath = join(root, MANIFEST);
  if (!existsSync(join(root, CORE))) return problem(`${CORE} is missing (npm run build)`);
  if (!existsSync(join(root, file))) return problem(`${file} is missing (npm run build with the Pico SDK: native/README.md "Firmware")`);
  if (!existsSync(manifestPath)) return problem(`${MANIFEST} is missing (npm run build with the Pico SDK writes it with the images)`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch (e) {
    return problem(`${MANIFEST}: ${(e as Error).message}`);
  }
  const entry = manifest.images?.find((i) => i.file === file);
  if (!entry) return problem(`${MANIFEST} does not list ${file}`);
  const bytes = new Uint8Array(readFileSync(join(root, file)));
  if (sha256(bytes) !== entry.sha256) return problem(`${file} has changed since ${MANIFEST} was written (sha256 ${sha256(bytes)}, listed ${entry.sha256})`);
  const core = sha256(readFileSync(join(root, CORE)));
  if (entry.core_sha256 !== core) return problem(`${file} was built from core ${entry.core_sha256}, but ${CORE} is ${core}: rebuild the firmware (npm run build)`);
  let blocks;
  try {
    blocks = readUf2Blocks(bytes);
  } catch (e) {
    return problem(`${file}: ${(e as Error).message}`);
  }
  const foreign = blocks.find((b) => b.familyId !== RP2040_FAMILY_ID);
  if (foreign) return problem(`${file}: a block for family 0x${foreign.familyId.toString(16)}, not the RP2040's`);
  if (!Buffer.concat(blocks.map((b) => b.data)).includes(core)) return problem(`${file} does not carry the SHA-256 of ${CORE} (${core})`);
  return { entry, bytes };
}
