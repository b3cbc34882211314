// Base64 (RFC 4648, standard alphabet, padded) for WebSocket keys and accept values.
import { EQUALS, UPPER_A, LOWER_A, DIGIT_0, PLUS, SLASH } from "./ascii";

function encodeSextet(v: u32): u8 {
  return <u8>(v < 26 ? UPPER_A + v : v < 52 ? LOWER_A - 26 + v : v < 62 ? DIGIT_0 - 52 + v : v == 62 ? PLUS : SLASH);
}

/** The value of one base64 character (0 to 63), or -1 for any other byte. */
export function decodeChar(c: u32): i32 {
  if (c - UPPER_A < 26) return <i32>(c - UPPER_A);
  if (c - LOWER_A < 26) return <i32>(c - LOWER_A + 26);
  if (c - DIGIT_0 < 10) return <i32>(c - DIGIT_0 + 52);
  return c == PLUS ? 62 : c == SLASH ? 63 : -1;
}

/** Encodes n bytes at src to dst; returns the encoded length. */
export function base64Encode(src: usize, n: i32, dst: usize): i32 {
  let o = 0;
  for (let i = 0; i < n; i += 3) {
    let left = n - i;
    let v = (<u32>load<u8>(src + i) << 16) | (left > 1 ? <u32>load<u8>(src + i + 1) << 8 : 0) | (left > 2 ? <u32>load<u8>(src + i + 2) : 0);
    store<u8>(dst + o, encodeSextet(v >> 18));
    store<u8>(dst + o + 1, encodeSextet((v >> 12) & 63));
    store<u8>(dst + o + 2, left > 1 ? encodeSextet((v >> 6) & 63) : EQUALS);
    store<u8>(dst + o + 3, left > 2 ? encodeSextet(v & 63) : EQUALS);
    o += 4;
  }
  return o;
}

/** Whether [p, p+n) is canonical padded base64 of exactly 16 bytes (a WebSocket key): 22 characters
 *  of the alphabet, the last hiding four zero bits, then "==". */
export function isBase64Of16(p: usize, n: i32): bool {
  if (n != 24 || load<u8>(p + 22) != EQUALS || load<u8>(p + 23) != EQUALS) return false;
  for (let i = 0; i < 22; i++) if (decodeChar(load<u8>(p + i)) < 0) return false;
  return (decodeChar(load<u8>(p + 21)) & 15) == 0;
}
