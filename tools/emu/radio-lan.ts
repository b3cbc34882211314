// A wired LAN behind a radio-world network: one Linux network namespace holding a TAP device (the
// network's Ethernet side), with busybox udhcpd serving addresses on it. Programs run in the namespace
// (lan.exec / lan.spawn) reach the emulated boards' lwIP through the TAP; nothing touches the root
// namespace. Names start with pwt-<pid>- like test/helpers/netns.ts's, so its sweep removes leftovers.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TapPort } from "./tap.ts";
import type { Network } from "./radio-world.ts";

const IP_TIMEOUT_MS = 10_000;
const CLI = join(import.meta.dirname, "..", "..", "bin", "picowire.js");
let seq = 0;

export interface RadioLanOptions {
  /** The namespace side's address (the router), e.g. 192.168.77.1/24; DHCP hands out .100-.150.
   *  null: none (a station that asks a board's DHCP server with udhcpc). */
  address?: string | null;
  dhcp?: boolean;
}

export class RadioLan {
  readonly ns: string;
  readonly tap: TapPort;
  readonly address: string;
  private procs: ChildProcess[] = [];
  dhcpLog = "";

  private constructor(ns: string, tap: TapPort, address: string) {
    this.ns = ns;
    this.tap = tap;
    this.address = address;
  }

  static async create(network: Network, opts: RadioLanOptions = {}): Promise<RadioLan> {
    const ns = `pwt-${process.pid}-${seq++}-radio`;
    const cidr = opts.address === undefined ? "192.168.77.1/24" : opts.address;
    const [ip, bits] = cidr?.split("/") ?? ["", "24"];
    if (bits !== "24") throw new Error(`radio LAN: only /24 networks (got ${cidr})`);
    const ipc = (...a: string[]) => execFileSync("ip", a, { stdio: ["ignore", "pipe", "pipe"], timeout: IP_TIMEOUT_MS });
    ipc("netns", "add", ns);
    try {
      ipc("-n", ns, "link", "set", "lo", "up");
      ipc("-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap");
      if (cidr) ipc("-n", ns, "addr", "add", cidr, "dev", "tap0");
      ipc("-n", ns, "link", "set", "tap0", "up");
      const tap = await TapPort.open(ns, "tap0");
      const lan = new RadioLan(ns, tap, ip);
      network.join(tap);
      tap.onFrame = (f) => network.send(tap, f);
      if (cidr && opts.dhcp !== false) lan.startDhcp(ip);
      return lan;
    } catch (e) {
      try {
        ipc("netns", "del", ns);
      } catch {}
      throw e;
    }
  }

  private startDhcp(router: string): void {
    const dir = mkdtempSync(join(tmpdir(), "pw-radio-lan-"));
    const net = router.split(".").slice(0, 3).join(".");
    writeFileSync(join(dir, "leases"), "");
    writeFileSync(
      join(dir, "udhcpd.conf"),
      `start ${net}.100\nend ${net}.150\nmax_leases 51\ninterface tap0\nlease_file ${dir}/leases\noption subnet 255.255.255.0\noption router ${router}\n`,
    );
    // -a 100: answer after a 100 ms ARP probe of the address (the default 2 s probe stalls emulated boards' first lease)
    const p = this.spawn("busybox", ["udhcpd", "-f", "-a", "100", join(dir, "udhcpd.conf")]);
    p.stderr!.on("data", (d) => (this.dhcpLog += d));
    p.stdout!.on("data", (d) => (this.dhcpLog += d));
  }

  /** A process inside the namespace (killed by destroy()). */
  spawn(cmd: string, args: string[]): ChildProcess {
    const p = spawn("ip", ["netns", "exec", this.ns, cmd, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.procs.push(p);
    return p;
  }

  /** Runs a command in the namespace to completion or timeout (then SIGKILL); never rejects. */
  exec(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile("ip", ["netns", "exec", this.ns, cmd, ...args], { timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8" }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, stdout, stderr: stderr || (e?.message ?? "") });
      });
    });
  }

  /** The picowire CLI (bin/picowire.js) run inside the namespace, e.g. `info IP --key-file K --json`. */
  picowire(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return this.exec(process.execPath, [CLI, ...args], timeoutMs);
  }

  destroy(): void {
    this.tap.close();
    for (const p of this.procs) if (p.exitCode === null) p.kill("SIGKILL");
    try {
      execFileSync("ip", ["netns", "del", this.ns], { stdio: "ignore", timeout: IP_TIMEOUT_MS });
    } catch {}
  }
}
