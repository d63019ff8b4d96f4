// Bundles src/cli/main.ts into one file, dist/wufix.js, run as `node dist/wufix.js`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, chmodSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let commit = process.env.WUFIX_COMMIT || 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
} catch {
  /* not a git checkout */
}
const date = (process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date()).toISOString();

await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: 'dist/wufix.js',
  banner: { js: '#!/usr/bin/env node' },
  define: {
    __WUFIX_VERSION__: JSON.stringify(pkg.version),
    __WUFIX_COMMIT__: JSON.stringify(commit),
    __WUFIX_BUILD_DATE__: JSON.stringify(date),
  },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync('dist/wufix.js', 0o755);
