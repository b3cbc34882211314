// The core's layers (docs/DESIGN.md "Layers"), bottom up, and its import graph read from assembly/:
// an import may point at its own layer or a lower one, and no import circle may exist. `npx tsx
// tools/arch/layers.ts` prints the upward arrows, the circles and any socket call outside net/;
// test/core/layers.test.ts fails on any of them, naming the pair or the way round the circle.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const ASSEMBLY = join(ROOT, "assembly");

/** Bottom up. A file's layer is the first whose pattern matches its path under assembly/ (no .ts). */
export const LAYERS: { name: string; files: RegExp }[] = [
  { name: "util", files: /^util\/(ascii|base64|bytes|heap|json|md|reply|sha1|sha256|time|utf8)$/ },
  { name: "abi", files: /^(abi\/(host\.generated|io)|util\/(log|abort|retry))$/ },
  { name: "net", files: /^net\// },
  { name: "config", files: /^(config|settings\/(values|settings\.generated)|mqtt\/settings)$/ },
  { name: "codec", files: /^(http\/(request|response)|ws\/(handshake|frame)|mqtt\/(packet|session)|bus\/(wire|table)|rgb\/(codec|gamma\.generated))$/ },
  { name: "service", files: /^(rgb|control|bus|lights|ota|mqtt|dhcp|store)\/|^http\/asset$|^ws\/client$/ },
  { name: "dispatch", files: /^(index|abi\/exports|http\/server|ws\/server)$/ },
];

export function layerOf(file: string): number {
  const i = LAYERS.findIndex((l) => l.files.test(file));
  if (i < 0) throw new Error(`assembly/${file}.ts belongs to no layer: add it to LAYERS in tools/arch/layers.ts`);
  return i;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** file -> the files it imports, both as paths under assembly/ without .ts. */
export function importGraph(root = ASSEMBLY): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const key = (path: string) => relative(root, path).replace(/\.ts$/, "");
  for (const path of sources(root)) {
    const deps = new Set<string>();
    for (const m of readFileSync(path, "utf8").matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gms))
      deps.add(key(resolve(dirname(path), m[1].replace(/\.ts$/, "") + ".ts")));
    deps.delete(key(path));
    graph.set(key(path), deps);
  }
  return graph;
}

/** Imports that point at a higher layer, as "from -> to". */
export function upwardArrows(graph: Map<string, Set<string>>): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph)
    for (const to of deps) if (graph.has(to) && layerOf(to) > layerOf(from)) out.push(`${from} -> ${to}`);
  return out.sort();
}

/** The import circles: strongly connected components of more than one file (Tarjan), each sorted. */
export function circles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => b.length - a.length);
}

/** One way round a circle, as "a -> b -> ... -> a": the shortest path from its first file back to it. */
export function circlePath(graph: Map<string, Set<string>>, ring: string[]): string {
  const start = ring[0];
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!ring.includes(w) || from.has(w)) continue;
      from.set(w, v);
      if (w === start) queue.length = 0;
      else queue.push(w);
    }
  }
  const between: string[] = [];
  for (let v = from.get(start)!; v !== start; v = from.get(v)!) between.unshift(v);
  return [start, ...between, start].join(" -> ");
}

/** Files under assembly/ that may name the host's socket imports (host_tcp_*, host_udp_*): the net layer
 *  (abi/host.generated.ts declares them). */
export const SOCKET_CALLERS = /^net\//;

/** file -> the socket imports it names, for every file outside SOCKET_CALLERS that names any. */
export function socketCalls(root = ASSEMBLY): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const path of sources(root)) {
    const file = relative(root, path).replace(/\.ts$/, "");
    if (SOCKET_CALLERS.test(file) || file === "abi/host.generated") continue;
    const names = new Set(readFileSync(path, "utf8").match(/\bhost_(tcp|udp)_\w+/g) ?? []);
    if (names.size) out.set(file, [...names].sort());
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const graph = importGraph();
  const arrows = [...graph.values()].reduce((n, d) => n + d.size, 0);
  const up = upwardArrows(graph);
  const rings = circles(graph);
  console.log(`assembly/: ${graph.size} files, ${arrows} import arrows, ${up.length} upward, ${rings.length} circle(s)`);
  for (const a of up) console.log(`  up: ${a}`);
  for (const r of rings) console.log(`  circle of ${r.length}: ${circlePath(graph, r)}`);
  for (const [file, names] of socketCalls()) console.log(`  socket calls outside net/: ${file}: ${names.join(", ")}`);
}
