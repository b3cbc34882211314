// The control protocol against virtual boards over loopback, with the TypeScript Client and raw
// sockets: actions, fail-safe timing, framing, errors, authentication, replays, and crowds.
import { describe, it, expect, afterEach } from "vitest";
import net from "node:net";
import { ABI_VERSION, C } from "../../tools/host/abi.generated.ts";
import WebSocket from "ws";
import { Client, authAnswer, signCommand } from "../../tools/client.ts";
import { startBoard, stopBoards, freePort, waitFor, nodeOnly, boardAddress, TEST_HOST, type TestBoard } from "../helpers/boards.ts";
import { coreSha256 } from "../helpers/core.ts";

const KEY = "correct horse battery staple";
afterEach(stopBoards);

async function board(extra = "", host = "127.0.0.1"): Promise<{ board: TestBoard; port: number }> {
  const port = await freePort(host);
  const b = await startBoard(`http_port=0\ncontrol_port=${port}\n${extra}`, { host });
  return { board: b, port };
}

const insecure = () => board("control_insecure=1");

describe("actions", () => {
  it("answers each command with its fields, time_received and results", async () => {
    const { port } = await insecure();
    const c = await Client.connect("127.0.0.1", port);
    const r = await c.command({ action: "ping", tag: "x" });
    expect(r).toMatchObject({ action: "ping", tag: "x", pong: true });
    expect(typeof r.time_received).toBe("number");
    expect((await c.command({ action: "get_version" })).abi_version).toBe(ABI_VERSION);
    expect((await c.command({ action: "list_actions" })).actions).toContain("write_pin");
    c.close();
  });

  it("sets up, writes and reads pins, with pull and PWM, on the simulated board", async () => {
    const { board: b, port } = await insecure();
    const c = await Client.connect("127.0.0.1", port);
    expect(await c.command({ action: "setup_pin", pin: 2, mode: "output", value: 1 })).not.toHaveProperty("error");
    expect(b.hw.pins.get(2)).toMatchObject({ mode: "out", level: 1 });
    expect(await c.command({ action: "setup_pin", pin: 3, mode: "input", pull: "up" })).not.toHaveProperty("error");
    expect((await c.command({ action: "read_pin", pin: 3 })).value).toBe(1);
    b.hw.drive(3, 0);
    expect((await c.command({ action: "read_pin", pin: 3 })).value).toBe(0);
    expect(await c.command({ action: "set_pwm", pin: 4, duty: 30000, freq: 500 })).not.toHaveProperty("error");
    expect(b.hw.pins.get(4)!.pwm).toEqual({ freqHz: 500, duty: 30000 });
    b.hw.adc[1] = 1234;
    expect((await c.command({ action: "read_adc", channel: 1 })).value).toBe(1234);
    expect(await c.command({ action: "set_rgb", rgb: "10,20,30" })).toMatchObject({ rgb: "10,20,30" }); // a reply never repeats a key
    const info = await c.command({ action: "get_resource_info" });
    expect(info).toMatchObject({ abi_version: ABI_VERSION, core_sha256: coreSha256, ip: boardAddress(b), reset_reason: "power_on", role: "OFF", rgb: "#0a141e" });
    expect(info.core_memory).toBeLessThanOrEqual(40960);
    c.close();
  });

  it("drives the on-board LED by name", async () => {
    const { board: b, port } = await insecure();
    const c = await Client.connect("127.0.0.1", port);
    expect(await c.command({ action: "setup_pin", pin: "LED", mode: "output", value: 1 })).not.toHaveProperty("error");
    expect(b.hw.pins.get(C.PIN_LED)!.level).toBe(1);
    c.close();
  });

  it.each([
    [{ action: "read_pin", pin: 23 }, /pin 23 is wired to the WiFi chip/],
    [{ action: "setup_pin", pin: 29, mode: "output", value: 0 }, /pin 29 is wired to the WiFi chip/],
    [{ action: "read_pin", pin: 40 }, /pin 40 does not exist/],
    [{ action: "read_pin", pin: "two" }, /'pin': read_pin needs a GPIO number/],
    [{ action: "read_pin", pin: 5 }, /not set up: send setup_pin first/],
    [{ action: "write_pin", pin: 6, value: 1, timeout: 1 }, /not set up as an output/],
    [{ action: "setup_pin", pin: 6, mode: "output" }, /'value': setup_pin needs the initial value/],
    [{ action: "setup_pin", pin: 6, mode: "sideways" }, /'mode': setup_pin needs "input", "output" or "none"/],
    [{ action: "set_pwm", pin: "LED", duty: 1 }, /LED sits on the WiFi chip and has no PWM/],
    [{ action: "set_pwm", pin: 4, duty: 70000 }, /'duty'/],
    [{ action: "read_adc", channel: 9 }, /'channel'/],
    [{ action: "set_rgb", rgb: "300,0,0" }, /'rgb'/],
    [{ action: "fly" }, /unknown action/],
    [{ pin: 2 }, /missing field 'action'/],
  ])("refuses %j with a reason and keeps the connection", async (cmd, why) => {
    const { port } = await insecure();
    const c = await Client.connect("127.0.0.1", port);
    const r = await c.command(cmd);
    expect(r.error).toMatch(why);
    expect(r).toMatchObject(cmd); // the command's fields come back with the error
    expect((await c.command({ action: "ping" })).pong).toBe(true);
    c.close();
  });
});

