// The connection policy (docs/SECURITY.md) against the attacks that took a board off the network, each
// run by real peers over loopback while legitimate clients must be served within a few seconds: an HTTP
// GET, the dashboard's WebSocket on /control with the key, and a keyed control client (tools/client.ts).
// Attackers and legitimate clients use different loopback addresses (127.0.0.2, 127.0.0.3, ...), as
// machines on a LAN would. Every loop is bounded in count and time.
import { describe, it, expect, afterEach } from "vitest";
import net from "node:net";
import WebSocket from "ws";
import { C } from "../../tools/host/abi.generated.ts";
import { Client, authAnswer, signCommand } from "../../tools/client.ts";
import { startBoard, stopBoards, freePort, waitFor, testClock, wallCap, peerAddressOnBoard, TEST_HOST, type TestBoard } from "../helpers/boards.ts";

const KEY = "correct horse battery staple";
const SERVED_MS = 3000; // "within a few seconds", of the board's time (testClock: on emu the emulated board's)
/** A client's own give-up time: the bound is within()'s, in board time; this only stops a hung peer. */
const CLIENT_MS = wallCap(SERVED_MS);
afterEach(stopBoards);

interface Target {
  board: TestBoard;
  http: number;
  control: number;
}

async function target(extra = ""): Promise<Target> {
  const http = await freePort();
  const control = await freePort();
  const board = await startBoard(`http_port=${http}\ncontrol_port=${control}\nkey=${KEY}\nws_echo=1\nrgb_source=fixed\nrgb=10,20,30\n${extra}`);
  return { board, http, control };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `loopback` as the board's log names it (on emu the relay's address in the board's network), for a RegExp. */
const seen = (loopback: string) => peerAddressOnBoard(loopback).replace(/\./g, "\\.");

/** Resolves with `p`, or rejects naming `what` after `ms` of testClock (the board's time on emu). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let settled = false;
  const deadline = testClock.now() + ms;
  const guard = (async () => {
    while (!settled && testClock.now() <= deadline) await sleep(5);
    if (!settled) throw new Error(`${what}: not served within ${ms} ms`);
  })();
  guard.catch(() => {});
  return Promise.race([p.finally(() => (settled = true)), guard.then(() => p)]);
}

/** A raw TCP connection from `from`, open once connected; `end` resolves with how it ended. */
function raw(port: number, from: string): Promise<{ s: net.Socket; end: Promise<{ how: string; at: number }> }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1", localAddress: from });
    s.resume(); // read (and drop) what the board says, so its FIN is seen
    const end = new Promise<{ how: string; at: number }>((r) => {
      s.on("error", () => r({ how: "reset", at: testClock.now() }));
      s.on("close", () => r({ how: "closed", at: testClock.now() }));
    });
    s.once("connect", () => resolve({ s, end }));
    s.once("error", reject);
  });
}

// ---- the legitimate clients ----------------------------------------------------------------------

function httpGet(t: Target, from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: t.http, host: "127.0.0.1", localAddress: from }, () => s.write("GET /rgb HTTP/1.1\r\nHost: board\r\n\r\n"));
    let got = "";
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("close", () => (got.startsWith("HTTP/1.1 200 ") ? resolve(got.slice(got.indexOf("\r\n\r\n") + 4)) : reject(new Error(`GET /rgb: ${JSON.stringify(got.slice(0, 40)) || "closed without a reply"}`))));
    s.on("error", () => {});
  });
}

