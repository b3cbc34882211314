// What must always hold, checked on the real core's own statistics:
// - safety, after every event: for each (bus id, term) at most one distinct board is ever MASTER;
// - liveness, sampled in quiet windows (no fault for `boundMs`): when the boards outside the largest
//   connected set are fewer than half the voters (so it holds a majority of any voter set), exactly one
//   board of that set is MASTER and every board of it reports that master's address.
import { C } from "../host/abi.generated.ts";
import { ipToString } from "../host/core.ts";

export const ROLE_NAMES = ["OFF", "SEEKING", "MASTER", "WORKER", "CANDIDATE"];

export function roleName(r: number): string {
  return ROLE_NAMES[r] ?? `role${r}`;
}

export interface Violation {
  kind: "safety" | "liveness";
  t: number;
  text: string;
}

export interface BoardView {
  slot: number;
  name: string;
  alive: boolean;
  stat(kind: number): number;
}

interface Seen {
  role: number;
  term: number;
  bus: number;
}

export class Monitor {
  readonly violations: Violation[] = [];
  /** (bus id, term) -> the board that was MASTER in it */
  private readonly masters = new Map<string, string>();
  private readonly seen = new Map<number, Seen>();
  /** role changes and other notable moments, in order */
  readonly timeline: string[] = [];
  roleChanges = 0;
  elections = 0;
  /** a board's term went down within one incarnation and one bus (not a safety violation by itself) */
  termRegressions = 0;
  private livenessReported = -1;

  constructor(private readonly maxViolations = 20) {}

  note(t: number, text: string): void {
    this.timeline.push(`${(t / 1000).toFixed(3).padStart(9)}s  ${text}`);
  }

  private violate(v: Violation): void {
    if (this.violations.length < this.maxViolations) this.violations.push(v);
    this.note(v.t, `VIOLATION (${v.kind}): ${v.text}`);
  }

  /** A board booted (again): its previous state is forgotten. */
  reset(slot: number): void {
    this.seen.delete(slot);
  }

  /** After every event of board `b`. */
  check(t: number, b: BoardView): void {
    const role = b.stat(C.STAT_BUS_ROLE);
    const prev = this.seen.get(b.slot);
    if (role !== C.BUS_ROLE_MASTER && prev && prev.role === role && role !== C.BUS_ROLE_CANDIDATE) return;
    const term = b.stat(C.STAT_BUS_TERM);
    const bus = b.stat(C.STAT_BUS_ID) >>> 0;
    if (prev && prev.role === role && prev.term === term && prev.bus === bus) return;
    if (prev && prev.bus === bus && term < prev.term) this.termRegressions++;
    this.seen.set(b.slot, { role, term, bus });
    if (!prev || prev.role !== role) {
      this.roleChanges++;
      if (role === C.BUS_ROLE_CANDIDATE) this.elections++;
      this.note(t, `${b.name.padEnd(10)} ${prev ? roleName(prev.role) : "-"} -> ${roleName(role)}  term ${term}  bus ${bus.toString(16).padStart(8, "0")}`);
    } else if (role === C.BUS_ROLE_MASTER || role === C.BUS_ROLE_CANDIDATE) {
      this.note(t, `${b.name.padEnd(10)} ${roleName(role)}  term ${prev.term} -> ${term}  bus ${bus.toString(16).padStart(8, "0")}`);
    }
    if (role !== C.BUS_ROLE_MASTER) return;
    const key = `${bus}:${term}`;
    const holder = this.masters.get(key);
    if (holder === undefined) this.masters.set(key, b.name);
    else if (holder !== b.name) {
      this.violate({ kind: "safety", t, text: `two masters in bus ${bus.toString(16)} term ${term}: ${holder} and ${b.name}` });
    }
  }

  /**
   * One liveness sample of a connected set (`set`: alive boards that can all reach each other, with each
   * one's address on that segment). Returns the master's slot when it holds, else a reason.
   */
  static agreement(set: { view: BoardView; ip: number }[]): { master: number } | { why: string } {
    const masters = set.filter((m) => m.view.stat(C.STAT_BUS_ROLE) === C.BUS_ROLE_MASTER);
    if (masters.length !== 1) {
      return { why: `${masters.length} masters (${masters.map((m) => m.view.name).join(", ") || "none"})` };
    }
    const ip = masters[0].ip;
    const off = set.filter((m) => (m.view.stat(C.STAT_BUS_MASTER_IP) >>> 0) !== ip);
    if (off.length) {
      const list = off.slice(0, 4).map((m) => `${m.view.name}→${ipToString(m.view.stat(C.STAT_BUS_MASTER_IP) >>> 0)} (${roleName(m.view.stat(C.STAT_BUS_ROLE))})`);
      return { why: `master ${masters[0].view.name} (${ipToString(ip)}) not followed by ${off.length}: ${list.join(", ")}${off.length > 4 ? ", ..." : ""}` };
    }
    return { master: masters[0].view.slot };
  }

  /** Records a liveness failure once per quiet window (`window` identifies it). */
  livenessFailed(t: number, window: number, why: string): void {
    if (this.livenessReported === window) return;
    this.livenessReported = window;
    this.violate({ kind: "liveness", t, text: why });
  }
}
