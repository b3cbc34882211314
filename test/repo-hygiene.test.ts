// The repository holds only this project's code and docs: no path of one particular machine, and nothing
// that points at files a user does not have (the developers' shared folder and its notes). `.ci/run` alone
// may look for the deps bundle beside the clone.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../tools/abi/generate.ts";

const ALLOWED = new Set([".ci/run", "test/repo-hygiene.test.ts"]);
const FORBIDDEN: [RegExp, string][] = [
  [/(^|[\s"'`(=:])\/work\//, "a path of one machine (/work/...)"],
  [/\.\.\/shared\b/, "the developers' shared folder (../shared)"],
  [/\bFACTS\.md\b/, "a notes file outside the repository (FACTS.md)"],
];

describe("the repository names nothing outside itself", () => {
  it("no tracked text file names a machine path, ../shared or FACTS.md", () => {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const file of files) {
      if (ALLOWED.has(file) || /\.(png|jpg|wasm|uf2|bin|gz)$/.test(file) || file === "package-lock.json") continue;
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), "utf8");
      } catch {
        continue; // deleted in the working tree
      }
      text.split("\n").forEach((line, i) => {
        for (const [re, what] of FORBIDDEN) if (re.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(found, found.join("\n")).toEqual([]);
  });
});
