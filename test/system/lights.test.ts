// LED-strip light data (assembly/lights, docs/lights.md): WLED UDP realtime, DDP and E1.31 parsed by the
// core into its pixel buffer, brightness, gamma and colour order applied, one pixels_show per frame;
// get_pixels; the realtime timeout in virtual time; fan-out across a bus of in-process boards. The
// sender (tools/lights/send.ts) is written from the specifications and checked against hex vectors
// laid out by hand from them. Loopback only.
import { describe, it, expect, afterEach } from "vitest";
import dgram from "node:dgram";
import { C } from "../../tools/host/abi.generated.ts";
import { Client } from "../../tools/client.ts";
import { FakeHost } from "../helpers/core.ts";
import { nodeOnly, startBoard, stopBoards, waitFor, freePort, type TestBoard } from "../helpers/boards.ts";
import { picowire } from "../helpers/cli.ts";
import { wled, ddp, e131, send, WARLS, DRGB, DRGBW, DNRGB, PORT_WLED, PORT_DDP, PORT_E131, type Rgb } from "../../tools/lights/send.ts";

afterEach(stopBoards);
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

// ---- the reference: gamma 2.2 as the README defines it, brightness, order ----------------------------
const gamma = (v: number) => Math.round(255 * Math.pow(v / 255, 2.2));
function wire(px: Rgb[], order = "grb", brightness = 255): number[] {
  const out: number[] = [];
  for (const [r, g, b] of px) {
    const v: Record<string, number> = { r, g, b };
    for (const c of order) out.push(Math.floor((gamma(v[c]) * brightness) / 255));
  }
  return out;
}
const fill = (n: number, c: Rgb): Rgb[] => Array.from({ length: n }, () => [...c] as Rgb);
const ramp = (n: number, k = 0): Rgb[] => Array.from({ length: n }, (_, i) => [(i * 7 + k) & 255, (i * 13 + 50 + k) & 255, (i * 29 + 100 + k) & 255]);

// ---- an in-process core with a fake host: virtual time, every pixels_show recorded -------------------
class Lights {
  host = new FakeHost();
  shows: { pin: number; bytes: number[] }[] = [];
  socks = new Map<number, number>(); // port -> handle
  constructor(config: string, now = 0) {
    this.host.overrides = {
      udp_open: (port: number) => {
        const h = 40 + this.socks.size;
        this.socks.set(port, h);
        return h;
      },
      pixels_show: (pin: number, p: number, n: number) => {
        this.shows.push({ pin, bytes: [...this.host.core.read(p, n)] });
        return C.OK;
      },
    };
    this.host.start(config, now);
    this.tick(now);
  }
  get core() {
    return this.host.core;
  }
  /** A datagram on a port, then a tick (as the host does after every event). */
  dg(port: number, bytes: Uint8Array, now = 0): void {
    const h = this.socks.get(port);
    if (h === undefined) throw new Error(`no socket on ${port}`);
    this.core.exports.udp_data(h, 0x7f000063, 40000, this.core.writeIo(bytes), now >>> 0);
    this.tick(now);
  }
  tick(now: number): number {
    return this.core.exports.tick(now >>> 0);
  }
  stat(k: number): number {
    return this.core.exports.stat(k);
  }
  get last(): number[] | undefined {
    return this.shows.at(-1)?.bytes;
  }
  /** One control command over a fake TCP connection (control_insecure=1). */
  command(cmd: Record<string, unknown>, conn = 7): Record<string, any> {
    this.host.sent.delete(conn);
    if (!this.opened.has(conn)) {
      this.core.exports.tcp_accepted(1, conn, 0x7f000001, 50000, 0);
      this.opened.add(conn);
    }
    this.host.data(conn, JSON.stringify(cmd) + "\n");
    const lines = this.host.sentText(conn).trim().split("\n");
    return JSON.parse(lines.at(-1)!);
  }
  private opened = new Set<number>();
}

