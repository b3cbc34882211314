// Every fuzz corpus and regression input (test/fuzz/) replayed through the core on the Node host with
// the same drivers as native/fuzz/target_*.c: no trap, no allocation after init, nothing written
// above the memory cap. A crash the fuzzer finds is copied to test/fuzz/regressions/<target>/.
import { describe, it, expect } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { C } from "../../tools/host/abi.generated.ts";
import { FakeHost } from "../helpers/core.ts";
import { upgradeRequest } from "../helpers/ws.ts";
import { driveControl, driveBus } from "../helpers/fuzz-sessions.ts";

const ROOT = join(import.meta.dirname, "..", "fuzz");

function inputs(target: string): [string, Buffer][] {
  return ["corpus", "regressions"].flatMap((kind) => {
    const dir = join(ROOT, kind, target);
    return existsSync(dir) ? readdirSync(dir).map((f) => [`${kind}/${f}`, readFileSync(join(dir, f))] as [string, Buffer]) : [];
  });
}

/** The peer side both drivers share: a send window the input may make small, and delivery in chunks
 *  that re-offers what the core did not consume after a send-queue drain (as fuzz_deliver in native/fuzz/fuzz_host.c). */
class Peer {
  window: number;
  constructor(readonly host: FakeHost, input: Buffer) {
    this.window = input[1] % 8 === 0 ? 3 : 1 << 30;
    host.sendWindow = (_c, n) => Math.min(n, this.window);
  }
  deliver(conn: number, d: Uint8Array, size: number, now: number): void {
    let at = 0;
    for (let stalls = 0; at < d.length && stalls < 64; ) {
      const k = Math.min(size, d.length - at);
      const used = this.host.data(conn, d.subarray(at, at + k), now);
      expect(used).toBeLessThanOrEqual(k);
      at += used;
      if (used < k) {
        stalls++;
        this.window = 1 << 30;
        this.host.core.exports.tcp_sent(conn, 1 << 20, now);
      }
    }
  }
}

/** The http/frame driver: the first two bytes choose segmentation and a slow reader. */
function drive(input: Buffer, upgrade: boolean): void {
  if (input.length < 2) return;
  const chunk = 1 + (input[0] % 97);
  const data = input.subarray(2);
  const host = new FakeHost();
  const core = host.start("http_port=80\nmax_conns=4\nws_echo=1\nws_max_message=4096\nws_ping_ms=100\nws_idle_ms=300", 1000);
  const peer = new Peer(host, input);
  const chosen = peer.window;
  peer.window = 1 << 30; // the upgrade is read at full speed, as in target_frame.c
  const heap = core.stat(C.STAT_HEAP_TOP);
  let now = 0xffffff00;
  expect(core.exports.tcp_accepted(1, 5, 0x7f000001, 4000, now)).toBe(C.OK);
  if (upgrade) peer.deliver(5, Buffer.from(upgradeRequest()), C.IO_CAPACITY, now);
  peer.window = chosen;
  peer.deliver(5, data, chunk, now);
  core.exports.tick((now = (now + 200) >>> 0));
  core.exports.tcp_closed(5, C.TCP_FIN, now);
  for (let i = 0; i < 20; i++) core.exports.tick((now = (now + 100) >>> 0));
  expect(core.stat(C.STAT_HEAP_TOP)).toBe(heap);
  core.checkCanary();
}

/** The mqtt driver: the bytes are the broker's, after a CONNACK; the same first two bytes as above. */
export const MQTT_FUZZ_CONFIG = "http_port=0\ncontrol_port=0\nmqtt=mqtt://127.0.0.1:1883\nmqtt_id=f\nmqtt_peers=2";
function driveMqtt(input: Buffer): void {
  if (input.length < 2) return;
  const chunk = 1 + (input[0] % 97);
  const host = new FakeHost();
  const handles: number[] = [];
  host.overrides = { tcp_connect: () => (handles.push(100), 100) };
  let now = 0xffffff00;
  const core = host.start(MQTT_FUZZ_CONFIG, now);
  const peer = new Peer(host, input);
  const heap = core.stat(C.STAT_HEAP_TOP);
  core.exports.tick(now);
  expect(handles).toEqual([100]);
  core.exports.tcp_connected(100, C.OK, now);
  const chosen = peer.window;
  peer.window = 1 << 30;
  peer.deliver(100, Buffer.from([0x20, 2, 0, 0]), 4, now);
  peer.window = chosen;
  peer.deliver(100, input.subarray(2), chunk, now);
  for (let i = 0; i < 10; i++) core.exports.tick((now = (now + 200) >>> 0));
  core.exports.tcp_closed(100, C.ERR_CLOSED, now);
  for (let i = 0; i < 3; i++) core.exports.tick((now = (now + 1700) >>> 0));
  expect(core.stat(C.STAT_HEAP_TOP)).toBe(heap);
  core.checkCanary();
}

describe("fuzz corpus and regressions replay on the Node host", () => {
  it.each(inputs("rgb"))("rgb %s", (_name, input) => {
    const core = new FakeHost().start("http_port=0");
    for (const fmt of [C.RGB_FMT_TEXT, C.RGB_FMT_HEX, C.RGB_FMT_BINARY]) {
      expect(core.exports.rgb_parse(core.writeIo(input), fmt)).toBeLessThanOrEqual(0xffffff);
    }
  });
  it.each(inputs("json"))("json %s", (_name, input) => {
    const core = new FakeHost().start("http_port=0");
    const n = core.writeIo(input);
    const r = core.exports.json_parse(n, 8);
    expect(r < 0 ? -1 - r : r).toBeLessThanOrEqual(r < 0 ? n : 16);
  });
  it.each(inputs("http"))("http %s", (_name, input) => drive(input, false));
  it.each(inputs("frame"))("frame %s", (_name, input) => drive(input, true));
  it.each(inputs("mqtt"))("mqtt %s", (_name, input) => driveMqtt(input));
  it.each(inputs("control"))("control %s", (_name, input) => driveControl(input));
  it.each(inputs("bus"))("bus %s", (_name, input) => driveBus(input));
});
