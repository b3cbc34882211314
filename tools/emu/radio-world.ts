// The air around emulated Pico Ws: networks to scan and join (SSID, password, channel, RSSI), boards'
// access points that other boards (or a TAP device) join as stations, and an Ethernet switch per network
// that moves frames between its members: boards' radios and TAP ports into Linux network namespaces
// (tools/emu/tap.ts). One world can hold several boards. WPA is modelled as "the passphrase matches or
// the handshake fails"; there is no air time, loss, retry or roaming.
import { ITF_AP, ITF_STA, type Air, type AirNetwork, type JoinResult, type WlanFirmware } from "./cyw43/wlan.ts";

export interface NetworkSpec {
  ssid: string;
  /** null or omitted: open. WPA2-PSK passphrases are 8..63 characters. */
  password?: string | null;
  channel?: number;
  rssi?: number;
}

/** Something on a network's switch: a board's interface or a TAP port. */
export interface Endpoint {
  name: string;
  deliver(frame: Uint8Array): void;
}

export class Network {
  readonly members = new Set<Endpoint>();
  private readonly macs = new Map<string, Endpoint>();
  /** Frames switched (for tests and the bench). */
  frames = 0;

  constructor(readonly air: AirNetwork, readonly owner: WlanFirmware | null) {}

  join(e: Endpoint): void {
    this.members.add(e);
  }

  leave(e: Endpoint): void {
    this.members.delete(e);
    for (const [m, x] of this.macs) if (x === e) this.macs.delete(m);
  }

  /** A learning switch: unicast to the port that sent from that MAC, else flood. A new station on a
   *  board's access point (a TAP port's first frame) associates: the board gets its ASSOC event. */
  send(from: Endpoint, frame: Uint8Array): void {
    if (frame.length < 14) return;
    this.frames++;
    const src = macKey(frame.subarray(6, 12));
    if (!this.macs.has(src) && this.owner && !from.name.startsWith("ap ") && !from.name.startsWith("sta ")) this.owner.station(frame.subarray(6, 12), true);
    this.macs.set(src, from);
    const to = frame[0] & 1 ? undefined : this.macs.get(macKey(frame.subarray(0, 6)));
    if (to) {
      if (to !== from && this.members.has(to)) to.deliver(frame);
      return;
    }
    for (const m of this.members) if (m !== from) m.deliver(frame);
  }
}

const macKey = (m: Uint8Array) => Buffer.from(m).toString("hex");

export class RadioWorld implements Air {
  readonly networks = new Map<string, Network>();
  private readonly staOf = new Map<WlanFirmware, { net: Network; ep: Endpoint }>();
  private readonly apOf = new Map<WlanFirmware, { net: Network; ep: Endpoint }>();
  private nextBssid = 1;

  /** An access point the world plays (a home router): boards join it, a TAP port is its LAN. */
  addNetwork(spec: NetworkSpec): Network {
    if (this.networks.has(spec.ssid)) throw new Error(`radio world: network "${spec.ssid}" already exists`);
    checkSsid(spec.ssid);
    if (spec.password != null && (spec.password.length < 8 || spec.password.length > 63))
      throw new Error(`radio world: WPA2 passphrase of ${spec.password.length} characters (8..63)`);
    const net = new Network({ ssid: spec.ssid, password: spec.password ?? null, channel: spec.channel ?? 6, rssi: spec.rssi ?? -50, bssid: this.bssid() }, null);
    this.networks.set(spec.ssid, net);
    return net;
  }

  /** Takes a network off the air: its stations lose their link. */
  removeNetwork(ssid: string): void {
    const net = this.networks.get(ssid);
    if (!net) throw new Error(`radio world: no network "${ssid}"`);
    this.networks.delete(ssid);
    for (const [fw, s] of this.staOf)
      if (s.net === net) {
        this.staOf.delete(fw);
        fw.linkLost();
      }
  }

  network(ssid: string): Network {
    const n = this.networks.get(ssid);
    if (!n) throw new Error(`radio world: no network "${ssid}" (have ${[...this.networks.keys()].join(", ") || "none"})`);
    return n;
  }

  // ---------------------------------------------------------------- Air (what each chip sees)

  scan(): AirNetwork[] {
    return [...this.networks.values()].map((n) => n.air);
  }

  join(fw: WlanFirmware, ssid: string, passphrase: string | null): JoinResult {
    const net = this.networks.get(ssid);
    if (!net) return { ok: false, why: "nonet" };
    if (net.air.password !== passphrase) return { ok: false, why: "badauth" };
    this.leave(fw);
    const ep: Endpoint = { name: `sta ${macKey(fw.mac)}`, deliver: (f) => fw.deliver(ITF_STA, f) };
    net.join(ep);
    this.staOf.set(fw, { net, ep });
    net.owner?.station(fw.mac, true);
    return { ok: true, network: net.air };
  }

  leave(fw: WlanFirmware): void {
    const s = this.staOf.get(fw);
    if (!s) return;
    this.staOf.delete(fw);
    s.net.leave(s.ep);
    s.net.owner?.station(fw.mac, false);
  }

  apUp(fw: WlanFirmware, ap: { ssid: string; password: string | null; channel: number }): void {
    if (this.networks.has(ap.ssid)) throw new Error(`radio world: a board starts access point "${ap.ssid}", which is already on the air`);
    const net = new Network({ ssid: ap.ssid, password: ap.password, channel: ap.channel, rssi: -40, bssid: fw.mac.slice() }, fw);
    const ep: Endpoint = { name: `ap ${macKey(fw.mac)}`, deliver: (f) => fw.deliver(ITF_AP, f) };
    net.join(ep);
    this.networks.set(ap.ssid, net);
    this.apOf.set(fw, { net, ep });
  }

  apDown(fw: WlanFirmware): void {
    const a = this.apOf.get(fw);
    if (!a) return;
    this.apOf.delete(fw);
    this.removeNetwork(a.net.air.ssid);
  }

  send(fw: WlanFirmware, itf: number, frame: Uint8Array): void {
    const s = itf === ITF_AP ? this.apOf.get(fw) : this.staOf.get(fw);
    s?.net.send(s.ep, frame);
  }

  private bssid(): Uint8Array {
    const n = this.nextBssid++;
    return Uint8Array.of(0x02, 0x70, 0x77, 0x00, (n >> 8) & 0xff, n & 0xff); // locally administered
  }
}

function checkSsid(ssid: string): void {
  const len = Buffer.byteLength(ssid, "latin1");
  if (len < 1 || len > 32) throw new Error(`radio world: SSID of ${len} bytes (1..32)`);
}
