// The access point's DHCP server (assembly/dhcp/server.ts), driven through the core's udp_data export
// on the identical wasm: exact bytes of offers, acks and naks (RFC 2131/2132), pool exhaustion,
// malformed input, expiry and reuse, renewal, release, decline, inform. Then a real client: Debian
// busybox's udhcpc gets a lease from a virtual board inside network namespaces made by the test.
import { describe, it, expect, afterEach } from "vitest";
import fc from "fast-check";
import { C } from "../../tools/host/abi.generated.ts";
import { FakeHost } from "../helpers/core.ts";
import { encode, decode, macBytes, ipBytes, u32, COOKIE, OPT, DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM, type DhcpMessage } from "../helpers/dhcp.ts";
import { netnsUnavailable, createLan, Output, type Lan } from "../helpers/netns.ts";
import { execFileSync } from "node:child_process";
import { nodeConfig } from "../../tools/cli/node.ts";
import { needs } from "../helpers/inputs.ts";

const AP = 0xc0a80401; // 192.168.4.1
const SOCK = 7;
const BCAST = 0xffffffff;
const MAC_A = "02:00:00:00:00:0a";
const MAC_B = "02:00:00:00:00:0b";
const MAC_C = "02:00:00:00:00:0c";

interface Sent {
  sock: number;
  ip: number;
  port: number;
  bytes: Uint8Array;
}

/** A core whose access point is up at 192.168.4.1, its DHCP socket being handle 7. */
function accessPoint(settings: string[] = [], now = 1000) {
  const host = new FakeHost();
  const sent: Sent[] = [];
  const opened: number[][] = [];
  const closed: number[] = [];
  host.overrides.udp_open = (port, iface) => (opened.push([port, iface]), SOCK);
  host.overrides.udp_send = (sock, ip, port, p, n) => (sent.push({ sock, ip: ip >>> 0, port, bytes: host.core.read(p, n) }), C.OK);
  host.overrides.udp_close = (sock) => void closed.push(sock);
  host.overrides.wifi_ip = (iface) => (iface === C.IFACE_AP ? AP : 0);
  const core = host.start(["http_port=0", "control_port=0", ...settings].join("\n"), now);
  const heap = core.stat(C.STAT_HEAP_TOP);
  core.exports.wifi_event(C.WIFI_EV_AP_UP, C.OK, now);
  /** Delivers one datagram from a client (0.0.0.0:68 unless given); returns the replies it caused. */
  const send = (m: DhcpMessage | Uint8Array, at = now, from = 0) => {
    const before = sent.length;
    const bytes = m instanceof Uint8Array ? m : encode(m);
    core.exports.udp_data(SOCK, from, 68, core.writeIo(bytes), at);
    return sent.slice(before);
  };
  const leases = () => core.stat(C.STAT_DHCP_LEASES);
  /** DISCOVER then REQUEST (selecting): the address acked. */
  const lease = (mac: string, at = now, xid = 1) => {
    const [offer] = send({ mac, xid, type: DISCOVER }, at);
    expect(offer, `an offer for ${mac}`).toBeDefined();
    const yi = decode(offer.bytes).yiaddr;
    const [ack] = send({ mac, xid, type: REQUEST, options: [[OPT.requested, ipBytes(yi)], [OPT.serverId, [192, 168, 4, 1]]] }, at);
    expect(decode(ack.bytes).type).toBe(ACK);
    return yi;
  };
  return { host, core, sent, opened, closed, send, leases, lease, heap };
}

