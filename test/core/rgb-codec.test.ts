// The core's RGB codec against the TypeScript reference, over random and adversarial inputs.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { C } from "../../tools/host/abi.generated.ts";
import * as ref from "../../tools/rgb/reference.ts";
import { gammaTable } from "../../tools/gen/gamma.ts";
import { fresh } from "../helpers/core.ts";

const core = fresh();
const parse = (bytes: Uint8Array, format: number) => core.exports.rgb_parse(core.writeIo(bytes), format);
const enc = (s: string) => new TextEncoder().encode(s);
const format = (rgb: number, fmt: number) => Buffer.from(core.read(core.io, core.exports.rgb_format(rgb, fmt))).toString("latin1");

// Inputs drawn mostly from the characters that matter, so near-misses are common.
const textish = fc
  .array(fc.constantFrom(..."0123456789,,,\r\n #aAfFgx-+ ".split("")), { maxLength: 20 })
  .map((a) => enc(a.join("")));
const colour = fc.integer({ min: 0, max: 0xffffff });

describe("RGB text form (the tutorial's r,g,b)", () => {
  it.each([
    ["0,0,0", 0],
    ["255,255,255", 0xffffff],
    ["12,34,56\r\n", 0x0c2238],
    ["1,2,3\n", 0x010203],
    ["007,8,9", 0x070809],
    ["", C.RGB_ERR_EMPTY],
    ["\r\n", C.RGB_ERR_EMPTY],
    ["1,2", C.RGB_ERR_FIELDS],
    ["1,2,3,4", C.RGB_ERR_FIELDS],
    ["0,0,0,", C.RGB_ERR_FIELDS],
    ["0,0,0, ", C.RGB_ERR_FIELDS],
    ["1,x,3,4", C.RGB_ERR_DIGIT],
    ["1,,3", C.RGB_ERR_DIGIT],
    [" 1,2,3", C.RGB_ERR_DIGIT],
    ["1,2,3 ", C.RGB_ERR_DIGIT],
    ["-1,2,3", C.RGB_ERR_DIGIT],
    ["256,0,0", C.RGB_ERR_RANGE],
    ["0255,0,0", C.RGB_ERR_RANGE],
    ["1,2,3\n\n", C.RGB_ERR_TRAILING],
    ["1,2\n,3", C.RGB_ERR_TRAILING],
    ["b'1,2,3'", C.RGB_ERR_DIGIT],
  ])("%j -> %d", (input, expected) => {
    expect(parse(enc(input), C.RGB_FMT_TEXT)).toBe(expected);
  });

  it("agrees with the reference on arbitrary input", () => {
    fc.assert(fc.property(fc.oneof(textish, fc.uint8Array({ maxLength: 24 })), (b) => {
      expect(parse(b, C.RGB_FMT_TEXT)).toBe(ref.parseText(b));
    }), { numRuns: 20000 });
  });

  it("formats every colour as the tutorial server does and parses it back", () => {
    fc.assert(fc.property(colour, (rgb) => {
      const text = format(rgb, C.RGB_FMT_TEXT);
      expect(text).toBe(ref.formatText(rgb));
      expect(parse(enc(text), C.RGB_FMT_TEXT)).toBe(rgb);
    }), { numRuns: 5000 });
  });
});

describe("RGB #rrggbb and binary forms", () => {
  it.each([
    ["#000000", 0],
    ["#FfA01b", 0xffa01b],
    ["#ffa01b\n", 0xffa01b],
    ["ffa01b", C.RGB_ERR_LENGTH],
    ["#ffa01", C.RGB_ERR_LENGTH],
    ["#ffa01g", C.RGB_ERR_HEX],
    ["xffa01b", C.RGB_ERR_HEX],
  ])("%j -> %d", (input, expected) => {
    expect(parse(enc(input), C.RGB_FMT_HEX)).toBe(expected);
  });

  it("agrees with the reference on arbitrary input", () => {
    fc.assert(fc.property(fc.oneof(textish, fc.uint8Array({ maxLength: 10 })), (b) => {
      expect(parse(b, C.RGB_FMT_HEX)).toBe(ref.parseHex(b));
      expect(parse(b, C.RGB_FMT_BINARY)).toBe(ref.parseBinary(b));
    }), { numRuns: 20000 });
  });

  it("round-trips every format", () => {
    fc.assert(fc.property(colour, (rgb) => {
      expect(format(rgb, C.RGB_FMT_HEX)).toBe(ref.formatHex(rgb));
      expect(parse(enc(format(rgb, C.RGB_FMT_HEX)), C.RGB_FMT_HEX)).toBe(rgb);
      const bin = core.read(core.io, core.exports.rgb_format(rgb, C.RGB_FMT_BINARY));
      expect(parse(bin, C.RGB_FMT_BINARY)).toBe(rgb);
    }), { numRuns: 3000 });
  });

  it("refuses an unknown format instead of guessing", () => {
    expect(parse(enc("1,2,3"), 9)).toBe(C.ERR_INVAL);
    expect(core.exports.rgb_format(0x010203, 9)).toBe(C.ERR_INVAL);
  });
});

describe("gamma table", () => {
  it("is the 2.2 curve, monotonic, ends pinned", () => {
    const t = gammaTable();
    expect(t[0]).toBe(0);
    expect(t[255]).toBe(255);
    for (let i = 1; i < 256; i++) expect(t[i]).toBeGreaterThanOrEqual(t[i - 1]);
    expect(t[128]).toBe(Math.round(255 * Math.pow(128 / 255, 2.2)));
  });
});
