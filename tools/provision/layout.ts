// The flash layout every host shares, read from its one definition, native/host/pw_layout.h (the C ports
// compile it in; the Node host and the UF2 tools read it here), so no two hosts can disagree. On the
// Pico W the regions are laid out downwards from the end of the 2 MiB flash:
// layout sector (the host's stamp, docs/FLASH-LAYOUT.md) | config | slot A | slot B | state.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
export const LAYOUT_HEADER = join(ROOT, "native", "host", "pw_layout.h");
/** The RP2040 maps flash at XIP_BASE; UF2 addresses are these bus addresses. */
export const XIP_BASE = 0x10000000;
/** PICO_FLASH_SIZE_BYTES of the SDK's pico_w board. */
export const PICO_W_FLASH_BYTES = 2 * 1024 * 1024;
/** The board's layout sector: the sector below the regions (native/pico/platform_pico.h). */
export const LAYOUT_SECTOR_BYTES = 4096;

export interface PicoLayout {
  configSize: number;
  slotSize: number;
  stateSize: number;
  /** The layout before this one: its slot size (a flash file of oldBytes holds it). */
  oldSlotSize: number;
  /** Bytes of the four regions (a flash file's size), and of the layout before. */
  regionsBytes: number;
  oldBytes: number;
  /** The stamp's first word in the layout sector. */
  stampMagic: number;
  /** Bus address of REGION_CONFIG's first byte, and of the layout sector. */
  configAddress: number;
  layoutSectorAddress: number;
}

export function picoLayout(header = readFileSync(LAYOUT_HEADER, "utf8")): PicoLayout {
  const value = (name: string): number => {
    const m = header.match(new RegExp(`#define\\s+${name}\\s+\\(?\\s*(0x[0-9a-fA-F]+|[0-9]+)u?\\s*(?:\\*\\s*([0-9]+)u?)?\\s*\\)?`));
    if (!m) throw new Error(`${LAYOUT_HEADER}: no #define ${name}`);
    return Number(m[1]) * (m[2] ? Number(m[2]) : 1);
  };
  const configSize = value("PW_LAYOUT_CONFIG_SIZE");
  const slotSize = value("PW_LAYOUT_SLOT_SIZE");
  const stateSize = value("PW_LAYOUT_STATE_SIZE");
  const oldSlotSize = value("PW_LAYOUT_OLD_SLOT_SIZE");
  const regionsBytes = configSize + 2 * slotSize + stateSize;
  const configAddress = XIP_BASE + PICO_W_FLASH_BYTES - regionsBytes;
  return {
    configSize, slotSize, stateSize, oldSlotSize, regionsBytes,
    oldBytes: configSize + 2 * oldSlotSize + stateSize,
    stampMagic: value("PW_LAYOUT_STAMP_MAGIC"),
    configAddress,
    layoutSectorAddress: configAddress - LAYOUT_SECTOR_BYTES,
  };
}

/** The layout sector's stamp page for this layout: a config UF2 carries it, so the board's first boot
 *  does not take its flash for the layout before and move an old configuration over the new one. */
export function layoutStamp(l = picoLayout()): Uint8Array {
  const page = new Uint8Array(256).fill(0xff);
  const v = new DataView(page.buffer);
  const words = [l.stampMagic, l.configSize, l.slotSize, l.stateSize];
  words.forEach((w, i) => v.setUint32(i * 4, w, true));
  v.setUint32(16, (words.reduce((a, w) => a ^ w, 0) ^ 0xffffffff) >>> 0, true);
  return page;
}

/** The GPIO the core reads at boot (assembly/store/config_sector.ts RESET_PIN): held low (a button to
 *  the GND pin beside it, physical pins 29 and 28), the configuration is erased. */
export const RESET_PIN = 22;
