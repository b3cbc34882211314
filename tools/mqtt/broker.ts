// A real MQTT broker for the tests and the soak: Debian's mosquitto on a loopback port, with its own
// configuration, persistence and password files in a temporary directory (`.ci/run` installs it), and a
// broker-side client that records what it receives.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient, type IClientOptions } from "mqtt";
import { freePort } from "../host/ports.ts";


export const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((p) => spawnSync(p, ["-h"]).error === undefined);

export interface BrokerOptions {
  /** user -> password: anonymous clients are refused. */
  users?: Record<string, string>;
}

export class Broker {
  readonly dir = mkdtempSync(join(tmpdir(), "picowire-broker-"));
  port = 0;
  log = "";
  private proc: ChildProcess | null = null;

  constructor(private readonly opts: BrokerOptions = {}) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!MOSQUITTO) throw new Error("mosquitto is not installed (apt-get install mosquitto)");
    if (!this.port) this.port = await freePort();
    chmodSync(this.dir, 0o777); // mosquitto started as root runs as its own user: it writes its database here
    const conf = [`listener ${this.port} 127.0.0.1`, "persistence true", `persistence_location ${this.dir}/`, "log_dest stdout", "log_type all"];
    if (this.opts.users) {
      const file = join(this.dir, "passwords");
      writeFileSync(file, "", { mode: 0o644 });
      for (const [u, p] of Object.entries(this.opts.users)) {
        const r = spawnSync("mosquitto_passwd", ["-b", file, u, p]);
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
      }
      conf.push("allow_anonymous false", `password_file ${file}`);
    } else conf.push("allow_anonymous true");
    writeFileSync(join(this.dir, "mosquitto.conf"), conf.join("\n") + "\n");
    const proc = spawn(MOSQUITTO, ["-c", join(this.dir, "mosquitto.conf")], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (d) => (this.log += d));
    proc.stderr!.on("data", (d) => (this.log += d));
    this.proc = proc;
    const end = Date.now() + 5000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${this.log}`);
      const ok = await new Promise<boolean>((r) => {
        const s = net.connect({ host: "127.0.0.1", port: this.port }, () => (s.destroy(), r(true)));
        s.on("error", () => r(false));
      });
      if (ok) return;
      if (Date.now() > end) throw new Error(`mosquitto did not listen on ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM: mosquitto saves its sessions and retained messages to the persistence file. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once("exit", () => r());
      p.kill("SIGTERM");
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A client on the broker's side (the npm `mqtt` package) that records every message it receives. */
export class Watcher {
  readonly messages: { topic: string; text: string; retain: boolean; qos: number }[] = [];
  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => this.messages.push({ topic, text: payload.toString(), retain: packet.retain, qos: packet.qos }));
  }

  static async connect(url: string, topics: string[], opts: IClientOptions = {}): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    const w = new Watcher(client);
    if (topics.length) await client.subscribeAsync(topics, { qos: 1 });
    return w;
  }

  /** The latest message on `topic`, or undefined. */
  last(topic: string): { topic: string; text: string; retain: boolean; qos: number } | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].topic === topic) return this.messages[i];
    return undefined;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
