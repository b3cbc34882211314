// `picowire update HOST[:PORT] FILE --key-file K [--all]`: over-the-air update of a board's core over the
// authenticated control connection (docs/OTA.md). The image goes in base64 chunks, a few in flight at
// a time (the board's TCP window does the rest of the flow control); a dropped connection is resumed
// where the board says it got to; then the CLI waits for the board to come back with the new core.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { Client, ControlError, type Reply } from "../client.ts";
import { readKeyFile } from "./control.ts";
import { getBus } from "./bus.ts";
import { compileCore } from "../host/core.ts";
import { takeOption } from "./args.ts";

export const UPDATE_USAGE = `usage: picowire update HOST[:PORT] FILE --key-file K [--all] [--window N] [--boot-wait-ms N] [--reply-timeout-ms N]
  writes FILE (a picowire core, e.g. build/picowire.wasm) into the board's spare slot, checks it there,
  restarts the board into it and waits until the new core confirmed itself (or was rolled back);
  --all updates every member of HOST's bus, one at a time, stopping at the first failure;
  --boot-wait-ms: how long a board may take to come back after the restart (1000-600000, default 30000);
  --reply-timeout-ms: how long a board may take to answer one command (1000-600000, default 5000)`;

export interface Image {
  bytes: Uint8Array;
  sha256: string;
  abi: number;
}

/** Reads and checks a core: a WebAssembly module with the picowire ABI's imports and exports, and the
 *  ABI version its abi_version export reports. */
export function readImage(path: string): Image {
  const bytes = new Uint8Array(readFileSync(path));
  let abi: number;
  try {
    const module = compileCore(bytes);
    const stubs = new Proxy({}, { get: () => () => 0 });
    const inst = new WebAssembly.Instance(module, { picowire: stubs as WebAssembly.ModuleImports });
    abi = (inst.exports.abi_version as () => number)();
  } catch (e) {
    throw new Error(`${path} is not a picowire core: ${(e as Error).message}`);
  }
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex"), abi };
}

/** ota_begin's fields (the SHA-256 in base64). The command's own MAC, with the bus key, authenticates
 *  them; the board checks the image in flash against the SHA-256. */
export function otaBegin(image: Image): Record<string, unknown> {
  return { action: "ota_begin", length: image.bytes.length, sha256: Buffer.from(image.sha256, "hex").toString("base64"), abi: image.abi };
}

export interface UpdateOptions {
  key: string;
  /** ota_chunk commands in flight at once (default 4). */
  window?: number;
  /** Progress output (default: a bar on a TTY, a line per 25% otherwise, to stderr). */
  progress?: (sent: number, total: number) => void;
  log?: (line: string) => void;
  /** How long to wait for the board to come back after the restart (default 30000 ms). */
  bootWaitMs?: number;
  /** How long one command may wait for its reply (default 5000 ms; 3000 while waiting for the restart). */
  replyTimeoutMs?: number;
  /** Reconnections allowed while sending (default 5). */
  retries?: number;
}

export interface UpdateResult {
  host: string;
  slot: string;
  /** Offsets the transfer resumed at after a dropped connection. */
  resumedAt: number[];
  skipped?: boolean;
}

export class UpdateError extends Error {}

/** A board whose slots are smaller than the image: firmware from before the 80 KiB slots holds 65,280 bytes. */
const TOO_LARGE =
  ": the board's OTA slots are smaller than this core (its firmware is from before the 80 KiB slots, docs/FLASH-LAYOUT.md): " +
  "flash build/picowire.uf2 over USB once (its configuration is kept), then update over the air";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function check(r: Reply, what: string): Reply {
  if (r.error) throw new UpdateError(`${what}: ${r.error}${/new firmware/.test(r.error) ? " (flash build/picowire.uf2 over USB)" : /image too large/.test(r.error) ? TOO_LARGE : ""}`);
  return r;
}

/** A board whose core runs compiled into its firmware cannot take a new core over the air. */
function refuseCompiled(host: string, info: Reply): void {
  if (info.engine === "wasm2c") throw new UpdateError(`${host} runs its core compiled into the firmware (wasm2c): a new core needs new firmware (build/picowire.uf2 over USB)`);
  if (!Array.isArray(info.slots)) throw new UpdateError(`${host}: its core has no over-the-air update (no "slots" in get_info): update it over USB once`);
}

