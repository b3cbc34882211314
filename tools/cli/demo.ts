// `npm start`: the tutorial's two boards as virtual boards on loopback: a colour server and a client
// that polls it every 200 ms and drives its RGB LED.
import { parseArgs } from "node:util";
import { Board } from "../host/board.ts";
import { readCore } from "./wasm.ts";
import { consoleLogger, runUntilSignal } from "./node.ts";

export async function runDemo(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { "http-port": { type: "string", default: "8080" }, "poll-ms": { type: "string", default: "200" } },
  });
  const wasm = new WebAssembly.Module(readCore());
  const port = values["http-port"];
  const server = new Board({
    wasm, host: "127.0.0.1", name: "server", config: `http_port=${port}\nws_echo=1\ncontrol_port=0`,
    log: consoleLogger("server 127.0.0.1", "info"),
  });
  const client = new Board({
    wasm, host: "127.0.0.2", name: "client",
    config: `http_port=0\ncontrol_port=0\nrgb_server=127.0.0.1:${port}\nrgb_poll_ms=${values["poll-ms"]}\nrgb_pins=13,14,15`,
    log: consoleLogger("client 127.0.0.2", "info"),
  });
  await server.start();
  await client.start();
  console.log(`rgb-server on http://127.0.0.1:${port}/rgb (WebSocket echo on ws://127.0.0.1:${port}/echo), rgb-client polling it from 127.0.0.2; Ctrl-C stops`);
  await runUntilSignal([client, server]);
}
