// The one UF2 `picowire flash` writes: a firmware image and, optionally, a configuration UF2, joined.
// One file, because the RP2040 bootrom reboots the board once it has every block of the first file it
// receives: a second file dropped after the firmware would never arrive.
import { joinUf2, readUf2Blocks, RP2040_FAMILY_ID } from "./uf2.ts";
import { picoLayout, XIP_BASE } from "./layout.ts";

/** Why firmware (a UF2 file's bytes) cannot go on a Pico W beside a configuration, or null. */
export function firmwareProblem(firmware: Uint8Array, name: string): string | null {
  let blocks;
  try {
    blocks = readUf2Blocks(firmware);
  } catch (e) {
    return `${name} is not a UF2 file the RP2040 takes: ${(e as Error).message}`;
  }
  const foreign = blocks.find((b) => b.familyId !== RP2040_FAMILY_ID);
  if (foreign)
    return `${name} is a UF2 for another board family (0x${foreign.familyId.toString(16)}; the Pico W's RP2040 is 0x${RP2040_FAMILY_ID.toString(16)})`;
  const { configAddress } = picoLayout();
  const outside = blocks.find((b) => b.address < XIP_BASE || b.address + b.data.length > configAddress);
  if (outside)
    return `${name} writes 0x${outside.address.toString(16)}, outside the firmware's flash (0x${XIP_BASE.toString(16)} up to the configuration sector at 0x${configAddress.toString(16)})`;
  return null;
}

/** The firmware and the configuration (both UF2 files' bytes) as one UF2 file. */
export function flashImage(firmware: Uint8Array, config: Uint8Array | null): Uint8Array {
  return joinUf2(config ? [firmware, config] : [firmware]);
}
