// The MQTT bridge (assembly/mqtt) against a real broker: Debian's mosquitto on a loopback port, checked
// from the broker's side with the npm `mqtt` client: Home Assistant discovery, state, commands only on
// the board's own topics, last will, QoS 1 delivery across a broker restart, credentials, boards meeting
// through the broker. A hand-written broker checks what mosquitto cannot be made to do (drop a PUBACK,
// send malformed packets). Loopback only.
import { describe, it, expect, afterEach, beforeEach } from "vitest";
import net from "node:net";
import { C, ABI_VERSION } from "../../tools/host/abi.generated.ts";
import { Client } from "../../tools/client.ts";
import { startBoard, stopBoards, waitFor, freePort, boardAddress, serverAddressForBoard, wallCap, type TestBoard } from "../helpers/boards.ts";
import { picowire } from "../helpers/cli.ts";
import { Broker, Watcher, MOSQUITTO } from "../../tools/mqtt/broker.ts";
import { needs } from "../helpers/inputs.ts";

if (!MOSQUITTO) {
  console.warn(`\n${"!".repeat(100)}\n!!! SKIPPED test/protocol/mqtt.test.ts: mosquitto is not installed (apt-get install mosquitto; .ci/run does)\n${"!".repeat(100)}\n`);
}

const brokers: Broker[] = [];
const watchers: Watcher[] = [];
afterEach(async () => {
  await stopBoards();
  for (const w of watchers.splice(0)) await w.close().catch(() => {});
  for (const b of brokers.splice(0)) await b.dispose();
});

async function broker(opts = {}): Promise<Broker> {
  const b = new Broker(opts);
  brokers.push(b);
  await b.start();
  return b;
}

async function watch(b: Broker, topics: string[], opts = {}): Promise<Watcher> {
  const w = await Watcher.connect(b.url, topics, opts);
  watchers.push(w);
  return w;
}

function config(b: Broker, id: string, extra: string[] = []): string {
  return [`mqtt=${b.url}`, `mqtt_id=${id}`, "http_port=0", "control_port=0", ...extra].join("\n");
}

const seen = (w: Watcher, topic: string, text?: string) => () => w.messages.some((m) => m.topic === topic && (text === undefined || m.text === text));
const logged = (b: TestBoard, re: RegExp) => () => b.lines.some((l) => re.test(l.text));
/** The broker's address as the board names it in its lines: 127.0.0.1, or on emu its network's router (relayed). */
const BROKER_SEEN = serverAddressForBoard("127.0.0.1").replace(/\./g, "\\.");

