// build/picowire.uf2 — the image users flash, unchanged — in rp2040js with the CYW43439 model
// (tools/emu/cyw43/) and a radio world (tools/emu/radio-world.ts): the SDK's cyw43-driver brings the
// chip up over its PIO SPI program, joins a modelled network (credentials from the configuration
// sector), fails a wrong password the way the driver reports it, refuses a corrupted firmware blob, and
// through a TAP device in a network namespace gets a lease from busybox udhcpd and serves the tutorial's
// CPython client and an HTTP client. Boards run by board time (capped at wall time while peers talk).
// Needs the firmware (npm run build with PICO_SDK_PATH), the RP2040 bootrom and the SDK's cyw43 blobs;
// the TAP tests also need root and network namespaces. Skipped loudly without them; CI=true fails instead.
import { describe, it, expect, afterEach } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { FIRMWARE_UF2, ROOT } from "../../tools/build/firmware.ts";
import { loadBlobs } from "../../tools/emu/cyw43/blobs.ts";
import { RadioBoard, runTogether } from "../../tools/emu/radio-board.ts";
import { RadioWorld } from "../../tools/emu/radio-world.ts";
import { RadioLan } from "../../tools/emu/radio-lan.ts";
import { netnsUnavailable } from "../helpers/netns.ts";
import { configUf2, radioMissing } from "../helpers/radio.ts";
import { waitFor } from "../helpers/wait.ts";

const MHZ = 125_000_000;
/** Board time bounds every run (maxCycles / maxMs); these wall caps only stop a hung emulator. A loaded
 *  machine runs rp2040js slower, so they are generous: an idle one needs 15-30 s per test. */
