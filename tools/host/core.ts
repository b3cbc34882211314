// Loads build/picowire.wasm and checks it against the ABI before anything runs: a core built for another
// ABI, or one that imports something the host does not provide, is refused with a clear error.
import { ABI_MODULE, ABI_VERSION, C, EXPORT_NAMES, IMPORT_NAMES, type CoreExports, type HostImports } from "./abi.generated.ts";

export class AbiError extends Error {}

/** Bytes above the board's memory cap hold this pattern; a core that writes there would fault on the board. */
const CANARY = 0xa5;

export function compileCore(bytes: Uint8Array): WebAssembly.Module {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    throw new AbiError(`not a valid WebAssembly module: ${(e as Error).message}`);
  }
  const known = new Set<string>(IMPORT_NAMES);
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== ABI_MODULE) {
      throw new AbiError(`core imports ${imp.module}.${imp.name}; a picowire core may only import from "${ABI_MODULE}"`);
    }
    if (!known.has(imp.name)) throw new AbiError(`core imports ${ABI_MODULE}.${imp.name}, which ABI v${ABI_VERSION} does not define`);
  }
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = ["memory", ...EXPORT_NAMES].filter((n) => !exported.has(n));
  if (missing.length) throw new AbiError(`core lacks exports required by ABI v${ABI_VERSION}: ${missing.join(", ")}`);
  return module;
}

export class Core {
  readonly exports: CoreExports;
  readonly memory: WebAssembly.Memory;
  readonly io: number;
  readonly heapLimit: number;

  constructor(module: WebAssembly.Module, imports: HostImports) {
    const instance = new WebAssembly.Instance(module, { [ABI_MODULE]: imports as unknown as WebAssembly.ModuleImports });
    this.exports = instance.exports as unknown as CoreExports;
    const version = this.exports.abi_version();
    if (version !== ABI_VERSION) {
      throw new AbiError(`core speaks ABI v${version}, this host speaks v${ABI_VERSION}: rebuild the core or update the host`);
    }
    this.memory = this.exports.memory;
    this.io = this.exports.io_buffer() >>> 0;
    this.heapLimit = this.exports.stat(C.STAT_HEAP_LIMIT);
    this.bytes().fill(CANARY, this.heapLimit);
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Copies into the io buffer (at most IO_CAPACITY bytes); returns how many were copied. */
  writeIo(src: Uint8Array): number {
    const n = Math.min(src.length, C.IO_CAPACITY);
    this.bytes().set(src.subarray(0, n), this.io);
    return n;
  }

  read(ptr: number, len: number): Uint8Array {
    return this.bytes().slice(ptr >>> 0, (ptr >>> 0) + len);
  }

  text(ptr: number, len: number): string {
    return Buffer.from(this.bytes().buffer, ptr >>> 0, len).toString("utf8");
  }

  write(ptr: number, src: Uint8Array): void {
    this.bytes().set(src, ptr >>> 0);
  }

  /** The xor_mask import: XORs len bytes at ptr with mask's bytes repeating, its least significant byte
   *  first; OK, or ERR_RANGE (nothing changed) when the bytes are not all inside the core's memory. */
  xorMask(ptr: number, len: number, mask: number): number {
    const mem = this.bytes();
    const start = ptr >>> 0;
    if (len < 0 || start + len > mem.length) return C.ERR_RANGE;
    const key = [mask & 255, (mask >>> 8) & 255, (mask >>> 16) & 255, mask >>> 24];
    for (let i = 0; i < len; i++) mem[start + i] ^= key[i & 3];
    return C.OK;
  }

  /** Throws if anything above the memory cap changed: the board would have faulted there. */
  checkCanary(): void {
    const mem = this.bytes();
    for (let i = this.heapLimit; i < mem.length; i++) {
      if (mem[i] !== CANARY) throw new Error(`core wrote at ${i}, above its ${this.heapLimit}-byte memory cap`);
    }
  }

  stat(kind: number): number {
    return this.exports.stat(kind);
  }
}

export function ipToString(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join(".");
}

export function ipFromString(s: string): number {
  const parts = s.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`not an IPv4 address: ${s}`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0) >>> 0;
}
