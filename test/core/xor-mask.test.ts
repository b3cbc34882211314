// The xor_mask import (ABI v4): the WebSocket unmask's XOR done by the host. The Node host's against a
// byte-by-byte XOR, and the core's use of it: every payload byte goes through the import, with the mask
// turned to where each piece starts. (The C host's is checked the same way in native/test/host_test.c,
// run by test/native-posix.test.ts; the protocol suites run the echo through every host.)
import { describe, expect, it } from "vitest";
import { C } from "../../tools/host/abi.generated.ts";
import { FakeHost } from "../helpers/core.ts";
import { EchoSession, frame } from "../helpers/ws.ts";

describe("xor_mask", () => {
  it("on the Node host: every alignment, length and mask phase as byte by byte; a span outside memory refused", () => {
    const core = new FakeHost().start("http_port=0");
    const mem = core.bytes();
    for (const mask of [0x3d21fa37, 0xffffffff, 0x80]) {
      for (let at = 4000; at < 4008; at++) {
        for (let len = 0; len <= 70; len++) {
          for (let i = 0; i < 96; i++) mem[at - 8 + i] = (i * 7 + len) & 255;
          const want = mem.slice(at - 8, at + 88);
          for (let i = 0; i < len; i++) want[8 + i] ^= (mask >>> (8 * (i & 3))) & 255;
          expect(core.xorMask(at, len, mask | 0)).toBe(C.OK);
          expect(mem.slice(at - 8, at + 88)).toEqual(want);
        }
      }
    }
    mem[mem.length - 1] = 0x55;
    expect(core.xorMask(mem.length - 1, 2, -1)).toBe(C.ERR_RANGE);
    expect(core.xorMask(4000, -1, -1)).toBe(C.ERR_RANGE);
    expect(mem[mem.length - 1]).toBe(0x55);
  });

  it("the core unmasks every payload byte through it, with the mask turned to each piece's first byte", () => {
    const s = new EchoSession();
    expect(s.open()).toMatch(/^HTTP\/1\.1 101 /);
    const key = [0x11, 0x22, 0x33, 0x44];
    const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + 5) & 255);
    const wire = frame({ opcode: 2, payload, mask32: Uint8Array.from(key) });
    const before = s.host.sent.get(s.conn)!.length;
    s.host.calls = [];
    expect(s.feed(wire, () => 37)).toBe(true); // pieces of 37 bytes: the payload's pieces start at every phase
    const xors = s.host.calls.filter((c) => c.name === "xor_mask");
    expect(xors.reduce((n, c) => n + c.args[1], 0)).toBe(payload.length);
    const maskAt = (k: number) => (key[k & 3] | (key[(k + 1) & 3] << 8) | (key[(k + 2) & 3] << 16) | (key[(k + 3) & 3] << 24)) | 0;
    let done = 0;
    for (const c of xors) {
      expect(c.args[2]).toBe(maskAt(done));
      done += c.args[1];
    }
    const echoed = Uint8Array.from(s.host.sent.get(s.conn)!.slice(before));
    expect(echoed.subarray(echoed.length - payload.length)).toEqual(payload);
  });
});
