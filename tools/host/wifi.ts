// The radio of a virtual board: the networks it can see, joining one, running an access point.
// Events are reported through `post`, never synchronously, as the CYW43 driver reports them.
import { C } from "./abi.generated.ts";

export interface Network {
  ssid: string;
  password: string;
  rssi: number;
  channel: number;
}

export type WifiEventSink = (kind: number, status: number, payload?: Uint8Array) => void;

/** The network every virtual board sees unless told otherwise. */
export const LAB_NETWORK: Network = { ssid: "picowire-lab", password: "picowire-lab", rssi: -48, channel: 6 };

export class WifiSim {
  private sta = { status: C.WIFI_DOWN as number, rssi: 0 };
  private ap = { status: C.WIFI_DOWN as number, ssid: "" };

  constructor(
    private readonly networks: Network[],
    private readonly address: number,
    private readonly post: WifiEventSink,
    private readonly delayMs = 30,
    startJoined = false,
  ) {
    // a virtual board may start on the first network it sees, as a configured board on the bench does
    if (startJoined && networks.length) this.sta = { status: C.WIFI_UP, rssi: networks[0].rssi };
  }

  private later(fn: () => void): void {
    setTimeout(fn, this.delayMs).unref();
  }

  join(ssid: string, password: string): number {
    if (!ssid || ssid.length > 32) return C.ERR_INVAL;
    this.sta.status = C.WIFI_CONNECTING;
    this.later(() => {
      const net = this.networks.find((n) => n.ssid === ssid);
      const failure = !net ? C.ERR_NOTFOUND : net.password !== password ? C.ERR_REFUSED : 0;
      this.sta = failure ? { status: C.WIFI_FAILED, rssi: 0 } : { status: C.WIFI_UP, rssi: net!.rssi };
      this.post(failure ? C.WIFI_EV_STA_DOWN : C.WIFI_EV_STA_UP, failure || C.OK);
    });
    return C.OK;
  }

  startAp(ssid: string, password: string, channel: number): number {
    // WPA2 needs 8..63 characters; an empty password means an open network
    if (!ssid || ssid.length > 32 || (password.length > 0 && (password.length < 8 || password.length > 63))) return C.ERR_INVAL;
    if (channel < 1 || channel > 13) return C.ERR_RANGE;
    this.ap = { status: C.WIFI_CONNECTING, ssid };
    this.later(() => {
      this.ap.status = C.WIFI_UP;
      this.post(C.WIFI_EV_AP_UP, C.OK);
    });
    return C.OK;
  }

  scan(): number {
    this.later(() => {
      for (const n of this.networks) {
        const ssid = new TextEncoder().encode(n.ssid);
        this.post(C.WIFI_EV_SCAN_RESULT, 4 + ssid.length, Uint8Array.from([n.rssi & 255, n.channel, n.password ? 1 : 0, ssid.length, ...ssid]));
      }
      this.post(C.WIFI_EV_SCAN_DONE, this.networks.length);
    });
    return C.OK;
  }

  status(iface: number): number {
    return iface === C.IFACE_AP ? this.ap.status : iface === C.IFACE_STA ? this.sta.status : C.ERR_INVAL;
  }

  ip(iface: number): number {
    return this.status(iface) === C.WIFI_UP ? this.address : 0;
  }

  rssi(): number {
    return this.sta.status === C.WIFI_UP ? this.sta.rssi : 0;
  }
}