const ALL = "lights=wled,ddp,e131\nhttp_port=0\ncontrol_port=0\n";
const counts = (l: Lights) => [l.stat(C.STAT_PIXELS_FRAMES), l.stat(C.STAT_PIXELS_DROPPED)];

describe("the sender matches hex vectors laid out from the specifications", () => {
  it("WLED UDP realtime: WARLS, DRGB, DRGBW, DNRGB", () => {
    // byte 0 protocol, byte 1 timeout seconds, then per protocol (kno.wled.ge/interfaces/udp-realtime)
    expect(wled(WARLS, 2, [[0, 255, 0, 0], [5, 0, 0, 255]])).toEqual(hex("01 02  00 ff 00 00  05 00 00 ff"));
    expect(wled(DRGB, 255, [[255, 0, 0], [0, 255, 0]])).toEqual(hex("02 ff  ff 00 00  00 ff 00"));
    expect(wled(DRGBW, 1, [[1, 2, 3, 4] as unknown as Rgb])).toEqual(hex("03 01  01 02 03 04"));
    expect(wled(DNRGB, 5, [[10, 11, 12]], 256)).toEqual(hex("04 05  01 00  0a 0b 0c"));
  });

  it("DDP: flags, sequence, data type, id, offset and length big-endian, optional timecode", () => {
    // 3waylabs.com/ddp: 0x41 = version 1 + push; 0x0b = RGB, 8 bits per channel; id 1 = default output
    expect(ddp([255, 0, 0, 0, 255, 0], { sequence: 1 })).toEqual(hex("41 01 0b 01  00 00 00 00  00 06  ff 00 00 00 ff 00"));
    expect(ddp([1, 2, 3], { offset: 300, push: false, timecode: 0x01020304 })).toEqual(hex("50 00 0b 01  00 00 01 2c  00 03  01 02 03 04  01 02 03"));
  });

  it("E1.31: root, framing and DMP layers of a 3-slot data packet (ANSI E1.31-2018 table 4-1)", () => {
    const name = Buffer.alloc(64);
    name.write("picowire test");
    const expected = Buffer.concat([
      hex("0010 0000 4153432d45312e3137000000 7071 00000004 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"), // root layer
      hex("705b 00000002"), name, hex("64 0000 07 00 0001"), // framing: priority 100, sync 0, seq 7, options, universe 1
      hex("700e 02 a1 0000 0001 0004 00 ff8000"), // DMP: set property, a1, first 0, increment 1, 4 values, start code 0
    ]);
    expect(e131(1, [255, 128, 0], { sequence: 7 })).toEqual(expected);
    expect(expected.length).toBe(129);
  });
});

