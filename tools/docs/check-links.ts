// Checks the repository's Markdown: every relative link resolves to a file (and, for a link into a
// Markdown file with #anchor, to one of its headings), and every repository path a doc cites in
// backticks exists. Used by test/core/docs-links.test.ts; `npx tsx tools/docs/check-links.ts` prints the
// same list.
import { readdirSync, readFileSync, existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { spawnSync } from "node:child_process";

/** Folders that hold generated, installed or local files, never docs of the project. */
const SKIPPED_DIRS = new Set(["node_modules", "build", ".deps", ".git", "test-artifacts", ".scratch"]);

export interface Broken {
  doc: string; // relative to the root, with '/'
  line: number;
  target: string;
  why: string;
}

export function markdownFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.name.endsWith(".md")) {
        out.push(join(dir, entry.name));
      }
    }
  };
  walk(root);
  return out.sort();
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to '-', repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!m) continue;
    const base = m[1]
      .replace(/`/g, "")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Line {
  line: number;
  text: string;
  fenced: boolean;
}

/** Every line with its number, and whether it sits inside a fenced code block. */
function allLines(markdown: string): Line[] {
  const out: Line[] = [];
  let fence: string | null = null;
  markdown.split("\n").forEach((text, i) => {
    const m = /^\s*(```|~~~)/.exec(text);
    if (m) {
      if (fence === null) fence = m[1];
      else if (m[1] === fence) fence = null;
      out.push({ line: i + 1, text, fenced: true });
      return;
    }
    out.push({ line: i + 1, text, fenced: fence !== null });
  });
  return out;
}

function proseLines(markdown: string): Line[] {
  return allLines(markdown).filter((l) => !l.fenced);
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i; // http:, https:, mailto:, ws:, ...

/** Links written [text](target), ![alt](target) or as a reference definition [id]: target. */
function linkTargets(text: string): string[] {
  const outsideCode = text.replace(/`[^`]*`/g, "");
  const targets: string[] = [];
  for (const m of outsideCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]);
  const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/.exec(outsideCode);
  if (ref) targets.push(ref[1]);
  return targets;
}

/** Words of code (inline spans, and lines of fenced blocks) that look like a file path. */
function codePaths(line: Line): string[] {
  const spans = line.fenced ? [line.text] : [...line.text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const out: string[] = [];
  for (const span of spans) {
    for (let word of span.split(/[\s,;()[\]"'=]+/)) {
      word = word.replace(/[.:]+$/, "").replace(/:\d+$/, "");
      if (/^\.?[\w-]+(\/[\w.-]+)+\/?$/.test(word) && !word.startsWith("./")) out.push(word);
    }
  }
  return out;
}

function ignoredByGit(root: string, paths: string[]): Set<string> {
  if (paths.length === 0) return new Set();
  const r = spawnSync("git", ["check-ignore", "--no-index", "--stdin"], { cwd: root, input: paths.join("\n"), encoding: "utf8" });
  if (r.error || (r.status !== 0 && r.status !== 1)) return new Set(); // no git: nothing is taken as ignored
  return new Set(r.stdout.split("\n").filter(Boolean));
}

export function checkDocs(root: string): Broken[] {
  root = resolve(root);
  const broken: Broken[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let a = anchorsOf.get(file);
    if (!a) anchorsOf.set(file, (a = headingAnchors(readFileSync(file, "utf8"))));
    return a;
  };
  const topLevel = new Set(readdirSync(root).filter((n) => !SKIPPED_DIRS.has(n)));
  const pathCandidates: { doc: string; line: number; target: string; files: string[] }[] = [];

  for (const file of markdownFiles(root)) {
    const doc = relative(root, file).split(sep).join("/");
    const dir = dirname(file);
    for (const line of allLines(readFileSync(file, "utf8"))) {
      if (!line.fenced) {
        for (const target of linkTargets(line.text)) {
          if (EXTERNAL.test(target)) continue;
          const [pathPart, anchor] = target.split("#", 2);
          const dest = pathPart === "" ? file : resolve(dir, decodeURIComponent(pathPart));
          if (!dest.startsWith(root)) {
            broken.push({ doc, line: line.line, target, why: "points outside the repository" });
          } else if (!existsSync(dest)) {
            broken.push({ doc, line: line.line, target, why: "no such file" });
          } else if (anchor !== undefined && dest.endsWith(".md") && statSync(dest).isFile() && !anchors(dest).has(anchor)) {
            broken.push({ doc, line: line.line, target, why: `no heading with anchor #${anchor}` });
          }
        }
      }
      for (const path of codePaths(line)) {
        const first = path.split("/")[0];
        // A path is the doc's own folder's (native/README.md cites host/...) or the repository's (its first
        // part a top-level entry); a word whose first part is neither is not taken for a path.
        const bases = [dir !== root && existsSync(join(dir, first)) ? dir : null, topLevel.has(first) ? root : null];
        const files = bases.filter((b): b is string => b !== null).map((b) => relative(root, join(b, path)));
        if (files.length === 0) continue;
        pathCandidates.push({ doc, line: line.line, target: path, files });
      }
    }
  }
  const missing = pathCandidates.filter((c) => !c.files.some((f) => existsSync(join(root, f))));
  const ignored = ignoredByGit(root, missing.flatMap((c) => c.files));
  for (const c of missing) {
    if (c.files.some((f) => ignored.has(f))) continue; // a local file the docs tell you to create (secrets.cmake)
    broken.push({ doc: c.doc, line: c.line, target: c.target, why: `cited path ${c.files.join(" or ")} does not exist` });
  }
  return broken;
}

export function formatBroken(list: Broken[]): string {
  return list.map((b) => `${b.doc}:${b.line}: ${b.target} (${b.why})`).join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const list = checkDocs(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), "..", ".."));
  console.log(list.length === 0 ? "docs: every link and cited path resolves" : formatBroken(list));
  process.exit(list.length === 0 ? 0 : 1);
}