export function progressPrinter(label: string, out: NodeJS.WriteStream = process.stderr): (sent: number, total: number) => void {
  const started = Date.now();
  let lastQuarter = -1;
  return (sent, total) => {
    const pct = Math.floor((sent * 100) / total);
    const rate = sent / 1024 / Math.max(0.001, (Date.now() - started) / 1000);
    if (out.isTTY) {
      const width = 30;
      const fill = Math.round((sent * width) / total);
      out.write(`\r${label} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${String(pct).padStart(3)}% ${(sent / 1024).toFixed(1)}/${(total / 1024).toFixed(1)} KB ${rate.toFixed(1)} KB/s`);
      if (sent >= total) out.write("\n");
    } else if (Math.floor(pct / 25) > lastQuarter) {
      lastQuarter = Math.floor(pct / 25);
      out.write(`${label}: ${pct}% (${sent} of ${total} bytes)\n`);
    }
  };
}

async function connect(host: string, port: number, key: string, tries: number, timeoutMs = 5000): Promise<Client> {
  for (let i = 0; ; i++) {
    try {
      return await Client.connect(host, port, { key, timeoutMs });
    } catch (e) {
      if (i + 1 >= tries || (e instanceof ControlError && /authentication|wrong key|no challenge/.test(e.message))) throw e;
      await sleep(Math.min(2000, 200 * 2 ** i));
    }
  }
}

/** Sends the image from the board's "have" on; returns when all of it arrived. */
async function send(c: Client, image: Image, from: number, chunk: number, window: number, progress: (n: number, t: number) => void): Promise<void> {
  const total = image.bytes.length;
  let have = from;
  while (have < total) {
    const batch: Promise<Reply>[] = [];
    let offset = have;
    for (let i = 0; i < window && offset < total; i++) {
      const data = Buffer.from(image.bytes.subarray(offset, offset + chunk)).toString("base64");
      batch.push(c.command({ action: "ota_chunk", offset, data }));
      offset += Math.min(chunk, total - offset);
    }
    const replies = await Promise.all(batch);
    for (const r of replies) check(r, "ota_chunk");
    const next = replies[replies.length - 1].have as number;
    if (typeof next !== "number" || next <= have) throw new UpdateError(`the board stopped taking data at ${have} bytes`);
    have = next;
    progress(have, total);
  }
}

