// The core's strict JSON parser (RFC 8259) against JSON.parse and hand-picked edge cases.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { fresh } from "../helpers/core.ts";

const core = fresh();
const parse = (text: string | Uint8Array, depth = 8) =>
  core.exports.json_parse(core.writeIo(typeof text === "string" ? Buffer.from(text) : text), depth);

describe("JSON objects", () => {
  it.each([
    ['{"action":"ping"}', 1],
    ['{}', 0],
    [' {"a":1, "b":[1,2,{"c":null}], "d":{"e":true,"f":false}} \n', 3],
    ['{"n":-0.5e+10,"m":0,"k":12.25E-3}', 3],
    ['{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"}', 1],
    ['{"é":"ünïcödé 😀"}', 1],
    ['{"a":{"x":1},"b":{"x":2}}', 2], // the same key in sibling objects is fine
  ])("accepts %s (%d members)", (text, members) => {
    expect(parse(text)).toBe(members);
  });

  it.each([
    ['{"a":1,"a":2}', "duplicate key"],
    ['{"a":{"x":1,"x":2}}', "duplicate nested key"],
    ['{"\\u0061":1,"a":2}', "escaped key"],
    ['[1,2]', "not an object"],
    ['"text"', "not an object"],
    ['{"a":1}x', "text after"],
    ['{"a":1,}', "trailing comma"],
    ["{'a':1}", "single quotes"],
    ['{"a":01}', "leading zero"],
    ['{"a":1.}', "bare point"],
    ['{"a":.5}', "no integer part"],
    ['{"a":+1}', "plus sign"],
    ['{"a":1e}', "empty exponent"],
    ['{"a":NaN}', "NaN"],
    ['{"a":tru}', "truncated literal"],
    ['{"a":"\\x41"}', "bad escape"],
    ['{"a":"\\u12G4"}', "bad unicode escape"],
    ['{"a":"\\ud83d"}', "lone high surrogate"],
    ['{"a":"\\ude00"}', "lone low surrogate"],
    ['{"a":"\\ud83d\\u0041"}', "high surrogate then non-surrogate"],
    ['{"a":"line\nbreak"}', "raw control character"],
    ['{"a":"unterminated}', "unterminated string"],
    ['{"a" 1}', "missing colon"],
    ['', "empty"],
  ])("refuses %s (%s)", (text) => {
    expect(parse(text)).toBeLessThan(0);
  });

  it("refuses invalid UTF-8 in strings", () => {
    expect(parse(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]))).toBeLessThan(0);
  });

  it("reports where the first error is", () => {
    expect(parse('{"a":1,"b":x}')).toBe(-1 - 11);
  });

  it("enforces the depth limit", () => {
    const nest = (d: number) => '{"a":' + "[".repeat(d) + "]".repeat(d) + "}";
    expect(parse(nest(3), 4)).toBe(1);
    expect(parse(nest(4), 4)).toBeLessThan(0);
  });

  it("agrees with JSON.parse on generated values (objects without duplicate or escaped keys)", () => {
    const key = fc.string({ unit: "grapheme", maxLength: 6 }).filter((k) => !/["\\\u0000-\u001f]/.test(k));
    const obj = fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 });
    fc.assert(fc.property(obj, (o) => {
      const text = JSON.stringify(o);
      fc.pre(Buffer.byteLength(text) <= 1536); // one control line fits the io buffer
      expect(parse(text)).toBe(Object.keys(o).length);
    }), { numRuns: 3000 });
  });

  it("never accepts what JSON.parse refuses (mutated texts)", () => {
    const base = '{"action":"write_pin","pin":2,"value":1,"timeout":0.5,"x":[true,null,"é\\n"]}';
    fc.assert(fc.property(fc.nat(base.length - 1), fc.constantFrom(..."{}[]\",:\\0-.eEtnfu x\u0001"), (at, ch) => {
      const text = base.slice(0, at) + ch + base.slice(at + 1);
      let ok = true;
      let value: unknown;
      try { value = JSON.parse(text); } catch { ok = false; }
      const isPlainObject = ok && typeof value === "object" && value !== null && !Array.isArray(value);
      if (!isPlainObject) expect(parse(text)).toBeLessThan(0);
    }), { numRuns: 3000 });
  });
});
