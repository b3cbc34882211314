// asc transform: string literals given where the core expects `Ascii` (a usize pointing at a length
// byte followed by ASCII bytes, see assembly/util/ascii.ts) are compiled to that form with
// memory.data<u8>([...]). AssemblyScript would store each as UTF-16 behind a 20-byte header: for a
// core whose wasm bytes cost ~3 bytes of board RAM each under wasm3, this halves what text costs.
// Where: arguments of functions whose parameter is typed Ascii, return values of functions returning
// Ascii, and initialisers of variables typed Ascii or StaticArray<Ascii>. Anything else is untouched.
// Each distinct text is stored once however many literals spell it (texts are never written to).
import { posix } from "node:path";
import { Transform } from "assemblyscript/transform";
import { Node, NodeKind, LiteralKind, SourceKind } from "assemblyscript";

const isAscii = (t) => t && t.kind === NodeKind.NamedType && t.name?.identifier?.text === "Ascii";
const isAsciiArray = (t) =>
  t && t.kind === NodeKind.NamedType && t.name?.identifier?.text === "StaticArray" && isAscii(t.typeArguments?.[0]);

function walk(node, visit, seen = new Set()) {
  if (!node || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  if (typeof node.kind === "number" && node.range) visit(node);
  for (const key of Object.keys(node)) {
    if (key === "range" || key === "parent") continue;
    const v = node[key];
    if (Array.isArray(v)) v.forEach((x) => walk(x, visit, seen));
    else if (v && typeof v === "object") walk(v, visit, seen);
  }
}

// Each distinct text is stored once: every literal with the same characters becomes a reference to one
// @global constant, declared in a source of its own that the transform adds after rewriting. The entry
// file imports that source first, so the texts take the lowest static addresses, ahead of every buffer:
// an address below 8192 is a 2-byte i32.const in the code instead of 3, and the code names texts often.
const texts = new Map(); // text -> name of its constant

function compact(lit) {
  const text = lit.value;
  if (text.length > 255 || /[^\x00-\x7f]/.test(text)) {
    throw new Error(`ascii-literals: ${JSON.stringify(text)} at ${lit.range.source.normalizedPath} must be ASCII and at most 255 characters`);
  }
  if (!texts.has(text)) texts.set(text, `__ascii_${texts.size}`);
  return Node.createIdentifierExpression(texts.get(text), lit.range);
}

/** One @global constant per distinct text: a length byte and the characters, alignment 1 (the default
 *  16 would pad every literal). */
function declarations() {
  let code = "";
  for (const [text, name] of texts) {
    const bytes = [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
    code += `// @ts-ignore: decorator\n@global const ${name}: usize = memory.data<u8>([${bytes.join(",")}], 1);\n`;
  }
  return code;
}

/** The expression with every string literal it may evaluate to (through ?: and parentheses) compacted. */
function rewrite(e) {
  if (!e) return e;
  if (e.kind === NodeKind.Literal && e.literalKind === LiteralKind.String) return compact(e);
  if (e.kind === NodeKind.Ternary) {
    e.ifThen = rewrite(e.ifThen);
    e.ifElse = rewrite(e.ifElse);
  } else if (e.kind === NodeKind.Parenthesized) e.expression = rewrite(e.expression);
  return e;
}

export default class AsciiLiterals extends Transform {
  afterParse(parser) {
    texts.clear();
    const sources = parser.sources.filter((s) => s.normalizedPath.startsWith("assembly/"));
    const params = new Map(); // function name -> indices of Ascii parameters
    const returning = new Set();
    for (const src of sources) {
      walk(src, (n) => {
        if (n.kind !== NodeKind.FunctionDeclaration && n.kind !== NodeKind.MethodDeclaration) return;
        const sig = n.signature;
        const name = n.name.text;
        sig.parameters.forEach((p, i) => {
          if (!isAscii(p.type)) return;
          if (!params.has(name)) params.set(name, new Set());
          params.get(name).add(i);
        });
        if (isAscii(sig.returnType)) returning.add(n);
      });
    }
    for (const src of sources) {
      walk(src, (n) => {
        if (n.kind === NodeKind.Call) {
          const callee = n.expression;
          const name = callee.kind === NodeKind.Identifier ? callee.text : callee.kind === NodeKind.PropertyAccess ? callee.property.text : null;
          const idx = name && params.get(name);
          if (idx) n.args = n.args.map((a, i) => (idx.has(i) ? rewrite(a) : a));
        } else if (n.kind === NodeKind.VariableDeclaration) {
          if (isAscii(n.type)) n.initializer = rewrite(n.initializer);
          else if (isAsciiArray(n.type) && n.initializer?.kind === NodeKind.Literal && n.initializer.literalKind === LiteralKind.Array) {
            n.initializer.elementExpressions = n.initializer.elementExpressions.map(rewrite);
          }
        }
      });
    }
    for (const fn of returning) {
      walk(fn.body, (n) => {
        if (n.kind === NodeKind.Return) n.value = rewrite(n.value);
      });
    }
    // the entry imports the texts before anything else: their segments come first (see `texts`)
    const GENERATED = "assembly/__ascii_literals.generated";
    for (const src of sources) {
      if (src.sourceKind !== SourceKind.UserEntry) continue;
      const at = src.range.atStart;
      const rel = "./" + posix.relative(posix.dirname(src.normalizedPath), GENERATED);
      src.statements.unshift(Node.createImportStatement(null, Node.createStringLiteralExpression(rel, at), at));
    }
    parser.parseFile(declarations(), GENERATED + ".ts", false);
  }
}
