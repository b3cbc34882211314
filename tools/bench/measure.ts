// Side-by-side timing: candidates of one comparison run interleaved in the same process, best of
// several rounds, reported as a ratio. Figures are for comparison on one machine, never asserted.

export interface Candidate {
  name: string;
  /** Runs `n` operations; returns a value that depends on the work so it cannot be optimised away. */
  run: (n: number) => number;
}

export interface Comparison {
  title: string;
  unit: string;
  ops: number;
  candidates: Candidate[];
}

export function compare(c: Comparison, rounds = 7): { name: string; opsPerSec: number }[] {
  const best = new Map<string, number>();
  for (const cand of c.candidates) cand.run(Math.min(c.ops, 10_000)); // warm up the JIT
  for (let r = 0; r < rounds; r++) {
    for (const cand of c.candidates) {
      const t0 = process.hrtime.bigint();
      cand.run(c.ops);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      best.set(cand.name, Math.min(best.get(cand.name) ?? Infinity, s));
    }
  }
  return c.candidates.map((cand) => ({ name: cand.name, opsPerSec: c.ops / best.get(cand.name)! }));
}

export function report(c: Comparison, results: { name: string; opsPerSec: number }[]): string {
  const base = results[results.length - 1];
  const lines = [`${c.title}`];
  for (const r of results) {
    const ratio = r.opsPerSec / base.opsPerSec;
    lines.push(`  ${r.name.padEnd(34)} ${(r.opsPerSec / 1e6).toFixed(2).padStart(8)} M${c.unit}/s   ${ratio.toFixed(2)}x ${r === base ? "(baseline)" : ""}`);
  }
  return lines.join("\n");
}
