// WebSocket receive path: the core's frame parser + unmask on V8 against the `ws` library's Receiver
// (pure JS here: no bufferutil), both fed the same pre-built masked client frames, binary messages of
// 16 B to 1 MiB. The core runs without sockets behind a minimal fake host and pays what a host pays:
// every TCP segment (1460 bytes, the MSS) is copied into the io buffer before tcp_data, and tcp_data's
// return value (bytes consumed) is respected. Its /echo endpoint streams each frame back as it parses,
// so its figures always include building the echo header and the tcp_send calls; the second
// comparison per size also copies those bytes out of wasm memory, against ws Receiver + Sender.frame().
// One op is one payload byte, so measure.ts prints MB/s; wsReport() adds messages/s.
import { createRequire } from "node:module";
import { C, IMPORT_NAMES, type HostImports } from "../host/abi.generated.ts";
import { Core, compileCore } from "../host/core.ts";
import type { Candidate, Comparison } from "./measure.ts";

const require = createRequire(import.meta.url);
const { Receiver, Sender } = require("ws") as { Receiver: any; Sender: any };

const MSS = 1460;
const LISTENER = 1;
const CONN = 7;
const NOW = 1000;
const SIZES = [16, 1024, 64 * 1024, 1024 * 1024];
/** Payload bytes per timed run of each candidate (a whole number of passes over the pre-built stream). */
const RUN_BYTES: Record<number, number> = { 16: 4 << 20, 1024: 32 << 20, [64 * 1024]: 64 << 20, [1024 * 1024]: 64 << 20 };
/** Messages in one pre-built stream. */
const PASS_MESSAGES: Record<number, number> = { 16: 4096, 1024: 256, [64 * 1024]: 16, [1024 * 1024]: 4 };
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; // RFC 6455 1.3

export interface WsComparison extends Comparison {
  /** Payload bytes per message (ops are payload bytes). */
  messageBytes: number;
}

// ---- frames -------------------------------------------------------------------------------------

function headerLen(n: number, masked: boolean): number {
  return (n < 126 ? 2 : n < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** A masked client frame (RFC 6455 5.2). */
function clientFrame(opcode: number, payload: Uint8Array, mask: number): Buffer {
  const n = payload.length;
  const h = headerLen(n, true);
  const f = Buffer.alloc(h + n);
  f[0] = 0x80 | opcode;
  if (n < 126) f[1] = 0x80 | n;
  else if (n < 65536) (f[1] = 0x80 | 126), f.writeUInt16BE(n, 2);
  else (f[1] = 0x80 | 127), f.writeBigUInt64BE(BigInt(n), 2);
  f.writeUInt32BE(mask >>> 0, h - 4);
  for (let i = 0; i < n; i++) f[h + i] = payload[i] ^ f[h - 4 + (i & 3)];
  return f;
}

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 13 + (i >> 8)) & 255;
  return b;
}

interface Stream {
  size: number;
  messages: number;
  payloads: Buffer[];
  wire: Buffer;
  /** Bytes the server's echo of one pass is: unmasked headers + payloads. */
  echoBytes: number;
}

function buildStream(size: number, messages: number): Stream {
  const payloads = Array.from({ length: messages }, (_, k) => pattern(size, k));
  const frames = payloads.map((p, k) => clientFrame(2, p, (Math.imul(k + 1, 0x9e3779b1) | 0x01010101) >>> 0));
  return { size, messages, payloads, wire: Buffer.concat(frames), echoBytes: messages * (headerLen(size, false) + size) };
}

/** Segments of `bytes` at most `seg` long (views, no copies). */
function segments(bytes: Buffer, seg: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += seg) out.push(bytes.subarray(i, Math.min(bytes.length, i + seg)));
  return out;
}

