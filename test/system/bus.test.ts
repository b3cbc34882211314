// The bus on real loopback sockets: separate `picowire node --bus` processes form a bus and fail over
// when the master process dies; the tutorial's plain HELLO client (CPython) joins it; `picowire nodes`
// and `picowire discover` show it. Loopback has no broadcast, so boards find each other through
// bus_peers; broadcast and the tutorial's fixed 192.168.4.1 are tested in test/system/bus-netns.test.ts.
import { describe, it, expect, afterEach } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { C } from "../../tools/host/abi.generated.ts";
import { Client } from "../../tools/client.ts";
import { getBus } from "../../tools/cli/bus.ts";
import { ROOT } from "../../tools/abi/generate.ts";
import { nodeOnly, startBoard, stopBoards, waitFor, freePort, type TestBoard } from "../helpers/boards.ts";
import { picowire, run } from "../helpers/cli.ts";
import dgram from "node:dgram";
import { encode, REQUEST } from "../helpers/dhcp.ts";

afterEach(stopBoards);
const CLI = "the picowire CLI runs its boards on the Node host";
const KEY = "bus-test-key-0123456789";
const keyFile = join(mkdtempSync(join(tmpdir(), "picowire-bus-")), "key");
writeFileSync(keyFile, KEY + "\n");

const stat = (b: TestBoard, k: number) => b.core.exports.stat(k);
const role = (b: TestBoard) => stat(b, C.STAT_BUS_ROLE);
const masters = (bs: TestBoard[]) => bs.filter((b) => role(b) === C.BUS_ROLE_MASTER);

/** In-process boards on 127.0.NET.1..n forming one bus (fast timers). */
async function bus(net: number, n: number, extra = "", port = 5800 + net): Promise<TestBoard[]> {
  const hosts = Array.from({ length: n }, (_, i) => `127.0.${net}.${i + 1}`);
  const boards: TestBoard[] = [];
  for (const host of hosts) {
    boards.push(await startBoard(
      `bus=1\nbus_port=${port}\nbus_msg_port=${port + 100}\nbus_peers=${hosts.join(",")}\nhttp_port=0\ncontrol_port=0\n` +
        `bus_heartbeat_ms=50\nbus_election_ms=300\nbus_dead_ms=800\n${extra}`,
      { host, name: host },
    ));
  }
  return boards;
}

const agreed = (bs: TestBoard[]) =>
  masters(bs).length === 1 && bs.every((b) => stat(b, C.STAT_BUS_MEMBERS) === bs.length && stat(b, C.STAT_BUS_MASTER_IP) === stat(masters(bs)[0], C.STAT_BUS_MASTER_IP));

