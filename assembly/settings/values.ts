// Value parsers the settings share with the services: a name safe in any topic, a comma list of flags,
// and a colour as a person types it. They sit below the generated settings (assembly/settings/
// settings.generated.ts) so that config needs nothing from the services; assembly/rgb/codec.ts re-exports
// the colour parsers for the RGB protocol.
import { Ascii, HASH, COMMA, MINUS, DIGIT_0, UNDERSCORE, LOWER_A, CASE_BIT } from "../util/ascii";
import { hexValue, inList } from "../util/bytes";
import { RGB_ERR_EMPTY, RGB_ERR_FIELDS, RGB_ERR_DIGIT, RGB_ERR_RANGE, RGB_ERR_TRAILING, RGB_ERR_LENGTH, RGB_ERR_HEX } from "../abi/host.generated";

/** A topic level or client id: 1 to cap letters, digits, '-' and '_' only, so it is safe in any topic and in
 *  Home Assistant's object ids. */
export function isName(p: usize, n: i32, cap: i32): bool {
  if (n < 1 || n > cap) return false;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    let ok = c - DIGIT_0 < 10 || (c | CASE_BIT) - LOWER_A < 26 || c == MINUS || c == UNDERSCORE;
    if (!ok) return false;
  }
  return true;
}

/** A comma list of names from `list` (whose last name, "off", sets no bit) as bits (name i: 1 << i, kept
 *  within mask); -1 when an item is not in the list. */
export function flagBits(list: Ascii, mask: i32, p: usize, n: i32): i32 {
  let bits = 0;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && load<u8>(p + i) != COMMA) continue;
    let m = inList(list, p + start, i - start);
    if (m <= 0) return -1;
    bits |= (1 << (m - 1)) & mask;
    start = i + 1;
  }
  return bits;
}

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

/** "r,g,b", decimal 0..255 each (the tutorial's wire format): 0x00RRGGBB, or a negative RGB_ERR_ code. */
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
    if (b == COMMA) {
      if (digits == 0) return RGB_ERR_DIGIT;
      if (++fields == 3 && i < n) return RGB_ERR_FIELDS; // a comma after the third field
      rgb = (rgb << 8) | value;
      value = 0;
      digits = 0;
    } else {
      let d = b - DIGIT_0;
      if (<u32>d > 9) return RGB_ERR_DIGIT;
      if (++digits > 3) return RGB_ERR_RANGE;
      value = value * 10 + d;
      if (value > 255) return RGB_ERR_RANGE;
    }
  }
  return fields == 3 ? rgb : RGB_ERR_FIELDS;
}

/** "#rrggbb": 0x00RRGGBB, or a negative RGB_ERR_ code. */
export function parseHex(p: usize, n: i32): i32 {
  n = bodyLength(p, n);
  if (n < 0) return n;
  if (n == 0) return RGB_ERR_EMPTY;
  if (n != 7) return RGB_ERR_LENGTH;
  if (load<u8>(p) != HASH) return RGB_ERR_HEX;
  let rgb = 0;
  for (let i = 1; i < 7; i++) {
    let v = hexValue(load<u8>(p + i));
    if (v < 0) return RGB_ERR_HEX;
    rgb = (rgb << 4) | v;
  }
  return rgb;
}

/** Parses a value a person typed or a board sent: "#rrggbb" or "r,g,b". */
export function parseEither(p: usize, n: i32): i32 {
  return n > 0 && load<u8>(p) == HASH ? parseHex(p, n) : parseText(p, n);
}
