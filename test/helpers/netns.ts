// Private Ethernet segments made of Linux network namespaces, for tests that need real broadcast and
// real addresses (192.168.4.1, a DHCP client with no address yet) without touching the machine's own
// network. One LAN = a hub namespace holding a bridge, plus one namespace per host joined to it by a
// veth pair. Nothing is created in the root namespace, so traffic never leaves the namespaces made here.
//
//   const why = netnsUnavailable();          // a reason string when not root, no `ip netns`, ...
//   const lan = await createLan([{ name: "ap", address: "192.168.4.1/24" }, { name: "client" }]);
//   await lan.exec("client", "busybox", ["udhcpc", ...]);   lan.spawn(...), lan.node(...)
//   await lan.destroy();                       // also done at process exit, and stale ones are swept
//
// Every command has a bounded timeout; every process started in a namespace is killed on destroy().
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { ROOT } from "../../tools/abi/generate.ts";

const PREFIX = "pwt-"; // pwt-<pid>-<seq>-<host>: the pid lets a later run sweep what a killed run left
const IP_TIMEOUT_MS = 10_000;
const IFACE = "eth0"; // the one interface of every host namespace, as a board has one radio

let cachedReason: string | null | undefined;

/** Why network-namespace tests cannot run here (say it loudly and skip), or null when they can. */
export function netnsUnavailable(): string | null {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = probe();
  return cachedReason;
}

function probe(): string | null {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "network namespaces need root (uid 0); CI runs as root";
  const name = `${PREFIX}${process.pid}-probe`;
  try {
    ipSync(["netns", "add", name]);
  } catch (e) {
    return `cannot create a network namespace with \`ip netns add\`: ${(e as Error).message.split("\n")[0]}`;
  }
  try {
    ipSync(["-n", name, "link", "add", "p0", "type", "veth", "peer", "name", "p1"]);
    ipSync(["-n", name, "link", "add", "b0", "type", "bridge"]);
  } catch (e) {
    return `veth pairs or bridges are unavailable in a network namespace: ${(e as Error).message.split("\n")[0]}`;
  } finally {
    try {
      ipSync(["netns", "del", name]);
    } catch {}
  }
  return null;
}

function ipSync(args: string[]): string {
  return execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"], timeout: IP_TIMEOUT_MS, encoding: "utf8" });
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (or its timeout, then SIGKILL); never rejects. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8", maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
      resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr: stderr || (e && typeof e.code === "string" ? e.message : "") });
    });
  });
}

/** Namespaces left by runs whose process is gone (killed before cleanup): deleted. */
function sweepStale(): void {
  let names: string[];
  try {
    names = ipSync(["netns", "list"]).split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(n.slice(PREFIX.length).split("-")[0]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // that run is still going
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") continue;
    }
    try {
      ipSync(["netns", "del", n]);
    } catch {}
  }
}

const live = new Set<Lan>();
let exitHook = false;

function hookExit(): void {
  if (exitHook) return;
  exitHook = true;
  // last resort when a test forgets destroy() or the worker exits: synchronous, so it runs in "exit"
  process.once("exit", () => {
    for (const lan of live) lan.destroySync();
  });
}

export interface HostSpec {
  /** Key used with exec/spawn/node. */
  name: string;
  /** CIDR, e.g. "192.168.4.1/24"; omitted: the link is up without an address (a DHCP client). */
  address?: string;
  /** Fixed MAC for the host's interface (default: random from the kernel). */
  mac?: string;
}

let seq = 0;

export class Lan {
  /** Namespace name per host name. */
  readonly ns: Record<string, string> = {};
  readonly hub: string;
  private readonly procs = new Set<ChildProcess>();
  private gone = false;

  constructor(readonly id: string, readonly hosts: HostSpec[]) {
    this.hub = `${id}-hub`;
    for (const h of hosts) this.ns[h.name] = `${id}-${h.name}`;
  }

  /** Every namespace this LAN owns, hub first. */
  names(): string[] {
    return [this.hub, ...Object.values(this.ns)];
  }

  private nsOf(host: string): string {
    const n = this.ns[host];
    if (!n) throw new Error(`no host "${host}" on this LAN (hosts: ${Object.keys(this.ns).join(", ")})`);
    return n;
  }

  /** Runs a command inside the host's namespace to completion, bounded by timeoutMs (default 20 s). */
  exec(host: string, cmd: string, args: string[] = [], timeoutMs = 20_000): Promise<ExecResult> {
    return run("ip", ["netns", "exec", this.nsOf(host), cmd, ...args], timeoutMs);
  }

