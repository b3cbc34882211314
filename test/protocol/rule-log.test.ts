// Every close and refusal logs which rule the peer broke (docs/DESIGN.md "Reading the core"): for each
// rule a real peer over loopback breaks it (raw TCP requests, hand-built WebSocket frames, a control
// client), and the board's own log must name it: "http: <status> to <address>: <rule>", "ws: closing
// <address> with <code>: <rule>", "control: closing <address>: <rule>". Runs on every host.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { startBoard, stopBoards, freePort, waitFor, exchange, type TestBoard } from "../helpers/boards.ts";
import { frame, closeFrame } from "../helpers/ws.ts";
import dgram from "node:dgram";

const KEY = "correct horse battery staple";
let board: TestBoard;
let http = 0;
let control = 0;

beforeAll(async () => {
  http = await freePort();
  control = await freePort();
  board = await startBoard(
    [
      `http_port=${http}`, `control_port=${control}`, `key=${KEY}`, "ws_echo=1", "ws_max_message=150", "http_line_max=192",
      "http_head_max=512", "http_timeout_ms=400", "control_auth_ms=400", "control_line_max=128", "ws_origins=http://board",
      "rgb_source=fixed", "rgb=1,2,3", "log_repeat_ms=0",
    ].join("\n"),
  );
});
afterAll(stopBoards);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Waits for the board's log line `line` (whole line, exact) among those after the first `from`. */
async function logged(line: string, from: number): Promise<void> {
  const re = new RegExp(`^${escape(line)}$`);
  await waitFor(() => board.lines.slice(from).some((l) => re.test(l.text)), `the log line "${line}"`, 5000);
}

const H = "Host: board\r\n";
const UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
const KEY_HEADER = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

describe("an HTTP error answer names the rule in the log", () => {
  it.each([
    ["no HTTP version", "GET /rgb\r\n\r\n", 400, "request line"],
    ["an unknown HTTP version", "GET /rgb HTTP/2.0\r\n\r\n", 505, "version"],
    ["a folded header line", `GET /rgb HTTP/1.1\r\n${H} folded\r\n\r\n`, 400, "header line"],
    ["a header line without a colon", `GET /rgb HTTP/1.1\r\n${H}no colon here\r\n\r\n`, 400, "header line"],
    ["two Content-Length headers", `PUT /rgb HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 1\r\n\r\n1`, 400, "content-length"],
    ["a body over 64 bytes", `PUT /rgb HTTP/1.1\r\n${H}Content-Length: 65\r\n\r\n`, 413, "content-length"],
    ["a chunked body", `PUT /rgb HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, 501, "transfer-encoding"],
    ["HTTP/1.1 without Host", "GET /rgb HTTP/1.1\r\n\r\n", 400, "host"],
    ["a request line over http_line_max", `GET /${"a".repeat(300)} HTTP/1.1\r\n\r\n`, 414, "http_line_max"],
    ["headers over http_head_max", `GET /rgb HTTP/1.1\r\n${H}${"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(12)}\r\n`, 431, "http_head_max"],
    ["a path the board does not serve", `GET /nothing HTTP/1.1\r\n${H}\r\n`, 404, "route"],
    ["a method /rgb does not take", `DELETE /rgb HTTP/1.1\r\n${H}\r\n`, 405, "method"],
    ["a colour that does not parse", `PUT /rgb HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nred!!`, 400, "value"],
    ["a WebSocket route without Upgrade", `GET /echo HTTP/1.1\r\n${H}\r\n`, 426, "upgrade"],
    ["an upgrade without a key", `GET /echo HTTP/1.1\r\n${H}${UPGRADE}\r\n`, 400, "handshake"],
    ["an upgrade with two keys", `GET /echo HTTP/1.1\r\n${H}${UPGRADE}${KEY_HEADER}${KEY_HEADER}\r\n`, 400, "sec-websocket-key"],
    ["an upgrade to version 8", `GET /echo HTTP/1.1\r\n${H}${UPGRADE.replace("13", "8")}${KEY_HEADER}\r\n`, 426, "sec-websocket-version"],
    ["an Origin outside ws_origins", `GET /echo HTTP/1.1\r\n${H}${UPGRADE}${KEY_HEADER}Origin: http://elsewhere\r\n\r\n`, 403, "ws_origins"],
  ])("%s", async (_what, request, status, rule) => {
    const from = board.lines.length;
    const r = await exchange(http, [request]);
    expect(r.reply.startsWith(`HTTP/1.1 ${status} `), r.reply.slice(0, 40)).toBe(true);
    await logged(`http: ${status} to 127.0.0.1: ${rule}`, from);
  });

  it("a request cut short by the peer's FIN: incomplete", async () => {
    const from = board.lines.length;
    const r = await exchange(http, [`GET /rgb HTTP/1.1\r\n${H}`], { fin: true });
    expect(r.reply.startsWith("HTTP/1.1 400 ")).toBe(true);
    await logged("http: 400 to 127.0.0.1: incomplete", from);
  });

  it("a request that never ends: http_timeout_ms", async () => {
    const from = board.lines.length;
    const r = await exchange(http, [`GET /rgb HTTP/1.1\r\n${H}`], { ms: 3000 });
    expect(r.reply.startsWith("HTTP/1.1 408 ")).toBe(true);
    await logged("http: 408 to 127.0.0.1: http_timeout_ms", from);
  });
});

/** The close code of the first close frame after the 101, or null. */
function closeCode(reply: string): number | null {
  const at = reply.indexOf("\r\n\r\n");
  if (!reply.startsWith("HTTP/1.1 101 ") || at < 0) return null;
  const b = Buffer.from(reply.slice(at + 4), "latin1");
  for (let i = 0; i + 3 < b.length; ) {
    const len = b[i + 1] & 127;
    if ((b[i] & 15) === 8) return (b[i + 2] << 8) | b[i + 3];
    i += 2 + len;
  }
  return null;
}

const upgrade = (path: string) => `GET ${path} HTTP/1.1\r\n${H}${UPGRADE}${KEY_HEADER}\r\n`;
const bytes = (n: number, b = 0x61) => new Uint8Array(n).fill(b);

describe("a WebSocket close names the rule in the log", () => {
  it.each([
    ["an RSV bit set", "/echo", [frame({ opcode: 1, payload: bytes(3), rsv: 4 })], 1002, "rsv bits"],
    ["an unmasked client frame", "/echo", [frame({ opcode: 1, payload: bytes(3), mask: false })], 1002, "mask bit"],
    ["a 64-bit length with its top bit set", "/echo", [Uint8Array.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4])], 1002, "length"],
    ["a fragmented ping", "/echo", [frame({ opcode: 9, payload: bytes(1), fin: false })], 1002, "control frame"],
    ["a reserved opcode", "/echo", [frame({ opcode: 3, payload: bytes(1) })], 1002, "opcode"],
    ["a continuation with no message", "/echo", [frame({ opcode: 0, payload: bytes(1) })], 1002, "continuation"],
    ["a new message inside a fragmented one", "/echo", [frame({ opcode: 1, payload: bytes(1), fin: false }), frame({ opcode: 1, payload: bytes(1) })], 1002, "continuation"],
    ["a message over ws_max_message", "/echo", [frame({ opcode: 2, payload: bytes(151) })], 1009, "ws_max_message"],
    ["text that is not UTF-8", "/echo", [frame({ opcode: 1, payload: Uint8Array.from([0xc3, 0x28]) })], 1007, "utf-8"],
    ["a close frame with code 999", "/echo", [closeFrame(999)], 1002, "close code"],
    ["a binary message on /control", "/control", [frame({ opcode: 2, payload: bytes(2) })], 1003, "binary"],
    ["a command over control_line_max", "/control", [frame({ opcode: 1, payload: bytes(129) })], 1009, "control_line_max"],
    ["a command before authenticating that is not JSON", "/control", [frame({ opcode: 1, payload: bytes(3) })], 1008, "json"],
    ["a wrong answer to the challenge", "/control", [frame({ opcode: 1, payload: Buffer.from('{"auth":"00"}') })], 1008, "auth"],
  ])("%s", async (_what, path, frames, code, rule) => {
    const from = board.lines.length;
    const r = await exchange(http, [upgrade(path), ...frames], { ms: 3000 });
    expect(closeCode(r.reply)).toBe(code);
    await logged(`ws: closing 127.0.0.1 with ${code}: ${rule}`, from);
  });

  it("an unauthenticated /control past its deadline: control_auth_ms", async () => {
    const from = board.lines.length;
    const r = await exchange(http, [upgrade("/control")], { ms: 3000 });
    expect(closeCode(r.reply)).toBe(1008);
    await logged("ws: closing 127.0.0.1 with 1008: control_auth_ms", from);
  });
});

