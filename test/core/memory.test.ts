// Memory discipline: a long random session (connects, garbage, partial sends, resets, timers, across the
// 49.7-day wrap of now_ms) must never move the heap top or touch memory above the cap, and every pool
// must be back at its baseline once the connections are gone. Later protocols add their events here.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { C } from "../../tools/host/abi.generated.ts";
import { FakeHost } from "../helpers/core.ts";
import { frame, text, closeFrame, upgradeRequest } from "../helpers/ws.ts";

const CONFIG = [
  "http_port=80", "max_conns=8", "max_conns_per_ip=8", "http_timeout_ms=1000", "http_line_max=192", "http_head_max=512",
  "rgb_server=127.0.0.9:80", "rgb_poll_ms=50", "rgb_timeout_ms=300", "rgb_backoff_max_ms=400",
  "ws_echo=1", "ws_ping_ms=500", "ws_idle_ms=1500", "ws_close_ms=300", "ws_max_message=3000",
].join("\n");

// WebSocket traffic for connections that upgraded (on others it is garbage, which is fine too)
const FRAMES = [
  text("hello"), frame({ opcode: 2, payload: new Uint8Array(2000) }), frame({ opcode: 9, payload: new Uint8Array(5) }),
  text("frag", false), frame({ opcode: 0, payload: new Uint8Array(3) }), closeFrame(1000), closeFrame(1005),
  frame({ opcode: 1, payload: Buffer.from("ff", "hex") }), frame({ opcode: 2, payload: new Uint8Array(4000) }),
  frame({ opcode: 3, payload: new Uint8Array(1) }), frame({ opcode: 10, payload: new Uint8Array() }),
].map((b) => Buffer.from(b).toString("latin1"));

const REQUESTS = [
  upgradeRequest(), upgradeRequest(),
  "GET Data", "GET /rgb HTTP/1.1\r\nHost: b\r\n\r\n", "HEAD /rgb HTTP/1.0\r\n\r\n", "PUT /rgb HTTP/1.1\r\nContent-Length: 5\r\n\r\n1,2,3",
  "PUT /rgb HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz", "GET /rgb HTTP/1.1\r\n", "GE", "POST /x HTTP/1.1\r\n\r\n",
  "GET /" + "a".repeat(300), "\r\n\r\n", "GET /rgb HTTP/1.1\r\nA: " + "b".repeat(250) + "\r\n\r\n",
];

/** A seeded session of `events` random events; returns what it saw. */
function session(seed: number, events: number) {
  const rng = fc.sample(fc.integer({ min: 0, max: 0x7fffffff }), { seed, numRuns: events * 4 });
  let r = 0;
  const rand = (n: number) => rng[r++ % rng.length] % n;
  const host = new FakeHost();
  let now = (2 ** 32 - 20_000) >>> 0; // the u32 clock wraps 20 s into the session
  const server = new Set<number>();
  const client = new Set<number>();
  let connectFails = false;
  host.overrides.tcp_connect = () => (connectFails ? C.ERR_IO : (client.add(host.nextHandle), host.nextHandle++));
  host.sendWindow = () => rand(3) === 0 ? 0 : 1 + rand(64);
  const core = host.start(CONFIG, now);
  const gone = (h: number) => host.closed.has(h) || host.aborted.has(h);
  const heap = core.stat(C.STAT_HEAP_TOP);
  const pick = (s: Set<number>) => [...s][rand(s.size)];
  let maxUsed = 0;
  for (let i = 0; i < events; i++) {
    for (const h of [...server, ...client]) if (gone(h)) (server.delete(h), client.delete(h));
    const e = rand(10);
    if (e === 0) {
      const h = host.nextHandle++;
      if (core.exports.tcp_accepted(1, h, 0x7f000002, 40000 + rand(1000), now) === C.OK) server.add(h);
    } else if (e <= 2 && server.size) {
      const pool = rand(2) ? REQUESTS : FRAMES;
      const req = pool[rand(pool.length)];
      const cut = rand(req.length + 1);
      host.data(pick(server), Buffer.from(rand(2) ? req.slice(0, cut) : req, "latin1"), now);
    } else if (e === 3 && server.size) {
      host.data(pick(server), new Uint8Array(1 + rand(200)).map(() => rand(256)), now);
    } else if (e === 4 && (server.size || client.size)) {
      const h = pick(rand(2) && client.size ? client : server.size ? server : client);
      const reset = rand(3) === 0;
      core.exports.tcp_closed(h, reset ? C.ERR_RESET : C.TCP_FIN, now);
      if (reset) (server.delete(h), client.delete(h));
    } else if (e === 5 && (server.size || client.size)) {
      const h = pick(server.size ? server : client);
      core.exports.tcp_sent(h, 1 + rand(64), now);
    } else if (e === 6 && client.size) {
      const h = pick(client);
      const ok = rand(4) !== 0;
      core.exports.tcp_connected(h, ok ? C.OK : C.ERR_REFUSED, now);
      if (!ok) client.delete(h);
    } else if (e === 7 && client.size) {
      host.data(pick(client), ["1,2,3", "255,", "0,0", "garbage!", "9".repeat(20)][rand(5)], now);
    } else {
      now = (now + rand(120)) >>> 0;
      core.exports.tick(now);
    }
    maxUsed = Math.max(maxUsed, core.stat(C.STAT_CONNS_USED));
    if (i % 5000 === 0) {
      expect(core.stat(C.STAT_HEAP_TOP)).toBe(heap);
      core.checkCanary();
    }
  }
  // wind down: peers reset, new polls fail at once, time passes beyond every deadline
  connectFails = true;
  for (const h of [...server, ...client]) if (!gone(h)) core.exports.tcp_closed(h, C.ERR_RESET, now);
  for (let t = 0; t < 50; t++) core.exports.tick((now = (now + 100) >>> 0));
  return { core, heap, maxUsed, host };
}

