// The RGB client board against real servers: a picowire server board, the tutorial's server (CPython
// port), a dead address and a server that sends garbage. Also the tutorial's client against our server.
import { describe, it, expect, afterEach } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import { C } from "../../tools/host/abi.generated.ts";
import { gammaTable } from "../../tools/gen/gamma.ts";
import { channelDuty } from "../../tools/rgb/reference.ts";
import { startBoard, stopBoards, freePort, waitFor, nodeOnly } from "../helpers/boards.ts";

const PEERS = join(import.meta.dirname, "..", "peers");
const children: ChildProcess[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  children.splice(0).forEach((c) => c.kill("SIGKILL"));
  await stopBoards();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A plain TCP server (a misbehaving colour server); its sockets die with it. */
async function rawServer(port: number, onConn: (s: net.Socket) => void): Promise<net.Server> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    onConn(s);
  });
  const close = srv.close.bind(srv);
  srv.close = (cb?: (err?: Error) => void) => {
    sockets.forEach((s) => s.destroy());
    return close(cb);
  };
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", () => r()));
  return srv;
}

/** Runs a CPython peer to completion without blocking the event loop the boards run on. */
function pythonRun(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", args, { stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
    child.stdout!.on("data", (d) => (out += d));
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`python exited with ${code}: ${out}`));
    });
  });
}

function clientConfig(port: number, extra = "", timeoutMs = 500) {
  return `http_port=0\nrgb_server=127.0.0.1:${port}\nrgb_poll_ms=40\nrgb_timeout_ms=${timeoutMs}\nrgb_pins=13,14,15${extra}`;
}

function python(args: string[]): Promise<{ child: ChildProcess; out: string[] }> {
  const child = spawn("python3", args, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const out: string[] = [];
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out.push(...d.toString().trim().split("\n"));
      resolve({ child, out });
    });
    child.on("error", reject);
  });
}

