// The picowire command run as a user runs it: a child process, its console output, waiting for lines.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterEach } from "vitest";
import { ROOT } from "../../tools/abi/generate.ts";

export const BIN = join(ROOT, "bin", "picowire.js");
const procs: ChildProcess[] = [];
afterEach(() => procs.splice(0).forEach((p) => p.kill("SIGKILL")));

export interface Proc {
  child: ChildProcess;
  out: () => string;
  waitFor: (re: RegExp, ms?: number) => Promise<string>;
  exit: Promise<number | null>;
}

/** Runs `command args` (default: the picowire CLI) and collects its stdout and stderr; `stdin` keeps
 *  its input open for the test to type into. Killed after the test. */
export function run(args: string[], command = process.execPath, prefix: string[] = [BIN], stdin = false): Proc {
  const child = spawn(command, [...prefix, ...args], { stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"] });
  procs.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const waitFor = async (re: RegExp, ms = 15000) => {
    const end = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > end) throw new Error(`no ${re} in output:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return out;
  };
  return { child, out: () => out, waitFor, exit };
}

export const picowire = (args: string[], opts: { stdin?: boolean } = {}) => run(args, process.execPath, [BIN], opts.stdin);
