// Post-link step of `npm run build`: merges the core's adjacent active data segments into one.
// asc emits one segment per static datum (each text literal, each table), and every segment costs
// ~6 bytes of headers: on the board those bytes are RAM three times over under wasm3. The memory
// image is unchanged (gaps of up to MAX_GAP zero bytes are filled with the zeros memory starts with);
// mergeDataSegments checks that itself and throws rather than emit a different module.
import { parseModule, type WasmModule } from "../wasm/inspect.ts";

const MAX_GAP = 16;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

/** The initial memory image the module's active segments describe. */
export function memoryImage(m: WasmModule, bytes: Uint8Array): Uint8Array {
  const img = new Uint8Array((m.memories[0]?.initial ?? 1) * 65536);
  for (const d of m.data) {
    if (d.mode === "active" && d.offset !== undefined) img.set(bytes.subarray(d.dataOffset, d.dataOffset + d.size), d.offset);
  }
  return img;
}

export function mergeDataSegments(bytes: Uint8Array): Uint8Array {
  const m = parseModule(bytes);
  const dataSec = m.sections.find((s) => s.id === 11);
  const segs = m.data;
  if (!dataSec || segs.some((d) => d.mode !== "active" || d.memory !== 0 || d.offset === undefined)) return bytes;
  const sorted = [...segs].sort((a, b) => a.offset! - b.offset!);
  const merged: { offset: number; data: number[] }[] = [];
  for (const d of sorted) {
    const data = Array.from(bytes.subarray(d.dataOffset, d.dataOffset + d.size));
    const last = merged[merged.length - 1];
    const gap = last ? d.offset! - (last.offset + last.data.length) : -1;
    if (last && gap >= 0 && gap <= MAX_GAP) last.data.push(...new Array(gap).fill(0), ...data);
    else merged.push({ offset: d.offset!, data });
  }
  const payload: number[] = [...leb(merged.length)];
  for (const s of merged) payload.push(0x00, 0x41, ...sleb(s.offset), 0x0b, ...leb(s.data.length), ...s.data);
  const out: number[] = [];
  let at = 0;
  for (const sec of m.sections) {
    out.push(...bytes.subarray(at, sec.offset));
    if (sec.id === 11) out.push(11, ...leb(payload.length), ...payload);
    else if (sec.id === 12) {
      const count = leb(merged.length);
      out.push(12, ...leb(count.length), ...count);
    } else out.push(...bytes.subarray(sec.offset, sec.payloadOffset + sec.payloadSize));
    at = sec.payloadOffset + sec.payloadSize;
  }
  out.push(...bytes.subarray(at));
  const result = Uint8Array.from(out);
  const before = memoryImage(m, bytes);
  const after = memoryImage(parseModule(result), result);
  if (Buffer.compare(Buffer.from(before), Buffer.from(after)) !== 0 || !WebAssembly.validate(result)) {
    throw new Error("merge-data: the merged module would differ from the original; keeping nothing");
  }
  return result;
}
