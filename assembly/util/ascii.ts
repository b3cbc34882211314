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

// Named bytes for the text the core parses and writes, instead of raw numbers in the code
// (test/core/ascii-names.test.ts keeps it so).
export const TAB: u8 = 9;
export const LF: u8 = 10;
export const CR: u8 = 13;
export const SPACE: u8 = 32; // also the first printable byte
export const BANG: u8 = 33; // !
export const QUOTE: u8 = 34; // "
export const HASH: u8 = 35; // #
export const STAR: u8 = 42; // *
export const PLUS: u8 = 43; // +
export const COMMA: u8 = 44;
export const MINUS: u8 = 45;
export const DOT: u8 = 46;
export const SLASH: u8 = 47;
export const DIGIT_0: u8 = 48;
export const COLON: u8 = 58;
export const EQUALS: u8 = 61;
export const QUESTION: u8 = 63; // ?
export const AT_SIGN: u8 = 64; // @
export const UPPER_A: u8 = 65;
export const BRACKET_OPEN: u8 = 91; // [
export const BACKSLASH: u8 = 92;
export const CARET: u8 = 94; // ^
export const UNDERSCORE: u8 = 95;
export const LOWER_A: u8 = 97;
export const LOWER_B: u8 = 98;
export const LOWER_E: u8 = 101;
export const LOWER_F: u8 = 102;
export const LOWER_G: u8 = 103;
export const LOWER_N: u8 = 110;
export const LOWER_R: u8 = 114;
export const LOWER_T: u8 = 116;
export const LOWER_U: u8 = 117;
export const BRACE_OPEN: u8 = 123; // {
export const PIPE: u8 = 124; // |
export const BRACE_CLOSE: u8 = 125; // }
export const TILDE: u8 = 126; // ~
export const DEL: u8 = 127; // the first byte past the printable ones
/** Or-ed into an ASCII letter, it makes it lower case. */
export const CASE_BIT: u8 = 32;
