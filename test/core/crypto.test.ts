// The core's SHA-256 and HMAC-SHA256 (control authentication, OTA) against published vectors and
// Node's crypto on random inputs across block boundaries.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { createHash, createHmac } from "node:crypto";
import { fresh } from "../helpers/core.ts";

const core = fresh();
function digest(key: Uint8Array | null, msg: Uint8Array): string {
  const input = key ? Buffer.concat([key, msg]) : Buffer.from(msg);
  core.writeIo(input);
  core.exports.digest(key ? key.length : -1, msg.length);
  return Buffer.from(core.read(core.io, 32)).toString("hex");
}

describe("SHA-256 (FIPS 180-4)", () => {
  it.each([
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
  ])("%j", (msg, hex) => {
    expect(digest(null, Buffer.from(msg))).toBe(hex);
  });

  it("matches Node's crypto for every length around the block boundaries", () => {
    for (let n = 0; n <= 200; n++) {
      const msg = Buffer.alloc(n, 0).map((_, i) => (i * 13 + n) & 255);
      expect(digest(null, msg)).toBe(createHash("sha256").update(msg).digest("hex"));
    }
  });
});

describe("HMAC-SHA256 (RFC 4231)", () => {
  it("test case 2", () => {
    expect(digest(Buffer.from("Jefe"), Buffer.from("what do ya want for nothing?"))).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("matches Node's crypto on random keys (up to 64 bytes) and messages", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ maxLength: 300 }), (key, msg) => {
      expect(digest(key, msg)).toBe(createHmac("sha256", Buffer.from(key)).update(msg).digest("hex"));
    }), { numRuns: 500 });
  });
});
