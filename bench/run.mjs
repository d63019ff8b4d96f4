// Runs every benchmark in bench/ (each prints its own comparison and ratio).
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
// The engine as a library for generators (bench/out is ignored by git).
await build({ entryPoints: [path.join(here, '../src/hive/hive.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: path.join(here, 'out/hive-lib.cjs'), logLevel: 'warning' });
await build({
  entryPoints: [path.join(here, 'winre-image.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  outfile: path.join(here, 'out/winre-image.mjs'),
  logLevel: 'warning',
});
const only = process.argv.slice(2);
let failed = 0;
for (const f of readdirSync(here).filter((f) => f.endsWith('.mjs') && !['run.mjs', 'lib.mjs'].includes(f)).sort()) {
  if (only.length && !only.some((o) => f.includes(o))) continue;
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, [path.join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
