// WebSocket conformance of the core's /echo endpoint, organised like the Autobahn TestSuite's case
// categories: handshake, framing, ping/pong, reserved bits, opcodes, fragmentation, UTF-8, limits,
// close, timers and flow control. The core is driven directly, so every case is exact and fast.
import { describe, it, expect } from "vitest";
import { C } from "../../tools/host/abi.generated.ts";
import { EchoSession, frame, text, closeFrame, upgradeRequest, RFC_ACCEPT, RFC_KEY } from "../helpers/ws.ts";

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
const oneByteAtATime = () => 1;

function session(config = "", opts: { window?: number } = {}) {
  const s = new EchoSession(config, opts);
  expect(s.open()).toMatch(/^HTTP\/1\.1 101 /);
  return s;
}

describe("1 handshake (RFC 6455 4.2)", () => {
  it("answers the RFC's sample key with the RFC's accept value", () => {
    const s = new EchoSession();
    const head = s.open();
    expect(head).toContain(`Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\n`);
    expect(head).toMatch(/Upgrade: websocket\r\n/);
    expect(head).toMatch(/Connection: Upgrade\r\n/);
    expect(head).not.toMatch(/Sec-WebSocket-Extensions/); // permessage-deflate is declined
  });

  it.each([
    ["no Sec-WebSocket-Key", upgradeRequest().replace(/Sec-WebSocket-Key: .*\r\n/, ""), "400"],
    ["a key that is not 16 bytes", upgradeRequest("", "dGhlIHNhbXBsZQ=="), "400"],
    ["a key that is not base64", upgradeRequest("", "dGhlIHNhbXBsZSBub25jZQ!!"), "400"],
    ["two keys", upgradeRequest(`Sec-WebSocket-Key: ${RFC_KEY}\r\n`), "400"],
    ["no Connection: upgrade", upgradeRequest().replace("keep-alive, Upgrade", "keep-alive"), "400"],
    ["no Upgrade header", upgradeRequest().replace("Upgrade: websocket\r\n", ""), "426"],
    ["no version", upgradeRequest().replace("Sec-WebSocket-Version: 13\r\n", ""), "400"],
    ["version 8", upgradeRequest().replace("Version: 13", "Version: 8"), "426"],
    ["POST", upgradeRequest().replace("GET", "POST"), "400"],
  ])("refuses %s with %s", (_what, request, status) => {
    const s = new EchoSession();
    expect(s.open(request)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(s.gone()).toBe(true);
  });

  it("426 names the supported version", () => {
    const s = new EchoSession();
    expect(s.open(upgradeRequest().replace("Version: 13", "Version: 8"))).toContain("Sec-WebSocket-Version: 13\r\n");
  });

  it("accepts header names in any case and Connection as a token list", () => {
    const req = upgradeRequest().replace("Upgrade: websocket", "UPGRADE: WebSocket").replace("Connection: keep-alive, Upgrade", "connection: Keep-Alive ,upgrade");
    expect(new EchoSession().open(req)).toMatch(/^HTTP\/1\.1 101 /);
  });

  it("chooses the first offered subprotocol it supports, and none when none match", () => {
    const s = new EchoSession("ws_protocols=picowire.v1,chat");
    expect(s.open(upgradeRequest("Sec-WebSocket-Protocol: nope, chat, picowire.v1\r\n"))).toContain("Sec-WebSocket-Protocol: chat\r\n");
    const t = new EchoSession("ws_protocols=picowire.v1");
    expect(t.open(upgradeRequest("Sec-WebSocket-Protocol: other\r\n"))).not.toContain("Sec-WebSocket-Protocol");
  });

  it("applies the Origin policy", () => {
    const cfg = "ws_origins=http://a.test,http://b.test";
    expect(new EchoSession(cfg).open(upgradeRequest("Origin: http://b.test\r\n"))).toMatch(/^HTTP\/1\.1 101 /);
    expect(new EchoSession(cfg).open(upgradeRequest("Origin: http://evil.test\r\n"))).toMatch(/^HTTP\/1\.1 403 /);
    expect(new EchoSession(cfg).open(upgradeRequest())).toMatch(/^HTTP\/1\.1 101 /); // no Origin: not a browser
  });

  it("keeps /echo off unless configured (404)", () => {
    expect(new EchoSession("", { echo: false }).open()).toMatch(/^HTTP\/1\.1 404 /);
  });

  // regression (code review): each expectation failed before its fix
  it("refuses Connection split over two field lines, answers HTTP/1.1 without Host with 400, sends Upgrade with the 426", () => {
    const split = `GET /echo HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nConnection: keep-alive\r\nSec-WebSocket-Key: ${RFC_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    expect(new EchoSession().open(split)).toMatch(/^HTTP\/1\.1 101/); // before the fix: 400
    const s = new EchoSession();
    s.feed(Buffer.from("GET /rgb HTTP/1.1\r\n\r\n"));
    expect(s.host.sentText(7)).toMatch(/^HTTP\/1\.1 400/); // before the fix: 200 (RFC 9112 3.2 MUST 400)
    expect(new EchoSession().open(upgradeRequest().replace("Version: 13", "Version: 8"))).toMatch(/\r\nUpgrade: websocket\r\n/); // fails (RFC 9110 15.5.22)
  });
});

describe("2 framing", () => {
  it.each([0, 1, 125, 126, 127, 65535, 65536, 200_000])("echoes a %d-byte binary message, in one piece and byte by byte", (n) => {
    const payload = bytes(n);
    for (const split of [undefined, n < 3000 ? oneByteAtATime : (r: number) => Math.min(r, 7)]) {
      const s = session();
      s.feed(frame({ opcode: 2, payload }), split);
      expect(s.outcome().messages).toEqual([{ binary: true, data: Buffer.from(payload).toString("hex") }]);
    }
  });

  it("echoes many frames delivered in one segment", () => {
    const s = session();
    s.feed(Buffer.concat(Array.from({ length: 50 }, (_, i) => text(`m${i}`))));
    expect(s.outcome().messages.map((m) => m.data)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });

  it("accepts a length in a longer encoding than needed", () => {
    const s = session();
    s.feed(frame({ opcode: 1, payload: Buffer.from("hi"), lengthBytes: 8 }));
    expect(s.outcome().messages).toEqual([{ binary: false, data: "hi" }]);
  });

  it("refuses unmasked client frames with 1002", () => {
    const s = session();
    s.feed(frame({ opcode: 1, payload: Buffer.from("x"), mask: false }));
    expect(s.outcome().close).toBe(1002);
  });

  it("refuses a 64-bit length with the top bit set with 1002 (RFC 6455 5.2)", () => {
    const s = session();
    s.feed(Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]));
    expect(s.outcome().close).toBe(1002);
  });
});

describe("3 ping/pong", () => {
  it("answers a ping with a pong carrying its payload", () => {
    const s = session();
    s.feed(frame({ opcode: 9, payload: Buffer.from("hello") }));
    s.feed(frame({ opcode: 9, payload: bytes(125) }));
    expect(s.outcome().pongs).toEqual(["hello", Buffer.from(bytes(125)).toString("latin1")]);
  });

  it("ignores an unsolicited pong", () => {
    const s = session();
    s.feed(Buffer.concat([frame({ opcode: 10, payload: Buffer.from("x") }), text("after")]));
    expect(s.outcome()).toMatchObject({ pongs: [], close: null, messages: [{ data: "after" }] });
  });

  it.each([
    ["a 126-byte ping", frame({ opcode: 9, payload: bytes(126) })],
    ["a fragmented ping", frame({ opcode: 9, payload: bytes(3), fin: false })],
  ])("refuses %s with 1002", (_w, f) => {
    const s = session();
    s.feed(f);
    expect(s.outcome()).toMatchObject({ pongs: [], close: 1002 });
  });
});

describe("4 reserved bits and opcodes", () => {
  it.each([1, 2, 4, 7])("RSV %d -> 1002", (rsv) => {
    const s = session();
    s.feed(frame({ opcode: 1, payload: Buffer.from("x"), rsv }));
    expect(s.outcome()).toMatchObject({ messages: [], close: 1002 });
  });

  it.each([3, 4, 5, 6, 7, 11, 12, 13, 14, 15])("opcode %d -> 1002", (opcode) => {
    const s = session();
    s.feed(Buffer.concat([text("before"), frame({ opcode, payload: Buffer.from("x") }), text("after")]));
    expect(s.outcome()).toMatchObject({ messages: [{ data: "before" }], close: 1002 });
  });
});

describe("5 fragmentation", () => {
  it("echoes fragments, with pings between them", () => {
    const s = session();
    s.feed(Buffer.concat([
      text("Hel", false),
      frame({ opcode: 9, payload: Buffer.from("p") }),
      frame({ opcode: 0, payload: Buffer.from("lo "), fin: false }),
      frame({ opcode: 0, payload: Buffer.from("world") }),
    ]), oneByteAtATime);
    expect(s.outcome()).toMatchObject({ messages: [{ binary: false, data: "Hello world" }], pongs: ["p"], close: null });
  });

  it.each([
    ["a continuation with nothing to continue", [frame({ opcode: 0, payload: Buffer.from("x") })]],
    ["a new message inside a fragmented one", [text("a", false), text("b")]],
    ["a binary frame inside a fragmented text", [text("a", false), frame({ opcode: 2, payload: bytes(2) })]],
  ])("refuses %s with 1002", (_w, frames) => {
    const s = session();
    s.feed(Buffer.concat(frames as Uint8Array[]));
    expect(s.outcome().close).toBe(1002);
  });
});

describe("6 UTF-8", () => {
  const hex = (h: string) => Buffer.from(h.replace(/ /g, ""), "hex");
  it.each([
    ["ASCII", "48656c6c6f"],
    ["two-byte", "c2a9"],
    ["three-byte", "e282ac"],
    ["four-byte", "f09f9880"],
    ["U+10FFFF", "f48fbfbf"],
    ["U+FFFF", "efbfbf"],
  ])("passes valid %s text", (_w, h) => {
    const s = session();
    s.feed(frame({ opcode: 1, payload: hex(h) }));
    expect(s.outcome().messages).toEqual([{ binary: false, data: hex(h).toString("utf8") }]);
  });

  it("validates a character split across fragments and segments", () => {
    const s = session();
    s.feed(Buffer.concat([frame({ opcode: 1, payload: hex("f09f"), fin: false }), frame({ opcode: 0, payload: hex("9880") })]), oneByteAtATime);
    expect(s.outcome().messages).toEqual([{ binary: false, data: "😀" }]);
  });

  it.each([
    ["a lone continuation byte", "80"],
    ["an overlong 2-byte form", "c0af"],
    ["an overlong 3-byte form", "e080af"],
    ["a surrogate", "eda080"],
    ["above U+10FFFF", "f4908080"],
    ["0xFF", "ff"],
  ])("refuses %s with 1007", (_w, h) => {
    const s = session();
    s.feed(frame({ opcode: 1, payload: Buffer.concat([Buffer.from("ok "), hex(h)]) }));
    expect(s.outcome()).toMatchObject({ messages: [], close: 1007 });
  });

  it("refuses a message that ends inside a character with 1007 (after echoing its bytes: the end decides)", () => {
    const s = session();
    s.feed(frame({ opcode: 1, payload: hex("41e282") }));
    expect(s.outcome().close).toBe(1007);
  });

  it("fails fast: invalid bytes in the first fragment close before the message ends", () => {
    const s = session();
    s.feed(frame({ opcode: 1, payload: hex("41ff41"), fin: false }));
    expect(s.outcome().close).toBe(1007);
  });

  it("does not validate binary messages", () => {
    const s = session();
    s.feed(frame({ opcode: 2, payload: hex("ff80c0") }));
    expect(s.outcome().messages).toEqual([{ binary: true, data: "ff80c0" }]);
  });

  // regression (code review): before the fix "81 02" was sent, then TCP closed
  it("a tcp_sent releases a held echo header, so bad UTF-8 still gets its 1007 close frame", () => {
    const s = new EchoSession();
    s.open();
    const f = frame({ opcode: 1, payload: Uint8Array.from([0xff, 0x41]) });
    s.host.data(s.conn, f.subarray(0, 6), s.now);
    s.host.core.exports.tcp_sent(s.conn, 10, s.now);
    s.host.data(s.conn, f.subarray(6), s.now);
    expect(s.outcome().close).toBe(1007);
  });
});

describe("7 close", () => {
  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])("echoes close code %d, then closes TCP", (code) => {
    const s = session();
    s.feed(closeFrame(code, Buffer.from("bye")));
    expect(s.outcome()).toMatchObject({ close: code, tcpClosed: true });
  });

  it("answers an empty close with a close", () => {
    const s = session();
    s.feed(closeFrame());
    expect(s.outcome()).toMatchObject({ close: 1000, tcpClosed: true });
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])("refuses close code %d with 1002", (code) => {
    const s = session();
    s.feed(closeFrame(code));
    expect(s.outcome().close).toBe(1002);
  });

  it("refuses a 1-byte close payload with 1002 and a non-UTF-8 reason with 1007", () => {
    const a = session();
    a.feed(frame({ opcode: 8, payload: Buffer.from([3]) }));
    expect(a.outcome().close).toBe(1002);
    const b = session();
    b.feed(closeFrame(1000, Buffer.from([0xff])));
    expect(b.outcome().close).toBe(1007);
  });

  it("ignores frames after the close", () => {
    const s = session();
    s.feed(Buffer.concat([closeFrame(1000), text("late")]));
    expect(s.outcome()).toMatchObject({ messages: [], close: 1000 });
  });
});

describe("9 limits", () => {
  it("refuses a message over ws_max_message with 1009, also when only its fragments add up", () => {
    const a = session("ws_max_message=1000");
    a.feed(frame({ opcode: 2, payload: bytes(1000) }));
    a.feed(frame({ opcode: 2, payload: bytes(1001) }));
    expect(a.outcome()).toMatchObject({ messages: [{ binary: true }], close: 1009 });
    const b = session("ws_max_message=1000");
    b.feed(Buffer.concat([frame({ opcode: 2, payload: bytes(600), fin: false }), frame({ opcode: 0, payload: bytes(600) })]));
    expect(b.outcome().close).toBe(1009);
  });

  it("streams a 1 MiB message through a small send window with flow control, byte-exact", () => {
    const s = session("ws_max_message=1048576", { window: 700 });
    const payload = bytes(1 << 20, 5);
    expect(s.feed(frame({ opcode: 2, payload }))).toBe(true);
    const resumes = s.host.calls.filter((c) => c.name === "tcp_resume").length;
    expect(resumes).toBeGreaterThan(100); // the core really stopped and resumed
    const [m] = s.outcome().messages;
    expect(m.data).toBe(Buffer.from(payload).toString("hex"));
  });
});

describe("10 timers", () => {
  it("pings an idle peer after ws_ping_ms and closes with 1001 after ws_idle_ms", () => {
    const s = session("ws_ping_ms=1000\nws_idle_ms=3000\nws_close_ms=500");
    s.tick(999);
    expect(s.outcome().pongs).toEqual([]);
    s.tick(2);
    expect([...s.frames()]).toEqual([0x89, 0]); // one empty ping
    s.tick(2000);
    expect(s.outcome().close).toBe(1001);
    expect(s.gone()).toBe(false); // waiting for the peer's close
    s.tick(501);
    expect(s.host.aborted.has(s.conn)).toBe(true); // the close handshake timed out
    expect(s.host.core.stat(C.STAT_CONNS_USED)).toBe(0);
  });

  it("a ping due while the send side is blocked waits instead of spinning (found by the random session)", () => {
    const s = session("ws_ping_ms=100\nws_idle_ms=0");
    s.host.sendWindow = () => 0; // the peer stopped reading
    s.feed(frame({ opcode: 9, payload: new Uint8Array() })); // its pong waits in the stage
    s.tick(150);
    expect(s.host.core.exports.tick(s.now)).toBeGreaterThan(0); // a real deadline ahead, not "now" forever
    expect(s.frames().length).toBe(0);
    s.host.sendWindow = (_c, n) => n;
    s.host.core.exports.tcp_sent(s.conn, 100, s.now);
    s.tick(60);
    expect([...s.frames()]).toEqual([0x8a, 0, 0x89, 0]); // the pong, then our ping once the peer read again
  });

  // docs/SECURITY.md: on /echo only data messages are life; every library answers pings on its own
  it("a pong is no sign of life on /echo; a data message is", () => {
    const s = session("ws_ping_ms=1000\nws_idle_ms=3000");
    for (let i = 0; i < 3; i++) {
      s.tick(900);
      s.feed(text("hi"));
    }
    expect(s.outcome().close).toBe(null);
    for (let i = 0; i < 4; i++) {
      s.tick(900);
      s.feed(frame({ opcode: 10, payload: new Uint8Array() }));
    }
    expect(s.outcome().close).toBe(1001); // 3000 ms after the last message, pongs or not
  });

});
