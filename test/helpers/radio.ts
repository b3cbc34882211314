// What the end-to-end radio tests (build/picowire.uf2 in rp2040js with the CYW43439 model) need and share:
// the inputs that must be there, configuration UF2s and bounded waits.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIRMWARE_UF2, ROOT } from "../../tools/build/firmware.ts";
import { findBootrom } from "../../tools/emu/run.ts";
import { blobsMissing } from "../../tools/emu/cyw43/blobs.ts";
import { readUf2 } from "../../tools/provision/uf2.ts";
import { configText, configUf2 as configImage } from "../../tools/cli/config.ts";
import { netnsUnavailable } from "./netns.ts";

export const MHZ = 125_000_000;
/** Board time bounds every run; these wall caps only stop a hung emulator (a loaded machine runs
 *  rp2040js slower, so they are generous). */
export const WALL_CAP_MS = 300_000;

/** Whether build/picowire.uf2 embeds the core build/picowire.wasm holds (a stale image tests old code). */
function firmwareCurrent(): boolean {
  try {
    const sha = createHash("sha256").update(readFileSync(join(ROOT, "build", "picowire.wasm"))).digest("hex");
    return Buffer.from(readUf2(new Uint8Array(readFileSync(FIRMWARE_UF2))).data).includes(sha);
  } catch {
    return false;
  }
}

/** What a test of the UF2 with the radio model lacks here: the current firmware, the bootrom, the blobs. */
export function radioMissing(): string[] {
  const bootrom = findBootrom();
  return [
    ...(existsSync(FIRMWARE_UF2) && firmwareCurrent() ? [] : [`${FIRMWARE_UF2} built from this core (npm run build with PICO_SDK_PATH)`]),
    ...("missing" in bootrom ? [bootrom.missing] : []),
    ...(blobsMissing() ? [blobsMissing()!] : []),
  ];
}

/** The same on a TAP network: also root and network namespaces. */
export function radioLanMissing(): string[] {
  return [...radioMissing(), ...(netnsUnavailable() ? [netnsUnavailable()!] : [])];
}

/** A configuration UF2 (what picowire config set --uf2 writes) with these settings, loaded beside the image. */
export async function configUf2(settings: string[]): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), "pw-radio-cfg-")), "cfg.uf2");
  writeFileSync(out, configImage(configText(settings)));
  return out;
}

/** A key file for the CLI (one line). */
export function keyFile(key: string): string {
  const f = join(mkdtempSync(join(tmpdir(), "pw-radio-key-")), "bus.key");
  writeFileSync(f, `${key}\n`);
  return f;
}

/** Waits (wall time, polling) while boards run elsewhere; throws naming `what` and showing `context()`. */
export async function waitUntil(cond: () => boolean, what: string, ms: number, context: () => string = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
