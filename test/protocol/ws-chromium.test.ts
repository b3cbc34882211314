// A real browser against a virtual board's /echo: Debian's Chromium (/usr/bin/chromium), driven by
// playwright-core (which never downloads a browser). The page is served over plain http:// from a Node
// server on 127.0.0.1, reached as page.picowire.test, so it has a real, non-secure origin; the boards are
// reached as board.picowire.test (Chromium's host resolver maps both names to 127.0.0.1 and refuses
// every other name). Every wait has a deadline, in the page and here.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { startBoard, stopBoards, freePort, wallCap, type TestBoard } from "../helpers/boards.ts";
import { chromiumMissing, launchChromium } from "../helpers/chromium.ts";
import { needs } from "../helpers/inputs.ts";

const BOARD_HOST = "board.picowire.test";
const PAGE_HOST = "page.picowire.test";
const SCREENSHOT = join(ROOT, "test-artifacts", "ws-chromium.png");

const missing = chromiumMissing();

// The page's script, plain JavaScript (nothing from the test's transpiler crosses into the browser).
const PAGE_SCRIPT = String.raw`
const out = document.getElementById("log");
function log(line) { out.textContent += line + "\n"; }
function deadline(promise, ms, what) {
  ms *= WALL_SCALE; // a cap on a hung wait, in the page's wall time: longer where the board is emulated
  let t;
  return Promise.race([promise, new Promise((_, reject) => { t = setTimeout(() => reject(new Error("timed out: " + what)), ms); })])
    .finally(() => clearTimeout(t));
}
// Opens a socket; resolves with it on open, rejects with the events seen if it closes first.
function openWs(url, protocols) {
  const events = [];
  return deadline(new Promise((resolve, reject) => {
    const ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { events.push("open"); resolve(ws); };
    ws.onerror = () => events.push("error");
    ws.onclose = (e) => { events.push("close"); reject(Object.assign(new Error("closed before open"), { events, code: e.code, wasClean: e.wasClean })); };
  }), 5000, "open " + url);
}
function roundTrip(ws, data, ms) {
  return deadline(new Promise((resolve, reject) => {
    ws.onmessage = (e) => resolve(e.data);
    ws.onclose = (e) => reject(new Error("closed " + e.code + " " + e.reason + " while waiting for an echo"));
    ws.send(data);
  }), ms, "echo of " + (typeof data === "string" ? data.length + " chars" : data.byteLength + " bytes"));
}
function pattern(n, seed) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 10)) & 255;
  return b;
}
function sameBytes(a, b) {
  if (!(a instanceof ArrayBuffer)) return "not an ArrayBuffer: " + Object.prototype.toString.call(a);
  const x = new Uint8Array(a);
  if (x.length !== b.length) return "length " + x.length + ", sent " + b.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== b[i]) return "first difference at byte " + i;
  return "equal";
}
function closeWs(ws, code, reason) {
  return deadline(new Promise((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
    ws.close(code, reason);
  }), 5000, "close handshake");
}

window.pageInfo = () => ({ isSecureContext: window.isSecureContext, origin: location.origin });

window.echoChecks = async (url) => {
  const r = {};
  const ws = await openWs(url, ["nope", "chat"]);
  r.protocol = ws.protocol;
  r.extensions = ws.extensions;
  log("open " + url + " protocol=" + ws.protocol);
  const texts = ["hello", "", "héllo wörld ✓ 日本語 🎉 𝄞", "ünïcödé ✓ 🎉 ".repeat(12000)];
  r.text = [];
  for (const t of texts) {
    const got = await roundTrip(ws, t, 5000);
    r.text.push(typeof got === "string" && got === t ? "equal" : "differs: " + typeof got + " " + String(got).length + " chars");
  }
  log("text round trips: " + r.text.join(", "));
  const k100 = pattern(100 * 1000, 7);
  r.binary100k = sameBytes(await roundTrip(ws, k100.buffer, 5000), k100);
  r.binaryEmpty = sameBytes(await roundTrip(ws, new ArrayBuffer(0), 5000), new Uint8Array(0));
  log("100 KB ArrayBuffer: " + r.binary100k + "; empty: " + r.binaryEmpty);
  const mib = pattern(1 << 20, 3);
  const t0 = performance.now();
  r.binary1MiB = sameBytes(await roundTrip(ws, mib.buffer, 15000), mib);
  r.mibMs = Math.round(performance.now() - t0);
  log("1 MiB ArrayBuffer: " + r.binary1MiB + " in " + r.mibMs + " ms");
  r.close = await closeWs(ws, 1000, "bye");
  log("close: " + JSON.stringify(r.close));
  return r;
};

window.noProtocol = async (url) => {
  const ws = await openWs(url);
  const protocol = ws.protocol;
  const echo = await roundTrip(ws, "plain", 5000);
  const close = await closeWs(ws, 1000, "");
  log("no subprotocol requested: protocol=" + JSON.stringify(protocol) + ", close " + close.code);
  return { protocol, echo, close };
};

window.refused = async (url) => {
  try {
    const ws = await openWs(url);
    ws.close();
    log("UNEXPECTED: " + url + " opened");
    return { opened: true };
  } catch (e) {
    log("refused as expected: events=" + (e.events || []).join(",") + " code=" + e.code);
    return { opened: false, events: e.events || [], code: e.code, wasClean: e.wasClean, message: String(e.message) };
  }
};

window.idle = async (url, ms, beatMs) => {
  const ws = await openWs(url);
  let closedWith = null;
  ws.addEventListener("close", (e) => (closedWith = e.code));
  let beats = 0, echoes = 0;
  ws.onmessage = () => echoes++;
  const beat = beatMs ? setInterval(() => ws.readyState === WebSocket.OPEN && (ws.send("beat"), beats++), beatMs) : null;
  await new Promise((r) => setTimeout(r, ms)); // the scenario: idle (or only beating) for ms
  clearInterval(beat);
  // every beat's echo is in before the probe, or the probe would take a beat's echo for its own
  for (let i = 0; i < 500 && echoes < beats && ws.readyState === WebSocket.OPEN; i++) await new Promise((r) => setTimeout(r, 10));
  const state = ws.readyState;
  if (!beatMs) return { state, closedWith };
  const echo = state === WebSocket.OPEN ? await roundTrip(ws, "still here", 5000) : null;
  const close = state === WebSocket.OPEN ? await closeWs(ws, 1000, "") : null;
  log("after " + ms + " ms idle: readyState=" + state + " echo=" + echo);
  return { state, echo, close };
};
`;

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>picowire /echo in Chromium</title>
<style>body{font:14px monospace;margin:16px}pre{white-space:pre-wrap}</style></head>
<body><h3>picowire /echo from Chromium</h3><pre id="log"></pre><script>const WALL_SCALE = ${wallCap(1)};
${PAGE_SCRIPT}</script></body></html>`;

needs(missing).describe("Chromium -> board /echo over ws://", () => {
  let server: http.Server;
  let pagePort = 0;
  let browser: import("playwright-core").Browser;
  let page: import("playwright-core").Page;
  const consoleLines: string[] = [];
  const wire: { ev: string; e: any }[] = [];
  let allowed: { board: TestBoard; url: string };
  let otherOrigin: { board: TestBoard; url: string };
  let keepAlive: { board: TestBoard; url: string };

  async function board(extra: string) {
    const port = await freePort();
    const b = await startBoard(`http_port=${port}\nws_echo=1\n${extra}`, { host: "127.0.0.1" });
    return { board: b, url: `ws://${BOARD_HOST}:${port}/echo` };
  }

  const header = (headers: Record<string, string> | undefined, name: string) =>
    Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

  /** The opening handshakes Chromium reports (DevTools protocol) for sockets to `url`. */
  function handshakes(url: string) {
    const ids = wire.filter((w) => w.ev === "webSocketCreated" && w.e.url === url).map((w) => w.e.requestId);
    return ids.map((id) => ({
      request: wire.find((w) => w.ev === "webSocketWillSendHandshakeRequest" && w.e.requestId === id)?.e.request.headers as Record<string, string> | undefined,
      response: wire.find((w) => w.ev === "webSocketHandshakeResponseReceived" && w.e.requestId === id)?.e.response as { status: number; headers: Record<string, string> } | undefined,
      errors: wire.filter((w) => w.ev === "webSocketFrameError" && w.e.requestId === id).map((w) => w.e.errorMessage as string),
    }));
  }

  /** Evaluates an expression in the page; the page's own deadlines bound it, this one backs them up. */
  async function inPage<T>(expr: string, ms = wallCap(20_000)): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        page.evaluate(expr) as Promise<T>,
        new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`page did not answer ${expr} within ${ms} ms`)), ms))),
      ]);
    } catch (e) {
      // playwright puts the page's stack into the message ("at http://page.picowire.test:PORT/:8:90"),
      // which vitest reads as a source file ("EISDIR", an unhandled error hiding this one): without it
      const message = String((e as Error).message ?? e).split("\n").filter((l) => !/^\s+at /.test(l)).join("\n");
      throw new Error(`in the page, ${expr}: ${message}`);
    } finally {
      clearTimeout(t);
    }
  }

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === "/favicon.ico") return res.writeHead(204).end();
      if (req.url !== "/") return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(PAGE);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    pagePort = (server.address() as AddressInfo).port;
    const origin = `http://${PAGE_HOST}:${pagePort}`;
    allowed = await board(`ws_protocols=picowire.v1,chat\nws_origins=${origin}`);
    otherOrigin = await board(`ws_origins=http://elsewhere.picowire.test:${pagePort}`);
    keepAlive = await board(`ws_ping_ms=100\nws_idle_ms=400\nws_close_ms=300\nws_origins=${origin}`);
    browser = await launchChromium([BOARD_HOST, PAGE_HOST]);
    page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    page.setDefaultTimeout(10_000);
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
    const cdp = await page.context().newCDPSession(page);
    for (const ev of ["Network.webSocketCreated", "Network.webSocketWillSendHandshakeRequest", "Network.webSocketHandshakeResponseReceived", "Network.webSocketFrameError", "Network.webSocketFrameReceived", "Network.webSocketFrameSent", "Network.webSocketClosed"]) {
      cdp.on(ev as any, (e: any) => wire.push({ ev: ev.slice(8), e }));
    }
    await cdp.send("Network.enable");
    await page.goto(`${origin}/`, { timeout: 10_000 });
  }, wallCap(60_000));

  afterAll(async () => {
    try {
      if (page) {
        mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true, timeout: 10_000 });
      }
    } finally {
      if (process.env.PICOWIRE_CHROMIUM_CONSOLE) {
        console.log(consoleLines.join("\n"));
        for (const w of wire) console.log(w.ev, JSON.stringify(w.e, (k, v) => (k === "payloadData" ? `${v.length} chars` : v)));
      }
      await browser?.close().catch(() => {});
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      await stopBoards();
    }
  }, wallCap(30_000));

  it("loads the page from a real, non-secure http:// origin", async () => {
    const info = await inPage<{ isSecureContext: boolean; origin: string }>("pageInfo()");
    expect(info.origin).toBe(`http://${PAGE_HOST}:${pagePort}`);
    expect(info.isSecureContext).toBe(false);
  });

  it("echoes text (non-ASCII too) and binary byte-exact, 1 MiB included, with the negotiated subprotocol, and closes cleanly with 1000", async () => {
    const r = await inPage<any>(`echoChecks(${JSON.stringify(allowed.url)})`, wallCap(40_000));
    expect(r.protocol).toBe("chat");
    expect(r.extensions).toBe(""); // permessage-deflate offered by Chromium, declined
    expect(r.text).toEqual(["equal", "equal", "equal", "equal"]);
    expect(r.binary100k).toBe("equal");
    expect(r.binaryEmpty).toBe("equal");
    expect(r.binary1MiB).toBe("equal");
    // the server's close frame echoes the code; a reason is optional (RFC 6455 5.5.1)
    expect(r.close).toMatchObject({ code: 1000, wasClean: true });
    expect(allowed.board.traps).toBe(0);
    // what went over the wire, as Chromium's network stack saw it
    const [hs] = handshakes(allowed.url);
    expect(header(hs.request, "host")).toBe(new URL(allowed.url).host); // board.picowire.test:PORT, not 127.x
    expect(header(hs.request, "origin")).toBe(`http://${PAGE_HOST}:${pagePort}`);
    expect(header(hs.request, "sec-websocket-extensions")).toMatch(/permessage-deflate/);
    expect(hs.response?.status).toBe(101);
    expect(header(hs.response?.headers, "sec-websocket-protocol")).toBe("chat");
    expect(header(hs.response?.headers, "sec-websocket-extensions")).toBeUndefined();
    expect(hs.errors).toEqual([]);
  }, wallCap(60_000));

  it("selects no subprotocol when the page asks for none", async () => {
    const r = await inPage<any>(`noProtocol(${JSON.stringify(allowed.url)})`);
    expect(r).toEqual({ protocol: "", echo: "plain", close: { code: 1000, reason: "", wasClean: true } });
    const last = handshakes(allowed.url).at(-1)!;
    expect(header(last.request, "sec-websocket-protocol")).toBeUndefined();
    expect(header(last.response?.headers, "sec-websocket-protocol")).toBeUndefined();
  });

  it("refuses a page whose Origin is not in ws_origins: error and close, never open", async () => {
    const r = await inPage<any>(`refused(${JSON.stringify(otherOrigin.url)})`);
    expect(r.opened).toBe(false);
    expect(r.events).toEqual(["error", "close"]);
    expect(r.code).toBe(1006);
    expect(r.wasClean).toBe(false);
    expect(consoleLines.some((l) => l.includes(otherOrigin.url) && /403/.test(l))).toBe(true);
    const [hs] = handshakes(otherOrigin.url);
    expect(header(hs.request, "origin")).toBe(`http://${PAGE_HOST}:${pagePort}`);
    expect(hs.errors).toEqual(["Error during WebSocket handshake: Unexpected response code: 403"]);
  });

  // ws_idle_ms=400 (test/protocol/ws-live.test.ts): on /echo only messages are life, not the pongs Chromium sends
  it("keeps a page that sends messages alive, and closes an idle one despite its pongs", async () => {
    const alive = await inPage<any>(`idle(${JSON.stringify(keepAlive.url)}, 1000, 100)`);
    expect(alive).toEqual({ state: 1, echo: "still here", close: { code: 1000, reason: "", wasClean: true } });
    const idle = await inPage<any>(`idle(${JSON.stringify(keepAlive.url)}, 1000, 0)`);
    expect(idle).toEqual({ state: 3, closedWith: 1001 });
  });


  it("draws no WebSocket complaint from Chromium beyond the expected 403", () => {
    const frameErrors = wire.filter((w) => w.ev === "webSocketFrameError").map((w) => w.e.errorMessage);
    expect(frameErrors).toEqual(["Error during WebSocket handshake: Unexpected response code: 403"]);
    const complaints = consoleLines.filter((l) => /websocket/i.test(l) && !(l.includes(otherOrigin.url) && /403/.test(l)));
    expect(complaints).toEqual([]);
    expect(consoleLines.filter((l) => l.startsWith("pageerror"))).toEqual([]);
  });
});