describe("rgb-client board", () => {
  it("polls a picowire server board and drives its RGB LED through gamma-corrected PWM", async () => {
    const port = await freePort();
    await startBoard(`http_port=${port}\nrgb_source=fixed\nrgb=255,128,0`);
    const client = await startBoard(clientConfig(port, "\nbrightness=200"), { host: "127.0.0.2" });
    await waitFor(() => client.core.stat(C.STAT_RGB_POLLS_OK) >= 3, "three polls");
    expect(client.lines.map((l) => l.text)).toContain("rgb: 255 128 0");
    const g = gammaTable();
    expect(client.hw.duties([13, 14, 15])).toEqual([255, 128, 0].map((v) => channelDuty(g, v, 200)));
    expect(client.hw.pins.get(13)!.pwm!.freqHz).toBe(1000);
  });

  it("inverts the duty for a common-anode LED", async () => {
    const port = await freePort();
    await startBoard(`http_port=${port}\nrgb_source=fixed\nrgb=255,0,0`);
    const client = await startBoard(clientConfig(port, "\nrgb_common_anode=1"), { host: "127.0.0.2" });
    await waitFor(() => client.core.stat(C.STAT_RGB_POLLS_OK) >= 1, "a poll");
    expect(client.hw.duties([13, 14, 15])).toEqual([0, 65535, 65535]);
  });

  it("follows the tutorial's own server (CPython port)", async () => {
    const port = await freePort();
    await python([join(PEERS, "tutorial_server.py"), "127.0.0.1", String(port), "7,8,9"]);
    const client = await startBoard(clientConfig(port), { host: "127.0.0.2" });
    await waitFor(() => client.core.stat(C.STAT_RGB_POLLS_OK) >= 2, "two polls");
    expect(client.core.stat(C.STAT_RGB)).toBe(0x070809);
  });

  it("logs an unreachable server and retries with a growing backoff, without crashing", async () => {
    const port = await freePort();
    const client = await startBoard(clientConfig(port, "\nrgb_backoff_max_ms=400"), { host: "127.0.0.2" });
    await waitFor(() => client.core.stat(C.STAT_RGB_POLLS_FAILED) >= 5, "five failures", 8000);
    const delays = client.lines.filter((l) => l.level === "warn" && /^rgb-client:/.test(l.text)).map((l) => Number(/retry in (\d+) ms/.exec(l.text)?.[1]));
    expect(delays.slice(0, 5)).toEqual([80, 160, 320, 400, 400]);
    expect(client.traps).toBe(0);
    // the server comes up: polling recovers by itself
    await startBoard(`http_port=${port}\nrgb_source=fixed\nrgb=1,2,3`);
    await waitFor(() => client.core.stat(C.STAT_RGB) === 0x010203, "recovery", 8000);
  });

  it.each([
    ["a reply that is not a colour", "hello"],
    ["a colour out of range", "1,2,300"],
    ["a reply too long to be a colour", "1,2,3".repeat(10)],
  ])("rejects %s, keeps its last colour, and retries", async (_what, reply) => {
    const port = await freePort();
    const good = await startBoard(`http_port=${port}\nrgb_source=fixed\nrgb=4,5,6`);
    const client = await startBoard(clientConfig(port), { host: "127.0.0.2" });
    await waitFor(() => client.core.stat(C.STAT_RGB_POLLS_OK) >= 1, "first poll");
    // a firmware board polls before its WiFi is up: failures before the first good poll are not these
    const failedBefore = client.core.stat(C.STAT_RGB_POLLS_FAILED);
    await good.stop();
    await rawServer(port, (s) => s.end(reply));
    await waitFor(() => client.core.stat(C.STAT_RGB_POLLS_FAILED) >= failedBefore + 2, "failures");
    expect(client.core.stat(C.STAT_RGB)).toBe(0x040506);
    expect(client.lines.some((l) => l.level === "warn" && /sent garbage/.test(l.text))).toBe(true);
    expect(client.traps).toBe(0);
  });

  it("times out a server that accepts but never answers", async () => {
    const port = await freePort();
    await rawServer(port, () => {});
    const client = await startBoard(clientConfig(port, "", 100), { host: "127.0.0.2" });
    // a firmware board's first polls fail before its WiFi is up: wait for the timeouts themselves
    await waitFor(() => client.lines.filter((l) => /timed out/.test(l.text)).length >= 2, "timeouts");
    expect(client.core.stat(C.STAT_RGB_POLLS_FAILED)).toBeGreaterThanOrEqual(2);
  });
});

describe("rgb-server board with the tutorial's client (CPython port)", () => {
  it("serves every poll", async () => {
    const port = await freePort();
    await startBoard(`http_port=${port}\nrgb_source=fixed\nrgb=200,100,50`);
    const out = await pythonRun([join(PEERS, "tutorial_client.py"), "127.0.0.1", String(port), "3"]);
    expect(out.toString().trim().split("\n")).toEqual(["200 100 50", "200 100 50", "200 100 50"]);
  });

  it("serves potentiometer values from three ADC channels, scaled to 0..255", async () => {
    const port = await freePort();
    const server = await startBoard(`http_port=${port}\nrgb_source=adc\nrgb_adc=0,1,2`);
    server.hw.adc[0] = 4095;
    server.hw.adc[1] = 2048;
    server.hw.adc[2] = 0;
    const out = await pythonRun([join(PEERS, "tutorial_client.py"), "127.0.0.1", String(port), "1"]);
    expect(out.toString().trim()).toBe("255 128 0");
  });
});

nodeOnly("drives the core directly through FakeHost").describe("rgb client, the core driven directly", () => {
  // regression (code review): both expectations failed before the fix
  it("a tcp_sent after reply bytes arrived never sends those bytes back, and a failing send stops polling for good", async () => {
    const { FakeHost } = await import("../helpers/core.ts");
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
});
