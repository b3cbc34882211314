// A small, dependency-free WebAssembly binary inspector. The board runs the core under wasm3 on a chip
// without an FPU, with a fixed feature set, so we need to see exactly which instructions and features a
// build uses; engines only tell us "valid" or "invalid". Every function body is decoded, not skimmed.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref" | "exnref";
export interface FuncType { params: ValType[]; results: ValType[] }
export interface Limits { initial: number; maximum?: number; shared: boolean; memory64: boolean }
export interface GlobalType { type: ValType; mutable: boolean }
export type ExternKind = "func" | "table" | "memory" | "global" | "tag";
export interface Import {
  module: string; name: string; kind: ExternKind;
  typeIndex?: number; sig?: FuncType; // func and tag
  table?: { element: ValType; limits: Limits }; memory?: Limits; global?: GlobalType;
}
export type BlockType = "empty" | ValType | number; // number: a type index (multi-value)
export interface Instr {
  offset: number; // absolute byte offset in the file, to match wasm-objdump
  opcode: number; // prefixed opcodes are prefix * 0x10000 + sub-opcode
  name: string;
  args: number[];
  blockType?: BlockType;
  feature?: string; // the non-MVP feature this instruction needs
}
export interface Func {
  index: number; typeIndex: number; type: FuncType; name?: string;
  locals: ValType[]; // params excluded
  bodyOffset: number; bodySize: number; // the body after its size field
  entrySize: number; // body plus its size field: the entries sum to the code section
  instructions: Instr[];
}
export interface Global extends GlobalType { index: number; init: Instr[] }
export interface Export { name: string; kind: ExternKind; index: number }
export interface DataSegment { index: number; mode: "active" | "passive"; memory: number; offset?: number; size: number; dataOffset: number }
export interface Element { mode: "active" | "passive" | "declarative"; funcs: number[] }
export interface Section { id: number; name: string; offset: number; size: number; payloadOffset: number; payloadSize: number }
export interface WasmModule {
  size: number; sections: Section[]; types: FuncType[]; imports: Import[];
  importedFuncs: number; importedGlobals: number;
  funcs: Func[]; // defined functions; funcs[i].index = importedFuncs + i
  tables: { element: ValType; limits: Limits }[]; memories: Limits[]; globals: Global[];
  exports: Export[]; start?: number; elements: Element[]; data: DataSegment[]; dataCount?: number;
  tags: number[]; names: Map<number, string>; nameError?: string;
}