/** Server frames off a byte stream: opcode, fin, masked, payload. */
function parseServerFrames(b: Uint8Array): { op: number; fin: boolean; masked: boolean; payload: Uint8Array }[] {
  const out = [];
  let i = 0;
  while (i + 2 <= b.length) {
    let len = b[i + 1] & 127;
    let o = i + 2;
    if (len === 126) (len = (b[o] << 8) | b[o + 1]), (o += 2);
    else if (len === 127) (len = Number(Buffer.from(b.subarray(o, o + 8)).readBigUInt64BE())), (o += 8);
    const masked = (b[i + 1] & 0x80) !== 0;
    if (masked) o += 4;
    if (o + len > b.length) break;
    out.push({ op: b[i] & 15, fin: (b[i] & 0x80) !== 0, masked, payload: b.subarray(o, o + len) });
    i = o + len;
  }
  return out;
}

// ---- the core behind a minimal fake host --------------------------------------------------------

type SendMode = "count" | "copy" | "capture";

class CoreEcho {
  readonly core: Core;
  private readonly mem: Uint8Array;
  private readonly io: number;
  private readonly data: (conn: number, len: number, now: number) => number;
  /** Bytes the core handed to tcp_send for the connection. */
  sent = 0;
  mode: SendMode = "capture";
  captured: Uint8Array[] = [];
  private readonly sink = new Uint8Array(1 << 16);
  private readonly logs: string[] = [];

