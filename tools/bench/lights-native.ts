// 480-pixel LED-strip frames through the C host (POSIX) side by side with both engines: DDP datagrams
// over loopback into picowire-posix (wasm2c) and picowire-posix-wasm3, each board process's CPU time per
// frame (Linux /proc/PID/schedstat, its idle rate subtracted), interleaved rounds, medians. The board's
// whole path counts: UDP receive, the host's queue, parse -> gamma/brightness -> GRB in the core, and
// the POSIX host's pixels_show (a no-op sink). Not a test: figures only.
//
//   WASM3_PATH=... tools/native/build-posix.sh --engine wasm3 && tools/native/build-posix.sh
//   npx tsx tools/bench/lights-native.ts [build/native-posix/picowire-posix build/native-posix/picowire-posix-wasm3] [--frames 1500] [--rounds 3]
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import dgram from "node:dgram";
import { ddp, PORT_DDP } from "../lights/send.ts";

const args = process.argv.slice(2);
const bins: string[] = [];
let frames = 1000;
let rounds = 3;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--frames") frames = Number(args[++i]);
  else if (args[i] === "--rounds") rounds = Number(args[++i]);
  else bins.push(args[i]);
}
if (!bins.length) bins.push("build/native-posix/picowire-posix", "build/native-posix/picowire-posix-wasm3");
for (const b of bins) if (!existsSync(b)) throw new Error(`${b} does not exist: build it (see the comment at the top)`);

const cpu = (c: ChildProcess) => Number(readFileSync(`/proc/${c.pid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const frame = ddp(Uint8Array.from({ length: 480 * 3 }, (_, i) => (i * 7) & 255));

const boards = bins.map((bin, i) => {
  const host = `127.0.61.${i + 1}`;
  const child = spawn(bin, ["--host", host, "--set", "http_port=0", "--set", "control_port=0", "--set", "lights=ddp", "--set", "pixels_count=480",
    "--set", "pixels_pin=16", "--log-level", "warn", "--no-canary"], { stdio: ["ignore", "inherit", "inherit"] });
  return { bin, host, child, perFrame: [] as number[] };
});
const sock = dgram.createSocket("udp4");
await sleep(500);
try {
  for (let r = 0; r < rounds; r++)
    for (const b of boards) {
      // the idle rate first (the host's loop when nothing arrives), then paced frames (4 per 5 ms: the
      // host's datagram queue holds a few, and a dropped frame would make the board look faster)
      const i0 = cpu(b.child);
      await sleep(300);
      const idlePerS = (cpu(b.child) - i0) / 0.3;
      const c0 = cpu(b.child);
      const t0 = performance.now();
      for (let n = 0; n < frames; n += 4) {
        for (let k = 0; k < 4; k++) sock.send(frame, PORT_DDP, b.host);
        await sleep(5);
      }
      await sleep(50);
      const s = (performance.now() - t0) / 1000;
      b.perFrame.push((cpu(b.child) - c0 - idlePerS * s) / frames);
    }
} finally {
  sock.close();
  for (const b of boards) b.child.kill("SIGTERM");
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`480-pixel DDP frames into the C host, ${frames} per round, ${rounds} interleaved rounds, medians (board CPU per frame):`);
const base = median(boards[0].perFrame);
for (const b of boards) {
  const m = median(b.perFrame);
  console.log(`  ${b.bin}: ${(m * 1e6).toFixed(1)} us/frame = ${(1 / m).toFixed(0)} frames/s of one core` + (b === boards[0] ? "" : `, ${(m / base).toFixed(1)}x the first`));
}
