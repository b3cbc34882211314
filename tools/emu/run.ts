// Runs a picowire firmware image (UF2) in the rp2040js emulator and prints its UART0 output.
//
//   npx tsx tools/emu/run.ts [build/pico/native/pico/picowire_emu.uf2] [--timeout-ms 120000] [--until TEXT] [--sram-kb N]
//
// --sram-kb N gives the emulated chip N KiB of SRAM instead of 264 (a measurement image built with
// PICOWIRE_EMU_HEAP_KB keeps its heap past the real RAM; no real board has it). A panic ends the run.
//
// rp2040js (npm) does not ship the RP2040 bootrom; the rp2040js repository's demo/bootrom.ts does.
// Give its path (or a raw 16 KiB bootrom .bin) in RP2040_BOOTROM; `npm run deps` sets it. rp2040js does not emulate the CYW43, so only images that need no
// radio run here (picowire_emu). It runs at a fixed 125 MHz: time on the board's timer = cycles / 125.
// rp2040js does not program flash; runImage puts a SPI NOR flash model behind it (tools/emu/qspi-flash.ts),
// so the ROM's erases and programs land in the emulated flash.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import "../build/deps-env.ts"; // RP2040_BOOTROM from `npm run deps`, where the user set none

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const EMU_IMAGE = join(ROOT, "build", "pico", "native", "pico", "picowire_emu.uf2");
export const DONE_MARKER = "picowire emu: done";
/** The SDK's panic(): the image stops (a breakpoint ends rp2040js's run loop), so waiting is pointless. */
export const PANIC_MARKER = "*** PANIC ***";

const BOOTROM_CANDIDATES = [join(ROOT, "node_modules", "rp2040js", "demo", "bootrom.ts")];

/** Where the bootrom is, or null with the reason. */
export function findBootrom(): { path: string } | { missing: string } {
  const env = process.env.RP2040_BOOTROM;
  if (env) return existsSync(env) ? { path: env } : { missing: `RP2040_BOOTROM=${env} does not exist` };
  for (const c of BOOTROM_CANDIDATES) if (existsSync(c)) return { path: c };
  return {
    missing:
      "the RP2040 bootrom (npm run deps -- firmware-deps.tar.xz, or set RP2040_BOOTROM to rp2040js's demo/bootrom.ts " +
      "from a checkout of github.com/wokwi/rp2040js, or to a 16 KiB bootrom .bin)",
  };
}

async function loadBootrom(path: string): Promise<Uint32Array> {
  if (path.endsWith(".bin")) {
    const b = readFileSync(path);
    return new Uint32Array(b.buffer, b.byteOffset, Math.floor(b.length / 4));
  }
  const mod = await import(pathToFileURL(path).href); // demo/bootrom.ts: export const bootromB1 = new Uint32Array([...])
  const rom = mod.bootromB1 ?? mod.default;
  if (!(rom instanceof Uint32Array)) throw new Error(`${path} does not export bootromB1 as a Uint32Array`);
  return rom;
}

/** The UF2 blocks' payloads written into the emulated flash (RP2040 family only). */
function loadUf2(mcu: { flash: Uint8Array }, uf2: Uint8Array): number {
  const view = new DataView(uf2.buffer, uf2.byteOffset, uf2.byteLength);
  let blocks = 0;
  for (let off = 0; off + 512 <= uf2.length; off += 512) {
    if (view.getUint32(off, true) !== 0x0a324655 || view.getUint32(off + 4, true) !== 0x9e5d5157) continue;
    const flags = view.getUint32(off + 8, true);
    if (flags & 1) continue; // "not main flash"
    const addr = view.getUint32(off + 12, true);
    const size = view.getUint32(off + 16, true);
    if (addr < 0x10000000 || addr + size > 0x10000000 + mcu.flash.length) continue;
    mcu.flash.set(uf2.subarray(off + 32, off + 32 + size), addr - 0x10000000);
    blocks++;
  }
  return blocks;
}

export interface EmuResult {
  output: string;
  done: boolean;
  simulatedMs: number;
  wallMs: number;
  /** Erases and page programs the flash model ran (zeros with flashModel: false). */
  flashOps: { erases: number; programs: number };
}

/** Runs image until `until` appears on UART0, simulatedMs of board time pass, or timeoutMs of wall time
 *  pass (a loaded machine simulates less in the same wall time: tests that need board time ask for it). */
