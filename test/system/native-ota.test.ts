// Over-the-air core updates (docs/OTA.md) on the native C host, over loopback: the POSIX port with the
// wasm3 engine takes a new core with `picowire update`, reboots into it on trial, keeps it across a
// process restart (--flash-file), rolls back an image that never confirms itself or does not start; the
// wasm2c build (its core compiled in) refuses, and the CLI says it needs new firmware.
//   wasm2c: needs Debian's wabt (wasm2c), cmake and a C compiler;
//   wasm3:  also needs WASM3_PATH, the root of a wasm3 source tree. Without them: skipped, loudly.
import { describe, it, expect, beforeAll, afterEach } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ABI_VERSION, C } from "../../tools/host/abi.generated.ts";
import { Client, type Reply } from "../../tools/client.ts";
import { Flash } from "../../tools/host/flash.ts";
import { writeSlot } from "../../tools/host/slots.ts";
import { picoLayout } from "../../tools/provision/layout.ts";
import { otaBegin, updateBoard, type Image } from "../../tools/cli/update.ts";
import { freePort } from "../helpers/boards.ts";
import { wasmBytes, coreSha256 } from "../helpers/core.ts";
import { picowire } from "../helpers/cli.ts";
import { ROOT } from "../../tools/abi/generate.ts";
import { needs, nativeHostMissing, wasm3Missing } from "../helpers/inputs.ts";

const KEY = "native-ota-key-0123456789";
const HOST = "127.0.0.1";
const BUILD_SCRIPT = join(ROOT, "tools/native/build-posix.sh");

const missing = nativeHostMissing();
const wasm3 = wasm3Missing();

/** The real core with a custom section naming `tag`: another SHA-256, the same behaviour (as test/system/ota.test.ts). */
function variant(tag: string): Image {
  const name = Buffer.from("picowire-test");
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(tag)]);
  const bytes = new Uint8Array(Buffer.concat([wasmBytes, Buffer.from([0, payload.length]), payload]));
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex"), abi: ABI_VERSION };
}

