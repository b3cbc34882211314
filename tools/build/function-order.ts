// Post-link step of `npm run build`, after globals-to-memory: the core's functions on the WebSocket path
// first. wasm3 on the board compiles the functions in module order into consecutive flash
// (native/host/engine_wasm3_flash.c), read through the 16 KiB two-way XIP cache: code that runs together
// and lies together shares fewer cache sets (tools/bench/xip.ts measures it; docs/BOARD-PERFORMANCE.md).
// The rewrite moves whole `(func ...)` blocks of binaryen's printed text; calls name functions, so the
// module means the same.

/** Name prefixes of the functions a WebSocket frame runs through, in this order. */
export const HOT_FIRST = ["$assembly/abi/exports/tcp_data", "$assembly/net/", "$assembly/ws/", "$assembly/http/"];

export function hotFirst(wat: string, prefixes = HOT_FIRST): { wat: string; moved: number } {
  const lines = wat.split("\n");
  const blocks: { name: string; text: string[] }[] = [];
  const rest: string[] = [];
  let firstAt = -1;
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^ \(func (\$\S+)/);
    if (!m) {
      if (firstAt >= 0 && blocks.length && lines[i] !== ")" && lines[i] !== "") throw new Error(`function-order: unexpected line ${i + 1} among the functions: ${lines[i].slice(0, 60)}`);
      rest.push(lines[i]);
      continue;
    }
    if (firstAt < 0) firstAt = rest.length;
    let j = i;
    while (j < lines.length && lines[j] !== " )") j++; // binaryen closes every function on a line of its own
    blocks.push({ name: m[1], text: lines.slice(i, j + 1) });
    i = j;
  }
  const rank = (name: string) => {
    const k = prefixes.findIndex((p) => name.startsWith(p));
    return k < 0 ? prefixes.length : k;
  };
  const ordered = blocks.map((b, i) => ({ b, i, r: rank(b.name) })).sort((x, y) => x.r - y.r || x.i - y.i);
  const out = [...rest.slice(0, firstAt), ...ordered.flatMap((o) => o.b.text), ...rest.slice(firstAt)];
  return { wat: out.join("\n"), moved: ordered.filter((o) => o.r < prefixes.length).length };
}
