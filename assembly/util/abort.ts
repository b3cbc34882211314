// Replaces AssemblyScript's abort import: a failed internal check logs where, then traps, so the
// module's only imports are the host ABI and the host turns the trap into a restart.
import { host_log, LOG_ERROR } from "../abi/host.generated";

const prefix = memory.data(8);

export function coreAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  store<u64>(prefix, 0x3a74726f62612020); // "  abort:" little-endian (logged before the trap)
  host_log(LOG_ERROR, prefix, 8);
  unreachable();
}
