// The WLAN firmware's behaviour behind SDPCM, as far as cyw43-driver uses it: the ioctls and iovars it
// issues (answered from modelled state, each one named; anything else is a fault), the async events
// (scan results, join progress, link up/down) and data frames between the host and the radio world.
// Air time is zero: a join or a scan completes in the events right after the ioctl's answer.
import type { Cyw43Chip, ChipFirmware } from "./chip.ts";
import { buildBdc, buildEventFrame, type WlcEvent } from "./sdpcm.ts";

export const WLC = {
  UP: 2, DOWN: 3, SET_INFRA: 20, SET_AUTH: 22, GET_BSSID: 23, GET_SSID: 25, SET_SSID: 26, GET_CHANNEL: 29, SET_CHANNEL: 30,
  DISASSOC: 52, GET_ANTDIV: 63, SET_ANTDIV: 64, SET_DTIMPRD: 78, GET_PM: 85, SET_PM: 86, SET_GMODE: 110, GET_RSSI: 127,
  SET_WSEC: 134, SET_BAND: 142, GET_ASSOCLIST: 159, SET_WPA_AUTH: 165, GET_VAR: 262, SET_VAR: 263, SET_WSEC_PMK: 268,
} as const;
const WLC_NAME = Object.fromEntries(Object.entries(WLC).map(([k, v]) => [v, k]));

export const EV = { SET_SSID: 0, AUTH: 3, DEAUTH_IND: 6, ASSOC: 7, DISASSOC: 11, DISASSOC_IND: 12, LINK: 16, PSK_SUP: 46, ESCAN_RESULT: 69, ASSOC_IND: 8 } as const;
export const ITF_STA = 0;
export const ITF_AP = 1;
const BCME_NOTUP = -4;
const BCME_NOTASSOCIATED = -17;

/** One network on the air as the world describes it. */
export interface AirNetwork {
  ssid: string;
  bssid: Uint8Array;
  channel: number;
  rssi: number;
  /** null: open network. */
  password: string | null;
}

export type JoinResult = { ok: true; network: AirNetwork } | { ok: false; why: "nonet" | "badauth" };

/** The chip's view of the radio world (radio-world.ts implements it). */
export interface Air {
  scan(): AirNetwork[];
  join(port: WlanFirmware, ssid: string, passphrase: string | null): JoinResult;
  leave(port: WlanFirmware): void;
  apUp(port: WlanFirmware, ap: { ssid: string; password: string | null; channel: number }): void;
  apDown(port: WlanFirmware): void;
  send(port: WlanFirmware, itf: number, frame: Uint8Array): void;
}

/** The driver's OTP-less default MAC (cyw43_ll.c default_mac): it then makes up a local one. */
const NVRAM_MAC = Uint8Array.of(0x00, 0xa0, 0x50, 0xb5, 0x59, 0x5e);

export class WlanFirmware implements ChipFirmware {
  mac = NVRAM_MAC.slice();
  up = false;
  country = "";
  eventMask = new Uint8Array(19);
  gpioOut = 0;
  /** The iovars and ioctls seen, in order (for tests and the docs' inventory). */
  readonly log: string[] = [];
  sta = { wsec: 0, wpaAuth: 0, passphrase: null as string | null, joined: null as AirNetwork | null };
  ap = { ssid: "", password: null as string | null, wsec: 0, channel: 3, up: false, stations: [] as Uint8Array[] };
  private vars = new Map<string, number>();
  private mcast: Uint8Array[] = [];

  constructor(readonly chip: Cyw43Chip, readonly air: Air | null) {
    chip.firmware = this;
  }

  booted(): void {}

  private fault(m: string): never {
    return this.chip.fault(m);
  }

  // ---------------------------------------------------------------- control channel

