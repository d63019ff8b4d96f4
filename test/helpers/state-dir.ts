// Every test that runs wufix (the built CLI or the engine in-process) uses its own state directory
// (the journal key and the ledger of runs, src/engine/keyring.ts), never the host's ~/.local/state:
// one temp directory per test file, set in WUFIX_STATE_DIR (inherited by every spawned wufix), so a
// repair and a later undo in the same file share it. Loaded by vitest.config.mts (setupFiles) and
// imported by the harnesses (cli.ts, repair-harness.ts); removed after the file's tests.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

let dir: string | undefined;

export function testStateDir(): string {
  // Already made for this file (the setup file and a harness may be loaded as separate instances).
  if (!dir && process.env.WUFIX_TEST_STATE_PID === String(process.pid) && process.env.WUFIX_STATE_DIR) dir = process.env.WUFIX_STATE_DIR;
  if (!dir) {
    process.env.WUFIX_TEST_STATE_PID = String(process.pid);
    const d = mkdtempSync(path.join(os.tmpdir(), 'wufix-state-'));
    dir = d;
    process.env.WUFIX_STATE_DIR = d;
    const clean = () => rmSync(d, { recursive: true, force: true });
    process.on('exit', clean);
    afterAll(() => {
      clean();
      if (process.env.WUFIX_STATE_DIR === d) delete process.env.WUFIX_TEST_STATE_PID;
    });
  }
  return dir;
}

testStateDir();
