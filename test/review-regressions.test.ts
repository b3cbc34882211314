// Regression tests for the findings of a code review of the core (each failed before its fix).
import { describe, it, expect } from "vitest";
import { createHash } from "node:crypto";
import { FakeHost } from "./helpers/core.ts";
import { EchoSession, frame, parseFrames, upgradeRequest, RFC_KEY } from "./helpers/ws.ts";
import { C } from "../tools/host/abi.generated.ts";

function controlHost(config: string): FakeHost {
  const h = new FakeHost();
  h.overrides.tcp_listen = (port) => (port === 80 ? 1 : 2); // distinct listener handles
  h.start(config, 0);
  return h;
}
function pageHost(window?: number): FakeHost {
  const h = new FakeHost();
  const asset = new Uint8Array(5000).fill(0x41);
  h.overrides.asset_find = () => 0;
  h.overrides.asset_size = () => asset.length;
  h.overrides.asset_read = (_id, off, p, n) => { const part = asset.subarray(off, off + n); h.core.write(p, part); return part.length; };
  if (window !== undefined) h.sendWindow = (_c, n) => Math.min(n, window);
  h.start("http_port=80\ncontrol_port=0", 0);
  h.core.exports.tcp_accepted(1, 7, 0x7f000001, 5000, 0);
  return h;
}
const accept = (key: string) => createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");

