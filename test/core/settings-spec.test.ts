// The settings come from one spec (assembly/settings/spec.json): every view generated from it is current,
// and the CLI's check (tools/settings/check.ts) and the core's parser (build/picowire.wasm, in-process)
// take and refuse the same values with the same words, bound by bound and on random lines.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { ROOT, staleOutputs } from "../../tools/abi/generate.ts";
import { SETTINGS_OUTPUTS, loadSettings, renderCore, renderDocs, renderTools } from "../../tools/settings/generate.ts";
import { SETTINGS, SECRET_KEYS } from "../../tools/settings/settings.generated.ts";
import { checkConfig } from "../../tools/settings/check.ts";
import { validateConfig } from "../../tools/provision/validate.ts";
import { maskSecrets } from "../../tools/provision/sector.ts";
import { FakeHost, wasmBytes } from "../helpers/core.ts";

/** What the core's parser says of a text: its "config line" refusal lines, [] when it takes the text
 *  (a refusal for memory, after parsing, is not the parser's and is left out). */
function coreSays(text: string): string[] {
  const host = new FakeHost().boot(text);
  return host.logs.filter((l) => /^config line \d+: |^ {2}\(allowed: /.test(l));
}

/** Values to try for a setting: its bounds and just past them, and typical good and bad ones. */
function samples(name: string): string[] {
  const s = SETTINGS.find((x) => x.name === name)!;
  const common = ["", " ", "x", "-1", "1.5", "0x10", "99999999999"];
  switch (s.kind) {
    case "int":
    case "bool":
      return [...common, String(s.min), String(s.max), String(s.min! - 1), String(s.max! + 1), `0${s.min}`, `${s.min} `];
    case "enum":
      return [...common, ...s.names!, `${s.names![0]},${s.names![1]}`, s.names![0].toUpperCase()];
    case "flags":
      return [...common, "off", ...s.names!, s.names!.join(","), `${s.names![0]},off`, `${s.names![0]},`, "wled,nope"];
    case "text":
      return [...common, "a".repeat(s.minLength!), "a".repeat(Math.max(0, s.minLength! - 1)), "a".repeat(s.maxLength!), "a".repeat(s.maxLength! + 1)];
    case "name":
      return [...common, "off", "a".repeat(32), "a".repeat(33), "ok_name-1", "bad name", "bad/level", "é"];
    case "ip":
      return [...common, "192.168.4.16", "0.0.0.0", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.4 "];
    case "triple":
      return [...common, "0,0,0", `${s.max},${s.max},${s.max}`, `${s.max! + 1},0,0`, "1,2", "1,2,3,4", "1,,3", "1,2,3,"];
    case "custom":
      return [
        ...common,
        ...{
          rgb: ["1,2,3", "255,255,255", "256,0,0", "#a0B1c2", "#a0b1c", "#a0b1c2d", "#g0b1c2", "1,2", "1,2,3,4", "001,2,3", "1,2,3\r"],
          rgb_server: ["127.0.0.1:80", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65535", "127.0.0.1:65536", "0.0.0.0:80", ":80", "1.2.3.4:"],
          ws_url: ["ws://127.0.0.1", "ws://127.0.0.1:81/path", "ws://127.0.0.1:0/", "ws://host/", "wss://1.2.3.4/", "ws://1.2.3.4/" + "a".repeat(90), "ws://"],
          bus_peers: ["127.0.0.1", "127.0.0.1,127.0.0.2", Array(8).fill("10.0.0.1").join(","), Array(9).fill("10.0.0.1").join(","), "1.2.3.4,", "0.0.0.0"],
          pixels_order: ["rgb", "grb", "bgr", "rrb", "rg", "rgbb", "RGB"],
          mqtt: ["mqtt://127.0.0.1", "mqtt://broker.local:1884", "mqtt://h:0", "mqtt://h:65536", "mqtt://h:", "mqtt://", "mqtt://u@h", "mqtt://h/x", "mqtt://a_b", "mqtt://" + "a".repeat(65), "mqtt://:1883", "http://h"],
        }[s.name]!,
      ];
  }
}

describe("settings from one spec", () => {
  it("has every generated view current (regenerated in memory and compared with the file)", () => {
    for (const [file, render] of SETTINGS_OUTPUTS) {
      const onDisk = readFileSync(join(ROOT, file), "utf8");
      expect(render(onDisk), `${file} is stale: run npm run gen`).toBe(onDisk);
    }
    expect(staleOutputs()).toEqual([]);
  });

  it("notices a stale view: a changed spec renders other files", () => {
    const spec = loadSettings();
    const docs = readFileSync(join(ROOT, "docs/SETTINGS.md"), "utf8");
    const changed = structuredClone(spec);
    const port = changed.settings.find((s) => s.name === "http_port")!;
    port.max = 65534;
    expect(renderCore(changed)).not.toBe(renderCore(spec));
    expect(renderTools(changed)).not.toBe(renderTools(spec));
    expect(renderDocs(changed, docs)).toContain("| `http_port` | 80 (8080 for virtual boards) | 0–65534 |");
    expect(renderDocs(spec, docs)).toBe(docs);
  });

  it("lists every key the core knows, and none it does not", () => {
    for (const s of SETTINGS) expect(coreSays(`${s.name}=\u0001`).join(" "), s.name).not.toMatch(/unknown key/);
    expect(coreSays("not_a_setting=1")).toEqual(["config line 1: unknown key ('not_a_setting')"]);
    expect(SETTINGS.map((s) => s.name)).toEqual(loadSettings().settings.map((s) => s.name));
  });

  it("the CLI and the core take the same values and refuse the same ones, with the same words, for every setting", () => {
    let refused = 0;
    for (const s of SETTINGS) {
      for (const v of samples(s.name)) {
        const text = `# a comment\n${s.name}=${v}\n`;
        const core = coreSays(text);
        expect(checkConfig(text), `${s.name}=${JSON.stringify(v)}`).toEqual(core);
        if (core.length) refused++;
      }
    }
    expect(refused).toBeGreaterThan(SETTINGS.length * 5); // every setting refuses several of its samples
  });

  it("a number is taken at its bounds and refused just past them with the allowed range", () => {
    for (const s of SETTINGS.filter((x) => x.kind === "int" || x.kind === "bool")) {
      for (const v of [s.min!, s.max!]) expect(coreSays(`${s.name}=${v}`), `${s.name}=${v}`).toEqual([]);
      for (const v of [s.min! - 1, s.max! + 1]) {
        const expected = [`config line 1: expected a whole number ('${v}')`, `  (allowed: ${s.min} to ${s.max})`];
        expect(coreSays(`${s.name}=${v}`), `${s.name}=${v}`).toEqual(expected);
        expect(checkConfig(`${s.name}=${v}`)).toEqual(expected);
      }
    }
  });

  it("agree on random lines: any key, values from the characters settings are made of", () => {
    const chars = fc.constantFrom(..."0123456789,.:/#abcdefgrwsqtp_-=@ \r\u00e9".split(""));
    const value = fc.oneof(fc.string({ unit: chars, maxLength: 24 }), fc.integer({ min: -2, max: 70000 }).map(String));
    const key = fc.oneof(fc.constantFrom(...SETTINGS.map((s) => s.name)), fc.string({ unit: chars, maxLength: 6 }));
    const line = fc.tuple(key, value).map(([k, v]) => `${k}=${v}`);
    const text = fc.array(fc.oneof(line, fc.constant(""), fc.constant("# note"), fc.string({ unit: chars, maxLength: 8 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(text, (lines) => {
        const t = lines.join("\n");
        expect(checkConfig(t)).toEqual(coreSays(t));
      }),
      { numRuns: 400, seed: 20 },
    );
  });

  it("agree on every custom kind (the two parsers spelled twice), on random values shaped like it", () => {
    // numbers around the edges the parsers check, and the pieces each custom kind is made of
    const num = fc.oneof(fc.integer({ min: -1, max: 300 }), fc.integer({ min: 65530, max: 65540 }), fc.constantFrom(0, 1, 255, 256)).map(String);
    const padded = fc.oneof(num, num.map((n) => `0${n}`), fc.constant(""));
    const ip = fc.oneof(fc.tuple(padded, padded, padded, padded).map((p) => p.join(".")), fc.tuple(num, num, num).map((p) => p.join(".")), fc.constant("127.0.0.1"));
    const port = fc.oneof(fc.constant(""), padded.map((p) => `:${p}`));
    const hex = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEFg".split("")), maxLength: 8 });
    const host = fc.oneof(ip, fc.string({ unit: fc.constantFrom(..."abc-_.é/@:".split("")), minLength: 0, maxLength: 70 }));
    const shaped: Record<string, fc.Arbitrary<string>> = {
      rgb: fc.oneof(fc.array(padded, { minLength: 1, maxLength: 4 }).map((p) => p.join(",")), hex.map((h) => `#${h}`)),
      rgb_server: fc.tuple(ip, port).map(([a, b]) => a + b),
      ws_url: fc.tuple(fc.constantFrom("ws://", "wss://", "http://", ""), host, port, fc.string({ maxLength: 100 }).map((s) => (s ? `/${s}` : ""))).map((p) => p.join("")),
      bus_peers: fc.array(ip, { minLength: 1, maxLength: 10 }).map((p) => p.join(",")),
      pixels_order: fc.string({ unit: fc.constantFrom(..."rgbRGBx".split("")), maxLength: 4 }),
      mqtt: fc.tuple(fc.constantFrom("mqtt://", "mqtts://", "http://", ""), host, port).map((p) => p.join("")),
    };
    const kinds = SETTINGS.filter((s) => s.kind === "custom").map((s) => s.name);
    expect(kinds.filter((k) => !shaped[k]), "a custom setting without values shaped for it here").toEqual([]);
    for (const name of kinds) {
      let refused = 0;
      fc.assert(
        fc.property(shaped[name], (v) => {
          const text = `${name}=${v}\n`;
          const core = coreSays(text);
          expect(checkConfig(text), `${name}=${JSON.stringify(v)}`).toEqual(core);
          if (core.length) refused++;
        }),
        { numRuns: 300, seed: 22 },
      );
      expect(refused, `${name}: the values tried should include refused ones`).toBeGreaterThan(0);
      expect(refused, `${name}: and accepted ones`).toBeLessThan(300);
    }
  });

  it("refuses a repeated key and a line without '=' as the core does, never echoing a secret", () => {
    for (const t of ["max_conns=4\nmax_conns=4", "max_conns", "wifi_password=short", "key=short", "mqtt_password=" + "p".repeat(65)]) {
      expect(checkConfig(t), t).toEqual(coreSays(t));
      expect(checkConfig(t).length).toBeGreaterThan(0);
    }
    expect(checkConfig("wifi_password=short").join("")).not.toContain("short");
    expect(validateConfig(wasmBytes, "max_conns=0")).toBe("config line 1: expected a whole number ('0');   (allowed: 1 to 32)");
  });

  it("masks every secret the spec names wherever a configuration is shown", () => {
    expect([...SECRET_KEYS].sort()).toEqual(["key", "mqtt_password", "wifi_password"]);
    const shown = maskSecrets("key=0123456789abcdef\nwifi_password=wifi-secret\nmqtt_password=broker-secret\nmax_conns=4");
    expect(shown).toBe("key=********\nwifi_password=********\nmqtt_password=********\nmax_conns=4");
  });
});