export class WasmError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at byte offset ${offset})`);
    this.name = "WasmError";
  }
}

const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount", "tag"];
// The order the spec requires non-custom sections in (datacount and tag were slotted in later).
const SECTION_ORDER = [0, 1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
const VALTYPES: Record<number, ValType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref", 0x69: "exnref" };
const KINDS: ExternKind[] = ["func", "table", "memory", "global", "tag"];
const utf8 = new TextDecoder("utf-8", { fatal: true });
const hex = (n: number) => "0x" + n.toString(16).padStart(2, "0");

class Reader {
  constructor(readonly b: Uint8Array, public pos: number, readonly end: number, readonly what: string) {}
  need(n: number) {
    if (n > this.end - this.pos) throw new WasmError(`truncated ${this.what}: needs ${n} more byte(s), ${this.end - this.pos} left`, this.pos);
  }
  u8(): number { this.need(1); return this.b[this.pos++]; }
  // Unsigned LEB128 of at most `bits` bits; over-long or overflowing encodings are malformed.
  uleb(bits = 32): number {
    const start = this.pos, maxBytes = Math.ceil(bits / 7);
    let result = 0, mul = 1;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) throw new WasmError(`truncated LEB128 in ${this.what}`, start);
      const byte = this.b[this.pos++];
      if (i === maxBytes - 1) {
        if (byte & 0x80) throw new WasmError(`bad LEB128 in ${this.what}: longer than ${maxBytes} bytes`, start);
        if (byte >> (bits - 7 * i) !== 0) throw new WasmError(`bad LEB128 in ${this.what}: value exceeds ${bits} bits`, start);
      }
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if (!(byte & 0x80)) return result;
    }
  }
  u32(): number { return this.uleb(32); }
  // Signed LEB128 as a bigint (i64 needs more than 53 bits); unused high bits must repeat the sign.
  sleb(bits: number): bigint {
    const start = this.pos, maxBytes = Math.ceil(bits / 7);
    let result = 0n, shift = 0n;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) throw new WasmError(`truncated LEB128 in ${this.what}`, start);
      const byte = this.b[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (i === maxBytes - 1) {
        const used = bits - 7 * i; // value bits in this last byte, including the sign bit
        const rest = (byte & 0x7f) >> (used - 1); // the sign bit and the unused bits above it
        if (byte & 0x80) throw new WasmError(`bad LEB128 in ${this.what}: longer than ${maxBytes} bytes`, start);
        if (rest !== 0 && rest !== (0x7f >> (used - 1))) throw new WasmError(`bad LEB128 in ${this.what}: value exceeds ${bits} bits`, start);
      }
      if (!(byte & 0x80)) return BigInt.asIntN(bits, byte & 0x40 ? result - (1n << shift) : result);
    }
  }
  s32(): number { return Number(this.sleb(32)); }
  bytes(n: number): Uint8Array { this.need(n); return this.b.subarray(this.pos, (this.pos += n)); }
  name(): string {
    const at = this.pos, raw = this.bytes(this.u32());
    try { return utf8.decode(raw); } catch { throw new WasmError(`bad UTF-8 name in ${this.what}`, at); }
  }
  valtype(): ValType {
    const at = this.pos, t = VALTYPES[this.u8()];
    if (!t) throw new WasmError(`unknown value type ${hex(this.b[at])} in ${this.what}`, at);
    return t;
  }
  vec<T>(item: () => T): T[] {
    const n = this.u32(), out: T[] = [];
    if (n > this.end - this.pos) throw new WasmError(`truncated ${this.what}: vector of ${n} items in ${this.end - this.pos} bytes`, this.pos);
    for (let i = 0; i < n; i++) out.push(item());
    return out;
  }
  limits(): Limits {
    const at = this.pos, flags = this.u8();
    if (flags > 7) throw new WasmError(`bad limits flags ${hex(flags)} in ${this.what}`, at);
    const bits = flags & 4 ? 64 : 32;
    const initial = this.uleb(bits), maximum = flags & 1 ? this.uleb(bits) : undefined;
    return { initial, maximum, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 };
  }
}

// ---- opcode table -------------------------------------------------------------------------------
type Imm = "" | "bt" | "idx" | "idx2" | "brtable" | "memarg" | "i32" | "i64" | "f32" | "f64" | "mem" | "mem2"
  | "selt" | "heap" | "trytable" | "v128" | "lane" | "memlane";
interface Op { name: string; imm: Imm; feature?: string; opens?: boolean }
const OPS = new Map<number, Op>();
const def = (code: number, name: string, imm: Imm = "", feature?: string, opens = false) => OPS.set(code, { name, imm, feature, opens });

def(0x00, "unreachable"); def(0x01, "nop");
def(0x02, "block", "bt", undefined, true); def(0x03, "loop", "bt", undefined, true); def(0x04, "if", "bt", undefined, true);
def(0x05, "else"); def(0x0b, "end");
def(0x0c, "br", "idx"); def(0x0d, "br_if", "idx"); def(0x0e, "br_table", "brtable"); def(0x0f, "return");
def(0x10, "call", "idx"); def(0x11, "call_indirect", "idx2");
def(0x12, "return_call", "idx", "tail-call"); def(0x13, "return_call_indirect", "idx2", "tail-call");
// Exceptions: the legacy try/catch/delegate encoding and the newer try_table/throw_ref one.
def(0x06, "try", "bt", "exceptions", true); def(0x07, "catch", "idx", "exceptions"); def(0x08, "throw", "idx", "exceptions");
def(0x09, "rethrow", "idx", "exceptions"); def(0x0a, "throw_ref", "", "exceptions"); def(0x18, "delegate", "idx", "exceptions");
def(0x19, "catch_all", "", "exceptions"); def(0x1f, "try_table", "trytable", "exceptions", true);
def(0x1a, "drop"); def(0x1b, "select"); def(0x1c, "select", "selt", "reference-types");
["local.get", "local.set", "local.tee", "global.get", "global.set"].forEach((n, i) => def(0x20 + i, n, "idx"));
def(0x25, "table.get", "idx", "reference-types"); def(0x26, "table.set", "idx", "reference-types");
("i32.load i64.load f32.load f64.load i32.load8_s i32.load8_u i32.load16_s i32.load16_u i64.load8_s i64.load8_u " +
  "i64.load16_s i64.load16_u i64.load32_s i64.load32_u i32.store i64.store f32.store f64.store i32.store8 i32.store16 " +
  "i64.store8 i64.store16 i64.store32").split(" ").forEach((n, i) => def(0x28 + i, n, "memarg"));
def(0x3f, "memory.size", "mem"); def(0x40, "memory.grow", "mem");
def(0x41, "i32.const", "i32"); def(0x42, "i64.const", "i64"); def(0x43, "f32.const", "f32"); def(0x44, "f64.const", "f64");
{
  const cmp = "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", fcmp = "eq ne lt gt le ge";
  const ibin = "clz ctz popcnt add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr";
  const fbin = "abs neg ceil floor trunc nearest sqrt add sub mul div min max copysign";
  const conv = "i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u i64.extend_i32_s " +
    "i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s i64.trunc_f64_u f32.convert_i32_s f32.convert_i32_u " +
    "f32.convert_i64_s f32.convert_i64_u f32.demote_f64 f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s " +
    "f64.convert_i64_u f64.promote_f32 i32.reinterpret_f32 i64.reinterpret_f64 f32.reinterpret_i32 f64.reinterpret_i64";
  const names = [
    "i32.eqz", ...cmp.split(" ").map((s) => "i32." + s), "i64.eqz", ...cmp.split(" ").map((s) => "i64." + s),
    ...fcmp.split(" ").map((s) => "f32." + s), ...fcmp.split(" ").map((s) => "f64." + s),
    ...ibin.split(" ").map((s) => "i32." + s), ...ibin.split(" ").map((s) => "i64." + s),
    ...fbin.split(" ").map((s) => "f32." + s), ...fbin.split(" ").map((s) => "f64." + s), ...conv.split(" "),
  ];
  names.forEach((n, i) => def(0x45 + i, n)); // 0x45 ..= 0xbf
  "i32.extend8_s i32.extend16_s i64.extend8_s i64.extend16_s i64.extend32_s".split(" ").forEach((n, i) => def(0xc0 + i, n, "", "sign-ext"));
}
def(0xd0, "ref.null", "heap", "reference-types"); def(0xd1, "ref.is_null", "", "reference-types"); def(0xd2, "ref.func", "idx", "reference-types");
const FC = 0xfc * 0x10000, FD = 0xfd * 0x10000, FE = 0xfe * 0x10000;
["i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
  "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u"].forEach((n, i) => def(FC + i, n, "", "nontrapping-f2i"));
def(FC + 8, "memory.init", "idx2", "bulk-memory"); def(FC + 9, "data.drop", "idx", "bulk-memory");
def(FC + 10, "memory.copy", "mem2", "bulk-memory"); def(FC + 11, "memory.fill", "mem", "bulk-memory");
def(FC + 12, "table.init", "idx2", "bulk-memory"); def(FC + 13, "elem.drop", "idx", "bulk-memory"); def(FC + 14, "table.copy", "idx2", "bulk-memory");
// table.grow/size/fill sit in the 0xFC space but came with the reference-types proposal.
def(FC + 15, "table.grow", "idx", "reference-types"); def(FC + 16, "table.size", "idx", "reference-types"); def(FC + 17, "table.fill", "idx", "reference-types");
// SIMD and atomics are only detected (they are never allowed on the board), so names stay generic;
// the immediates are decoded exactly so the rest of the body still parses.
for (let i = 0; i <= 0x113; i++) {
  const imm: Imm = i <= 11 || i === 92 || i === 93 ? "memarg" : i === 12 || i === 13 ? "v128" : i >= 21 && i <= 34 ? "lane" : i >= 84 && i <= 91 ? "memlane" : "";
  def(FD + i, i === 12 ? "v128.const" : `simd.${hex(i)}`, imm, "simd");
}
def(FE + 0, "memory.atomic.notify", "memarg", "threads"); def(FE + 1, "memory.atomic.wait32", "memarg", "threads");
def(FE + 2, "memory.atomic.wait64", "memarg", "threads"); def(FE + 3, "atomic.fence", "mem", "threads");
for (let i = 0x10; i <= 0x4e; i++) def(FE + i, `atomic.${hex(i)}`, "memarg", "threads");

/** Decodes instructions up to and including the `end` that closes the expression. */
function decodeExpr(r: Reader, types: FuncType[]): Instr[] {
  const out: Instr[] = [];
  let depth = 0;
  for (;;) {
    const offset = r.pos, byte = r.u8();
    const opcode = byte === 0xfc || byte === 0xfd || byte === 0xfe ? byte * 0x10000 + r.u32() : byte;
    const op = OPS.get(opcode);
    if (!op) {
      const shown = opcode > 0xff ? `${hex(byte)} ${hex(opcode & 0xffff)}` : hex(byte);
      throw new WasmError(`unknown or unsupported opcode ${shown} in ${r.what}`, offset);
    }
    const ins: Instr = { offset, opcode, name: op.name, args: [] };
    if (op.feature) ins.feature = op.feature;
    const a = ins.args;
    switch (op.imm) {
      case "bt": {
        const b = r.pos < r.end ? r.b[r.pos] : -1;
        if (b === 0x40) { r.pos++; ins.blockType = "empty"; }
        else if (VALTYPES[b]) ins.blockType = r.valtype();
        else {
          const at = r.pos, t = Number(r.sleb(33));
          if (t < 0 || t >= types.length) throw new WasmError(`bad block type ${t} in ${r.what}`, at);
          ins.blockType = t;
          ins.feature ??= "multi-value";
        }
        break;
      }
      case "idx": case "mem": a.push(r.u32()); break;
      case "idx2": case "mem2": a.push(r.u32(), r.u32()); break;
      case "brtable": a.push(...r.vec(() => r.u32()), r.u32()); break;
      case "memarg": case "memlane": {
        const align = r.u32();
        a.push(align & 0x3f, align & 0x40 ? r.u32() : 0, r.uleb(64)); // align, memory (multi-memory bit), offset
        if (op.imm === "memlane") a.push(r.u8());
        break;
      }
      case "i32": a.push(r.s32()); break;
      case "i64": a.push(Number(r.sleb(64))); break; // beyond 2^53 only approximate; nobody reads these
      case "f32": { const v = r.bytes(4); a.push(new DataView(v.buffer, v.byteOffset).getFloat32(0, true)); break; }
      case "f64": { const v = r.bytes(8); a.push(new DataView(v.buffer, v.byteOffset).getFloat64(0, true)); break; }
      case "selt": a.push(...r.vec(() => { const t = r.b[r.pos]; r.valtype(); return t; })); break; // raw valtype bytes
      case "heap": a.push(Number(r.sleb(33))); break;
      case "trytable": {
        const inner = r.pos < r.end ? r.b[r.pos] : -1;
        if (inner === 0x40 || VALTYPES[inner]) ins.blockType = inner === 0x40 ? (r.pos++, "empty") : r.valtype();
        else ins.blockType = Number(r.sleb(33));
        r.vec(() => { const kind = r.u8(); if (kind > 3) throw new WasmError(`bad catch kind ${kind}`, r.pos - 1); if (kind < 2) a.push(r.u32()); a.push(r.u32()); });
        break;
      }
      case "v128": r.bytes(16); break;
      case "lane": a.push(r.u8()); break;
    }
    out.push(ins);
    if (op.opens) depth++;
    else if (byte === 0x0b || byte === 0x18) { // end, or delegate which closes a try
      if (depth === 0) {
        if (byte === 0x18) throw new WasmError(`delegate outside a try in ${r.what}`, offset);
        return out;
      }
      depth--;
    }
  }
}

// typed select stores its operand types as valtype bytes; expose them as names
export function selectTypes(ins: Instr): ValType[] {
  return ins.opcode === 0x1c ? ins.args.map((b) => VALTYPES[Number(b)]) : [];
}

// ---- sections -----------------------------------------------------------------------------------
export function parseModule(bytes: Uint8Array): WasmModule {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("parseModule expects a Uint8Array");
  if (bytes.length < 8) throw new WasmError(`truncated module: ${bytes.length} byte(s), shorter than the 8-byte header`, 0);
  if (bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmError(`bad magic: not a WebAssembly binary (expected 00 61 73 6d "\\0asm", got ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ")})`, 0);
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  if (version !== 1) throw new WasmError(`unsupported wasm binary version ${version} (only version 1 is known)`, 4);

  const m: WasmModule = {
    size: bytes.length, sections: [], types: [], imports: [], importedFuncs: 0, importedGlobals: 0, funcs: [],
    tables: [], memories: [], globals: [], exports: [], elements: [], data: [], tags: [], names: new Map(),
  };
  const funcTypes: number[] = [];
  const top = new Reader(bytes, 8, bytes.length, "module");
  let lastRank = 0;
  while (top.pos < bytes.length) {
    const offset = top.pos, id = top.u8(), size = top.u32(), payloadOffset = top.pos;
    if (id >= SECTION_NAMES.length) throw new WasmError(`unknown section id ${id}`, offset);
    if (size > bytes.length - payloadOffset) {
      throw new WasmError(`truncated module: ${SECTION_NAMES[id]} section declares ${size} bytes but only ${bytes.length - payloadOffset} remain`, offset);
    }
    const r = new Reader(bytes, payloadOffset, payloadOffset + size, `${SECTION_NAMES[id]} section`);
    let name = SECTION_NAMES[id];
    if (id !== 0) {
      const rank = SECTION_ORDER.indexOf(id);
      if (rank <= lastRank) throw new WasmError(`${name} section is duplicated or out of order`, offset);
      lastRank = rank;
    }
    switch (id) {
      case 0: {
        name = r.name();
        if (name === "name") {
          try { parseNames(r, m.names); } catch (e) { m.nameError = (e as Error).message; }
        }
        r.pos = r.end; // other custom sections are opaque by design
        break;
      }
      case 1: m.types = r.vec(() => {
        const at = r.pos, form = r.u8();
        if (form !== 0x60) throw new WasmError(`unsupported type form ${hex(form)} (only func types; GC types are not supported)`, at);
        return { params: r.vec(() => r.valtype()), results: r.vec(() => r.valtype()) };
      }); break;
      case 2: m.imports = r.vec(() => {
        const module = r.name(), field = r.name(), at = r.pos, k = r.u8();
        const kind = KINDS[k];
        if (!kind) throw new WasmError(`bad import kind ${hex(k)} for ${module}.${field}`, at);
        const imp: Import = { module, name: field, kind };
        if (kind === "func" || kind === "tag") {
          if (kind === "tag") r.u8(); // attribute: always 0 (exception)
          imp.typeIndex = typeIndex(r, m.types); imp.sig = m.types[imp.typeIndex];
          if (kind === "func") m.importedFuncs++;
        } else if (kind === "table") imp.table = { element: r.valtype(), limits: r.limits() };
        else if (kind === "memory") imp.memory = r.limits();
        else { imp.global = { type: r.valtype(), mutable: mutability(r) }; m.importedGlobals++; }
        return imp;
      }); break;
      case 3: funcTypes.push(...r.vec(() => typeIndex(r, m.types))); break;
      case 4: m.tables = r.vec(() => ({ element: r.valtype(), limits: r.limits() })); break;
      case 5: m.memories = r.vec(() => r.limits()); break;
      case 6: m.globals = r.vec(() => ({ index: 0, type: r.valtype(), mutable: mutability(r), init: decodeExpr(r, m.types) }));
        m.globals.forEach((g, i) => (g.index = m.importedGlobals + i)); break;
      case 7: m.exports = r.vec(() => {
        const name = r.name(), at = r.pos, k = r.u8();
        if (!KINDS[k]) throw new WasmError(`bad export kind ${hex(k)} for "${name}"`, at);
        return { name, kind: KINDS[k], index: r.u32() };
      }); break;
      case 8: m.start = r.u32(); break;
      case 9: m.elements = r.vec(() => parseElement(r, m.types)); break;
      case 10: {
        const bodies = r.vec(() => { const sizeAt = r.pos, n = r.u32(); return { sizeAt, at: r.pos, n, end: r.pos + r.bytes(n).length }; });
        if (bodies.length !== funcTypes.length) {
          throw new WasmError(`function section declares ${funcTypes.length} functions but code section has ${bodies.length} bodies`, payloadOffset);
        }
        m.funcs = bodies.map((b, i) => parseBody(bytes, b, m.importedFuncs + i, funcTypes[i], m.types));
        break;
      }
      case 11: m.data = r.vec(() => {
        const at = r.pos, flags = r.u32();
        if (flags > 2) throw new WasmError(`bad data segment flags ${flags}`, at);
        const seg: DataSegment = { index: 0, mode: flags === 1 ? "passive" : "active", memory: flags === 2 ? r.u32() : 0, size: 0, dataOffset: 0 };
        if (flags !== 1) {
          const init = decodeExpr(r, m.types);
          if (init[0].name === "i32.const" && init.length === 2) seg.offset = init[0].args[0];
        }
        seg.size = r.u32();
        seg.dataOffset = r.pos;
        r.bytes(seg.size);
        return seg;
      });
        m.data.forEach((d, i) => (d.index = i)); break;
      case 12: m.dataCount = r.u32(); break;
      case 13: m.tags = r.vec(() => { r.u8(); return typeIndex(r, m.types); }); break;
    }
    if (r.pos !== r.end) throw new WasmError(`${name} section has ${r.end - r.pos} unexpected trailing byte(s)`, r.pos);
    m.sections.push({ id, name, offset, size: payloadOffset + size - offset, payloadOffset, payloadSize: size });
    top.pos = payloadOffset + size;
  }
  if (funcTypes.length && !m.funcs.length) throw new WasmError(`function section declares ${funcTypes.length} functions but there is no code section`, bytes.length);
  for (const [i, name] of m.names) {
    const f = m.funcs[i - m.importedFuncs];
    if (f) f.name = name;
  }
  return m;
}

