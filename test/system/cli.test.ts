// The `picowire` command as a user runs it: separate processes on loopback, console output, Ctrl-C.
import { describe, it, expect } from "vitest";
import net from "node:net";
import { join } from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { ABI_VERSION } from "../../tools/host/abi.generated.ts";
import WebSocket from "ws";
import { freePort, nodeOnly } from "../helpers/boards.ts";
import { picowire } from "../helpers/cli.ts";

const CLI = "the picowire CLI (bin/picowire.js) runs its boards on the Node host; it has no native-host switch";

nodeOnly(CLI).describe("picowire node", () => {
  it("runs a server and a client board as separate processes; Ctrl-C stops both cleanly", async () => {
    const port = await freePort();
    const server = picowire(["node", "--role", "rgb-server", "--host", "127.0.0.1", "--http-port", String(port), "--source", "fixed", "--rgb", "9,8,7"]);
    await server.waitFor(/running \(Ctrl-C stops\)/);
    const client = picowire(["node", "--role", "rgb-client", "--server", `127.0.0.1:${port}`, "--host", "127.0.0.2", "--poll-ms", "50"]);
    await client.waitFor(/rgb: 9 8 7[\s\S]*rgb: 9 8 7/);
    await server.waitFor(/Sent:9,8,7/);
    const echo = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
      ws.on("open", () => ws.send("from the CLI test"));
      ws.on("message", (d) => (resolve(d.toString()), ws.close()));
      ws.on("error", reject);
    });
    expect(echo).toBe("from the CLI test"); // virtual boards offer /echo by default
    client.child.kill("SIGINT");
    server.child.kill("SIGINT");
    expect(await client.exit).toBe(0);
    expect(await server.exit).toBe(0);
    expect(server.out()).toMatch(/stopped/);
  }, 40000);

  it("says why when the port is taken", async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", () => r()));
    const p = picowire(["node", "--role", "rgb-server", "--http-port", String(port)]);
    expect(await p.exit).toBe(1);
    expect(p.out()).toContain(`cannot listen on 127.0.0.1:${port}: port in use`);
    blocker.close();
  }, 20000);

  it.each([
    [["node", "--role", "toaster"], /--role must be rgb-server or rgb-client/],
    [["node", "--role", "rgb-client"], /an rgb-client needs --server IP:PORT/],
    [["node", "--role", "rgb-server", "--host", "10.0.0.5"], /loopback addresses only/],
    [["node", "--role", "rgb-server", "--set", "max_conns=0"], /config line \d+: expected a whole number \('0'\)[\s\S]*\(allowed: 1 to 32\)/],
    [["node", "--role", "rgb-server", "--set", "colour=red"], /unknown key \('colour'\)/],
    [["fly"], /unknown command 'fly'/],
  ])("refuses %j with a clear error", async (args, message) => {
    const p = picowire(args as string[]);
    expect(await p.exit).not.toBe(0);
    expect(p.out()).toMatch(message);
  }, 20000);
});

nodeOnly(CLI).describe("picowire rgb", () => {
  it("sets and reads a board's colour", async () => {
    const port = await freePort();
    const server = picowire(["node", "--role", "rgb-server", "--http-port", String(port)]);
    await server.waitFor(/running \(Ctrl-C stops\)/);
    const set = picowire(["rgb", "set", `127.0.0.1:${port}`, "#102030"]);
    expect(await set.exit).toBe(0);
    const get = picowire(["rgb", "get", `127.0.0.1:${port}`]);
    expect(await get.exit).toBe(0);
    expect(get.out().trim()).toBe("16,32,48");
    const bad = picowire(["rgb", "set", `127.0.0.1:${port}`, "1,2"]);
    expect(await bad.exit).toBe(1);
    expect(bad.out()).toMatch(/HTTP 400/);
  }, 40000);
});

nodeOnly(CLI).describe("picowire run / info (control)", () => {
  it("sends typed commands with the bus key and prints one reply per command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "key-"));
    const keyFile = join(dir, "bus.key");
    writeFileSync(keyFile, "a bus key of some length\n");
    const port = await freePort();
    const board = picowire(["node", "--role", "rgb-server", "--http-port", "0", "--control-port", String(port), "--key-file", keyFile]);
    await board.waitFor(/control: listening on port \d+ \(HMAC-SHA256 authenticated\)/);
    await board.waitFor(/running \(Ctrl-C stops\)/);
    const run = picowire(["run", `127.0.0.1:${port}`, "--key-file", keyFile, "--json",
      "-c", "action=setup_pin", "pin=2", "mode=output", "value=0",
      "-c", "action=write_pin", "pin=2", "value=1", "timeout=0.5",
      "-c", "action=read_pin", "pin=2"]);
    expect(await run.exit).toBe(0);
    const replies = run.out().trim().split("\n").map((l) => JSON.parse(l));
    expect(replies.map((r) => r.action)).toEqual(["setup_pin", "write_pin", "read_pin"]);
    expect(replies[2].value, JSON.stringify(replies)).toBe(1);
    const info = picowire(["info", `127.0.0.1:${port}`, "--key-file", keyFile]);
    expect(await info.exit).toBe(0);
    expect(info.out()).toMatch(new RegExp(`get_info: .*core_sha256=[0-9a-f]{64} abi_version=${ABI_VERSION}`));
    expect(info.out()).not.toMatch(/mac=/);
    const wrong = picowire(["run", `127.0.0.1:${port}`, "-c", "action=ping"]);
    expect(await wrong.exit).toBe(1);
    expect(wrong.out()).toMatch(/this board requires the bus key \(--key-file\)/);
    const bad = picowire(["run", `127.0.0.1:${port}`, "--key-file", keyFile, "-c", "action=read_pin", "pin=24"]);
    expect(await bad.exit).toBe(1);
    expect(bad.out()).toMatch(/error: pin 24 is wired to the WiFi chip/);
    board.child.kill("SIGINT");
    expect(await board.exit).toBe(0);
  }, 60000);
});

