// A small DHCP (RFC 2131) message encoder and decoder for the tests, written from the RFC, independent
// of the core: BOOTP fixed header, the magic cookie, RFC 2132 options as code/length/value.
export const DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6, RELEASE = 7, INFORM = 8;
export const OPT = { mask: 1, router: 3, dns: 6, requested: 50, lease: 51, type: 53, serverId: 54, params: 55, clientId: 61 } as const;
export const COOKIE = [99, 130, 83, 99];

export interface DhcpMessage {
  op?: number; // 1 request, 2 reply
  htype?: number;
  hlen?: number;
  hops?: number;
  xid?: number;
  secs?: number;
  flags?: number; // 0x8000: broadcast
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  mac: string; // aa:bb:cc:dd:ee:ff
  /** Options in order: [code, bytes]. `type` is added first when given. */
  type?: number;
  options?: [number, number[]][];
  /** Bytes after the options instead of the end option (default [255]). */
  end?: number[];
  cookie?: number[];
}

export function ipBytes(ip: string): number[] {
  return ip.split(".").map(Number);
}

export function macBytes(mac: string): number[] {
  return mac.split(":").map((h) => parseInt(h, 16));
}

/** A client message as bytes. */
export function encode(m: DhcpMessage): Uint8Array {
  const b = new Uint8Array(240);
  const v = new DataView(b.buffer);
  b[0] = m.op ?? 1;
  b[1] = m.htype ?? 1;
  b[2] = m.hlen ?? 6;
  b[3] = m.hops ?? 0;
  v.setUint32(4, m.xid ?? 0x12345678);
  v.setUint16(8, m.secs ?? 0);
  v.setUint16(10, m.flags ?? 0);
  b.set(ipBytes(m.ciaddr ?? "0.0.0.0"), 12);
  b.set(ipBytes(m.yiaddr ?? "0.0.0.0"), 16);
  b.set(ipBytes(m.siaddr ?? "0.0.0.0"), 20);
  b.set(ipBytes(m.giaddr ?? "0.0.0.0"), 24);
  b.set(macBytes(m.mac), 28);
  b.set(m.cookie ?? COOKIE, 236);
  const opts: number[] = [];
  if (m.type !== undefined) opts.push(OPT.type, 1, m.type);
  for (const [code, val] of m.options ?? []) opts.push(code, val.length, ...val);
  opts.push(...(m.end ?? [255]));
  return Uint8Array.from([...b, ...opts]);
}

export interface Decoded {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  mac: string;
  cookieOk: boolean;
  type: number;
  options: Map<number, number[]>;
  /** Options in the order they appear. */
  order: number[];
  length: number;
}

const ip = (b: Uint8Array, at: number) => [...b.subarray(at, at + 4)].join(".");

/** A server message, strictly: throws on a bad option layout or a missing end option. */
export function decode(bytes: Uint8Array): Decoded {
  if (bytes.length < 241) throw new Error(`DHCP message too short: ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const options = new Map<number, number[]>();
  const order: number[] = [];
  let i = 240;
  for (;;) {
    if (i >= bytes.length) throw new Error("no end option");
    const c = bytes[i];
    if (c === 255) break;
    if (c === 0) {
      i++;
      continue;
    }
    const l = bytes[i + 1];
    if (i + 2 + l > bytes.length) throw new Error(`option ${c} overruns the message`);
    options.set(c, [...bytes.subarray(i + 2, i + 2 + l)]);
    order.push(c);
    i += 2 + l;
  }
  return {
    op: bytes[0], htype: bytes[1], hlen: bytes[2], hops: bytes[3], xid: v.getUint32(4), secs: v.getUint16(8),
    flags: v.getUint16(10), ciaddr: ip(bytes, 12), yiaddr: ip(bytes, 16), siaddr: ip(bytes, 20), giaddr: ip(bytes, 24),
    mac: [...bytes.subarray(28, 34)].map((x) => x.toString(16).padStart(2, "0")).join(":"),
    cookieOk: COOKIE.every((c, k) => bytes[236 + k] === c), type: options.get(OPT.type)?.[0] ?? 0, options, order,
    length: bytes.length,
  };
}

export function u32(bytes: number[] | undefined): number {
  if (!bytes || bytes.length !== 4) throw new Error(`expected 4 bytes, got ${JSON.stringify(bytes)}`);
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}
