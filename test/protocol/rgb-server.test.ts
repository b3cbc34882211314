// The RGB server board against real peers on loopback: raw sockets speaking the tutorial's protocol,
// Node's HTTP client, and hostile clients (slowloris, floods, oversized requests).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import http from "node:http";
import net from "node:net";
import { C } from "../../tools/host/abi.generated.ts";
import { startBoard, stopBoards, freePort, exchange, waitFor, notOnEmu, type TestBoard } from "../helpers/boards.ts";

let board: TestBoard;
let port: number;
const MAX_CONNS = 6;

function httpRequest(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: data, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  port = await freePort();
  board = await startBoard(`http_port=${port}\nmax_conns=${MAX_CONNS}\nhttp_timeout_ms=400\nrgb_source=fixed\nrgb=10,20,30`);
});
afterAll(stopBoards);

const idle = () => waitFor(() => board.core.stat(C.STAT_CONNS_USED) === 0, "all slots free");

describe("tutorial protocol", () => {
  it("answers a bare 'GET Data' with bare r,g,b and closes, without waiting for a line end", async () => {
    const r = await exchange(port, ["GET Data"]);
    expect(r).toMatchObject({ reply: "10,20,30", end: "fin" });
    expect(r.ms).toBeLessThan(300); // far below http_timeout_ms: it did not wait for more bytes
  });

  it("decides from the first bytes whatever the segmentation", async () => {
    const r = await exchange(port, ["G", "ET", " ", "D", "ata"], { gapMs: 20 });
    expect(r).toMatchObject({ reply: "10,20,30", end: "fin" });
  });

  it("answers whatever arrived when the peer finishes sending, as the tutorial server does", async () => {
    const r = await exchange(port, ["GET"], { fin: true });
    expect(r).toMatchObject({ reply: "10,20,30", end: "fin" });
  });

  it("serves fresh random colours in the default mode", async () => {
    const p2 = await freePort("127.0.0.3");
    await startBoard(`http_port=${p2}`, { host: "127.0.0.3" });
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await exchange(p2, ["GET Data"], { host: "127.0.0.3" });
      expect(r.reply).toMatch(/^(\d{1,3}),(\d{1,3}),(\d{1,3})$/);
      seen.add(r.reply);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe("HTTP", () => {
  it("GET /rgb returns the value with proper headers", async () => {
    const r = await httpRequest("GET", "/rgb?x=1");
    expect(r.status).toBe(200);
    expect(r.body).toBe("10,20,30");
    expect(r.headers["content-type"]).toBe("text/plain");
    expect(r.headers["content-length"]).toBe("8");
  });

  it("HEAD /rgb has headers only", async () => {
    const r = await httpRequest("HEAD", "/rgb");
    expect(r.status).toBe(200);
    expect(r.body).toBe("");
  });

  it("PUT /rgb sets the colour that both protocols then serve", async () => {
    expect((await httpRequest("PUT", "/rgb", "#0a0b0c")).body).toBe("10,11,12");
    expect((await exchange(port, ["GET Data"])).reply).toBe("10,11,12");
    const bad = await httpRequest("PUT", "/rgb", "300,1,1");
    expect(bad.status).toBe(400);
    expect((await httpRequest("GET", "/rgb")).body).toBe("10,11,12"); // the bad value changed nothing
    expect((await httpRequest("PUT", "/rgb", "10,20,30")).status).toBe(200);
  });

  notOnEmu("the firmware serves its dashboard at / (build/index.html.gz); the Node and C hosts have none").it("GET / -> 404", async () => {
    expect((await httpRequest("GET", "/")).status).toBe(404);
  });

  it.each([
    ["GET", "/rgbx", 404],
    ["POST", "/rgb", 405],
    ["DELETE", "/rgb", 405],
  ])("%s %s -> %d", async (method, path, status) => {
    const r = await httpRequest(method, path);
    expect(r.status).toBe(status);
    if (status === 405) expect(r.headers.allow).toBe("GET, HEAD, PUT");
  });

  it.each([
    ["a request line over http_line_max", `GET /${"a".repeat(400)} HTTP/1.1\r\n\r\n`, 414],
    ["a header line over http_line_max", `GET /rgb HTTP/1.1\r\nX: ${"a".repeat(400)}\r\n\r\n`, 431],
    ["headers over http_head_max", `GET /rgb HTTP/1.1\r\n${"X-A: 12345678901234567890\r\n".repeat(100)}\r\n`, 431],
    ["a bad version", "GET /rgb HTTP/2.0\r\n\r\n", 505],
    ["garbage after the target", "GET /rgb\r\n\r\n", 400],
    ["a header without a colon", "GET /rgb HTTP/1.1\r\nnocolon\r\n\r\n", 400],
    ["obsolete line folding", "GET /rgb HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400],
    ["two Content-Lengths", "PUT /rgb HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n1,2,3", 400],
    ["chunked bodies", "PUT /rgb HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501],
    ["a body over the limit", "PUT /rgb HTTP/1.1\r\nHost: b\r\nContent-Length: 100000\r\n\r\n", 413],
    ["an HTTP/1.1 request without Host (RFC 9112 3.2)", "GET /rgb HTTP/1.1\r\n\r\n", 400],
  ])("answers %s with %d and closes", async (_what, request, status) => {
    const r = await exchange(port, [request]);
    expect(r.reply.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(r.end).toBe("fin");
  });
});

describe("hostile clients", () => {
  it("closes a silent connection after http_timeout_ms and answers a stalled HTTP request with 408", async () => {
    const silent = exchange(port, [], { ms: 3000 });
    const stalled = exchange(port, ["GET /rgb HTTP/1.1\r\nHost: x\r\n"], { ms: 3000 });
    const [a, b] = await Promise.all([silent, stalled]);
    expect(a).toMatchObject({ reply: "", end: "fin" });
    expect(a.ms).toBeGreaterThanOrEqual(350);
    expect(b.reply.startsWith("HTTP/1.1 408 ")).toBe(true);
    await idle();
  });

  it("makes room when every slot is taken: a new request drops the oldest connection that sent nothing", async () => {
    await idle();
    // two addresses, each within its share (half of max_conns), fill every slot and say nothing
    const hogs: { s: net.Socket; end: Promise<string> }[] = [];
    for (let i = 0; i < MAX_CONNS; i++) {
      const s = net.connect({ port, host: "127.0.0.1", localAddress: `127.0.0.${2 + (i & 1)}` });
      s.on("error", () => {});
      hogs.push({ s, end: new Promise<string>((r) => (s.on("error", () => r("reset")), s.on("end", () => r("fin")))) });
      await waitFor(() => board.core.stat(C.STAT_CONNS_USED) === i + 1, `hog ${i} accepted`);
    }
    const refusedBefore = board.core.stat(C.STAT_REFUSED);
    const served = await exchange(port, ["GET Data"]);
    expect(served.reply).toBe("10,20,30");
    expect(await hogs[0].end).toBe("reset"); // the oldest: dropped at once, not left to time out
    expect(board.core.stat(C.STAT_REFUSED)).toBe(refusedBefore);
    hogs.forEach((h) => h.s.destroy());
    await idle();
  });

  notOnEmu("2000 connections through the namespace relay are minutes of wall time at rp2040js's ~1/10 speed").it("survives a burst of 2000 connections: each is served or closed, and memory stays put", async () => {
    const heap = board.core.stat(C.STAT_HEAP_TOP);
    const served = { ok: 0, closed: 0 };
    for (let wave = 0; wave < 20; wave++) {
      const rs = await Promise.all(Array.from({ length: 100 }, () => exchange(port, ["GET Data"], { ms: 4000 })));
      for (const r of rs) {
        expect(r.end).not.toBe("open");
        if (r.reply === "10,20,30") served.ok++;
        else {
          expect(r.reply).toBe("");
          served.closed++;
        }
      }
    }
    expect(served.ok + served.closed).toBe(2000);
    expect(served.ok).toBeGreaterThan(100);
    await idle();
    expect(board.core.stat(C.STAT_HEAP_TOP)).toBe(heap);
    expect(board.core.stat(C.STAT_TIMERS_ARMED)).toBe(0);
    expect((await exchange(port, ["GET Data"])).reply).toBe("10,20,30");
  }, 60000);

  it("drops bytes sent after a complete request instead of stalling", async () => {
    const r = await exchange(port, ["GET Data", "x".repeat(50000)]);
    expect(r.reply).toBe("10,20,30");
    await idle();
  });
});
