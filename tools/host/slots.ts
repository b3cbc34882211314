// The host's half of over-the-air updates (docs/OTA.md): which core to boot from the two flash slots.
// The core writes a new image into the slot it does not run from and, last, the slot's header; the
// host boots a pending slot once, on trial, after programming its "tried" word; the core programs
// "confirmed" once it is reachable. A slot that was tried and never confirmed is rolled back: the host
// boots the newest confirmed slot, or the core built into the firmware. The words only ever go from
// 0xFFFFFFFF to 0 (NOR flash programs bits to 0 without an erase), so nothing the boot decision rests on
// is ever erased and rewritten in place: a power cut can only leave a flag set or a slot unbootable,
// and the running slot is never written except for its own flags.
import { createHash } from "node:crypto";
import { C, ABI_VERSION } from "./abi.generated.ts";
import type { Flash } from "./flash.ts";

export const SLOT_MAGIC = 0x31495750; // "PWI1", little-endian
export const HEADER_BYTES = 256; // page 0 of a slot; the image follows
export const H_GEN = 4;
export const H_LENGTH = 8;
export const H_ABI = 12;
export const H_SHA = 16;
export const H_CHECK = 48; // SHA-256 of [0, 48)
export const H_TRIED = 128; // programmed to 0 by the host before it first boots the slot
export const H_CONFIRMED = 132; // programmed to 0 by the core once it is healthy
export const SLOTS = [C.REGION_SLOT_A, C.REGION_SLOT_B] as const;

export type SlotState = "empty" | "pending" | "trial" | "confirmed" | "rolled_back";

export interface SlotInfo {
  slot: number; // REGION_SLOT_A (1) or REGION_SLOT_B (2)
  name: "A" | "B";
  /** The header's check passed. */
  valid: boolean;
  gen: number;
  length: number;
  abi: number;
  sha256: string;
  tried: boolean;
  confirmed: boolean;
}

export const slotName = (slot: number): "A" | "B" | "firmware" => (slot === C.REGION_SLOT_A ? "A" : slot === C.REGION_SLOT_B ? "B" : "firmware");

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest();

function bytesOf(flash: Flash, region: number, offset: number, len: number): Uint8Array {
  const r = flash.read(region, offset, len);
  if (typeof r === "number") throw new Error(`flash read of region ${region} failed (${r})`);
  return r;
}

export function readSlot(flash: Flash, slot: number): SlotInfo {
  const h = bytesOf(flash, slot, 0, 136);
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const valid = v.getUint32(0, true) === SLOT_MAGIC && sha256(h.subarray(0, H_CHECK)).equals(h.subarray(H_CHECK, H_CHECK + 32));
  const word = (at: number) => v.getUint32(at, true);
  return {
    slot,
    name: slotName(slot) as "A" | "B",
    valid,
    gen: valid ? word(H_GEN) : 0,
    length: valid ? word(H_LENGTH) : 0,
    abi: valid ? word(H_ABI) : 0,
    sha256: valid ? Buffer.from(h.subarray(H_SHA, H_SHA + 32)).toString("hex") : "",
    // any bit programmed counts: a cut program of the word still says the step was taken
    tried: word(H_TRIED) !== 0xffffffff,
    confirmed: word(H_CONFIRMED) !== 0xffffffff,
  };
}

/** The slot's image if its length fits and its SHA-256 matches the header, else null. */
export function slotImage(flash: Flash, info: SlotInfo): Uint8Array | null {
  if (!info.valid || info.length <= 0 || info.length > flash.size(info.slot) - HEADER_BYTES) return null;
  const image = bytesOf(flash, info.slot, HEADER_BYTES, info.length);
  return sha256(image).toString("hex") === info.sha256 ? image : null;
}

/** What a slot holds, seen from the slot that runs (a tried, unconfirmed slot that does not run was
 *  rolled back). */
export function slotState(info: SlotInfo, running: number): SlotState {
  if (!info.valid) return "empty";
  if (info.confirmed) return "confirmed";
  if (!info.tried) return "pending";
  return info.slot === running ? "trial" : "rolled_back";
}