function typeIndex(r: Reader, types: FuncType[]): number {
  const at = r.pos, t = r.u32();
  if (t >= types.length) throw new WasmError(`type index ${t} out of range (${types.length} types) in ${r.what}`, at);
  return t;
}

function mutability(r: Reader): boolean {
  const at = r.pos, b = r.u8();
  if (b > 1) throw new WasmError(`bad global mutability ${hex(b)}`, at);
  return b === 1;
}

function parseBody(bytes: Uint8Array, b: { sizeAt: number; at: number; n: number; end: number }, index: number, typeIdx: number, types: FuncType[]): Func {
  const r = new Reader(bytes, b.at, b.end, `body of function ${index}`);
  const locals: ValType[] = [];
  for (const [count, type] of r.vec(() => [r.u32(), r.valtype()] as const)) {
    // Engines refuse more than 50000 locals; refusing here also keeps a hostile count from exhausting memory.
    if (locals.length + count > 50000) throw new WasmError(`function ${index} declares more than 50000 locals`, b.at);
    for (let i = 0; i < count; i++) locals.push(type);
  }
  const instructions = decodeExpr(r, types);
  if (r.pos !== r.end) throw new WasmError(`function ${index} has ${r.end - r.pos} byte(s) after its final end`, r.pos);
  return { index, typeIndex: typeIdx, type: types[typeIdx], locals, bodyOffset: b.at, bodySize: b.n, entrySize: b.end - b.sizeAt, instructions };
}