nodeOnly("reads bus state through core.exports.stat").describe("bus membership and election (in-process boards)", () => {
  it("three boards agree on one master and WORKER1..2 by join order; a dead master is replaced in a higher term", async () => {
    const bs = await bus(40, 3, `key=${KEY}`);
    await waitFor(() => agreed(bs) && bs.every((b) => stat(b, C.STAT_BUS_VOTERS) === 3), "one master and three voting members everywhere", 8000);
    const m = masters(bs)[0];
    const term = stat(m, C.STAT_BUS_TERM);
    expect(bs.map((b) => stat(b, C.STAT_BUS_INDEX)).sort()).toEqual([0, 1, 2]);
    expect(new Set(bs.map((b) => stat(b, C.STAT_BUS_ID))).size).toBe(1);
    expect(bs.every((b) => stat(b, C.STAT_BUS_DROPPED) === 0)).toBe(true); // every datagram carried a valid tag
    await m.stop();
    const rest = bs.filter((b) => b !== m);
    await waitFor(() => agreed(rest), "a new master and the dead one removed", 8000).catch((e) => {
      throw new Error(`${e.message}: ${rest.map((b) => `${b.name} role ${role(b)} members ${stat(b, C.STAT_BUS_MEMBERS)} master ${stat(b, C.STAT_BUS_MASTER_IP)}\n${b.lines.map((l) => l.text).join("\n")}`).join("\n")}`);
    });
    const m2 = masters(rest)[0];
    expect(stat(m2, C.STAT_BUS_TERM)).toBeGreaterThan(term);
    expect(m2.lines.map((l) => l.text)).toContainEqual(expect.stringMatching(/bus: MASTER in term \d+/));
    expect(m2.lines.map((l) => l.text)).toContainEqual(expect.stringMatching(/stopped answering; removed/));
  }, 20000);

  it("a board with another bus key is not let in: its datagrams are dropped and it stays on its own", async () => {
    const bs = await bus(41, 2, `key=${KEY}`);
    await waitFor(() => agreed(bs), "the keyed bus", 8000);
    const stranger = await startBoard(
      `bus=1\nbus_port=5841\nbus_peers=127.0.41.1,127.0.41.2\nhttp_port=0\ncontrol_port=0\nbus_heartbeat_ms=50\nbus_election_ms=300\nkey=another-key-9876543210`,
      { host: "127.0.41.3", name: "stranger" },
    );
    await waitFor(() => bs.some((b) => stat(b, C.STAT_BUS_DROPPED) > 0) && role(stranger) === C.BUS_ROLE_MASTER, "the stranger on its own", 5000);
    // nothing must change while the stranger keeps knocking: wait for ten more of its datagrams dropped
    const dropped = () => bs.reduce((n, b) => n + stat(b, C.STAT_BUS_DROPPED), 0);
    const before = dropped();
    await waitFor(() => dropped() >= before + 10, "more of the stranger's datagrams dropped", 10_000);
    expect(bs.every((b) => stat(b, C.STAT_BUS_MEMBERS) === 2)).toBe(true);
    expect(bs.some((b) => stat(b, C.STAT_BUS_DROPPED) > 0)).toBe(true);
    expect(stat(stranger, C.STAT_BUS_MEMBERS)).toBe(1);
  }, 20000);

  it("bus_max_members is a hard limit: a board past it is refused with a log line", async () => {
    const bs = await bus(42, 3, "bus_max_members=2");
    await waitFor(() => bs.some((b) => b.lines.some((l) => /bus: full \(bus_max_members=2\), refusing 127\.0\.42\.\d/.test(l.text))), "the refusal", 8000);
    expect(Math.max(...bs.map((b) => stat(b, C.STAT_BUS_MEMBERS)))).toBe(2);
  }, 20000);

  it("two buses founded apart merge into the one with the lower id when they meet", async () => {
    // no peers in common at first: each board founds its own bus, then a seed list joins them up
    const a = await startBoard("bus=1\nbus_port=5843\nbus_peers=127.0.43.1\nhttp_port=0\ncontrol_port=0\nbus_heartbeat_ms=50\nbus_election_ms=300", { host: "127.0.43.1", name: "a" });
    const b = await startBoard("bus=1\nbus_port=5843\nbus_peers=127.0.43.1\nhttp_port=0\ncontrol_port=0\nbus_heartbeat_ms=50\nbus_election_ms=300", { host: "127.0.43.2", name: "b" });
    await waitFor(() => agreed([a, b]), "the two boards in one bus", 8000);
    expect(stat(a, C.STAT_BUS_ID)).toBe(stat(b, C.STAT_BUS_ID));
  }, 20000);

  it("the access point shares its DHCP leases with the bus, so a successor keeps everyone's address", async () => {
    // board .1 runs the access point (wifi_mode=ap: the core starts it and its DHCP server); .2 follows.
    // On loopback the access point's address is the board's own, so the pool is in 127.0.48.0/24
    const hosts = ["127.0.48.1", "127.0.48.2"];
    const common = `bus=1\nbus_port=5848\nbus_peers=${hosts.join(",")}\nhttp_port=0\ncontrol_port=0\nbus_heartbeat_ms=50\nbus_election_ms=300\ndhcp_first=127.0.48.16`;
    const ap = await startBoard(`${common}\nwifi_mode=ap\nwifi_ssid=picowire-bus\nwifi_password=bus-password`, { host: hosts[0], name: "ap" });
    const other = await startBoard(common, { host: hosts[1], name: "other" });
    await waitFor(() => ap.lines.some((l) => /dhcp: serving/.test(l.text)) && agreed([ap, other]), "the access point and the bus", 8000);
    // a client renews 127.0.48.16 with the access point (a REQUEST from a known address: no broadcast needed)
    expect(stat(other, C.STAT_DHCP_LEASES)).toBe(0);
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((r) => sock.bind(0, "127.0.48.9", () => r()));
    sock.send(encode({ mac: "02:00:00:00:00:c1", xid: 7, ciaddr: "127.0.48.16", type: REQUEST }), 67, hosts[0]);
    await waitFor(() => stat(ap, C.STAT_DHCP_LEASES) === 1, "the lease on the access point", 3000);
    sock.close();
    await waitFor(() => stat(other, C.STAT_DHCP_LEASES) === 1, "the lease replicated to the other board", 8000);
  }, 20000);

  it("refuses bad bus settings with the line and the reason", async () => {
    for (const [config, why] of [
      ["bus_peers=127.0.0.1,nope", /config line 1: expected comma-separated IPv4 addresses/],
      ["bus_peers=" + Array.from({ length: 9 }, (_, i) => `127.0.0.${i + 1}`).join(","), /too many bus_peers \(at most 8\)/],
      ["bus_voters=0", /allowed: 1 to 9/],
      ["wifi_mode=mesh", /expected off, sta, ap or auto/],
      ["wifi_password=short", /a WPA2 password is 8 to 63 characters/],
    ] as const) {
      await expect(startBoard(config, { host: "127.0.44.1" })).rejects.toThrow(why);
    }
    await expect(startBoard("wifi_password=a-secret-nobody-sees\nwifi_password=x", { host: "127.0.44.1" })).rejects.toThrow(/key given twice(?![\s\S]*a-secret)/);
  }, 20000);
});