describe("frames: parse, gamma, brightness, colour order, one pixels_show per frame", () => {
  it("DRGB with brightness and the default GRB order, byte-exact, on pixels_pin", () => {
    const l = new Lights(`${ALL}pixels_count=4\npixels_pin=2\nbrightness=128`);
    expect(l.shows.length).toBe(1); // normal mode: the board's colour (black) at start
    const px: Rgb[] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 64, 32]];
    l.dg(PORT_WLED, wled(DRGB, 2, px), 10);
    expect(l.shows.length).toBe(2);
    expect(l.shows[1].pin).toBe(2);
    expect(l.last).toEqual(wire(px, "grb", 128));
    expect(l.stat(C.STAT_PIXELS_MODE)).toBe(1);
  });

  it("every colour order", () => {
    for (const order of ["rgb", "rbg", "grb", "gbr", "brg", "bgr"]) {
      const l = new Lights(`${ALL}pixels_count=3\npixels_order=${order}`);
      const px = ramp(3, 77);
      l.dg(PORT_DDP, ddp(px.flat()), 1);
      expect(l.last, order).toEqual(wire(px, order));
    }
  });

  it("WARLS by index, DRGBW without white, DNRGB from a start index; pixels past the strip are left out", () => {
    const l = new Lights(`${ALL}pixels_count=6\npixels_order=rgb`);
    l.dg(PORT_WLED, wled(WARLS, 1, [[4, 255, 255, 255], [200, 1, 2, 3]]), 1);
    expect(l.last).toEqual(wire([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [255, 255, 255], [0, 0, 0]], "rgb"));
    l.dg(PORT_WLED, wled(DRGBW, 1, [[10, 20, 30, 255], [40, 50, 60, 255]] as unknown as Rgb[]), 2);
    expect(l.last!.slice(0, 6)).toEqual(wire([[10, 20, 30], [40, 50, 60]], "rgb"));
    l.dg(PORT_WLED, wled(DNRGB, 1, ramp(4), 4), 3); // pixels 4..7 of a 6-pixel strip: 6 and 7 left out
    expect(l.last).toEqual(wire([[10, 20, 30], [40, 50, 60], [0, 0, 0], [0, 0, 0], ...ramp(2)], "rgb"));
    expect(l.stat(C.STAT_PIXELS_DROPPED)).toBe(0);
  });

  it("DDP: data offset, push flag, timecode header, data types", () => {
    const l = new Lights(`${ALL}pixels_count=4\npixels_order=rgb`);
    const n0 = l.shows.length;
    l.dg(PORT_DDP, ddp(ramp(2).flat(), { push: false }), 1); // no push seen yet: shown at once
    expect(l.shows.length).toBe(n0 + 1);
    l.dg(PORT_DDP, ddp(ramp(2, 9).flat(), { offset: 6, timecode: 1234 }), 2); // push seen
    expect(l.last).toEqual(wire([...ramp(2), ...ramp(2, 9)], "rgb"));
    const n1 = l.shows.length;
    l.dg(PORT_DDP, ddp(fill(2, [1, 1, 1]).flat(), { push: false }), 3); // waits for the push now
    expect(l.shows.length).toBe(n1);
    l.dg(PORT_DDP, ddp(fill(2, [2, 2, 2]).flat(), { offset: 6, type: 0x00 }), 4); // undefined type = RGB
    expect(l.shows.length).toBe(n1 + 1);
    expect(l.last).toEqual(wire([...fill(2, [1, 1, 1]), ...fill(2, [2, 2, 2])], "rgb"));
    const d0 = l.stat(C.STAT_PIXELS_DROPPED);
    for (const bad of [
      ddp([1, 2, 3, 4], { type: 0x1b }), // RGBW
      ddp([1, 2, 3], { type: 0x0c }), // RGB, 16 bits
      ddp([1, 2, 3], { query: true }),
      ddp([1, 2, 3], { reply: true }),
      ddp([1, 2, 3], { version: 2 }),
      ddp([1, 2, 3], { destination: 246 }), // JSON control
      ddp([1, 2, 3], { offset: 1 }), // not on a pixel
      ddp(new Uint8Array(1443)), // more than 1440 bytes of data
      ddp([1, 2, 3], { offset: 196605 }), // past pixel 65534: pixel numbers are u16 on the bus
      Buffer.concat([ddp([1, 2, 3]), Buffer.from([4])]), // a byte more than the length says
    ]) l.dg(PORT_DDP, bad, 5);
    expect(l.stat(C.STAT_PIXELS_DROPPED)).toBe(d0 + 10);
    expect(l.shows.length).toBe(n1 + 1);
  });

  it("E1.31: universe and start address from configuration, 170 pixels per further universe, one show per frame", () => {
    const l = new Lights(`${ALL}pixels_count=200\npixels_order=rgb\ne131_universe=7\ne131_start=4`);
    const px = ramp(200);
    // universe 7 from slot 4: (512 - 3) / 3 = 169 pixels; universe 8 from slot 1: the other 31
    const u7 = [9, 9, 9, ...px.slice(0, 169).flat(), 0, 0];
    const u8 = px.slice(169).flat();
    const n0 = l.shows.length;
    l.dg(PORT_E131, e131(7, u7, { sequence: 1 }), 1);
    expect(l.shows.length).toBe(n0); // the frame ends in universe 8
    l.dg(PORT_E131, e131(8, u8, { sequence: 1 }), 2);
    expect(l.shows.length).toBe(n0 + 1);
    expect(l.last).toEqual(wire(px, "rgb"));
    const d0 = l.stat(C.STAT_PIXELS_DROPPED);
    l.dg(PORT_E131, e131(6, u8), 3); // another universe
    l.dg(PORT_E131, e131(15, u8), 3); // past the eight universes a frame may span
    l.dg(PORT_E131, e131(8, u8, { sequence: 1 }), 3); // sequence repeated
    l.dg(PORT_E131, e131(8, u8, { sequence: 250 }), 3); // sequence behind (within 20)
    l.dg(PORT_E131, e131(8, u8, { sequence: 2, options: 0x80 }), 3); // preview data
    l.dg(PORT_E131, e131(8, u8, { sequence: 3, startCode: 0xdd }), 3); // per-address priority, not DMX
    l.dg(PORT_E131, e131(8, u8, { sequence: 4, priority: 201 }), 3);
    expect(l.stat(C.STAT_PIXELS_DROPPED)).toBe(d0 + 7);
    l.dg(PORT_E131, e131(8, u8, { sequence: 200 }), 3); // 200 - 1: far enough ahead to be new
    expect(l.stat(C.STAT_PIXELS_DROPPED)).toBe(d0 + 7);
  });
});

