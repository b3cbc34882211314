// The XIP cache model alone (tools/emu/xip-cache.ts), no emulator: 16 KiB, 2 ways, 8-byte lines, so
// 1024 sets and a way spans 8 KiB; addresses 8 KiB apart share a set.
import { describe, expect, it } from "vitest";
import { DATA, FETCH, XipCache } from "../../tools/emu/xip-cache.ts";

const X = 0x10000000;
const WAY = 8 * 1024;

/** Reads every word of [start, start + bytes) once, in order. */
function sweep(c: XipCache, start: number, bytes: number): void {
  for (let a = start; a < start + bytes; a += 4) c.access(a, FETCH);
}

describe("XIP cache model", () => {
  it("indexes sets by offset bits [12:3], on any alias", () => {
    const c = new XipCache();
    expect(c.sets).toBe(1024);
    expect(c.ways).toBe(2);
    expect(c.setOf(X)).toBe(0);
    expect(c.setOf(X + 7)).toBe(0);
    expect(c.setOf(X + 8)).toBe(1);
    expect(c.setOf(X + WAY - 8)).toBe(1023);
    expect(c.setOf(X + WAY)).toBe(0);
    expect(c.setOf(0x13000008)).toBe(1);
  });

  it("keeps two lines of one set, and a third evicts the least recently used", () => {
    const c = new XipCache();
    const [a, b, d] = [X, X + WAY, X + 2 * WAY];
    expect(c.access(a)).toBe(1);
    expect(c.access(b)).toBe(1);
    expect(c.access(a + 4)).toBe(0); // same line: a hit, and a is now the most recent
    expect(c.access(b)).toBe(0);
    expect(c.access(a)).toBe(0); // b is now the LRU way
    expect(c.access(d)).toBe(1);
    expect(c.holds(a)).toBe(true);
    expect(c.holds(b)).toBe(false);
    expect(c.holds(d)).toBe(true);
    expect(c.holds(X + 8)).toBe(false); // the neighbouring set was never filled
    expect(c.stats).toMatchObject({ accesses: 6, hits: 3, misses: 3 });
  });

  it("holds a 16 KiB working set: all hits after one warm-up pass", () => {
    const c = new XipCache({ trackLines: true });
    sweep(c, X + 0x4000, 16384);
    expect(c.stats.misses).toBe(2048); // one per line
    c.resetStats();
    sweep(c, X + 0x4000, 16384);
    sweep(c, X + 0x4000, 16384);
    expect(c.stats).toMatchObject({ misses: 0, hits: 8192 });
    expect(c.linesTouched).toBe(2048);
    expect(c.overfullSets()).toBe(0);
  });

  it("thrashes one set with 16 KiB + one line: three lines in two ways miss on every pass under LRU", () => {
    const c = new XipCache({ trackLines: true });
    sweep(c, X, 16384 + 8);
    c.resetStats();
    for (let pass = 0; pass < 3; pass++) sweep(c, X, 16384 + 8);
    // set 0 holds offsets 0, 8 KiB and 16 KiB, touched in turn: each evicts the next one wanted
    expect(c.stats.misses).toBe(3 * 3);
    expect(c.stats.hits).toBe(3 * (2 * 2049 - 3));
    expect(c.overfullSets()).toBe(1);
  });

  it("counts a compressed run as one lookup and n - 1 hits", () => {
    const c = new XipCache();
    expect(c.access(X + 0x100, DATA, 5)).toBe(1);
    expect(c.stats).toMatchObject({ accesses: 5, hits: 4, misses: 1, missesByKind: [0, 1, 0] });
  });

  it("leaves what-if RAM ranges out of the cache and counts them apart", () => {
    const c = new XipCache({
      inRam: [
        { start: X + 0x1000, end: X + 0x1100 },
        { start: X + 0x10c0, end: X + 0x1200 }, // overlaps: merged
        { start: X + 0x8000, end: X + 0x8010 },
      ],
    });
    expect(c.ramBytes).toBe(0x200 + 0x10);
    sweep(c, X + 0x1000, 0x200);
    c.access(0x13001004); // the same offset through another alias is in RAM too
    c.access(X + 0x8010); // the first byte past a range is flash
    expect(c.stats).toMatchObject({ inRam: 0x80 + 1, accesses: 1, misses: 1 });
    expect(c.inRam(X + 0x11ff)).toBe(true);
    expect(c.inRam(X + 0x1200)).toBe(false);
    expect(c.inRam(X + 0x0fff)).toBe(false);
  });

  it("follows the aliases: 0x11 does not allocate, 0x12 always reads and allocates, 0x13 bypasses", () => {
    const c = new XipCache();
    expect(c.access(0x11000040)).toBe(1);
    expect(c.access(0x11000040)).toBe(1); // still not cached
    expect(c.access(0x12000040)).toBe(1); // no lookup, but fills
    expect(c.access(0x10000040)).toBe(0);
    expect(c.access(0x11000040)).toBe(0); // the check sees the line now
    expect(c.access(0x13000040, DATA, 3)).toBe(3);
    expect(c.stats).toMatchObject({ misses: 6, uncached: 4, hits: 2 });
  });

  it("drops a line on a write to the 0x10 alias and everything on a flush", () => {
    const c = new XipCache();
    c.access(X + 0x200);
    c.access(X + 0x208);
    c.invalidate(X + 0x204);
    expect(c.holds(X + 0x200)).toBe(false);
    expect(c.holds(X + 0x208)).toBe(true);
    c.flush();
    expect(c.holds(X + 0x208)).toBe(false);
    expect(c.stats.flushes).toBe(1);
  });

  it("with random replacement still fills an empty way first and keeps two lines per set", () => {
    const c = new XipCache({ replacement: "random" });
    c.access(X);
    c.access(X + WAY);
    expect(c.holds(X) && c.holds(X + WAY)).toBe(true);
    c.access(X + 2 * WAY);
    expect([c.holds(X), c.holds(X + WAY), c.holds(X + 2 * WAY)].filter(Boolean)).toHaveLength(2);
    expect(c.holds(X + 2 * WAY)).toBe(true);
  });
});
