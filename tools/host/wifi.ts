// The radio of a virtual board: the networks it can see, joining one, running an access point.
// Events are reported through `post`, never synchronously, as the CYW43 driver reports them.
//
// Two modes. By default (the Node host's virtual boards) every operation completes after a fixed short
// delay on real timers, against a fixed list of networks. With `WifiOptions.air` (the deterministic
// simulator, tools/sim) the networks are whatever access points exist in the simulated air at that
// moment, delays are drawn from `timing` with the simulator's seeded PRNG and run on its virtual-time
// `scheduler`, addresses are leased by the air, and the air can take a network away (WIFI_EV_STA_DOWN).
import { createHash } from "node:crypto";
import { C } from "./abi.generated.ts";

export interface Network {
  /** the access point's MAC (6 bytes); default: derived from the SSID */
  bssid?: Uint8Array;
  ssid: string;
  password: string;
  rssi: number;
  channel: number;
}

export type WifiEventSink = (kind: number, status: number, payload?: Uint8Array) => void;

/** Where a board's timers and deferred work run: real timers by default, virtual time in the simulator. */
export interface Scheduler {
  /** Milliseconds (the board passes it to the core as u32). */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** Run `fn` after the current event, at the same time. */
  defer(fn: () => void): void;
}

/** [min, max] milliseconds; a delay is drawn uniformly from it. */
export type Range = readonly [number, number];

/** How long the radio takes, in milliseconds. See SIM_WIFI_TIMING for the figures and their sources. */
export interface WifiTiming {
  /** a full active scan of the 2.4 GHz channels */
  scanMs: Range;
  /** finding the network, 802.11 authentication + association and the WPA2 4-way handshake */
  joinMs: Range;
  /** lwIP's DHCP client: DISCOVER/OFFER/REQUEST/ACK once associated */
  dhcpMs: Range;
  /** bringing up an access point (beaconing starts) */
  apStartMs: Range;
}

/**
 * The radio timings the simulator uses. Published figures and the assumptions made on top of them:
 * - scan: the CYW43439 firmware (Broadcom "wl") defaults to 40 ms active dwell per channel
 *   (`scan_unassoc_time`) on 11-13 channels of 2.4 GHz plus channel switches and result handling;
 *   Mishra, Shin, Arbaugh, "An Empirical Analysis of the IEEE 802.11 MAC Layer Handoff Process",
 *   SIGCOMM CCR 33(2), 2003, measured probe (scan) phases of ~60-400 ms for a handoff and found the scan
 *   is >90% of it. Assumption: a full scan on the Pico W takes 600-1500 ms (MicroPython's `wlan.scan()`
 *   is commonly seen to return in about a second).
 * - join: the same paper measured authentication + (re)association at a few milliseconds; the WPA2
 *   4-way handshake adds 2 round trips and key derivation on a 133 MHz M0+ host; cyw43's join also
 *   scans for the SSID first. Assumption: 300-1200 ms from wifi_join to associated.
 * - dhcp: lwIP's client sends DISCOVER at once (it skips RFC 2131's optional 1-10 s initial wait) and
 *   retransmits after 2, 4, 8 s; on a healthy LAN DORA is 2 round trips plus the server's processing
 *   (home routers: tens to hundreds of ms). Assumption: 50-500 ms, no retransmission modelled.
 * - AP start: the cyw43 driver's AP bring-up (firmware ioctls, beaconing) is assumed 100-300 ms.
 */
export const SIM_WIFI_TIMING: WifiTiming = {
  scanMs: [600, 1500],
  joinMs: [300, 1200],
  dhcpMs: [50, 500],
  apStartMs: [100, 300],
};

/** A station's lease on the network it joined. */
export interface Lease {
  ip: number;
  rssi: number;
}

/** The simulated air: which access points exist, who may join them, who gets which address. */
export interface Air {
  /** Networks `radio` can hear right now. */
  visible(radio: WifiSim): Network[];
  /** `radio` associated with `ssid` and finished DHCP: its lease, or an ERR_ code. */
  lease(radio: WifiSim, ssid: string, password: string): Lease | number;
  /** `radio` now beacons `ssid`: returns the access point's own address. */
  apUp(radio: WifiSim, ssid: string, password: string, channel: number): number;
  /** `radio` stopped beaconing (the core asked). */
  apDown?(radio: WifiSim): void;
}

