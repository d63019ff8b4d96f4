// `npm run typecheck:strict`: tsc with noUncheckedIndexedAccess (tsconfig.strict.json), the errors
// counted per folder. Exits 1 while any remain, so it can gate once the count reaches 0.
// Usage: node scripts/typecheck-strict.mjs [--list]   (--list also prints each error line)
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.strict.json', '--noEmit', '--pretty', 'false'], { encoding: 'utf8' });
const errors = r.stdout.split('\n').filter((l) => / error TS\d+:/.test(l));
const byDir = new Map();
for (const line of errors) {
  const dir = line.split('(')[0].split('/').slice(0, 2).join('/');
  byDir.set(dir, (byDir.get(dir) ?? 0) + 1);
}
if (process.argv.includes('--list')) for (const line of errors) console.log(line);
for (const [dir, n] of [...byDir].sort()) console.log(`${String(n).padStart(5)}  ${dir}`);
console.log(`noUncheckedIndexedAccess: ${errors.length} error${errors.length === 1 ? '' : 's'}`);
if (r.status !== 0 && errors.length === 0) process.stderr.write(r.stdout + r.stderr);
process.exit(r.status === 0 ? 0 : 1);
