// The radio world (tools/emu/radio-world.ts) with the WLAN firmware model but no emulated CPU: the
// switch between networks' members, boards' access points and their stations, a network leaving the
// air, and the limits it refuses. Needs PICO_SDK_PATH (the chip model checks against its blobs).
import { describe, it, expect } from "vitest";
import { blobsMissing, loadBlobs } from "../../tools/emu/cyw43/blobs.ts";
import { Cyw43Chip } from "../../tools/emu/cyw43/chip.ts";
import { WlanFirmware, EV, ITF_AP, ITF_STA } from "../../tools/emu/cyw43/wlan.ts";
import { parseEventFrame } from "../../tools/emu/cyw43/sdpcm.ts";
import { RadioWorld, type Endpoint } from "../../tools/emu/radio-world.ts";
import { parseNetwork } from "../../tools/emu/radio-run.ts";

const missing = blobsMissing();
if (missing) {
  const msg = `!!! SKIPPED: the radio world's tests (test/firmware/emu-radio-world.test.ts) need ${missing}`;
  if (process.env.CI === "true") throw new Error(msg.replace("SKIPPED", "FAILED (CI)"));
  console.warn(`\n${msg}\n`);
}

/** A chip whose firmware runs (download skipped: these tests are about the air), events all enabled. */
function radio(world: RadioWorld, mac: number) {
  const chip = new Cyw43Chip({ blobs: loadBlobs() });
  chip.setPower(true);
  Object.assign(chip, { running: true });
  const fw = new WlanFirmware(chip, world);
  fw.mac = Uint8Array.of(2, 0, 0, 0, 0, mac);
  fw.eventMask.fill(0xff);
  fw.up = true;
  const frames: { channel: number; itf: number; payload: Uint8Array }[] = [];
  chip.queue = (channel, _hl, body) => void frames.push({ channel, itf: body[2], payload: body.subarray(4) });
  const events = () => frames.filter((f) => f.channel === 1).map((f) => parseEventFrame(f.payload)!);
  const data = () => frames.filter((f) => f.channel === 2);
  return { chip, fw, frames, events, data };
}

function eth(dst: number[], src: number[], tag: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[14] = tag;
  return f;
}

function join(fw: WlanFirmware, ssid: string, pass: string | null) {
  fw.sta.wpaAuth = pass ? 0x80 : 0;
  fw.sta.passphrase = pass;
  const b = new Uint8Array(36);
  new DataView(b.buffer).setUint32(0, ssid.length, true);
  b.set(Buffer.from(ssid), 4);
  return fw.control(26, true, ITF_STA, b, 36);
}