function parseElement(r: Reader, types: FuncType[]): Element {
  const at = r.pos, flags = r.u32();
  if (flags > 7) throw new WasmError(`bad element segment flags ${flags}`, at);
  const mode = flags & 1 ? (flags & 2 ? "declarative" : "passive") : "active";
  if ((flags & 3) === 2) r.u32(); // explicit table index
  if (!(flags & 1)) decodeExpr(r, types); // offset
  const exprs = (flags & 4) !== 0;
  if (flags & 3) exprs ? r.valtype() : r.u8(); // reftype, or elemkind 0x00 (funcref)
  const funcs: number[] = [];
  for (const item of r.vec(() => (exprs ? decodeExpr(r, types) : [r.u32()]))) {
    if (typeof item[0] === "number") funcs.push(item[0]);
    else for (const ins of item as Instr[]) if (ins.name === "ref.func") funcs.push(ins.args[0]);
  }
  return { mode, funcs };
}

function parseNames(r: Reader, names: Map<number, string>) {
  while (r.pos < r.end) {
    const id = r.u8(), size = r.u32(), end = r.pos + size;
    if (end > r.end) throw new WasmError("truncated name subsection", r.pos);
    if (id === 1) for (const [i, n] of r.vec(() => [r.u32(), r.name()] as const)) names.set(i, n);
    r.pos = end;
  }
}

