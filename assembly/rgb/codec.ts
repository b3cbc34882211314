// RGB colour codec. Colours travel as i32 0x00RRGGBB; errors are negative RGB_ERR_ codes.
// Text is the tutorial's wire format ("r,g,b", decimal 0..255): strict, so garbage is reported, not guessed.
import { RGB_ERR_EMPTY, RGB_ERR_LENGTH, RGB_FMT_TEXT, RGB_FMT_HEX, RGB_FMT_BINARY, ERR_INVAL } from "../abi/host.generated";
import { putDecimal } from "../util/bytes";
import { hexDigit } from "../util/log";
import { parseText, parseHex, parseEither } from "../settings/values";
import { GAMMA } from "./gamma.generated";

// the settings parse colours too, so the text forms live below both (assembly/settings/values.ts)
export { parseText, parseHex, parseEither };

export function parseBinary(p: usize, n: i32): i32 {
  if (n == 0) return RGB_ERR_EMPTY;
  if (n != 3) return RGB_ERR_LENGTH;
  return (<i32>load<u8>(p) << 16) | (<i32>load<u8>(p + 1) << 8) | <i32>load<u8>(p + 2);
}

export function parse(p: usize, n: i32, format: i32): i32 {
  if (format == RGB_FMT_TEXT) return parseText(p, n);
  if (format == RGB_FMT_HEX) return parseHex(p, n);
  if (format == RGB_FMT_BINARY) return parseBinary(p, n);
  return ERR_INVAL;
}

/** Writes "r,g,b" (at most 11 bytes, no line end, as the tutorial server sends it). */
export function formatText(rgb: i32, dst: usize): i32 {
  let n = putDecimal(dst, (rgb >> 16) & 255);
  store<u8>(dst + n++, 44);
  n += putDecimal(dst + n, (rgb >> 8) & 255);
  store<u8>(dst + n++, 44);
  n += putDecimal(dst + n, rgb & 255);
  return n;
}

/** Writes "#rrggbb" (7 bytes). */
export function formatHex(rgb: i32, dst: usize): i32 {
  store<u8>(dst, 35);
  for (let i = 0; i < 6; i++) store<u8>(dst + 1 + i, <u8>hexDigit((rgb >> (20 - 4 * i)) & 15));
  return 7;
}

export function format(rgb: i32, format: i32, dst: usize): i32 {
  if (format == RGB_FMT_TEXT) return formatText(rgb, dst);
  if (format == RGB_FMT_HEX) return formatHex(rgb, dst);
  if (format == RGB_FMT_BINARY) {
    store<u8>(dst, <u8>(rgb >> 16));
    store<u8>(dst + 1, <u8>(rgb >> 8));
    store<u8>(dst + 2, <u8>rgb);
    return 3;
  }
  return ERR_INVAL;
}

/** One channel (0..255) to a 16-bit PWM duty: gamma 2.2 from the table, then brightness (0..255). */
export function channelDuty(level: i32, brightness: i32): i32 {
  let g = <i32>load<u8>(GAMMA + <usize>(level & 255));
  return (g * 257 * brightness) / 255;
}