  control(cmd: number, set: boolean, itf: number, payload: Uint8Array, outLen: number): { status: number; payload: Uint8Array } {
    if (cmd === WLC.GET_VAR || cmd === WLC.SET_VAR) {
      const nul = payload.indexOf(0);
      if (nul < 0) this.fault(`${WLC_NAME[cmd]} without a NUL-terminated iovar name`);
      const name = Buffer.from(payload.subarray(0, nul)).toString("latin1");
      const arg = payload.subarray(nul + 1);
      this.log.push(`${cmd === WLC.SET_VAR ? "set" : "get"} ${name}${itf ? ` (itf ${itf})` : ""}`);
      if (cmd === WLC.SET_VAR) return { status: this.setVar(name, arg, itf), payload: payload.slice() };
      const out = new Uint8Array(outLen);
      const status = this.getVar(name, arg, out, itf);
      return { status, payload: out };
    }
    const name = WLC_NAME[cmd] ?? this.fault(`unknown ioctl ${cmd} (${set ? "set" : "get"}, interface ${itf})`);
    this.log.push(`${name}${itf ? ` (itf ${itf})` : ""}`);
    const out = set ? payload.slice() : new Uint8Array(outLen);
    const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const u32 = () => (payload.length >= 4 ? v.getUint32(0, true) : this.fault(`${name} with ${payload.length} bytes of argument`));
    const ov = new DataView(out.buffer);
    switch (cmd) {
      case WLC.UP:
        this.up = true;
        break;
      case WLC.DOWN:
        this.up = false;
        break;
      case WLC.SET_ANTDIV:
      case WLC.SET_PM:
      case WLC.SET_GMODE:
      case WLC.SET_BAND:
      case WLC.SET_INFRA:
      case WLC.SET_AUTH:
      case WLC.SET_DTIMPRD:
        this.vars.set(name, u32());
        break;
      case WLC.SET_CHANNEL:
        this.ap.channel = u32();
        break;
      case WLC.SET_WSEC:
        if (itf === ITF_AP) this.ap.wsec = u32();
        else this.sta.wsec = u32();
        break;
      case WLC.SET_WPA_AUTH:
        this.sta.wpaAuth = u32();
        break;
      case WLC.SET_WSEC_PMK: {
        const len = v.getUint16(0, true);
        if (len > 64 || payload.length < 4 + len) this.fault(`SET_WSEC_PMK with key length ${len}`);
        const key = Buffer.from(payload.subarray(4, 4 + len)).toString("latin1");
        if (itf === ITF_AP) this.ap.password = key;
        else this.sta.passphrase = key;
        break;
      }
      case WLC.SET_SSID: {
        const len = v.getUint32(0, true);
        if (len > 32) this.fault(`SET_SSID with SSID length ${len}`);
        if (!this.up) return { status: BCME_NOTUP, payload: out };
        this.join(Buffer.from(payload.subarray(4, 4 + len)).toString("latin1"));
        break;
      }
      case WLC.DISASSOC:
        this.leave(itf);
        break;
      case WLC.GET_RSSI:
        if (!this.sta.joined) return { status: BCME_NOTASSOCIATED, payload: out };
        ov.setInt32(0, this.sta.joined.rssi, true);
        break;
      case WLC.GET_BSSID:
        if (!this.sta.joined) return { status: BCME_NOTASSOCIATED, payload: out };
        out.set(this.sta.joined.bssid.subarray(0, Math.min(6, out.length)));
        break;
      case WLC.GET_SSID: {
        const ssid = Buffer.from(this.sta.joined?.ssid ?? "", "latin1");
        ov.setUint32(0, ssid.length, true);
        out.set(ssid.subarray(0, out.length - 4), 4);
        break;
      }
      case WLC.GET_CHANNEL:
        ov.setUint32(0, this.sta.joined?.channel ?? this.ap.channel, true);
        break;
      case WLC.GET_PM:
        ov.setUint32(0, this.vars.get("SET_PM") ?? 0, true);
        break;
      case WLC.GET_ANTDIV:
        ov.setUint32(0, this.vars.get("SET_ANTDIV") ?? 0, true);
        break;
      case WLC.GET_ASSOCLIST: {
        const max = u32();
        const n = Math.min(max, this.ap.stations.length);
        ov.setUint32(0, this.ap.stations.length, true);
        for (let i = 0; i < n && 4 + i * 6 + 6 <= out.length; i++) out.set(this.ap.stations[i], 4 + i * 6);
        break;
      }
      default:
        this.fault(`ioctl ${name} (${cmd}) is not modelled`);
    }
    return { status: 0, payload: out };
  }