describe("malformed and oversized datagrams are counted and dropped", () => {
  const l = () => new Lights(`${ALL}pixels_count=10`);

  it("every truncation of a DDP and an E1.31 datagram is dropped; WLED ones exactly when the format breaks", () => {
    const b = l();
    const cases: [number, Buffer][] = [
      [PORT_DDP, ddp(ramp(5).flat())],
      [PORT_DDP, ddp(ramp(5).flat(), { timecode: 7 })],
      [PORT_E131, e131(1, ramp(5).flat(), { sequence: 0 })],
    ];
    for (const [port, d] of cases) {
      for (let n = 0; n < d.length; n++) {
        const [f, x] = counts(b);
        b.dg(port, d.subarray(0, n), 1);
        expect(counts(b), `port ${port} cut at ${n}`).toEqual([f, x + 1]);
      }
    }
    const formats: [number, number, number][] = [[WARLS, 2, 4], [DRGB, 2, 3], [DRGBW, 2, 4], [DNRGB, 4, 3]]; // header, stride
    for (const [proto, h, stride] of formats) {
      const d = wled(proto, 1, proto === WARLS ? [[1, 2, 3, 4], [2, 5, 6, 7]] as [number, ...Rgb][] : ramp(3), 0);
      for (let n = 0; n < d.length; n++) {
        const [f, x] = counts(b);
        b.dg(PORT_WLED, d.subarray(0, n), 1);
        const valid = n >= h && (n - h) % stride === 0;
        expect(counts(b), `WLED ${proto} cut at ${n}`).toEqual(valid ? [f + 1, x] : [f, x + 1]);
      }
    }
  });

  it("a wrong byte in any fixed field of the E1.31 root, framing or DMP layer, or a wrong length, is dropped", () => {
    const b = l();
    const good = e131(1, ramp(10).flat(), { sequence: 0 });
    const fixed = [...Array(16).keys(), 16, 17, 18, 19, 20, 21, 38, 39, 40, 41, 42, 43, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125];
    let seq = 1;
    for (const at of fixed) {
      for (const flip of [0x01, 0x80]) {
        const d = Buffer.from(good);
        d[111] = seq++ & 255;
        d[at] ^= flip;
        const [f, x] = counts(b);
        b.dg(PORT_E131, d, 1);
        expect(counts(b), `byte ${at} ^ ${flip}`).toEqual([f, x + 1]);
      }
    }
    const d = Buffer.from(good);
    d[111] = seq & 255;
    b.dg(PORT_E131, d, 1);
    expect(b.last).toEqual(wire(ramp(10)));
  });

  it("oversized: more pixels than a format holds, more than 512 slots, unknown WLED protocols", () => {
    const b = l();
    const [f, x] = counts(b);
    b.dg(PORT_WLED, wled(DRGB, 1, ramp(491)), 1);
    b.dg(PORT_WLED, wled(DNRGB, 1, ramp(490)), 1);
    b.dg(PORT_WLED, wled(DRGBW, 1, ramp(368) as unknown as Rgb[]), 1);
    b.dg(PORT_WLED, wled(WARLS, 1, Array.from({ length: 256 }, (_, i) => [i & 255, 1, 2, 3]) as [number, ...Rgb][]), 1);
    b.dg(PORT_WLED, Buffer.from([0, 1, 2, 3]), 1); // WLED's notifier
    b.dg(PORT_WLED, Buffer.from([5, 1, 0, 0, 1, 2]), 1); // DNRGBW? not in this core
    b.dg(PORT_E131, e131(1, new Uint8Array(513)), 1);
    expect(counts(b)).toEqual([f, x + 7]);
    b.dg(PORT_WLED, wled(DRGB, 1, ramp(490)), 1); // the largest of each is fine
    b.dg(PORT_E131, e131(1, new Uint8Array(512), { sequence: 9 }), 1);
    expect(counts(b)).toEqual([f + 2, x + 7]);
  });

  it("the heap top never moves while datagrams arrive", () => {
    const b = new Lights(`${ALL}pixels_count=170`);
    const top = b.stat(C.STAT_HEAP_TOP);
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
    for (let i = 0; i < 400; i++) {
      const d = [wled(DRGB, 1, ramp(480 % (i + 1))), ddp(ramp(i % 480).flat(), { offset: (i % 7) * 3 }), e131(1, ramp(i % 170).flat(), { sequence: i })][i % 3];
      if (i % 5 === 0) d[rnd() % d.length] = rnd();
      b.dg([PORT_WLED, PORT_DDP, PORT_E131][i % 3], d, i);
    }
    expect(b.stat(C.STAT_HEAP_TOP)).toBe(top);
    expect(b.stat(C.STAT_PIXELS_FRAMES) + b.stat(C.STAT_PIXELS_DROPPED)).toBeGreaterThan(380);
  });
});

