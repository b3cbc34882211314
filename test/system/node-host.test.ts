// The Node host's simulated peripherals and network backend, checked on their own: what virtual
// boards, tests and the CLI rely on must behave like the board's hardware.
import { describe, it, expect } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dgram from "node:dgram";
import { C } from "../../tools/host/abi.generated.ts";
import { Flash, REGIONS } from "../../tools/host/flash.ts";
import { Hardware } from "../../tools/host/hardware.ts";
import { macFrom, WifiSim, type Network } from "../../tools/host/wifi.ts";
import { NodeNet } from "../../tools/host/net-node.ts";
import { ipFromString, ipToString } from "../../tools/host/core.ts";
import type { NetEvents } from "../../tools/host/net.ts";
import { EventQueue, boardScheduler } from "../../tools/sim/clock.ts";
import { waitFor } from "../helpers/wait.ts";

describe("flash (NOR semantics, file-backed)", () => {
  it("erases sectors to 0xFF and programming only clears bits", () => {
    const f = new Flash();
    expect(f.program(C.REGION_CONFIG, 0, new Uint8Array(256).fill(0x0f))).toBe(C.OK);
    expect(f.program(C.REGION_CONFIG, 0, new Uint8Array(256).fill(0xf1))).toBe(C.OK);
    expect((f.read(C.REGION_CONFIG, 0, 2) as Uint8Array)[0]).toBe(0x01); // 0x0f & 0xf1
    expect(f.erase(C.REGION_CONFIG, 0, 4096)).toBe(C.OK);
    expect([...(f.read(C.REGION_CONFIG, 0, 4) as Uint8Array)]).toEqual([255, 255, 255, 255]);
  });

  it("refuses misaligned, out-of-range and unknown-region operations", () => {
    const f = new Flash();
    expect(f.program(C.REGION_CONFIG, 1, new Uint8Array(256))).toBe(C.ERR_INVAL);
    expect(f.program(C.REGION_CONFIG, 0, new Uint8Array(100))).toBe(C.ERR_INVAL);
    expect(f.erase(C.REGION_SLOT_A, 512, 4096)).toBe(C.ERR_INVAL);
    expect(f.erase(C.REGION_CONFIG, 0, 3 * 4096)).toBe(C.ERR_RANGE);
    expect(f.read(C.REGION_STATE, 4000, 200)).toBe(C.ERR_RANGE);
    expect(f.read(9, 0, 1)).toBe(C.ERR_NOTFOUND);
    expect(f.size(C.REGION_SLOT_B)).toBe(REGIONS[C.REGION_SLOT_B]);
  });

  it("keeps its contents in --flash-file across restarts, and refuses a file of the wrong size", () => {
    const file = join(mkdtempSync(join(tmpdir(), "flash-")), "board.flash");
    new Flash(file).program(C.REGION_SLOT_A, 256, new Uint8Array(256).fill(0x42));
    expect((new Flash(file).read(C.REGION_SLOT_A, 256, 1) as Uint8Array)[0]).toBe(0x42);
    const truncated = join(mkdtempSync(join(tmpdir(), "flash-")), "bad.flash");
    writeFileSync(truncated, readFileSync(file).subarray(0, 1000));
    expect(() => new Flash(truncated)).toThrow(/1000 bytes, expected a \d+-byte flash image/);
  });
});

describe("GPIO, PWM, ADC", () => {
  it("refuses the radio's pins and pins that do not exist", () => {
    const hw = new Hardware();
    for (const pin of [23, 24, 25, 29, 30, -1]) expect(hw.setup(pin, C.GPIO_OUT, C.PULL_NONE)).toBe(C.ERR_NOTFOUND);
    expect(hw.setup(2, 7, C.PULL_NONE)).toBe(C.ERR_INVAL);
    expect(hw.write(3, 1)).toBe(C.ERR_INVAL); // not an output yet
    expect(hw.write(C.PIN_LED, 1)).toBe(C.OK);
    expect(hw.pwm(C.PIN_LED, 1000, 100)).toBe(C.ERR_NOTFOUND);
    expect(hw.pwm(2, 1000, 70000)).toBe(C.ERR_RANGE);
    expect(hw.adcRead(5)).toBe(C.ERR_NOTFOUND);
  });

  it("reads pulls, drives outputs, and reports watched edges", () => {
    const hw = new Hardware();
    const edges: [number, number][] = [];
    hw.onEdge = (p, l) => edges.push([p, l]);
    expect(hw.setup(4, C.GPIO_IN, C.PULL_UP)).toBe(C.OK);
    expect(hw.read(4)).toBe(1);
    hw.watch(4, C.EDGE_FALL);
    hw.drive(4, 0);
    hw.drive(4, 1); // rising edge: not watched
    expect(edges).toEqual([[4, 0]]);
    expect(() => hw.drive(24, 1)).toThrow(/radio/);
  });
});