  private setVar(name: string, arg: Uint8Array, itf: number): number {
    const v = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
    const u32 = (at = 0) => (arg.length >= at + 4 ? v.getUint32(at, true) : this.fault(`iovar ${name} with ${arg.length} bytes of value`));
    switch (name) {
      case "clmload": {
        const flag = v.getUint16(0, true);
        const len = v.getUint32(4, true);
        if (v.getUint16(2, true) !== 2 || arg.length < 12 + len) this.fault(`clmload chunk header (flag 0x${flag.toString(16)}, type ${v.getUint16(2, true)}, length ${len})`);
        this.chip.clmChunk(flag, arg.subarray(12, 12 + len));
        return 0;
      }
      case "cur_etheraddr":
        if (arg.length < 6) this.fault("cur_etheraddr with fewer than 6 bytes");
        this.mac = arg.slice(0, 6);
        return 0;
      case "country": {
        if (!this.chip.clmStatus().ok) return -1; // no regulatory data: the firmware refuses every country
        this.country = Buffer.from(arg.subarray(0, 2)).toString("latin1");
        return 0;
      }
      case "bsscfg:event_msgs":
        this.eventMask = arg.slice(4, 4 + 19);
        return 0;
      case "escan":
        this.scan();
        return 0;
      case "bsscfg:sup_wpa":
      case "bsscfg:sup_wpa2_eapver":
      case "bsscfg:sup_wpa_tmo":
        this.vars.set(name, u32(4));
        return 0;
      case "bsscfg:ssid": {
        const len = u32(4);
        if (u32(0) !== ITF_AP || len > 32) this.fault(`bsscfg:ssid for bsscfg ${u32(0)} with length ${len}`);
        this.ap.ssid = Buffer.from(arg.subarray(8, 8 + len)).toString("latin1");
        return 0;
      }
      case "bsscfg:wsec":
        this.ap.wsec = u32(4);
        return 0;
      case "bsscfg:wpa_auth":
        this.vars.set(name, u32(4));
        return 0;
      case "bss": {
        if (u32(0) !== ITF_AP) this.fault(`bss for bsscfg ${u32(0)} (only the AP's is modelled)`);
        this.setAp(u32(4) !== 0);
        return 0;
      }
      case "gpioout": {
        const mask = u32(0);
        this.gpioOut = (this.gpioOut & ~mask) | (u32(4) & mask);
        return 0;
      }
      case "mcast_list": {
        const n = u32(0);
        if (n > 10) this.fault(`mcast_list of ${n} addresses (the driver keeps 10)`);
        this.mcast = Array.from({ length: n }, (_, i) => arg.slice(4 + i * 6, 10 + i * 6));
        return 0;
      }
      case "bus:txglom":
      case "apsta":
      case "ampdu_ba_wsize":
      case "ampdu_mpdu":
      case "ampdu_rx_factor":
      case "pm2_sleep_ret":
      case "bcn_li_bcn":
      case "bcn_li_dtim":
      case "assoc_listen":
      case "mfp":
      case "2g_mrate":
      case "allmulti":
        this.vars.set(name, u32());
        return 0;
    }
    this.fault(`iovar "${name}" (set, interface ${itf}) is not modelled`);
  }

  private getVar(name: string, arg: Uint8Array, out: Uint8Array, itf: number): number {
    const ov = new DataView(out.buffer);
    const put32 = (x: number) => out.length >= 4 && ov.setUint32(0, x >>> 0, true);
    switch (name) {
      case "clmload_status":
        put32(this.chip.clmStatus().ok ? 0 : 1);
        return 0;
      case "clmver": {
        const text = Buffer.from("API: 12.2 Data: (cyw43 model) Compiler: none\0", "latin1");
        out.set(text.subarray(0, out.length));
        return 0;
      }
      case "cur_etheraddr":
        out.set(this.mac.subarray(0, Math.min(6, out.length)));
        return 0;
      case "bss":
        put32(this.ap.up ? 1 : 0);
        return 0;
      case "maxassoc":
        put32(8);
        return 0;
      case "ccgpioin":
        put32(this.gpioOut);
        return 0;
      case "mcast_list":
        put32(this.mcast.length);
        this.mcast.forEach((m, i) => out.set(m, 4 + i * 6));
        return 0;
      case "pm2_sleep_ret":
      case "bcn_li_bcn":
      case "bcn_li_dtim":
      case "assoc_listen":
      case "apsta":
      case "ampdu_ba_wsize":
        put32(this.vars.get(name) ?? 0);
        return 0;
    }
    void arg;
    this.fault(`iovar "${name}" (get, interface ${itf}) is not modelled`);
  }

  // ---------------------------------------------------------------- events