/** The reply the RFC asks for, built independently of the core: 300 bytes, options in our order. */
function expectedReply(req: DhcpMessage, type: number, yiaddr: string, opts: [number, number[]][], ciaddr = "0.0.0.0"): Uint8Array {
  const b = new Uint8Array(300);
  b.set([2, 1, 6, 0], 0);
  new DataView(b.buffer).setUint32(4, req.xid ?? 0x12345678);
  new DataView(b.buffer).setUint16(10, req.flags ?? 0);
  b.set(ipBytes(ciaddr), 12);
  b.set(ipBytes(yiaddr), 16);
  b.set(ipBytes(req.giaddr ?? "0.0.0.0"), 24);
  b.set(macBytes(req.mac), 28);
  b.set(COOKIE, 236);
  const o = [53, 1, type, ...opts.flatMap(([c, v]) => [c, v.length, ...v]), 255];
  b.set(o, 240);
  return b;
}

const be32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const SERVER_OPTS = (leaseS: number | null): [number, number[]][] => [
  [OPT.serverId, [192, 168, 4, 1]],
  ...(leaseS === null ? [] : ([[OPT.lease, be32(leaseS)]] as [number, number[]][])),
  [OPT.mask, [255, 255, 255, 0]],
  [OPT.router, [192, 168, 4, 1]],
  [OPT.dns, [192, 168, 4, 1]],
];

describe("DHCP server: the exchange (RFC 2131 section 3.1)", () => {
  it("opens UDP 67 on the AP interface when the access point comes up, and closes it when it stops", () => {
    const ap = accessPoint();
    expect(ap.opened).toEqual([[67, C.IFACE_AP]]);
    expect(ap.host.logs.some((l) => l.startsWith("dhcp: serving 192.168.4.16"))).toBe(true);
    ap.core.exports.wifi_event(C.WIFI_EV_AP_DOWN, C.OK, 2000);
    expect(ap.closed).toEqual([SOCK]);
    // a datagram on the old handle is not the server's any more
    expect(ap.send({ mac: MAC_A, type: DISCOVER })).toEqual([]);
  });

  it("answers DISCOVER with an OFFER of the first pool address, broadcast, byte for byte", () => {
    const ap = accessPoint();
    const req: DhcpMessage = { mac: MAC_A, xid: 0xdeadbeef, secs: 3, type: DISCOVER, options: [[OPT.params, [1, 3, 6, 51, 54]]] };
    const [offer] = ap.send(req);
    expect(offer.sock).toBe(SOCK);
    expect(offer.ip).toBe(BCAST);
    expect(offer.port).toBe(68);
    expect(Buffer.from(offer.bytes).toString("hex")).toBe(Buffer.from(expectedReply(req, OFFER, "192.168.4.16", SERVER_OPTS(7200))).toString("hex"));
    expect(ap.leases()).toBe(0); // an offer is not a lease
  });

  it("answers the REQUEST that selects it with an ACK, byte for byte, and counts the lease", () => {
    const ap = accessPoint();
    ap.send({ mac: MAC_A, xid: 9, type: DISCOVER });
    const req: DhcpMessage = { mac: MAC_A, xid: 9, flags: 0x8000, type: REQUEST, options: [[OPT.requested, [192, 168, 4, 16]], [OPT.serverId, [192, 168, 4, 1]]] };
    const [ack] = ap.send(req);
    expect(ack.ip).toBe(BCAST);
    expect(Buffer.from(ack.bytes).toString("hex")).toBe(Buffer.from(expectedReply(req, ACK, "192.168.4.16", SERVER_OPTS(7200))).toString("hex"));
    expect(ap.leases()).toBe(1);
    expect(ap.host.logs).toContain("dhcp: leased 192.168.4.16");
  });

  it("gives each client its own address and the same one again when it asks again", () => {
    const ap = accessPoint();
    expect(ap.lease(MAC_A)).toBe("192.168.4.16");
    expect(ap.lease(MAC_B)).toBe("192.168.4.17");
    expect(ap.lease(MAC_A)).toBe("192.168.4.16");
    expect(ap.leases()).toBe(2);
    // a second DISCOVER before the REQUEST keeps the same offer
    const [o1] = ap.send({ mac: MAC_C, type: DISCOVER });
    const [o2] = ap.send({ mac: MAC_C, type: DISCOVER });
    expect(decode(o1.bytes).yiaddr).toBe("192.168.4.18");
    expect(decode(o2.bytes).yiaddr).toBe("192.168.4.18");
  });

  it("follows dhcp_first, dhcp_count and dhcp_lease_s", () => {
    const ap = accessPoint(["dhcp_first=192.168.4.100", "dhcp_count=2", "dhcp_lease_s=600"]);
    const [offer] = ap.send({ mac: MAC_A, type: DISCOVER });
    const d = decode(offer.bytes);
    expect(d.yiaddr).toBe("192.168.4.100");
    expect(u32(d.options.get(OPT.lease))).toBe(600);
    expect(d.order).toEqual([OPT.type, OPT.serverId, OPT.lease, OPT.mask, OPT.router, OPT.dns]);
  });

  it("refuses a pool outside the AP's /24, or one that holds the AP's own address, and says so", () => {
    for (const bad of [["dhcp_first=192.168.5.16"], ["dhcp_first=192.168.4.0"], ["dhcp_first=192.168.4.250", "dhcp_count=8"], ["dhcp_first=192.168.4.1"]]) {
      const ap = accessPoint(bad);
      expect(ap.opened, bad.join(" ")).toEqual([]);
      expect(ap.host.logs.some((l) => l === `dhcp: not started, error ${C.ERR_CONFIG}`), ap.host.logs.join("\n")).toBe(true);
    }
    // the last address before the broadcast is fine
    expect(accessPoint(["dhcp_first=192.168.4.247", "dhcp_count=8"]).opened).toEqual([[67, C.IFACE_AP]]);
  });

  it("says why when the host cannot open UDP 67", () => {
    const host = new FakeHost();
    host.overrides.udp_open = () => C.ERR_NOMEM;
    host.overrides.wifi_ip = () => AP;
    const core = host.start("http_port=0\ncontrol_port=0");
    core.exports.wifi_event(C.WIFI_EV_AP_UP, C.OK, 0);
    expect(host.logs).toContain(`dhcp: not started, error ${C.ERR_NOMEM}`);
  });
});