export interface WifiOptions {
  /** The radio's MAC (its access point's BSSID); default: derived from its address. */
  mac?: Uint8Array;
  scheduler?: Scheduler;
  timing?: WifiTiming;
  air?: Air;
  /** Uniform [0, 1) draws for the delays (the simulator's seeded PRNG). */
  random?: () => number;
}

/** A locally administered unicast MAC derived from `seed` (stable per board or network). */
export function macFrom(seed: string): Uint8Array {
  const m = createHash("sha256").update(seed).digest().subarray(0, 6);
  m[0] = (m[0] & 0xfe) | 0x02;
  return Uint8Array.from(m);
}

/** The network every virtual board sees unless told otherwise. */
export const LAB_NETWORK: Network = { ssid: "picowire-lab", password: "picowire-lab", rssi: -48, channel: 6 };

export class WifiSim {
  private sta = { status: C.WIFI_DOWN as number, rssi: 0 };
  private ap = { status: C.WIFI_DOWN as number, ssid: "" };
  private staIp = 0;
  private apIp = 0;
  /** Bumped when a join is started or lost, so a stale completion is ignored. */
  private staGen = 0;
  /** The network the station joined (simulated air only). */
  joinedSsid = "";

  constructor(
    private readonly networks: Network[],
    private readonly address: number,
    private readonly post: WifiEventSink,
    private readonly delayMs = 30,
    startJoined = false,
    private readonly opts: WifiOptions = {},
  ) {
    // a virtual board may start on the first network it sees, as a configured board on the bench does
    if (startJoined && networks.length) this.sta = { status: C.WIFI_UP, rssi: networks[0].rssi };
  }

  private draw(r: Range | undefined): number {
    if (!r) return this.delayMs;
    const u = this.opts.random ? this.opts.random() : 0.5;
    return Math.round(r[0] + (r[1] - r[0]) * u);
  }

  private later(fn: () => void, range?: Range): void {
    const s = this.opts.scheduler;
    if (s) s.setTimer(fn, this.draw(range));
    else setTimeout(fn, this.delayMs).unref();
  }

  private visible(): Network[] {
    return this.opts.air ? this.opts.air.visible(this) : this.networks;
  }

  join(ssid: string, password: string): number {
    if (!ssid || ssid.length > 32) return C.ERR_INVAL;
    this.sta.status = C.WIFI_CONNECTING;
    this.staIp = 0;
    const gen = ++this.staGen;
    const timing = this.opts.air ? (this.opts.timing ?? SIM_WIFI_TIMING) : undefined;
    this.later(() => {
      if (this.opts.air && gen !== this.staGen) return; // (the default radio completes every join it started)
      const net = this.visible().find((n) => n.ssid === ssid);
      const failure = !net ? C.ERR_NOTFOUND : net.password !== password ? C.ERR_REFUSED : 0;
      if (failure || !this.opts.air) {
        this.sta = failure ? { status: C.WIFI_FAILED, rssi: 0 } : { status: C.WIFI_UP, rssi: net!.rssi };
        this.post(failure ? C.WIFI_EV_STA_DOWN : C.WIFI_EV_STA_UP, failure || C.OK);
        return;
      }
      // associated; the address comes from DHCP, and the network may vanish meanwhile
      this.later(() => {
        if (gen !== this.staGen) return;
        const lease = this.opts.air!.lease(this, ssid, password);
        if (typeof lease === "number") {
          this.sta = { status: C.WIFI_FAILED, rssi: 0 };
          this.post(C.WIFI_EV_STA_DOWN, lease);
          return;
        }
        this.sta = { status: C.WIFI_UP, rssi: lease.rssi };
        this.staIp = lease.ip;
        this.joinedSsid = ssid;
        this.post(C.WIFI_EV_STA_UP, C.OK);
      }, timing?.dhcpMs);
    }, timing?.joinMs);
    return C.OK;
  }

