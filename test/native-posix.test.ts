// The native C host (native/host + native/posix) running the identical build/picowire.wasm through
// each engine that can be built, against real peers on loopback: a raw socket speaking the tutorial's
// protocol, Node's HTTP client, and a second native process as the RGB client board.
//   wasm2c: needs Debian's wabt (wasm2c), cmake and a C compiler;
//   wasm3:  also needs WASM3_PATH, the root of a wasm3 source tree (github.com/wasm3/wasm3).
// Without them the engine's suite is skipped, loudly. PW_NATIVE_BENCH=1 also measures requests/s.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { C } from "../tools/host/abi.generated.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const WASM = join(ROOT, "build/picowire.wasm");
const BUILD_SCRIPT = join(ROOT, "tools/native/build-posix.sh");
const HOST = "127.0.0.1";

function runs(cmd: string): boolean {
  const r = spawnSync(cmd, ["--version"], { stdio: "ignore", timeout: 10_000 });
  return !r.error && r.status === 0;
}

const missing = [
  runs("wasm2c") ? null : "wasm2c (Debian package wabt)",
  runs("cmake") ? null : "cmake",
  runs("cc") || runs("gcc") || runs("clang") ? null : "a C compiler",
].filter((m): m is string => m !== null);
if (missing.length > 0) {
  console.warn(
    `\n${"!".repeat(100)}\n!!! SKIPPED: native POSIX host tests (test/native-posix.test.ts) did NOT run: missing ${missing.join(", ")}.\n` +
      `!!! Install with: apt-get install -y wabt cmake gcc\n${"!".repeat(100)}\n`,
  );
}

const WASM3_PATH = process.env.WASM3_PATH ?? "";
const wasm3Missing = !WASM3_PATH
  ? "WASM3_PATH is not set (the root of a wasm3 source tree: git clone https://github.com/wasm3/wasm3 DIR; export WASM3_PATH=DIR)"
  : !existsSync(join(WASM3_PATH, "source/wasm3.h"))
    ? `WASM3_PATH=${WASM3_PATH} is not a wasm3 source tree (no source/wasm3.h)`
    : null;
if (missing.length === 0 && wasm3Missing) {
  console.warn(
    `\n${"!".repeat(100)}\n!!! SKIPPED: the native POSIX host tests with the wasm3 engine did NOT run: ${wasm3Missing}.\n` +
      `!!! The wasm2c engine's tests ran; the wasm3 engine (the device's default) is untested here.\n${"!".repeat(100)}\n`,
  );
}

interface Engine {
  name: "wasm2c" | "wasm3";
  buildArgs: string[];
  trapCore: string; // the trap core's binary, next to the main one
  skip: boolean;
}
const ENGINES: Engine[] = [
  { name: "wasm2c", buildArgs: [], trapCore: "picowire-posix-trap-core", skip: missing.length > 0 },
  { name: "wasm3", buildArgs: ["--engine", "wasm3"], trapCore: "picowire-posix-wasm3-trap-core", skip: missing.length > 0 || wasm3Missing !== null },
];

/** One picowire-posix process with its log lines collected. */
class NativeBoard {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = "";
  private listeners: (() => void)[] = [];

  constructor(bin: string, args: string[]) {
    this.child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const take = (chunk: Buffer) => {
      this.partial += chunk.toString("utf8");
      const parts = this.partial.split("\n");
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      for (const l of this.listeners) l();
    };
    this.child.stdout!.on("data", take);
    this.child.stderr!.on("data", take);
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
    this.exited.then(() => this.listeners.forEach((l) => l()));
  }