  /** Starts a long-running command inside the host's namespace; it is killed by destroy(). */
  spawn(host: string, cmd: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess {
    if (this.gone) throw new Error("this LAN was destroyed");
    const child = spawn("ip", ["netns", "exec", this.nsOf(host), cmd, ...args], { stdio: "pipe", ...opts });
    this.procs.add(child);
    child.once("exit", () => this.procs.delete(child));
    return child;
  }

  /** A Node process inside the host's namespace, with TypeScript (tsx) like the CLI, cwd the repo. */
  node(host: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return this.spawn(host, process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, ...opts });
  }

  /** Kills what runs inside (bounded), then deletes every namespace (their veths and bridge go too). */
  async destroy(): Promise<void> {
    if (this.gone) return;
    const exits = [...this.procs].map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          const hard = setTimeout(() => p.kill("SIGKILL"), 2000);
          const give = setTimeout(resolve, 4000); // bounded: never hang a test run on a stuck child
          p.once("exit", () => (clearTimeout(hard), clearTimeout(give), resolve()));
          p.kill("SIGTERM");
        }),
    );
    await Promise.all(exits);
    this.destroySync();
  }

  /** Deletes the namespaces now (used at exit); processes still inside lose their network. */
  destroySync(): void {
    if (this.gone) return;
    this.gone = true;
    live.delete(this);
    for (const p of this.procs) p.kill("SIGKILL");
    for (const n of this.names()) {
      try {
        ipSync(["netns", "del", n]);
      } catch {}
    }
  }
}

/** Creates N host namespaces on one bridge (in its own hub namespace). Throws with the reason if
 *  namespaces are unavailable; half-built LANs are removed before the error propagates. */
export async function createLan(hosts: HostSpec[]): Promise<Lan> {
  const why = netnsUnavailable();
  if (why) throw new Error(why);
  if (!hosts.length || new Set(hosts.map((h) => h.name)).size !== hosts.length) throw new Error("hosts need distinct names");
  for (const h of hosts) if (!/^[a-z0-9]{1,12}$/.test(h.name)) throw new Error(`host name "${h.name}": 1-12 of a-z0-9`);
  sweepStale();
  hookExit();
  const lan = new Lan(`${PREFIX}${process.pid}-${seq++}`, hosts);
  live.add(lan);
  try {
    const hub = lan.hub;
    ipSync(["netns", "add", hub]);
    ipSync(["-n", hub, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
    ipSync(["-n", hub, "link", "set", "br0", "up"]);
    hosts.forEach((h, i) => {
      const ns = lan.ns[h.name];
      ipSync(["netns", "add", ns]);
      ipSync(["-n", ns, "link", "set", "lo", "up"]);
      // created inside the hub (fresh names there), the other end goes straight into the host's namespace
      ipSync(["-n", hub, "link", "add", `p${i}`, "type", "veth", "peer", "name", IFACE, "netns", ns]);
      ipSync(["-n", hub, "link", "set", `p${i}`, "master", "br0"]);
      ipSync(["-n", hub, "link", "set", `p${i}`, "up"]);
      if (h.mac) ipSync(["-n", ns, "link", "set", IFACE, "address", h.mac]);
      if (h.address) ipSync(["-n", ns, "addr", "add", h.address, "dev", IFACE]);
      ipSync(["-n", ns, "link", "set", IFACE, "up"]);
      // 255.255.255.255 leaves by the one interface, as a board's broadcast leaves by its radio (with no
      // default route Linux would refuse it: ENETUNREACH)
      if (h.address) ipSync(["-n", ns, "route", "add", "255.255.255.255/32", "dev", IFACE]);
    });
  } catch (e) {
    lan.destroySync();
    throw e;
  }
  return lan;
}

/** Lines of a child's stdout+stderr as they arrive, with a bounded wait for one that matches. */
export class Output {
  text = "";
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(child: ChildProcess) {
    const feed = (d: Buffer) => {
      this.text += d.toString("utf8");
      this.waiters = this.waiters.filter((w) => {
        const m = this.text.match(w.re);
        if (m) w.resolve(m);
        return !m;
      });
    };
    child.stdout?.on("data", feed);
    child.stderr?.on("data", feed);
  }

  /** Resolves with the first match of re in the output so far or to come; rejects after timeoutMs. */
  waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const m = this.text.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.re !== re);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; output so far:\n${this.text}`));
      }, timeoutMs);
      this.waiters.push({ re, resolve: (x) => (clearTimeout(t), resolve(x)) });
    });
  }
}
