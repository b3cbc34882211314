// The core's import graph (tools/arch/layers.ts): no import may point at a higher layer and no circle may
// form, except those still listed in tools/arch/layers-allowed.json, which may only shrink.
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import allowed from "../../tools/arch/layers-allowed.json" with { type: "json" };
import { circles, importGraph, layerOf, upwardArrows } from "../../tools/arch/layers.ts";

describe("assembly/ in layers", () => {
  const graph = importGraph();

  it("puts every file of the core in a layer", () => {
    expect(graph.size).toBeGreaterThan(40);
    for (const file of graph.keys()) expect(() => layerOf(file), file).not.toThrow();
  });

  it("adds no upward import, and every allowed one still exists (remove it from the list once fixed)", () => {
    const up = upwardArrows(graph);
    expect(up.filter((a) => !allowed.upward.includes(a)), "upward imports (a lower layer importing a higher one)").toEqual([]);
    expect(allowed.upward.filter((a) => !up.includes(a)), "fixed: remove from tools/arch/layers-allowed.json").toEqual([]);
  });

  it("forms no import circle beyond the allowed ones, which may only shrink", () => {
    const within = (ring: string[]) => allowed.circles.some((ok) => ring.every((f) => ok.includes(f)));
    const grown = circles(graph).filter((ring) => !within(ring));
    expect(grown.map((r) => r.join(" <-> ")), "import circles").toEqual([]);
  });

  it("finds an upward arrow and a circle where there are some (a tree made here)", () => {
    const root = mkdtempSync(join(tmpdir(), "pw-layers-"));
    mkdirSync(join(root, "util"));
    mkdirSync(join(root, "rgb"));
    writeFileSync(join(root, "util", "bytes.ts"), 'import { x } from "../rgb/server";\nexport const y = 1;\n');
    writeFileSync(join(root, "rgb", "server.ts"), 'import { y } from "../util/bytes";\nexport const x = 2;\n');
    const g = importGraph(root);
    expect(upwardArrows(g)).toEqual(["util/bytes -> rgb/server"]);
    expect(circles(g)).toEqual([["rgb/server", "util/bytes"]]);
  });
});
