// `npm start`: the tutorial's two boards as virtual boards on loopback: a colour server and a client
// that polls it every 200 ms and drives its RGB LED.
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { Board } from "../host/board.ts";
import { readCore } from "./wasm.ts";
import { consoleLogger, runUntilSignal } from "./node.ts";
import { dashboardAssets } from "../build/dashboard.ts";

export async function runDemo(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "http-port": { type: "string", default: "8080" },
      "control-port": { type: "string", default: "12345" },
      "poll-ms": { type: "string", default: "200" },
    },
  });
  // a fresh bus key per run: the dashboard asks for it, so control is authenticated even in the demo
  const key = randomBytes(12).toString("hex");
  const wasm = new WebAssembly.Module(readCore());
  const port = values["http-port"];
  const server = new Board({
    wasm, host: "127.0.0.1", name: "server", config: `http_port=${port}\nws_echo=1\ncontrol_port=${values["control-port"]}\nkey=${key}`,
    log: consoleLogger("server 127.0.0.1", "info"),
    assets: dashboardAssets(), // the dashboard on GET / once `npm run build` has made build/index.html.gz
  });
  const client = new Board({
    wasm, host: "127.0.0.2", name: "client",
    config: `http_port=0\ncontrol_port=0\nrgb_server=127.0.0.1:${port}\nrgb_poll_ms=${values["poll-ms"]}\nrgb_pins=13,14,15`,
    log: consoleLogger("client 127.0.0.2", "info"),
  });
  await server.start();
  await client.start();
  console.log(`rgb-server on http://127.0.0.1:${port}/rgb (WebSocket echo on ws://127.0.0.1:${port}/echo), rgb-client polling it from 127.0.0.2; Ctrl-C stops`);
  console.log(Object.keys(dashboardAssets()).length ? `dashboard: http://127.0.0.1:${port}/  (bus key: ${key})` : "dashboard: not built (npm run build writes build/index.html.gz)");
  console.log(`control: picowire run 127.0.0.1:${values["control-port"]} --key-file <a file holding the key> -c action=get_info`);
  await runUntilSignal([client, server]);
}