describe("review findings, fixed", () => {
  it("F1 rgb client: a tcp_sent after reply bytes arrived sends those bytes back, and a failing send stops polling for good", () => {
    const h = new FakeHost();
    let sends = 0;
    h.overrides.tcp_send = (_c, _p, n) => (sends++ === 0 ? n : C.ERR_CLOSED);
    h.start("http_port=0\ncontrol_port=0\nrgb_server=10.0.0.2:80", 0);
    h.core.exports.tick(0);
    h.core.exports.tcp_connected(100, C.OK, 1);
    h.data(100, "12,34", 2);
    h.core.exports.tcp_sent(100, 8, 3);
    expect(sends).toBe(1); // before the fix: flush() re-sent "12,34"
    for (let t = 10; t < 20000; t += 100) h.core.exports.tick(t);
    expect(h.calls.filter((c) => c.name === "tcp_connect").length).toBeGreaterThan(1); // before the fix: active never cleared
  });

  it("F2 ws client: a tcp_sent in the middle of the 101 echoes the partial status line to the server", () => {
    const h = new FakeHost();
    h.start("http_port=0\ncontrol_port=0\nws_url=ws://10.0.0.3:9000/x", 0);
    h.core.exports.tick(0);
    h.core.exports.tcp_connected(100, C.OK, 1);
    const before = h.sentText(100).length;
    h.data(100, "HTTP/1.1 101 Swi", 2);
    h.core.exports.tcp_sent(100, before, 3);
    expect(h.sentText(100).slice(before)).toBe(""); // before the fix: "HTTP/1.1 101 Swi"
  });

  it("F3 page: a peer half-close (FIN) or the deadline mid-stream writes a 400/408 into the body", () => {
    const h = pageHost();
    h.data(7, "GET / HTTP/1.0\r\n\r\n", 1);
    h.core.exports.tcp_closed(7, C.TCP_FIN, 2);
    h.core.exports.tcp_sent(7, 100, 3);
    expect(h.sentText(7).indexOf("HTTP/1.1 400")).toBe(-1); // failed before the fix
    const h2 = pageHost(100);
    h2.data(7, "GET / HTTP/1.1\r\nHost: b\r\n\r\n", 1);
    h2.core.exports.tick(6000);
    expect(h2.sentText(7).indexOf("HTTP/1.1 408")).toBe(-1); // failed before the fix
  });

  it("F4 /control WebSocket: a ping between fragments (or our keep-alive ping) corrupts the command", () => {
    const cmd = '{"action":"ping","pad":"' + "x".repeat(140) + '"}';
    const h = controlHost("http_port=80\ncontrol_port=12345\ncontrol_insecure=1");
    h.core.exports.tcp_accepted(1, 7, 0x7f000001, 5000, 0);
    h.data(7, upgradeRequest("", undefined, "/control"), 1);
    const head = h.sentText(7).length;
    h.data(7, Buffer.concat([
      frame({ opcode: 1, payload: Buffer.from(cmd.slice(0, 150)), fin: false }),
      frame({ opcode: 9, payload: Buffer.from("hello-ping") }),
      frame({ opcode: 0, payload: Buffer.from(cmd.slice(150)), fin: true }),
    ]), 2);
    const texts = parseFrames(Uint8Array.from(h.sent.get(7)!).subarray(head)).frames.filter((f) => f.opcode === 1);
    expect(JSON.parse(Buffer.from(texts[0].payload).toString()).pong).toBe(true); // before the fix: invalid JSON error
  });

  it("F5 echo: tcp_sent releases a held echo header, so bad UTF-8 then closes TCP without a 1007 close frame", () => {
    const s = new EchoSession();
    s.open();
    const f = frame({ opcode: 1, payload: Uint8Array.from([0xff, 0x41]) });
    s.host.data(s.conn, f.subarray(0, 6), s.now);
    s.host.core.exports.tcp_sent(s.conn, 10, s.now);
    s.host.data(s.conn, f.subarray(6), s.now);
    expect(s.outcome().close).toBe(1007); // before the fix: "81 02" sent, then TCP closed
  });

  it("F6 control: a command with its own \"error\" field is refused (it would collide with the reply's), never echoed", () => {
    const h = controlHost("http_port=0\ncontrol_port=12345\ncontrol_insecure=1");
    h.core.exports.tcp_accepted(2, 9, 0x7f000001, 5000, 0);
    h.data(9, '{"action":"nope","error":1}\n{"action":"ping","error":"x"}\n', 1);
    const [bad, good] = h.sentText(9).trim().split("\n").map((l) => JSON.parse(l));
    expect(typeof bad.error).toBe("string");
    expect(good.error).toBe('a command may not have a field named "error"');
  });

  it("F7 config: a 'key' line without '=' logs the secret", () => {
    const h = new FakeHost();
    expect(() => h.start("http_port=0\nkey:0123456789abcdefSECRET")).toThrow();
    expect(h.logs.join("\n")).not.toContain("SECRET"); // failed before the fix
  });

  it("F8 control: an unauthenticated peer may send invalid JSON lines forever without being closed", () => {
    const h = controlHost("http_port=0\ncontrol_port=12345\nkey=0123456789abcdef0123");
    h.core.exports.tcp_accepted(2, 9, 0x7f000001, 5000, 0);
    for (let i = 0; i < 3; i++) h.data(9, "not json\n", i + 1);
    expect(h.closed.has(9) || h.aborted.has(9)).toBe(true); // failed before the fix
  });

  it("F9 ws client: accepts a 101 that picks an extension and subprotocol it never offered (RFC 6455 4.1)", () => {
    const h = new FakeHost();
    h.start("http_port=0\ncontrol_port=0\nws_url=ws://10.0.0.3:9000/x", 0);
    h.core.exports.tick(0);
    h.core.exports.tcp_connected(100, C.OK, 1);
    const key = /Sec-WebSocket-Key: (\S+)/.exec(h.sentText(100))![1];
    h.data(100, `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`, 2);
    expect(h.aborted.has(100)).toBe(true); // before the fix: "connected"
  });

  it("F10 HTTP: Connection split over two field lines is refused; HTTP/1.1 without Host is answered; 426 for the version lacks Upgrade", () => {
    const split = `GET /echo HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nConnection: keep-alive\r\nSec-WebSocket-Key: ${RFC_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    expect(new EchoSession().open(split)).toMatch(/^HTTP\/1\.1 101/); // before the fix: 400
    const s = new EchoSession();
    s.feed(Buffer.from("GET /rgb HTTP/1.1\r\n\r\n"));
    expect(s.host.sentText(7)).toMatch(/^HTTP\/1\.1 400/); // before the fix: 200 (RFC 9112 3.2 MUST 400)
    expect(new EchoSession().open(upgradeRequest().replace("Version: 13", "Version: 8"))).toMatch(/\r\nUpgrade: websocket\r\n/); // fails (RFC 9110 15.5.22)
  });
});
