// The configuration sector as the core reads and writes it (assembly/store/config_sector.ts,
// docs/CONFIG.md), in TypeScript for the CLI (configuration UF2s, `picowire config show`) and tests.
// REGION_CONFIG holds two copies, one per 4 KiB flash sector; each copy is
//   0  u32  magic 0x46435750 ("PWCF" as bytes)     8  u32  sequence number (the newer copy wins)
//   4  u16  format version (1)                      12 4 B  SHA-256(bytes 0..11 + text), first 4 bytes
//   6  u16  text length                             16      the key=value text (assembly/config.ts)
// little-endian, the rest of the sector erased (0xFF). Format 0 (before the header) was the bare text
// from the sector's start to the first 0xFF or NUL byte.
import { createHash } from "node:crypto";
import { SECRET_KEYS } from "../settings/settings.generated.ts"; // never shown: key, wifi_password, mqtt_password

export const CONFIG_MAGIC = 0x46435750;
export const CONFIG_VERSION = 1;
export const CONFIG_HEAD = 16;
export const SECTOR = 4096;
/** REGION_CONFIG: two sectors, one copy each. */
export const CONFIG_REGION_BYTES = 2 * SECTOR;
/** The longest text: what the core's init takes (IO_CAPACITY). */
export const CONFIG_TEXT_MAX = 1536;

export interface Copy {
  text: string;
  seq: number;
  version: number;
}

function checksum(head: Uint8Array, text: Uint8Array): Uint8Array {
  return createHash("sha256").update(head.subarray(0, 12)).update(text).digest().subarray(0, 4);
}

/** One copy: header and text (not padded). */
export function encodeCopy(text: string | Uint8Array, seq: number, version = CONFIG_VERSION): Uint8Array {
  const body = typeof text === "string" ? new TextEncoder().encode(text) : text;
  if (body.length > CONFIG_TEXT_MAX) throw new Error(`configuration is ${body.length} bytes; the core takes at most ${CONFIG_TEXT_MAX}`);
  const out = new Uint8Array(CONFIG_HEAD + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, CONFIG_MAGIC, true);
  v.setUint16(4, version, true);
  v.setUint16(6, body.length, true);
  v.setUint32(8, seq >>> 0, true);
  out.set(checksum(out, body), 12);
  out.set(body, CONFIG_HEAD);
  return out;
}

/** A copy read from its sector, or why it is not one. */
export function decodeCopy(sector: Uint8Array): Copy | { error: string } {
  const v = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  if (sector.length < CONFIG_HEAD || v.getUint32(0, true) !== CONFIG_MAGIC) return { error: "no copy (no magic)" };
  const version = v.getUint16(4, true);
  const n = v.getUint16(6, true);
  if (version !== CONFIG_VERSION) return { error: `format version ${version}, this tool knows ${CONFIG_VERSION}` };
  if (n > CONFIG_TEXT_MAX || CONFIG_HEAD + n > sector.length) return { error: `length ${n} out of range` };
  const text = sector.subarray(CONFIG_HEAD, CONFIG_HEAD + n);
  const sum = checksum(sector, text);
  if (sum.some((b, i) => b !== sector[12 + i])) return { error: "checksum mismatch (corrupt or cut short)" };
  return { text: new TextDecoder().decode(text), seq: v.getUint32(8, true), version };
}

/** The configuration the core would load from an 8 KiB region image: the newest valid copy (copy 0 on a
 *  tie; sequence numbers compared wrap-safely), else format 0 text, else null (unconfigured). */
export function readRegion(region: Uint8Array): (Copy & { copy: number }) | null {
  let best: (Copy & { copy: number }) | null = null;
  for (let i = 0; i < 2; i++) {
    const c = decodeCopy(region.subarray(i * SECTOR, (i + 1) * SECTOR));
    if ("error" in c) continue;
    if (!best || ((c.seq - best.seq) | 0) > 0) best = { ...c, copy: i };
  }
  if (best) return best;
  let n = 0;
  while (n < Math.min(region.length, CONFIG_TEXT_MAX) && region[n] !== 0xff && region[n] !== 0) n++;
  if (n === 0 || new DataView(region.buffer, region.byteOffset).getUint32(0, true) === CONFIG_MAGIC) return null;
  return { text: new TextDecoder().decode(region.subarray(0, n)), seq: 0, version: 0, copy: 0 };
}

/** A whole region image with the same text in both copies (what a configuration UF2 writes: every
 *  older copy is replaced, whatever its sequence number was). */
export function regionImage(text: string, seq = 1): Uint8Array {
  const out = new Uint8Array(CONFIG_REGION_BYTES).fill(0xff);
  const copy = encodeCopy(text, seq);
  out.set(copy, 0);
  out.set(copy, SECTOR);
  return out;
}

/** The text with secret values replaced by asterisks. */
export function maskSecrets(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      const eq = line.indexOf("=");
      return eq > 0 && SECRET_KEYS.includes(line.slice(0, eq).trim()) ? `${line.slice(0, eq)}=********` : line;
    })
    .join("\n");
}
