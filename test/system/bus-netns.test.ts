// The bus where broadcast and the tutorial's fixed 192.168.4.1 exist: virtual boards in network
// namespaces on one bridge (test/helpers/netns.ts; nothing leaves the namespaces), found by broadcast
// with no address list, one of them the access point at 192.168.4.1, and the tutorial's plain client
// (CPython, unchanged defaults: HELLO to 192.168.4.1:5000, peers on 5001) joining them.
import { describe, it, expect, afterEach } from "vitest";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { netnsUnavailable, createLan, Output, type Lan } from "../helpers/netns.ts";
import { needs } from "../helpers/inputs.ts";
import { waitFor } from "../helpers/wait.ts";

const why = netnsUnavailable();

needs(why).describe("the bus in network namespaces", () => {
  let lan: Lan | undefined;
  afterEach(async () => {
    await lan?.destroy();
    lan = undefined;
  });

  it("boards find each other by broadcast; the tutorial's HELLO client at 192.168.4.1 gets the list, joins and talks to a peer", async () => {
    lan = await createLan([
      { name: "ap", address: "192.168.4.1/24" },
      { name: "b2", address: "192.168.4.2/24" },
      { name: "b3", address: "192.168.4.3/24" },
      { name: "plain", address: "192.168.4.9/24" },
    ]);
    const timers = ["--set", "bus_heartbeat_ms=100", "--set", "bus_election_ms=400"];
    const board = (host: string, ip: string, extra: string[] = []) =>
      new Output(lan!.node(host, ["bin/picowire.js", "node", "--bus", "broadcast", "--netns-address", ip, "--insecure", ...timers, ...extra]));
    const ap = board("ap", "192.168.4.1", ["--set", "wifi_mode=ap", "--set", "wifi_ssid=picowire-bus", "--set", "wifi_password=bus-password"]);
    const b2 = board("b2", "192.168.4.2");
    const b3 = board("b3", "192.168.4.3");
    await ap.waitFor(/dhcp: serving 192\.168\.4\.16/, 15_000);
    const outs = [ap, b2, b3];
    // one master, two workers, all naming the same master: found by broadcast alone (no bus_peers)
    for (const o of outs) await o.waitFor(/bus: (MASTER|WORKER[12], master 192\.168\.4\.\d)/, 15_000);
    const cli = (host: string, args: string[]) => lan!.exec(host, process.execPath, ["--import", "tsx", join(ROOT, "bin", "picowire.js"), ...args], 20_000);
    let bus: { master: string; members: { ip: string; role: string; plain: boolean; voter: boolean }[] } | undefined;
    const threeMembers = async () => {
      const r = await cli("b2", ["nodes", "192.168.4.2", "--json"]);
      if (r.code === 0) bus = JSON.parse(r.stdout);
      return bus?.members.length === 3 && !!bus.master;
    };
    await waitFor(threeMembers, "three members and a master", 40_000, 300).catch(() => {}); // the expect below names what was seen
    expect(bus?.members.map((m) => m.role), outs.map((o) => o.text).join("\n")).toEqual(["MASTER", "WORKER1", "WORKER2"]);
    const master = bus!.master;
    const printed = await cli("b3", ["nodes", "192.168.4.3"]);
    expect(printed.stdout).toMatch(new RegExp(`MASTER +${master.replace(/\./g, "\\.")} +voter`));

    // the tutorial's client, unchanged: HELLO to the fixed 192.168.4.1 on 5000, messages on 5001
    const py = await lan.exec("plain", "python3", [join(ROOT, "test", "peers", "tutorial_hello.py"), "192.168.4.1", "192.168.4.9", "4.5"], 30_000);
    expect(py.code, py.stderr).toBe(0);
    const list = /LIST (.+)/.exec(py.stdout)![1].split(",");
    expect(list[0]).toBe(master); // master first: plain boards take roles from list order
    expect([...list].sort()).toEqual(["192.168.4.1", "192.168.4.2", "192.168.4.3", "192.168.4.9"]);
    expect(py.stdout).toMatch(/GOT NODES: 192\.168\.4\.\d(, 192\.168\.4\.\d){3}/);
    await b3.waitFor(/bus: message from 192\.168\.4\.9: Hi from 192\.168\.4\.9/, 10_000);
    const view = JSON.parse((await cli("b3", ["nodes", "192.168.4.3", "--json"])).stdout);
    expect(view.members.find((m: { ip: string }) => m.ip === "192.168.4.9")).toMatchObject({ plain: true, voter: false, role: "WORKER3" });
    // `picowire discover` with no address broadcasts on the LAN and lists the bus without joining it
    const found = await cli("plain", ["discover", "--wait-ms", "800"]);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toMatch(/192\.168\.4\.1 answers: /);
  }, 120_000);
});