  event(ev: WlcEvent): void {
    if (!(this.eventMask[ev.type >> 3] & (1 << (ev.type & 7)))) return; // masked by bsscfg:event_msgs
    this.chip.sendEvent(buildBdc(ev.itf, buildEventFrame(ev, this.mac, this.mac)));
  }

  private scan(): void {
    const nets = this.air?.scan() ?? [];
    for (const n of nets) this.event({ type: EV.ESCAN_RESULT, status: 8, reason: 0, itf: ITF_STA, data: escanResult(n) });
    this.event({ type: EV.ESCAN_RESULT, status: 0, reason: 0, itf: ITF_STA });
  }

  private join(ssid: string): void {
    if (this.sta.joined) this.leave(ITF_STA);
    const secured = this.sta.wpaAuth !== 0;
    const r = this.air ? this.air.join(this, ssid, secured ? this.sta.passphrase : null) : ({ ok: false, why: "nonet" } as const);
    if (!r.ok && r.why === "nonet") {
      this.event({ type: EV.SET_SSID, status: 3, reason: 0, itf: ITF_STA }); // no networks: the driver's NONET
      return;
    }
    const bssid = r.ok ? r.network.bssid : new Uint8Array(6);
    this.event({ type: EV.AUTH, status: 0, reason: 0, itf: ITF_STA, addr: bssid });
    this.event({ type: EV.ASSOC, status: 0, reason: 0, itf: ITF_STA, addr: bssid });
    this.event({ type: EV.LINK, status: 0, reason: 0, flags: 1, itf: ITF_STA, addr: bssid });
    if (!r.ok) {
      // wrong key: the 4-way handshake fails (PSK_SUP not keyed), then the AP deauthenticates us
      this.event({ type: EV.PSK_SUP, status: 8, reason: 14, itf: ITF_STA, addr: bssid });
      this.event({ type: EV.DEAUTH_IND, status: 0, reason: 2, itf: ITF_STA, addr: bssid });
      return;
    }
    this.sta.joined = r.network;
    if (secured) this.event({ type: EV.PSK_SUP, status: 6, reason: 0, itf: ITF_STA, addr: bssid }); // keyed
    this.event({ type: EV.SET_SSID, status: 0, reason: 0, itf: ITF_STA, addr: bssid });
  }

  private leave(itf: number): void {
    if (itf === ITF_AP) return this.setAp(false);
    const was = this.sta.joined;
    this.sta.joined = null;
    if (was) this.air?.leave(this);
    this.event({ type: EV.LINK, status: 0, reason: 0, flags: 0, itf: ITF_STA, addr: was?.bssid });
    this.event({ type: EV.DISASSOC, status: 0, reason: 0, itf: ITF_STA, addr: was?.bssid });
  }

  /** WL_ON went low (the board reset): the chip forgets everything and its radio leaves the air without a
   *  word, as a powered-off chip would (its access point's stations and its network notice by themselves). */
  poweredOff(): void {
    if (this.sta.joined) this.air?.leave(this);
    if (this.ap.up) this.air?.apDown(this);
    this.mac = NVRAM_MAC.slice();
    this.up = false;
    this.country = "";
    this.eventMask.fill(0);
    this.gpioOut = 0;
    this.sta = { wsec: 0, wpaAuth: 0, passphrase: null, joined: null };
    this.ap = { ssid: "", password: null, wsec: 0, channel: 3, up: false, stations: [] };
    this.vars.clear();
    this.mcast = [];
  }

  /** The network dropped us: its access point deauthenticates its stations as it goes (802.11 reason 2,
   *  on which the driver disassociates; no beacon-loss or roaming model). */
  linkLost(): void {
    if (!this.sta.joined) return;
    const was = this.sta.joined;
    this.sta.joined = null;
    this.event({ type: EV.DEAUTH_IND, status: 0, reason: 2, itf: ITF_STA, addr: was.bssid });
    this.event({ type: EV.LINK, status: 0, reason: 0, flags: 0, itf: ITF_STA, addr: was.bssid });
  }

  private setAp(up: boolean): void {
    if (up === this.ap.up) return;
    if (up && !this.ap.ssid) this.fault("bss up before bsscfg:ssid");
    this.ap.up = up;
    if (up) this.air?.apUp(this, { ssid: this.ap.ssid, password: this.ap.wsec ? this.ap.password : null, channel: this.ap.channel });
    else {
      this.air?.apDown(this);
      this.ap.stations = [];
    }
    this.event({ type: EV.LINK, status: 0, reason: 0, flags: up ? 1 : 0, itf: ITF_AP, addr: this.mac });
  }

