// E1.31/sACN as senders send it by default: multicast to the universe's group 239.255.<hi>.<lo>. A board
// in one network namespace joins the groups of the universes its strip shows (udp_join, on the host
// PICOWIRE_TEST_HOST selects); a plain sender (test/peers/sacn_send.py, CPython) in another namespace of
// the same private segment drives the pixels by multicast and by unicast. Nothing leaves the namespaces.
// On PICOWIRE_TEST_HOST=emu the board is build/picowire.uf2 behind the modelled radio (tools/emu/RADIO.md):
// the sender sits in its network's namespace, on the TAP's side; the join is lwIP's IGMP through the
// CYW43 driver's multicast filter (mcast_list), which the chip model applies.
import { describe, it, expect, afterEach } from "vitest";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { ROOT } from "../../tools/abi/generate.ts";
import { netnsUnavailable, createLan, Output, type Lan } from "../helpers/netns.ts";
import { TEST_HOST, startBoard as startTestBoard, stopBoards, freePort, wallCap } from "../helpers/boards.ts";
import type { EmuBoard } from "../helpers/emu-board.ts";
import { Client } from "../../tools/client.ts";
import { waitFor } from "../helpers/wait.ts";
import { nativeBinary } from "../helpers/posix-board.ts";

const why = netnsUnavailable();
if (why) console.warn(`\n*** SKIPPED: sACN multicast in network namespaces: ${why} ***\n`);

const BOARD = "10.77.0.1";
const SENDER = "10.77.0.2";
const PIXELS = 4;