needs(MOSQUITTO ? null : "mosquitto is not installed (apt-get install mosquitto; .ci/run does)").describe("MQTT bridge with mosquitto", () => {
  it("announces the light, diagnostics and availability to Home Assistant", async () => {
    const br = await broker();
    const w = await watch(br, ["homeassistant/#", "picowire/#"]);
    const b = await startBoard(config(br, "kitchen"));
    await waitFor(seen(w, "picowire/kitchen/status", "online"), "online");
    await waitFor(seen(w, "homeassistant/sensor/kitchen/role/config"), "discovery");
    const light = JSON.parse(w.last("homeassistant/light/kitchen/rgb/config")!.text);
    expect(light).toMatchObject({
      "~": "picowire/kitchen", name: null, uniq_id: "kitchen_rgb", avty_t: "~/status",
      cmd_t: "~/light/set", stat_t: "~/light/state", rgb_cmd_t: "~/light/rgb/set", rgb_stat_t: "~/light/rgb",
      bri_cmd_t: "~/light/brightness/set", bri_stat_t: "~/light/brightness",
      dev: { ids: ["kitchen"], name: "kitchen", mf: "picowire" },
    });
    const rssi = JSON.parse(w.last("homeassistant/sensor/kitchen/rssi/config")!.text);
    expect(rssi).toMatchObject({ stat_t: "~/diag", dev_cla: "signal_strength", unit_of_meas: "dBm", ent_cat: "diagnostic", val_tpl: "{{value_json.rssi}}" });
    expect(JSON.parse(w.last("homeassistant/sensor/kitchen/uptime/config")!.text)).toMatchObject({ dev_cla: "duration", val_tpl: "{{value_json.uptime_s}}" });
    await waitFor(seen(w, "picowire/kitchen/diag"), "diagnostics");
    const diag = JSON.parse(w.last("picowire/kitchen/diag")!.text);
    expect(diag).toMatchObject({ role: "OFF", ip: boardAddress(b) });
    expect(typeof diag.rssi).toBe("number");
    expect(diag.uptime_s).toBeGreaterThanOrEqual(0);
    // what a client that comes later sees: retained availability, state and configs (QoS 1 where it matters)
    const late = await watch(br, ["picowire/kitchen/status", "picowire/kitchen/light/state", "homeassistant/light/kitchen/rgb/config"]);
    await waitFor(() => late.messages.length >= 3, "retained messages");
    expect(late.last("picowire/kitchen/status")).toMatchObject({ text: "online", retain: true, qos: 1 });
    expect(late.last("picowire/kitchen/light/state")).toMatchObject({ retain: true, qos: 1 });
    expect(late.last("homeassistant/light/kitchen/rgb/config")!.retain).toBe(true);
  });

  it("takes light commands on its own topics and publishes the state back", async () => {
    const br = await broker();
    const w = await watch(br, ["picowire/#"]);
    const b = await startBoard(config(br, "kitchen", ["rgb_source=fixed", "rgb=0,0,0"]));
    await waitFor(seen(w, "picowire/kitchen/light/state", "OFF"), "initial state");
    await w.client.publishAsync("picowire/kitchen/light/rgb/set", "255,128,0", { qos: 1 });
    await waitFor(seen(w, "picowire/kitchen/light/rgb", "255,128,0"), "rgb state");
    await waitFor(seen(w, "picowire/kitchen/light/state", "ON"), "on");
    await waitFor(() => b.core.stat(C.STAT_RGB) === 0xff8000, "the colour"); // the C host's stat lags a little
    await w.client.publishAsync("picowire/kitchen/light/set", "OFF", { qos: 1 });
    await waitFor(() => w.last("picowire/kitchen/light/state")?.text === "OFF", "off");
    await waitFor(() => b.core.stat(C.STAT_RGB) === 0, "black");
    await w.client.publishAsync("picowire/kitchen/light/set", "ON", { qos: 1 });
    await waitFor(() => w.last("picowire/kitchen/light/rgb")?.text === "255,128,0", "ON restores the colour");
    await w.client.publishAsync("picowire/kitchen/light/brightness/set", "128", { qos: 0 });
    await waitFor(seen(w, "picowire/kitchen/light/brightness", "128"), "brightness");
    // bad payloads are refused with a reason and change nothing
    await w.client.publishAsync("picowire/kitchen/light/rgb/set", "red", { qos: 1 });
    await w.client.publishAsync("picowire/kitchen/light/brightness/set", "300", { qos: 1 });
    await waitFor(logged(b, /ignored picowire\/kitchen\/light\/brightness\/set: expected a brightness/), "refusal");
    expect(b.lines.some((l) => l.level === "warn" && /ignored picowire\/kitchen\/light\/rgb\/set: expected r,g,b/.test(l.text))).toBe(true);
    expect(b.core.stat(C.STAT_RGB)).toBe(0xff8000);
    // another board's command topic is not this board's
    await w.client.publishAsync("picowire/hallway/light/rgb/set", "0,0,255", { qos: 1 });
    await w.client.publishAsync("picowire/kitchen/light/rgb/set", "1,2,3", { qos: 1 });
    await waitFor(() => b.core.stat(C.STAT_RGB) === 0x010203, "later command");
  });

  it("configured pins become switches (with the fail-safe) and binary sensors, removed when unconfigured", async () => {
    const br = await broker();
    const w = await watch(br, ["homeassistant/#", "picowire/#"]);
    const cport = await freePort();
    const b = await startBoard(config(br, "kitchen", ["mqtt_pin_timeout_s=1"]).replace("control_port=0", `control_port=${cport}\ncontrol_insecure=1`));
    await waitFor(seen(w, "picowire/kitchen/status", "online"), "online");
    const ctl = await Client.connect("127.0.0.1", cport);
    try {
      await ctl.command({ action: "setup_pin", pin: 15, mode: "output", value: 0 });
      await ctl.command({ action: "setup_pin", pin: 14, mode: "input", pull: "up" });
      await waitFor(seen(w, "homeassistant/switch/kitchen/pin15/config"), "switch config");
      expect(JSON.parse(w.last("homeassistant/switch/kitchen/pin15/config")!.text)).toMatchObject({
        name: "GP15", uniq_id: "kitchen_pin15", cmd_t: "~/pin/15/set", stat_t: "~/pin/15/state",
      });
      await waitFor(seen(w, "homeassistant/binary_sensor/kitchen/pin14/config"), "binary sensor config");
      expect(JSON.parse(w.last("homeassistant/binary_sensor/kitchen/pin14/config")!.text)).not.toHaveProperty("cmd_t");
      await waitFor(seen(w, "picowire/kitchen/pin/14/state", "ON"), "pulled-up input");
      b.hw.drive(14, 0);
      await waitFor(seen(w, "picowire/kitchen/pin/14/state", "OFF"), "input change");
      await waitFor(seen(w, "picowire/kitchen/pin/15/state", "OFF"), "switch state");
      await w.client.publishAsync("picowire/kitchen/pin/15/set", "ON", { qos: 1 });
      await waitFor(() => b.hw.pins.get(15)!.level === 1, "pin driven");
      await waitFor(seen(w, "picowire/kitchen/pin/15/state", "ON"), "switch on");
      // mqtt_pin_timeout_s=1: the fail-safe puts it back, and the state says so
      await waitFor(() => w.last("picowire/kitchen/pin/15/state")?.text === "OFF", "fail-safe revert", 4000);
      expect(b.hw.pins.get(15)!.level).toBe(0);
      // a switch command for an input is refused
      await w.client.publishAsync("picowire/kitchen/pin/14/set", "ON", { qos: 1 });
      await waitFor(logged(b, /pin\/14\/set: the pin is not set up as an output/), "refused");
      // output -> input: the switch goes, a binary sensor comes; none: it goes too
      await ctl.command({ action: "setup_pin", pin: 15, mode: "input" });
      await waitFor(() => w.last("homeassistant/switch/kitchen/pin15/config")?.text === "", "switch removed");
      await waitFor(seen(w, "homeassistant/binary_sensor/kitchen/pin15/config"), "now a sensor");
      expect((await ctl.command({ action: "setup_pin", pin: 15, mode: "none" })).error).toBeUndefined();
      await waitFor(() => w.last("homeassistant/binary_sensor/kitchen/pin15/config")?.text === "", "sensor removed");
    } finally {
      ctl.close();
    }
    // after a restart no pin is set up: the retained configs left from before are cleared
    await stopBoards();
    await startBoard(config(br, "kitchen"));
    await waitFor(() => w.last("homeassistant/binary_sensor/kitchen/pin14/config")?.text === "", "stale config cleared");
  });

  it("runs control commands from its cmd topic, refusing those that rewrite the board", async () => {
    const br = await broker();
    const w = await watch(br, ["picowire/kitchen/reply"]);
    const status = await watch(br, ["picowire/kitchen/status"]);
    await startBoard(config(br, "kitchen"));
    const pub = (text: string) => w.client.publishAsync("picowire/kitchen/cmd", text, { qos: 1 });
    const next = async (n: number) => {
      await waitFor(() => w.messages.length >= n, `reply ${n}`);
      return JSON.parse(w.messages[n - 1].text);
    };
    // the board sends its SUBSCRIBE before "online" on the same connection, and the broker handles a
    // client's packets in order: once "online" is out, the subscription stands
    await waitFor(seen(status, "picowire/kitchen/status", "online"), "online");
    await pub('{"action":"ping","id":7}');
    expect(await next(1)).toMatchObject({ action: "ping", id: 7, pong: true });
    await pub('{"action":"get_info"}');
    expect(await next(2)).toMatchObject({ action: "get_info", role: "OFF", abi_version: ABI_VERSION });
    await pub('{"action":"set_config","config":"rgb=1,2,3"}');
    expect((await next(3)).error).toMatch(/authenticated control connection/);
    await pub("{not json");
    expect((await next(4)).error).toMatch(/^invalid JSON/);
    await pub('{"action":"get_mqtt"}');
    expect(await next(5)).toMatchObject({ connected: true, id: "kitchen", broker: serverAddressForBoard("127.0.0.1"), port: br.port });
  });

  it("publishes its last will when the board dies", async () => {
    const br = await broker();
    const w = await watch(br, ["picowire/+/status"]);
    const p = picowire(["node", "--mqtt", br.url, "--set", "mqtt_id=doomed", "--http-port", "0", "--control-port", "0"]);
    try {
      await waitFor(seen(w, "picowire/doomed/status", "online"), "online", 10000);
      p.child.kill("SIGKILL");
      await waitFor(seen(w, "picowire/doomed/status", "offline"), "last will", 10000);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  it("gets QoS 1 commands sent while it was away, across a broker restart", async () => {
    const br = await broker();
    const b = await startBoard(config(br, "kitchen", ["rgb_source=fixed", "rgb=0,0,0", "mqtt_backoff_max_ms=1000"]));
    const w = await watch(br, ["picowire/kitchen/light/rgb"]);
    await waitFor(seen(w, "picowire/kitchen/light/rgb", "0,0,0"), "state");
    await w.close();
    watchers.pop();
    await br.stop(); // mosquitto saves the board's session (its subscriptions) to disk
    await waitFor(logged(b, new RegExp(`mqtt: ${BROKER_SEEN}:\\d+ closed by the broker|retry in`)), "board notices");
    await br.start();
    // the board reconnects after its backoff; a command published before that waits in its session
    const sender = await watch(br, []);
    await sender.client.publishAsync("picowire/kitchen/light/rgb/set", "0,0,255", { qos: 1 });
    await waitFor(() => b.core.stat(C.STAT_RGB) === 0x0000ff, "queued command delivered", 10000);
    expect(b.lines.some((l) => /connected, session resumed/.test(l.text))).toBe(true);
  });

  it("connects with credentials and says plainly when the broker refuses them", async () => {
    const br = await broker({ users: { board: "s3cret-pass" } });
    const bad = await startBoard(config(br, "bad", ["mqtt_user=board", "mqtt_password=wrong"]));
    // mosquitto answers a wrong password with "not authorised" (CONNACK 5), a missing user with the same
    await waitFor(logged(bad, new RegExp(`mqtt: ${BROKER_SEEN}:\\d+ (bad user or password|not authorised)`)), "refusal");
    expect(bad.lines.some((l) => l.text.includes("wrong"))).toBe(false); // the password is never logged
    const w = await watch(br, ["picowire/good/status"], { username: "board", password: "s3cret-pass" });
    await startBoard(config(br, "good", ["mqtt_user=board", "mqtt_password=s3cret-pass"]));
    await waitFor(seen(w, "picowire/good/status", "online"), "online with credentials");
  });

  it("lets boards on different networks see each other and exchange messages through the broker", async () => {
    const br = await broker();
    const cport = await freePort();
    const a = await startBoard(config(br, "board-a").replace("control_port=0", `control_port=${cport}\ncontrol_insecure=1`), { host: "127.0.0.1" });
    const b = await startBoard(config(br, "board-b"), { host: "127.0.0.2" });
    const ctl = await Client.connect("127.0.0.1", cport);
    try {
      const peers = async () => (await ctl.command({ action: "get_mqtt" })).peers as { id: string; online: boolean; bus: unknown }[];
      await waitFor(() => b.lines.some((l) => /connected/.test(l.text)), "b connected");
      let list: { id: string; online: boolean; bus: unknown }[] = [];
      await waitFor(async () => (list = await peers()).some((p) => p.id === "board-b" && p.online && !!p.bus), "board-b seen online with its bus", 10_000, 50);
      expect(list.find((p) => p.id === "board-b")).toEqual({ id: "board-b", online: true, bus: { role: "OFF", bus: "0000000000000000", members: 0 } });
      expect(list.some((p) => p.id === "board-a")).toBe(false); // not itself
      expect(await ctl.command({ action: "mqtt_send", to: "board-b", text: "hello, b" })).toMatchObject({ sent: 1 });
      await waitFor(logged(b, /mqtt: message from board-a: hello, b$/), "message delivered");
      expect((await ctl.command({ action: "mqtt_send", to: "a/b", text: "x" })).error).toMatch(/no '\/'/);
      // b dies: its last will reaches a as its presence
      await b.stop();
      await waitFor(async () => (list = await peers()).find((p) => p.id === "board-b")?.online === false, "board-b's last will", 10_000, 50);
      expect(list.find((p) => p.id === "board-b")).toMatchObject({ online: false });
    } finally {
      ctl.close();
    }
  });

  it("tracks at most mqtt_peers other boards and says when there are more", async () => {
    const br = await broker();
    const cport = await freePort();
    const a = await startBoard(config(br, "a", ["mqtt_peers=1"]).replace("control_port=0", `control_port=${cport}\ncontrol_insecure=1`), { host: "127.0.0.1" });
    await startBoard(config(br, "b"), { host: "127.0.0.2" });
    await startBoard(config(br, "c"), { host: "127.0.0.3" });
    await waitFor(logged(a, /mqtt: more boards than mqtt_peers: [bc]$/), "the warning", 8000);
    const ctl = await Client.connect("127.0.0.1", cport);
    try {
      const r = await ctl.command({ action: "get_mqtt" });
      expect((r.peers as unknown[]).length).toBe(1);
    } finally {
      ctl.close();
    }
  });

  it("npm start --mqtt: the demo's bus appears on the broker, roles included", async () => {
    const br = await broker();
    const w = await watch(br, ["picowire/+/bus", "homeassistant/light/+/rgb/config"]);
    const demo = picowire(["demo", "--boards", "2", "--mqtt", br.url, "--http-port", String(await freePort()), "--control-port", String(await freePort()), "--bus-port", String(await freePort())]);
    try {
      await waitFor(() => new Set(w.messages.filter((m) => m.topic.startsWith("homeassistant/")).map((m) => m.topic)).size === 2, "two lights", 15000);
      await waitFor(() => {
        const roles = new Map(w.messages.filter((m) => m.topic.endsWith("/bus")).map((m) => [m.topic, JSON.parse(m.text).role]));
        return [...roles.values()].sort().join() === "MASTER,WORKER";
      }, "a MASTER and a WORKER", 15000);
    } finally {
      demo.child.kill("SIGINT");
    }
  });

  it("refuses bad MQTT settings with the reason", async () => {
    const QUIET = "http_port=0\ncontrol_port=0\n";
    await expect(startBoard(QUIET + "mqtt=http://127.0.0.1:1883")).rejects.toThrow(/expected mqtt:\/\/host\[:port\]/);
    await expect(startBoard(QUIET + "mqtt=mqtt://127.0.0.1:70000")).rejects.toThrow(/port must be 1 to 65535/);
    await expect(startBoard(QUIET + "mqtt=mqtt://127.0.0.1\nmqtt_password=x")).rejects.toThrow(/mqtt_password needs mqtt_user/);
    await expect(startBoard(QUIET + "mqtt=mqtt://127.0.0.1\nmqtt_id=a/b")).rejects.toThrow(/letters, digits/);
    await expect(startBoard(QUIET + "mqtt=mqtt://127.0.0.1\nmqtt_keepalive_s=1")).rejects.toThrow(/config line 4: expected a whole number|allowed: 5 to 3600/) // first or last line, by host;
    await expect(startBoard(QUIET + "mqtt=mqtt://127.0.0.1\nmax_conns=1")).rejects.toThrow(/mqtt takes two of max_conns/);
    await expect(startBoard(QUIET + "mqtt=mqtt://127.0.0.1\nmqtt_peers=32")).rejects.toThrow(/mqtt takes two of max_conns/);
  });
});

// ---- a broker written here, for what mosquitto will not do -----------------------------------------------
interface Packet { first: number; body: Buffer }

class RawBroker {
  server = net.createServer();
  port = 0;
  conns: net.Socket[] = [];
  packets: Packet[][] = []; // per connection
  onPacket: (c: number, p: Packet, s: net.Socket) => void = () => {};

  async start(): Promise<void> {
    this.server.on("connection", (s) => {
      const c = this.conns.push(s) - 1;
      this.packets.push([]);
      let buf = Buffer.alloc(0);
      s.on("error", () => {});
      s.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          let len = 0, mul = 1, i = 1;
          for (; i < buf.length && i <= 4; i++) {
            len += (buf[i] & 127) * mul;
            mul *= 128;
            if (!(buf[i] & 128)) break;
          }
          if (i >= buf.length || buf.length < i + 1 + len) return;
          const p = { first: buf[0], body: buf.subarray(i + 1, i + 1 + len) };
          buf = buf.subarray(i + 1 + len);
          this.packets[c].push(p);
          this.onPacket(c, p, s);
        }
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  stop(): void {
    for (const s of this.conns) s.destroy();
    this.server.close();
  }
}

const CONNACK = Buffer.from([0x20, 2, 0, 0]);
const SUBACK = (id: Buffer) => Buffer.from([0x90, 3, id[0], id[1], 1]);
function publishTopic(p: Packet): string {
  return p.body.subarray(2, 2 + p.body.readUInt16BE(0)).toString();
}

describe("MQTT client against a hand-written broker", () => {
  let raw: RawBroker;
  beforeEach(async () => {
    raw = new RawBroker();
    await raw.start();
  });
  afterEach(() => raw.stop());
  const cfg = (extra: string[] = []) => [`mqtt=mqtt://127.0.0.1:${raw.port}`, "mqtt_id=t1", "mqtt_discovery=off", "http_port=0", "control_port=0", "mqtt_backoff_max_ms=1000", ...extra].join("\n");

  it("sends a CONNECT with its will, and sends unacknowledged QoS 1 publishes again (DUP) after a reconnect", async () => {
    raw.onPacket = (c, p, s) => {
      if (p.first === 0x10) s.write(CONNACK);
      if (p.first === 0x82) s.write(SUBACK(p.body));
      if (c === 0 && (p.first & 0xf0) === 0x30 && publishTopic(p) === "picowire/t1/light/state") setTimeout(() => s.destroy(), 50); // no PUBACK, then gone (a broker's behaviour, not a wait)
      if (c > 0 && (p.first & 0xf6) === 0x32) s.write(Buffer.from([0x40, 2, ...p.body.subarray(2 + p.body.readUInt16BE(0), 4 + p.body.readUInt16BE(0))]));
    };
    const b = await startBoard(cfg(["mqtt_keepalive_s=30"]));
    await waitFor(() => raw.packets.length >= 2 && raw.packets[1].some((p) => p.first === 0x82), "reconnected", 8000);
    const connect = raw.packets[0][0];
    expect(connect.first).toBe(0x10);
    const body = connect.body;
    expect(body.subarray(0, 7).toString("latin1")).toBe("\x00\x04MQTT\x04");
    expect(body[7]).toBe(0x2c); // will retain, will QoS 1, will flag; clean session off
    expect(body.readUInt16BE(8)).toBe(30);
    const first = raw.packets[0].find((p) => (p.first & 0xf0) === 0x30 && publishTopic(p) === "picowire/t1/light/state")!;
    expect(first.first & 0x06).toBe(0x02); // QoS 1
    const id = first.body.readUInt16BE(2 + first.body.readUInt16BE(0));
    await waitFor(() => raw.packets[1].some((p) => (p.first & 0xf0) === 0x30 && publishTopic(p) === "picowire/t1/light/state"), "resent", 5000);
    const again = raw.packets[1].find((p) => (p.first & 0xf0) === 0x30 && publishTopic(p) === "picowire/t1/light/state")!;
    expect(again.first & 0x08).toBe(0x08); // DUP
    expect(again.body.readUInt16BE(2 + again.body.readUInt16BE(0))).toBe(id);
    expect(again.body.equals(first.body)).toBe(true);
    // the resend went first, before the new session's SUBSCRIBE
    expect(raw.packets[1].findIndex((p) => p === again)).toBeLessThan(raw.packets[1].findIndex((p) => p.first === 0x82));
    expect(b.lines.some((l) => /retry in/.test(l.text))).toBe(true);
  });

  it("closes the connection on malformed packets and reconnects", async () => {
    const evil = [
      [Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), /remaining length over 4 bytes/],
      [Buffer.from([0x34, 7, 0, 3, 0x61, 0x2f, 0x62, 0, 1]), /QoS 2 publish/],
      [Buffer.from([0x30, 5, 0, 3, 0x61, 0x2b, 0x62]), /bad topic/], // a wildcard in a topic name
      [Buffer.from([0x30, 5, 0, 9, 0x61, 0x2f, 0x62]), /short publish/],
      [Buffer.from([0x32, 5, 0, 1, 0x61, 0, 0]), /packet id 0/],
      [Buffer.from([0x82, 0]), /bad packet type/],
      [Buffer.from([0x20, 2, 0, 0]), /bad CONNACK/], // a second CONNACK
    ] as const;
    let n = 0;
    raw.onPacket = (c, p, s) => {
      if (p.first !== 0x10) return;
      s.write(CONNACK);
      if (c < evil.length) setTimeout(() => s.write(evil[c][0]), 20); // a broker's pacing: after the CONNACK, in a later segment
    };
    const b = await startBoard(cfg());
    for (const [, why] of evil) {
      await waitFor(logged(b, why), String(why), 6000);
      n++;
    }
    expect(n).toBe(evil.length);
    await waitFor(() => raw.conns.length > evil.length, "still reconnecting", 6000);
  });

  it("keeps at most mqtt_inflight_bytes of unacknowledged publishes, loses no state, and catches up when acks come", async () => {
    let ack = false;
    const unacked: Buffer[] = [];
    raw.onPacket = (c, p, s) => {
      if (p.first === 0x10) s.write(CONNACK);
      if (p.first === 0x82) s.write(SUBACK(p.body));
      if ((p.first & 0xf6) === 0x32) {
        const id = p.body.subarray(2 + p.body.readUInt16BE(0), 4 + p.body.readUInt16BE(0));
        if (ack) s.write(Buffer.from([0x40, 2, ...id]));
        else unacked.push(id);
      }
    };
    const cport = await freePort();
    const b = await startBoard(cfg(["mqtt_inflight_bytes=128", "rgb_source=fixed", "rgb=1,1,1"]).replace("control_port=0", `control_port=${cport}\ncontrol_insecure=1`));
    const ctl = await Client.connect("127.0.0.1", cport);
    const inflight = async () => (await ctl.command({ action: "get_mqtt" })).inflight as number;
    await waitFor(() => unacked.length > 0, "first publishes");
    // the board publishes until its store is full in one go: all of it has arrived when the broker holds
    // as many unacknowledged publishes as the board keeps
    await waitFor(async () => unacked.length === (await inflight()), "the in-flight store's publishes at the broker", 5000, 20);
    const held = unacked.length;
    expect(held).toBeLessThanOrEqual(4); // 128 bytes hold a few 30-40 byte state messages
    // the broker delivers colour commands (QoS 0) while it acknowledges nothing
    const command = (rgb: string) => {
      const topic = Buffer.from("picowire/t1/light/rgb/set");
      raw.conns[0].write(Buffer.concat([Buffer.from([0x30, 2 + topic.length + rgb.length, 0, topic.length]), topic, Buffer.from(rgb)]));
    };
    for (const [c, stat] of [["10,20,30", 0x0a141e], ["40,50,60", 0x28323c], ["70,80,90", 0x46505a]] as const) {
      command(c);
      // one at a time, so the board has each state to publish (and must drop the superseded ones)
      await waitFor(() => b.core.stat(C.STAT_RGB) === stat, `colour ${c} applied`);
    }
    expect(await inflight()).toBe(held);
    expect(unacked.length).toBe(held); // the store is full: nothing more goes out at QoS 1
    ctl.close();
    // the broker acknowledges everything from now on: the board catches up with the latest state
    ack = true;
    for (const id of unacked.splice(0)) raw.conns[0].write(Buffer.from([0x40, 2, ...id]));
    const rgbState = () => raw.packets[0].filter((p) => (p.first & 0xf0) === 0x30 && publishTopic(p) === "picowire/t1/light/rgb").map((p) => p.body.subarray(4 + p.body.readUInt16BE(0)).toString());
    await waitFor(() => rgbState().at(-1) === "70,80,90", "the latest colour published");
    expect(rgbState()).not.toContain("40,50,60"); // superseded states are not queued: only the latest goes out
  });

  it("gives up on a broker that never answers CONNECT (mqtt_timeout_ms) or a PINGREQ (keep-alive)", async () => {
    raw.onPacket = (c, p, s) => {
      if (p.first === 0x10 && c > 0) s.write(CONNACK); // the first CONNECT goes unanswered
      if (p.first === 0x82) s.write(SUBACK(p.body));
    };
    const b = await startBoard(cfg(["mqtt_timeout_ms=1000", "mqtt_keepalive_s=5"]));
    await waitFor(logged(b, new RegExp(`mqtt: ${BROKER_SEEN}:\\d+ timed out, retry in`)), "CONNACK timeout", 4000);
    await waitFor(() => raw.packets[1]?.some((p) => p.first === 0xc0), "a PINGREQ after 5 s of silence", 9000);
    await waitFor(logged(b, /no PINGRESP, retry in/), "no PINGRESP", 4000);
  }, wallCap(20_000));

  it("acknowledges but drops a message longer than its buffer, and reports CONNACK refusals", async () => {
    raw.onPacket = (c, p, s) => {
      if (p.first !== 0x10) return;
      if (c === 0) return void s.write(Buffer.from([0x20, 2, 0, 5])); // not authorised
      s.write(CONNACK);
      const topic = Buffer.from("picowire/t1/cmd");
      const payload = Buffer.alloc(3000, 0x61);
      const len = 2 + topic.length + 2 + payload.length;
      s.write(Buffer.concat([Buffer.from([0x32, (len & 127) | 128, len >> 7, 0, topic.length]), topic, Buffer.from([0x12, 0x34]), payload]));
    };
    const b = await startBoard(cfg());
    await waitFor(logged(b, /not authorised/), "CONNACK refusal", 5000);
    await waitFor(logged(b, /dropped an oversized message \(3019 bytes\)/), "dropped", 6000);
    await waitFor(() => raw.packets[1]?.some((p) => p.first === 0x40 && p.body.readUInt16BE(0) === 0x1234), "PUBACK", 3000);
  });
});