nodeOnly(CLI).describe("picowire node --bus (separate processes)", () => {
  it("three processes form a bus; killing the master's process shows the failover in `picowire nodes`", async () => {
    const hosts = ["127.0.45.1", "127.0.45.2", "127.0.45.3"];
    const http = await freePort(hosts[0]);
    const procs = hosts.map((h) =>
      picowire(["node", "--bus", hosts.join(","), "--host", h, "--key-file", keyFile, "--http-port", String(http), "--bus-port", "5845",
        "--set", "bus_election_ms=400", "--set", "bus_heartbeat_ms=100", "--set", "bus_dead_ms=1500"]),
    );
    for (const p of procs) await p.waitFor(/running \(Ctrl-C stops\)/);
    const view = async (host: string) => {
      const c = await Client.connect(host, 12345, { key: KEY });
      try {
        return await getBus(c);
      } finally {
        c.close();
      }
    };
    let first = await view(hosts[0]);
    await waitFor(async () => (first = await view(hosts[0])).members.length === 3 && !!first.master && first.members.every((m) => m.voter), "three voters and a master", 10_000, 100);
    expect(first.members.map((m) => m.role)).toEqual(["MASTER", "WORKER1", "WORKER2"]);
    expect(first.members[0].ip).toBe(first.master);
    const printed = picowire(["nodes", hosts[1], "--key-file", keyFile]);
    expect(await printed.exit).toBe(0);
    expect(printed.out()).toMatch(new RegExp(`MASTER +${first.master!.replace(/\./g, "\\.")} +voter`));

    const dead = hosts.indexOf(first.master as string);
    procs[dead].child.kill("SIGKILL");
    const survivor = hosts[(dead + 1) % 3];
    let after = await view(survivor);
    await waitFor(async () => (after = await view(survivor)).master !== first.master && !!after.master && after.members.length === 2, "a new master of two", 10_000, 100);
    expect(after.master).not.toBe(first.master);
    expect(after.term).toBeGreaterThan(first.term as number);
    expect(after.bus).toBe(first.bus); // an election in the same bus, not a new bus
    expect(after.members.map((m) => m.ip)).not.toContain(first.master);
    const shown = picowire(["nodes", survivor, "--key-file", keyFile]);
    expect(await shown.exit).toBe(0);
    expect(shown.out()).toMatch(new RegExp(`MASTER +${(after.master as string).replace(/\./g, "\\.")}`));
    // the workers follow the new master for their colour
    const worker = hosts.find((h, i) => i !== dead && h !== after.master)!;
    await procs[hosts.indexOf(worker)].waitFor(/rgb: \d+ \d+ \d+[\s\S]*rgb: \d+ \d+ \d+/);
  }, 60000);

  it("the tutorial's plain HELLO client (CPython) gets the member list master first, joins, and hears NODES; its peer message is shown", async () => {
    const hosts = ["127.0.46.1", "127.0.46.2"];
    const procs = hosts.map((h) =>
      picowire(["node", "--bus", hosts.join(","), "--host", h, "--insecure", "--http-port", "0", "--bus-port", "5846",
        "--set", "bus_msg_port=5946", "--set", "bus_election_ms=300", "--set", "bus_heartbeat_ms=100"]),
    );
    for (const p of procs) await p.waitFor(/running \(Ctrl-C stops\)/);
    await procs[0].waitFor(/bus: (MASTER|WORKER1)/);
    await procs[1].waitFor(/bus: (MASTER|WORKER1)/);
    const asked = hosts[1];
    const py = run([join(ROOT, "test", "peers", "tutorial_hello.py"), asked, "127.0.46.9", "4.5", "5846", "5946"], "python3", []);
    await py.waitFor(/LIST .+/);
    const list = /LIST (.+)/.exec(py.out())![1].split(",");
    const c = await Client.connect(asked, 12345, {});
    const view = await getBus(c);
    c.close();
    expect(list[0]).toBe(view.master); // plain boards take roles from list order
    expect(list).toEqual(expect.arrayContaining([...hosts, "127.0.46.9"]));
    await py.waitFor(/GOT NODES: .*127\.0\.46\.9/, 8000);
    const master = procs[hosts.indexOf(view.master as string)];
    const other = procs[1 - hosts.indexOf(view.master as string)];
    await master.waitFor(/127\.0\.46\.9 \(a plain board\) joined as WORKER2/);
    await other.waitFor(/bus: message from 127\.0\.46\.9: Hi from 127\.0\.46\.9/);
    const c2 = await Client.connect(asked, 12345, {});
    const again = await getBus(c2);
    c2.close();
    expect(again.members.find((m) => m.ip === "127.0.46.9")).toMatchObject({ plain: true, voter: false, role: "WORKER2" });
    const found = picowire(["discover", hosts[0], "--bus-port", "5846", "--wait-ms", "500"]);
    expect(await found.exit).toBe(0);
    expect(found.out()).toMatch(/127\.0\.46\.1 answers: .*\(MASTER\).*127\.0\.46\.9 \(WORKER2\)/);
  }, 60000);
});
