// WebSocket frames built and read by hand (RFC 6455 5.2), and a core driven directly through its
// exports with an upgraded /echo connection: the harness of the conformance and differential tests.
import { randomBytes } from "node:crypto";
import { C } from "../../tools/host/abi.generated.ts";
import { FakeHost } from "./core.ts";

export interface FrameSpec {
  opcode: number;
  payload: Uint8Array;
  fin?: boolean;
  rsv?: number; // 3 bits
  mask?: boolean; // default true (client frames)
  lengthBytes?: 0 | 2 | 8; // force an encoding of the length
  mask32?: Uint8Array;
}

export function frame(f: FrameSpec): Uint8Array {
  const n = f.payload.length;
  const enc = f.lengthBytes ?? (n < 126 ? 0 : n < 65536 ? 2 : 8);
  const masked = f.mask ?? true;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  if (enc === 0) head.push((masked ? 0x80 : 0) | n);
  else if (enc === 2) head.push((masked ? 0x80 : 0) | 126, n >> 8, n & 255);
  else {
    head.push((masked ? 0x80 : 0) | 127);
    const big = BigInt(n);
    for (let i = 7; i >= 0; i--) head.push(Number((big >> BigInt(8 * i)) & 255n));
  }
  const key = f.mask32 ?? randomBytes(4);
  const body = Uint8Array.from(f.payload, (b, i) => (masked ? b ^ key[i & 3] : b));
  return Buffer.concat([Buffer.from(head), masked ? Buffer.from(key) : Buffer.alloc(0), Buffer.from(body)]);
}

export const text = (s: string, fin = true) => frame({ opcode: 1, payload: Buffer.from(s), fin });
export const closeFrame = (code?: number, reason: Uint8Array = new Uint8Array()) =>
  frame({ opcode: 8, payload: code === undefined ? new Uint8Array() : Buffer.concat([Buffer.from([code >> 8, code & 255]), reason]) });

export interface Parsed {
  opcode: number;
  fin: boolean;
  masked: boolean;
  payload: Uint8Array;
}

/** Reads frames off a byte stream; `rest` is an incomplete tail. */
export function parseFrames(bytes: Uint8Array): { frames: Parsed[]; rest: number } {
  const frames: Parsed[] = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const b0 = bytes[i], b1 = bytes[i + 1];
    let len = b1 & 127;
    let o = i + 2;
    if (len === 126) {
      if (o + 2 > bytes.length) break;
      len = (bytes[o] << 8) | bytes[o + 1];
      o += 2;
    } else if (len === 127) {
      if (o + 8 > bytes.length) break;
      len = Number(Buffer.from(bytes.subarray(o, o + 8)).readBigUInt64BE());
      o += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const key = masked ? bytes.subarray(o, o + 4) : null;
    if (masked) o += 4;
    if (o + len > bytes.length) break;
    const payload = Uint8Array.from(bytes.subarray(o, o + len), (b, k) => (key ? b ^ key[k & 3] : b));
    frames.push({ opcode: b0 & 15, fin: (b0 & 0x80) !== 0, masked, payload });
    i = o + len;
  }
  return { frames, rest: bytes.length - i };
}

export interface Outcome {
  messages: { binary: boolean; data: string }[];
  /** Text the echo streamed out before the message's end showed it was not UTF-8 (then 1007 follows). */
  invalidText: number;
  pongs: string[];
  close: number | null; // code of the server's close frame (0: close without code)
  tcpClosed: boolean;
}

/** What the server sent, as messages (fragments joined), pongs and its close code. */
export function outcome(bytes: Uint8Array, tcpClosed: boolean): Outcome {
  const { frames } = parseFrames(bytes);
  const out: Outcome = { messages: [], invalidText: 0, pongs: [], close: null, tcpClosed };
  const strict = new TextDecoder("utf-8", { fatal: true });
  let parts: Uint8Array[] = [];
  let binary = false;
  for (const f of frames) {
    if (f.opcode === 10) out.pongs.push(Buffer.from(f.payload).toString("latin1"));
    else if (f.opcode === 8) out.close = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : 0;
    else if (f.opcode === 1 || f.opcode === 2 || f.opcode === 0) {
      if (f.opcode !== 0) (binary = f.opcode === 2), (parts = []);
      parts.push(f.payload);
      if (!f.fin) continue;
      const all = Buffer.concat(parts);
      if (binary) out.messages.push({ binary, data: all.toString("hex") });
      else {
        try {
          out.messages.push({ binary, data: strict.decode(all) });
        } catch {
          out.invalidText++;
        }
      }
    }
  }
  return out;
}

export const RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
export const RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; // RFC 6455 section 1.3

export function upgradeRequest(extra = "", key = RFC_KEY, path = "/echo"): string {
  return `GET ${path} HTTP/1.1\r\nHost: board\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** A core with an upgraded /echo connection (handle 7), fed and read directly. */
export class EchoSession {
  readonly host = new FakeHost();
  readonly conn = 7;
  now = 1000;
  head = "";

  constructor(config = "", opts: { window?: number; echo?: boolean } = {}) {
    if (opts.window !== undefined) this.host.sendWindow = (_c, len) => Math.min(len, opts.window!);
    this.host.start(`http_port=80\nws_echo=${opts.echo === false ? 0 : 1}\n${config}`, this.now);
    if (this.host.core.exports.tcp_accepted(1, this.conn, 0x7f000001, 5000, this.now) !== C.OK) throw new Error("not accepted");
  }

  /** Sends the upgrade request; returns the response head. */
  open(request = upgradeRequest()): string {
    this.feed(Buffer.from(request));
    const all = this.host.sentText(this.conn);
    const end = all.indexOf("\r\n\r\n");
    this.head = end < 0 ? all : all.slice(0, end + 4);
    return this.head;
  }

  /** Feeds bytes in io-buffer sized pieces, re-offering what the core did not consume (as a host does),
   *  with `split` choosing extra cut points. Returns false if the core stopped consuming. */
  feed(bytes: Uint8Array, split: (remaining: number) => number = (r) => r): boolean {
    let at = 0;
    let stalls = 0;
    while (at < bytes.length && !this.gone()) {
      const n = Math.max(1, Math.min(split(bytes.length - at), C.IO_CAPACITY, bytes.length - at));
      const used = this.host.data(this.conn, bytes.subarray(at, at + n), this.now);
      at += used;
      if (used < n) {
        // the core is waiting for its send queue: drain it, as tcp_sent would
        if (++stalls > 100_000) return false;
        this.host.core.exports.tcp_sent(this.conn, 1 << 20, this.now);
      }
    }
    return true;
  }

  tick(ms: number): void {
    this.now = (this.now + ms) >>> 0;
    this.host.core.exports.tick(this.now);
  }

  gone(): boolean {
    return this.host.closed.has(this.conn) || this.host.aborted.has(this.conn);
  }

  /** Everything the server sent after the 101. */
  frames(): Uint8Array {
    return Uint8Array.from(this.host.sent.get(this.conn) ?? []).subarray(Buffer.byteLength(this.head, "latin1"));
  }

  outcome(): Outcome {
    return outcome(this.frames(), this.gone());
  }
}