describe("fail-safe write_pin", () => {
  async function setup() {
    const { board: b, port } = await insecure();
    const c = await Client.connect("127.0.0.1", port);
    await c.command({ action: "setup_pin", pin: 2, mode: "output", value: 0 });
    return { b, c };
  }

  it("requires a timeout, and reverts to the previous value when it expires", async () => {
    const { b, c } = await setup();
    expect((await c.command({ action: "write_pin", pin: 2, value: 1 })).error).toMatch(/fail-safe timeout/);
    expect((await c.command({ action: "write_pin", pin: 2, value: 1, timeout: 0 })).error).toMatch(/fail-safe timeout/);
    const t0 = Date.now();
    await c.command({ action: "write_pin", pin: 2, value: 1, timeout: 0.3 });
    expect(b.hw.pins.get(2)!.level).toBe(1);
    await waitFor(() => b.hw.pins.get(2)!.level === 0, "revert");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    c.close();
  });

  it("overlapping writes: a newer write replaces the deadline, and the revert restores the value before the first", async () => {
    const { b, c } = await setup();
    const reverted = () => b.lines.some((l) => /pin 2 reverted/.test(l.text));
    const t0 = Date.now();
    await c.command({ action: "write_pin", pin: 2, value: 1, timeout: 0.5 });
    await c.command({ action: "write_pin", pin: 2, value: 1, timeout: 3 }); // replaces the deadline: the old timer must not fire
    expect(reverted()).toBe(false); // the second write came before the first deadline (or this test proves nothing)
    // Deliberately let the first deadline pass (there is no state to wait for: nothing must happen), with
    // 200 ms for the host's timer to run; the 3 s deadline leaves seconds of slack for a loaded machine.
    // The exact timing is checked in virtual time below ("fail-safe timing in virtual time").
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 700 - Date.now())));
    expect(reverted()).toBe(false);
    expect(b.hw.pins.get(2)!.level).toBe(1);
    await waitFor(() => b.hw.pins.get(2)!.level === 0, "revert to the value before the first write", 10_000);
  });

  it("a dropped connection does not cancel a pending revert", async () => {
    const { b, c } = await setup();
    await c.command({ action: "write_pin", pin: 2, value: 1, timeout: 0.2 });
    c.close();
    await waitFor(() => b.hw.pins.get(2)!.level === 0, "revert after disconnect");
    // the line follows the pin: on emu the UART is still sending it when the pin has changed
    await waitFor(() => b.lines.some((l) => /pin 2 reverted to 0/.test(l.text)), "the revert's line");
  });

  nodeOnly("makes the core trap with board.post(), which only the Node host has").it("pin safety outlives the core: a trap puts pins with a pending revert to their safe value", async () => {
    const { b, c } = await setup();
    await c.command({ action: "write_pin", pin: 2, value: 1, timeout: 60 });
    expect(b.pinSafe.get(2)).toBe(0);
    // the core traps, as a bug would make it: the host restarts it and owns the pin meanwhile
    b.post(() => {
      throw new WebAssembly.RuntimeError("unreachable");
    });
    await waitFor(() => b.traps === 1 && b.hw.pins.get(2)!.level === 0, "safe value after the trap");
    expect(b.lines.some((l) => /pin 2 back to its safe level 0/.test(l.text))).toBe(true);
  });
});

