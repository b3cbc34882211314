// `picowire run HOST[:PORT] -c action=... k=v ...` and `picowire info HOST[:PORT]`: the control
// protocol from a shell, piconetcontrol-style (one reply per command; --json for machine output).
import { readFileSync } from "node:fs";
import { Client, parseFields, type Reply } from "../client.ts";

export const CONTROL_USAGE = `usage: picowire run HOST[:PORT] -c action=NAME key=value ... [-c ...] [--key-file F | --insecure] [--json]
       picowire info HOST[:PORT] [--key-file F] [--json]          (port default 12345)
  values are typed: 2 -> number, 0.5 -> number, true/false/null, anything else a string`;

export function readKeyFile(path: string): string {
  const key = readFileSync(path, "utf8").replace(/\r?\n$/, "");
  if (key.length < 16 || key.length > 64) throw new Error(`${path}: the key must be one line of 16 to 64 characters`);
  return key;
}

interface Parsed {
  host: string;
  port: number;
  commands: Record<string, unknown>[];
  key?: string;
  json: boolean;
}

function parse(argv: string[], needCommands: boolean): Parsed {
  const [target, ...rest] = argv;
  if (!target || target.startsWith("-")) throw new Error(CONTROL_USAGE);
  const [host, port = "12345"] = target.split(":");
  const out: Parsed = { host, port: Number(port), commands: [], json: false };
  let current: string[] | null = null;
  const flush = () => current && out.commands.push(parseFields(current));
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "-c") {
      flush();
      current = [];
    } else if (a === "--json") out.json = true;
    else if (a === "--insecure") out.key = undefined;
    else if (a === "--key-file") out.key = readKeyFile(rest[++i] ?? "");
    else if (current) current.push(a);
    else throw new Error(`unexpected '${a}'\n${CONTROL_USAGE}`);
  }
  flush();
  if (needCommands && !out.commands.length) throw new Error(`no command: add -c action=...\n${CONTROL_USAGE}`);
  return out;
}

function print(r: Reply, json: boolean): void {
  if (json) return console.log(JSON.stringify(r));
  if (r.error) return console.log(`error: ${r.error}`);
  const { action, seq: _seq, mac: _mac, ...rest } = r; // the signature is transport, not content
  console.log(`${action ?? "reply"}: ${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ")}`);
}

/** Runs the commands in order; exit status 1 if any failed. */
export async function runCommand(argv: string[]): Promise<number> {
  const p = parse(argv, true);
  const c = await Client.connect(p.host, p.port, { key: p.key });
  let failed = false;
  for (const cmd of p.commands) {
    const r = await c.command(cmd);
    print(r, p.json);
    failed ||= r.error !== undefined;
  }
  c.close();
  return failed ? 1 : 0;
}

export async function infoCommand(argv: string[]): Promise<number> {
  const p = parse(argv, false);
  const c = await Client.connect(p.host, p.port, { key: p.key });
  const r = await c.command({ action: "get_info" });
  c.close();
  print(r, p.json);
  return r.error ? 1 : 0;
}