describe("realtime timeout in virtual time: back to the board's colour", () => {
  const cfg = `${ALL}pixels_count=3\npixels_order=rgb\nrgb_source=fixed\nrgb=#102030\n`;
  const colour = wire(fill(3, [0x10, 0x20, 0x30]), "rgb");

  for (const start of [1000, 0xfffff000]) {
    it(`WLED's timeout byte: seconds, 255 stays, 0 ends it now (clock from ${start})`, () => {
      const l = new Lights(cfg, start);
      expect(l.last).toEqual(colour);
      l.dg(PORT_WLED, wled(DRGB, 2, fill(3, [255, 0, 0])), start);
      expect(l.tick(start + 1000)).toBe(1000); // the next deadline: the timeout
      l.tick(start + 1999);
      expect(l.stat(C.STAT_PIXELS_MODE)).toBe(1);
      l.tick(start + 2000);
      expect(l.stat(C.STAT_PIXELS_MODE)).toBe(0);
      expect(l.last).toEqual(colour);
      l.dg(PORT_WLED, wled(DRGB, 255, fill(3, [0, 255, 0])), start + 3000);
      l.tick(start + 3000 + 86_400_000);
      expect(l.stat(C.STAT_PIXELS_MODE)).toBe(1);
      expect(l.last).toEqual(wire(fill(3, [0, 255, 0]), "rgb"));
      l.dg(PORT_WLED, wled(DRGB, 0, fill(3, [0, 0, 255])), start + 4000); // 0: back to normal, data ignored
      expect(l.stat(C.STAT_PIXELS_MODE)).toBe(0);
      expect(l.last).toEqual(colour);
    });
  }

  it("DDP and E1.31 hold for 2.5 s; E1.31's stream-terminated option ends it at once", () => {
    const l = new Lights(cfg, 0);
    l.dg(PORT_DDP, ddp(ramp(3).flat()), 100);
    l.tick(2599);
    expect(l.stat(C.STAT_PIXELS_MODE)).toBe(2);
    l.tick(2600);
    expect(l.stat(C.STAT_PIXELS_MODE)).toBe(0);
    l.dg(PORT_E131, e131(1, ramp(3).flat(), { sequence: 1 }), 3000);
    expect(l.stat(C.STAT_PIXELS_MODE)).toBe(3);
    l.dg(PORT_E131, e131(1, ramp(3).flat(), { sequence: 2, options: 0x40 }), 3001);
    expect(l.stat(C.STAT_PIXELS_MODE)).toBe(0);
    expect(l.last).toEqual(colour);
  });
});

