// The RGB codec written plainly in TypeScript from the rules in docs/RGB.md: the oracle the core's
// codec is property-tested against, and the baseline of `npm run bench`.
import { C } from "../host/abi.generated.ts";

/** Strips one trailing "\r\n", "\n" or "\r"; any other line end is an error. */
function body(b: Uint8Array): Uint8Array | number {
  let n = b.length;
  if (n > 0 && b[n - 1] === 10) n--;
  if (n > 0 && b[n - 1] === 13) n--;
  const rest = b.subarray(0, n);
  return rest.some((x) => x === 10 || x === 13) ? C.RGB_ERR_TRAILING : rest;
}

export function parseText(bytes: Uint8Array): number {
  const b = body(bytes);
  if (typeof b === "number") return b;
  if (b.length === 0) return C.RGB_ERR_EMPTY;
  const fields = Buffer.from(b).toString("latin1").split(",");
  let rgb = 0;
  // the first problem found scanning left to right decides the code, as a streaming parser would:
  // a bad character in the first three fields, else a wrong number of fields
  for (let i = 0; i < Math.min(3, fields.length); i++) {
    const f = fields[i];
    if (f.length === 0) return C.RGB_ERR_DIGIT;
    for (let j = 0; j < f.length; j++) {
      if (!/[0-9]/.test(f[j])) return C.RGB_ERR_DIGIT;
      if (j >= 3 || Number(f.slice(0, j + 1)) > 255) return C.RGB_ERR_RANGE;
    }
    rgb = rgb * 256 + Number(f);
  }
  return fields.length === 3 ? rgb : C.RGB_ERR_FIELDS;
}

export function parseHex(bytes: Uint8Array): number {
  const b = body(bytes);
  if (typeof b === "number") return b;
  if (b.length === 0) return C.RGB_ERR_EMPTY;
  if (b.length !== 7) return C.RGB_ERR_LENGTH;
  const s = Buffer.from(b).toString("latin1");
  return /^#[0-9a-fA-F]{6}$/.test(s) ? parseInt(s.slice(1), 16) : C.RGB_ERR_HEX;
}

export function parseBinary(b: Uint8Array): number {
  if (b.length === 0) return C.RGB_ERR_EMPTY;
  return b.length === 3 ? (b[0] << 16) | (b[1] << 8) | b[2] : C.RGB_ERR_LENGTH;
}

export function formatText(rgb: number): string {
  return `${(rgb >> 16) & 255},${(rgb >> 8) & 255},${rgb & 255}`;
}

export function formatHex(rgb: number): string {
  return "#" + (rgb & 0xffffff).toString(16).padStart(6, "0");
}

/** PWM duty (0..65535) for one channel: gamma 2.2 from the core's 8-bit table, then brightness. */
export function channelDuty(gammaTable: number[], level: number, brightness: number): number {
  return Math.floor((gammaTable[level] * 257 * brightness) / 255);
}
