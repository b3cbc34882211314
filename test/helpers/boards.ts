// Virtual boards on real loopback sockets, and small raw-socket peers to talk to them.
import net from "node:net";
import { Board, type BoardOptions, type LogLevel } from "../../tools/host/board.ts";
import { coreModule, coreSha256 } from "./core.ts";

export async function freePort(host = "127.0.0.1"): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface TestBoard extends Board {
  lines: { level: LogLevel; text: string }[];
}

const running: Board[] = [];

export async function startBoard(config: string, opts: Partial<BoardOptions> = {}): Promise<TestBoard> {
  const lines: { level: LogLevel; text: string }[] = [];
  const board = new Board({
    wasm: coreModule,
    coreSha256,
    config,
    log: (level, text) => lines.push({ level, text }),
    ...opts,
  }) as TestBoard;
  board.lines = lines;
  running.push(board);
  await board.start();
  return board;
}

export async function stopBoards(): Promise<void> {
  for (const b of running.splice(0)) {
    b.core?.checkCanary();
    await b.stop();
  }
}

/** Polls `cond` every 5 ms until true or `ms` elapse (then throws with `what`). */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Exchange {
  reply: string;
  /** "fin" when the server closed gracefully, "reset" on RST, "open" if still open at the deadline. */
  end: "fin" | "reset" | "open";
  ms: number;
}

/** Connects, sends `parts` (with `gapMs` between them), and collects the reply until close or `ms`. */
export function exchange(port: number, parts: (string | Uint8Array)[], opts: { host?: string; gapMs?: number; ms?: number; fin?: boolean } = {}): Promise<Exchange> {
  const start = Date.now();
  return new Promise((resolve) => {
    const s = net.connect({ port, host: opts.host ?? "127.0.0.1", allowHalfOpen: true });
    let reply = "";
    let done = false;
    const finish = (end: Exchange["end"]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ reply, end, ms: Date.now() - start });
    };
    const timer = setTimeout(() => finish("open"), opts.ms ?? 3000);
    s.on("data", (d) => (reply += d.toString("latin1")));
    s.on("end", () => finish("fin"));
    s.on("error", () => finish("reset"));
    s.on("close", () => finish("fin"));
    s.on("connect", async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.fin) s.end();
    });
  });
}