describe("configuration and get_pixels", () => {
  it("refuses pixels_count past its limit, unknown orders and listeners, with the line number", () => {
    for (const [bad, why] of [
      ["pixels_count=1001", /config line 2: expected a whole number.*allowed: 0 to 1000/],
      ["pixels_order=rgbw", /config line 2: expected r, g and b in wire order/],
      ["pixels_order=rrb", /config line 2: expected r, g and b in wire order/],
      ["lights=wled,artnet", /config line 2: expected off or some of wled,ddp,e131/],
      ["pixels_pin=29", /allowed: 0 to 28/],
      ["e131_universe=0", /allowed: 1 to 63999/],
    ] as const) {
      const h = new FakeHost();
      expect(() => h.start(`http_port=0\n${bad}`), bad).toThrow(why);
    }
  });

  it("refuses a strip that does not fit the core's memory beside its connection slots, saying how much", () => {
    const h = new FakeHost();
    h.overrides = { udp_open: () => 3 };
    expect(() => h.start("http_port=0\ncontrol_port=0\nmax_conns=10\npixels_count=1000")).toThrow(/lights: no memory left for pixels_count: bytes needed 6000/);
  });

  it("get_pixels: the frame as received (before gamma and brightness), paged with from/next", () => {
    const l = new Lights("lights=ddp\nhttp_port=0\ncontrol_port=12345\ncontrol_insecure=1\npixels_count=300\nbrightness=10");
    const px = ramp(300, 3);
    l.dg(PORT_DDP, ddp(px.flat()), 1);
    let got = "";
    let from = 0;
    let pages = 0;
    for (; pages < 20; pages++) {
      const r = l.command({ action: "get_pixels", ...(from ? { from } : {}) });
      expect(r.count).toBe(300);
      expect(r.mode).toBe(2);
      got += r.pixels;
      if (r.next === undefined) break;
      expect(r.next).toBe(from + r.pixels.length / 6);
      from = r.next;
    }
    expect(pages).toBeGreaterThan(0); // it took several replies
    expect(got).toBe(Buffer.from(px.flat()).toString("hex"));
    expect(l.command({ action: "list_actions" }).actions).toContain("get_pixels");
  });
});

// ---- on real loopback sockets ----------------------------------------------------------------------
const stat = (b: TestBoard, k: number) => b.core.exports.stat(k);

nodeOnly("reads frames from the Node host's Hardware (hw.pixels)").describe("a virtual board over real UDP", () => {
  it("WLED, DDP and E1.31 from the sender reach pixels_show", async () => {
    const b = await startBoard(`${ALL}pixels_count=8\npixels_pin=16`, { host: "127.0.60.1" });
    await waitFor(() => b.hw.pixels !== null, "the first frame (the board's colour)");
    const px = ramp(8, 1);
    await send("127.0.60.1", PORT_WLED, [wled(DRGB, 1, px)]);
    await waitFor(() => stat(b, C.STAT_PIXELS_MODE) === 1, "the WLED frame");
    expect([...b.hw.pixels!.bytes]).toEqual(wire(px));
    expect(b.hw.pixels!.pin).toBe(16);
    await send("127.0.60.1", PORT_DDP, [ddp(ramp(8, 2).flat())]);
    await waitFor(() => stat(b, C.STAT_PIXELS_MODE) === 2, "the DDP frame");
    expect([...b.hw.pixels!.bytes]).toEqual(wire(ramp(8, 2)));
    await send("127.0.60.1", PORT_E131, [e131(1, ramp(8, 3).flat())]);
    await waitFor(() => stat(b, C.STAT_PIXELS_MODE) === 3, "the E1.31 frame");
    expect([...b.hw.pixels!.bytes]).toEqual(wire(ramp(8, 3)));
    expect(stat(b, C.STAT_PIXELS_DROPPED)).toBe(0);
  });
});