  startAp(ssid: string, password: string, channel: number): number {
    // WPA2 needs 8..63 characters; an empty password means an open network
    if (!ssid || ssid.length > 32 || (password.length > 0 && (password.length < 8 || password.length > 63))) return C.ERR_INVAL;
    if (channel < 1 || channel > 13) return C.ERR_RANGE;
    this.ap = { status: C.WIFI_CONNECTING, ssid };
    this.later(
      () => {
        if (this.opts.air) this.apIp = this.opts.air.apUp(this, ssid, password, channel);
        this.ap.status = C.WIFI_UP;
        this.post(C.WIFI_EV_AP_UP, C.OK);
      },
      this.opts.air ? (this.opts.timing ?? SIM_WIFI_TIMING).apStartMs : undefined,
    );
    return C.OK;
  }

  scan(): number {
    this.later(
      () => {
        const networks = this.visible();
        for (const n of networks) {
          const ssid = new TextEncoder().encode(n.ssid);
          const bssid = n.bssid ?? macFrom(`bssid:${n.ssid}`);
          this.post(C.WIFI_EV_SCAN_RESULT, 10 + ssid.length, Uint8Array.from([n.rssi & 255, n.channel, n.password ? 1 : 0, ssid.length, ...ssid, ...bssid]));
        }
        this.post(C.WIFI_EV_SCAN_DONE, networks.length);
      },
      this.opts.air ? (this.opts.timing ?? SIM_WIFI_TIMING).scanMs : undefined,
    );
    return C.OK;
  }

  /** The simulated air took the station's network away (its access point vanished or went out of range). */
  lose(reason: number = C.ERR_TIMEOUT): void {
    if (this.sta.status !== C.WIFI_UP && this.sta.status !== C.WIFI_CONNECTING) return;
    this.staGen++;
    this.sta = { status: C.WIFI_DOWN, rssi: 0 };
    this.staIp = 0;
    this.joinedSsid = "";
    this.post(C.WIFI_EV_STA_DOWN, reason);
  }

  /** The simulated air stopped this board's access point (radio fault): WIFI_EV_AP_DOWN. */
  apLost(): void {
    if (this.ap.status === C.WIFI_DOWN) return;
    this.ap = { status: C.WIFI_DOWN, ssid: "" };
    this.apIp = 0;
    this.post(C.WIFI_EV_AP_DOWN, C.ERR_IO);
  }

  /** A station joined this board's access point (simulated air): WIFI_EV_STA_JOINED with its address. */
  stationJoined(ip: number): void {
    if (this.ap.status === C.WIFI_UP) this.post(C.WIFI_EV_STA_JOINED, ip | 0);
  }

  /** The SSID this board beacons, while its access point is up. */
  apSsid(): string {
    return this.ap.status === C.WIFI_UP ? this.ap.ssid : "";
  }

  /** The radio stops beaconing its access point (the core asked): WIFI_EV_AP_DOWN. */
  stopAp(): number {
    if (this.ap.status === C.WIFI_DOWN) return C.OK;
    this.opts.air?.apDown?.(this);
    this.ap = { status: C.WIFI_DOWN, ssid: "" };
    this.apIp = 0;
    this.later(() => this.post(C.WIFI_EV_AP_DOWN, C.OK));
    return C.OK;
  }

  /** The radio's MAC address: an access point's BSSID. */
  mac(): Uint8Array {
    return this.opts.mac ?? macFrom(`radio:${this.address}`);
  }

  status(iface: number): number {
    return iface === C.IFACE_AP ? this.ap.status : iface === C.IFACE_STA ? this.sta.status : C.ERR_INVAL;
  }

  ip(iface: number): number {
    if (this.status(iface) !== C.WIFI_UP) return 0;
    if (!this.opts.air) return this.address;
    return iface === C.IFACE_AP ? this.apIp : this.staIp || this.address;
  }

  rssi(): number {
    return this.sta.status === C.WIFI_UP ? this.sta.rssi : 0;
  }
}