describe("framing", () => {
  it("handles commands split across segments and several in one segment", async () => {
    const { port } = await insecure();
    const c = await Client.connect("127.0.0.1", port);
    const line = '{"action":"ping","n":1}\n{"action":"ping","n":2}\n{"act';
    c.send(line);
    // the two whole lines are answered before the rest of the third is sent: it arrives in a later segment
    const replies = [await c.next(), await c.next()];
    c.send('ion":"ping","n":3}\r\n');
    replies.push(await c.next());
    expect(replies.map((r) => r.n)).toEqual([1, 2, 3]);
    c.close();
  });

  it("one byte at a time", async () => {
    const { port } = await insecure();
    const s = net.connect(port, "127.0.0.1");
    await new Promise((r) => s.once("connect", r));
    let got = "";
    s.on("data", (d) => (got += d));
    for (const ch of '{"action":"ping"}\n') {
      s.write(ch);
      await new Promise((r) => setTimeout(r, 2)); // pacing, not a wait: a pause so that bytes go in separate segments
    }
    await waitFor(() => got.endsWith("\n"), "reply");
    expect(JSON.parse(got)).toMatchObject({ action: "ping", pong: true });
    s.destroy();
  });

  it.each([
    ["not JSON", "hello there", /invalid JSON: expected a JSON object at byte 0/],
    ["a duplicate key", '{"action":"ping","action":"reset"}', /duplicate key/],
    ["a trailing comma", '{"action":"ping",}', /invalid JSON/],
    ["too deep", '{"action":"ping","x":[[[[[[1]]]]]]}', /nested too deep/],
  ])("refuses %s and stays open", async (_w, text, why) => {
    const { port } = await insecure();
    const c = await Client.connect("127.0.0.1", port);
    c.send(text + "\n");
    expect((await c.next()).error).toMatch(why);
    expect((await c.command({ action: "ping" })).pong).toBe(true);
    c.close();
  });

  it("drops a line over control_line_max, says so, and reads the next", async () => {
    const { port } = await board("control_insecure=1\ncontrol_line_max=128");
    const c = await Client.connect("127.0.0.1", port);
    c.send(`{"action":"ping","pad":"${"x".repeat(300)}"}\n`);
    expect((await c.next()).error).toMatch(/line longer than control_line_max \(128 bytes\)/);
    expect((await c.command({ action: "ping" })).pong).toBe(true);
    c.close();
  });
});