describe("DHCP server: where replies go (RFC 2131 section 4.1)", () => {
  it("unicasts to ciaddr when the client has an address and did not ask for broadcast", () => {
    const ap = accessPoint();
    ap.lease(MAC_A);
    const req: DhcpMessage = { mac: MAC_A, xid: 77, ciaddr: "192.168.4.16", type: REQUEST };
    const [ack] = ap.send(req, 5000, 0xc0a80410);
    expect(ack.ip).toBe(0xc0a80410);
    expect(ack.port).toBe(68);
    expect(Buffer.from(ack.bytes).toString("hex")).toBe(Buffer.from(expectedReply(req, ACK, "192.168.4.16", SERVER_OPTS(7200), "192.168.4.16")).toString("hex"));
    // the broadcast flag wins
    const [b] = ap.send({ ...req, flags: 0x8000 }, 5000);
    expect(b.ip).toBe(BCAST);
  });

  it("broadcasts a NAK, whose only options are the type and the server identifier", () => {
    const ap = accessPoint();
    const req: DhcpMessage = { mac: MAC_A, xid: 5, type: REQUEST, options: [[OPT.requested, [10, 0, 0, 5]]] };
    const [nak] = ap.send(req);
    expect(nak.ip).toBe(BCAST);
    expect(Buffer.from(nak.bytes).toString("hex")).toBe(Buffer.from(expectedReply(req, NAK, "0.0.0.0", [[OPT.serverId, [192, 168, 4, 1]]])).toString("hex"));
  });
});