export async function runImage(
  image: string,
  opts: {
    bootrom?: string;
    until?: string;
    timeoutMs?: number;
    simulatedMs?: number;
    echo?: boolean;
    /** Called once before the first instruction (tools/emu/profile.ts hooks the core here). */
    setup?: (sim: import("rp2040js").Simulator) => void;
    /** Every UART0 chunk, with the output so far. */
    onOutput?: (text: string, output: string) => void;
    /** KiB of emulated SRAM (default: the RP2040's 264). */
    sramKb?: number;
    /** Model the flash chip, so the ROM's erase/program change the flash (default true). */
    flashModel?: boolean;
    /** Every command the flash model saw, when CS went high (traces). */
    onFlashCommand?: (c: import("./qspi-flash.ts").FlashCommand) => void;
  } = {},
): Promise<EmuResult> {
  const found = opts.bootrom ? { path: opts.bootrom } : findBootrom();
  if ("missing" in found) throw new Error(`cannot run the emulator: missing ${found.missing}`);
  const { Simulator, ConsoleLogger, LogLevel } = await import("rp2040js");
  const sim = new Simulator();
  const mcu = sim.rp2040;
  mcu.logger = new ConsoleLogger(LogLevel.Error); // not one line per SEV instruction
  if (opts.sramKb && opts.sramKb > 264) {
    const sram = new Uint8Array(opts.sramKb * 1024);
    Object.assign(mcu, { sram, sramView: new DataView(sram.buffer) }); // readonly in the typings only
  }
  mcu.loadBootrom(await loadBootrom(found.path));
  // imported here, as rp2040js is: tools/ ships without devDependencies
  let flashOps = { erases: 0, programs: 0 };
  if (opts.flashModel !== false) {
    const model = (await import("./qspi-flash.ts")).attachFlashModel(mcu);
    model.chip.onCommand = opts.onFlashCommand;
    flashOps = model.ops;
  }
  const blocks = loadUf2(mcu, readFileSync(image));
  if (blocks === 0) throw new Error(`${image}: no RP2040 UF2 blocks`);
  const until = opts.until ?? DONE_MARKER;
  let output = "";
  let done = false;
  let panicked = false;
  const started = Date.now();
  return await new Promise<EmuResult>((resolvePromise) => {
    const finish = () => {
      sim.stop();
      clearInterval(watch);
      resolvePromise({ output, done, simulatedMs: sim.clock.nanos / 1e6, wallMs: Date.now() - started, flashOps: { ...flashOps } });
    };
    const decoder = new TextDecoder();
    mcu.uart[0].onByte = (value: number) => {
      const text = decoder.decode(new Uint8Array([value]), { stream: true });
      output += text;
      if (opts.echo) process.stdout.write(text);
      opts.onOutput?.(text, output);
      if (!done && output.includes(until)) {
        done = true;
        setImmediate(finish);
      } else if (!panicked && output.includes(PANIC_MARKER)) {
        panicked = true;
        setTimeout(finish, 500); // the panic's message follows the marker
      }
    };
    const watch = setInterval(() => {
      const enough = opts.simulatedMs !== undefined && sim.clock.nanos / 1e6 >= opts.simulatedMs;
      if (enough || Date.now() - started > (opts.timeoutMs ?? 120_000)) finish();
    }, 200);
    opts.setup?.(sim);
    mcu.core.PC = 0x10000000; // boot2 at the start of flash, as rp2040js's demo does
    sim.execute();
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let image = EMU_IMAGE;
  let timeoutMs = 120_000;
  let until = DONE_MARKER;
  let sramKb: number | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--timeout-ms") timeoutMs = Number(args[++i]);
    else if (args[i] === "--sram-kb") sramKb = Number(args[++i]);
    else if (args[i] === "--until") until = args[++i];
    else image = resolve(args[i]);
  }
  if (!existsSync(image)) {
    console.error(`tools/emu/run.ts: ${image} does not exist (npm run build with the Pico SDK builds it)`);
    process.exit(2);
  }
  const found = findBootrom();
  if ("missing" in found) {
    console.error(`tools/emu/run.ts: missing ${found.missing}`);
    process.exit(2);
  }
  console.error(`emu: ${image} in rp2040js, bootrom ${found.path}`);
  const r = await runImage(image, { bootrom: found.path, until, timeoutMs, echo: true, sramKb });
  console.error(
    `\nemu: ${r.done ? "finished" : "TIMED OUT"} after ${r.simulatedMs.toFixed(1)} ms simulated, ${(r.wallMs / 1000).toFixed(1)} s wall`,
  );
  process.exit(r.done ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
