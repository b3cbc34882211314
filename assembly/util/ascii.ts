// Text the core writes (log lines, HTTP and JSON fragments, names it compares against) as compact
// ASCII: an Ascii value points at a length byte followed by the characters. String literals passed
// where an Ascii is expected are compiled to this form by tools/build/ascii-literals.mjs, so call
// sites stay readable: put("http: listening").
export type Ascii = usize;

// @ts-ignore: decorator
@inline export function asciiLen(a: Ascii): i32 {
  return <i32>load<u8>(a);
}

// @ts-ignore: decorator
@inline export function asciiAt(a: Ascii, i: i32): u32 {
  return <u32>load<u8>(a + 1 + <usize>i);
}

/** The `place`-th (1-based) name of a comma-separated list, as a value that util/log.ts put() prints
 *  like an Ascii: a setting or header name the core already holds in a list needs no second copy. Texts
 *  lie below 64 KiB; such an item is the list's address << 8 | place, so 64 KiB and above. */
// @ts-ignore: decorator
@inline export function listItem(list: Ascii, place: i32): Ascii {
  return (list << 8) | <usize>place;
}

// Named bytes for the text the core parses and writes, instead of raw numbers in the code.
export const TAB: u8 = 9;
export const LF: u8 = 10;
export const CR: u8 = 13;
export const SPACE: u8 = 32;
export const QUOTE: u8 = 34; // "
export const HASH: u8 = 35; // #
export const PLUS: u8 = 43; // +
export const COMMA: u8 = 44;
export const MINUS: u8 = 45;
export const SLASH: u8 = 47;
export const COLON: u8 = 58;
export const BACKSLASH: u8 = 92;
export const BRACE_OPEN: u8 = 123; // {
export const BRACE_CLOSE: u8 = 125; // }