describe("DHCP server: REQUEST in every state (RFC 2131 section 4.3.2)", () => {
  it("INIT-REBOOT: acks the client's own address, naks another subnet, another client's or a non-pool address", () => {
    const ap = accessPoint();
    ap.lease(MAC_A);
    ap.lease(MAC_B);
    const reboot = (mac: string, ip: string) => decode(ap.send({ mac, type: REQUEST, options: [[OPT.requested, ipBytes(ip)]] })[0].bytes);
    expect(reboot(MAC_A, "192.168.4.16").type).toBe(ACK);
    expect(reboot(MAC_A, "192.168.1.16").type).toBe(NAK); // another network (the client moved)
    expect(reboot(MAC_A, "192.168.4.17").type).toBe(NAK); // MAC_B's
    expect(reboot(MAC_C, "192.168.4.16").type).toBe(NAK); // MAC_A's
    expect(reboot(MAC_C, "192.168.4.200").type).toBe(NAK); // in the subnet, not in the pool
    expect(reboot(MAC_C, "192.168.4.1").type).toBe(NAK); // the AP itself
    // an unknown client keeping a free pool address (leased by an access point before us) keeps it
    const d = reboot(MAC_C, "192.168.4.20");
    expect([d.type, d.yiaddr]).toEqual([ACK, "192.168.4.20"]);
    expect(ap.leases()).toBe(3);
  });

  it("SELECTING another server's offer: stays silent and lets its own offer lapse", () => {
    const ap = accessPoint(["dhcp_count=1"]);
    ap.send({ mac: MAC_A, type: DISCOVER });
    const r = ap.send({ mac: MAC_A, type: REQUEST, options: [[OPT.requested, [192, 168, 4, 99]], [OPT.serverId, [192, 168, 4, 2]]] });
    expect(r).toEqual([]);
    expect(ap.send({ mac: MAC_B, type: DISCOVER }, 1000 + 29_000)).toEqual([]); // still held for MAC_A
    ap.core.exports.tick(1000 + 30_000);
    expect(decode(ap.send({ mac: MAC_B, type: DISCOVER }, 1000 + 30_000)[0].bytes).yiaddr).toBe("192.168.4.16");
  });

  it("SELECTING with a requested address other than the offer: naks, then the client starts over", () => {
    const ap = accessPoint();
    ap.lease(MAC_B); // .16
    ap.send({ mac: MAC_A, type: DISCOVER }); // offered .17
    const [r] = ap.send({ mac: MAC_A, type: REQUEST, options: [[OPT.requested, [192, 168, 4, 16]], [OPT.serverId, [192, 168, 4, 1]]] });
    expect(decode(r.bytes).type).toBe(NAK);
  });

  it("RENEWING extends the lease from the renewal on", () => {
    const ap = accessPoint(["dhcp_lease_s=60"], 0);
    ap.lease(MAC_A, 0);
    const [ack] = ap.send({ mac: MAC_A, ciaddr: "192.168.4.16", type: REQUEST }, 50_000);
    expect(decode(ack.bytes).type).toBe(ACK);
    ap.core.exports.tick(70_000);
    expect(ap.leases()).toBe(1); // would have ended at 60 s without the renewal
    ap.core.exports.tick(110_000);
    expect(ap.leases()).toBe(0);
  });

  it("naks a renewal of an address that is not the client's", () => {
    const ap = accessPoint();
    ap.lease(MAC_A);
    const [nak] = ap.send({ mac: MAC_B, ciaddr: "192.168.4.16", type: REQUEST });
    expect([decode(nak.bytes).type, nak.ip]).toEqual([NAK, BCAST]);
    expect(ap.leases()).toBe(1);
  });
});