describe("WiFi model", () => {
  const lab: Network = { ssid: "lab", password: "secret123", rssi: -40, channel: 6 };
  /** Runs `fn` on a radio in virtual time: its events are delivered later, never from inside the call. */
  const run = async (fn: (w: WifiSim) => number) => {
    const events: [number, number, number[]][] = [];
    const q = new EventQueue();
    const w = new WifiSim([lab, { ...lab, ssid: "open", password: "" }], ipFromString("127.0.0.5"), (k, s, p) => events.push([k, s, [...(p ?? [])]]), 1, false, {
      scheduler: boardScheduler(q, 0, 0),
    });
    const ret = fn(w);
    expect(events).toEqual([]);
    q.runUntil(1000, () => {}, 100);
    return { ret, events, w };
  };

  it("joins with the right password and reports address and signal", async () => {
    const { events, w } = await run((w) => w.join("lab", "secret123"));
    expect(events).toEqual([[C.WIFI_EV_STA_UP, C.OK, []]]);
    expect(ipToString(w.ip(C.IFACE_STA))).toBe("127.0.0.5");
    expect(w.rssi()).toBe(-40);
  });

  it("fails a wrong password or an unknown network with the reason", async () => {
    expect((await run((w) => w.join("lab", "nope"))).events).toEqual([[C.WIFI_EV_STA_DOWN, C.ERR_REFUSED, []]]);
    const r = await run((w) => w.join("elsewhere", "x"));
    expect(r.events).toEqual([[C.WIFI_EV_STA_DOWN, C.ERR_NOTFOUND, []]]);
    expect(r.w.status(C.IFACE_STA)).toBe(C.WIFI_FAILED);
    expect(r.w.ip(C.IFACE_STA)).toBe(0);
  });

  it("scans: one result per network in the ABI layout, then done", async () => {
    const { events } = await run((w) => w.scan());
    const bssid = [...macFrom("bssid:lab")];
    expect(bssid[0] & 3).toBe(2); // a locally administered unicast address
    expect(events[0]).toEqual([C.WIFI_EV_SCAN_RESULT, 13, [(-40) & 255, 6, 1, 3, ..."lab", ...bssid].map((x) => (typeof x === "string" ? x.charCodeAt(0) : x))]);
    expect(events[2]).toEqual([C.WIFI_EV_SCAN_DONE, 2, []]);
  });

  it("starts an access point, refusing WPA2 passwords under 8 characters", async () => {
    expect((await run((w) => w.startAp("bus", "short", 6))).ret).toBe(C.ERR_INVAL);
    expect((await run((w) => w.startAp("bus", "long enough", 14))).ret).toBe(C.ERR_RANGE);
    const { ret, events, w } = await run((w) => w.startAp("bus", "long enough", 6));
    expect(ret).toBe(C.OK);
    expect(events).toEqual([[C.WIFI_EV_AP_UP, C.OK, []]]);
    expect(w.status(C.IFACE_AP)).toBe(C.WIFI_UP);
  });
});

describe("Node network backend", () => {
  function recorder() {
    const seen: string[] = [];
    const ev: NetEvents = {
      accepted: () => {}, connected: () => {}, data: () => {}, sent: () => {}, closed: () => {},
      datagram: (sock, ip, port, bytes) => seen.push(`udp ${sock} ${ipToString(ip)} ${Buffer.from(bytes)}`),
      resolved: (req, ip, status) => seen.push(`dns ${req} ${ipToString(ip)} ${status}`),
    };
    return { seen, ev };
  }

  it("resolves names asynchronously with a result event", async () => {
    const { seen, ev } = recorder();
    const net = new NodeNet("127.0.0.1", ev);
    const req = net.resolve("localhost");
    expect(seen).toEqual([]); // never synchronously
    await waitFor(() => seen.length > 0, "the DNS result");
    expect(seen).toEqual([`dns ${req} 127.0.0.1 ${C.OK}`]);
    await net.shutdown();
  });

  it("sends and receives UDP datagrams on the board's address", async () => {
    const { seen, ev } = recorder();
    const net = new NodeNet("127.0.0.6", ev);
    const sock = net.udpOpen(0, C.IFACE_STA);
    await net.ready();
    const peer = dgram.createSocket("udp4");
    await new Promise<void>((r) => peer.bind(0, "127.0.0.7", () => r()));
    const got = new Promise<string>((r) => peer.once("message", (m, ri) => r(`${m} from ${ri.address}`)));
    expect(net.udpSend(sock, ipFromString("127.0.0.7"), peer.address().port, new TextEncoder().encode("HELLO"))).toBe(C.OK);
    expect(await got).toBe("HELLO from 127.0.0.6");
    const boardPort = (net as unknown as { udp: Map<number, dgram.Socket> }).udp.get(sock)!.address().port;
    peer.send("NODES: 127.0.0.7", boardPort, "127.0.0.6");
    await waitFor(() => seen.length > 0, "the datagram", 2000);
    expect(seen).toEqual([`udp ${sock} 127.0.0.7 NODES: 127.0.0.7`]);
    peer.close();
    await net.shutdown();
  });
});