/** One picowire-posix process, its log lines collected. */
class Proc {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private partial = "";
  constructor(bin: string, args: string[]) {
    this.child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const take = (d: Buffer) => {
      const parts = (this.partial + d.toString("utf8")).split("\n");
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    };
    this.child.stdout!.on("data", take);
    this.child.stderr!.on("data", take);
    this.exited = new Promise((r) => this.child.on("close", (code) => r(code)));
  }
  text = () => this.lines.join("\n");
  /** Resolves with the first line matching re, at most ms from now. */
  async waitFor(re: RegExp, ms = 10_000, from = 0): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const line = this.lines.slice(from).find((l) => re.test(l));
      if (line) return line;
      if (Date.now() > end) throw new Error(`no ${re} within ${ms} ms; log:\n${this.text()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await this.exited;
    clearTimeout(t);
  }
}

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

function build(args: string[]): string {
  const r = spawnSync("bash", [BUILD_SCRIPT, ...args], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`build-posix.sh ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return r.stdout.trim().split("\n").pop()!;
}

async function board(bin: string, extra: string[] = []): Promise<{ p: Proc; port: number }> {
  const port = await freePort(HOST);
  const p = new Proc(bin, ["--host", HOST, "--set", "http_port=0", "--set", `control_port=${port}`, "--set", `key=${KEY}`, ...extra]);
  procs.push(p);
  await p.waitFor(new RegExp(`control: listening on port ${port}`));
  return { p, port };
}

async function info(port: number): Promise<Reply> {
  const c = await Client.connect(HOST, port, { key: KEY });
  try {
    return await c.command({ action: "get_info" });
  } finally {
    c.close();
  }
}

/** ota_begin, every chunk, ota_end, as the CLI does but without coming back afterwards (so the new core
 *  hears no command and never confirms itself). */
async function push(port: number, image: Image): Promise<Reply> {
  const c = await Client.connect(HOST, port, { key: KEY });
  try {
    const r = await c.command(otaBegin(image));
    if (r.error) return r;
    for (let o = r.have as number; o < image.bytes.length; o += r.chunk as number) {
      const cr = await c.command({ action: "ota_chunk", offset: o, data: Buffer.from(image.bytes.subarray(o, o + (r.chunk as number))).toString("base64") });
      if (cr.error) return cr;
    }
    return await c.command({ action: "ota_end" });
  } finally {
    c.close();
  }
}

const quiet = { key: KEY, log: () => {}, progress: () => {} };
const tmp = () => mkdtempSync(join(tmpdir(), "picowire-native-ota-"));

needs([...missing, wasm3]).describe("over-the-air update of the C host (POSIX, wasm3 engine)", () => {
  let bin = "";
  beforeAll(() => {
    bin = build(["--engine", "wasm3"]);
  }, 320_000);

  it("picowire update installs a core, the board reboots into it on trial, it confirms itself, and a restart keeps it", async () => {
    const dir = tmp();
    const flashFile = join(dir, "flash.bin");
    const keyFile = join(dir, "bus.key");
    writeFileSync(keyFile, KEY + "\n");
    const { p, port } = await board(bin, ["--flash-file", flashFile]);
    expect(await info(port)).toMatchObject({ engine: "wasm3", slot: "firmware", core_sha256: coreSha256, slots: [{ sha256: null }, { sha256: null }] });

    const v1 = variant("native-v1");
    const file1 = join(dir, "v1.wasm");
    writeFileSync(file1, v1.bytes);
    const cli = picowire(["update", `${HOST}:${port}`, file1, "--key-file", keyFile]);
    expect(await cli.exit).toBe(0);
    expect(cli.out()).toMatch(/runs core [0-9a-f]{12} from slot A, confirmed/);
    expect(p.text()).toMatch(/posix: rebooting \(the core asked for it\)[\s\S]*host: slot A: booting the new core [0-9a-f]{8} on trial[\s\S]*host: the new core in slot A confirmed itself/);
    expect(await info(port)).toMatchObject({ slot: "A", core_sha256: v1.sha256, reset_reason: "software" });

    // the second goes to slot B; the first stays, confirmed, as the fallback
    const v2 = variant("native-v2");
    expect(await updateBoard(HOST, port, v2, quiet)).toMatchObject({ slot: "B" });
    const i2 = await info(port);
    expect(i2).toMatchObject({ engine: "wasm3", slot: "B", core_sha256: v2.sha256, slots: [{ sha256: v1.sha256 }, { sha256: v2.sha256 }] });
    // what wasm3 loaded at each boot: the firmware's core, then each new one (parsed from the slot in place;
    // the line may be cut at the host's 299-character log limit (PW_LOG_LINE_MAX), so only the digest's start is compared)
    const loaded = p.lines.map((l) => /^\[info\] wasm3: .* sha256 ([0-9a-f]{16})/.exec(l)?.[1]).filter(Boolean);
    expect(loaded).toEqual([coreSha256, v1.sha256, v2.sha256].map((h) => h.slice(0, 16)));

    // a new process on the same flash file: the board boots slot B as before
    await p.stop();
    const again = await board(bin, ["--flash-file", flashFile]);
    expect(await info(again.port)).toMatchObject({ slot: "B", core_sha256: v2.sha256, reset_reason: "power_on" });
  }, 60_000);

  it("rolls back to the previous slot when the new core never confirms itself (trial watchdog)", async () => {
    const flashFile = join(tmp(), "flash.bin");
    const v1 = variant("native-good");
    writeSlot(new Flash(flashFile), C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true); // a board that runs v1 from slot A
    const { p, port } = await board(bin, ["--flash-file", flashFile, "--trial-ms", "1500"]);
    expect(await info(port)).toMatchObject({ slot: "A", core_sha256: v1.sha256 });

    const v2 = variant("native-silent");
    expect(await push(port, v2)).not.toHaveProperty("error");
    await p.waitFor(/host: slot B: booting the new core [0-9a-f]{8} on trial/, 5000);
    // nobody talks to it and it is on no bus: 1.5 s later the host reboots and the rules roll it back
    await p.waitFor(/host: the new core in slot B did not confirm itself within 1500 ms: watchdog restart/, 5000);
    await p.waitFor(/host: slot B: core [0-9a-f]{8} was tried and never confirmed itself: rolled back/, 5000);
    await p.waitFor(new RegExp(`control: listening on port ${port}`), 5000, p.lines.findIndex((l) => /rolled back/.test(l)));
    const i = await info(port);
    expect(i).toMatchObject({ slot: "A", core_sha256: v1.sha256, reset_reason: "watchdog", slots: [{ sha256: v1.sha256 }, { sha256: v2.sha256 }] });
    expect(p.text()).not.toMatch(/slot B confirmed itself/);
  }, 30_000);

  it("keeps its compiled code in --wasm3-code-file: the next run binds to it; a power cut in any code sector write makes the next run compile again", async () => {
    // the same binary at the same addresses in every run (setarch -R: no ASLR), so the RAM the code names
    // is where it was: what a board's firmware gets at every power-up
    const dir = tmp();
    const code = join(dir, "code.bin");
    const args = (extra: string[] = []) => ["-R", bin, "--host", HOST, "--set", "http_port=0", "--set", "control_port=0", "--wasm3-code-file", code, ...extra];
    const run = (extra: string[] = []) => {
      const r = spawnSync("setarch", [...args(extra), "--commands"], { encoding: "utf8", timeout: 20_000, input: "" });
      return { status: r.status, log: r.stdout + r.stderr };
    };
    const first = run();
    const compiledLine = /\[info\] wasm3: .* after compiling \d+ functions into flash \(code \d+ of \d+ bytes, (\d+) sectors rewritten/;
    const boundLine = /\[info\] wasm3: .* after binding \d+ functions to their code cached in flash \(code \d+ of \d+ bytes, 0 sectors rewritten/;
    expect(first.log).toMatch(compiledLine);
    const writes = Number(compiledLine.exec(first.log)![1]); // sector writes on a fresh file, the record's last
    expect(run().log).toMatch(boundLine);
    let cuts = 0;
    const at = Array.from({ length: writes }, (_, k) => k);
    for (const k of at) {
      rmSync(code, { force: true });
      const cut = run(["--wasm3-code-cut", String(k)]);
      expect(cut.status, cut.log).toBe(86);
      expect(cut.log).toContain(`power cut in code sector write ${k}`);
      const next = run();
      // before the last write (the record's) the code is incomplete: never bound; a record whose bytes
      // all landed before the cut seals complete code, and binding to it is right
      if (k < writes - 1) expect(next.log, `after a cut in write ${k}`).not.toMatch(boundLine);
      expect(next.log, `after a cut in write ${k}`).toMatch(k < writes - 1 ? compiledLine : /after (compiling|binding) \d+ functions/);
      expect(next.log).toMatch(/picowire core ready/); // init ran
      cuts++;
    }
    expect(run().log).toMatch(boundLine);
    // a code file of another region size, and a cut index that is not one, are refused (status 2)
    const wrongSize = run(["--wasm3-code-kb", "512"]);
    expect(wrongSize.status).toBe(2);
    expect(wrongSize.log).toContain(`--wasm3-code-file ${code}: 1048576 bytes, expected 524288 (--wasm3-code-kb 512): give the same --wasm3-code-kb, or another file`);
    const badCut = run(["--wasm3-code-cut", "x"]);
    expect(badCut.status).toBe(2);
    expect(badCut.log).toContain("--wasm3-code-cut x: expected 0..1000000");
    console.log(`POSIX code file: ${writes} sector writes on a fresh file, power cut in each of them: each next run compiled again (or, after the record landed, bound)`);
  }, 600_000);

  it("migrates a flash file of the layout before (64 KiB slots): configuration, slots and state kept", () => {
    const l = picoLayout();
    const file = join(tmp(), "old-flash.bin");
    const v1 = variant("native-old-layout");
    const now = new Flash();
    writeSlot(now, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true);
    const old = new Uint8Array(l.oldBytes).fill(0xff);
    const config = new Uint8Array(l.configSize).map((_, i) => (i * 13) & 0xff);
    const state = new Uint8Array(l.stateSize).map((_, i) => (i * 7 + 1) & 0xff);
    old.set(config, 0);
    const slotA = now.read(C.REGION_SLOT_A, 0, l.oldSlotSize) as Uint8Array;
    old.set(slotA, l.configSize);
    old.set(state, l.oldBytes - l.stateSize);
    writeFileSync(file, old);
    const r = spawnSync(bin, ["--host", HOST, "--set", "http_port=0", "--set", "control_port=0", "--flash-file", file, "--commands"], { encoding: "utf8", timeout: 20_000, input: "" });
    expect(r.stderr).toContain(`${file}: migrated from the 143360-byte layout (64 KiB slots) to 176128 bytes (80 KiB slots)`);
    expect(r.stdout).toMatch(/picowire core ready/); // the migrated board starts
    const f = new Flash(file); // the migrated file, read back by the Node host
    // the old slot's bytes moved whole into the new slot A (today's core is larger than an old slot: what an
    // old board holds there is an older core, kept as it was)
    expect(f.read(C.REGION_SLOT_A, 0, l.oldSlotSize)).toEqual(slotA);
    expect(f.read(C.REGION_CONFIG, 0, l.configSize)).toEqual(config);
    expect(f.read(C.REGION_STATE, 0, l.stateSize)).toEqual(state);
  });

  it("passes over at once a new core that does not start, and the CLI says it was rolled back", async () => {
    const { p, port } = await board(bin);
    const junk: Image = { bytes: new Uint8Array(5000).fill(7), sha256: "", abi: ABI_VERSION }; // signed and whole, not a module
    junk.sha256 = createHash("sha256").update(junk.bytes).digest("hex");
    await expect(updateBoard(HOST, port, junk, quiet)).rejects.toThrow(/came back with core .* from slot firmware, not the new one: it was rolled back/);
    expect(p.text()).toMatch(/host: cannot load the core with wasm3: [\s\S]*host: the core in slot A does not start/);
    expect(await info(port)).toMatchObject({ slot: "firmware", core_sha256: coreSha256, slots: [{ sha256: junk.sha256 }, { sha256: null }] });
  }, 30_000);
});

needs(missing).describe("a C host whose core is compiled in (POSIX, wasm2c engine)", () => {
  let bin = "";
  beforeAll(() => {
    bin = build([]);
  }, 320_000);

  it("offers no slots: the core refuses an update and picowire update says it needs new firmware", async () => {
    const dir = tmp();
    const keyFile = join(dir, "bus.key");
    writeFileSync(keyFile, KEY + "\n");
    const { port } = await board(bin);
    expect(await info(port)).toMatchObject({ engine: "wasm2c", slot: "firmware", core_sha256: coreSha256, slots: [{ sha256: null }, { sha256: null }] });
    const v = variant("native-wasm2c");
    const c = await Client.connect(HOST, port, { key: KEY });
    expect((await c.command(otaBegin(v))).error).toMatch(/no core slots: needs new firmware/);
    c.close();
    const file = join(dir, "v.wasm");
    writeFileSync(file, v.bytes);
    const cli = picowire(["update", `${HOST}:${port}`, file, "--key-file", keyFile]);
    expect(await cli.exit).toBe(1);
    expect(cli.out()).toMatch(/runs its core compiled into the firmware \(wasm2c\): a new core needs new firmware \(build\/picowire.uf2 over USB\)/);
  }, 30_000);

  it("refuses a trial deadline out of range and a flash file of the wrong size (exit status 2)", () => {
    for (const ms of ["0", "3600001", "x"]) {
      const r = spawnSync(bin, ["--trial-ms", ms], { encoding: "utf8", timeout: 10_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`--trial-ms ${ms}: expected 1..3600000`);
    }
    const file = join(tmp(), "short.bin");
    writeFileSync(file, new Uint8Array(10));
    const r = spawnSync(bin, ["--flash-file", file], { encoding: "utf8", timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: expected a 176128-byte flash image (or a 143360-byte one of the layout before, which is migrated); it is neither`);
  });
});