describe.skipIf(!!why)(`sACN multicast (${TEST_HOST} host)`, () => {
  let lan: Lan | undefined;
  afterEach(async () => {
    await lan?.destroy();
    lan = undefined;
    await stopBoards(); // the emulated one
  });

  /** The board and its sender, on the host PICOWIRE_TEST_HOST selects. */
  interface Rig {
    /** The plain sender (test/peers/sacn_send.py) in the sender's namespace. */
    spawnSender(args: string[]): ChildProcess;
    pixels(): Promise<{ pixels: string; mode: number }>;
    /** The 239.255.x.x groups the board's interface filters for, once there are some. */
    groups(): Promise<string[]>;
    /** The core restarts (action=reset); resolves once the new core is ready. */
    restart(): Promise<void>;
    address: string;
  }

  async function namespacesRig(universe: number): Promise<Rig> {
    lan = await createLan([
      { name: "board", address: `${BOARD}/24` },
      { name: "sender", address: `${SENDER}/24` },
    ]);
    // without a route for 224.0.0.0/4 the sender's kernel has nowhere to send multicast
    const route = await lan.exec("sender", "ip", ["route", "add", "224.0.0.0/4", "dev", "eth0"]);
    expect(route.code, route.stderr).toBe(0);
    const sets = (settings: string[]) => settings.flatMap((x) => ["--set", x]);
    const common = ["pixels_order=rgb", `e131_universe=${universe}`];
    const child =
      TEST_HOST === "node"
        ? lan.node("board", ["bin/picowire.js", "node", "--role", "rgb-server", "--netns-address", BOARD, "--insecure", "--pixels", String(PIXELS), ...sets(common)])
        : lan.spawn("board", nativeBinary(TEST_HOST), ["--host", BOARD, ...sets([...common, `pixels_count=${PIXELS}`, "lights=e131", "control_insecure=1", "http_port=0"])]);
    const out = new Output(child);
    await out.waitFor(/picowire core ready/, 15_000);
    const cli = (args: string[]) => lan!.exec("sender", process.execPath, ["--import", "tsx", join(ROOT, "bin", "picowire.js"), ...args], 20_000);
    return {
      address: BOARD,
      spawnSender: (args) => lan!.spawn("sender", "python3", [join(ROOT, "test", "peers", "sacn_send.py"), ...args, SENDER]),
      pixels: async () => {
        const r = await cli(["run", BOARD, "-c", "action=get_pixels", "--insecure", "--json"]);
        expect(r.code, r.stderr + r.stdout).toBe(0);
        return JSON.parse(r.stdout.trim().split("\n").pop()!);
      },
      groups: async () => {
        let found: string[] = [];
        await waitFor(async () => {
          const r = await lan!.exec("board", "ip", ["maddr", "show", "dev", "eth0"]);
          found = [...r.stdout.matchAll(/inet +(239\.255\.\d+\.\d+)/g)].map((m) => m[1]);
          return found.length > 0;
        }, "a 239.255.x.x membership in the board's namespace", 5000, 100);
        return found;
      },
      restart: async () => {
        const reset = await cli(["run", BOARD, "-c", "action=reset", "--insecure", "--json"]);
        expect(reset.code, reset.stderr).toBe(0);
        await out.waitFor(/picowire core ready[\s\S]*picowire core ready/, 15_000);
      },
    };
  }

  /** The UF2 in rp2040js: the sender in its radio network's namespace (the TAP's side). The groups are
   *  the chip's multicast filter (the driver's mcast_list, one MAC per group; 239.255.<hi>.<lo> maps to
   *  01:00:5e:7f:<hi>:<lo>), which lwIP's IGMP join writes through the driver. */
  async function emuRig(universe: number): Promise<Rig> {
    const port = await freePort();
    const b = (await startTestBoard(`http_port=0\ncontrol_port=${port}\ncontrol_insecure=1\npixels_order=rgb\ne131_universe=${universe}\npixels_count=${PIXELS}\nlights=e131`)) as unknown as EmuBoard;
    const route = await b.lan.exec("ip", ["route", "add", "224.0.0.0/4", "dev", "tap0"]);
    expect(route.code, route.stderr).toBe(0);
    const ask = async (action: string) => {
      const c = await Client.connect("127.0.0.1", port, { timeoutMs: wallCap(5000) });
      try {
        return await c.command({ action });
      } finally {
        c.close();
      }
    };
    return {
      address: b.address,
      spawnSender: (args) => b.lan.spawn("python3", [join(ROOT, "test", "peers", "sacn_send.py"), ...args, b.lan.address]),
      pixels: async () => (await ask("get_pixels")) as unknown as { pixels: string; mode: number },
      groups: async () => {
        const e131 = () => b.board.wlan.multicastList.filter((m) => m.startsWith("01:00:5e:7f:"));
        await waitFor(() => e131().length > 0, "a 01:00:5e:7f:x:x address in the chip's multicast filter", 5000, 100);
        return e131().map((m) => `239.255.${m.split(":").slice(4).map((h) => parseInt(h, 16)).join(".")}`);
      },
      restart: async () => {
        await ask("reset");
        await waitFor(() => b.lines.filter((l) => /picowire core ready/.test(l.text)).length >= 2, "the new core ready", 15_000, 100);
      },
    };
  }

  let rig: Rig;
  /** The plain sender in its namespace for up to `seconds`; its exit, and how to stop it sooner. */
  function send(dest: string, universe: number, rgb: string, seconds: number) {
    const child = rig.spawnSender([dest, String(universe), rgb, String(PIXELS), String(seconds)]);
    const out = new Output(child);
    const exited = new Promise<string>((r) => child.once("exit", () => r(out.text)));
    return { exited, stop: () => child.kill() }; // `ip netns exec` runs python3 in its own place: this pid
  }
  /** Sends for up to 20 s while asking the board, until `done` says what it shows is the answer (or the
   *  sender stops); the last answer. The board shows a frame only for its hold time (2.5 s), so it is
   *  asked while the frames still come, however slow a loaded machine makes each question. */
  async function whileSending(dest: string, universe: number, rgb: string, done: (p: { pixels: string; mode: number }) => boolean) {
    let over = false;
    const sender = send(dest, universe, rgb, 20);
    void sender.exited.then(() => (over = true));
    let last = await rig.pixels();
    for (let i = 0; i < 40 && !over && !done(last); i++) last = await rig.pixels();
    expect(over).toBe(false); // the frames were still coming when the board was asked
    sender.stop();
    expect(await sender.exited).not.toMatch(/Traceback/);
    return last;
  }

  it("joins 239.255.0.1 for universe 1: a multicast sender in another namespace lights the strip, unicast still does, a restart joins again", async () => {
    rig = TEST_HOST === "emu" ? await emuRig(1) : await namespacesRig(1);
    expect(await rig.groups()).toEqual(["239.255.0.1"]); // the group of universe 1, and no other

    // universe 2: the board would take its frames (for a bus's workers; mode 3 for 2.5 s), but its
    // group was not joined, so they never arrive; asked three times while they are sent
    let asked = 0;
    const other = await whileSending("multicast", 2, "99,99,99", () => ++asked >= 3);
    expect(asked).toBe(3);
    expect(other).toMatchObject({ pixels: "000000".repeat(PIXELS), mode: 0 });

    const lit = "0ac81e".repeat(PIXELS);
    expect(await whileSending("multicast", 1, "10,200,30", (p) => p.pixels === lit)).toMatchObject({ pixels: lit, mode: 3 }); // 3: E1.31
    const unicast = "010203".repeat(PIXELS);
    expect((await whileSending(rig.address, 1, "1,2,3", (p) => p.pixels === unicast)).pixels).toBe(unicast);

    // a restart closes the core's sockets (leaving their groups) and the new core joins again: once
    await rig.restart();
    expect(await rig.groups()).toEqual(["239.255.0.1"]);
    const again = "c86432".repeat(PIXELS);
    expect((await whileSending("multicast", 1, "200,100,50", (p) => p.pixels === again)).pixels).toBe(again);
  }, wallCap(120_000));
});
