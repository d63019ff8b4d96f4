// Runs every benchmark in bench/ (each prints its own comparison and ratio). Each one's output is
// also kept verbatim in bench/logs/<name>.txt under a header (date, commit, Node, kernel), so the
// numbers in RESULTS.md can be checked against what the run printed.
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
// The engine as a library for generators (bench/out is ignored by git).
await build({
  entryPoints: [path.join(here, '../src/hive/hive.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: path.join(here, 'out/hive-lib.cjs'),
  logLevel: 'warning',
});
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
const logs = path.join(here, 'logs');
mkdirSync(logs, { recursive: true });
const git = (args) => {
  try {
    return execFileSync('git', args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};
const commit = `${git(['rev-parse', '--short', 'HEAD']) || 'unknown'}${git(['status', '--porcelain', '--', '../src', '.', ':(exclude)logs']) ? ' (with uncommitted changes)' : ''}`;
let failed = 0;
for (const f of readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && !['run.mjs', 'lib.mjs'].includes(f))
  .sort()) {
  if (only.length && !only.some((o) => f.includes(o))) continue;
  console.log(`\n== ${f}`);
  const header = `# bench/${f}, ${new Date().toISOString()}, commit ${commit}, Node ${process.version}, ${os.type()} ${os.release()}, ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB\n`;
  let out = '';
  const status = await new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(here, f)], { stdio: ['inherit', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      out += d;
    });
    child.on('close', resolve);
  });
  writeFileSync(path.join(logs, f.replace(/\.mjs$/, '.txt')), header + out + (status === 0 ? '' : `# exit ${status}\n`));
  if (status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
