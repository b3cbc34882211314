// WebSocket /echo through picowire-posix binaries side by side: the board process's CPU time per echoed
// byte (Linux /proc/PID/schedstat), interleaved rounds, medians. Used to check that a change aimed at the
// RP2040 (native/host/wasm2c_fast.h) does not slow the POSIX build: build the same tree twice
// (cmake -S native -B DIR -G Ninja -DPW_W2C_FAST=ON|OFF && cmake --build DIR --target picowire-posix).
//
//   npx tsx tools/emu/posix-echo.ts DIR1/picowire-posix DIR2/picowire-posix [--messages 32] [--rounds 5]
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import WebSocket from "ws";

const args = process.argv.slice(2);
const bins: string[] = [];
let messages = 32;
let rounds = 5;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--messages") messages = Number(args[++i]);
  else if (args[i] === "--rounds") rounds = Number(args[++i]);
  else bins.push(args[i]);
}
const SIZE = 1024 * 1024;
const HOST = "127.0.0.1";

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer().listen(0, HOST, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
const cpu = (c: ChildProcess) => Number(readFileSync(`/proc/${c.pid}/schedstat`, "utf8").split(" ")[0]) / 1e9;

const boards: { bin: string; child: ChildProcess; port: number; ns: number[]; mbs: number[] }[] = [];
for (const bin of bins) {
  const port = await freePort();
  const child = spawn(bin, ["--host", HOST, "--set", `http_port=${port}`, "--set", "ws_echo=1", "--log-level", "warn", "--no-canary"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  boards.push({ bin, child, port, ns: [], mbs: [] });
}
await new Promise((r) => setTimeout(r, 400));
const payload = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++) payload[i] = (i * 7) & 255;
try {
  for (let r = 0; r < rounds; r++)
    for (const b of boards) {
      const ws = new WebSocket(`ws://${HOST}:${b.port}/echo`);
      await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
      const c0 = cpu(b.child);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < messages; i++) {
        const back = new Promise<Buffer>((resolve) => ws.once("message", (d) => resolve(d as Buffer)));
        ws.send(payload);
        const got = await back;
        if (!got.equals(payload)) throw new Error(`${b.bin}: echo differs`);
      }
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      b.ns.push(((cpu(b.child) - c0) / (messages * SIZE)) * 1e9);
      b.mbs.push((messages * SIZE) / s / 1e6);
      ws.close();
    }
} finally {
  for (const b of boards) b.child.kill("SIGTERM");
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`/echo, ${messages} x 1 MiB binary messages per round, ${rounds} interleaved rounds, medians:`);
for (const b of boards) console.log(`  ${b.bin}: ${median(b.mbs).toFixed(1)} MB/s, board CPU ${median(b.ns).toFixed(2)} ns/byte`);
