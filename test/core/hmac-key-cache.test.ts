// The core keeps the states after HMAC's two key pad blocks (assembly/util/sha256.ts) and reuses them while
// the key bytes are the same. These tests change the key every way the core can see it change (the
// digest export's key in the io buffer, the bus key through settings at run time) and check every MAC
// against Node's crypto: a stale cache would verify or produce a MAC under the previous key.
import { describe, it, expect } from "vitest";
import { createHmac } from "node:crypto";
import { C } from "../../tools/host/abi.generated.ts";
import { authAnswer, signCommand } from "../../tools/client.ts";
import { FakeHost, fresh } from "../helpers/core.ts";

const KEY = "bus-key-one-0123456789";
const NEW_KEY = "bus-key-two-0123456789"; // same length, differs in three bytes
const CONTROL_PORT = 12345;
const CONN = 7;

const nodeHmac = (key: Uint8Array | string, msg: Uint8Array | string) => createHmac("sha256", key).update(msg).digest();

function coreHmac(core: ReturnType<typeof fresh>, key: Uint8Array, msg: Uint8Array): Buffer {
  core.writeIo(Buffer.concat([key, msg]));
  expect(core.exports.digest(key.length, msg.length)).toBe(32);
  return Buffer.from(core.read(core.io, 32));
}

