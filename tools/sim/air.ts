// The simulated air: the home network's access point (topology home), the access points boards run
// (topologies ap and auto), which station is associated with which, and the addresses leased. A
// network "segment" is one broadcast domain: the home network, or one board's access point.
import { C } from "../host/abi.generated.ts";
import { LAB_NETWORK, type Air, type Lease, type Network, type WifiSim } from "../host/wifi.ts";
import { hash32 } from "./clock.ts";

export const HOME_SEGMENT = "home";
/** The Pico W SDK's default access-point address (pico-examples access_point: 192.168.4.1). */
export const AP_ADDRESS = 0xc0a80401;

interface AccessPoint {
  slot: number;
  ssid: string;
  password: string;
  channel: number;
  segment: string;
  ip: number;
  leases: Map<number, number>; // station slot -> address
}

export interface Attachment {
  segment: string;
  ip: number;
  iface: number;
}

export class SimAir {
  /** the home network's router, while it is up (topology home) */
  home: Network | null;
  private readonly aps = new Map<number, AccessPoint>();
  private readonly stations = new Map<number, { segment: string; ip: number; ap: number }>();
  private readonly radios = new Map<number, WifiSim>();
  private apCount = 0;

  constructor(
    home: boolean,
    /** first address and size of an access point's lease pool (the core's dhcp_first / dhcp_count) */
    private readonly dhcpFirst: number,
    private readonly dhcpCount: number,
    /** called when a board's segments change (join, leave, AP up or down) */
    private readonly onChange: (slot: number, what: string) => void,
  ) {
    this.home = home ? LAB_NETWORK : null;
  }

  /** The home network's address of board `slot`: 10.0.x.y. */
  static homeAddress(slot: number): number {
    return (0x0a000000 + slot + 1) >>> 0;
  }

  register(slot: number, radio: WifiSim, joinedHome: boolean): void {
    this.radios.set(slot, radio);
    if (joinedHome) this.stations.set(slot, { segment: HOME_SEGMENT, ip: SimAir.homeAddress(slot), ap: -1 });
  }

  /** The board is gone (crash, power off): its access point vanishes, its association too. */
  remove(slot: number): void {
    this.radios.delete(slot);
    this.stations.delete(slot);
    this.dropAp(slot, false);
  }

  /** Where board `slot` is attached now: at most one station segment and one access-point segment. */
  attachments(slot: number): Attachment[] {
    const out: Attachment[] = [];
    const sta = this.stations.get(slot);
    const radio = this.radios.get(slot);
    if (sta && radio && radio.status(C.IFACE_STA) === C.WIFI_UP) out.push({ segment: sta.segment, ip: sta.ip, iface: C.IFACE_STA });
    const ap = this.aps.get(slot);
    if (ap) out.push({ segment: ap.segment, ip: ap.ip, iface: C.IFACE_AP });
    return out;
  }

  /** The access point of `slot` stops beaconing: its stations lose the network; the board sees AP_DOWN. */
  dropAp(slot: number, tellBoard = true): boolean {
    const ap = this.aps.get(slot);
    if (!ap) return false;
    this.aps.delete(slot);
    for (const [st, s] of [...this.stations]) {
      if (s.segment !== ap.segment) continue;
      this.stations.delete(st);
      this.radios.get(st)?.lose(C.ERR_TIMEOUT);
      this.onChange(st, `lost ${ap.ssid} (access point board-${slot} gone)`);
    }
    if (tellBoard) this.radios.get(slot)?.apLost();
    this.onChange(slot, `access point ${ap.ssid} down`);
    return true;
  }

  /** The home router goes away: every station on it loses the network. */
  dropHome(): void {
    if (!this.home) return;
    this.home = null;
    for (const [st, s] of [...this.stations]) {
      if (s.segment !== HOME_SEGMENT) continue;
      this.stations.delete(st);
      this.radios.get(st)?.lose(C.ERR_TIMEOUT);
    }
  }

  /** The home router is back; the host (wifi_mode=off: the host manages the radio) rejoins every board. */
  restoreHome(): void {
    this.home = LAB_NETWORK;
    for (const radio of this.radios.values()) radio.join(LAB_NETWORK.ssid, LAB_NETWORK.password);
  }

  /** The access point `slot` runs now, if any. */
  apOf(slot: number): { ssid: string; segment: string } | undefined {
    return this.aps.get(slot);
  }

  /** The Air interface for the radio of board `slot`. */
  forSlot(slot: number): Air {
    return {
      visible: () => this.visible(slot),
      lease: (_radio, ssid, password) => this.lease(slot, ssid, password),
      apUp: (_radio, ssid, password, channel) => {
        this.dropAp(slot, false);
        const segment = `ap${this.apCount++}@board-${slot}`;
        this.aps.set(slot, { slot, ssid, password, channel, segment, ip: AP_ADDRESS, leases: new Map() });
        this.onChange(slot, `access point ${ssid} up (${segment})`);
        return AP_ADDRESS;
      },
      apDown: () => void this.dropAp(slot, false),
    };
  }

  /** Signal between two boards, fixed per pair: -80..-35 dBm. */
  private rssi(a: number, b: number): number {
    return -35 - (hash32(`${Math.min(a, b)}:${Math.max(a, b)}`) % 46);
  }

  private visible(slot: number): Network[] {
    const out: Network[] = [];
    if (this.home) out.push(this.home);
    for (const ap of this.aps.values()) {
      if (ap.slot !== slot) out.push({ ssid: ap.ssid, password: ap.password, channel: ap.channel, rssi: this.rssi(slot, ap.slot), bssid: this.radios.get(ap.slot)?.mac() });
    }
    return out;
  }

  private lease(slot: number, ssid: string, password: string): Lease | number {
    this.stations.delete(slot);
    if (this.home && ssid === this.home.ssid && password === this.home.password) {
      const ip = SimAir.homeAddress(slot);
      this.stations.set(slot, { segment: HOME_SEGMENT, ip, ap: -1 });
      this.onChange(slot, `joined ${ssid} as ${ip}`);
      return { ip, rssi: this.home.rssi };
    }
    // the strongest access point with that SSID (several boards may beacon the same one)
    let best: AccessPoint | undefined;
    for (const ap of this.aps.values()) {
      if (ap.slot === slot || ap.ssid !== ssid) continue;
      if (!best || this.rssi(slot, ap.slot) > this.rssi(slot, best.slot)) best = ap;
    }
    if (!best) return C.ERR_NOTFOUND; // it vanished while we associated
    if (best.password !== password) return C.ERR_REFUSED;
    let ip = best.leases.get(slot);
    if (ip === undefined) {
      if (best.leases.size >= this.dhcpCount) return C.ERR_TIMEOUT; // pool exhausted: no DHCP offer
      const used = new Set(best.leases.values());
      for (let i = 0; i < this.dhcpCount && ip === undefined; i++) if (!used.has(this.dhcpFirst + i)) ip = this.dhcpFirst + i;
      best.leases.set(slot, ip!);
    }
    this.stations.set(slot, { segment: best.segment, ip: ip!, ap: best.slot });
    this.radios.get(best.slot)?.stationJoined(ip!);
    this.onChange(slot, `joined ${ssid} on board-${best.slot}`);
    return { ip: ip!, rssi: this.rssi(slot, best.slot) };
  }
}