/** Updates one board; throws UpdateError (or ControlError) saying why when it does not end up running the image. */
export async function updateBoard(host: string, port: number, image: Image, opts: UpdateOptions): Promise<UpdateResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const progress = opts.progress ?? progressPrinter(host);
  const retries = opts.retries ?? 5;
  const begin = otaBegin(image);
  const resumedAt: number[] = [];
  let c = await connect(host, port, opts.key, retries, opts.replyTimeoutMs);
  try {
    const info = check(await c.command({ action: "get_info" }), "get_info");
    refuseCompiled(host, info);
    if (info.core_sha256 === image.sha256) {
      log(`${host}: already runs core ${image.sha256.slice(0, 12)} (slot ${info.slot})`);
      return { host, slot: String(info.slot), resumedAt, skipped: true };
    }
    let r = check(await c.command(begin), "ota_begin");
    const chunk = r.chunk as number;
    if (!(chunk > 0)) throw new UpdateError(`${host}: its control_line_max is too small to carry update chunks`);
    log(`${host}: sending ${image.bytes.length} bytes (core ${image.sha256.slice(0, 12)}, ABI v${image.abi}) in ${chunk}-byte chunks`);
    for (let attempt = 0; ; attempt++) {
      try {
        await send(c, image, r.have as number, chunk, opts.window ?? 4, progress);
        r = check(await c.command({ action: "ota_end" }), "ota_end");
        break;
      } catch (e) {
        if (!(e instanceof ControlError) || attempt >= retries) throw e;
        // the connection dropped: ask where the board got to and go on from there
        c.close();
        c = await connect(host, port, opts.key, retries, opts.replyTimeoutMs);
        const st = check(await c.command({ action: "ota_status" }), "ota_status");
        r = check(await c.command(begin), "ota_begin"); // the same image again resumes at "have"
        const at = r.have as number;
        resumedAt.push(at);
        log(`${host}: connection lost (${e.message}); ${st.receiving ? `resuming at ${at} bytes` : "the board had restarted: starting over"}`);
      }
    }
  } finally {
    c.close();
  }
  log(`${host}: image checked and installed; the board restarts into it`);
  // the board restarts: the first authenticated command the new core answers confirms it
  const deadline = Date.now() + (opts.bootWaitMs ?? 30000);
  await sleep(300);
  for (;;) {
    let d: Client | null = null;
    try {
      // a SYN sent while the board was down is retransmitted 1, 3, 7, 15, 31 s later: a fresh connect every
      // few seconds reaches it as soon as it is back, before its trial window ends (PICOWIRE_TRIAL_MS)
      d = await Client.connect(host, port, { key: opts.key, timeoutMs: opts.replyTimeoutMs ?? 3000, connectTimeoutMs: 3000 });
      const info = check(await d.command({ action: "get_info" }), "get_info");
      if (info.core_sha256 !== image.sha256) {
        throw new UpdateError(`${host} came back with core ${String(info.core_sha256).slice(0, 12)} from slot ${info.slot}, not the new one: it was rolled back (see the board's log)`);
      }
      const st = check(await d.command({ action: "ota_status" }), "ota_status");
      if (st.trial) throw new UpdateError(`${host}: the new core runs but could not record its confirmation; it will be rolled back`);
      log(`${host}: runs core ${image.sha256.slice(0, 12)} from slot ${info.slot}, confirmed`);
      return { host, slot: String(info.slot), resumedAt };
    } catch (e) {
      if (e instanceof UpdateError || Date.now() > deadline) throw e;
      await sleep(250);
    } finally {
      d?.close();
    }
  }
}

export async function updateCommand(argv: string[]): Promise<number> {
  argv = [...argv];
  const keyFile = takeOption(argv, "--key-file", UPDATE_USAGE);
  const window = Number(takeOption(argv, "--window", UPDATE_USAGE) ?? "4");
  const bootWaitMs = Number(takeOption(argv, "--boot-wait-ms", UPDATE_USAGE) ?? "30000");
  const replyTimeoutMs = Number(takeOption(argv, "--reply-timeout-ms", UPDATE_USAGE) ?? "5000");
  for (const [name, v] of [["--boot-wait-ms", bootWaitMs], ["--reply-timeout-ms", replyTimeoutMs]] as const)
    if (!(Number.isInteger(v) && v >= 1000 && v <= 600_000)) throw new Error(`${name} must be 1000 to 600000\n${UPDATE_USAGE}`);
  const all = argv.includes("--all");
  argv = argv.filter((a) => a !== "--all");
  const [target, file, ...rest] = argv;
  if (!target || !file || rest.length || !(window >= 1 && window <= 64)) throw new Error(UPDATE_USAGE);
  if (!keyFile) throw new Error(`an update needs the bus key: --key-file K (images are authenticated with it)\n${UPDATE_USAGE}`);
  const key = readKeyFile(keyFile);
  const image = readImage(file);
  const [host, portText = "12345"] = target.split(":");
  const port = Number(portText);
  let hosts = [host];
  if (all) {
    const c = await Client.connect(host, port, { key });
    try {
      const bus = await getBus(c);
      // workers first, the master last: the bus keeps its master while the others restart
      hosts = [...bus.members.slice(1), ...bus.members.slice(0, 1)].map((m) => m.ip);
      if (!hosts.length) hosts = [host];
    } finally {
      c.close();
    }
    console.log(`bus of ${hosts.length}: ${hosts.join(", ")}`);
  }
  for (const [i, h] of hosts.entries()) {
    try {
      await updateBoard(h, port, image, { key, window, bootWaitMs, replyTimeoutMs });
    } catch (e) {
      console.error(`picowire: ${h}: update failed: ${(e as Error).message}`);
      if (hosts.length > 1) console.error(`stopped: ${hosts.slice(i + 1).join(", ") || "no other board"} not updated`);
      return 1;
    }
  }
  return 0;
}
