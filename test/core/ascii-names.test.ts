// The core names the bytes it parses (util/ascii.ts: SLASH, DIGIT_0, ...) instead of comparing them with
// raw numbers. The rule this test keeps: no decimal literal from 32 to 126 (the printable ASCII range) may
// stand beside a byte in a comparison (==, !=, <, <=, >, >=) or be subtracted from or or-ed into one. A
// byte is load<u8>(...), asciiAt(...), a variable initialised from one of them, or a parameter b or c
// of type u8 or u32 (the core's names for a byte passed in); lengths, counts and
// sizes are not bytes and are left alone. Generated files (*.generated.ts) are checked by their
// generators' tests; util/sha256.ts and util/md.ts hold no text.
import { describe, it, expect } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const ASSEMBLY = join(ROOT, "assembly");
const SKIP = /\.generated\.ts$|util\/(sha256|md)\.ts$/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") && !SKIP.test(relative(ASSEMBLY, p)) ? [p] : [];
  });
}

/** The code of a line without its comment and string literals (replaced by ""). */
function code(line: string): string {
  return line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""').replace(/\/\/.*$/, "");
}

const BYTE_CALL = /^(?:<\w+>)?(?:load<u8>|asciiAt)\(/;

/** The operand that ends just before `at` (an identifier, or a call or parenthesis with its callee). */
function operandBefore(s: string, at: number): string {
  let i = at;
  while (i > 0 && s[i - 1] === " ") i--;
  const end = i;
  if (s[i - 1] === ")") {
    let depth = 0;
    do {
      i--;
      if (s[i] === ")") depth++;
      else if (s[i] === "(") depth--;
    } while (i > 0 && depth > 0);
  }
  while (i > 0 && /[\w<>.]/.test(s[i - 1]) && !(s[i - 1] === "<" && s[i - 2] === " ") && !(s[i - 1] === ">" && s[i - 2] === " ")) i--;
  return s.slice(i, end);
}

/** Raw ASCII numbers beside bytes in one file: "file:line: text". */
function rawAsciiBytes(file: string): string[] {
  const lines = readFileSync(file, "utf8").split("\n").map(code);
  const byteVars = new Set<string>();
  for (const l of lines) for (const m of l.matchAll(/\b(?:let|const)\s+(\w+)(?:\s*:\s*\w+)?\s*=\s*(?:<\w+>)?(?:load<u8>|asciiAt)\(/g)) byteVars.add(m[1]);
  // and a function's parameter b or c of type u8 or u32: the core's names for a byte passed in
  for (const l of lines) if (/\bfunction\b/.test(l)) for (const m of l.matchAll(/[(,]\s*(b|c)\s*:\s*u(?:8|32)\b/g)) byteVars.add(m[1]);
  const isByte = (operand: string) => {
    const bare = operand.replace(/^\((.*)\)$/, "$1").trim();
    if (BYTE_CALL.test(bare)) return true;
    const first = bare.split(/\s+/)[0];
    return byteVars.has(first) || BYTE_CALL.test(first);
  };
  const found: string[] = [];
  lines.forEach((l, i) => {
    for (const m of l.matchAll(/(==|!=|<=|>=|<|>|-|\|)\s*(\d+)\b/g)) {
      const n = Number(m[2]);
      if (n < 32 || n > 126 || /[\w.]/.test(l[m.index! + m[0].length] ?? "")) continue;
      if (m[1] === "<" || m[1] === ">") {
        if (/[\w]/.test(l[m.index! - 1] ?? "") && /^<\w*$/.test(l.slice(m.index!).split(/[\s(]/)[0])) continue; // a type argument
      }
      if (isByte(operandBefore(l, m.index!))) found.push(`${relative(ROOT, file)}:${i + 1}: ${l.trim()}`);
    }
  });
  return found;
}

describe("named bytes in the core", () => {
  it("compares no byte with a raw ASCII number (util/ascii.ts names them)", () => {
    const found = sources(ASSEMBLY).flatMap(rawAsciiBytes);
    expect(found, `raw ASCII numbers beside bytes; name them in util/ascii.ts:\n${found.join("\n")}`).toEqual([]);
  });

  it("finds such a comparison when one is there (the check itself works)", () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-ascii-"));
    const f = join(dir, "x.ts");
    writeFileSync(f, ["let c = load<u8>(p);", "if (c == 47) x();", "if (load<u8>(p + i) != 58) y();", "if (n > 32) z(); // a length", 'if (c == SLASH) w("==47");'].join("\n"));
    expect(rawAsciiBytes(f).map((l) => l.replace(/^.*x\.ts:/, ""))).toEqual(["2: if (c == 47) x();", "3: if (load<u8>(p + i) != 58) y();"]);
  });
});