export interface BootChoice {
  /** REGION_SLOT_A/B, or 0: the core built into the firmware. */
  slot: number;
  image?: Uint8Array;
  sha256?: string;
  /** Booted on trial: it must confirm itself before the watchdog deadline. */
  trial: boolean;
  /** What the host decided and why, for the console. */
  notes: string[];
}

/** Decides what to boot, programming the "tried" word of a pending slot first (so a core that never
 *  comes back counts as tried). `skip`: slots that already failed to start during this power-up. */
export function chooseBoot(flash: Flash, skip: ReadonlySet<number> = new Set()): BootChoice {
  const notes: string[] = [];
  const infos = SLOTS.map((s) => readSlot(flash, s));
  let best: { info: SlotInfo; image: Uint8Array } | null = null;
  for (const info of infos) {
    if (!info.valid || skip.has(info.slot)) continue;
    if (info.tried && !info.confirmed) {
      notes.push(`slot ${info.name}: core ${info.sha256.slice(0, 8)} was tried and never confirmed itself: rolled back`);
      continue;
    }
    if (!info.confirmed) continue;
    if (info.abi !== ABI_VERSION) {
      notes.push(`slot ${info.name}: its core speaks ABI v${info.abi}, this host v${ABI_VERSION}: skipped`);
      continue;
    }
    const image = slotImage(flash, info);
    if (!image) notes.push(`slot ${info.name}: the image does not match its header (damaged flash): skipped`);
    else if (!best || info.gen > best.info.gen) best = { info, image };
  }
  for (const info of infos) {
    if (!info.valid || info.tried || skip.has(info.slot) || (best && info.gen <= best.info.gen)) continue;
    const image = info.abi === ABI_VERSION ? slotImage(flash, info) : null;
    if (!image) {
      notes.push(`slot ${info.name}: the pending image does not match its header or this host's ABI: skipped`);
      continue;
    }
    programWord(flash, info.slot, H_TRIED);
    notes.push(`slot ${info.name}: booting the new core ${info.sha256.slice(0, 8)} on trial`);
    return { slot: info.slot, image, sha256: info.sha256, trial: true, notes };
  }
  if (best) return { slot: best.info.slot, image: best.image, sha256: best.info.sha256, trial: false, notes };
  return { slot: 0, trial: false, notes };
}

/** Programs one header word of a slot to 0 (the rest of the page programs as 0xFF: unchanged). */
export function programWord(flash: Flash, slot: number, at: number): number {
  const page = new Uint8Array(C.FLASH_PAGE).fill(0xff);
  new DataView(page.buffer).setUint32(at, 0, true);
  return flash.program(slot, 0, page);
}

/** The header the core writes at ota_end. */
export function slotHeader(image: Uint8Array, gen: number, abi: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES).fill(0xff);
  const v = new DataView(h.buffer);
  v.setUint32(0, SLOT_MAGIC, true);
  v.setUint32(H_GEN, gen, true);
  v.setUint32(H_LENGTH, image.length, true);
  v.setUint32(H_ABI, abi, true);
  h.set(sha256(image), H_SHA);
  h.set(sha256(h.subarray(0, H_CHECK)), H_CHECK);
  return h;
}

/** Writes a whole slot as an update would (tests, factory provisioning): erase, image, then header. */
export function writeSlot(flash: Flash, slot: number, image: Uint8Array, gen: number, abi: number, confirmed = false): void {
  const size = flash.size(slot);
  if (image.length > size - HEADER_BYTES) throw new Error(`image of ${image.length} bytes does not fit a ${size}-byte slot`);
  for (let o = 0; o < HEADER_BYTES + image.length; o += C.FLASH_SECTOR) flash.erase(slot, o, C.FLASH_SECTOR);
  for (let o = 0; o < image.length; o += C.FLASH_PAGE) {
    const page = new Uint8Array(C.FLASH_PAGE).fill(0xff);
    page.set(image.subarray(o, o + C.FLASH_PAGE));
    flash.program(slot, HEADER_BYTES + o, page);
  }
  flash.program(slot, 0, slotHeader(image, gen, abi));
  if (confirmed) {
    programWord(flash, slot, H_TRIED);
    programWord(flash, slot, H_CONFIRMED);
  }
}