  get log(): string {
    return [...this.lines, this.partial].join("\n");
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first log line matching re, waiting at most ms. */
  waitForLine(re: RegExp, ms = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.lines.find((l) => re.test(l));
        if (hit !== undefined) return done(() => resolve(hit));
        if (!this.running) done(() => reject(new Error(`process exited before printing ${re}; log:\n${this.log}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no line matching ${re} within ${ms} ms; log:\n${this.log}`))), ms);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        f();
      };
      this.listeners.push(check);
      check();
    });
  }

  /** Waits until at least n log lines match re. */
  async waitForCount(re: RegExp, n: number, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.lines.filter((l) => re.test(l)).length < n) {
      if (!this.running) throw new Error(`process exited waiting for ${n}x ${re}; log:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`fewer than ${n} lines matching ${re} within ${ms} ms; log:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within ms. */
  async stop(ms = 3000) {
    if (!this.running) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, HOST, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Sends bytes on a raw socket and collects the reply until the server ends the connection. */
function rawExchange(port: number, send: string, ms = 3000) {
  return new Promise<{ reply: string; end: "fin" | "reset" }>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ host: HOST, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close within ${ms} ms; got '${Buffer.concat(chunks).toString()}'`));
    }, ms);
    sock.on("connect", () => sock.write(send));
    sock.on("data", (d) => chunks.push(d));
    sock.on("end", () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks).toString("utf8"), end: "fin" });
    });
    sock.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === "ECONNRESET") resolve({ reply: Buffer.concat(chunks).toString("utf8"), end: "reset" });
      else reject(e);
    });
  });
}

function httpRequest(port: number, method: string, path: string, body?: string, ms = 3000) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: HOST, port, method, path, agent: false, timeout: ms }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: data }));
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${ms} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

for (const engine of ENGINES) describe.skipIf(engine.skip)(`native POSIX host (C host + ${engine.name} engine)`, () => {
  let bin = "";
  let port = 0;
  let server: NativeBoard;
  const boards: NativeBoard[] = [];
  const start = (args: string[], exe = bin) => {
    const b = new NativeBoard(exe, args);
    boards.push(b);
    return b;
  };

  beforeAll(async () => {
    if (!existsSync(WASM)) throw new Error(`${WASM} is missing: build the core first (npm run build)`);
    const built = spawnSync("bash", [BUILD_SCRIPT, ...engine.buildArgs], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
    if (built.status !== 0) {
      throw new Error(`tools/native/build-posix.sh ${engine.buildArgs.join(" ")} failed (status ${built.status}):\n${built.stderr}\n${built.stdout}`);
    }
    bin = built.stdout.trim().split("\n").pop()!;
    expect(existsSync(bin)).toBe(true);

    port = await freePort();
    server = start(["--host", HOST, "--set", `http_port=${port}`, "--set", "rgb_source=fixed", "--set", "rgb=10,20,30"]);
    await server.waitForLine(new RegExp(`^\\[info\\] http: listening on port ${port}$`), 10_000);
  }, 320_000);

  afterAll(async () => {
    await Promise.all(boards.map((b) => b.stop()));
  });

  it("passes the host's own unit tests (fake engine: flow control, FIN order, traps, restarts, canary)", () => {
    const r = spawnSync(join(dirname(bin), "pw_host_test"), { encoding: "utf8", timeout: 30_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("all host tests passed");
  });

  it("runs the very core in build/picowire.wasm", () => {
    const sha = createHash("sha256").update(readFileSync(WASM)).digest("hex");
    const line = server.lines.find((l) => l.includes("core sha256"));
    expect(line).toContain(`core sha256 ${sha}`);
    expect(line).toMatch(new RegExp(`engine ${engine.name},`));
  });

  it("answers a bare 'GET Data' (no line end) with exactly r,g,b, then closes", async () => {
    const r = await rawExchange(port, "GET Data");
    expect(r).toEqual({ reply: "10,20,30", end: "fin" });
  });

  it("serves GET /rgb to Node's HTTP client", async () => {
    expect(await httpRequest(port, "GET", "/rgb")).toEqual({ status: 200, body: "10,20,30" });
  });

  it("answers 404 for an unknown path", async () => {
    expect((await httpRequest(port, "GET", "/nope")).status).toBe(404);
  });

  it("takes a new colour with PUT /rgb and serves it afterwards", async () => {
    expect((await httpRequest(port, "PUT", "/rgb", "1,2,3")).status).toBe(200);
    expect(await httpRequest(port, "GET", "/rgb")).toEqual({ status: 200, body: "1,2,3" });
    expect(await rawExchange(port, "GET Data")).toEqual({ reply: "1,2,3", end: "fin" });
  });

  it("runs as the RGB client board: polls the server and drives the LED pins by PWM", async () => {
    const client = start([
      "--host", HOST, "--log-level", "debug",
      "--set", `rgb_server=${HOST}:${port}`, "--set", "rgb_poll_ms=50", "--set", "http_port=0",
      "--set", "rgb_pins=13,14,15",
    ]);
    await client.waitForLine(/^\[info\] rgb: 1 2 3$/, 5000);
    await client.waitForLine(/^\[debug\] sim: pwm pin 13 freq \d+ duty \d+$/, 5000);
    // it keeps polling every 50 ms: several answers within a second
    const before = client.lines.filter((l) => l === "[info] rgb: 1 2 3").length;
    await new Promise((r) => setTimeout(r, 500));
    expect(client.lines.filter((l) => l === "[info] rgb: 1 2 3").length).toBeGreaterThan(before + 2);
    const exit = await client.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(client.lines).toContain("[info] posix: stopping on SIGTERM");
  });

  it("refuses a bad configuration with the core's reason and exit status 2", async () => {
    const bad = start(["--host", HOST, "--set", "http_port=0", "--set", "colour=red"]);
    const exit = await Promise.race([
      bad.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running:\n${bad.log}`)), 5000)),
    ]);
    expect(exit.code).toBe(2);
    expect(bad.log).toMatch(/^\[error\] config line 2: unknown key/m);
  });

  it(`survives every kind of trap through the real ${engine.name} glue: logs it, resets, restarts the core`, async () => {
    // native/test/trap_core.wat: T unreachable, D call stack exhaustion, M out-of-bounds load,
    // C a write above the board's 32 KiB cap (wasm2c: the canary notices; wasm3 caps the memory at 32 KiB
    // as on the board, so the write itself traps), R answers reset_reason(), else echo.
    const trapBin = join(dirname(bin), engine.trapCore);
    expect(existsSync(trapBin), "wat2wasm (wabt) builds the trap core").toBe(true);
    const p2 = await freePort();
    const core = start(["--host", HOST, "--set", `port=${p2}`], trapBin);
    const ready = /^\[info\] trap-core ready$/;
    await core.waitForCount(ready, 1);
    expect(await rawExchange(p2, "R")).toEqual({ reply: String(C.RESET_POWER_ON), end: "fin" });
    const cases: [string, RegExp][] = [
      ["T", /^\[error\] host: core trapped in tcp_data: unreachable executed \(abort\); restarting the core$/],
      ["D", /^\[error\] host: core trapped in tcp_data: call stack exhausted; restarting the core$/],
      ["M", /^\[error\] host: core trapped in tcp_data: out-of-bounds memory or table access; restarting the core$/],
      engine.name === "wasm3"
        ? ["C", /^\[error\] host: core trapped in tcp_data: out-of-bounds memory or table access; restarting the core$/]
        : ["C", /^\[error\] host: core wrote at offset 40000, above its 32768-byte memory cap/],
    ];
    let starts = 1;
    for (const [byte, logged] of cases) {
      const r = await rawExchange(p2, byte);
      expect(r.end, `connection of the trapped core (${byte})`).toBe("reset");
      await core.waitForLine(logged);
      await core.waitForCount(ready, ++starts); // restarted (after a backoff: traps come fast here)
      expect(await rawExchange(p2, "R"), `after ${byte}`).toEqual({ reply: String(C.RESET_TRAP), end: "fin" });
    }
    expect(core.lines.filter((l) => l === "[warn] host: restarting the core (after a trap)")).toHaveLength(cases.length);
    expect(await core.stop()).toEqual({ code: 0, signal: null });
  });

  it("exits cleanly on SIGTERM", async () => {
    const exit = await server.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.lines).toContain("[info] posix: stopping on SIGTERM");
  });
});
