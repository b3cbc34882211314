// `picowire node`: one virtual board on a loopback address, printing what its serial console would.
import { parseArgs } from "node:util";
import { Board, type LogLevel, LEVELS } from "../host/board.ts";
import { inOwnNetns } from "../host/net-node.ts";
import { readCore } from "./wasm.ts";
import { readKeyFile } from "./control.ts";
import { dashboardAssets } from "../build/dashboard.ts";
import { setupAssets } from "../build/setup.ts";
import { RESET_PIN } from "../provision/layout.ts";
import { pixelSummary } from "../host/hardware.ts";
import { virtualDefault } from "../settings/check.ts";

export const NODE_USAGE = `usage: picowire node --role rgb-server|rgb-client [options]
       picowire node --bus IP,IP,... [options]     a bus member: the MASTER serves colours, workers follow it
  --host IP            the board's loopback address (default 127.0.0.1)
  --netns-address IP   any address, only inside a network namespace of its own (ip netns exec;
                       refused in the root namespace); UDP sockets then take broadcasts
  --http-port N        HTTP/tutorial port (rgb-server default 8080; rgb-client default off)
  --server IP:PORT     colour server an rgb-client polls
  --poll-ms N          poll interval of an rgb-client (default 200)
  --source S           random | adc | fixed (rgb-server, default random)
  --rgb R,G,B          the fixed colour (or #rrggbb)
  --pins R,G,B         PWM pins of the RGB LED (default 13,14,15 on rgb-client)
  --control-port N     control protocol port (default 12345; 0 off)
  --bus IP,IP,...      join the bus; the addresses are where to look (loopback has no broadcast);
                       --bus broadcast on a network that has it
  --bus-port N         the bus's UDP port (default 5000, the tutorial's)
  --key-file F         the bus key (one line of text): control is authenticated
  --insecure           control without a key, as piconetcontrol (logged as a warning)
  --pixels N[@PIN]     an LED strip of N pixels (default on GP16), fed by WLED realtime (UDP 21324),
                       DDP (4048) and E1.31 (5568); prints a line per frame, at most two a second
  --mqtt URL           connect to an MQTT broker (mqtt://host[:port]): state, commands and Home
                       Assistant discovery under picowire/<id>/ (docs/MQTT.md); alone: an rgb-server
  --set key=value      any other core setting (repeatable)
  --log-level L        error | warn | info | debug (default info)
  --wasm FILE          core to run (default build/picowire.wasm): the core built into the firmware;
                       an update (picowire update) installed in the flash runs instead
  --flash-file F       keep the board's flash in F across restarts (the slots picowire update writes)
                       without --role or --bus: configured from its configuration sector, as a
                       real board is (unconfigured: its setup access point and page)
  --hold-reset         GP22 held low at boot: the factory-reset button (erases the configuration)
  --trial-ms N         a core booted on trial after an update must confirm itself within N ms
                       (default 60000), else the watchdog restarts the board and it rolls back`;

export interface NodeSpec {
  role: string;
  host: string;
  config: string[];
  /** --netns-address: `host` is a namespace's address, not loopback. */
  netns?: boolean;
}

