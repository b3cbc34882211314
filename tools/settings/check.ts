// The CLI's check of a configuration text, rule for rule and message for message the core's
// (assembly/config.ts with the generated assembly/settings/settings.generated.ts): `picowire config set`,
// `flash --set` and `node --set` refuse a bad line here, with its number, key and allowed range, without
// running the core. The core's parser still has the last word (it also checks that the slots fit memory).
// The table comes from assembly/settings/spec.json (tools/settings/settings.generated.ts); only the custom
// kinds are spelled out twice, here and in the core, and test/core/settings-spec.test.ts holds the two together.
import { SETTINGS } from "./settings.generated.ts";
import { NAME_ERROR, NUMBER_ERROR, TRIPLE_ERROR, enumError } from "./messages.ts";

export interface SettingRule {
  name: string;
  kind: "int" | "bool" | "enum" | "flags" | "text" | "name" | "ip" | "triple" | "custom";
  min?: number;
  max?: number;
  names?: string[];
  minLength?: number;
  maxLength?: number;
  allowOff?: boolean;
  maxCount?: number;
  error?: string;
  secret?: boolean;
  virtualDefault?: number;
}

/** The core's log line cap (assembly/util/log.ts LOG_CAP). */
const LOG_CAP = 200;
const BY_NAME = new Map(SETTINGS.map((s) => [s.name, s]));

/** Each byte of the UTF-8 text as one character, so lengths count bytes as the core does. */
const bytes = (text: string) => Buffer.from(text, "utf8").toString("latin1");

