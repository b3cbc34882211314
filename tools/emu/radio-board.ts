// A Pico W in rp2040js with its radio: the flashed image (build/picowire.uf2, unchanged) plus the CYW43439
// model (tools/emu/cyw43/) on GP23/24/25/29, run by board time. rp2040js steps PIO on its own timer,
// apart from the CPU; here PIO steps in lockstep with the CPU (one state-machine step per divided clock
// cycle), so an SPI transfer takes the board cycles it takes on a Pico W and the driver's busy-waits
// and timeouts see the time they expect. The board never runs ahead of wall time when `realtime` (peers
// on the TAP side see a slow board, never one whose timers race), and runs flat out otherwise.
import { readFileSync } from "node:fs";
import type { RP2040, Simulator } from "rp2040js";
import { findBootrom, loadBootrom, loadUf2, PANIC_MARKER } from "./run.ts";
import { Cyw43Chip, ModelFault } from "./cyw43/chip.ts";
import { WlanFirmware, type Air } from "./cyw43/wlan.ts";
import { attachCyw43, type Cyw43Wiring } from "./cyw43/attach.ts";
import { loadBlobs } from "./cyw43/blobs.ts";
import { readUf2 } from "../provision/uf2.ts";

const CYCLE_NANOS = 8; // 125 MHz
const SLICE_CYCLES = 2_000_000;
/** With noCatchUp: the most a board behind wall time may catch up. */
const CATCH_UP_MS = 5;

interface Machine {
  enabled: boolean;
  waiting: boolean;
  waitType: number;
  clockDivInt: number;
  step(): void;
}
interface Pio {
  stopped: boolean;
  machines: Machine[];
  checkChangedPins(): void;
  run(): void;
}

export interface RadioBoardOptions {
  image: string;
  /** A configuration UF2 (picowire config set --uf2) loaded beside the image, as the bootrom would. */
  configUf2?: string;
  air?: Air | null;
  name?: string;
  echo?: boolean;
  /** Called before the first instruction (corrupt the flash, hook pins...). */
  setup?: (sim: Simulator, board: RadioBoard) => void;
}

export class RadioBoard {
  readonly sim: Simulator;
  readonly mcu: RP2040;
  readonly chip: Cyw43Chip;
  readonly wlan: WlanFirmware;
  readonly wiring: Cyw43Wiring;
  readonly name: string;
  output = "";
  /** Why the board stopped (a model fault, a panic), or null while it runs. */
  stopped: string | null = null;
  /** Hold the board's clock at or behind wall time from now on (peers on the TAP side run on wall
   *  time); off: flat out, e.g. for the boot before any peer talks. */
  get realtime(): boolean {
    return this.wallOrigin !== null;
  }
  set realtime(on: boolean) {
    this.wallOrigin = on ? Date.now() - this.boardMs : null;
  }
  private wallOrigin: number | null = null;
  /** With realtime: a board that fell behind wall time (busy) does not catch up when it idles, so over
   *  any stretch of wall time its clock advances by at most that much: a peer that measures a board's
   *  timeout in wall time never sees it shorter by more than CATCH_UP_MS (test/helpers/emu-board.ts).
   *  Off: the lag is caught up. */
  noCatchUp = false;
  /** Cycles the CPU executed (not sleeping in WFE/WFI): what the work cost, idle excluded. */
  busyCycles = 0;
  private readonly pios: Pio[];

  private constructor(sim: Simulator, opts: RadioBoardOptions) {
    this.sim = sim;
    this.mcu = sim.rp2040;
    this.name = opts.name ?? "board";
    this.chip = new Cyw43Chip({ blobs: loadBlobs() });
    this.wlan = new WlanFirmware(this.chip, opts.air ?? null);
    this.wiring = attachCyw43(this.mcu, this.chip);
    this.pios = this.mcu.pio as unknown as Pio[];
    for (const p of this.pios) p.run = () => {}; // stepped here, in lockstep with the CPU
    const decoder = new TextDecoder();
    let line = "";
    this.mcu.uart[0].onByte = (b: number) => {
      const text = decoder.decode(new Uint8Array([b]), { stream: true });
      this.output += text;
      line += text;
      if (opts.echo && line.endsWith("\n")) {
        process.stdout.write(`[${this.name}] ${line}`);
        line = "";
      }
      if (this.output.includes(PANIC_MARKER) && !this.stopped) setTimeout(() => (this.stopped ??= "panic"), 0);
    };
  }

  static async create(opts: RadioBoardOptions): Promise<RadioBoard> {
    const found = findBootrom();
    if ("missing" in found) throw new Error(`cannot run the emulator: missing ${found.missing}`);
    const { Simulator, ConsoleLogger, LogLevel } = await import("rp2040js");
    const sim = new Simulator();
    sim.rp2040.logger = new ConsoleLogger(LogLevel.Error);
    sim.rp2040.loadBootrom(await loadBootrom(found.path));
    (await import("./qspi-flash.ts")).attachFlashModel(sim.rp2040);
    if (loadUf2(sim.rp2040, readFileSync(opts.image)) === 0) throw new Error(`${opts.image}: no RP2040 UF2 blocks`);
    if (opts.configUf2) {
      const span = readUf2(new Uint8Array(readFileSync(opts.configUf2)));
      sim.rp2040.flash.set(span.data, span.address - 0x10000000);
    }
    const board = new RadioBoard(sim, opts);
    sim.rp2040.gpio[22].setInputValue(true); // the factory-reset button's pull-up rp2040js does not model
    opts.setup?.(sim, board);
    sim.rp2040.core.PC = 0x10000000;
    return board;
  }