/** The dashboard's way in: /control over WebSocket, the challenge answered with the key, a signed get_info. */
function dashboard(t: Target, from: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.http}/control`, { localAddress: from });
    let challenge = "";
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString());
      if (typeof m.challenge === "string") {
        challenge = m.challenge;
        ws.send(authAnswer(KEY, challenge));
      } else if (m.authenticated === true) ws.send(signCommand(KEY, challenge, 1, { action: "get_info" }));
      else {
        ws.close();
        if (m.error) reject(new Error(`dashboard: ${m.error}`));
        else resolve(m);
      }
    });
    ws.on("close", (code) => reject(new Error(`dashboard socket closed (${code}) before its reply`)));
    ws.on("error", (e) => reject(e));
  });
}

async function keyedControl(t: Target): Promise<Record<string, unknown>> {
  const c = await Client.connect("127.0.0.1", t.control, { key: KEY, timeoutMs: CLIENT_MS });
  try {
    return await c.command({ action: "ping" });
  } finally {
    c.close();
  }
}

/** All three legitimate clients, one after the other, each within SERVED_MS. */
async function legitimateClientsServed(t: Target, from = "127.0.0.3"): Promise<void> {
  expect(await within(SERVED_MS, "HTTP GET /rgb", httpGet(t, from))).toBe("10,20,30");
  expect(await within(SERVED_MS, "the dashboard's WebSocket", dashboard(t, from))).toMatchObject({ action: "get_info" });
  expect(await within(SERVED_MS, "a keyed control client", keyedControl(t))).toMatchObject({ pong: true });
}

// ---- the attacks -----------------------------------------------------------------------------------

/** Attackers spread over two addresses, each within its share (half of max_conns), so that together they
 *  hold every slot, as the issue measured. */
const ATTACKERS = ["127.0.0.2", "127.0.0.4"];

describe("unauthenticated control has control_auth_ms from accept, whatever it sends", () => {
  it("closes a trickling TCP connection and a ping-answering /control WebSocket at the deadline; a keyed session outlives it", async () => {
    const t = await target("control_auth_ms=600\nws_ping_ms=100");
    const keyed = await Client.connect("127.0.0.1", t.control, { key: KEY, timeoutMs: CLIENT_MS });
    const trickler = await raw(t.control, "127.0.0.2");
    const t0 = testClock.now();
    let sent = 0;
    const drip = setInterval(() => !trickler.s.destroyed && sent < 100 && (trickler.s.write("{"), sent++), 100); // no line end
    const ws = new WebSocket(`ws://127.0.0.1:${t.http}/control`, { localAddress: "127.0.0.2" });
    let pongs = 0;
    ws.on("ping", () => pongs++); // ws answers every ping: to the old rule, signs of life
    const wsClosed = new Promise<{ code: number; ms: number }>((r) => ws.on("close", (code) => r({ code, ms: testClock.now() - t0 })));
    const ended = await trickler.end;
    clearInterval(drip);
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(ended.at - t0).toBeGreaterThanOrEqual(550);
    expect(ended.at - t0).toBeLessThan(2000);
    const closed = await wsClosed;
    expect(closed.code).toBe(1008); // policy: it never proved it holds the key
    expect(closed.ms).toBeLessThan(2000);
    expect(pongs).toBeGreaterThanOrEqual(1);
    expect(await keyed.command({ action: "ping" })).toMatchObject({ pong: true }); // authenticated: no deadline
    keyed.close();
  });
});