/** As the core's putBytes: printable ASCII but the backslash as is, anything else as \xhh. */
function shown(value: string): string {
  let out = "";
  for (const ch of value) {
    const b = ch.charCodeAt(0);
    out += b >= 32 && b < 127 && b !== 92 ? ch : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** 1..maxDigits decimal digits as a number, else -1 (the core's parseDecimal). */
function decimal(s: string, maxDigits: number): number {
  return s.length >= 1 && s.length <= maxDigits && /^[0-9]+$/.test(s) ? Number(s) : -1;
}

/** Exactly count fields separated by sep, each 1..maxDigits digits and at most max (splitFields). */
function fields(s: string, sep: string, count: number, maxDigits: number, max: number): number[] | null {
  const parts = s.split(sep);
  if (parts.length !== count) return null;
  const values = parts.map((p) => decimal(p, maxDigits));
  return values.every((v) => v >= 0 && v <= max) ? values : null;
}

/** An IPv4 address other than 0.0.0.0 (the core's parseIp > 0). */
function ip(s: string): boolean {
  const f = fields(s, ".", 4, 3, 255);
  return f !== null && f.some((v) => v > 0);
}

/** IPv4[:port], the port defaulting to defaultPort (0: required); the address's length, or -1. */
function ipPort(s: string, defaultPort: number): number {
  const colon = s.indexOf(":");
  const host = colon < 0 ? s : s.slice(0, colon);
  const port = colon < 0 ? defaultPort : decimal(s.slice(colon + 1), 5);
  return ip(host) && port >= 1 && port <= 65535 ? host.length : -1;
}

/** A colour as "r,g,b" or "#rrggbb", one trailing line end allowed (the RGB codec's parseEither). */
function colour(s: string): boolean {
  let body = s;
  if (body.endsWith("\n")) body = body.slice(0, -1);
  if (body.endsWith("\r")) body = body.slice(0, -1);
  if (body === "" || /[\r\n]/.test(body)) return false;
  if (body.startsWith("#")) return /^#[0-9a-fA-F]{6}$/.test(body);
  const f = body.split(",");
  return f.length === 3 && f.every((x) => /^[0-9]{1,3}$/.test(x) && Number(x) <= 255);
}

const isName = (s: string, cap: number) => s.length >= 1 && s.length <= cap && /^[A-Za-z0-9_-]+$/.test(s);

function custom(rule: SettingRule, v: string): string {
  switch (rule.name) {
    case "rgb":
      return colour(v) ? "" : rule.error!;
    case "rgb_server":
      return ipPort(v, 0) >= 0 ? "" : rule.error!;
    case "ws_url": {
      if (v.length < 6 || !v.startsWith("ws://") || v.length > rule.maxLength!) return rule.error!;
      const slash = v.indexOf("/", 5);
      return ipPort(v.slice(5, slash < 0 ? v.length : slash), 80) >= 0 ? "" : rule.error!;
    }
    case "bus_peers": {
      const items = v.split(",");
      for (let i = 0; i < items.length; i++) {
        if (!ip(items[i])) return rule.error!;
        if (i === rule.maxCount) return `too many bus_peers (at most ${rule.maxCount})`;
      }
      return "";
    }
    case "pixels_order":
      return v.length === 3 && [...v].sort().join("") === "bgr" ? "" : rule.error!;
    case "mqtt": {
      if (v.length < 8 || !v.startsWith("mqtt://")) return rule.error!;
      const rest = v.slice(7);
      if (/[@/]/.test(rest)) return rule.error!;
      const colon = rest.lastIndexOf(":");
      const host = colon < 0 ? rest : rest.slice(0, colon);
      if (host.length === 0 || host.length > rule.maxLength!) return rule.error!; // the host, not the URL
      const port = colon < 0 ? 1883 : decimal(rest.slice(colon + 1), 5);
      if (port < 1 || port > 65535) return "the broker's port must be 1 to 65535";
      return /^[A-Za-z0-9.-]+$/.test(host) ? "" : rule.error!;
    }
  }
  throw new Error(`tools/settings/check.ts: no parser for the custom setting ${rule.name}`);
}

/** What is wrong with value v for rule ("" when nothing), and the allowed range of a number. */
function checkValue(rule: SettingRule, v: string): { why: string; allowed?: [number, number] } {
  switch (rule.kind) {
    case "int":
    case "bool": {
      const n = decimal(v, 10);
      return n >= rule.min! && n <= rule.max! ? { why: "" } : { why: NUMBER_ERROR, allowed: [rule.min!, rule.max!] };
    }
    case "enum":
      return { why: rule.names!.includes(v) ? "" : enumError(rule.names!) };
    case "flags":
      return { why: v.split(",").every((x) => x === "off" || rule.names!.includes(x)) ? "" : rule.error! };
    case "text":
      return { why: v.length >= rule.minLength! && v.length <= rule.maxLength! ? "" : rule.error! };
    case "name":
      return { why: (rule.allowOff && v === "off") || isName(v, 32) ? "" : NAME_ERROR };
    case "ip":
      return { why: ip(v) ? "" : rule.error! };
    case "triple":
      return { why: fields(v, ",", 3, 10, rule.max!) ? "" : TRIPLE_ERROR };
    case "custom":
      return { why: custom(rule, v) };
  }
}

/** The core's refusal of a configuration text, as the lines it logs at LOG_ERROR; [] when it takes it. */
export function checkConfig(text: string): string[] {
  const seen = new Set<string>();
  const lines = bytes(text).split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line === "" || line.startsWith("#")) continue;
    const refuse = (why: string, value: string | null) => {
      const msg = `config line ${i + 1}: ${why}${value === null ? "" : ` ('${shown(value)}')`}`;
      return Buffer.from(msg.slice(0, LOG_CAP), "latin1").toString("utf8");
    };
    const eq = line.indexOf("=");
    if (eq < 0) return [refuse("expected key=value", null)];
    const key = line.slice(0, eq);
    const rule = BY_NAME.get(key);
    if (!rule) return [refuse("unknown key", key)];
    if (seen.has(key)) return [refuse("key given twice", key)];
    seen.add(key);
    const value = line.slice(eq + 1);
    const r = checkValue(rule, value);
    if (r.why) {
      const first = refuse(r.why, rule.secret ? null : value);
      return r.allowed ? [first, `  (allowed: ${r.allowed[0]} to ${r.allowed[1]})`] : [first];
    }
  }
  return [];
}

/** What a virtual board (picowire node) sets where the spec gives it a default of its own. */
export function virtualDefault(name: string): string {
  const v = BY_NAME.get(name)?.virtualDefault;
  if (v === undefined) throw new Error(`assembly/settings/spec.json gives ${name} no virtualDefault`);
  return String(v);
}
