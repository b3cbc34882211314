// A TypeScript client for the control protocol (JSON lines over TCP), as the CLI and tests use it:
// const c = await Client.connect("127.0.0.1", 12345, { key }); await c.command({ action: "ping" }).
// With a key it answers the board's challenge and signs every command with a rising seq and a MAC.
import net from "node:net";
import { createHmac } from "node:crypto";

export type Reply = Record<string, unknown> & { error?: string };

export interface ClientOptions {
  /** The bus key (the text of the key file, without its line end). */
  key?: string;
  /** How long to wait for the connection and for each reply (default 5000 ms). */
  timeoutMs?: number;
  /** How long to wait for the connection alone (default timeoutMs). */
  connectTimeoutMs?: number;
}

export class ControlError extends Error {}

export class Client {
  private buffer = "";
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private readonly lines: Reply[] = [];
  private seq = 0;
  private nonce = "";
  private closed: Error | null = null;

  private constructor(private readonly socket: net.Socket, private readonly opts: ClientOptions) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => this.onData(d));
    const end = (why: string) => {
      this.closed = new ControlError(why);
      for (const w of this.waiting.splice(0)) w.reject(this.closed);
    };
    socket.on("close", () => end("the board closed the connection"));
    socket.on("error", (e) => end(e.message));
  }

  static async connect(host: string, port = 12345, opts: ClientOptions = {}): Promise<Client> {
    const timeoutMs = opts.connectTimeoutMs ?? opts.timeoutMs ?? 5000;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port });
      const timer = setTimeout(() => (s.destroy(), reject(new ControlError(`${host}:${port} did not answer within ${timeoutMs} ms`))), timeoutMs);
      s.once("connect", () => (clearTimeout(timer), resolve(s)));
      s.once("error", (e) => (clearTimeout(timer), reject(new ControlError(`cannot reach ${host}:${port}: ${e.message}`))));
    });
    const client = new Client(socket, opts);
    if (opts.key !== undefined) await client.authenticate(opts.key);
    return client;
  }

  private onData(d: string): void {
    this.buffer += d;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let reply: Reply;
      try {
        reply = JSON.parse(line);
      } catch {
        reply = { error: `the board sent a line that is not JSON: ${line}` };
      }
      const w = this.waiting.shift();
      if (w) w.resolve(reply);
      else this.lines.push(reply);
    }
  }

  /** The next line from the board. */
  next(): Promise<Reply> {
    const queued = this.lines.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(this.closed);
    const timeoutMs = this.opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const entry = {
        resolve: (r: Reply) => (clearTimeout(timer), resolve(r)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        // a late reply would answer the next command: this connection can no longer be trusted
        this.socket.destroy();
        reject(new ControlError(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(entry);
    });
  }

  private async authenticate(key: string): Promise<void> {
    const hello = await this.next().catch((e: Error) => {
      // a board without a key says nothing on connect
      throw new ControlError(`the board sent no challenge (${e.message}): it runs without a key, use --insecure`);
    });
    if (typeof hello.challenge !== "string") {
      throw new ControlError(hello.error ?? "the board sent no challenge: it runs without a key (use --insecure)");
    }
    this.nonce = hello.challenge;
    this.socket.write(authAnswer(key, this.nonce) + "\n");
    const r = await this.next();
    if (r.authenticated !== true) throw new ControlError(r.error ?? "authentication failed");
  }

  /** Sends a raw line (for tests of framing); returns nothing. */
  send(raw: string): void {
    this.socket.write(raw);
  }

  /** Sends one command and returns the board's reply (which has `error` when it failed). */
  async command(cmd: Record<string, unknown>): Promise<Reply> {
    this.socket.write(this.line(cmd) + "\n");
    const r = await this.next();
    if (typeof r.challenge === "string" && this.opts.key === undefined) {
      this.close();
      throw new ControlError("this board requires the bus key (--key-file)");
    }
    return r;
  }

  /** The command's text, signed when a key is in use: "mac" last, over nonce + the text without it. */
  line(cmd: Record<string, unknown>): string {
    if (this.opts.key === undefined) return JSON.stringify(cmd);
    return signCommand(this.opts.key, this.nonce, ++this.seq, cmd);
  }

  close(): void {
    this.socket.end();
  }
}

/** The answer to a board's challenge. */
export function authAnswer(key: string, challenge: string): string {
  return JSON.stringify({ auth: hmac(key, `picowire-auth:${challenge}`) });
}

/** A command signed for a session: "seq" added, "mac" last, over the challenge + the text without it. */
export function signCommand(key: string, challenge: string, seq: number, cmd: Record<string, unknown>): string {
  const text = JSON.stringify({ ...cmd, seq });
  return `${text.slice(0, -1)},"mac":"${hmac(key, challenge + text)}"}`;
}

export function hmac(key: string, text: string): string {
  return createHmac("sha256", key).update(text).digest("hex");
}

/** "pin=2" "value=1.5" "mode=output" "on=true" -> typed command fields, as the CLI takes them. */
export function parseFields(words: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new ControlError(`expected key=value, got '${w}'`);
    const k = w.slice(0, eq);
    const v = w.slice(eq + 1);
    out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === "true" ? true : v === "false" ? false : v === "null" ? null : v;
  }
  return out;
}
