// The repository holds only this project's code and docs: no absolute path of one particular machine, and
// no relative path that climbs out of the repository to files a user does not have. `.ci/run` alone may
// look beside the clone (for the deps bundle CI provides); the checkers' own tests hold such paths as fixtures.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";

const ALLOWED = new Set([".ci/run", "test/core/repo-hygiene.test.ts", "test/core/docs-links.test.ts"]);
const MACHINE_PATH = /(^|[\s"'`(=:])\/work\//;
/** `../`s followed by a name: resolved against the file's folder and against the root (commands run there). */
const CLIMB = /(?:^|[^\w.$}/])((?:\.\.\/)+)([\w][\w.-]*)/g;

/** The places in `text` (of `file`, relative to `root`) that name something outside `root`. */
export function outsideReferences(file: string, text: string, root = ROOT): string[] {
  const found: string[] = [];
  const inside = (from: string, path: string) => !relative(root, resolve(from, path)).startsWith("..");
  text.split("\n").forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (MACHINE_PATH.test(line)) found.push(`${where}: a path of one machine: ${line.trim().slice(0, 120)}`);
    for (const m of line.matchAll(CLIMB)) {
      const path = m[1] + m[2];
      if (!inside(dirname(join(root, file)), path) && !inside(root, path))
        found.push(`${where}: ${path} climbs out of the repository: ${line.trim().slice(0, 120)}`);
    }
  });
  return found;
}

describe("the repository names nothing outside itself", () => {
  it("no tracked text file names a machine path or a file beside the repository", () => {
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
      found.push(...outsideReferences(file, text));
    }
    expect(found, found.join("\n")).toEqual([]);
  });

  it("finds a machine path and a climb out of the repository, not a path that stays inside", () => {
    const root = "/repo";
    expect(outsideReferences("README.md", "see ../notes.md and `../deps/x.tar.xz`", root)).toHaveLength(2);
    expect(outsideReferences("docs/A.md", "cd /work/x && ls", root)).toHaveLength(1);
    expect(outsideReferences("docs/A.md", "[B](../native/README.md) and ../README.md", root)).toEqual([]);
    expect(outsideReferences("native/examples/minimal/CMakeLists.txt", '"${DIR}/../../.." and ../../../tools/x.ts', root)).toEqual([]);
  });
});
