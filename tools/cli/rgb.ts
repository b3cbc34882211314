// `picowire rgb get|set HOST[:PORT] [COLOUR]`: talk to a board's HTTP colour endpoint.
import http from "node:http";

export const RGB_USAGE = `usage: picowire rgb get HOST[:PORT]
       picowire rgb set HOST[:PORT] R,G,B|#rrggbb     (port default 80)`;

function request(method: string, target: string, body?: string): Promise<{ status: number; body: string }> {
  const [host, port = "80"] = target.split(":");
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path: "/rgb", method, timeout: 5000 }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on("timeout", () => req.destroy(new Error(`${target} did not answer within 5 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

export async function rgbCommand(argv: string[]): Promise<number> {
  const [verb, target, colour] = argv;
  if (!target || (verb !== "get" && verb !== "set") || (verb === "set" && !colour)) {
    console.error(RGB_USAGE);
    return 2;
  }
  const res = await request(verb === "get" ? "GET" : "PUT", target, colour);
  if (res.status !== 200) {
    console.error(`${target}: HTTP ${res.status} ${res.body.trim()}`);
    return 1;
  }
  console.log(res.body);
  return 0;
}