describe("a control connection's close names the rule in the log", () => {
  it.each([
    ["a line that is not JSON", ["not json\n"], "json"],
    ["a wrong answer to the challenge", ['{"auth":"00"}\n'], "auth"],
    ["a line over control_line_max", [`${"x".repeat(200)}\n`], "control_line_max"],
    ["silence past the auth deadline", [], "control_auth_ms"],
  ])("%s", async (_what, parts, rule) => {
    const from = board.lines.length;
    const r = await exchange(control, parts, { ms: 3000 });
    expect(r.end).not.toBe("open");
    await logged(`control: closing 127.0.0.1: ${rule}`, from);
  });
});

describe("a bus datagram dropped names the rule in the log", () => {
  it.each([
    ["shorter than a header", () => Buffer.alloc(10), "length"],
    ["another protocol version", () => Buffer.concat([Buffer.from([0x50, 0x57, 9]), Buffer.alloc(37)]), "version"],
    ["a tag made with another key", () => Buffer.concat([Buffer.from([0x50, 0x57, 1, 2]), Buffer.alloc(36, 7)]), "tag"],
  ])("%s", async (_what, datagram, rule) => {
    const port = await freePort();
    const bus = await startBoard(`bus=1\nbus_port=${port}\nbus_peers=127.0.61.1\nkey=${KEY}\nhttp_port=0\ncontrol_port=0`, { host: "127.0.61.1", name: "bus" });
    const from = bus.lines.length;
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    try {
      // a few, a little apart: UDP may lose one, and the first ones of a kind always reach the log
      for (let i = 0; i < 3; i++) {
        sock.send(datagram(), port, "127.0.61.1");
        await new Promise((r) => setTimeout(r, 20));
      }
      const re = new RegExp(`^bus: dropped a datagram from 127\\.0\\.0\\.1: ${rule}$`);
      await waitFor(() => bus.lines.slice(from).some((l) => re.test(l.text)), `the log line naming ${rule}`, 5000);
    } finally {
      sock.close();
      await bus.stop();
    }
  });
});