  constructor(module: WebAssembly.Module) {
    const base: Partial<HostImports> = {
      log: (_level, p, n) => void this.logs.push(this.core.text(p, n)),
      random_fill: (p, n) => this.core.write(p, new Uint8Array(n).fill(0x5a)),
      xor_mask: (p, n, mask) => this.core.xorMask(p, n, mask),
      tcp_listen: () => LISTENER,
      tcp_send: (conn, p, n) => {
        if (conn !== CONN) return n;
        this.sent += n;
        if (this.mode === "copy") {
          if (n > this.sink.length) throw new Error(`tcp_send of ${n} bytes exceeds the bench sink`);
          this.sink.set(this.mem.subarray(p, p + n));
        } else if (this.mode === "capture") this.captured.push(this.mem.slice(p, p + n));
        return n;
      },
    };
    const imports: Record<string, (...a: number[]) => number | void> = {};
    for (const name of IMPORT_NAMES) imports[name] = (base as any)[name] ?? (() => C.OK);
    this.core = new Core(module, imports as unknown as HostImports);
    this.mem = this.core.bytes();
    this.io = this.core.io;
    this.data = this.core.exports.tcp_data;
    const config = Buffer.from("http_port=80\nws_echo=1\nws_max_message=2000000");
    this.mem.set(config, this.io);
    const r = this.core.exports.init(config.length, NOW);
    if (r !== C.OK) throw new Error(`core init failed (${r}): ${this.logs.join(" | ")}`);
    if (this.core.exports.tcp_accepted(LISTENER, CONN, 0x7f000001, 50000, NOW) !== C.OK) throw new Error(`core refused the connection: ${this.logs.join(" | ")}`);
    this.feed(segments(Buffer.from(`GET /echo HTTP/1.1\r\nHost: board\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`), MSS));
    const head = Buffer.concat(this.captured).toString("latin1");
    if (!head.startsWith("HTTP/1.1 101 ") || !head.includes(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`) || !head.endsWith("\r\n\r\n")) {
      throw new Error(`core did not switch to WebSocket: ${JSON.stringify(head.slice(0, 200))} ${this.logs.join(" | ")}`);
    }
    this.captured = [];
    this.sent = 0;
  }

  /** Offers each segment as a host does: copy into the io buffer (at most IO_CAPACITY), tcp_data, re-offer
   *  what was not consumed. The fake host accepts every send, so a stall means a broken path. */
  feed(segs: Uint8Array[]): void {
    const mem = this.mem, io = this.io, data = this.data;
    for (let s = 0; s < segs.length; s++) {
      const seg = segs[s];
      let at = 0;
      let stalls = 0;
      while (at < seg.length) {
        const n = Math.min(seg.length - at, C.IO_CAPACITY);
        mem.set(at === 0 && n === seg.length ? seg : seg.subarray(at, at + n), io);
        const used = data(CONN, n, NOW);
        if (used < 0) throw new Error(`tcp_data returned ${used}`);
        at += used;
        if (used < n) {
          if (++stalls > 3) throw new Error(`the core stopped consuming (${used} of ${n}): ${this.logs.join(" | ")}`);
          this.core.exports.tcp_sent(CONN, 1 << 20, NOW);
        }
      }
    }
  }
}

// ---- ws -----------------------------------------------------------------------------------------

function wsReceiver(onMessage: (data: Buffer, binary: boolean) => void): any {
  const r = new Receiver({ isServer: true, maxPayload: 2_000_000, binaryType: "nodebuffer" });
  r.on("message", onMessage);
  r.on("error", (e: Error) => {
    throw e;
  });
  return r;
}

const FRAME_OPTS = { fin: true, opcode: 2, mask: false, readOnly: true, rsv1: false };

// ---- check --------------------------------------------------------------------------------------

/** Feeds a few messages of every size (binary, and one text message with non-ASCII) through the core
 *  and ws, and compares the echo byte for byte. Throws if anything differs; returns a summary line. */
export function wsCheck(module: WebAssembly.Module): string {
  const core = new CoreEcho(module);
  const text = Buffer.from("héllo ✓ wörld — 𝄞".repeat(40));
  const messages: { op: number; payload: Buffer }[] = [{ op: 1, payload: text }];
  for (const size of SIZES) for (let k = 0; k < 3; k++) messages.push({ op: 2, payload: pattern(size, k + 1) });
  const wire = Buffer.concat(messages.map((m, k) => clientFrame(m.op, m.payload, (0xa1b2c3d4 + k * 0x01020304) >>> 0)));
  const expected = messages.reduce((a, m) => a + headerLen(m.payload.length, false) + m.payload.length, 0);
  core.feed(segments(wire, MSS));
  const out = Buffer.concat(core.captured);
  const frames = parseServerFrames(out);
  const bad = (why: string) => new Error(`ws bench check failed: ${why}`);
  if (core.sent !== expected || out.length !== expected) throw bad(`core echoed ${core.sent} bytes, expected ${expected}`);
  if (frames.length !== messages.length) throw bad(`core echoed ${frames.length} frames, expected ${messages.length}`);
  frames.forEach((f, k) => {
    if (f.op !== messages[k].op || !f.fin || f.masked || !Buffer.from(f.payload).equals(messages[k].payload)) throw bad(`echo of message ${k} (${messages[k].payload.length} B) differs`);
  });
  let wsGot = 0;
  const r = wsReceiver((d, binary) => {
    const m = messages[wsGot++];
    if (!m || binary !== (m.op === 2) || !d.equals(m.payload)) throw bad(`ws decoded message ${wsGot - 1} differently`);
  });
  for (const s of segments(Buffer.from(wire), MSS)) r.write(s);
  if (wsGot !== messages.length) throw bad(`ws decoded ${wsGot} of ${messages.length} messages`);
  return `ws check: core echoed ${messages.length} messages (16 B to 1 MiB, binary + non-ASCII text) fed in ${MSS}-byte segments: ${expected} bytes, byte-exact, unmasked FIN frames; ws Receiver decoded the same stream`;
}

// ---- comparisons --------------------------------------------------------------------------------

function label(size: number): string {
  return size >= 1 << 20 ? `${size >> 20} MiB` : size >= 1024 ? `${size >> 10} KiB` : `${size} B`;
}

export function wsComparisons(wasm: Uint8Array, opts: { quiet?: boolean } = {}): WsComparison[] {
  const module = compileCore(wasm);
  const check = wsCheck(module);
  if (!opts.quiet) console.log(check);
  const out: WsComparison[] = [];
  for (const size of SIZES) {
    const stream = buildStream(size, PASS_MESSAGES[size]);
    const passBytes = size * stream.messages;
    const runBytes = RUN_BYTES[size];
    if (runBytes % passBytes) throw new Error("run bytes must be whole passes");
    const passes = (n: number) => Math.max(1, Math.round(n / passBytes));
    // each candidate gets its own copy of the same bytes: ws unmasks in place where a frame lies within
    // one segment, so its copy alternates masked/unmasked payload between passes (the same work)
    const coreSegs = segments(Buffer.from(stream.wire), MSS);

    const coreRun = (mode: SendMode): Candidate["run"] => {
      const core = new CoreEcho(module);
      core.mode = mode;
      return (n) => {
        const p = passes(n);
        const before = core.sent;
        for (let i = 0; i < p; i++) core.feed(coreSegs);
        const echoed = core.sent - before;
        if (echoed !== p * stream.echoBytes) throw new Error(`core echoed ${echoed} bytes of ${size}-byte messages, expected ${p * stream.echoBytes}`);
        return echoed;
      };
    };

    const wsRun = (seg: number, echo: boolean): Candidate["run"] => {
      const segs = segments(Buffer.from(stream.wire), seg);
      let got = 0;
      let bytes = 0;
      const r = wsReceiver(
        echo
          ? (d, binary) => {
              const parts: Buffer[] = Sender.frame(d, { ...FRAME_OPTS, opcode: binary ? 2 : 1 });
              for (let i = 0; i < parts.length; i++) bytes += parts[i].length;
              got++;
            }
          : (d) => {
              bytes += d.length;
              got++;
            },
      );
      return (n) => {
        const p = passes(n);
        got = bytes = 0;
        for (let i = 0; i < p; i++) for (let k = 0; k < segs.length; k++) r.write(segs[k]);
        const want = echo ? p * stream.echoBytes : p * passBytes;
        if (got !== p * stream.messages || bytes !== want) throw new Error(`ws got ${got} messages / ${bytes} bytes, expected ${p * stream.messages} / ${want}`);
        return bytes;
      };
    };

    out.push({
      title: `WebSocket receive, ${label(size)} binary messages (parse + unmask; MB/s of payload; the core's figure includes its streaming echo's header + tcp_send calls, no copy out)`,
      unit: "B",
      ops: runBytes,
      messageBytes: size,
      candidates: [
        { name: `core on V8 (${MSS}-B segs, copy in)`, run: coreRun("count") },
        { name: "ws Receiver (64 KiB reads)", run: wsRun(65536, false) },
        { name: `ws Receiver (${MSS}-B segs)`, run: wsRun(MSS, false) },
      ],
    });
    out.push({
      title: `WebSocket echo path, ${label(size)} binary messages (parse + unmask + build the reply frame: the core's echo streams its frame out while parsing, so building is measured as part of it)`,
      unit: "B",
      ops: runBytes,
      messageBytes: size,
      candidates: [
        { name: `core on V8 (copy in + copy out)`, run: coreRun("copy") },
        { name: "ws Receiver+Sender.frame (64 KiB)", run: wsRun(65536, true) },
        { name: `ws Receiver+Sender.frame (${MSS}-B)`, run: wsRun(MSS, true) },
      ],
    });
  }
  return out;
}

/** Like measure.ts report(), with messages/s beside MB/s. */
export function wsReport(c: WsComparison, results: { name: string; opsPerSec: number }[]): string {
  const base = results[results.length - 1];
  const lines = [c.title];
  for (const r of results) {
    const ratio = r.opsPerSec / base.opsPerSec;
    const msgs = r.opsPerSec / c.messageBytes;
    const m = msgs >= 1e6 ? `${(msgs / 1e6).toFixed(2)} Mmsg/s` : msgs >= 1e3 ? `${(msgs / 1e3).toFixed(1)} kmsg/s` : `${msgs.toFixed(0)} msg/s`;
    lines.push(`  ${r.name.padEnd(36)} ${(r.opsPerSec / 1e6).toFixed(1).padStart(8)} MB/s ${m.padStart(14)}   ${ratio.toFixed(2)}x ${r === base ? "(baseline)" : ""}`);
  }
  return lines.join("\n");
}
