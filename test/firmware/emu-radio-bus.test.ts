// The bus through the radio model: two emulated Pico Ws (build/picowire.uf2, unchanged, in rp2040js with
// the CYW43439 model) joined to one modelled WPA2 network, and on that network's TAP, in a namespace, a
// virtual board (the Node host: `picowire node --bus broadcast`) and the tutorial's plain HELLO client
// (CPython) on a second TAP. The boards find each other by broadcast and elect a master; the virtual board joins their
// bus; the plain client gets the member list (master first) and greets every peer; when the master board
// stops, the other board takes over as master and the virtual board follows it.
// The boards' timers run on board time (a tenth of real time or less), the virtual board's on wall time:
// its bus_dead_ms (20 s) is far above the wall time between two heartbeats of a board; when its
// election timeout (3-6 s of wall time) runs out between two slow heartbeats, its PreVote is refused by
// the boards, which heard their master in board time, so nothing changes until the master stops.
// Needs what test/firmware/emu-radio.test.ts's TAP tests need (root, ip netns, busybox, python3).
import { it, expect, afterEach } from "vitest";
import { join } from "node:path";
import { ROOT, FIRMWARE_UF2 } from "../../tools/build/firmware.ts";
import { RadioBoard, runTogether } from "../../tools/emu/radio-board.ts";
import { RadioWorld } from "../../tools/emu/radio-world.ts";
import { RadioLan } from "../../tools/emu/radio-lan.ts";
import { needs } from "../helpers/inputs.ts";
import { Output } from "../helpers/netns.ts";
import { configUf2, keyFile, radioLanMissing, waitUntil, WALL_CAP_MS } from "../helpers/radio.ts";

const KEY = "radio-bus-key-0123456789";
const PASSWORD = "bus-network-secret";
const PLAIN_IP = "192.168.77.9"; // the tutorial client's own address, on a second TAP
const ROLE = /bus: (?:MASTER|WORKER\d+, master (\d+\.\d+\.\d+\.\d+)) in term (\d+)/g;