/** Turns CLI options into the core's key=value configuration; throws on a bad combination. */
export function nodeConfig(argv: string[]): NodeSpec & { logLevel: LogLevel; wasm?: string; name?: string; flashFile?: string; trialMs?: number; pixels?: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      "netns-address": { type: "string" },
      "http-port": { type: "string" },
      server: { type: "string" },
      "poll-ms": { type: "string" },
      source: { type: "string" },
      rgb: { type: "string" },
      pins: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      "control-port": { type: "string" },
      "key-file": { type: "string" },
      insecure: { type: "boolean", default: false },
      "log-level": { type: "string", default: "info" },
      wasm: { type: "string" },
      name: { type: "string" },
      bus: { type: "string" },
      "bus-port": { type: "string" },
      "flash-file": { type: "string" },
      "hold-reset": { type: "boolean", default: false },
      "trial-ms": { type: "string" },
      pixels: { type: "string" },
      mqtt: { type: "string" },
    },
    strict: true,
  });
  // a board that only talks to a broker serves its colour like any rgb-server
  const role = values.role ?? (values.bus ? "bus" : values.mqtt ? "rgb-server" : undefined);
  if (!role && values["flash-file"]) return flashNode(values);
  if (role !== "rgb-server" && role !== "rgb-client" && role !== "bus") throw new Error(`--role must be rgb-server or rgb-client (or give --bus)\n${NODE_USAGE}`);
  const logLevel = values["log-level"] as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new Error(`--log-level must be one of ${LEVELS.join(", ")}`);
  const config: string[] = [];
  // "broadcast": a network with broadcast (a namespace LAN, a WiFi network) needs no address list
  if (values.bus) config.push("bus=1", ...(values.bus === "broadcast" ? [] : [`bus_peers=${values.bus}`]));
  if (values["bus-port"]) config.push(`bus_port=${values["bus-port"]}`);
  if (role === "bus") {
    // the master serves colours on this port; workers poll whichever board is master there
    config.push(`http_port=${values["http-port"] ?? virtualDefault("http_port")}`, `rgb_pins=${values.pins ?? "13,14,15"}`);
    if (values.server) throw new Error("--server is for rgb-client; bus members follow the master");
  } else if (role === "rgb-server") {
    config.push(`http_port=${values["http-port"] ?? virtualDefault("http_port")}`);
    if (values.server) throw new Error("--server is for rgb-client");
  } else {
    if (!values.server) throw new Error(`an rgb-client needs --server IP:PORT\n${NODE_USAGE}`);
    config.push(`http_port=${values["http-port"] ?? "0"}`, `rgb_server=${values.server}`, `rgb_pins=${values.pins ?? "13,14,15"}`);
    if (values["poll-ms"]) config.push(`rgb_poll_ms=${values["poll-ms"]}`);
  }
  if (values["key-file"] && values.insecure) throw new Error("--key-file and --insecure exclude each other");
  config.push(`control_port=${values["control-port"] ?? "12345"}`);
  if (values["key-file"]) config.push(`key=${readKeyFile(values["key-file"])}`);
  if (values.insecure) config.push("control_insecure=1");
  if (values.source) config.push(`rgb_source=${values.source}`);
  if (values.rgb) config.push(`rgb=${values.rgb}`);
  if (values.mqtt) config.push(`mqtt=${values.mqtt}`);
  const sets = values.set ?? [];
  if (values.pixels) {
    const m = /^(\d+)(?:@(\d+))?$/.exec(values.pixels);
    if (!m) throw new Error("--pixels must be N or N@PIN (e.g. 60@16)");
    config.push(`pixels_count=${m[1]}`, `pixels_pin=${m[2] ?? "16"}`);
    if (!sets.some((kv) => kv.startsWith("lights="))) config.push("lights=wled,ddp,e131");
  }
  // virtual boards offer /echo unless told otherwise, so any WebSocket client can try them
  if (!sets.some((kv) => kv.startsWith("ws_echo="))) config.push(`ws_echo=${virtualDefault("ws_echo")}`);
  config.push(...sets);
  const netns = values["netns-address"];
  if (netns !== undefined && argv.some((a) => a === "--host" || a.startsWith("--host="))) throw new Error("--host and --netns-address exclude each other");
  const trialMs = values["trial-ms"] === undefined ? undefined : Number(values["trial-ms"]);
  if (trialMs !== undefined && !(Number.isInteger(trialMs) && trialMs >= 100)) throw new Error("--trial-ms must be a whole number of milliseconds, at least 100");
  return { role, host: netns ?? values.host!, netns: netns !== undefined, config, logLevel, wasm: values.wasm, name: values.name, flashFile: values["flash-file"], trialMs, pixels: values.pixels !== undefined };
}

type NodeExtras = { logLevel: LogLevel; wasm?: string; name?: string; flashFile?: string; trialMs?: number; holdReset?: boolean };

