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
