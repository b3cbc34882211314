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
import { attachFlashModel, UNIQUE_ID } from "./qspi-flash.ts";

let bootromImage: Awaited<ReturnType<typeof loadBootrom>> | undefined;
let rp2040Module: typeof import("rp2040js") | undefined;
let boardsCreated = 0;

/** rp2040js's watchdog (RPWatchdog at WATCHDOG_BASE): what a reset keeps, and its trigger. */
interface Watchdog {
  scratchData: Uint32Array;
  reason: number;
  onWatchdogTrigger: () => void;
  alarm: { enable: boolean };
  timer: { enable: boolean };
}
const WATCHDOG_BASE = 0x40058;
const watchdogOf = (mcu: RP2040) => (mcu as unknown as { peripherals: Record<number, Watchdog> }).peripherals[WATCHDOG_BASE];

/** A Simulator with the bootrom and the flash model (rp2040js and the bootrom loaded by create()). */
function newSimulator(uniqueId: readonly number[], clock?: Simulator["clock"]): Simulator {
  const { Simulator, ConsoleLogger, LogLevel } = rp2040Module!;
  const sim = new Simulator(clock);
  sim.rp2040.logger = new ConsoleLogger(LogLevel.Error);
  sim.rp2040.loadBootrom(bootromImage!);
  attachFlashModel(sim.rp2040).chip.uniqueId = uniqueId;
  return sim;
}

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
  /** The flash's unique id (the board id: MAC, mDNS name). Default: the flash model's, its last byte
   *  changed for every board after the first this process creates, so boards sharing a world differ. */
  uniqueId?: readonly number[];
  /** Called before the first instruction (corrupt the flash, hook pins...). */
  setup?: (sim: Simulator, board: RadioBoard) => void;
}

export class RadioBoard {
  /** The RP2040 and its wiring: replaced by a new one, on the same clock and flash, when the board resets. */
  sim: Simulator;
  mcu: RP2040;
  wiring: Cyw43Wiring;
  readonly chip: Cyw43Chip;
  readonly wlan: WlanFirmware;
  readonly name: string;
  output = "";
  /** Why the board stopped (a model fault, a panic), or null while it runs. */
  stopped: string | null = null;
  /** Watchdog resets so far (the SDK's watchdog_reboot: an update's restart, a trial's timeout). */
  reboots = 0;
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
  private pios!: Pio[];
  private resetPending = false;
  private readonly echo: boolean;
  private readonly decoder = new TextDecoder();
  private line = "";

  private constructor(sim: Simulator, opts: RadioBoardOptions, private readonly uniqueId: readonly number[]) {
    this.sim = sim;
    this.mcu = sim.rp2040;
    this.name = opts.name ?? "board";
    this.echo = opts.echo ?? false;
    this.chip = new Cyw43Chip({ blobs: loadBlobs() });
    this.wlan = new WlanFirmware(this.chip, opts.air ?? null);
    this.wiring = this.attach(sim);
  }

  /** Wires an RP2040 of this board: the chip, PIO in lockstep, the console, the watchdog's reset. */
  private attach(sim: Simulator): Cyw43Wiring {
    const mcu = sim.rp2040;
    const wiring = attachCyw43(mcu, this.chip);
    this.pios = mcu.pio as unknown as Pio[];
    for (const p of this.pios) p.run = () => {}; // stepped here, in lockstep with the CPU
    mcu.uart[0].onByte = (b: number) => {
      const text = this.decoder.decode(new Uint8Array([b]), { stream: true });
      this.output += text;
      this.line += text;
      if (this.echo && this.line.endsWith("\n")) {
        process.stdout.write(`[${this.name}] ${this.line}`);
        this.line = "";
      }
      if (this.output.includes(PANIC_MARKER) && !this.stopped) setTimeout(() => (this.stopped ??= "panic"), 0);
    };
    // rp2040js leaves the reset to its user: done between instructions (reset()). Its timer stops here:
    // at 0 rp2040js's periodic alarm would fire again at the same instant, for ever.
    const wd = watchdogOf(mcu);
    wd.onWatchdogTrigger = () => {
      this.resetPending = true;
      wd.alarm.enable = false;
      wd.timer.enable = false;
    };
    mcu.gpio[22].setInputValue(true); // the factory-reset button's pull-up rp2040js does not model
    return wiring;
  }

  static async create(opts: RadioBoardOptions): Promise<RadioBoard> {
    const found = findBootrom();
    if ("missing" in found) throw new Error(`cannot run the emulator: missing ${found.missing}`);
    bootromImage ??= await loadBootrom(found.path);
    rp2040Module ??= await import("rp2040js");
    const n = boardsCreated++;
    const uniqueId = opts.uniqueId ?? UNIQUE_ID.map((b, i) => (i === UNIQUE_ID.length - 1 ? (b + n) & 0xff : b));
    const sim = newSimulator(uniqueId);
    if (loadUf2(sim.rp2040, readFileSync(opts.image)) === 0) throw new Error(`${opts.image}: no RP2040 UF2 blocks`);
    if (opts.configUf2) {
      const span = readUf2(new Uint8Array(readFileSync(opts.configUf2)));
      sim.rp2040.flash.set(span.data, span.address - 0x10000000);
    }
    const board = new RadioBoard(sim, opts, uniqueId);
    opts.setup?.(sim, board);
    sim.rp2040.core.PC = 0x10000000;
    return board;
  }

  /** A watchdog reset: a new RP2040 on the same clock with the flash as it is and the watchdog's scratch
   *  and reason registers kept (the SDK's reboot reason), the radio powered off (WL_ON low). */
  private reset(): void {
    const old = this.mcu;
    (this.sim.clock as unknown as { nextAlarm: unknown }).nextAlarm = null; // the old RP2040's timers die with it
    const sim = newSimulator(this.uniqueId, this.sim.clock);
    sim.rp2040.flash.set(old.flash);
    const wd = watchdogOf(sim.rp2040);
    const oldWd = watchdogOf(old);
    wd.scratchData.set(oldWd.scratchData);
    wd.reason = oldWd.reason;
    this.chip.setPower(false);
    this.sim = sim;
    this.mcu = sim.rp2040;
    this.wiring = this.attach(sim);
    this.div.fill(0);
    sim.rp2040.core.PC = 0x10000000;
    this.reboots++;
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
        if (this.resetPending) {
          this.resetPending = false;
          this.reset();
          break; // the caller's next slice runs the new RP2040
        }
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
