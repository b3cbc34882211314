// WebSocket against live peers over loopback: the ws library's client against a virtual board's /echo,
// and the board's own client (ws_url) against a ws server and against servers that lie.
import { describe, it, expect, afterEach } from "vitest";
import net from "node:net";
import { createHash } from "node:crypto";
import WebSocket, { WebSocketServer } from "ws";
import { C } from "../../tools/host/abi.generated.ts";
import { startBoard, stopBoards, freePort, waitFor, wallCap, serverAddressForBoard, nodeOnly } from "../helpers/boards.ts";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await stopBoards();
  for (const c of closers.splice(0)) await c();
});

async function echoBoard(extra = "") {
  const port = await freePort();
  const board = await startBoard(`http_port=${port}\nws_echo=1${extra}`);
  return { board, url: `ws://127.0.0.1:${port}/echo` };
}

function connect(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function roundTrip(ws: WebSocket, data: string | Buffer): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => {
    ws.once("message", (d: Buffer, binary: boolean) => resolve({ data: d, binary }));
    ws.send(data);
  });
}

describe("ws client -> board /echo", () => {
  it("echoes text and binary, from 0 bytes to 1 MiB, byte-exact", async () => {
    const { url } = await echoBoard();
    const ws = await connect(url);
    expect((await roundTrip(ws, "héllo, wörld ✓")).data.toString()).toBe("héllo, wörld ✓");
    for (const n of [0, 125, 126, 65535, 65536, 1 << 20]) {
      const payload = Buffer.alloc(n, 0).map((_, i) => (i * 7) & 255);
      const r = await roundTrip(ws, payload);
      expect(r.binary).toBe(true);
      expect(r.data.equals(payload)).toBe(true);
    }
    ws.close();
  }, wallCap(30_000));

  it("keeps messages in order under pipelining from several clients at once", async () => {
    const { url, board } = await echoBoard();
    const clients = await Promise.all([1, 2, 3].map(() => connect(url)));
    const got = clients.map(() => [] as string[]);
    clients.forEach((ws, k) => ws.on("message", (d) => got[k].push(d.toString())));
    clients.forEach((ws, k) => { for (let i = 0; i < 200; i++) ws.send(`${k}:${i}`); });
    await waitFor(() => got.every((g) => g.length === 200), "all echoes");
    got.forEach((g, k) => expect(g).toEqual(Array.from({ length: 200 }, (_, i) => `${k}:${i}`)));
    clients.forEach((ws) => ws.close());
    await waitFor(() => board.core.stat(C.STAT_CONNS_USED) === 0, "slots free after close");
  });

  it("answers pings and completes the close handshake with the client's code", async () => {
    const { url } = await echoBoard();
    const ws = await connect(url);
    const pong = new Promise<string>((r) => ws.once("pong", (d) => r(d.toString())));
    ws.ping("are you there");
    expect(await pong).toBe("are you there");
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    ws.close(4000, "done");
    expect(await closed).toBe(4000);
  });

  it("negotiates a subprotocol", async () => {
    const { url } = await echoBoard("\nws_protocols=picowire.v1,chat");
    const ws = await connect(url, ["nope", "chat"]);
    expect(ws.protocol).toBe("chat");
    ws.close();
  });

  it("closes with 1009 when a message exceeds ws_max_message", async () => {
    const { url } = await echoBoard("\nws_max_message=1000");
    const ws = await connect(url);
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    ws.send(Buffer.alloc(1001));
    expect(await closed).toBe(1009);
  });

  // docs/SECURITY.md: on /echo only data messages are life; a pong is not (every library answers pings)
  it("pings a quiet client, closes one that answers pings but sends no message, keeps one that does", async () => {
    const { url } = await echoBoard("\nws_ping_ms=100\nws_idle_ms=400\nws_close_ms=200");
    const quiet = await connect(url, undefined);
    const talker = await connect(url, undefined);
    let pings = 0;
    quiet.on("ping", () => pings++);
    const t0 = Date.now();
    const quietClosed = new Promise<{ code: number; ms: number }>((r) => quiet.once("close", (code) => r({ code, ms: Date.now() - t0 })));
    let beats = 0;
    let echoed = 0;
    talker.on("message", (d) => d.toString() === "still here" && echoed++);
    const beat = setInterval(() => (talker.send("still here"), beats++), 100);
    const closed = await quietClosed;
    clearInterval(beat);
    await waitFor(() => echoed === beats, "the heartbeats' echoes"); // a slow (emulated) board may still owe some
    expect(pings).toBeGreaterThanOrEqual(2); // it answered them (ws does), and was closed all the same
    expect(closed.code).toBe(1001);
    expect(closed.ms).toBeGreaterThanOrEqual(350);
    expect(talker.readyState).toBe(WebSocket.OPEN);
    expect((await roundTrip(talker, "after")).data.toString()).toBe("after");
    talker.close();
    // a peer that completes the handshake and then says nothing, not even pongs
    const port = new URL(url).port;
    const silent = net.connect(Number(port), "127.0.0.1");
    silent.on("error", () => {});
    silent.write(`GET /echo HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const got: Buffer[] = [];
    silent.on("data", (d) => got.push(d));
    const ended = await new Promise<number>((r) => { const t0 = Date.now(); silent.on("close", () => r(Date.now() - t0)); });
    expect(ended).toBeGreaterThanOrEqual(350);
    const frames = Buffer.concat(got).subarray(Buffer.concat(got).indexOf("\r\n\r\n") + 4);
    expect(frames.includes(Buffer.from([0x88, 0x02, 0x03, 0xe9]))).toBe(true); // close 1001
  });


  it("refuses a client that does not ask for WebSocket on /echo with 426", async () => {
    const { url } = await echoBoard();
    const res = await fetch(url.replace("ws:", "http:"));
    expect(res.status).toBe(426);
    expect(res.headers.get("upgrade")).toBe("websocket");
  });
});

describe("board ws_url client -> ws server", () => {
  async function wsServer() {
    const port = await freePort();
    const wss = new WebSocketServer({ host: "127.0.0.1", port });
    await new Promise((r) => wss.once("listening", r));
    closers.push(() => new Promise((r) => { wss.clients.forEach((c) => c.terminate()); wss.close(() => r()); }));
    return { wss, port };
  }

  it("connects, streams its colour as masked text messages, and answers the server's pings", async () => {
    const { wss, port } = await wsServer();
    const messages: string[] = [];
    let path = "";
    let pong = false;
    let host = "";
    wss.on("connection", (sock, req) => {
      path = req.url ?? "";
      host = req.headers.host ?? "";
      sock.on("message", (d) => messages.push(d.toString()));
      sock.on("pong", () => (pong = true));
      sock.ping("x");
    });
    const board = await startBoard(`http_port=0\nrgb=12,34,56\nws_url=ws://127.0.0.1:${port}/collect?board=1\nws_push_ms=50`, { host: "127.0.0.2" });
    await waitFor(() => messages.length >= 3 && pong, "pushes and a pong");
    expect(path).toBe("/collect?board=1");
    expect(host).toBe(`${serverAddressForBoard("127.0.0.1")}:${port}`);
    expect(JSON.parse(messages[0])).toEqual({ rgb: [12, 34, 56] });
    expect(board.lines.map((l) => l.text)).toContainEqual(expect.stringContaining(`ws-client: ws://${serverAddressForBoard("127.0.0.1")}:${port} connected`));
  });

  it("reconnects with backoff after the server goes away", async () => {
    const first = await wsServer();
    let connections = 0;
    first.wss.on("connection", () => connections++);
    const board = await startBoard(`http_port=0\nws_url=ws://127.0.0.1:${first.port}/\nws_push_ms=50`, { host: "127.0.0.2" });
    await waitFor(() => connections === 1, "first connection");
    first.wss.clients.forEach((c) => c.close(1001));
    await waitFor(() => connections === 2, "reconnect", 8000);
    expect(board.lines.some((l) => /connection closed, retry in \d+ ms/.test(l.text))).toBe(true);
  });

  async function liar(reply: (key: string) => string) {
    const port = await freePort();
    const srv = net.createServer((s) => {
      s.on("error", () => {});
      s.once("data", (d) => {
        const key = /Sec-WebSocket-Key: (.*)\r\n/i.exec(d.toString())?.[1] ?? "";
        s.write(reply(key));
      });
    });
    await new Promise<void>((r) => srv.listen(port, "127.0.0.1", () => r()));
    closers.push(() => new Promise((r) => srv.close(() => r())));
    return port;
  }
  const accept = (key: string) => createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");

  it.each([
    ["a wrong Sec-WebSocket-Accept", (_k: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept("other")}\r\n\r\n`, /wrong Sec-WebSocket-Accept/],
    ["a 200 instead of 101", (_k: string) => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", /refused the upgrade \(HTTP status in the log above\)/],
    ["a 101 without Upgrade", (k: string) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(k)}\r\n\r\n`, /answered 101 without Upgrade: websocket and Connection: upgrade/],
    ["a 101 with an extension it was not offered", (k: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(k)}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`, /accepted an extension or subprotocol it was not offered/],
    ["garbage", (_k: string) => "SSH-2.0-OpenSSH\r\n\r\n", /malformed handshake reply/],
  ])("refuses %s before reading any frame", async (_w, reply, message) => {
    const port = await liar(reply);
    const board = await startBoard(`http_port=0\nws_url=ws://127.0.0.1:${port}/\nws_push_ms=50`, { host: "127.0.0.2" });
    await waitFor(() => board.lines.some((l) => message.test(l.text)), `log ${message}`);
    expect(board.lines.some((l) => /connected$/.test(l.text))).toBe(false);
  });

  it("sends a key that is random per connection", async () => {
    const keys: string[] = [];
    const port = await liar((k) => (keys.push(k), "HTTP/1.1 500 No\r\n\r\n"));
    await startBoard(`http_port=0\nws_url=ws://127.0.0.1:${port}/\nws_push_ms=50`, { host: "127.0.0.2" });
    await waitFor(() => keys.length >= 3, "three attempts", 8000);
    expect(new Set(keys).size).toBe(keys.length);
    keys.forEach((k) => expect(Buffer.from(k, "base64").length).toBe(16));
  }, wallCap(15_000));
});

nodeOnly("drives the core directly through FakeHost").describe("board ws_url client, the core driven directly", () => {
  const connected = async () => {
    const { FakeHost } = await import("../helpers/core.ts");
    const h = new FakeHost();
    h.start("http_port=0\ncontrol_port=0\nws_url=ws://10.0.0.3:9000/x", 0);
    h.core.exports.tick(0);
    h.core.exports.tcp_connected(100, C.OK, 1);
    return h;
  };

  // regression (code review): before the fix "HTTP/1.1 101 Swi" went back to the server
  it("a tcp_sent in the middle of the 101 echoes nothing of the status line to the server", async () => {
    const h = await connected();
    const before = h.sentText(100).length;
    h.data(100, "HTTP/1.1 101 Swi", 2);
    h.core.exports.tcp_sent(100, before, 3);
    expect(h.sentText(100).slice(before)).toBe("");
  });

  // regression (code review): before the fix the client took the 101 and said "connected"
  it("refuses a 101 that picks an extension it never offered (RFC 6455 4.1)", async () => {
    const h = await connected();
    const key = /Sec-WebSocket-Key: (\S+)/.exec(h.sentText(100))![1];
    const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
    h.data(100, `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`, 2);
    expect(h.aborted.has(100)).toBe(true);
  });
});