describe("authentication", () => {
  it("is off without a key unless insecure, and says so", async () => {
    const { board: b, port } = await board("");
    expect(b.lines.some((l) => /control: off: no bus key configured/.test(l.text))).toBe(true);
    await expect(Client.connect("127.0.0.1", port, { timeoutMs: 1000 })).rejects.toThrow(/cannot reach/);
    const ins = await insecure();
    expect(ins.board.lines.some((l) => l.level === "warn" && /WITHOUT AUTHENTICATION/.test(l.text))).toBe(true);
  });

  it("completes the challenge and runs signed commands", async () => {
    const { board: b, port } = await board(`key=${KEY}`);
    const c = await Client.connect("127.0.0.1", port, { key: KEY });
    expect(await c.command({ action: "setup_pin", pin: 2, mode: "output", value: 1 })).not.toHaveProperty("error");
    expect(b.hw.pins.get(2)!.level).toBe(1);
    c.close();
  });

  it("refuses a wrong key and closes", async () => {
    const { port } = await board(`key=${KEY}`);
    await expect(Client.connect("127.0.0.1", port, { key: "not the right key at all" })).rejects.toThrow(/authentication failed: wrong key/);
  });

  it("refuses commands before authentication", async () => {
    const { port } = await board(`key=${KEY}`);
    const c = await Client.connect("127.0.0.1", port);
    expect(await c.next()).toHaveProperty("challenge");
    expect((await c.command({ action: "ping" })).error).toMatch(/authenticate first/);
  });

  it("refuses tampered, unsigned, replayed and out-of-order commands", async () => {
    const { board: b, port } = await board(`key=${KEY}`);
    const c = await Client.connect("127.0.0.1", port, { key: KEY });
    await c.command({ action: "setup_pin", pin: 2, mode: "output", value: 0 });
    const signed = c.line({ action: "write_pin", pin: 2, value: 1, timeout: 5 });
    c.send(signed.replace('"value":1', '"value":0') + "\n");
    expect((await c.next()).error).toMatch(/bad mac/);
    c.send('{"action":"ping","seq":99}\n');
    expect((await c.next()).error).toMatch(/need a "seq".*"mac"/);
    c.send(signed + "\n");
    expect((await c.next()).error).toBeUndefined();
    c.send(signed + "\n"); // the same bytes again
    expect((await c.next()).error).toMatch(/seq must rise/);
    expect(b.core.stat(C.STAT_CONNS_USED)).toBe(1);
    c.close();
  });

  it("a command captured on one connection is useless on another (fresh nonce)", async () => {
    const { port } = await board(`key=${KEY}`);
    const a = await Client.connect("127.0.0.1", port, { key: KEY });
    const captured = a.line({ action: "ping" });
    const b = await Client.connect("127.0.0.1", port, { key: KEY });
    b.send(captured + "\n");
    expect((await b.next()).error).toMatch(/bad mac/);
    a.close();
    b.close();
  });

  it("never logs the key", async () => {
    const { board: b } = await board(`key=${KEY}`);
    expect(b.lines.some((l) => l.text.includes(KEY))).toBe(false);
    await expect(startBoard("http_port=0\nkey=short")).rejects.toThrow(/the key must be 16 to 64 characters$/);
  });
});

describe("crowds", () => {
  // no key: every session counts as authenticated, so none may be dropped for a newcomer (docs/SECURITY.md)
  it("serves as many clients as it has slots and refuses 100 more politely while they keep working", async () => {
    const { board: b, port } = await board("control_insecure=1\nmax_conns=6\nmax_conns_per_ip=6");
    const clients = await Promise.all(Array.from({ length: 6 }, () => Client.connect("127.0.0.1", port)));
    // the six hold their slots on the board before the crowd comes (on emu the relay accepts at once and
    // connects to the board behind it; the crowd shares their address, so a late SYN of theirs is the crowd's)
    await waitFor(() => b.core.stat(C.STAT_CONNS_USED) === 6, "the six clients' slots");
    const extra = await Promise.all(
      Array.from({ length: 100 }, () => new Promise<string>((resolve) => {
        const s = net.connect(port, "127.0.0.1");
        s.on("error", () => resolve("reset"));
        s.on("end", () => resolve("fin"));
        s.on("close", () => resolve("fin"));
      })),
    );
    const replies = await Promise.all(clients.map((c, i) => c.command({ action: "ping", i })));
    expect(replies.map((r) => r.i)).toEqual([0, 1, 2, 3, 4, 5]);
    if (TEST_HOST === "emu") {
      // the firmware's lwIP has 16 pcbs (native/pico/lwipopts.h): a SYN that finds none free is refused with
      // a reset at once (native/pico/pw_lwip.c); the rest reach the core, which refuses them with a FIN
      const fins = extra.filter((e) => e === "fin").length;
      expect(fins + extra.filter((e) => e === "reset").length).toBe(100);
      expect(b.core.stat(C.STAT_REFUSED)).toBeGreaterThanOrEqual(fins);
    } else {
      expect(extra.every((e) => e === "fin")).toBe(true);
      expect(b.core.stat(C.STAT_REFUSED)).toBeGreaterThanOrEqual(100);
    }
    clients.forEach((c) => c.close());
    await waitFor(() => b.core.stat(C.STAT_CONNS_USED) === 0, "slots free");
  });
});