// ---- queries ------------------------------------------------------------------------------------
export function funcSig(m: WasmModule, index: number): FuncType | undefined {
  if (index < m.importedFuncs) return m.imports.filter((i) => i.kind === "func")[index]?.sig;
  return m.funcs[index - m.importedFuncs]?.type;
}

export function funcName(m: WasmModule, index: number): string {
  if (m.names.has(index)) return m.names.get(index)!;
  if (index < m.importedFuncs) { const i = m.imports.filter((i) => i.kind === "func")[index]; return `${i.module}.${i.name}`; }
  const e = m.exports.find((e) => e.kind === "func" && e.index === index);
  return e ? `export:${e.name}` : `func[${index}]`;
}

function globalType(m: WasmModule, index: number): ValType | undefined {
  if (index < m.importedGlobals) return m.imports.filter((i) => i.kind === "global")[index]?.global?.type;
  return m.globals[index - m.importedGlobals]?.type;
}

const isFloat = (t: ValType | undefined) => t === "f32" || t === "f64";
const sigHasFloat = (t: FuncType | undefined) => !!t && [...t.params, ...t.results].some(isFloat);

export interface FloatUse { func: number; funcName: string; offset: number; opcode: string }

/** Every instruction that produces or consumes an f32/f64. Besides the f32/f64 opcodes this covers
 *  locals, globals, calls and blocks typed with floats; untyped select/drop/br only ever carry a float
 *  that some instruction reported here produced, so no float use goes unreported. */
