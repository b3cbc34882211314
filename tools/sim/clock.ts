// Virtual time: one event queue for the whole simulated world, ordered by (time, insertion order), so a
// run is a pure function of its seed. Boards get a Scheduler view of it (tools/host/wifi.ts).
import type { Scheduler } from "../host/wifi.ts";

export interface SimEvent {
  t: number;
  seq: number;
  fn: () => void;
  /** the board the event belongs to (-1: the world): invariants look at that board afterwards */
  tag: number;
  dead: boolean;
}

export class LimitError extends Error {}

export class EventQueue {
  now = 0;
  processed = 0;
  private seq = 0;
  private readonly heap: SimEvent[] = [];

  at(t: number, fn: () => void, tag = -1): SimEvent {
    const ev: SimEvent = { t: Math.max(t, this.now), seq: this.seq++, fn, tag, dead: false };
    this.push(ev);
    return ev;
  }

  after(ms: number, fn: () => void, tag = -1): SimEvent {
    return this.at(this.now + Math.max(0, ms), fn, tag);
  }

  cancel(ev: SimEvent): void {
    ev.dead = true;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Runs every event due at or before `until` (then sets now = until). `after(tag)` runs after each
   *  event; more than `maxEvents` events in total is an error (a runaway loop), never a hang. */
  runUntil(until: number, after: (tag: number) => void, maxEvents: number): void {
    while (this.heap.length && this.heap[0].t <= until) {
      const ev = this.pop()!;
      if (ev.dead) continue;
      this.now = ev.t;
      if (++this.processed > maxEvents) throw new LimitError(`more than ${maxEvents} events by ${this.now} ms: a runaway loop?`);
      ev.fn();
      after(ev.tag);
    }
    this.now = Math.max(this.now, until);
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** A board's view of the queue. Its clock counts from its power-on (as the device's millis do), plus an
 *  optional offset (e.g. to start near the u32 wrap). */
export function boardScheduler(q: EventQueue, tag: number, bootAt: number, offset = 0, onTimer?: () => void): Scheduler {
  return {
    now: () => q.now - bootAt + offset,
    setTimer: (fn, ms) => q.after(ms, onTimer ? () => (onTimer(), fn()) : fn, tag),
    clearTimer: (h) => q.cancel(h as SimEvent),
    defer: (fn) => void q.after(0, fn, tag),
  };
}

/** sfc32 seeded through splitmix32: small, fast, and the same numbers on every machine. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = "") {
    let s = (seed >>> 0) ^ hash32(stream);
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** uniform [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  fill(dst: Uint8Array): void {
    for (let i = 0; i < dst.length; i++) dst[i] = this.u32() & 255;
  }
}

/** FNV-1a, for naming independent PRNG streams. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