/** In-process boards on 127.0.NET.1..n forming one bus, each with its segment of a strip. */
async function lightBus(net: number, n: number, extra: (i: number) => string): Promise<TestBoard[]> {
  const hosts = Array.from({ length: n }, (_, i) => `127.0.${net}.${i + 1}`);
  const port = 5800 + net;
  const boards: TestBoard[] = [];
  for (const [i, host] of hosts.entries()) {
    boards.push(await startBoard(
      `bus=1\nbus_port=${port}\nbus_msg_port=${port + 100}\nbus_peers=${hosts.join(",")}\nhttp_port=0\n` +
        `bus_heartbeat_ms=50\nbus_election_ms=300\nbus_dead_ms=800\n${extra(i)}`,
      { host, name: host },
    ));
  }
  return boards;
}
const masterOf = (bs: TestBoard[]) => bs.find((b) => stat(b, C.STAT_BUS_ROLE) === C.BUS_ROLE_MASTER);
const agreed = (bs: TestBoard[]) => bs.filter((b) => stat(b, C.STAT_BUS_ROLE) === C.BUS_ROLE_MASTER).length === 1 && bs.every((b) => stat(b, C.STAT_BUS_MEMBERS) === bs.length);

nodeOnly("reads frames and bus state in-process").describe("fan-out across the bus", () => {
  it("the master forwards a frame; each worker shows its own segment (pixels_offset)", async () => {
    // every board has the same settings but its offset: whichever becomes master feeds the others
    const bs = await lightBus(62, 3, (i) => `control_port=0\nlights=wled,ddp,e131\npixels_count=4\npixels_order=rgb\npixels_offset=${i * 4}\nkey=lights-bus-key-0123456789`);
    await waitFor(() => agreed(bs), "one master", 8000);
    const m = masterOf(bs)!;
    const px = ramp(12, 5);
    await send(m.host, PORT_DDP, [ddp(px.flat())]);
    await waitFor(() => bs.every((b) => stat(b, C.STAT_PIXELS_MODE) !== 0), "every board showing the frame", 5000);
    for (const [i, b] of bs.entries()) {
      expect([...b.hw.pixels!.bytes], b.name).toEqual(wire(px.slice(i * 4, i * 4 + 4), "rgb"));
      expect(stat(b, C.STAT_PIXELS_MODE)).toBe(b === m ? 2 : 4);
    }
    // a 480-pixel frame takes two bus datagrams (at most 473 pixels each)
    const big = ramp(480, 9);
    let f0 = bs.map((b) => stat(b, C.STAT_PIXELS_FRAMES));
    await send(m.host, PORT_WLED, [wled(DRGB, 2, big)]);
    await waitFor(() => bs.every((b, i) => stat(b, C.STAT_PIXELS_FRAMES) === f0[i] + 1), "one frame everywhere", 5000);
    for (const [i, b] of bs.entries()) expect([...b.hw.pixels!.bytes], b.name).toEqual(wire(big.slice(i * 4, i * 4 + 4), "rgb"));
    // E1.31 over two universes: the master's 4 pixels end in the first; every universe goes on to the
    // workers, which show after each (their segment could lie in either)
    f0 = bs.map((b) => stat(b, C.STAT_PIXELS_FRAMES));
    await send(m.host, PORT_E131, [e131(1, ramp(170, 1).flat(), { sequence: 1 }), e131(2, ramp(170, 2).flat(), { sequence: 1 })]);
    await waitFor(() => bs.every((b, i) => stat(b, C.STAT_PIXELS_FRAMES) === f0[i] + (b === m ? 1 : 2)), "the universes everywhere", 5000);
    for (const [i, b] of bs.entries()) expect([...b.hw.pixels!.bytes], b.name).toEqual(wire(ramp(170, 1).slice(i * 4, i * 4 + 4), "rgb"));
    for (const b of bs) expect(stat(b, C.STAT_PIXELS_DROPPED), b.name).toBe(0);
  }, 20000);

  it("a worker drops frames older than the last it showed, and frames from a board that is not its master", async () => {
    const ctl = await freePort("127.0.63.1");
    const bs = await lightBus(63, 2, (i) => `control_port=${ctl}\ncontrol_insecure=1\npixels_count=2\npixels_order=rgb`);
    await waitFor(() => agreed(bs), "one master", 8000);
    const w = bs.find((b) => b !== masterOf(bs))!;
    const c = await Client.connect(w.host, ctl);
    const info = await c.command({ action: "get_bus" });
    c.close();
    const masterId = Buffer.from(info.members[0].id as string, "hex");
    const busId = Buffer.from(info.bus as string, "hex");
    // a T_PIXELS datagram as docs/PROTOCOL.md lays it out (no bus key on this bus)
    const frame = (seq: number, colour: Rgb, from = masterId) => {
      const d = Buffer.alloc(24 + 13 + 6);
      d.write("PW", 0, "latin1");
      d[2] = 1;
      d[3] = 8;
      busId.copy(d, 4);
      d.writeUInt32LE(info.term, 12);
      from.copy(d, 16);
      d.writeUInt32LE(seq, 24);
      d.writeUInt32LE(5000, 28); // hold 5 s
      d.writeUInt16LE(0, 32); // first pixel
      d.writeUInt16LE(2, 34); // pixels
      d[36] = 1; // show
      for (let i = 0; i < 2; i++) Buffer.from(colour).copy(d, 37 + i * 3);
      return d;
    };
    const port = 5800 + 63;
    const f0 = stat(w, C.STAT_PIXELS_FRAMES);
    await send(w.host, port, [frame(100, [1, 2, 3])]);
    await waitFor(() => stat(w, C.STAT_PIXELS_FRAMES) === f0 + 1, "frame 100");
    const d0 = stat(w, C.STAT_PIXELS_DROPPED);
    await send(w.host, port, [frame(99, [9, 9, 9]), frame(101, [7, 7, 7], Buffer.alloc(8, 0x55))]);
    await waitFor(() => stat(w, C.STAT_PIXELS_DROPPED) === d0 + 2, "the late frame and the stranger's dropped");
    expect([...w.hw.pixels!.bytes]).toEqual(wire(fill(2, [1, 2, 3]), "rgb"));
    await send(w.host, port, [frame(101, [4, 5, 6])]);
    await waitFor(() => stat(w, C.STAT_PIXELS_FRAMES) === f0 + 2, "frame 101");
    expect([...w.hw.pixels!.bytes]).toEqual(wire(fill(2, [4, 5, 6]), "rgb"));
    expect(stat(w, C.STAT_PIXELS_MODE)).toBe(4);
  }, 20000);
});

describe("picowire node --pixels", () => {
  it("prints a compact line for the frames a sender lights", async () => {
    const p = picowire(["node", "--role", "rgb-server", "--host", "127.0.60.3", "--http-port", "0", "--control-port", "0", "--pixels", "3@5", "--source", "fixed", "--rgb", "#000000"]);
    await p.waitFor(/running/);
    await send("127.0.60.3", PORT_DDP, [ddp([255, 0, 0, 0, 255, 0, 0, 0, 255])]);
    // GRB on the wire: red is 00ff00
    const out = await p.waitFor(/pixels GP5 3 px: 00ff00 ff0000 0000ff/);
    expect(out).toMatch(/pixels GP5 3 px: 000000 000000 000000/); // the board's colour at start
  }, 20000);
});
