// The core's import graph (tools/arch/layers.ts): no import may point at a higher layer and no circle may
// form; each failure names the arrow, or the way round the circle. tools/arch/layers-allowed.json lists
// the arrows being untangled on another branch (config's); a circle counts only if it remains without them.
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import allowed from "../tools/arch/layers-allowed.json" with { type: "json" };
import { circlePath, circles, importGraph, layerOf, socketCalls, upwardArrows, without } from "../tools/arch/layers.ts";

describe("assembly/ in layers", () => {
  const graph = importGraph();

  it("puts every file of the core in a layer", () => {
    expect(graph.size).toBeGreaterThan(40);
    for (const file of graph.keys()) expect(() => layerOf(file), file).not.toThrow();
  });

  it("has no upward import (a lower layer importing a higher one)", () => {
    const up = upwardArrows(graph);
    expect(up.filter((a) => !allowed.upward.includes(a)), "upward imports").toEqual([]);
    expect(allowed.upward.filter((a) => !up.includes(a)), "fixed: remove from tools/arch/layers-allowed.json").toEqual([]);
  });

  it("has no import circle", () => {
    const g = without(graph, allowed.upward);
    expect(circles(g).map((ring) => circlePath(g, ring)), "import circles").toEqual([]);
  });

  it("calls the host's sockets (host_tcp_*, host_udp_*) from net/ only", () => {
    expect([...socketCalls()].map(([file, names]) => `assembly/${file}.ts: ${names.join(", ")}`)).toEqual([]);
  });

  it("finds an upward arrow, a circle and a socket call where there are some (a tree made here)", () => {
    const root = mkdtempSync(join(tmpdir(), "pw-layers-"));
    mkdirSync(join(root, "util"));
    mkdirSync(join(root, "rgb"));
    mkdirSync(join(root, "net"));
    writeFileSync(join(root, "util", "bytes.ts"), 'import { x } from "../rgb/server";\nexport const y = 1;\n');
    writeFileSync(join(root, "rgb", "server.ts"), 'import { y } from "../util/bytes";\nexport const x = host_udp_send(1);\n');
    writeFileSync(join(root, "net", "host.ts"), "export const z = host_tcp_send(1);\n");
    const g = importGraph(root);
    expect(upwardArrows(g)).toEqual(["util/bytes -> rgb/server"]);
    expect(circles(g)).toEqual([["rgb/server", "util/bytes"]]);
    expect(circlePath(g, ["rgb/server", "util/bytes"])).toBe("rgb/server -> util/bytes -> rgb/server");
    expect(circles(without(g, ["util/bytes -> rgb/server"]))).toEqual([]);
    expect([...socketCalls(root)]).toEqual([["rgb/server", ["host_udp_send"]]]);
  });
});