describe("exhaustion attacks leave the board serving legitimate clients", () => {
  it("eight control connections that never answer the challenge, half of them trickling bytes", async () => {
    const t = await target();
    const held = [];
    for (let i = 0; i < 8; i++) held.push(await raw(t.control, ATTACKERS[i & 1]));
    await waitFor(() => t.board.core.stat(C.STAT_CONNS_USED) === 8, "all eight slots held");
    let drops = 0;
    const drip = setInterval(() => held.forEach((h, i) => i >= 4 && !h.s.destroyed && drops++ < 400 && h.s.write("x")), 250);
    try {
      await legitimateClientsServed(t);
      // an authenticated session is never the one dropped: eight more attackers leave it working
      const c = await Client.connect("127.0.0.1", t.control, { key: KEY, timeoutMs: CLIENT_MS });
      for (let i = 0; i < 8; i++) held.push(await raw(t.control, ATTACKERS[i & 1]));
      expect(await within(SERVED_MS, "the keyed session after eight more attackers", c.command({ action: "ping" }))).toMatchObject({ pong: true });
      c.close();
    } finally {
      clearInterval(drip);
      held.forEach((h) => h.s.destroy());
    }
  });

  it("eight WebSockets that answer pings but say nothing: four on /echo, four unauthenticated on /control", async () => {
    const t = await target("ws_ping_ms=200");
    const sockets: WebSocket[] = [];
    let pongs = 0;
    for (let i = 0; i < 8; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${t.http}/${i < 4 ? "echo" : "control"}`, { localAddress: ATTACKERS[i & 1] });
      ws.on("error", () => {});
      ws.on("ping", () => pongs++);
      await new Promise((r) => ws.once("open", r));
      sockets.push(ws);
    }
    await waitFor(() => t.board.core.stat(C.STAT_CONNS_USED) === 8, "all eight slots held");
    await waitFor(() => pongs >= 4, "pings answered by the silent sockets"); // they were pinged and answered
    try {
      await legitimateClientsServed(t);
    } finally {
      sockets.forEach((ws) => ws.terminate());
    }
  });

  it("a persistent reconnecter on 127.0.0.2 does not starve 127.0.0.3, nor the keyed client", async () => {
    const t = await target();
    let stop = false;
    let opened = 0;
    const MAX_OPENS = 50_000;
    // sixteen loops, each reopening its connection the moment the board frees it, sending nothing
    const loop = async () => {
      while (!stop && opened < MAX_OPENS) {
        try {
          const c = await raw(t.http, "127.0.0.2");
          opened++;
          await Promise.race([c.end, new Promise((r) => setTimeout(r, 10_000))]);
          c.s.destroy();
        } catch {
          await sleep(1); // pacing, not a wait: a refused connect is retried at once, but not in a spin
        }
      }
    };
    const loops = Array.from({ length: 16 }, loop);
    try {
      await waitFor(() => opened >= 32, "the reconnecter under way");
      // twelve ordinary GETs from the other address (the issue measured 0 of 12 served), each within SERVED_MS
      for (let i = 0; i < 12; i++) expect(await within(SERVED_MS, `GET ${i + 1} of 12`, httpGet(t, "127.0.0.3"))).toBe("10,20,30");
      await legitimateClientsServed(t);
      expect(opened).toBeGreaterThan(32); // it kept reconnecting all along
    } finally {
      stop = true;
      await Promise.race([Promise.all(loops), sleep(15_000)]); // a bound, not a wait: the loops see stop at their next turn
    }
  }, wallCap(60_000));
});

describe("settings", () => {
  it("refuses policy settings out of range with the allowed range", async () => {
    const port = await freePort();
    // the Node host reports the last error line (the range), the C host the first (line and value)
    const refused = (line: string, range: string) => new RegExp(`config line 2: expected a whole number \\('${line}'\\)|\\(allowed: ${range}\\)`);
    await expect(startBoard(`http_port=${port}\ncontrol_auth_ms=50`)).rejects.toThrow(refused("50", "100 to 600000"));
    await expect(startBoard(`http_port=${port}\nmax_conns_per_ip=33`)).rejects.toThrow(refused("33", "0 to 32"));
    await expect(startBoard(`http_port=${port}\nlog_repeat_ms=x`)).rejects.toThrow(refused("x", "0 to 3600000"));
  });

  it("max_conns_per_ip: one address gets at most its share; at its share, its own oldest silent slot gives way", async () => {
    const t = await target("max_conns=6\nmax_conns_per_ip=2");
    const a = await raw(t.http, "127.0.0.2");
    const b = await raw(t.http, "127.0.0.2");
    await waitFor(() => t.board.core.stat(C.STAT_CONNS_USED) === 2, "two slots");
    const other = await raw(t.http, "127.0.0.4");
    await waitFor(() => t.board.core.stat(C.STAT_CONNS_USED) === 3, "three slots");
    const c = await raw(t.http, "127.0.0.2"); // a third from 127.0.0.2: its oldest (a) makes room
    expect((await a.end).how).toBe("reset");
    await waitFor(() => t.board.core.stat(C.STAT_CONNS_USED) === 3, "three slots again: b, c and the other address's");
    expect(other.s.destroyed).toBe(false); // another address's slot is not touched while there is room
    for (const h of [b, c, other]) h.s.destroy();
  });

  it("a refused connection's log line names the rule: max_conns_per_ip, or every slot busy", async () => {
    const t = await target("max_conns=2\nmax_conns_per_ip=1");
    const refusal = (line: RegExp, what: string) => waitFor(() => t.board.lines.some((l) => line.test(l.text)), what);
    const keyed = await Client.connect("127.0.0.1", t.control, { key: KEY, timeoutMs: CLIENT_MS });
    await keyed.command({ action: "ping" }); // authenticated: a slot that does not give way
    const mine = await raw(t.http, "127.0.0.1");
    await refusal(new RegExp(`^slots: refusing ${seen("127.0.0.1")}: max_conns_per_ip$`), "the refusal naming max_conns_per_ip");
    await within(SERVED_MS, "the refused connection closed", mine.end);
    // the second slot: an authenticated /control WebSocket from another address
    const ws = new WebSocket(`ws://127.0.0.1:${t.http}/control`, { localAddress: "127.0.0.2" });
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (d) => {
        const m = JSON.parse(d.toString());
        if (typeof m.challenge === "string") ws.send(authAnswer(KEY, m.challenge));
        else if (m.authenticated === true) resolve();
      });
      ws.on("close", () => reject(new Error("the /control socket closed before authenticating")));
    });
    expect(t.board.core.stat(C.STAT_CONNS_USED)).toBe(2);
    const third = await raw(t.http, "127.0.0.3");
    await refusal(new RegExp(`^slots: refusing ${seen("127.0.0.3")}: all slots busy$`), "the refusal naming the full pool");
    expect(t.board.core.stat(C.STAT_CONNS_USED)).toBe(2); // neither authenticated session gave way
    third.s.destroy();
    ws.terminate();
    keyed.close();
  });
});

