// GET / streams the page the host keeps in flash (gzip-compressed) through a connection buffer a few
// hundred bytes long: any size, flow-controlled, byte-exact.
import { describe, it, expect, afterEach } from "vitest";
import http from "node:http";
import { gzipSync, gunzipSync } from "node:zlib";
import { C } from "../../tools/host/abi.generated.ts";
import { startBoard, stopBoards, freePort, waitFor, exchange } from "../helpers/boards.ts";
import { FakeHost } from "../helpers/core.ts";

afterEach(stopBoards);

function get(port: number, method = "GET", path = "/"): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the page asset", () => {
  const page = Buffer.from("<!doctype html><title>picowire</title>" + Array.from({ length: 4000 }, (_, i) => `<p>${i} ${(i * 2654435761) % 1000003}</p>`).join(""));
  const gz = gzipSync(page, { level: 9 });

  it("is streamed byte-exact with gzip headers, on / and /index.html", async () => {
    const port = await freePort();
    const board = await startBoard(`http_port=${port}`, { assets: { "index.html.gz": gz } });
    for (const path of ["/", "/index.html"]) {
      const r = await get(port, "GET", path);
      expect(r.status).toBe(200);
      expect(r.headers["content-encoding"]).toBe("gzip");
      expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(Number(r.headers["content-length"])).toBe(gz.length);
      expect(r.body.equals(gz)).toBe(true);
      expect(gunzipSync(r.body).equals(page)).toBe(true);
    }
    expect(gz.length).toBeGreaterThan(10 * 1024); // far bigger than a connection buffer
    await waitFor(() => board.core.stat(C.STAT_CONNS_USED) === 0, "slots free");
  });

  it("answers HEAD with the headers only", async () => {
    const port = await freePort();
    await startBoard(`http_port=${port}`, { assets: { "index.html.gz": gz } });
    const r = await get(port, "HEAD");
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(0);
  });

  it("is 404 when the firmware has no page, 405 for other methods", async () => {
    const port = await freePort();
    await startBoard(`http_port=${port}`);
    expect((await get(port)).status).toBe(404);
    const p2 = await freePort("127.0.0.3");
    await startBoard(`http_port=${p2}`, { host: "127.0.0.3", assets: { "index.html.gz": gz } });
    const r = await exchange(p2, ["POST / HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n\r\n"], { host: "127.0.0.3" });
    expect(r.reply).toMatch(/^HTTP\/1\.1 405 /);
  });

  it("serves many readers at once", async () => {
    const port = await freePort();
    await startBoard(`http_port=${port}\nmax_conns=4\nmax_conns_per_ip=4`, { assets: { "index.html.gz": gz } }); // one address: all slots its share
    const results = await Promise.all(Array.from({ length: 4 }, () => get(port)));
    for (const r of results) expect(r.body.equals(gz)).toBe(true);
  });
});

describe("the page asset, the core driven directly (FakeHost)", () => {
  /** A core serving a 5000-byte page on port 80, one connection (7) accepted; `window` caps each send. */
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

  // regression (code review): both failed before the fix
  it("a peer half-close (FIN) or the deadline mid-stream never writes a 400/408 into the body", () => {
    const h = pageHost();
    h.data(7, "GET / HTTP/1.0\r\n\r\n", 1);
    h.core.exports.tcp_closed(7, C.TCP_FIN, 2);
    h.core.exports.tcp_sent(7, 100, 3);
    expect(h.sentText(7).indexOf("HTTP/1.1 400")).toBe(-1);
    const h2 = pageHost(100);
    h2.data(7, "GET / HTTP/1.1\r\nHost: b\r\n\r\n", 1);
    h2.core.exports.tick(6000);
    expect(h2.sentText(7).indexOf("HTTP/1.1 408")).toBe(-1);
  });
});
