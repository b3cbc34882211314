// RGB colour codec. Colours travel as i32 0x00RRGGBB; errors are negative RGB_ERR_ codes.
// Text is the tutorial's wire format ("r,g,b", decimal 0..255): strict, so garbage is reported, not guessed.
import {
  RGB_ERR_EMPTY, RGB_ERR_FIELDS, RGB_ERR_DIGIT, RGB_ERR_RANGE, RGB_ERR_TRAILING, RGB_ERR_LENGTH, RGB_ERR_HEX,
  RGB_FMT_TEXT, RGB_FMT_HEX, RGB_FMT_BINARY, ERR_INVAL,
} from "../abi/host.generated";
import { putDecimal, hexValue } from "../util/bytes";
import { hexDigit } from "../util/log";
import { GAMMA } from "./gamma.generated";

/** Length without one optional trailing "\r\n", "\n" or "\r"; RGB_ERR_TRAILING if more line ends follow. */
function bodyLength(p: usize, n: i32): i32 {
  if (n > 0 && load<u8>(p + n - 1) == 10) n--;
  if (n > 0 && load<u8>(p + n - 1) == 13) n--;
  for (let i = 0; i < n; i++) {
    let b = load<u8>(p + i);
    if (b == 10 || b == 13) return RGB_ERR_TRAILING;
  }
  return n;
}

export function parseText(p: usize, n: i32): i32 {
  n = bodyLength(p, n);
  if (n < 0) return n;
  if (n == 0) return RGB_ERR_EMPTY;
  let rgb = 0;
  let fields = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    let b: i32 = i < n ? load<u8>(p + i) : 44; // the end closes the last field like a comma
    if (b == 44) {
      if (digits == 0) return RGB_ERR_DIGIT;
      if (++fields == 3 && i < n) return RGB_ERR_FIELDS; // a comma after the third field
      rgb = (rgb << 8) | value;
      value = 0;
      digits = 0;
    } else {
      let d = b - 48;
      if (<u32>d > 9) return RGB_ERR_DIGIT;
      if (++digits > 3) return RGB_ERR_RANGE;
      value = value * 10 + d;
      if (value > 255) return RGB_ERR_RANGE;
    }
  }
  return fields == 3 ? rgb : RGB_ERR_FIELDS;
}

export function parseHex(p: usize, n: i32): i32 {
  n = bodyLength(p, n);
  if (n < 0) return n;
  if (n == 0) return RGB_ERR_EMPTY;
  if (n != 7) return RGB_ERR_LENGTH;
  if (load<u8>(p) != 35) return RGB_ERR_HEX;
  let rgb = 0;
  for (let i = 1; i < 7; i++) {
    let v = hexValue(load<u8>(p + i));
    if (v < 0) return RGB_ERR_HEX;
    rgb = (rgb << 4) | v;
  }
  return rgb;
}

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

/** Parses a value a person typed or a board sent: "#rrggbb" or "r,g,b". */
export function parseEither(p: usize, n: i32): i32 {
  return n > 0 && load<u8>(p) == 35 ? parseHex(p, n) : parseText(p, n);
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
