// Differential test: random WebSocket client streams, valid and invalid, cut at random points, fed to
// the core's /echo and to the ws library's Receiver (the reference implementation most Node servers
// run). Both must see the same messages, pings, and the same close code. Deliberate differences, each
// from an RFC clause, are listed in the README and kept out of the generator here:
// - UTF-8: the core fails at the first invalid byte (RFC 6455 8.1), ws at the end of the message; the
//   generator completes every message, so both report 1007 for the same message.
// - a text message that ends inside a character: the echo has streamed its bytes out before the end
//   shows it, then closes with 1007; ws delivers nothing and closes with 1007.
// - invalid UTF-8 found inside a frame whose echo has begun: no close frame can be put inside the echoed
//   frame, so the connection is closed without one (RFC 6455 7.1.7 makes the close frame a SHOULD).
// - a 64-bit length with its top bit set: 1002 in the core (RFC 6455 5.2 "MUST be 0"), 1009 in ws.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { Receiver } from "ws";
import { EchoSession, frame, closeFrame } from "../helpers/ws.ts";

const MAX = 4096;
type Item = { bytes: Uint8Array; final?: boolean };

const utf8Text = fc.string({ unit: "grapheme", maxLength: 40 });
const payload = (max: number) => fc.uint8Array({ maxLength: max });

/** One valid message, maybe fragmented, with pings between its fragments. */
const message = fc
  .tuple(fc.boolean(), utf8Text, payload(300), fc.integer({ min: 1, max: 4 }), fc.array(payload(20), { maxLength: 2 }))
  .map(([isText, s, bin, parts, pings]) => {
    const data = isText ? Buffer.from(s) : Buffer.from(bin);
    const cuts = Array.from({ length: parts }, (_, i) => Math.floor((data.length * i) / parts));
    const frames: Uint8Array[] = [];
    cuts.forEach((start, i) => {
      const end = i + 1 < parts ? cuts[i + 1] : data.length;
      frames.push(frame({ opcode: i === 0 ? (isText ? 1 : 2) : 0, payload: data.subarray(start, end), fin: i === parts - 1 }));
      if (i < parts - 1 && pings[i]) frames.push(frame({ opcode: 9, payload: pings[i] }));
    });
    return { bytes: Buffer.concat(frames) } as Item;
  });

const control = fc.oneof(
  payload(125).map((p) => ({ bytes: frame({ opcode: 9, payload: p }) })),
  payload(125).map((p) => ({ bytes: frame({ opcode: 10, payload: p }) })),
);

/** Frames that break one rule each. */
const invalid = fc.oneof(
  fc.integer({ min: 1, max: 7 }).map((rsv) => frame({ opcode: 1, payload: Buffer.from("x"), rsv })),
  fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15).map((opcode) => frame({ opcode, payload: Buffer.from("x") })),
  fc.constant(frame({ opcode: 2, payload: Buffer.from("x"), mask: false })),
  payload(10).map((p) => frame({ opcode: 9, payload: Buffer.concat([p, Buffer.alloc(126)]) })),
  fc.constant(frame({ opcode: 9, payload: Buffer.from("p"), fin: false })),
  fc.constant(frame({ opcode: 0, payload: Buffer.from("orphan") })),
  fc.constantFrom("ff", "c0af", "eda080", "f4908080", "e282").map((h) => frame({ opcode: 1, payload: Buffer.from(h, "hex") })),
  fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 2999, 5000).map((c) => closeFrame(c)),
  fc.constant(frame({ opcode: 8, payload: Buffer.from([1]) })),
  fc.constant(frame({ opcode: 2, payload: Buffer.alloc(MAX + 1) })),
  fc.constant(Buffer.concat([frame({ opcode: 1, payload: Buffer.from("a"), fin: false }), frame({ opcode: 1, payload: Buffer.from("b") })])),
).map((bytes) => ({ bytes, final: true }) as Item);

const ending = fc.oneof(
  fc.constantFrom(1000, 1001, 3000, 4999).map((c) => ({ bytes: closeFrame(c, Buffer.from("bye")), final: true }) as Item),
  fc.constant({ bytes: closeFrame(), final: true } as Item),
  fc.constant({ bytes: new Uint8Array() } as Item),
);

const stream = fc.tuple(fc.array(fc.oneof({ weight: 3, arbitrary: message }, { weight: 1, arbitrary: control }), { maxLength: 8 }), fc.oneof(ending, invalid));

interface Seen {
  messages: { binary: boolean; data: string }[];
  pings: string[];
  close: number | null;
}

async function throughWs(bytes: Uint8Array, cuts: number[]): Promise<Seen> {
  const seen: Seen = { messages: [], pings: [], close: null };
  const r = new Receiver({ isServer: true, maxPayload: MAX, allowSynchronousEvents: true });
  r.on("message", (d: Buffer, binary: boolean) => seen.messages.push({ binary, data: d.toString(binary ? "hex" : "utf8") }));
  r.on("ping", (d: Buffer) => seen.pings.push(d.toString("latin1")));
  r.on("conclude", (code: number) => (seen.close = code === 1005 ? 1000 : code)); // empty close: answered with 1000
  r.on("error", (e: Error) => {
    const sym = Object.getOwnPropertySymbols(e).find((s) => s.description === "status-code")!;
    seen.close = (e as any)[sym];
  });
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    if (seen.close !== null) break;
    if (c > at) r.write(Buffer.from(bytes.subarray(at, c)));
    at = Math.max(at, c);
  }
  // the Receiver reports errors through its stream, a tick later
  for (let i = 0; i < 3; i++) await new Promise((res) => setImmediate(res));
  return seen;
}

function throughCore(bytes: Uint8Array, cuts: number[]): Seen {
  const s = new EchoSession(`ws_max_message=${MAX}`);
  s.open();
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > at) s.feed(bytes.subarray(at, c));
    at = Math.max(at, c);
  }
  const o = s.outcome();
  // a message that ended inside a character was streamed out before its end showed it; 1007 follows
  if (o.invalidText) expect(o.close).toBe(1007);
  // invalid UTF-8 inside a frame already being echoed: no close frame fits, the connection just ends
  const failedMidFrame = o.close === null && o.tcpClosed && s.host.logs.some((l) => / with 1007: utf-8$/.test(l));
  return { messages: o.messages, pings: o.pongs, close: failedMidFrame ? 1007 : o.close };
}

describe("the core's /echo agrees with the ws library's Receiver", () => {
  it("on random valid and invalid streams cut at random points", async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.array(fc.nat(), { maxLength: 10 }), async ([items, last], rawCuts) => {
        const bytes = Buffer.concat([...items.map((i) => i.bytes), last.bytes]);
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const ws = await throughWs(bytes, cuts);
        const core = throughCore(bytes, cuts);
        expect(core.messages).toEqual(ws.messages);
        expect(core.close).toBe(ws.close);
        expect(core.pings).toEqual(ws.pings);
      }),
      { numRuns: 1500 },
    );
  }, 120_000);
});