export function floatInstructions(m: WasmModule): FloatUse[] {
  const out: FloatUse[] = [];
  for (const f of m.funcs) {
    const localType = (i: number) => (i < f.type.params.length ? f.type.params[i] : f.locals[i - f.type.params.length]);
    for (const ins of f.instructions) {
      const o = ins.opcode;
      const float =
        (o < 0xfd0000 && /f32|f64/.test(ins.name)) ||
        (o >= 0x20 && o <= 0x22 && isFloat(localType(ins.args[0]))) ||
        ((o === 0x23 || o === 0x24) && isFloat(globalType(m, ins.args[0]))) ||
        ((o === 0x10 || o === 0x12) && sigHasFloat(funcSig(m, ins.args[0]))) ||
        ((o === 0x11 || o === 0x13) && sigHasFloat(m.types[ins.args[0]])) ||
        (o === 0x1c && selectTypes(ins).some(isFloat)) ||
        (typeof ins.blockType === "number" ? sigHasFloat(m.types[ins.blockType]) : isFloat(ins.blockType as ValType));
      if (float) out.push({ func: f.index, funcName: funcName(m, f.index), offset: ins.offset, opcode: ins.name });
    }
  }
  return out;
}

/** f32/f64 in declarations: types, function signatures (imported too), locals and globals. */
export function floatDeclarations(m: WasmModule): string[] {
  const out: string[] = [];
  const show = (t: FuncType) => `(${t.params.join(" ")}) -> (${t.results.join(" ")})`;
  m.types.forEach((t, i) => sigHasFloat(t) && out.push(`type ${i} ${show(t)}`));
  m.imports.forEach((imp) => {
    if (sigHasFloat(imp.sig)) out.push(`import ${imp.module}.${imp.name} ${show(imp.sig!)}`);
    if (isFloat(imp.global?.type)) out.push(`import global ${imp.module}.${imp.name}: ${imp.global!.type}`);
  });
  for (const f of m.funcs) {
    if (sigHasFloat(f.type)) out.push(`function ${funcName(m, f.index)} ${show(f.type)}`);
    const fl = f.locals.filter(isFloat);
    if (fl.length) out.push(`function ${funcName(m, f.index)} has ${fl.length} float local(s)`);
  }
  m.globals.forEach((g) => isFloat(g.type) && out.push(`global ${g.index}: ${g.type}`));
  return out;
}