/** The master a member names in its latest role line (itself when MASTER) and the term, or null. */
function view(log: string, self: string): { master: string; term: number } | null {
  const m = [...log.matchAll(ROLE)].at(-1);
  return m ? { master: m[1] ?? self, term: Number(m[2]) } : null;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

needs(radioLanMissing()).describe("the bus through the radio model (two emulated boards, a virtual board and the tutorial's client on a TAP)", () => {
  it("they find each other, agree on the master, the HELLO client joins, and the other board takes over when the master stops", async () => {
    const world = new RadioWorld();
    const net = world.addNetwork({ ssid: "lab", password: PASSWORD, channel: 6, rssi: -45 });
    const lan = await RadioLan.create(net); // 192.168.77.1 on the TAP, udhcpd leasing .100-.150
    cleanups.push(() => lan.destroy());
    // the plain client on a TAP of its own (its UDP ports must not meet the virtual board's)
    const plainLan = await RadioLan.create(net, { address: `${PLAIN_IP}/24`, dhcp: false });
    cleanups.push(() => plainLan.destroy());
    const key = keyFile(KEY);

    const cfg = await configUf2(["ssid=lab", `password=${PASSWORD}`, `key=${KEY}`, "bus=1"]);
    const [b0, b1] = await Promise.all([0, 1].map((i) => RadioBoard.create({ image: FIRMWARE_UF2, configUf2: cfg, air: world, name: `b${i}` })));
    let node: Output | undefined;
    const outputs = () => [b0, b1].map((b) => `--- ${b.name}${b.stopped ? ` (stopped: ${b.stopped})` : ""}\n${b.output.slice(-2500)}`).join("\n") + `\n--- node (bus lines)\n${node?.text.split("\n").filter((l) => l.includes("bus:")).join("\n") ?? ""}`;
    // flat out through the boot and the join (no peer talks yet), then never ahead of wall time
    expect(await runTogether([b0, b1], () => b0.wlan.sta.joined !== null && b1.wlan.sta.joined !== null, { maxMs: 10_000, wallMs: WALL_CAP_MS }), outputs()).toBe(true);
    b0.realtime = b1.realtime = true;

    let run = { done: false, loop: Promise.resolve(true) };
    const runBoards = (boards: RadioBoard[]) => {
      const r = { done: false, loop: Promise.resolve(true) };
      r.loop = runTogether(boards, () => r.done, { maxMs: 120_000, wallMs: 3 * WALL_CAP_MS });
      return r;
    };
    run = runBoards([b0, b1]);
    try {
      await waitUntil(() => [b0, b1].every((b) => /wifi joined, address/.test(b.output)), "both boards' DHCP leases", WALL_CAP_MS, outputs);
      const [ip0, ip1] = [b0, b1].map((b) => /wifi joined, address (\d+\.\d+\.\d+\.\d+)/.exec(b.output)![1]);
      expect(ip0).not.toBe(ip1); // two boards, two board ids, two MACs
      // the boards elect one of them, by board time
      const agreed = (members: [string, string][]) => {
        const views = members.map(([log, ip]) => view(log, ip));
        return views.every((v) => v && v.master === views[0]!.master && v.term === views[0]!.term) ? views[0] : null;
      };
      await waitUntil(() => agreed([[b0.output, ip0], [b1.output, ip1]]) !== null, "the boards agreeing on a master", WALL_CAP_MS, outputs);
      const first = agreed([[b0.output, ip0], [b1.output, ip1]])!;
      expect([ip0, ip1]).toContain(first.master);

      // the virtual board joins their bus
      const proc = lan.spawn(process.execPath, [
        join(ROOT, "bin", "picowire.js"), "node", "--bus", "broadcast", "--netns-address", lan.address, "--key-file", key,
        "--set", "bus_election_ms=3000", "--set", "bus_dead_ms=20000",
      ]);
      cleanups.push(() => proc.exitCode === null && proc.kill("SIGKILL"));
      node = new Output(proc);
      await node.waitFor(new RegExp(`bus: WORKER2, master ${first.master.replace(/\./g, "\\.")} in term ${first.term}`), WALL_CAP_MS);

      // the tutorial's plain client: HELLO (to the virtual board), the list master first, greetings to every peer
      const py = await plainLan.exec("python3", [join(ROOT, "test", "peers", "tutorial_hello.py"), lan.address, PLAIN_IP, "3"], 60_000);
      expect(py.code, py.stderr).toBe(0);
      const list = /LIST (.+)/.exec(py.stdout)?.[1].split(",");
      expect(list?.[0], py.stdout + outputs()).toBe(first.master);
      expect([...list!].sort()).toEqual([lan.address, ip0, ip1, PLAIN_IP].sort());
      for (const b of [b0, b1])
        await waitUntil(() => b.output.includes(`bus: message from ${PLAIN_IP}: Hi from ${PLAIN_IP}`), `${b.name} logging the plain client's greeting`, WALL_CAP_MS, outputs);
      await node.waitFor(new RegExp(`bus: message from ${PLAIN_IP.replace(/\./g, "\\.")}`), 10_000);

      // the master board stops (no more board time for it): the other board becomes MASTER and the
      // virtual board follows it. Two paths were seen (tools/emu/RADIO.md, "Not done yet"): an election
      // the survivor wins with the virtual board's vote (a higher term), or, when its PreVote does not
      // win that vote within bus_dead_ms, the survivor starting over as a new bus the virtual board joins.
      const [master, survivor] = first.master === ip0 ? [b0, b1] : [b1, b0];
      const survivorIp = survivor === b0 ? ip0 : ip1;
      const mastersBefore = survivor.output.match(/bus: MASTER in term/g)?.length ?? 0;
      run.done = true;
      await run.loop;
      run = runBoards([survivor]);
      await waitUntil(() => (survivor.output.match(/bus: MASTER in term/g)?.length ?? 0) > mastersBefore, `${survivor.name} taking over as MASTER`, 2 * WALL_CAP_MS, outputs);
      await node.waitFor(new RegExp(`bus: WORKER\\d+, master ${survivorIp.replace(/\./g, "\\.")} in term \\d+`), 2 * WALL_CAP_MS);
      console.info(`bus takeover: ${survivor.name} ${[...survivor.output.matchAll(/bus: (MASTER in term \d+|no master heard[^\n]*)/g)].map((m) => m[1]).join(" / ")}`);
      expect(master.stopped).toBeNull(); // it was stopped from outside, not by a fault
    } finally {
      run.done = true;
      await run.loop;
    }
    for (const b of [b0, b1]) {
      expect(b.stopped, b.output.slice(-2000)).toBeNull();
      expect(b.chip.faults).toEqual([]);
    }
  }, 4 * WALL_CAP_MS);
});