describe("DHCP server: the pool", () => {
  it("when every address is leased: no offer and a clear log line, a REQUEST for a taken address is naked, no crash", () => {
    const ap = accessPoint(["dhcp_count=2"]);
    ap.lease(MAC_A);
    ap.lease(MAC_B);
    expect(ap.send({ mac: MAC_C, type: DISCOVER })).toEqual([]);
    expect(ap.host.logs).toContain("dhcp: pool full");
    const [nak] = ap.send({ mac: MAC_C, type: REQUEST, options: [[OPT.requested, [192, 168, 4, 17]]] });
    expect(decode(nak.bytes).type).toBe(NAK);
    expect(ap.leases()).toBe(2);
    // the clients that have leases still renew
    expect(decode(ap.send({ mac: MAC_B, ciaddr: "192.168.4.17", type: REQUEST })[0].bytes).type).toBe(ACK);
  });

  it("the full 64-address pool serves 64 clients and refuses the 65th", () => {
    const ap = accessPoint(["dhcp_first=192.168.4.2", "dhcp_count=64"]);
    const mac = (i: number) => `02:00:00:00:01:${i.toString(16).padStart(2, "0")}`;
    for (let i = 0; i < 64; i++) expect(ap.lease(mac(i))).toBe(`192.168.4.${2 + i}`);
    expect(ap.leases()).toBe(64);
    expect(ap.send({ mac: mac(64), type: DISCOVER })).toEqual([]);
    expect(ap.core.stat(C.STAT_HEAP_TOP)).toBe(ap.heap); // the table was reserved before init ended
  });

  it("a lease ends after dhcp_lease_s; tick reports the deadline; the address is reused", () => {
    const ap = accessPoint(["dhcp_count=1", "dhcp_lease_s=60"], 0);
    ap.lease(MAC_A, 0);
    const next = ap.core.exports.tick(59_000);
    expect(next).toBeGreaterThan(0);
    expect(next).toBeLessThanOrEqual(1000);
    expect(ap.leases()).toBe(1);
    expect(ap.send({ mac: MAC_B, type: DISCOVER }, 59_000)).toEqual([]);
    ap.core.exports.tick(60_000);
    expect(ap.leases()).toBe(0);
    expect(ap.lease(MAC_B, 60_000)).toBe("192.168.4.16");
    // MAC_A comes back: its old address is MAC_B's now
    const [nak] = ap.send({ mac: MAC_A, type: REQUEST, options: [[OPT.requested, [192, 168, 4, 16]]] }, 61_000);
    expect(decode(nak.bytes).type).toBe(NAK);
  });

  it("a client whose lease ended gets its old address back when nobody took it", () => {
    const ap = accessPoint(["dhcp_lease_s=60"], 0);
    ap.lease(MAC_A, 0); // .16
    ap.lease(MAC_B, 0); // .17
    ap.core.exports.tick(61_000);
    expect(ap.leases()).toBe(0);
    expect(ap.lease(MAC_C, 61_000)).toBe("192.168.4.18"); // a newcomer gets a never-used address first
    expect(ap.lease(MAC_B, 62_000)).toBe("192.168.4.17");
    expect(ap.lease(MAC_A, 62_000)).toBe("192.168.4.16");
  });

  it("counts leases across the 49.7-day wrap of now_ms", () => {
    const start = (2 ** 32 - 10_000) >>> 0;
    const ap = accessPoint(["dhcp_lease_s=60"], start);
    ap.lease(MAC_A, start);
    ap.core.exports.tick((start + 30_000) >>> 0);
    expect(ap.leases()).toBe(1);
    ap.core.exports.tick((start + 60_000) >>> 0);
    expect(ap.leases()).toBe(0);
  });

  it("RELEASE frees the address (the client's own only); the client gets it back later", () => {
    const ap = accessPoint();
    ap.lease(MAC_A);
    expect(ap.send({ mac: MAC_B, ciaddr: "192.168.4.16", type: RELEASE })).toEqual([]); // not MAC_B's
    expect(ap.leases()).toBe(1);
    expect(ap.send({ mac: MAC_A, ciaddr: "192.168.4.16", type: RELEASE })).toEqual([]);
    expect(ap.leases()).toBe(0);
    expect(ap.lease(MAC_B)).toBe("192.168.4.17"); // never-used addresses first
    expect(ap.lease(MAC_A)).toBe("192.168.4.16");
  });

  it("DECLINE: the address someone else uses is withheld for a lease time, the client gets another", () => {
    const ap = accessPoint(["dhcp_lease_s=60"], 0);
    ap.lease(MAC_A, 0);
    expect(ap.send({ mac: MAC_A, type: DECLINE, options: [[OPT.requested, [192, 168, 4, 16]], [OPT.serverId, [192, 168, 4, 1]]] }, 1000)).toEqual([]);
    expect(ap.leases()).toBe(0);
    expect(ap.lease(MAC_A, 2000)).toBe("192.168.4.17");
    expect(ap.lease(MAC_B, 2000)).toBe("192.168.4.18");
    ap.core.exports.tick(61_000);
    expect(ap.lease(MAC_C, 61_000)).not.toBe("192.168.4.16"); // never-used ones still first
  });

  it("INFORM: the options for a hand-configured address, no lease, unicast to it", () => {
    const ap = accessPoint();
    const req: DhcpMessage = { mac: MAC_A, ciaddr: "192.168.4.200", type: INFORM };
    const [ack] = ap.send(req, 1000, 0xc0a804c8);
    expect(ack.ip).toBe(0xc0a804c8);
    expect(Buffer.from(ack.bytes).toString("hex")).toBe(Buffer.from(expectedReply(req, ACK, "0.0.0.0", SERVER_OPTS(null), "192.168.4.200")).toString("hex"));
    expect(ap.leases()).toBe(0);
  });
});