  /** A station associated with (or left) this board's access point. */
  station(mac: Uint8Array, joined: boolean): void {
    const i = this.ap.stations.findIndex((m) => Buffer.compare(m, mac) === 0);
    if (joined && i < 0) this.ap.stations.push(mac.slice());
    if (!joined && i >= 0) this.ap.stations.splice(i, 1);
    this.event({ type: joined ? EV.ASSOC_IND : EV.DISASSOC_IND, status: 0, reason: 0, itf: ITF_AP, addr: mac });
  }

  // ---------------------------------------------------------------- data

  data(itf: number, frame: Uint8Array): void {
    if (frame.length < 14) this.fault(`data frame of ${frame.length} bytes (shorter than an Ethernet header)`);
    if (itf === ITF_STA && !this.sta.joined) return; // not associated: the frame has nowhere to go
    if (itf === ITF_AP && !this.ap.up) return;
    if (itf !== ITF_STA && itf !== ITF_AP) this.fault(`data frame for interface ${itf}`);
    this.air?.send(this, itf, frame.slice());
  }

  /** The station's multicast filter as the driver last wrote it (mcast_list), as "01:00:5e:..." strings. */
  get multicastList(): string[] {
    return this.mcast.map((m) => [...m].map((b) => b.toString(16).padStart(2, "0")).join(":"));
  }

  /** Multicast frames the station's filter kept from the host (a group nobody joined). */
  multicastFiltered = 0;

  /** A frame from the air for one of this chip's interfaces. The station passes a multicast frame only
   *  to a group in its mcast_list (the driver's cyw43_ll_wifi_update_multicast_filter, called by lwIP's
   *  IGMP joins and leaves) or with allmulti set; broadcast always passes. The AP interface is not
   *  filtered (the driver sets the list on the station's interface only). */
  deliver(itf: number, frame: Uint8Array): void {
    if (!this.chip.running) return;
    if (itf === ITF_STA && !this.multicastPasses(frame)) {
      this.multicastFiltered++;
      return;
    }
    this.chip.sendData(buildBdc(itf, frame));
  }

  private multicastPasses(frame: Uint8Array): boolean {
    if ((frame[0] & 1) === 0 || frame.subarray(0, 6).every((b) => b === 0xff)) return true; // unicast, broadcast
    if (this.vars.get("allmulti")) return true;
    return this.mcast.some((m) => m.every((b, i) => b === frame[i]));
  }
}

/** wl_escan_result with one wl_bss_info (the layout cyw43_ll.c parses), LE. */
export function escanResult(n: AirNetwork): Uint8Array {
  const ies: number[] = [0, Math.min(32, n.ssid.length), ...Buffer.from(n.ssid, "latin1").subarray(0, 32)];
  if (n.password !== null) ies.push(48, 20, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 2, 0, 0); // RSN: CCMP, PSK
  const bssLen = 128 + ies.length;
  const out = new Uint8Array(12 + bssLen);
  const v = new DataView(out.buffer);
  v.setUint32(0, out.length, true); // buflen
  v.setUint32(4, 109, true); // version
  v.setUint16(8, 0, true); // sync id
  v.setUint16(10, 1, true); // bss count
  const b = 12;
  v.setUint32(b + 0, 109, true);
  v.setUint32(b + 4, bssLen, true);
  out.set(n.bssid, b + 8);
  v.setUint16(b + 14, 100, true); // beacon period
  v.setUint16(b + 16, 0x0001 | (n.password !== null ? 0x0010 : 0), true); // ESS, privacy
  const ssid = Buffer.from(n.ssid, "latin1").subarray(0, 32);
  out[b + 18] = ssid.length;
  out.set(ssid, b + 19);
  v.setUint16(b + 72, n.channel | 0x1000 | 0x0000, true); // chanspec: 20 MHz, 2.4 GHz
  v.setInt16(b + 78, n.rssi, true);
  out[b + 88] = n.channel;
  v.setUint16(b + 116, 128, true); // ie offset
  v.setUint32(b + 120, ies.length, true);
  out.set(ies, b + 128);
  return out;
}