describe("status LED", () => {
  it("shows a connected client on a real board: the LED starts blinking fast", async () => {
    const { board: b, port } = await insecure();
    const c = await Client.connect("127.0.0.1", port);
    await c.command({ action: "ping" });
    const seen = new Set<number>();
    await waitFor(() => seen.add(b.hw.pins.get(C.PIN_LED)?.level ?? 0).size === 2, "the LED blinking", 5000);
    expect(seen).toEqual(new Set([0, 1])); // it blinks (exact timing is checked in virtual time below)
    c.close();
  });
});

nodeOnly("drives the core directly through FakeHost with a virtual clock").describe("status LED patterns in virtual time", () => {
  /** LED levels the core writes, as [ms since start, level], while `steps` advance a virtual clock. */
  async function record(wifiUp: boolean, client: boolean, ms: number) {
    const { FakeHost } = await import("../helpers/core.ts");
    const host = new FakeHost();
    let now = 1000;
    const writes: [number, number][] = [];
    host.overrides.gpio_write = (pin, v) => (pin === C.PIN_LED && writes.push([now - 1000, v]), C.OK);
    host.overrides.wifi_status = () => (wifiUp ? C.WIFI_UP : C.WIFI_CONNECTING);
    const core = host.start("http_port=0\ncontrol_port=12345\ncontrol_insecure=1", now);
    if (client) core.exports.tcp_accepted(1, 9, 0x7f000001, 4000, now);
    for (let t = 0; t <= ms; t += 10) core.exports.tick((now = 1000 + t));
    return writes;
  }
  const changes = (w: [number, number][]) => w.filter(([, v], i) => i === 0 || v !== w[i - 1][1]);

  it("listening: 1.5 s on, 1.5 s off", async () => {
    expect(changes(await record(true, false, 6000))).toEqual([[0, 1], [1500, 0], [3000, 1], [4500, 0], [6000, 1]]);
  });

  it("a client connected: a 20 ms blink every 100 ms", async () => {
    expect(changes(await record(true, true, 300))).toEqual([[0, 1], [20, 0], [100, 1], [120, 0], [200, 1], [220, 0], [300, 1]]);
  });

  it("connecting: three 100 ms blinks 200 ms apart, then a 1 s pause", async () => {
    expect(changes(await record(false, false, 1600))).toEqual([[0, 1], [100, 0], [200, 1], [300, 0], [400, 1], [500, 0], [1500, 1], [1600, 0]]);
  });
});

describe("the same protocol over WebSocket (/control)", () => {
  async function wsBoard(extra: string) {
    const port = await freePort();
    const cport = await freePort();
    const b = await startBoard(`http_port=${port}\ncontrol_port=${cport}\n${extra}`);
    return { b, url: `ws://127.0.0.1:${port}/control` };
  }

  function open(url: string) {
    const ws = new WebSocket(url);
    const inbox: Record<string, unknown>[] = [];
    const waiters: ((m: Record<string, unknown>) => void)[] = [];
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString());
      const w = waiters.shift();
      if (w) w(m);
      else inbox.push(m);
    });
    const next = () => new Promise<Record<string, unknown>>((r) => (inbox.length ? r(inbox.shift()!) : waiters.push(r)));
    const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
    return { ws, next, closed, opened: new Promise((r) => ws.once("open", r)) };
  }

  it("authenticates and runs signed commands as text messages, one reply per message", async () => {
    const { b, url } = await wsBoard(`key=${KEY}`);
    const c = open(url);
    await c.opened;
    const hello = await c.next();
    expect(hello.challenge).toMatch(/^[0-9a-f]{32}$/);
    c.ws.send(authAnswer(KEY, hello.challenge as string));
    expect((await c.next()).authenticated).toBe(true);
    c.ws.send(signCommand(KEY, hello.challenge as string, 1, { action: "setup_pin", pin: 7, mode: "output", value: 1 }));
    expect(await c.next()).not.toHaveProperty("error");
    expect(b.hw.pins.get(7)!.level).toBe(1);
    c.ws.send(signCommand(KEY, hello.challenge as string, 1, { action: "ping" })); // seq did not rise
    expect((await c.next()).error).toMatch(/seq must rise/);
    c.ws.close();
  });

  it("closes with 1008 after a wrong answer to the challenge, and 1003 for binary messages", async () => {
    const { url } = await wsBoard(`key=${KEY}`);
    const c = open(url);
    await c.next();
    c.ws.send(authAnswer("a different key entirely", "00"));
    expect((await c.next()).error).toMatch(/authentication failed/);
    expect(await c.closed).toBe(1008);
    const d = open(url);
    await d.next();
    d.ws.send(Buffer.from("{}"));
    expect(await d.closed).toBe(1003);
  });

  it("works without a key when insecure, refuses a message over control_line_max with 1009", async () => {
    const { url } = await wsBoard("control_insecure=1\ncontrol_line_max=128");
    const c = open(url);
    await c.opened;
    c.ws.send(JSON.stringify({ action: "get_version" }));
    expect((await c.next()).abi_version).toBe(ABI_VERSION);
    c.ws.send(JSON.stringify({ action: "ping", pad: "x".repeat(200) }));
    expect(await c.closed).toBe(1009);
  });

  it("is not served when control is off", async () => {
    const { url } = await wsBoard("");
    const res = await fetch(url.replace("ws:", "http:"));
    expect(res.status).toBe(404);
  });
});