describe("DHCP server: malformed and foreign datagrams are counted and dropped", () => {
  const good: DhcpMessage = { mac: MAC_A, type: DISCOVER };
  // each with the rule the log names: not BOOTP/DHCP as RFC 2131 frames it, or a type no server answers
  const BAD: [string, Uint8Array, string][] = [
    ["empty", new Uint8Array(0), "format"],
    ["header only", encode(good).subarray(0, 240), "format"],
    ["a reply (op 2)", encode({ ...good, op: 2 }), "format"],
    ["not Ethernet (htype 6)", encode({ ...good, htype: 6 }), "format"],
    ["hlen 16", encode({ ...good, hlen: 16 }), "format"],
    ["hlen 0", encode({ ...good, hlen: 0 }), "format"],
    ["wrong magic cookie", encode({ ...good, cookie: [99, 130, 83, 98] }), "format"],
    ["no end option", encode({ ...good, end: [] }), "format"],
    ["pad to the end, no end option", encode({ ...good, end: [0, 0, 0] }), "format"],
    ["option length past the end", Uint8Array.from([...encode(good).subarray(0, 240), 53, 1, 1, 50, 4, 192, 168]), "format"],
    ["option length byte missing", Uint8Array.from([...encode(good).subarray(0, 240), 53, 1, 1, 50]), "format"],
    ["message type of length 2", encode({ mac: MAC_A, options: [[OPT.type, [1, 1]]] }), "message type"],
    ["no message type", encode({ mac: MAC_A }), "message type"],
    ["type 0", encode({ ...good, type: 0 }), "message type"],
    ["type 9", encode({ ...good, type: 9 }), "message type"],
    ["type 33 (shift wraps)", encode({ ...good, type: 33 }), "message type"],
    ["an OFFER from another server", encode({ ...good, type: OFFER }), "message type"],
    ["an ACK from another server", encode({ ...good, type: ACK }), "message type"],
    ["a NAK from another server", encode({ ...good, type: NAK }), "message type"],
    ["requested address of 3 bytes", encode({ ...good, options: [[OPT.requested, [192, 168, 4]]] }), "format"],
    ["server id of 5 bytes", encode({ ...good, options: [[OPT.serverId, [192, 168, 4, 1, 0]]] }), "format"],
    ["a multicast MAC", encode({ ...good, mac: "01:00:5e:00:00:01" }), "format"],
  ];

  for (const [name, bytes, rule] of BAD) {
    it(`drops ${name}, logging the rule: ${rule}`, () => {
      const ap = accessPoint();
      expect(ap.send(bytes)).toEqual([]);
      expect(ap.host.logs).toContain(`dhcp: dropped a datagram: ${rule}`);
      expect(ap.leases()).toBe(0);
      expect(decode(ap.send(good)[0].bytes).type).toBe(OFFER); // still serving
    });
  }

  it("drops every truncation of a valid DISCOVER", () => {
    const ap = accessPoint();
    const full = encode({ ...good, options: [[OPT.params, [1, 3, 6]], [OPT.clientId, [1, ...macBytes(MAC_A)]]] });
    for (let n = 0; n < full.length; n++) expect(ap.send(full.subarray(0, n)), `length ${n}`).toEqual([]);
    expect(ap.send(full)).toHaveLength(1);
  });

  it("random datagrams and random mutations never trap, never move the heap and never write above the cap", () => {
    const ap = accessPoint(["dhcp_count=4", "dhcp_lease_s=60"], 0);
    const seedMsgs = [DISCOVER, REQUEST, DECLINE, RELEASE, INFORM].map((type) =>
      encode({ mac: MAC_A, type, ciaddr: "192.168.4.16", options: [[OPT.requested, [192, 168, 4, 17]], [OPT.serverId, [192, 168, 4, 1]]] }),
    );
    let now = (2 ** 32 - 30_000) >>> 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 700 }),
          fc.tuple(fc.integer({ min: 0, max: 4 }), fc.array(fc.tuple(fc.nat(320), fc.nat(255)), { maxLength: 8 }), fc.nat(400)).map(([k, edits, cut]) => {
            const b = seedMsgs[k].slice();
            for (const [at, v] of edits) if (at < b.length) b[at] = v;
            return b.subarray(0, Math.max(cut, 200));
          }),
        ),
        fc.nat(5),
        (bytes, mac) => {
          if (bytes.length > 34) bytes[33] = mac; // a few clients, so leases accumulate and end
          now = (now + 7_000) >>> 0;
          ap.send(bytes, now);
          ap.core.exports.tick(now);
          for (const s of ap.sent.splice(0)) {
            expect(s.bytes.length).toBe(300);
            expect(decode(s.bytes).cookieOk).toBe(true);
          }
          expect(ap.core.stat(C.STAT_HEAP_TOP)).toBe(ap.heap);
          expect(ap.leases()).toBeLessThanOrEqual(4);
        },
      ),
      { numRuns: 3000, seed: 7 },
    );
    ap.core.checkCanary();
  });
});

