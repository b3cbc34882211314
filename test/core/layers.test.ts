// The core's import graph (tools/arch/layers.ts): no import may point at a higher layer, no circle may
// form, and only net/ calls the host's sockets; each failure names the arrow, the way round the circle,
// or the file and the calls.
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { circlePath, circles, importGraph, layerOf, socketCalls, upwardArrows } from "../../tools/arch/layers.ts";

describe("assembly/ in layers", () => {
  const graph = importGraph();

  it("puts every file of the core in a layer", () => {
    expect(graph.size).toBeGreaterThan(40);
    for (const file of graph.keys()) expect(() => layerOf(file), file).not.toThrow();
  });

  it("has no upward import (a lower layer importing a higher one)", () => {
    expect(upwardArrows(graph), "upward imports").toEqual([]);
  });

  it("has no import circle", () => {
    expect(circles(graph).map((ring) => circlePath(graph, ring)), "import circles").toEqual([]);
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
    expect([...socketCalls(root)]).toEqual([["rgb/server", ["host_udp_send"]]]);
  });
});