describe("memory discipline", () => {
  it("100k random events: heap top fixed, canary intact, pools back to baseline", () => {
    const { core, heap, maxUsed } = session(1, 100_000);
    expect(maxUsed).toBe(8); // the session really filled the pool
    expect(core.stat(C.STAT_HEAP_TOP)).toBe(heap);
    expect(heap).toBeLessThanOrEqual(core.stat(C.STAT_HEAP_LIMIT));
    core.checkCanary();
    expect(core.stat(C.STAT_CONNS_USED)).toBe(0);
    expect(core.stat(C.STAT_TIMERS_ARMED)).toBe(0);
    expect(core.stat(C.STAT_REQUESTS)).toBeGreaterThan(1000);
    expect(core.stat(C.STAT_REFUSED)).toBeGreaterThan(0);
  }, 60_000);

  it("holds for other seeds too", () => {
    for (const seed of [2, 3, 4, 5]) {
      const { core, heap } = session(seed, 20_000);
      expect(core.stat(C.STAT_HEAP_TOP)).toBe(heap);
      expect(core.stat(C.STAT_CONNS_USED)).toBe(0);
      expect(core.stat(C.STAT_TIMERS_ARMED)).toBe(0);
    }
  }, 60_000);

  it("refuses a configuration that does not fit the memory cap, with the reason", () => {
    const host = new FakeHost();
    expect(() => host.start("max_conns=32\nhttp_line_max=1024")).toThrow(/need \d+ bytes, the core has \d+/);
  });

  it("the canary catches a write above the cap", () => {
    const host = new FakeHost();
    const core = host.start("http_port=0");
    core.bytes()[core.heapLimit + 100] = 0;
    expect(() => core.checkCanary()).toThrow(/above its 40960-byte memory cap/);
  });
});

describe("time across the u32 wrap", () => {
  it("fires deadlines set just before the wrap, after it, and not early", () => {
    const host = new FakeHost();
    const start = (2 ** 32 - 300) >>> 0;
    const core = host.start("http_port=80\nhttp_timeout_ms=1000", start);
    expect(core.exports.tcp_accepted(1, 7, 0x7f000001, 1, start)).toBe(C.OK);
    expect(core.exports.tick((start + 999) >>> 0)).toBe(1); // deadline is 700 ms past the wrap
    expect(host.closed.has(7)).toBe(false);
    core.exports.tick((start + 1000) >>> 0);
    expect(host.closed.has(7)).toBe(true);
  });

  it("keeps polling on schedule across the wrap", () => {
    const host = new FakeHost();
    let now = (2 ** 32 - 1000) >>> 0;
    const connects: number[] = [];
    host.overrides.tcp_connect = () => (connects.push(now), C.ERR_IO);
    const core = host.start("http_port=0\nrgb_server=127.0.0.9:80\nrgb_poll_ms=100\nrgb_backoff_max_ms=100", now);
    for (let i = 0; i < 40; i++) core.exports.tick((now = (now + 50) >>> 0));
    const gaps = connects.slice(1).map((t, i) => ((t - connects[i]) >>> 0));
    expect(connects.length).toBeGreaterThanOrEqual(19);
    expect(new Set(gaps)).toEqual(new Set([100]));
  });
});