// ---- a real client in network namespaces --------------------------------------------------------

function busyboxReason(): string | null {
  try {
    execFileSync("busybox", ["udhcpc", "--help"], { stdio: "pipe", timeout: 5000 });
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === "ENOENT") return "busybox is not installed (apt-get install busybox; .ci/run does)";
    // udhcpc --help exits 1 but prints its usage: that is fine
    return /udhcpc/.test(String(err.stderr ?? "")) ? null : `busybox udhcpc is unusable: ${err.message}`;
  }
}

const why = netnsUnavailable() ?? busyboxReason();

needs(why).describe("DHCP server: busybox udhcpc gets a lease from a virtual board in network namespaces", () => {
  let lan: Lan | undefined;
  afterEach(async () => {
    await lan?.destroy();
    lan = undefined;
  });

  // udhcpc runs this script with the lease in its environment: it prints what it got and configures
  // the interface as a real client does, so a renewal is a real unicast exchange
  const SCRIPT = `#!/bin/sh
case "$1" in bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface";; esac
echo "udhcpc-event $1 ip=$ip subnet=$subnet router=$router dns=$dns lease=$lease serverid=$serverid"
`;

  it("clients get leases with every option, keep them, cannot take another's, and renew by unicast", async () => {
    lan = await createLan([
      { name: "ap", address: "192.168.4.1/24" },
      { name: "c1", mac: "02:00:00:00:00:a1" },
      { name: "c2", mac: "02:00:00:00:00:a2" },
    ]);
    const dir = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    const script = `${dir}/udhcpc.sh`;
    try {
      execFileSync("sh", ["-c", `cat > ${script} && chmod +x ${script}`], { input: SCRIPT });
      // the CLI's virtual board, as the access point the core itself asks the radio for (wifi_mode=ap)
      const board = lan.node("ap", [
        "bin/picowire.js", "node", "--role", "rgb-server", "--netns-address", "192.168.4.1", "--control-port", "0",
        "--set", "wifi_mode=ap", "--set", "wifi_ssid=picowire", "--set", "dhcp_lease_s=120", "--set", "dhcp_count=4",
      ]);
      const out = new Output(board);
      await out.waitFor(/dhcp: serving 192\.168\.4\.16/, 15_000);
      const udhcpc = (host: string, extra: string[] = []) =>
        lan!.exec(host, "busybox", ["udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", script, ...extra], 30_000);
      const r1 = await udhcpc("c1");
      expect(r1.code, r1.stdout + r1.stderr + out.text).toBe(0);
      expect(r1.stdout).toMatch(/udhcpc-event bound ip=192\.168\.4\.16 subnet=255\.255\.255\.0 router=192\.168\.4\.1 dns=192\.168\.4\.1 lease=120 serverid=192\.168\.4\.1/);
      const r2 = await udhcpc("c2");
      expect(r2.stdout, r2.stderr + out.text).toMatch(/udhcpc-event bound ip=192\.168\.4\.17 /);
      await out.waitFor(/dhcp: leased 192\.168\.4\.17/);
      // c2 asks for c1's address (-r, option 50 in its DISCOVER): it is offered and keeps its own
      const r3 = await udhcpc("c2", ["-r", "192.168.4.16"]);
      expect(r3.stderr, r3.stdout + out.text).toMatch(/select for 192\.168\.4\.17, server 192\.168\.4\.1/);
      expect(r3.stdout, r3.stderr + out.text).toMatch(/udhcpc-event bound ip=192\.168\.4\.17 /);
      // c1 runs on; SIGUSR1 makes it renew now: a unicast REQUEST to 192.168.4.1, a unicast ACK back
      const c1 = lan.spawn("c1", "busybox", ["udhcpc", "-i", "eth0", "-f", "-t", "5", "-T", "1", "-s", script]);
      const c1out = new Output(c1);
      await c1out.waitFor(/udhcpc-event bound ip=192\.168\.4\.16 /, 15_000);
      const ping = await lan.exec("c1", "busybox", ["ping", "-c", "1", "-W", "2", "192.168.4.1"], 10_000);
      expect(ping.code, "c1 reaches the board at its leased address: " + ping.stdout + ping.stderr).toBe(0);
      c1.kill("SIGUSR1");
      await c1out.waitFor(/udhcpc-event renew ip=192\.168\.4\.16 .*lease=120/, 15_000);
      expect(c1out.text).toMatch(/sending renew to (server )?192\.168\.4\.1/);
      expect(out.text).not.toMatch(/trapped|error/i);
    } finally {
      execFileSync("rm", ["-rf", dir]);
    }
  }, 90_000);

});

describe("picowire node --netns-address", () => {
  it("is refused outside a network namespace of its own (here: the root namespace)", () => {
    let msg = "";
    try {
      execFileSync(process.execPath, ["bin/picowire.js", "node", "--role", "rgb-server", "--netns-address", "192.168.4.1"], { stdio: "pipe", timeout: 20_000 });
    } catch (e) {
      msg = String((e as { stderr?: Buffer }).stderr ?? "");
    }
    expect(msg).toMatch(/--netns-address is refused outside a network namespace/);
  });

  it("excludes --host", () => {
    expect(() => nodeConfig(["--role", "rgb-server", "--host", "127.0.0.2", "--netns-address", "192.168.4.1"])).toThrow(/exclude each other/);
    expect(nodeConfig(["--role", "rgb-server", "--netns-address", "192.168.4.1"])).toMatchObject({ host: "192.168.4.1", netns: true });
  });
});