describe("HMAC key pad cache", () => {
  it("the digest export follows every key change, including one-byte and length-only changes", () => {
    const core = fresh();
    const a = Buffer.from("0123456789abcdef0123456789abcdef");
    const lastByte = Buffer.from(a).fill(0x21, 31);
    const firstByte = Buffer.from(a).fill(0x21, 0, 1);
    const long = Buffer.alloc(64, 0x5a);
    const longLast = Buffer.from(long).fill(0x5b, 63);
    const keys = [
      Buffer.alloc(0), // the empty key first: nothing is cached yet
      a, a, lastByte, a, firstByte, a.subarray(0, 31), a,
      Buffer.concat([a, Buffer.alloc(1)]), // the same padded block as `a`: HMAC gives the same MAC
      Buffer.alloc(0), long, longLast, long, Buffer.alloc(1), Buffer.alloc(0), a,
    ];
    const msg = Buffer.from("what do ya want for nothing? ".repeat(5));
    for (const [i, key] of keys.entries()) {
      const m = msg.subarray(0, 17 + i * 7);
      expect(coreHmac(core, key, m).toString("hex"), `key ${i}`).toBe(nodeHmac(key, m).toString("hex"));
    }
  });

  it("RFC 4231 test cases 1, 3, 2 and 4 (1 and 3: keys of the same length), in turn and again, on one core", () => {
    const core = fresh();
    const cases: [Buffer, Buffer, string][] = [
      [Buffer.alloc(20, 0x0b), Buffer.from("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
      [Buffer.alloc(20, 0xaa), Buffer.alloc(50, 0xdd), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
      [Buffer.from("Jefe"), Buffer.from("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
      [Buffer.from(Array.from({ length: 25 }, (_, i) => i + 1)), Buffer.alloc(50, 0xcd), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
    ];
    for (const [key, msg, mac] of [...cases, ...cases]) expect(coreHmac(core, key, msg).toString("hex")).toBe(mac);
  });

  it("a control session's MACs use the bus key while the digest export uses others, and a new key from settings at run time", () => {
    const host = new FakeHost();
    host.overrides = { tcp_listen: (port) => port };
    const core = host.start(`http_port=0\ncontrol_port=${CONTROL_PORT}\nkey=${KEY}`, 1000);
    expect(core.exports.tcp_accepted(CONTROL_PORT, CONN, 0x7f000001, 4000, 1000)).toBe(C.OK);
    const nonce = /"challenge":"([0-9a-f]{32})"/.exec(host.sentText(CONN))![1];
    let seen = 0;
    const send = (line: string) => {
      host.data(CONN, line + "\n", 1001);
      const lines = host.sentText(CONN).trim().split("\n");
      const replies = lines.slice(seen);
      seen = lines.length;
      expect(replies.length).toBeGreaterThan(0);
      return JSON.parse(replies[replies.length - 1]) as Record<string, unknown>;
    };
    seen = host.sentText(CONN).trim().split("\n").length;
    expect(send(authAnswer(KEY, nonce))).toMatchObject({ authenticated: true });
    let seq = 1;
    const other = Buffer.from(NEW_KEY);
    // the export with another key of the same length in between, as a host using it would
    expect(coreHmac(core, other, Buffer.from("x")).toString("hex")).toBe(nodeHmac(other, "x").toString("hex"));
    expect(send(signCommand(KEY, nonce, seq++, { action: "ping" }))).not.toHaveProperty("error");
    expect(send(signCommand(NEW_KEY, nonce, seq++, { action: "ping" }))).toMatchObject({ error: expect.stringMatching(/bad mac/) });
    expect(send(signCommand(KEY, nonce, seq++, { action: "ping" }))).not.toHaveProperty("error");

    // set_config applies each line as it parses: a text refused at its second line leaves the new key
    // live in this core (a board would restart its core next; the fake host does not)
    const refused = send(signCommand(KEY, nonce, seq++, { action: "set_config", config: `key=${NEW_KEY}\nno_such_setting=1` }));
    expect(refused).toMatchObject({ error: expect.stringMatching(/not saved/) });
    expect(host.resets).toContain(C.RESET_KIND_CORE);
    expect(send(signCommand(KEY, nonce, seq++, { action: "ping" }))).toMatchObject({ error: expect.stringMatching(/bad mac/) });
    expect(send(signCommand(NEW_KEY, nonce, seq++, { action: "ping" }))).not.toHaveProperty("error");
  });

  it("the bus tags its own datagrams with the current key: Node verifies them before and after a run-time key change", () => {
    const host = new FakeHost();
    const sent: Buffer[] = [];
    host.overrides = {
      tcp_listen: (port) => port,
      udp_open: (port) => port,
      udp_send: (_s, _ip, _port, p, n) => (sent.push(Buffer.from(host.core.read(p, n))), C.OK),
      wifi_ip: (iface) => (iface === C.IFACE_STA ? 0x0a000001 : 0),
    };
    let now = 1000;
    const core = host.start(`http_port=0\ncontrol_port=${CONTROL_PORT}\nbus=1\nbus_election_ms=200\nbus_heartbeat_ms=500\nkey=${KEY}`, now);
    const tick = (ms: number) => { for (let t = 0; t < ms; t += 50) core.exports.tick((now += 50)); };
    const tagOk = (d: Buffer, key: string) => nodeHmac(key, d.subarray(0, d.length - 16)).subarray(0, 16).equals(d.subarray(d.length - 16));
    tick(2000);
    expect(core.stat(C.STAT_BUS_ROLE)).toBe(C.BUS_ROLE_MASTER);
    expect(sent.length).toBeGreaterThan(0);
    for (const d of sent) expect(tagOk(d, KEY)).toBe(true);

    expect(core.exports.tcp_accepted(CONTROL_PORT, CONN, 0x7f000001, 4000, now)).toBe(C.OK);
    const nonce = /"challenge":"([0-9a-f]{32})"/.exec(host.sentText(CONN))![1];
    host.data(CONN, authAnswer(KEY, nonce) + "\n", now);
    host.data(CONN, signCommand(KEY, nonce, 1, { action: "set_config", config: `key=${NEW_KEY}\nno_such_setting=1` }) + "\n", now);
    expect(host.sentText(CONN)).toMatch(/not saved/);
    sent.length = 0;
    tick(2000);
    expect(sent.length).toBeGreaterThan(0);
    for (const d of sent) {
      expect(tagOk(d, NEW_KEY)).toBe(true);
      expect(tagOk(d, KEY)).toBe(false);
    }
  });
});
