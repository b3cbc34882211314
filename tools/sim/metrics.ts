// Figures of a run: convergence, failover percentiles, traffic, memory.
import { C } from "../host/abi.generated.ts";
import type { Core } from "../host/core.ts";

/** Nearest-rank percentile (p in 0..100) of the numbers; null when there are none. */
export function percentile(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export interface Memory {
  /** highest STAT_HEAP_TOP of any board (bytes of linear memory the core reserved) */
  heap_top_max: number;
  /** the core's memory cap (STAT_HEAP_LIMIT) */
  heap_limit: number;
  /** wasm linear memory per instance (V8 cannot make one smaller than 64 KiB) */
  wasm_memory_bytes: number;
}

export class MemoryMeter {
  private top = 0;
  private limit = 0;
  private wasm = 0;

  sample(core: Core): void {
    this.top = Math.max(this.top, core.stat(C.STAT_HEAP_TOP));
    this.limit = Math.max(this.limit, core.stat(C.STAT_HEAP_LIMIT));
    this.wasm = Math.max(this.wasm, core.memory.buffer.byteLength);
  }

  result(): Memory {
    return { heap_top_max: this.top, heap_limit: this.limit, wasm_memory_bytes: this.wasm };
  }
}

/** Failover: from a master's death to the first sample where one new master is followed by all. */
export class Failovers {
  readonly samples: number[] = [];
  /** kills that never got a new master within the run */
  unresolved = 0;
  private pending: { t: number; slot: number }[] = [];

  killed(t: number, slot: number): void {
    this.pending.push({ t, slot });
  }

  /** A sample where the largest connected set agrees on master `master`. */
  agreed(t: number, master: number): void {
    this.pending = this.pending.filter((p) => {
      if (p.slot === master) return true; // the old master back again does not count
      this.samples.push(t - p.t);
      return false;
    });
  }

  finish(): void {
    this.unresolved += this.pending.length;
    this.pending = [];
  }

  summary(): { p50: number | null; p99: number | null; count: number; unresolved: number } {
    return { p50: percentile(this.samples, 50), p99: percentile(this.samples, 99), count: this.samples.length, unresolved: this.unresolved };
  }
}