/** The wasm feature names (as in wabt/binaryen flags) the module needs; always includes "mvp". */
export function featuresUsed(m: WasmModule): string[] {
  const f = new Set<string>(["mvp"]);
  const types = (ts: ValType[]) => ts.forEach((t) => {
    if (t === "v128") f.add("simd");
    else if (t === "externref" || t === "funcref") f.add("reference-types");
    else if (t === "exnref") f.add("exceptions");
  });
  const exprs = [...m.funcs.map((fn) => fn.instructions), ...m.globals.map((g) => g.init)];
  for (const e of exprs) for (const ins of e) {
    if (ins.feature) f.add(ins.feature);
    if (ins.opcode === 0x11 && ins.args[1] !== 0) f.add("reference-types"); // call_indirect on a table other than 0
  }
  m.types.forEach((t) => { types(t.params); types(t.results); if (t.results.length > 1) f.add("multi-value"); });
  m.funcs.forEach((fn) => types(fn.locals));
  m.globals.forEach((g) => types([g.type]));
  const mems = [...m.memories, ...m.imports.flatMap((i) => (i.memory ? [i.memory] : []))];
  if (mems.some((l) => l.shared)) f.add("threads");
  if (mems.some((l) => l.memory64)) f.add("memory64");
  if (mems.length > 1) f.add("multi-memory");
  const tables = m.tables.length + m.imports.filter((i) => i.kind === "table").length;
  if (tables > 1) f.add("reference-types");
  // Mutable globals inside a module are MVP; importing or exporting one is the proposal.
  const globalImports = m.imports.filter((i) => i.kind === "global");
  const mutable = (g: number) => (g < m.importedGlobals ? globalImports[g]?.global?.mutable : m.globals[g - m.importedGlobals]?.mutable);
  if (globalImports.some((i) => i.global!.mutable) || m.exports.some((e) => e.kind === "global" && mutable(e.index))) f.add("mutable-globals");
  if (m.dataCount !== undefined || m.data.some((d) => d.mode === "passive") || m.elements.some((e) => e.mode !== "active")) f.add("bulk-memory");
  if (m.tags.length || m.imports.some((i) => i.kind === "tag") || m.exports.some((e) => e.kind === "tag")) f.add("exceptions");
  return [...f].sort((a, b) => (a === "mvp" ? -1 : b === "mvp" ? 1 : a.localeCompare(b)));
}

/** Direct callees (call, return_call, ref.func) of each defined function, by function index. */
export function callGraph(m: WasmModule): Map<number, Set<number>> {
  const g = new Map<number, Set<number>>();
  for (const f of m.funcs) {
    const callees = new Set<number>();
    for (const ins of f.instructions) if (ins.opcode === 0x10 || ins.opcode === 0x12 || ins.opcode === 0xd2) callees.add(ins.args[0]);
    g.set(f.index, callees);
  }
  return g;
}

/** The end of the highest active data segment with a constant offset. */
export function dataEnd(m: WasmModule): number {
  return Math.max(0, ...m.data.filter((d) => d.offset !== undefined).map((d) => d.offset! + d.size));
}