describe.skipIf(missing !== null)("radio world", () => {
  it("switches frames: broadcast floods, unicast goes only to the port that owns the MAC", () => {
    const world = new RadioWorld();
    const net = world.addNetwork({ ssid: "lab", password: null });
    const a = radio(world, 1);
    const b = radio(world, 2);
    join(a.fw, "lab", null);
    join(b.fw, "lab", null);
    const tapGot: Uint8Array[] = [];
    const tap: Endpoint = { name: "tap test", deliver: (f) => tapGot.push(f) };
    net.join(tap);
    net.send(tap, eth([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [2, 9, 9, 9, 9, 9], 1)); // broadcast from the TAP
    expect(a.data().length).toBe(1);
    expect(b.data().length).toBe(1);
    a.fw.data(ITF_STA, eth([2, 9, 9, 9, 9, 9], [2, 0, 0, 0, 0, 1], 2)); // a answers the TAP: unicast
    expect(tapGot.map((f) => f[14])).toEqual([2]);
    expect(b.data().length).toBe(1); // b did not see it
    net.send(tap, eth([2, 0, 0, 0, 0, 1], [2, 9, 9, 9, 9, 9], 3)); // to a, learned
    expect(a.data().map((d) => d.payload[14])).toEqual([1, 3]);
    expect(b.data().length).toBe(1);
  });

  it("a station passes multicast only to groups in its mcast_list (or with allmulti); broadcast always", () => {
    const world = new RadioWorld();
    const net = world.addNetwork({ ssid: "lab", password: null });
    const a = radio(world, 1);
    join(a.fw, "lab", null);
    const tap: Endpoint = { name: "tap test", deliver: () => {} };
    net.join(tap);
    const group = [0x01, 0x00, 0x5e, 0x7f, 0x00, 0x01]; // 239.255.0.1, E1.31 universe 1
    const other = [0x01, 0x00, 0x5e, 0x7f, 0x00, 0x02]; // universe 2
    const setVar = (name: string, value: Uint8Array) => {
      const b = Uint8Array.from([...Buffer.from(name + "\0"), ...value]);
      a.fw.control(263, true, ITF_STA, b, b.length);
    };
    const list = (...macs: number[][]) => {
      const v = new Uint8Array(4 + 10 * 6);
      new DataView(v.buffer).setUint32(0, macs.length, true);
      macs.forEach((m, i) => v.set(m, 4 + i * 6));
      return v;
    };
    const got = () => a.data().map((d) => d.payload[14]);
    net.send(tap, eth(group, [2, 9, 9, 9, 9, 9], 1)); // not joined: filtered
    setVar("mcast_list", list(group)); // what cyw43_ll_wifi_update_multicast_filter writes on a join
    net.send(tap, eth(group, [2, 9, 9, 9, 9, 9], 2));
    net.send(tap, eth(other, [2, 9, 9, 9, 9, 9], 3)); // another group: filtered
    net.send(tap, eth([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [2, 9, 9, 9, 9, 9], 4));
    setVar("mcast_list", list()); // left
    net.send(tap, eth(group, [2, 9, 9, 9, 9, 9], 5));
    setVar("allmulti", Uint8Array.of(1, 0, 0, 0));
    net.send(tap, eth(other, [2, 9, 9, 9, 9, 9], 6));
    expect(got()).toEqual([2, 4, 6]);
    expect(a.fw.multicastFiltered).toBe(3);
  });

  it("a board's access point: stations (a board, a TAP) associate, get ASSOC events and the assoc list", () => {
    const world = new RadioWorld();
    const ap = radio(world, 1);
    ap.fw.ap.ssid = "picolab";
    ap.fw.ap.wsec = 4;
    ap.fw.ap.password = "board-secret";
    const bss = new Uint8Array(8);
    new DataView(bss.buffer).setUint32(0, ITF_AP, true);
    new DataView(bss.buffer).setUint32(4, 1, true);
    const setBss = Uint8Array.from([...Buffer.from("bss\0"), ...bss]);
    ap.fw.control(263, true, ITF_STA, setBss, setBss.length);
    expect(ap.events().map((e) => [e.type, e.itf, e.flags])).toEqual([[EV.LINK, ITF_AP, 1]]);
    expect(world.scan().map((n) => n.ssid)).toEqual(["picolab"]);
    const sta = radio(world, 2);
    join(sta.fw, "picolab", "wrong-secret");
    expect(ap.fw.ap.stations.length).toBe(0);
    join(sta.fw, "picolab", "board-secret");
    expect(ap.fw.ap.stations.length).toBe(1);
    expect(ap.events().at(-1)!.type).toBe(EV.ASSOC_IND);
    const tap: Endpoint = { name: "tap test", deliver: () => {} };
    const net = world.network("picolab");
    net.join(tap);
    net.send(tap, eth([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [2, 9, 9, 9, 9, 9], 1));
    expect(ap.fw.ap.stations.map((m) => m[5])).toEqual([2, 9]);
    const list = new Uint8Array(4 + 8 * 6);
    new DataView(list.buffer).setUint32(0, 8, true);
    const r = ap.fw.control(159, false, ITF_AP, list, list.length);
    expect(new DataView(r.payload.buffer).getUint32(0, true)).toBe(2);
    // the access point goes down: its network leaves the air and the station board loses its link
    new DataView(bss.buffer).setUint32(4, 0, true);
    const down = Uint8Array.from([...Buffer.from("bss\0"), ...bss]);
    ap.fw.control(263, true, ITF_STA, down, down.length);
    expect(world.scan()).toEqual([]);
    expect(sta.fw.sta.joined).toBeNull();
    expect(sta.events().slice(-2).map((e) => [e.type, e.flags])).toEqual([[EV.DEAUTH_IND, 0], [EV.LINK, 0]]);
  });

  it("refuses what a real network cannot be, naming it", () => {
    const world = new RadioWorld();
    expect(() => world.addNetwork({ ssid: "", password: null })).toThrow(/SSID of 0 bytes/);
    expect(() => world.addNetwork({ ssid: "x".repeat(33), password: null })).toThrow(/SSID of 33 bytes/);
    expect(() => world.addNetwork({ ssid: "lab", password: "short" })).toThrow(/passphrase of 5 characters/);
    world.addNetwork({ ssid: "lab" });
    expect(() => world.addNetwork({ ssid: "lab" })).toThrow(/already exists/);
    expect(() => world.network("nope")).toThrow(/no network "nope" \(have lab\)/);
    expect(() => new Cyw43Chip({ blobs: loadBlobs(), creditWindow: 21 })).toThrow(/credit window 21 outside 1..20/);
    // tools/emu/radio-run.ts --network SSID[:PASSWORD[:CHANNEL[:RSSI]]]
    expect(parseNetwork("lab")).toEqual({ ssid: "lab", password: null, channel: undefined, rssi: undefined });
    expect(parseNetwork("lab:secret-123:11:-40")).toEqual({ ssid: "lab", password: "secret-123", channel: 11, rssi: -40 });
    expect(() => parseNetwork("lab:secret-123:14")).toThrow(/channel 14 is not a whole number in 1..13/);
    expect(() => parseNetwork("lab::6:5")).toThrow(/RSSI 5 is not a whole number in -100..0/);
  });
});