/** `count` requests at once from 127.0.0.2, the i-th `request(i)`, each bounded in time (one that hangs counts
 *  as not answered); how many got an HTTP answer. On the firmware a burst is 60: a larger one loses a few
 *  connections in the radio's driver (tools/emu/RADIO.md). */
async function burst(t: Target, count: number, request: (i: number) => string): Promise<number> {
  const sent = Array.from({ length: TEST_HOST === "emu" ? 60 : count }, (_, i) => new Promise<boolean>((r) => {
    const s = net.connect({ port: t.http, host: "127.0.0.1", localAddress: "127.0.0.2" }, () => s.end(request(i)));
    s.setTimeout(wallCap(10_000), () => s.destroy());
    let got = "";
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("error", () => r(false));
    s.on("close", () => r(got.startsWith("HTTP/1.1 ")));
  }));
  return (await Promise.all(sent)).filter((a) => a).length;
}

/** The board's whole get_log ring, page by page (at most 50 pages). */
async function readLog(c: Client): Promise<string[]> {
  const lines: string[] = [];
  for (let since = 0, i = 0; i < 50; i++) {
    const r = await c.command({ action: "get_log", since });
    const page = r.lines as string[];
    if (!page.length) break;
    lines.push(...page);
    since = r.next as number;
  }
  return lines;
}