  get cycles(): number {
    return Math.round(this.sim.clock.nanos / CYCLE_NANOS);
  }

  get boardMs(): number {
    return this.sim.clock.nanos / 1e6;
  }

  /** Runs up to `budget` cycles (fewer when realtime or `limitNanos`, a board-time ceiling, holds it back). */
  runSlice(budget = SLICE_CYCLES, limitNanos = Infinity): number {
    if (this.stopped) return 0;
    const { core } = this.mcu;
    const clock = this.sim.clock as unknown as { tick(n: number): void; nanosToNextAlarm: number; nanos: number };
    if (this.noCatchUp && this.wallOrigin !== null) this.wallOrigin = Math.max(this.wallOrigin, Date.now() - this.boardMs - CATCH_UP_MS);
    const wallLimitNanos = Math.min(limitNanos, this.wallOrigin !== null ? (Date.now() - this.wallOrigin) * 1e6 : Infinity);
    let done = 0;
    try {
      while (done < budget && !this.stopped) {
        const active = this.activeMachines();
        if (core.waiting) {
          if (active && !this.allStalled()) {
            clock.tick(CYCLE_NANOS);
            this.stepPio(1);
            done++;
            continue;
          }
          let n = clock.nanosToNextAlarm;
          if (n <= 0) n = CYCLE_NANOS;
          if (clock.nanos + n > wallLimitNanos) {
            const room = wallLimitNanos - clock.nanos;
            if (room > CYCLE_NANOS) clock.tick(Math.floor(room / CYCLE_NANOS) * CYCLE_NANOS);
            break; // ahead of wall time: let the world catch up
          }
          clock.tick(n);
          done += n / CYCLE_NANOS;
        } else {
          if (clock.nanos >= wallLimitNanos) break;
          const c = core.executeInstruction();
          clock.tick(c * CYCLE_NANOS);
          // a machine stalled on a FIFO wakes in the FIFO write itself (rp2040js checkWait): nothing to step
          if (active && !this.allStalled()) this.stepPio(c);
          done += c;
          this.busyCycles += c;
        }
      }
    } catch (e) {
      this.stopped = e instanceof ModelFault ? e.message : `emulator error: ${(e as Error).stack ?? e}`;
    }
    return done;
  }

  private activeMachines(): boolean {
    const p = this.pios;
    return !p[0].stopped || !p[1].stopped;
  }

  /** Every enabled state machine waits on a FIFO (only the CPU or DMA can wake it: skipping is safe). */
  private allStalled(): boolean {
    for (const p of this.pios)
      for (const m of p.machines) if (m.enabled && !(m.waiting && m.waitType !== 1 && m.waitType !== 4)) return false;
    return true;
  }

  private div = [0, 0, 0, 0, 0, 0, 0, 0];

  private stepPio(cycles: number): void {
    for (let pi = 0; pi < 2; pi++) {
      const p = this.pios[pi];
      if (p.stopped) continue;
      for (let c = 0; c < cycles; c++) {
        for (let mi = 0; mi < 4; mi++) {
          const m = p.machines[mi];
          if (!m.enabled) continue;
          const k = pi * 4 + mi;
          if (++this.div[k] < (m.clockDivInt || 65536)) continue;
          this.div[k] = 0;
          m.step();
        }
        p.checkChangedPins();
      }
    }
  }

  /** Runs (yielding to the event loop between slices) until `until` appears in the output or the budget ends. */
  async runUntil(until: string | RegExp | (() => boolean), opts: { maxCycles: number; wallMs?: number }): Promise<boolean> {
    const met = () => (typeof until === "function" ? until() : typeof until === "string" ? this.output.includes(until) : until.test(this.output));
    const start = this.cycles;
    const wallEnd = Date.now() + (opts.wallMs ?? 600_000);
    while (!met()) {
      if (this.stopped || this.cycles - start >= opts.maxCycles || Date.now() > wallEnd) return false;
      const ran = this.runSlice(Math.min(SLICE_CYCLES, opts.maxCycles - (this.cycles - start)));
      await new Promise((r) => (ran === 0 ? setTimeout(r, 1) : setImmediate(r)));
    }
    return true;
  }
}

/** Runs several boards sharing a radio world in step: none gets more than `quantumMs` of board time ahead
 *  of the others, so their timers see each other as on one table. */
export async function runTogether(boards: RadioBoard[], until: () => boolean, opts: { maxMs: number; wallMs?: number; quantumMs?: number }): Promise<boolean> {
  const q = (opts.quantumMs ?? 1) * 1e6;
  const wallEnd = Date.now() + (opts.wallMs ?? 600_000);
  const endNanos = Math.min(...boards.map((b) => b.sim.clock.nanos)) + opts.maxMs * 1e6;
  while (!until()) {
    const live = boards.filter((b) => !b.stopped);
    if (live.length < boards.length || Date.now() > wallEnd) return false;
    const now = Math.min(...live.map((b) => b.sim.clock.nanos));
    if (now >= endNanos) return false;
    let ran = 0;
    for (const b of live) ran += b.runSlice(SLICE_CYCLES, now + q);
    await new Promise((r) => (ran === 0 ? setTimeout(r, 1) : setImmediate(r)));
  }
  return true;
}
