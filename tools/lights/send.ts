// A small realtime-light sender written from the protocol specifications, independent of the core:
// WLED's UDP realtime formats (kno.wled.ge/interfaces/udp-realtime), DDP (3waylabs.com/ddp) and
// E1.31/sACN data packets (ANSI E1.31-2018, section 4 and tables 4-1..4-3). Tests and the bench use it;
// `npx tsx tools/lights/send.ts HOST ddp|drgb|e131 '#rrggbb' [pixels]` lights a board from a shell.
import dgram from "node:dgram";

export const PORT_WLED = 21324;
export const PORT_DDP = 4048;
export const PORT_E131 = 5568;

export type Rgb = [number, number, number];
export const WARLS = 1;
export const DRGB = 2;
export const DRGBW = 3;
export const DNRGB = 4;

/** WLED realtime: byte 0 protocol, byte 1 timeout in seconds (255: stay), then the pixels. */
export function wled(protocol: number, timeoutS: number, pixels: Rgb[] | [number, ...Rgb][], start = 0): Buffer {
  const head = protocol === DNRGB ? [protocol, timeoutS, start >> 8, start & 255] : [protocol, timeoutS];
  const body: number[] = [];
  for (const p of pixels as number[][]) {
    if (protocol === WARLS) body.push(p[0], p[1], p[2], p[3]); // index, r, g, b
    else if (protocol === DRGBW) body.push(p[0], p[1], p[2], p[3] ?? 0); // r, g, b, w
    else body.push(p[0], p[1], p[2]);
  }
  return Buffer.from([...head, ...body]);
}

export interface DdpOptions {
  offset?: number; // bytes
  push?: boolean; // default true
  sequence?: number; // 0..15; 0: not used
  type?: number; // default 0x0b: RGB, 8 bits per channel
  destination?: number; // default 1: the default output device
  timecode?: number; // present: the T flag and 4 bytes after the header
  version?: number; // default 1
  query?: boolean;
  reply?: boolean;
}

/** DDP: flags (VV x T S R Q P), sequence, data type, destination id, offset u32 and length u16 (both
 *  most significant byte first), [timecode u32], data. */
export function ddp(data: Uint8Array | number[], o: DdpOptions = {}): Buffer {
  const t = o.timecode !== undefined;
  const flags = ((o.version ?? 1) << 6) | (t ? 0x10 : 0) | (o.reply ? 4 : 0) | (o.query ? 2 : 0) | (o.push === false ? 0 : 1);
  const h = Buffer.alloc(t ? 14 : 10);
  h[0] = flags;
  h[1] = (o.sequence ?? 0) & 15;
  h[2] = o.type ?? 0x0b;
  h[3] = o.destination ?? 1;
  h.writeUInt32BE(o.offset ?? 0, 4);
  h.writeUInt16BE(data.length, 8);
  if (t) h.writeUInt32BE(o.timecode!, 10);
  return Buffer.concat([h, Buffer.from(data)]);
}

export interface E131Options {
  sequence?: number;
  priority?: number; // default 100
  options?: number; // bit 7 preview data, bit 6 stream terminated, bit 5 force synchronization
  sourceName?: string;
  cid?: Uint8Array; // 16 bytes
  startCode?: number; // default 0 (DMX512 null start code)
  syncAddress?: number;
}

const ACN_ID = [0x41, 0x53, 0x43, 0x2d, 0x45, 0x31, 0x2e, 0x31, 0x37, 0x00, 0x00, 0x00]; // "ASC-E1.17\0\0\0"

/** An E1.31 data packet: root layer (preamble 0x0010, post-amble 0, ACN packet identifier, flags and
 *  length, vector 0x00000004, CID), framing layer (flags and length, vector 0x00000002, source name,
 *  priority, sync address, sequence, options, universe), DMP layer (flags and length, vector 0x02,
 *  address and data type 0xa1, first address 0, increment 1, count, start code, slots). */
export function e131(universe: number, slots: Uint8Array | number[], o: E131Options = {}): Buffer {
  const n = 126 + slots.length;
  const b = Buffer.alloc(n);
  b.writeUInt16BE(0x0010, 0);
  b.writeUInt16BE(0x0000, 2);
  Buffer.from(ACN_ID).copy(b, 4);
  b.writeUInt16BE(0x7000 | (n - 16), 16);
  b.writeUInt32BE(0x00000004, 18);
  Buffer.from(o.cid ?? Array.from({ length: 16 }, (_, i) => 0xa0 + i)).copy(b, 22);
  b.writeUInt16BE(0x7000 | (n - 38), 38);
  b.writeUInt32BE(0x00000002, 40);
  b.write((o.sourceName ?? "picowire test").slice(0, 63), 44, "utf8");
  b[108] = o.priority ?? 100;
  b.writeUInt16BE(o.syncAddress ?? 0, 109);
  b[111] = (o.sequence ?? 0) & 255;
  b[112] = o.options ?? 0;
  b.writeUInt16BE(universe, 113);
  b.writeUInt16BE(0x7000 | (n - 115), 115);
  b[117] = 0x02;
  b[118] = 0xa1;
  b.writeUInt16BE(0x0000, 119);
  b.writeUInt16BE(0x0001, 121);
  b.writeUInt16BE(slots.length + 1, 123);
  b[125] = o.startCode ?? 0;
  Buffer.from(slots).copy(b, 126);
  return b;
}

/** Sends each datagram to host:port from an ephemeral loopback socket, one after another. */
export async function send(host: string, port: number, datagrams: Uint8Array[]): Promise<void> {
  const s = dgram.createSocket("udp4");
  try {
    for (const d of datagrams) await new Promise<void>((ok, fail) => s.send(d, port, host, (e) => (e ? fail(e) : ok())));
  } finally {
    s.close();
  }
}

function hex(c: string): Rgb {
  const m = /^#?([0-9a-f]{6})$/i.exec(c);
  if (!m) throw new Error(`colour: expected #rrggbb, not ${c}`);
  const v = parseInt(m[1], 16);
  return [v >> 16, (v >> 8) & 255, v & 255];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [host, kind, colour, count] = process.argv.slice(2);
  if (!host || !kind || !colour) {
    console.error("usage: tsx tools/lights/send.ts HOST ddp|drgb|e131 '#rrggbb' [pixels=30]");
    process.exit(2);
  }
  const px = Array.from({ length: Number(count ?? 30) }, () => hex(colour));
  const flat = px.flat();
  const d = kind === "ddp" ? [ddp(flat)] : kind === "e131" ? [e131(1, flat)] : [wled(DRGB, 5, px)];
  await send(host, kind === "ddp" ? PORT_DDP : kind === "e131" ? PORT_E131 : PORT_WLED, d);
}