describe("the log under a flood", () => {
  it("counts lines that repeat at network speed, so the older history stays readable with get_log", async () => {
    const t = await target("log_repeat_ms=1000");
    // bad requests at once from one address: a line each that reaches the core, at network speed
    const answered = await burst(t, 300, () => "BREW /pot HTTP/1.1\r\n\r\n");
    // dropped ones (its share is half the slots) never got as far; on the firmware lwIP's 16 pcbs also
    // refuse the rest of a burst with a reset (native/pico/pw_lwip.c): fewer, but still a flood of lines
    expect(answered).toBeGreaterThan(TEST_HOST === "emu" ? 6 : 30);
    const c = await Client.connect("127.0.0.1", t.control, { key: KEY, timeoutMs: CLIENT_MS });
    const told = (lines: string[]) => lines.filter((l) => new RegExp(`^I http: \\d+ to ${seen("127.0.0.2")}: host$`).test(l)).length;
    const counts = (lines: string[]) => lines.map((l) => new RegExp(`^I http: \\d+ to ${seen("127.0.0.2")}: host \\(x(\\d+) more in 1 s\\)$`).exec(l)).filter((m) => m).map((m) => Number(m![1]));
    const accounted = (lines: string[]) => told(lines) + counts(lines).reduce((a, b) => a + b, 0);
    let lines: string[] = [];
    // the repeat window ends (log_repeat_ms) and its count is written: until then part of the flood is unlogged
    await waitFor(async () => accounted((lines = await readLog(c))) >= answered, "every answered request in the log, repeats as counts", 10_000, 100);
    c.close();
    // the history from before the flood is still there
    expect(lines.some((l) => /^I control: listening on port \d+ \(HMAC-SHA256 authenticated\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^I picowire core ready/.test(l))).toBe(true);
    // per window, three bad requests logged as they came and the rest as one count: every answer accounted for
    expect(counts(lines).length, lines.join("\n")).toBeGreaterThanOrEqual(1);
    expect(told(lines)).toBeLessThanOrEqual(3 * (counts(lines).length + 1));
    expect(accounted(lines)).toBe(answered);
    expect(lines.join("\n").length).toBeLessThan(1024); // it all fits the ring
  });

  it("a peer breaking rule after rule makes no new kind of line: the history stays readable", async () => {
    const t = await target("log_repeat_ms=1000");
    // requests that each break another rule, so that every log line names another one
    const H = "Host: b\r\n";
    const breakers = ["GET /rgb\r\n\r\n", "GET /rgb HTTP/2.0\r\n\r\n", `GET /rgb HTTP/1.1\r\n${H} x\r\n\r\n`, `GET /rgb HTTP/1.1\r\n${H}no colon\r\n\r\n`,
      `PUT /rgb HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, "GET /rgb HTTP/1.1\r\n\r\n", `GET /x HTTP/1.1\r\n${H}\r\n`, `DELETE /rgb HTTP/1.1\r\n${H}\r\n`,
      `PUT /rgb HTTP/1.1\r\n${H}Content-Length: 65\r\n\r\n`, `GET /echo HTTP/1.1\r\n${H}\r\n`, `PUT /rgb HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nzz`, `GET /${"a".repeat(300)} HTTP/1.1\r\n\r\n`];
    // every rule broken five times or more
    const answered = await burst(t, 240, (i) => breakers[i % breakers.length]);
    expect(answered).toBeGreaterThan(TEST_HOST === "emu" ? 6 : 30);
    const c = await Client.connect("127.0.0.1", t.control, { key: KEY, timeoutMs: CLIENT_MS });
    const lines = await readLog(c);
    c.close();
    const told = lines.filter((l) => new RegExp(`^I http: \\d+ to ${seen("127.0.0.2")}: [\\w -]+$`).test(l));
    expect(told.length, lines.join("\n")).toBeGreaterThanOrEqual(1);
    expect(told.length, lines.join("\n")).toBeLessThanOrEqual(3 * 2); // one kind: three a window (the flood spans at most two)
    expect(lines.some((l) => /^I picowire core ready/.test(l)), lines.join("\n")).toBe(true);
  });
});
