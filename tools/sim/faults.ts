// Fault schedules: what happens to the world and when. Either explicit (the CLI's --kill-master-at,
// --kills, --kill-every) or drawn from the seed (--chaos, the property tests).
import type { Prng } from "./clock.ts";

export type Fault =
  /** the board stops dead (no more events); slot "master": whichever board is MASTER then */
  | { t: number; kind: "kill"; slot: number | "master"; rebootAfterMs?: number }
  /** power the board on again: a new core instance, same name (same board id), same flash */
  | { t: number; kind: "reboot"; slot: number }
  /** boards in different groups cannot reach each other (slots not listed: one more group) */
  | { t: number; kind: "partition"; groups: number[][] }
  | { t: number; kind: "heal" }
  /** an access point vanishes for `forMs`: the home router (slot "home") or the board running one */
  | { t: number; kind: "ap-loss"; slot: number | "home" | "master"; forMs: number };

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case "kill": return `kill ${f.slot === "master" ? "the master" : `board-${f.slot}`}${f.rebootAfterMs !== undefined ? `, reboot after ${f.rebootAfterMs} ms` : ""}`;
    case "reboot": return `reboot board-${f.slot}`;
    case "partition": return `partition ${f.groups.map((g) => `{${g.join(",")}}`).join(" | ")} | rest`;
    case "heal": return "heal the partition";
    case "ap-loss": return `access point ${f.slot === "home" ? "of the home network" : f.slot === "master" ? "of the master" : `of board-${f.slot}`} gone for ${f.forMs} ms`;
  }
}

/** Kills of the master at `firstS`, then every `everyS` seconds, each rebooted after `rebootAfterS`. */
export function masterKills(firstS: number, count: number, everyS: number, rebootAfterS: number | undefined): Fault[] {
  const out: Fault[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ t: Math.round((firstS + i * everyS) * 1000), kind: "kill", slot: "master", rebootAfterMs: rebootAfterS === undefined ? undefined : Math.round(rebootAfterS * 1000) });
  }
  return out;
}

/**
 * Random faults between `fromMs` and `untilMs` (after which the world stays quiet, so liveness can be
 * checked): crashes (most rebooted again), master kills, partitions (healed), access-point loss. At the
 * end at most floor((voters-1)/2) boards stay dead, so a majority of any voter set is alive.
 */
export function randomFaults(rng: Prng, nodes: number, voters: number, fromMs: number, untilMs: number, topology: string): Fault[] {
  const out: Fault[] = [];
  if (untilMs <= fromMs) return out;
  const count = rng.int(0, 4);
  let staysDead = 0;
  const maxDead = Math.floor((Math.min(voters, nodes) - 1) / 2);
  const dead = new Set<number>();
  for (let i = 0; i < count; i++) {
    const t = rng.int(fromMs, untilMs);
    const len = rng.int(200, Math.max(300, Math.min(8000, untilMs - t)));
    const end = Math.min(untilMs, t + len);
    const pick = rng.next();
    if (pick < 0.3) {
      const slot = rng.int(0, nodes - 1);
      if (dead.has(slot)) continue;
      dead.add(slot);
      const reboot = staysDead >= maxDead || rng.chance(0.7);
      if (!reboot) staysDead++;
      out.push({ t, kind: "kill", slot, rebootAfterMs: reboot ? end - t : undefined });
    } else if (pick < 0.5) {
      out.push({ t, kind: "kill", slot: "master", rebootAfterMs: staysDead >= maxDead || rng.chance(0.7) ? end - t : (staysDead++, undefined) });
    } else if (pick < 0.85) {
      const slots = [...Array(nodes).keys()].filter(() => rng.chance(0.5));
      if (!slots.length || slots.length === nodes) continue;
      out.push({ t, kind: "partition", groups: [slots] }, { t: end, kind: "heal" });
    } else {
      const slot = topology === "home" ? "home" : "master";
      out.push({ t, kind: "ap-loss", slot, forMs: end - t });
    }
  }
  // a killed board may be killed again only once it is back: keep it simple, order by time
  return out.sort((a, b) => a.t - b.t);
}

/** The end of the last fault (including reboots and recoveries it implies). */
export function lastFaultEnd(faults: Fault[]): number {
  let end = 0;
  for (const f of faults) {
    let e = f.t;
    if (f.kind === "kill" && f.rebootAfterMs !== undefined) e += f.rebootAfterMs;
    if (f.kind === "ap-loss") e += f.forMs;
    end = Math.max(end, e);
  }
  return end;
}
