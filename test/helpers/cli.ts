// Runs the built CLI (dist/wufix.js) as a user would: `node dist/wufix.js ...`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './env.js';
import { testStateDir } from './state-dir.js';

/** WUFIX_CLI: another build of the CLI to run (e.g. one bundled apart from a shared dist/). */
export const CLI = process.env.WUFIX_CLI || path.join(PROJECT_ROOT, 'dist', 'wufix.js');

export function runCli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (make test does)`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    input: opts.input,
    // The file's own state directory (journal key, ledger) unless the test passes another.
    env: { ...process.env, WUFIX_STATE_DIR: testStateDir(), ...opts.env },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