/** `--flash-file` without --role/--bus: no configuration text, so the core reads the flash's
 *  configuration sector (init with config_len 0); flags that would configure the board are refused. */
function flashNode(values: Record<string, unknown>): NodeSpec & NodeExtras {
  const configuring = ["http-port", "server", "poll-ms", "source", "rgb", "pins", "control-port", "key-file", "bus-port", "netns-address"];
  const given = configuring.find((f) => values[f] !== undefined) ?? (values.insecure ? "insecure" : (values.set as string[]).length ? "set" : "");
  if (given) throw new Error(`--${given} configures the board: give --role too, or leave the configuration to the flash (--flash-file)`);
  const logLevel = values["log-level"] as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new Error(`--log-level must be one of ${LEVELS.join(", ")}`);
  const trialMs = values["trial-ms"] === undefined ? undefined : Number(values["trial-ms"]);
  return {
    role: "flash", host: values.host as string, config: [], logLevel, wasm: values.wasm as string | undefined,
    name: values.name as string | undefined, flashFile: values["flash-file"] as string, trialMs, holdReset: values["hold-reset"] as boolean,
  };
}

export function consoleLogger(name: string, max: LogLevel) {
  const limit = LEVELS.indexOf(max);
  return (level: LogLevel, text: string) => {
    if (LEVELS.indexOf(level) > limit) return;
    const line = `[${name}] ${level === "info" ? "" : level.toUpperCase() + " "}${text}`;
    (level === "error" || level === "warn" ? console.error : console.log)(line);
  };
}

export async function startNode(argv: string[]): Promise<Board> {
  const spec = nodeConfig(argv);
  const name = spec.name ?? `${spec.role}@${spec.host}`;
  if (spec.netns && !inOwnNetns()) {
    throw new Error("--netns-address is refused outside a network namespace of its own (run it under `ip netns exec NS`): it would put a virtual board on this machine's real network");
  }
  const board = new Board({
    wasm: readCore(spec.wasm),
    host: spec.host,
    netns: spec.netns,
    name,
    config: spec.config.join("\n"),
    log: consoleLogger(name, spec.logLevel),
    // the dashboard on GET / once `npm run build` has made build/index.html.gz; setup mode's page
    assets: { ...dashboardAssets(), ...setupAssets() },
    flashFile: spec.flashFile,
    otaTrialMs: spec.trialMs,
  });
  if (spec.pixels) {
    // a line per frame, at most two a second: the latest frame is printed when the half second is up
    let last = 0;
    let frames = 0;
    let latest: [number, Uint8Array] | null = null;
    let timer: NodeJS.Timeout | null = null;
    const print = () => {
      timer = null;
      if (!latest) return;
      console.log(`[${name}] pixels ${pixelSummary(latest[0], latest[1])} (${frames} frame${frames === 1 ? "" : "s"})`);
      last = Date.now();
      frames = 0;
      latest = null;
    };
    board.hw.onPixels = (pin, bytes) => {
      frames++;
      latest = [pin, bytes];
      const wait = last + 500 - Date.now();
      if (wait <= 0) print();
      else if (!timer) (timer = setTimeout(print, wait)).unref();
    };
  }
  if (spec.holdReset) board.hw.held.set(RESET_PIN, 0); // GP22 held at boot: factory reset
  await board.start();
  board.hw.held.delete(RESET_PIN);
  // printed once every listener is bound, so scripts (and tests) can wait for it; SIGINT is listened for
  // already (main.ts), so a script may stop the node the moment it reads this
  console.log(`picowire: ${name} running (Ctrl-C stops)`);
  return board;
}

/** Resolves at SIGINT/SIGTERM. Call it before saying "Ctrl-C stops": until a listener exists the signal's
 *  default action still applies, and a script that acts on that line at once would kill the process. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

/** Runs until SIGINT/SIGTERM (listened for since `signal` was made), then closes every socket and exits. */
export async function runUntilSignal(boards: Board[], signal: Promise<void> = untilSignal()): Promise<void> {
  await signal;
  await Promise.all(boards.map((b) => b.stop()));
  console.log("stopped");
}