const WALL_CAP_MS = 300_000;
const TEST_TIMEOUT_MS = 2 * WALL_CAP_MS;
/** A CPython that has the websockets package (Debian's python3-websockets lives in /usr/bin's). */
const PYTHON_WS = ["python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "import websockets"], { stdio: "ignore" }).status === 0) ?? "python3";

const missing = radioMissing();
const netMissing = netnsUnavailable();
function loudSkip(what: string, why: string[]): void {
  const msg = `!!! SKIPPED: ${what} (test/firmware/emu-radio.test.ts) did NOT run: missing ${why.join("; ")}`;
  if (process.env.CI === "true") throw new Error(msg.replace("SKIPPED", "FAILED (CI=true)"));
  console.warn(`\n${"!".repeat(100)}\n${msg}\n${"!".repeat(100)}\n`);
}
if (missing.length) loudSkip("the firmware with the radio model", missing);
else if (netMissing) loudSkip("the firmware on a TAP network", [netMissing]);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe.skipIf(missing.length > 0)("build/picowire.uf2 with the CYW43439 model (rp2040js)", () => {
  it("brings the radio up through the driver's own SPI and starts its setup access point on the air", async () => {
    const world = new RadioWorld();
    const board = await RadioBoard.create({ image: FIRMWARE_UF2, air: world });
    expect(await board.runUntil("dhcp: serving", { maxCycles: 8 * MHZ, wallMs: WALL_CAP_MS }), board.stopped ?? board.output).toBe(true);
    expect(board.stopped).toBeNull();
    expect(board.chip.faults).toEqual([]);
    expect(board.wlan.log).toEqual(expect.arrayContaining(["set clmload", "get clmload_status", "UP", "set bsscfg:ssid", "set bss"]));
    const ap = [...world.networks.values()].find((n) => n.owner === board.wlan);
    expect(ap, "the board's access point is on the air").toBeDefined();
    expect(Buffer.from(ap!.air.bssid).equals(Buffer.from(board.wlan.mac))).toBe(true);
    expect(board.wiring.edges).toBeGreaterThan(loadBlobs().firmware.length * 8); // the firmware went bit by bit
  }, TEST_TIMEOUT_MS);

  it("a wrong password: the handshake fails and the board reports the join refused", async () => {
    const world = new RadioWorld();
    world.addNetwork({ ssid: "lab", password: "the-real-secret" });
    const cfg = await configUf2(["ssid=lab", "password=not-the-secret"]);
    const board = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: cfg, air: world });
    expect(await board.runUntil("wifi: network lost or join failed", { maxCycles: 10 * MHZ, wallMs: WALL_CAP_MS }), board.stopped ?? board.output).toBe(true);
    expect(board.output).not.toMatch(/wifi joined/);
    expect(board.wlan.sta.joined).toBeNull();
    expect(board.wlan.log).toContain("SET_WSEC_PMK");
  }, TEST_TIMEOUT_MS);

  it("a corrupted WiFi firmware blob in flash: the chip never starts and the board says the CYW43 does not respond", async () => {
    const fw = loadBlobs().firmware;
    const board = await RadioBoard.create({
      image: FIRMWARE_UF2,
      setup: (sim) => {
        const flash = sim.rp2040.flash;
        const at = Buffer.from(flash.buffer, flash.byteOffset, flash.length).indexOf(Buffer.from(fw.subarray(0, 64)));
        expect(at).toBeGreaterThan(0);
        flash[at + 0x2000] ^= 0x01;
      },
    });
    expect(await board.runUntil("the CYW43 does not respond", { maxCycles: 8 * MHZ, wallMs: WALL_CAP_MS }), board.stopped ?? board.output.slice(-2000)).toBe(true);
    expect(board.output).toMatch(/\[CYW43\] HT not ready/); // the driver's own complaint
    expect(board.chip.running).toBe(false);
    expect(board.chip.faults[0]).toMatch(/WLAN firmware did not start: RAM 0x2000 holds/);
  }, TEST_TIMEOUT_MS);

  describe.skipIf(netMissing !== null)("on a TAP network in a namespace", () => {
    it("joins, takes a lease from busybox udhcpd, serves the tutorial's CPython client, HTTP and a WebSocket echo, answers mDNS, and sees the link drop when the network goes", async () => {
      const world = new RadioWorld();
      const net = world.addNetwork({ ssid: "lab", password: "firmware-secret-1", channel: 6, rssi: -42 });
      const lan = await RadioLan.create(net);
      cleanups.push(() => lan.destroy());
      const cfg = await configUf2(["ssid=lab", "password=firmware-secret-1", "rgb_source=fixed", "rgb=10,20,30", "ws_echo=1"]);
      const board = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: cfg, air: world });
      // flat out through the boot, then at most wall time: the DHCP server and the peers run on wall time
      expect(await board.runUntil(() => board.wlan.sta.joined !== null, { maxCycles: 30 * MHZ, wallMs: WALL_CAP_MS }), board.stopped ?? board.output).toBe(true);
      board.realtime = true;
      expect(await board.runUntil("wifi joined", { maxCycles: 30 * MHZ, wallMs: WALL_CAP_MS }), board.stopped ?? board.output + lan.dhcpLog).toBe(true);
      const ip = /wifi joined, address (\d+\.\d+\.\d+\.\d+)/.exec(board.output)![1];
      expect(ip).toMatch(/^192\.168\.77\.(1[0-4]\d|150)$/); // from udhcpd's pool
      expect(lan.dhcpLog).toMatch(new RegExp(`sending ACK to ${ip.replace(/\./g, "\\.")}`));

      let done = false;
      const running = board.runUntil(() => done, { maxCycles: 60 * MHZ, wallMs: WALL_CAP_MS });
      try {
        const tutorial = await lan.exec("python3", [join(ROOT, "test", "peers", "tutorial_client.py"), ip, "80", "2"], 60_000);
        expect(tutorial.stderr).toBe("");
        expect(tutorial.stdout).toBe("10 20 30\n10 20 30\n");
        const http = await lan.exec("python3", ["-c", `import urllib.request as u; r = u.urlopen("http://${ip}/", timeout=20); print(r.status, len(r.read()))`], 60_000);
        expect(http.stdout, http.stderr).toMatch(/^200 \d+/);
        const ws = await lan.exec(PYTHON_WS, [join(ROOT, "test", "peers", "ws_echo_client.py"), `ws://${ip}/echo`, "3000", "4"], 90_000);
        expect(ws.stdout, ws.stderr).toBe("ok 12000\n");
        const mdnsName = /mDNS: (picowire-[0-9a-f]{4}\.local)/.exec(board.output)?.[1];
        expect(mdnsName, "the board announced its mDNS name").toBeDefined();
        const mdns = await lan.exec("python3", [join(ROOT, "test", "peers", "mdns_query.py"), mdnsName!, lan.address, "20"], 40_000);
        expect(mdns.stdout, mdns.stderr).toBe(`${ip}\n`);
        // the network goes off the air: DEAUTH_IND and LINK down reach the driver, the board notices
        world.removeNetwork("lab");
        await waitFor(() => board.output.includes("wifi: network lost or join failed"), "the board saying it lost the network", WALL_CAP_MS, 20);
        expect(board.output).toMatch(/pico: wifi station down \(cyw43 link status/);
      } finally {
        done = true;
        await running;
      }
      expect(board.stopped).toBeNull();
      expect(net.frames).toBeGreaterThan(10);
    }, TEST_TIMEOUT_MS);

    it("as an access point: a TAP station gets a lease from the board's DHCP server with busybox udhcpc, and a second board joins", async () => {
      const world = new RadioWorld();
      const apCfg = await configUf2(["wifi_mode=ap", "ssid=picolab", "password=board-secret-1", "rgb_source=fixed", "rgb=1,2,3"]);
      const ap = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: apCfg, air: world, name: "ap" });
      const staCfg = await configUf2(["ssid=picolab", "password=board-secret-1"]);
      const sta = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: staCfg, air: world, name: "sta" });
      expect(await runTogether([ap, sta], () => ap.output.includes("dhcp: serving"), { maxMs: 20_000, wallMs: WALL_CAP_MS }), ap.stopped ?? ap.output).toBe(true);
      ap.realtime = sta.realtime = true; // from here a TAP station talks to them on wall time
      const net = world.network("picolab");
      expect(net.owner).toBe(ap.wlan);
      const lan = await RadioLan.create(net, { address: null });
      cleanups.push(() => lan.destroy());
      let done = false;
      const running = runTogether([ap, sta], () => done, { maxMs: 120_000, wallMs: WALL_CAP_MS });
      try {
        const dhcp = await lan.exec("busybox", ["udhcpc", "-i", "tap0", "-n", "-q", "-f", "-t", "10", "-T", "3", "-s", "/bin/true"], 60_000);
        const lease = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(dhcp.stdout + dhcp.stderr);
        expect(lease, dhcp.stdout + dhcp.stderr).not.toBeNull();
        expect(lease![1]).toMatch(/^192\.168\.4\.\d+$/);
        await lan.exec("ip", ["addr", "add", `${lease![1]}/24`, "dev", "tap0"]);
        const tutorial = await lan.exec("python3", [join(ROOT, "test", "peers", "tutorial_client.py"), "192.168.4.1", "80", "1"], 60_000);
        expect(tutorial.stdout, tutorial.stderr).toBe("1 2 3\n");
        await waitFor(() => /wifi joined, address 192\.168\.4\.\d+/.test(sta.output), "the station board joined with an address", WALL_CAP_MS, 20);
      } finally {
        done = true;
        await running;
      }
      expect(ap.wlan.ap.stations.length).toBe(2); // the TAP station and the second board
      expect(ap.stopped ?? sta.stopped).toBeNull();
    }, TEST_TIMEOUT_MS);
  });
});