nodeOnly(CLI).describe("npm start (picowire demo)", () => {
  it("runs a virtual bus of three boards: dashboards and bus key printed, workers show the master's colours, Ctrl-C stops", async () => {
    const port = await freePort();
    const demo = picowire(["demo", "--http-port", String(port), "--control-port", String(await freePort()), "--bus-port", String(await freePort()), "--poll-ms", "50"]);
    const out = await demo.waitFor(/Ctrl-C stops/);
    expect(out).toMatch(/a virtual bus of 3 boards on loopback; bus key for this run: [0-9a-f]{24}/);
    for (const host of ["127.0.0.1", "127.0.0.2", "127.0.0.3"]) expect(out).toContain(`dashboard: http://${host}:${port}/`);
    expect(out).not.toContain("127.0.0.4");
    if (!/this core has no bus yet/.test(out)) {
      // the first board founds the bus; the others join it as workers and poll its colour
      await demo.waitFor(/\[bus\] 127\.0\.0\.1: MASTER, term \d+/);
      await demo.waitFor(/\[bus\] 127\.0\.0\.2: WORKER\d, master 127\.0\.0\.1/);
      await demo.waitFor(/\[bus\] 127\.0\.0\.3: WORKER\d, master 127\.0\.0\.1/);
      const all = await demo.waitFor(/\[127\.0\.0\.2\] rgb: \d+ \d+ \d+[\s\S]*\[127\.0\.0\.2\] rgb: \d+ \d+ \d+/);
      const sent = new Set([...all.matchAll(/\[127\.0\.0\.1\] Sent:(\d+),(\d+),(\d+)/g)].map((m) => m.slice(1).join(" ")));
      const shown = [...all.matchAll(/\[127\.0\.0\.[23]\] rgb: (\d+ \d+ \d+)/g)].map((m) => m[1]);
      expect(shown.length).toBeGreaterThan(1);
      for (const c of shown) expect(sent.has(c), `${c} shown by a worker, never sent by the master`).toBe(true);
    }
    demo.child.kill("SIGINT");
    expect(await demo.exit).toBe(0);
    expect(demo.out()).toMatch(/stopped\s*$/);
  }, 40000);

  it("\"stop 1\" on its input stops the master: a worker takes over; \"start 1\" brings the board back as a worker", async () => {
    const port = await freePort();
    const demo = picowire(["demo", "--http-port", String(port), "--control-port", String(await freePort()), "--bus-port", String(await freePort())], { stdin: true });
    const { child, waitFor, exit } = demo;
    await waitFor(/\[bus\] 127\.0\.0\.3: WORKER\d, master 127\.0\.0\.1/);
    child.stdin!.write("stop 1\n");
    await waitFor(/\[demo\] board 1 \(127\.0\.0\.1\) stopped/);
    const stoppedAt = demo.out().length;
    await waitFor(/\[bus\] 127\.0\.0\.[23]: MASTER, term \d+/); // (bus correctness: test/system/bus.test.ts, test/core/sim.test.ts)
    expect(demo.out().slice(stoppedAt)).toMatch(/\[bus\] 127\.0\.0\.[23]: MASTER/);
    child.stdin!.write("start 1\n");
    await waitFor(/\[bus\] 127\.0\.0\.1: WORKER\d, master 127\.0\.0\.[23]/);
    child.kill("SIGINT");
    expect(await exit).toBe(0);
  }, 40000);

  it("takes --boards 2..8 and refuses other counts in plain words", async () => {
    const bad = picowire(["demo", "--boards", "9"]);
    expect(await bad.exit).toBe(1);
    expect(bad.out()).toMatch(/--boards must be a whole number from 2 to 8/);
    const port = await freePort();
    const two = picowire(["demo", "--boards", "2", "--http-port", String(port), "--control-port", String(await freePort()), "--bus-port", String(await freePort())]);
    const out = await two.waitFor(/Ctrl-C stops/);
    expect(out).toMatch(/a virtual bus of 2 boards/);
    expect(out).toContain(`dashboard: http://127.0.0.2:${port}/`);
    expect(out).not.toContain("127.0.0.3");
    two.child.kill("SIGINT");
    expect(await two.exit).toBe(0);
  }, 40000);
});
