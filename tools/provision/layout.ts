// Where the configuration sector sits in the Pico W's flash, for configuration UF2s. The one place it
// is defined is native/pico/platform_pico.h (the regions are laid out downwards from the end of the
// 2 MiB flash: config | slot A | slot B | state); this reads the sizes from there, so the UF2 and the
// firmware cannot disagree.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
export const PICO_HEADER = join(ROOT, "native", "pico", "platform_pico.h");
/** The RP2040 maps flash at XIP_BASE; UF2 addresses are these bus addresses. */
export const XIP_BASE = 0x10000000;
/** PICO_FLASH_SIZE_BYTES of the SDK's pico_w board. */
export const PICO_W_FLASH_BYTES = 2 * 1024 * 1024;

export interface PicoLayout {
  configSize: number;
  slotSize: number;
  stateSize: number;
  /** Bus address of REGION_CONFIG's first byte. */
  configAddress: number;
}

export function picoLayout(header = readFileSync(PICO_HEADER, "utf8")): PicoLayout {
  const size = (name: string): number => {
    const m = header.match(new RegExp(`#define\\s+${name}\\s+\\(?\\s*([0-9]+)u?\\s*(?:\\*\\s*([0-9]+)u?)?\\s*\\)?`));
    if (!m) throw new Error(`${PICO_HEADER}: no #define ${name}`);
    return Number(m[1]) * (m[2] ? Number(m[2]) : 1);
  };
  const configSize = size("PW_PICO_REGION_CONFIG_SIZE");
  const slotSize = size("PW_PICO_REGION_SLOT_SIZE");
  const stateSize = size("PW_PICO_REGION_STATE_SIZE");
  const total = configSize + 2 * slotSize + stateSize;
  return { configSize, slotSize, stateSize, configAddress: XIP_BASE + PICO_W_FLASH_BYTES - total };
}

/** The GPIO the core reads at boot (assembly/store/config_sector.ts RESET_PIN): held low (a button to
 *  the GND pin beside it, physical pins 29 and 28), the configuration is erased. */
export const RESET_PIN = 22;
