// Small byte helpers over linear memory (no strings at run time: they would allocate).
import { Ascii, asciiLen, asciiAt, COMMA, DIGIT_0, UPPER_A, LOWER_A } from "./ascii";

/** Case-sensitive compare of bytes with an ASCII literal. */
export function bytesEqual(p: usize, n: i32, lit: Ascii): bool {
  return bytesCompare(p, n, lit, 0);
}

/** ASCII case-insensitive compare; `lit` must be lower case. */
export function bytesEqualNoCase(p: usize, n: i32, lit: Ascii): bool {
  return bytesCompare(p, n, lit, 32);
}

/** fold 32: upper-case letters in [p, p+n) compare as lower case. */
function bytesCompare(p: usize, n: i32, lit: Ascii, fold: u32): bool {
  if (n != asciiLen(lit)) return false;
  for (let i = 0; i < n; i++) {
    let b = <u32>load<u8>(p + i);
    if (b - UPPER_A < 26) b |= fold;
    if (b != asciiAt(lit, i)) return false;
  }
  return true;
}

/** 1-based position of the exact bytes [p, p+n) in a comma-separated list, 0 if absent. */
export function indexInList(list: usize, listLen: i32, p: usize, n: i32): i32 {
  let start = 0;
  let index = 1;
  for (let i = 0; i <= listLen; i++) {
    if (i < listLen && load<u8>(list + i) != COMMA) continue;
    if (i - start == n && n > 0 && bytesSame(list + start, p, n)) return index;
    index++;
    start = i + 1;
  }
  return 0;
}

/** 1-based position of [p, p+n) in the comma-separated ASCII literal `list`, 0 if absent. */
export function inList(list: Ascii, p: usize, n: i32): i32 {
  return indexInList(list + 1, asciiLen(list), p, n);
}

/** Whether the n bytes at a and at b are the same. It reads all n whatever differs, so comparing a
 *  MAC or digest tells a peer nothing by its timing (bus tags, OTA digests); one small loop, not
 *  memory.compare inlined. */
export function bytesSame(a: usize, b: usize, n: i32): bool {
  let differ: u32 = 0;
  for (let i = 0; i < n; i++) differ |= load<u8>(a + i) ^ load<u8>(b + i);
  return differ == 0;
}

/** The value of a hex digit (either case), -1 for any other byte. */
export function hexValue(b: u32): i32 {
  if (b - DIGIT_0 < 10) return <i32>(b - DIGIT_0);
  b |= 32; // ASCII lower case
  if (b - LOWER_A < 6) return <i32>(b - (LOWER_A - 10));
  return -1;
}

/** The lower-case hex digit (ASCII) of v, 0..15. */
export function hexDigit(v: u32): u32 {
  return v < 10 ? 48 + v : 87 + v;
}

/** Writes the n bytes at p as 2n lower-case hex digits at dst; returns 2n. */
export function putHex(dst: usize, p: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    let b = <u32>load<u8>(p + i);
    store<u8>(dst + 2 * i, <u8>hexDigit(b >> 4));
    store<u8>(dst + 2 * i + 1, <u8>hexDigit(b & 15));
  }
  return 2 * n;
}

/** Copies an ASCII literal to dst; returns bytes written. */
export function putAscii(dst: usize, lit: Ascii): i32 {
  let n = asciiLen(lit);
  memory.copy(dst, lit + 1, n);
  return n;
}

/** Writes n in decimal at dst; returns bytes written. */
export function putDecimal(dst: usize, n: u32): i32 {
  let len = 1;
  for (let t = n; t >= 10; t /= 10) len++;
  for (let i = len - 1; i >= 0; i--) {
    store<u8>(dst + i, <u8>(48 + n % 10));
    n /= 10;
  }
  return len;
}

/** Writes a dotted IPv4 address; its length (at most 15). */
export function putIpText(dst: usize, ip: u32): i32 {
  let n = 0;
  for (let shift = 24; shift >= 0; shift -= 8) {
    n += putDecimal(dst + n, (ip >>> shift) & 255);
    if (shift) store<u8>(dst + n++, 46);
  }
  return n;
}

/** Parses 1..maxDigits decimal digits exactly filling [p, p+n); -1 on anything else. */
export function parseDecimal(p: usize, n: i32, maxDigits: i32): i64 {
  if (n < 1 || n > maxDigits) return -1;
  let v: i64 = 0;
  for (let i = 0; i < n; i++) {
    let d = <i32>load<u8>(p + i) - 48;
    if (<u32>d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** The values splitFields found, field i at fieldValues + 4 * i. */
export const fieldValues = memory.data(16);

/** Splits [p, p+n) at `sep` into exactly `count` (at most 4) fields of 1..maxDigits decimal digits,
 *  each at most `max`, stored at fieldValues; false when it is not that. */
export function splitFields(p: usize, n: i32, sep: u32, count: i32, maxDigits: i32, max: i64): bool {
  let start = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    if (i == n || <u32>load<u8>(p + i) == sep) {
      let v = parseDecimal(p + start, i - start, maxDigits);
      if (v < 0 || v > max || parts == count) return false;
      store<u32>(fieldValues + (parts << 2), <u32>v);
      parts++;
      start = i + 1;
    }
  }
  return parts == count;
}

/** Parses a dotted IPv4 address; -1 when malformed. */
export function parseIp(p: usize, n: i32): i64 {
  if (!splitFields(p, n, 46, 4, 3, 255)) return -1;
  return <i64>((load<u32>(fieldValues) << 24) | (load<u32>(fieldValues + 4) << 16) | (load<u32>(fieldValues + 8) << 8) | load<u32>(fieldValues + 12));
}
