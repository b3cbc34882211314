// Control over TCP takes each segment's bytes up to a line end at once (assembly/control/server.ts):
// the line limit and the line ends must come out the same however the stream is cut into segments.
import { describe, it, expect } from "vitest";
import { C } from "../../tools/host/abi.generated.ts";
import { FakeHost } from "../helpers/core.ts";

const PORT = 12345;
const MAX = 128;
const line = (n: number) => {
  const text = `{"action":"ping","pad":"${"x".repeat(n - 26)}"}`;
  expect(text).toHaveLength(n);
  return text;
};
// exactly the limit, one over it, then an ordinary line (CR LF: the CR counts toward the limit too)
const STREAM = Buffer.from(`${line(MAX)}\n${line(MAX + 1)}\n${line(MAX - 1)}\r\n{"action":"ping"}\n`);
const EXPECTED = ["pong", "line longer than control_line_max (128 bytes); it was dropped", "pong", "pong"];

function replies(cuts: number[]): string[] {
  const host = new FakeHost();
  host.overrides = { tcp_listen: (port) => port };
  const core = host.start(`http_port=0\ncontrol_port=${PORT}\ncontrol_insecure=1\ncontrol_line_max=${MAX}`, 1000);
  const conn = 7;
  expect(core.exports.tcp_accepted(PORT, conn, 0x7f000001, 4000, 1000)).toBe(C.OK);
  let at = 0;
  for (const end of [...cuts, STREAM.length]) {
    expect(host.data(conn, STREAM.subarray(at, end), 1001)).toBe(end - at);
    at = end;
  }
  return host.sentText(conn).trim().split("\n").map((l) => {
    const r = JSON.parse(l) as { pong?: boolean; error?: string };
    return r.pong ? "pong" : String(r.error);
  });
}

describe("control lines across segments", () => {
  it("in one segment", () => {
    expect(replies([])).toEqual(EXPECTED);
  });

  it("cut once at every position", () => {
    for (let k = 1; k < STREAM.length; k++) expect(replies([k]), `cut at ${k}`).toEqual(EXPECTED);
  });

  it("one byte at a time", () => {
    expect(replies(Array.from({ length: STREAM.length - 1 }, (_, i) => i + 1))).toEqual(EXPECTED);
  });

  it("cut twice around the limit of the long line", () => {
    const start = MAX + 1; // the long line's first byte
    for (let a = start + MAX - 3; a <= start + MAX + 2; a++) {
      for (let b = a + 1; b <= start + MAX + 3; b++) expect(replies([a, b]), `cuts at ${a}, ${b}`).toEqual(EXPECTED);
    }
  });
});
