// The Node twins of native/fuzz/target_control.c and target_bus.c: the same decoding of an input, so
// test/core/fuzz-corpus.test.ts replays their corpora and regressions on the Node host. A change to one
// side's decoding must be made on the other.
import { expect } from "vitest";
import { C } from "../../tools/host/abi.generated.ts";
import { hmac } from "../../tools/client.ts";
import { createHmac } from "node:crypto";
import { FakeHost } from "./core.ts";

export const FUZZ_KEY = "fuzzing-bus-key-0123456789";
const START = 0xffffff00;
const CONTROL_PORT = 12345;
const CONN = 7;
const STREAM_MAX = 1 << 16;

const mac = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHmac("sha256", FUZZ_KEY)).digest();

/** Delivery as fuzz_deliver: chunks, and what the core did not take re-offered after a drain. */
function deliver(host: FakeHost, conn: number, d: Uint8Array, chunk: number, now: number, reopen: () => void): void {
  let at = 0;
  for (let stalls = 0; at < d.length && stalls < 64; ) {
    const k = Math.min(chunk, d.length - at);
    const used = host.data(conn, d.subarray(at, at + k), now);
    expect(used).toBeLessThanOrEqual(k);
    at += used;
    if (used < k) {
      stalls++;
      reopen();
      host.core.exports.tcp_sent(conn, 1 << 20, now);
    }
  }
}

/** Input lines as target_control.c sends them: one ending in '}' signed with a seq and a MAC. */
function sessionStream(input: Buffer, nonce: string): Buffer {
  const replay = (input[1] & 0x10) !== 0;
  const out: Buffer[] = [];
  let size = 0;
  let seq = 1;
  let from = 2;
  for (let i = 2; i <= input.length; i++) {
    if (i < input.length && input[i] !== 10) continue;
    const line = input.subarray(from, i);
    const n = line.length;
    if (size + n + 128 <= STREAM_MAX) {
      let piece: Buffer;
      if (n < 2 || line[n - 1] !== 0x7d) piece = Buffer.concat([line, Buffer.from("\n")]);
      else {
        const text = Buffer.concat([line.subarray(0, n - 1), Buffer.from(`${line[n - 2] === 0x7b ? "" : ","}"seq":${seq >>> 0}`)]);
        const tag = mac(Buffer.from(nonce), text, Buffer.from("}")).toString("hex");
        piece = Buffer.concat([text, Buffer.from(`,"mac":"${tag}"}\n`)]);
      }
      out.push(piece);
      size += piece.length;
    }
    if (!replay) seq++;
    from = i + 1;
  }
  return Buffer.concat(out);
}

/** target_control.c: commands inside an authenticated control session. */
export function driveControl(input: Buffer): void {
  if (input.length < 2) return;
  const host = new FakeHost();
  host.overrides = { tcp_listen: (port) => port };
  const core = host.start(`http_port=0\ncontrol_port=${CONTROL_PORT}\nkey=${FUZZ_KEY}`, 1000);
  const heap = core.stat(C.STAT_HEAP_TOP);
  expect(core.exports.tcp_accepted(CONTROL_PORT, CONN, 0x7f000001, 4000, START)).toBe(C.OK);
  const nonce = /"challenge":"([0-9a-f]{32})"/.exec(host.sentText(CONN))![1];
  deliver(host, CONN, Buffer.from(`{"auth":"${hmac(FUZZ_KEY, `picowire-auth:${nonce}`)}"}\n`), C.IO_CAPACITY, START, () => {});
  expect(host.sentText(CONN)).toContain('"authenticated":true');
  let window = input[1] % 8 === 0 ? 3 : 1 << 30;
  host.sendWindow = (_c, n) => Math.min(n, window);
  let now = START;
  deliver(host, CONN, sessionStream(input, nonce), 1 + (input[0] % 97), now, () => (window = 1 << 30));
  core.exports.tick((now = (now + 200) >>> 0));
  core.exports.tcp_closed(CONN, C.TCP_FIN, now);
  for (let i = 0; i < 10; i++) core.exports.tick((now = (now + 200) >>> 0));
  expect(core.stat(C.STAT_HEAP_TOP)).toBe(heap);
  core.checkCanary();
}

/** target_bus.c: records of flags, length and a datagram, to a board that founded its keyed bus. */
export function driveBus(input: Buffer): void {
  const host = new FakeHost();
  let last = Buffer.alloc(0);
  host.overrides = {
    udp_open: (port) => port,
    udp_send: (_s, _ip, _port, p, n) => ((last = Buffer.from(host.core.read(p, n))), C.OK),
    wifi_ip: (iface) => (iface === C.IFACE_STA ? 0x0a000001 : 0),
    board_id: (p, n) => (host.core.write(p, new Uint8Array(n).map((_, i) => 0xb0 + i)), n),
  };
  let now = 0xfffff000;
  const core = host.start(`http_port=0\ncontrol_port=0\nbus=1\nbus_election_ms=200\nbus_heartbeat_ms=1000\nkey=${FUZZ_KEY}`, now);
  const heap = core.stat(C.STAT_HEAP_TOP);
  for (let i = 0; i < 100 && core.stat(C.STAT_BUS_ROLE) !== C.BUS_ROLE_MASTER; i++) core.exports.tick((now = (now + 50) >>> 0));
  expect(core.stat(C.STAT_BUS_ROLE)).toBe(C.BUS_ROLE_MASTER);
  core.exports.tick((now = (now + 100) >>> 0));
  expect(last.subarray(0, 2).toString("latin1")).toBe("PW");
  const busId = last.subarray(4, 12);
  const term = last.readUInt32LE(12);
  for (let at = 0, records = 0; at + 3 <= input.length && records++ < 8; ) {
    const flags = input[at];
    const n = Math.min(input[at + 1] | (input[at + 2] << 8), input.length - at - 3);
    const body = input.subarray(at + 3, at + 3 + n);
    let out: Buffer;
    if (flags & 0x10) out = Buffer.from(body.subarray(0, C.IO_CAPACITY));
    else {
      out = Buffer.concat([Buffer.from("PW\x01", "latin1"), body.subarray(0, C.IO_CAPACITY - 3 - 16)]);
      if (flags & 0x04 && out.length >= 12) busId.copy(out, 4);
      if (flags & 0x08 && out.length >= 16) out.writeUInt32LE((term + (out[12] % 4)) >>> 0, 12);
      out = Buffer.concat([out, mac(out).subarray(0, 16)]);
    }
    core.exports.udp_data(5000, 0x0a000002 + (flags & 3), 5000, core.writeIo(out), now);
    if (flags >> 5) core.exports.tick((now = (now + (flags >> 5) * 150) >>> 0));
    at += 3 + n;
  }
  for (let i = 0; i < 2; i++) core.exports.tick((now = (now + 600) >>> 0));
  expect(core.stat(C.STAT_HEAP_TOP)).toBe(heap);
  core.checkCanary();
}
