// A TAP device in a network namespace as a member of a radio-world network: frames cross through
// tools/emu/tap-bridge.py (length-prefixed on its stdin/stdout), so ordinary programs in the namespace
// (udhcpd, Python, curl) talk to the emulated boards' lwIP.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Endpoint } from "./radio-world.ts";

export class TapPort implements Endpoint {
  readonly name: string;
  private proc: ChildProcess;
  private buf = Buffer.alloc(0);
  onFrame: (frame: Uint8Array) => void = () => {};
  stderr = "";
  /** Frames each way (for tests). */
  sent = 0;
  received = 0;

  private constructor(netns: string, ifname: string) {
    this.name = `tap ${netns}/${ifname}`;
    this.proc = spawn("ip", ["netns", "exec", netns, "python3", join(import.meta.dirname, "tap-bridge.py"), ifname], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stderr!.on("data", (d) => (this.stderr += d));
    this.proc.stdout!.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 2) {
        const n = this.buf.readUInt16BE(0);
        if (this.buf.length < 2 + n) break;
        const frame = new Uint8Array(this.buf.subarray(2, 2 + n));
        this.buf = this.buf.subarray(2 + n);
        this.received++;
        this.onFrame(frame);
      }
    });
  }

  /** Opens ifname (a TAP the caller made with `ip tuntap add ... mode tap`) inside netns. */
  static async open(netns: string, ifname: string, timeoutMs = 10_000): Promise<TapPort> {
    const t = new TapPort(netns, ifname);
    const end = Date.now() + timeoutMs;
    while (!t.stderr.includes("tap-bridge: ready")) {
      if (t.proc.exitCode !== null || Date.now() > end) {
        t.close();
        throw new Error(`tap bridge for ${netns}/${ifname} did not start: ${t.stderr.trim() || `exit ${t.proc.exitCode}`}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return t;
  }

  /** A frame from the air to the namespace. */
  deliver(frame: Uint8Array): void {
    const head = Buffer.alloc(2);
    head.writeUInt16BE(frame.length);
    this.sent++;
    this.proc.stdin!.write(Buffer.concat([head, frame]));
  }

  close(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}
