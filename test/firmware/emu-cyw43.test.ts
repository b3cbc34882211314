// The CYW43439 model (tools/emu/cyw43/) on its own, driven the way cyw43-driver drives it: bit-level
// gSPI transactions in the driver's word orders, the backplane bring-up and firmware download checked
// against the SDK's blobs, SDPCM framing and credits, ioctl/iovar answers and the order of async events.
// Needs PICO_SDK_PATH (the blobs); skipped loudly without it, and fails in CI.
import { describe, it, expect, beforeEach } from "vitest";
import { blobsMissing, loadBlobs } from "../../tools/emu/cyw43/blobs.ts";
import { Cyw43Chip, ModelFault, RAM_SIZE, TEST_PATTERN } from "../../tools/emu/cyw43/chip.ts";
import { encodeCommand, GspiBus, FN_BACKPLANE, FN_BUS, FN_WLAN } from "../../tools/emu/cyw43/gspi.ts";
import { WlanFirmware, WLC, EV } from "../../tools/emu/cyw43/wlan.ts";
import { RadioWorld } from "../../tools/emu/radio-world.ts";
import { parseEventFrame, parseSdpcm } from "../../tools/emu/cyw43/sdpcm.ts";

const missing = blobsMissing();
if (missing) {
  const msg = `!!! SKIPPED: the CYW43439 model's tests (test/firmware/emu-cyw43.test.ts) need ${missing}`;
  if (process.env.CI === "true") throw new Error(msg.replace("SKIPPED", "FAILED (CI)"));
  console.warn(`\n${msg}\n`);
}

/** A host that speaks gSPI bit by bit, in the byte order of the bus mode the driver selected. */
class Host {
  bus: GspiBus;
  order = [1, 0, 3, 2]; // power-on: 16-bit words, low half first
  constructor(readonly chip: Cyw43Chip) {
    this.bus = new GspiBus(chip);
  }
  private wire(v: Uint8Array): number[] {
    const out: number[] = [];
    for (let w = 0; w < v.length; w += 4) for (let i = 0; i < 4; i++) out.push(v[w + this.order[i]] ?? 0);
    return out;
  }
  private bits(bytes: number[]): void {
    for (const b of bytes) for (let i = 7; i >= 0; i--) this.bus.clock(true, ((b >> i) & 1) === 1);
  }
  word(v: number): Uint8Array {
    return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
  }
  write(fn: number, addr: number, data: Uint8Array): void {
    this.bus.select();
    this.bits(this.wire(this.word(encodeCommand({ write: true, increment: true, fn, addr, len: data.length }))));
    const padded = new Uint8Array((data.length + 3) & ~3);
    padded.set(data);
    this.bits(this.wire(padded));
    this.bus.deselect();
  }
  /** Reads len bytes after `skip` bytes of response delay. */
  read(fn: number, addr: number, len: number, skip = fn === FN_BACKPLANE ? 16 : 0): Uint8Array {
    this.bus.select();
    this.bits(this.wire(this.word(encodeCommand({ write: false, increment: true, fn, addr, len }))));
    const n = skip + ((len + 3) & ~3);
    const wireBytes: number[] = [];
    for (let i = 0; i < n; i++) {
      let b = 0;
      for (let k = 0; k < 8; k++) b = (b << 1) | (this.bus.clock(false, false) ? 1 : 0);
      wireBytes.push(b);
    }
    this.bus.deselect();
    const plain = new Uint8Array(n);
    for (let w = 0; w < n; w += 4) for (let i = 0; i < 4; i++) plain[w + this.order[i]] = wireBytes[w + i];
    return plain.subarray(skip, skip + len);
  }
  u32(fn: number, addr: number): number {
    return new DataView(this.read(fn, addr, 4).slice().buffer).getUint32(0, true);
  }
  /** What cyw43_ll_bus_init does up to the firmware download. */
  busUp(): void {
    expect(this.u32(FN_BUS, 0x14)).toBe(TEST_PATTERN);
    this.write(FN_BUS, 0, this.word(0x000204b3)); // 32-bit, "big endian", high speed, irq high, wake; delay 4; status: irq
    this.order = [0, 1, 2, 3];
    this.write(FN_BUS, 0x1d, Uint8Array.of(16));
    this.write(FN_BUS, 0x06, Uint8Array.of(0xbe, 0x00));
  }
  bp8(addr: number, v: number): void {
    this.window(addr);
    this.write(FN_BACKPLANE, (addr & 0x7fff) | 0x8000, Uint8Array.of(v));
  }
  window(addr: number): void {
    this.write(FN_BACKPLANE, 0x1000a, Uint8Array.of((addr >>> 8) & 0x80));
    this.write(FN_BACKPLANE, 0x1000b, Uint8Array.of((addr >>> 16) & 0xff));
    this.write(FN_BACKPLANE, 0x1000c, Uint8Array.of(addr >>> 24));
  }
  /** The download, straight into the chip's functions (the bit-level path is covered above). */
  download(fw: Uint8Array, nvram: Uint8Array): void {
    const put = (at: number, data: Uint8Array) => {
      for (let off = 0; off < data.length; off += 64) {
        const dest = at + off;
        this.chip.write({ write: true, increment: true, fn: FN_BACKPLANE, addr: 0x1000a, len: 1 }, Uint8Array.of((dest >>> 8) & 0x80));
        this.chip.write({ write: true, increment: true, fn: FN_BACKPLANE, addr: 0x1000b, len: 1 }, Uint8Array.of((dest >>> 16) & 0xff));
        this.chip.write({ write: true, increment: true, fn: FN_BACKPLANE, addr: 0x1000c, len: 1 }, Uint8Array.of(dest >>> 24));
        const chunk = data.subarray(off, off + 64);
        this.chip.write({ write: true, increment: true, fn: FN_BACKPLANE, addr: (dest & 0x7fff) | 0x8000, len: chunk.length }, chunk);
      }
    };
    put(0, fw);
    const nvLen = (nvram.length + 3) & ~3;
    const nv = new Uint8Array(nvLen);
    nv.set(nvram);
    put(RAM_SIZE - 4 - nvLen, nv);
    const words = nvLen / 4;
    put(RAM_SIZE - 4, this.word((((~words & 0xffff) << 16) | words) >>> 0));
  }
  armUp(): void {
    this.bp8(0x18103408, 0x03); // FGC | CLOCK_EN
    this.bp8(0x18103800, 0x00); // out of reset
    this.bp8(0x18103408, 0x01); // CLOCK_EN
  }
}

