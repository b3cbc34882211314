// The docs point at files that exist: every relative link of every *.md (and its #anchor, into a Markdown
// file) and every repository path a doc cites in backticks. A failure names the doc, the line and the target.
import { describe, it, expect } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkDocs, formatBroken, headingAnchors } from "../../tools/docs/check-links.ts";

const ROOT = join(import.meta.dirname, "..", "..");

describe("docs", () => {
  it("every relative link and every cited repository path in the repository's Markdown resolves", () => {
    const broken = checkDocs(ROOT);
    expect(formatBroken(broken), "broken links or cited paths (doc:line: target)").toBe("");
  });

  it("the checker names the doc, line and target of each broken link, anchor and cited path", () => {
    const root = mkdtempSync(join(tmpdir(), "picowire-docs-"));
    mkdirSync(join(root, "docs"));
    mkdirSync(join(root, "tools"));
    writeFileSync(join(root, "tools", "real.ts"), "");
    writeFileSync(join(root, "docs", "A.md"), "# Title\n\n## The `x` part, here\n");
    writeFileSync(
      join(root, "README.md"),
      [
        "# Front", // 1
        "[ok](docs/A.md) [ok too](docs/A.md#the-x-part-here) [web](https://example.org/nope) [self](#front)", // 2
        "[gone](docs/B.md)", // 3
        "![pic](docs/missing.png) and [bad anchor](docs/A.md#nothing)", // 4
        "Run `tools/real.ts`, not `tools/gone.ts`; `npx tsx tools/also-gone.ts --x` and `not/a/top/level.ts`.", // 5
        "```sh", // 6
        "npx tsx tools/fenced-gone.ts   # [not a link](nowhere.md)", // 7
        "```", // 8
        "[outside](../../etc/passwd)", // 9
      ].join("\n"),
    );
    expect(formatBroken(checkDocs(root)).split("\n")).toEqual([
      "README.md:3: docs/B.md (no such file)",
      "README.md:4: docs/missing.png (no such file)",
      "README.md:4: docs/A.md#nothing (no heading with anchor #nothing)",
      "README.md:9: ../../etc/passwd (points outside the repository)",
      "README.md:5: tools/gone.ts (cited path tools/gone.ts does not exist)",
      "README.md:5: tools/also-gone.ts (cited path tools/also-gone.ts does not exist)",
      "README.md:7: tools/fenced-gone.ts (cited path tools/fenced-gone.ts does not exist)",
    ]);
  });

  it("anchors follow GitHub's rules: lower case, punctuation dropped, repeated headings numbered", () => {
    expect([...headingAnchors("# A B\n## `pw_lwip.c` on a computer\n# A B\n```\n# not a heading\n```\n")]).toEqual([
      "a-b",
      "pw_lwipc-on-a-computer",
      "a-b-1",
    ]);
  });
});
