// Functions in src/ longer than 100 lines without a one-line reason beside them (issue #15): a
// `// long: <reason>` comment on the function's first line or in the three lines above it (above
// the declaration that holds it, for an arrow or function expression). Tests are not counted.
// Usage: node scripts/long-functions.mjs [--all] [--max N]   (--all lists the reasoned ones too)
// Exits 1 when any function lacks a reason.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const maxArg = process.argv.indexOf('--max');
const MAX = maxArg > 0 ? Number(process.argv[maxArg + 1]) : 100;
const ALL = process.argv.includes('--all');
const REASON = /\/\/ long: \S/;

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) return p.name.text;
  return '(anonymous)';
}

/** The node whose first line carries the reason: the declaration around an arrow or expression. */
function anchor(node) {
  let n = node;
  while (
    n.parent &&
    (ts.isVariableDeclaration(n.parent) || ts.isVariableDeclarationList(n.parent) || ts.isVariableStatement(n.parent) || ts.isPropertyAssignment(n.parent))
  )
    n = n.parent;
  return n;
}

const found = [];
for (const file of sources(path.join(ROOT, 'src'))) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const n = end - start + 1;
      if (n > MAX) {
        const from = sf.getLineAndCharacterOfPosition(anchor(node).getStart(sf)).line;
        const near = lines.slice(Math.max(0, from - 3), start + 1).join('\n');
        found.push({ where: `${path.relative(ROOT, file)}:${start + 1}`, name: nameOf(node), n, reason: REASON.test(near) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
const missing = found.filter((f) => !f.reason);
for (const f of ALL ? found : missing) console.log(`${String(f.n).padStart(5)} lines  ${f.where}  ${f.name}${f.reason ? '  (long: reasoned)' : ''}`);
console.log(`functions over ${MAX} lines in src/: ${found.length}, without a \`// long:\` reason: ${missing.length}`);
process.exit(missing.length ? 1 : 0);