nodeOnly("drives the core directly through FakeHost; no board, so no host to switch").describe("fail-safe timing in virtual time (the core driven directly)", () => {
  it("reverts exactly at the deadline, also across the u32 wrap, and an old deadline never undoes a newer write", async () => {
    const { FakeHost } = await import("../helpers/core.ts");
    const host = new FakeHost();
    const writes: [number, number, number][] = [];
    let now = (2 ** 32 - 3000) >>> 0;
    host.overrides.gpio_write = (pin, v) => (writes.push([pin, v, now]), C.OK);
    host.overrides.gpio_setup = () => C.OK;
    const core = host.start("http_port=0\ncontrol_port=12345\ncontrol_insecure=1", now);
    expect(core.exports.tcp_accepted(1, 9, 0x7f000001, 4000, now)).toBe(C.OK);
    const send = (o: object) => host.data(9, JSON.stringify(o) + "\n", now);
    const at = (ms: number) => core.exports.tick((now = (now + ms) >>> 0));
    send({ action: "setup_pin", pin: 2, mode: "output", value: 0 });
    send({ action: "write_pin", pin: 2, value: 1, timeout: 5 });
    at(2000);
    send({ action: "write_pin", pin: 2, value: 1, timeout: 5 }); // replaces the deadline: now + 5 s
    at(2999); // 4999 ms after the first write: its old deadline must not fire
    expect(writes.filter(([p]) => p === 2).map(([, v]) => v)).toEqual([0, 1, 1]);
    at(2000); // 4999 ms after the second write
    expect(writes.filter(([p]) => p === 2).length).toBe(3);
    at(1); // exactly 5 s after the second write, past the wrap
    expect(writes.filter(([p]) => p === 2).at(-1)).toEqual([2, 0, now]);
    expect(host.calls.filter((c) => c.name === "pin_safe").map((c) => c.args)).toEqual([[2, 0], [2, -1]]);
  });

  it("a cancelled revert leaves the other pins' pending reverts running, and a revert after all are done still fires", async () => {
    const { FakeHost } = await import("../helpers/core.ts");
    const host = new FakeHost();
    const levels = new Map<number, number>();
    let now = 1000;
    host.overrides.gpio_write = (pin, v) => (levels.set(pin, v), C.OK);
    host.overrides.gpio_setup = () => C.OK;
    const core = host.start("http_port=0\ncontrol_port=12345\ncontrol_insecure=1", now);
    expect(core.exports.tcp_accepted(1, 9, 0x7f000001, 4000, now)).toBe(C.OK);
    const send = (o: object) => host.data(9, JSON.stringify(o) + "\n", now);
    const at = (ms: number) => core.exports.tick((now += ms));
    for (const pin of [2, 3]) send({ action: "setup_pin", pin, mode: "output", value: 0 });
    send({ action: "write_pin", pin: 2, value: 1, timeout: 5 });
    send({ action: "write_pin", pin: 3, value: 1, timeout: 6 });
    at(1000);
    send({ action: "setup_pin", pin: 2, mode: "output", value: 1 }); // cancels pin 2's revert only
    at(4000);
    expect([levels.get(2), levels.get(3)]).toEqual([1, 1]); // 5 s after the writes: pin 2's revert is gone
    at(1000);
    expect([levels.get(2), levels.get(3)]).toEqual([1, 0]); // 6 s: pin 3 reverts
    send({ action: "write_pin", pin: 2, value: 0, timeout: 1 });
    at(999);
    expect(levels.get(2)).toBe(0);
    at(1);
    expect(levels.get(2)).toBe(1); // back to its level before the write
  });
});