describe.skipIf(missing !== null)("CYW43439 model (tools/emu/cyw43)", () => {
  let chip: Cyw43Chip;
  let host: Host;
  beforeEach(() => {
    chip = new Cyw43Chip({ blobs: loadBlobs() });
    chip.setPower(true);
    host = new Host(chip);
  });

  it("reads the test pattern in the power-on 16-bit mode and after switching to 32-bit words", () => {
    host.busUp();
    expect(host.u32(FN_BUS, 0x14)).toBe(TEST_PATTERN);
    expect(host.u32(FN_BUS, 0x00) & 0xff).toBe(0xb3);
    // the same read in the old word order is another command to the chip (the driver's swap matters)
    host.order = [1, 0, 3, 2];
    expect(() => host.u32(FN_BUS, 0x14)).toThrow(/unknown gSPI register 0x800/);
  });

  it("pads backplane reads with the F1 response delay, and names unknown registers", () => {
    host.busUp();
    host.write(FN_BACKPLANE, 0x1000e, Uint8Array.of(0x08)); // ALP request
    expect(host.read(FN_BACKPLANE, 0x1000e, 1)[0] & 0x40).toBe(0x40); // ALP available, after 16 bytes of delay
    expect(() => host.read(FN_BUS, 0x30, 4)).toThrow(/unknown gSPI register 0x30/);
    expect(() => host.read(FN_BACKPLANE, 0x10020, 1)).toThrow(/unknown SDIO register 0x10020/);
    host.window(0x18005000);
    expect(() => host.read(FN_BACKPLANE, 0x5000 | 0x8000, 4)).toThrow(/backplane read of unknown address 0x18005000/);
  });

  it("starts the firmware only when the download matches the driver's blobs; a corrupted byte keeps HT off", () => {
    const { firmware, nvram } = loadBlobs();
    host.busUp();
    host.download(firmware, nvram);
    host.armUp();
    expect(chip.running).toBe(true);
    expect(host.read(FN_BACKPLANE, 0x1000e, 1)[0] & 0x80).toBe(0x80); // HT available
    expect(host.u32(FN_BUS, 0x08) & 0x20).toBe(0x20); // F2 ready

    const bad = new Cyw43Chip({ blobs: loadBlobs() });
    bad.setPower(true);
    const h2 = new Host(bad);
    h2.busUp();
    const corrupt = firmware.slice();
    corrupt[0x1234] ^= 0x40;
    h2.download(corrupt, nvram);
    h2.armUp();
    expect(bad.running).toBe(false);
    expect(bad.faults[0]).toMatch(/RAM 0x1234 holds/);
    expect(h2.read(FN_BACKPLANE, 0x1000e, 1)[0] & 0x80).toBe(0); // the driver waits for HT in vain
    expect(() => h2.write(FN_WLAN, 0, new Uint8Array(16))).toThrow(/F2 not ready/);
  });

  describe("SDPCM", () => {
    let fw: WlanFirmware;
    let world: RadioWorld;
    let seq = 0;
    let credit = 1;
    beforeEach(() => {
      world = new RadioWorld();
      fw = new WlanFirmware(chip, world);
      const { firmware, nvram } = loadBlobs();
      host.busUp();
      host.download(firmware, nvram);
      host.armUp();
      seq = 0;
      credit = 1;
    });

    const frame = (channel: number, body: Uint8Array, headerLength = 12) => {
      const size = headerLength + body.length;
      const f = new Uint8Array((size + 3) & ~3);
      const v = new DataView(f.buffer);
      v.setUint16(0, size, true);
      v.setUint16(2, ~size & 0xffff, true);
      f[4] = seq++ & 0xff;
      f[5] = channel;
      f[7] = headerLength;
      f.set(body, headerLength);
      return f;
    };
    let ioctlId = 0;
    /** Sends an ioctl and reads back what the chip then holds, as cyw43_do_ioctl waits for its answer. */
    const ioctl = (cmd: number, set: boolean, payload: Uint8Array, itf = 0) => {
      send(cmd, set, payload, itf);
      return drain();
    };
    const send = (cmd: number, set: boolean, payload: Uint8Array, itf = 0) => {
      const body = new Uint8Array(16 + payload.length);
      const v = new DataView(body.buffer);
      v.setUint32(0, cmd, true);
      v.setUint32(4, payload.length, true);
      v.setUint32(8, ((++ioctlId << 16) | (set ? 2 : 0) | (itf << 12)) >>> 0, true);
      body.set(payload, 16);
      host.write(FN_WLAN, 0, frame(0, body));
    };
    const iovar = (name: string, value: Uint8Array, set = true, itf = 0) =>
      ioctl(set ? WLC.SET_VAR : WLC.GET_VAR, set, Uint8Array.from([...Buffer.from(name + "\0"), ...value]), itf);
    /** Reads every frame the chip holds, as the driver's poll loop does (status, then F2). */
    function drain() {
      const out: ReturnType<typeof parseSdpcm>[] = [];
      for (let i = 0; i < 64; i++) {
        const status = host.u32(FN_BUS, 0x08);
        if (!(status & 0x100)) break;
        const len = (status >>> 9) & 0x7ff;
        const f = parseSdpcm(host.read(FN_WLAN, 0, len).slice(), (m) => {
          throw new Error(m);
        });
        if (((f.credit - credit) & 0xff) <= 20) credit = f.credit;
        out.push(f);
      }
      return out;
    }
    const u32 = (n: number) => host.word(n);
    const ssidArg = (name: string) => {
      const b = new Uint8Array(36);
      b.set(u32(name.length));
      b.set(Buffer.from(name), 4);
      return b;
    };
    /** What the driver does before SET_SSID for WPA2: every event on, interface up, WPA2-PSK, the passphrase. */
    const wpa2Up = (passphrase: string) => {
      iovar("bsscfg:event_msgs", Uint8Array.from([0, 0, 0, 0, ...new Uint8Array(19).fill(0xff)]));
      ioctl(WLC.UP, true, new Uint8Array(0));
      ioctl(WLC.SET_WPA_AUTH, true, u32(0x80));
      const pmk = new Uint8Array(68);
      pmk.set([passphrase.length, 0, 1, 0]);
      pmk.set(Buffer.from(passphrase), 4);
      ioctl(WLC.SET_WSEC_PMK, true, pmk);
    };

    it("answers an ioctl on the control channel with the request's id and grants credit", () => {
      send(WLC.UP, true, new Uint8Array(0));
      expect(chip.irqLevel()).toBe(true); // F2 packet available on the shared data line
      const [r] = drain();
      expect(r.channel).toBe(0);
      const v = new DataView(r.body.slice().buffer);
      expect(v.getUint32(0, true)).toBe(WLC.UP);
      expect(v.getUint32(8, true) >>> 16).toBe(ioctlId);
      expect(v.getInt32(12, true)).toBe(0);
      expect(((credit - seq) & 0xff)).toBeGreaterThan(0); // room to send more
      expect(fw.up).toBe(true);
    });

    it("keeps F2_PACKET_AVAILABLE raised while frames wait, even after the host clears it", () => {
      world.addNetwork({ ssid: "open-net" });
      fw.eventMask.fill(0xff);
      send(WLC.SET_VAR, true, Uint8Array.from([...Buffer.from("escan\0"), ...new Uint8Array(64)])); // answer + 2 events
      host.write(FN_BUS, 0x04, Uint8Array.of(0x20, 0x00)); // the driver clears what it read
      expect(chip.irqLevel()).toBe(true);
      expect(drain().length).toBe(3);
      host.write(FN_BUS, 0x04, Uint8Array.of(0x20, 0x00));
      expect(chip.irqLevel()).toBe(false);
    });

    it("fails loudly on an iovar or ioctl it does not know, and on frames without credit", () => {
      expect(() => iovar("no_such_var", u32(1))).toThrow(/iovar "no_such_var" \(set, interface 0\) is not modelled/);
      expect(() => fw.control(999, false, 0, new Uint8Array(4), 4)).toThrow(/unknown ioctl 999 \(get, interface 0\)/);
      // the host may only send below the credit it was granted: 8 ahead (the window) without reading
      const c = new Cyw43Chip({ blobs: loadBlobs() });
      c.setPower(true);
      const h = new Host(c);
      new WlanFirmware(c, null);
      const { firmware, nvram } = loadBlobs();
      h.busUp();
      h.download(firmware, nvram);
      h.armUp();
      const up = () => {
        const body = new Uint8Array(16);
        new DataView(body.buffer).setUint32(0, WLC.UP, true);
        const f = new Uint8Array(28);
        const v = new DataView(f.buffer);
        v.setUint16(0, 28, true);
        v.setUint16(2, ~28 & 0xffff, true);
        f[4] = 0;
        f[7] = 12;
        f.set(body, 12);
        return f;
      };
      h.write(FN_WLAN, 0, up());
      expect(() => h.write(FN_WLAN, 0, up())).toThrow(/host sequence 0, expected 1/);
    });

    it("sends a credit-only frame when data frames use up the window", () => {
      const data = (i: number) => {
        const eth = new Uint8Array(60);
        eth.fill(0xff, 0, 6);
        eth[12] = 0x08;
        eth[14] = i;
        return frame(2, Uint8Array.from([0x20, 0, 0, 0, ...eth]), 14);
      };
      host.write(FN_WLAN, 0, data(0)); // credit 1 allowed one frame
      const frames = drain();
      expect(frames.length).toBe(1);
      expect(frames[0].body.length).toBe(0); // flow-control frame: header only
      expect(((credit - seq) & 0xff)).toBe(8); // the window the model grants
      for (let i = 1; i <= 8; i++) host.write(FN_WLAN, 0, data(i));
      expect(() => host.write(FN_WLAN, 0, data(9))).toThrow(/without credit/);
    });

    it("joins a WPA2 network: ioctl answer first, then AUTH, ASSOC, LINK up, PSK_SUP keyed, SET_SSID", () => {
      world.addNetwork({ ssid: "lab", password: "secret-pass", channel: 11, rssi: -37 });
      wpa2Up("secret-pass");
      const frames = ioctl(WLC.SET_SSID, true, ssidArg("lab"));
      expect(frames[0].channel).toBe(0);
      const events = frames.slice(1).map((f) => {
        expect(f.channel).toBe(1);
        return parseEventFrame(f.body.subarray(4))!;
      });
      expect(events.map((e) => e.type)).toEqual([EV.AUTH, EV.ASSOC, EV.LINK, EV.PSK_SUP, EV.SET_SSID]);
      expect(events[2].flags).toBe(1);
      expect(events[3].status).toBe(6); // WLC_SUP_KEYED
      const [r] = ioctl(WLC.GET_RSSI, false, new Uint8Array(4));
      expect(new DataView(r.body.slice().buffer).getInt32(16, true)).toBe(-37);
    });

    it("a wrong password fails the handshake and deauthenticates; an absent SSID reports no network", () => {
      world.addNetwork({ ssid: "lab", password: "secret-pass" });
      wpa2Up("wrong-pass");
      const ssid = ssidArg;
      let ev = ioctl(WLC.SET_SSID, true, ssid("lab")).slice(1).map((f) => parseEventFrame(f.body.subarray(4))!);
      expect(ev.map((e) => e.type)).toEqual([EV.AUTH, EV.ASSOC, EV.LINK, EV.PSK_SUP, EV.DEAUTH_IND]);
      expect(ev[3].status).not.toBe(6);
      expect(ev[4].reason).toBe(2);
      ev = ioctl(WLC.SET_SSID, true, ssid("elsewhere")).slice(1).map((f) => parseEventFrame(f.body.subarray(4))!);
      expect(ev.map((e) => [e.type, e.status])).toEqual([[EV.SET_SSID, 3]]);
    });

    it("scan results carry SSID, channel, RSSI and security where the driver reads them", () => {
      world.addNetwork({ ssid: "open-net", channel: 1, rssi: -70 });
      world.addNetwork({ ssid: "wpa-net", password: "12345678", channel: 13, rssi: -30 });
      iovar("bsscfg:event_msgs", Uint8Array.from([0, 0, 0, 0, ...new Uint8Array(19).fill(0xff)]));
      const ev = iovar("escan", new Uint8Array(64)).slice(1).map((f) => parseEventFrame(f.body.subarray(4))!);
      expect(ev.map((e) => [e.type, e.status])).toEqual([[69, 8], [69, 8], [69, 0]]);
      const seen = ev.slice(0, 2).map((e) => {
        // cyw43_ev_scan_result_t sits at event + 48: bssid @20, ssid_len @30, ssid @31, channel @84, rssi @90
        const d = e.data!;
        const v = new DataView(d.buffer, d.byteOffset);
        const bss = 12;
        const ieOff = v.getUint16(bss + 116, true);
        const ies = d.subarray(bss + ieOff, bss + ieOff + v.getUint32(bss + 120, true));
        return { ssid: Buffer.from(d.subarray(31, 31 + d[30])).toString(), channel: v.getUint16(84, true) & 0xff, rssi: v.getInt16(90, true), rsn: ies.includes(48), privacy: !!(v.getUint16(bss + 16, true) & 0x10) };
      });
      expect(seen).toEqual([
        { ssid: "open-net", channel: 1, rssi: -70, rsn: false, privacy: false },
        { ssid: "wpa-net", channel: 13, rssi: -30, rsn: true, privacy: true },
      ]);
    });

    it("events the host masked with bsscfg:event_msgs are not sent", () => {
      world.addNetwork({ ssid: "open-net" });
      const mask = new Uint8Array(19).fill(0xff);
      mask[69 >> 3] &= ~(1 << (69 & 7));
      iovar("bsscfg:event_msgs", Uint8Array.from([0, 0, 0, 0, ...mask]));
      expect(iovar("escan", new Uint8Array(64)).length).toBe(1); // the ioctl answer only
    });
  });

  it("ModelFault is what a fault throws (the board runner stops on it)", () => {
    expect(() => chip.fault("x")).toThrow(ModelFault);
  });
});
