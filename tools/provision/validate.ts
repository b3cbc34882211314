// Checks a configuration text as the core will: first line by line with the settings' rules
// (tools/settings/check.ts, generated from the same spec as the core's parser, with its messages), then
// with the core's own strict parser (the identical build/picowire.wasm), which also checks that what the
// settings ask for fits the board's memory: the core's init on a host whose imports do nothing.
// Returns "" or the core's reason.
import { Core, compileCore } from "../host/core.ts";
import { C, IMPORT_NAMES, type HostImports } from "../host/abi.generated.ts";
import { checkConfig } from "../settings/check.ts";

export function validateConfig(wasm: Uint8Array, text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length === 0) return "the configuration is empty (the board would start unconfigured)";
  if (bytes.length > C.IO_CAPACITY) return `the configuration is ${bytes.length} bytes; the core takes at most ${C.IO_CAPACITY}`;
  const refused = checkConfig(text);
  if (refused.length) return refused.join("; ");
  let core: Core;
  const errors: string[] = [];
  const imports = Object.fromEntries(IMPORT_NAMES.map((n) => [n, () => 0])) as unknown as HostImports;
  imports.log = (level, ptr, len) => {
    if (level === C.LOG_ERROR) errors.push(core.text(ptr, len));
  };
  imports.tcp_listen = () => 1;
  imports.udp_open = () => 1;
  core = new Core(compileCore(wasm), imports);
  core.writeIo(bytes);
  const r = core.exports.init(bytes.length, 0);
  return r === C.OK ? "" : errors.join("; ") || `refused (error ${r})`;
}