nodeOnly("drives the core directly through FakeHost; no board, so no host to switch").describe("regressions from a code review (the core driven directly)", () => {
  /** A core with distinct listener handles (1 for HTTP on port 80, 2 for control). */
  const controlHost = async (config: string) => {
    const { FakeHost } = await import("../helpers/core.ts");
    const h = new FakeHost();
    h.overrides.tcp_listen = (port) => (port === 80 ? 1 : 2);
    h.start(config, 0);
    return h;
  };

  it("/control WebSocket: a ping between fragments of a command leaves the command whole", async () => {
    const { frame, parseFrames, upgradeRequest } = await import("../helpers/ws.ts");
    const cmd = '{"action":"ping","pad":"' + "x".repeat(140) + '"}';
    const h = await controlHost("http_port=80\ncontrol_port=12345\ncontrol_insecure=1");
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

  it("a command with its own \"error\" field is refused (it would collide with the reply's), never echoed", async () => {
    const h = await controlHost("http_port=0\ncontrol_port=12345\ncontrol_insecure=1");
    h.core.exports.tcp_accepted(2, 9, 0x7f000001, 5000, 0);
    h.data(9, '{"action":"nope","error":1}\n{"action":"ping","error":"x"}\n', 1);
    const [bad, good] = h.sentText(9).trim().split("\n").map((l) => JSON.parse(l));
    expect(typeof bad.error).toBe("string");
    expect(good.error).toBe('a command may not have a field named "error"');
  });

  it("a 'key' line without '=' is refused without logging the secret", async () => {
    const { FakeHost } = await import("../helpers/core.ts");
    const h = new FakeHost();
    expect(() => h.start("http_port=0\nkey:0123456789abcdefSECRET")).toThrow();
    expect(h.logs.join("\n")).not.toContain("SECRET"); // failed before the fix
  });

  it("an unauthenticated peer that sends invalid JSON lines is closed", async () => {
    const h = await controlHost("http_port=0\ncontrol_port=12345\nkey=0123456789abcdef0123");
    h.core.exports.tcp_accepted(2, 9, 0x7f000001, 5000, 0);
    for (let i = 0; i < 3; i++) h.data(9, "not json\n", i + 1);
    expect(h.closed.has(9) || h.aborted.has(9)).toBe(true); // failed before the fix
  });
});

describe("set_config refused", () => {
  // A refused text changes nothing and restarts the core with the configuration it had
  // (assembly/store/config_sector.ts). The board must answer again: on the emulated Pico W the restarted
  // core asks to join the network the radio is still joined to (native/pico/platform_pico.c wifi_join_).
  it("names the line and why, restarts the core with the old configuration, and answers again", async () => {
    const port = await freePort();
    const b = await startBoard(`control_port=${port}\ncontrol_insecure=1\nrgb_source=fixed\nrgb=1,2,3`);
    const c = await Client.connect(b.host, port);
    let before: unknown;
    try {
      before = (await c.command({ action: "get_info" })).rgb;
      const r = await c.command({ action: "set_config", config: "max_conns=banana\n" });
      expect(r.error).toMatch(/^not saved: config line 1: expected a whole number \('banana'\)/);
    } finally {
      c.close();
    }
    await waitFor(() => b.lines.some((l) => /restarting the core|reset requested \(kind 0\)/.test(l.text)), "the core's restart");
    const ping = async () => {
      try {
        const again = await Client.connect(b.host, port);
        try {
          const info = await again.command({ action: "get_info" });
          return info.rgb === before && info.reset_reason !== undefined;
        } finally {
          again.close();
        }
      } catch {
        return false; // refused or reset while the core restarts
      }
    };
    await waitFor(ping, "get_info answered with the old colour after the restart", 15_000, 200);
  });
});
