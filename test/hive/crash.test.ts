// Crash safety: a save killed at any moment leaves either the old hive (with its logs) or the new
// one, and both are readable. Deterministic kill points (WUFIX_TEST_CRASH_AT) plus random SIGKILLs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { openHiveFile } from '../../src/hive/hivefile.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { CLI } from '../helpers/cli.js';
import { hivexsh } from '../helpers/hive-tools.js';

const reason = skipReason(sharedReason(), toolsReason('hivexsh'));
const FILES = ['SYSTEM_B', 'SYSTEM_B.LOG1', 'SYSTEM_B.LOG2'];
const KEY = 'Wufix\\Crash';
let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-crash-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function setup(name: string): { dir: string; orig: Record<string, string> } {
  const dir = path.join(tmp, name);
  mkdirSync(dir);
  const orig: Record<string, string> = {};
  for (const f of FILES) {
    copyFileSync(hiveFixture(`regipy/${f}`), path.join(dir, f));
    orig[f] = sha(path.join(dir, f));
  }
  return { dir, orig };
}

function runSet(dir: string, env: NodeJS.ProcessEnv, killAfterMs?: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'hive', 'set', path.join(dir, 'SYSTEM_B'), KEY, 'State', '--type', 'REG_DWORD', '--data', '0x23c00'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    let timer: NodeJS.Timeout | undefined;
    if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve(code);
    });
  });
}

/** The state on disk is exactly the old one or a complete new one; returns which. */
async function checkState(dir: string, orig: Record<string, string>): Promise<'old' | 'new'> {
  const primary = path.join(dir, 'SYSTEM_B');
  const h = await openHiveFile(primary);
  h.hive.verify();
  const nk = h.hive.lookup(KEY);
  const r = hivexsh(primary, 'cd \\\n');
  expect(r.status, r.stderr).toBe(0);
  if (sha(primary) === orig['SYSTEM_B']) {
    // Old primary: its logs must be intact so the unflushed data is still recoverable.
    for (const f of FILES) expect(sha(path.join(dir, f)), f).toBe(orig[f]);
    expect(nk).toBeUndefined();
    expect(h.recovery?.applied.length).toBeGreaterThan(0);
    return 'old';
  }
  // New primary: clean, holds the recovered data plus the new value; logs are ignored.
  expect(h.dirty).toBe(false);
  expect(nk).toBeDefined();
  const vk = h.hive.findValue(nk!, 'State')!;
  expect(Buffer.from(h.hive.valueData(vk)).toString('hex')).toBe('003c0200');
  expect(h.hive.stats().keys).toBe(35_595 + 2);
  return 'new';
}

describe.skipIf(!!reason)('a save killed at any moment leaves the old or the new hive', () => {
  const points: [string, 'old' | 'new'][] = [
    ['mid-write', 'old'],
    ['before-fsync', 'old'],
    ['before-rename', 'old'],
    ['after-rename', 'new'],
    ['after-truncate-SYSTEM_B.LOG1', 'new'],
  ];
  for (const [point, expected] of points) {
    it(`killed at ${point}: ${expected} state`, async () => {
      const { dir, orig } = setup(`p-${point}`);
      const code = await runSet(dir, { WUFIX_TEST_CRASH_AT: point });
      expect(code).toBeNull(); // killed by the signal
      expect(await checkState(dir, orig)).toBe(expected);
      // A re-run after the kill converges to the new state.
      expect(await runSet(dir, {})).toBe(0);
      expect(await checkState(dir, orig)).toBe('new');
      // Left-over temp files never replace the hive; they are only litter.
      expect(
        readdirSync(dir)
          .filter((f) => !FILES.includes(f))
          .every((f) => f.endsWith('.tmp')),
      ).toBe(true);
    });
  }

  it('random SIGKILLs during 12 saves', async () => {
    const seen = { old: 0, new: 0 };
    for (let i = 0; i < 12; i++) {
      const { dir, orig } = setup(`r-${i}`);
      await runSet(dir, {}, 60 + ((i * 97) % 700));
      seen[await checkState(dir, orig)]++;
    }
    expect(seen.old + seen.new).toBe(12);
  });
});
