// Issue #14 attack suite: ProfileList in the SOFTWARE hive is attacker-controlled. Tricks in
// ProfileImagePath (`..` climbing out of the volume to the decoy profile, an absolute host path, UNC,
// another drive, an embedded NUL, 40,000 characters) must all be "not found": the decoy profile
// (a real hive whose WinTrust State a repair would change) is never read or written. And 16,000
// entries pointing at missing folders: scan time scales linearly (4,000 vs 16,000), memory bounded.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { openHiveFile, saveHiveFile } from '../../src/hive/hivefile.js';
import {
  attackReason,
  makeDecoys,
  startHostCheck,
  runWufix,
  describeRun,
  stateEnv,
  copyTree,
  ATTACK_SPEC,
  type Decoys,
  type HostCheck,
} from '../helpers/attack.js';
import type { ScanReport } from '../../src/model/scan.js';

const reason = attackReason();
if (reason) console.warn(`skipping the ProfileList attacks: ${reason}`);

const PROFILE_LIST = 'Microsoft\\Windows NT\\CurrentVersion\\ProfileList';
const utf16 = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));

async function addProfiles(root: string, entries: [sid: string, value: Uint8Array][]): Promise<void> {
  const h = await openHiveFile(path.join(root, 'Windows', 'System32', 'config', 'SOFTWARE'));
  for (const [sid, v] of entries) h.hive.setValue(h.hive.ensureKey(`${PROFILE_LIST}\\${sid}`), 'ProfileImagePath', 2, v);
  await saveHiveFile(h);
}

describe.skipIf(!!reason)('ProfileList attacks (issue #14)', () => {
  let tmp = '';
  let base = '';
  let decoys: Decoys;
  let host: HostCheck;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-attack-profiles-'));
    base = path.join(tmp, 'base');
    await buildWindowsTree(base, ATTACK_SPEC);
    decoys = await makeDecoys();
    host = startHostCheck();
  }, 120_000);
  afterAll(() => {
    decoys?.cleanup();
    host?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ProfileImagePath tricks (.., absolute, UNC, other drive, NUL, 40,000 chars) are "not found"; the decoy profile is never touched', async () => {
    const root = mkdtempSync(path.join(tmp, 'case-'));
    try {
      copyTree(base, root);
      const decoyWin = decoys.dirs.profile.replace(/\//g, '\\'); // \var\lib\wufix-decoys\...\profile
      const up = '..\\'.repeat(16);
      const tricks: [string, string | Uint8Array][] = [
        ['S-1-5-21-1-1-1-2001', `${up}${decoyWin.slice(1)}`],
        ['S-1-5-21-1-1-1-2002', `C:\\${up}${decoyWin.slice(1)}`],
        ['S-1-5-21-1-1-1-2003', `%SystemDrive%\\${up}${decoyWin.slice(1)}`],
        ['S-1-5-21-1-1-1-2004', decoys.dirs.profile],
        ['S-1-5-21-1-1-1-2005', decoyWin],
        ['S-1-5-21-1-1-1-2006', '\\\\host\\share\\Users\\x'],
        ['S-1-5-21-1-1-1-2007', `\\\\?\\C:\\${up}${decoyWin.slice(1)}`],
        ['S-1-5-21-1-1-1-2008', `\\??\\UNC\\host\\share${decoyWin}`],
        ['S-1-5-21-1-1-1-2009', 'D:\\Users\\x'],
        ['S-1-5-21-1-1-1-2010', new Uint8Array(Buffer.from(`C:\\Users\\Bob\0\\${up}${decoyWin.slice(1)}\0`, 'utf16le'))],
        ['S-1-5-21-1-1-1-2011', `C:\\Users\\${'A'.repeat(40_000)}`],
        ['S-1-5-21-1-1-1-2012', `C:\\Users\\${'..\\'.repeat(13_000)}${decoyWin.slice(1)}`],
      ];
      await addProfiles(
        root,
        tricks.map(([sid, v]) => [sid, typeof v === 'string' ? utf16(v) : v]),
      );
      const env = stateEnv(tmp);
      const before = decoys.snapshot();

      const r = await runWufix(['scan', '--root', root, '--json'], { env, timeoutMs: 60_000, rssLimitMiB: 1024 });
      expect(r.killed, describeRun(r)).toBeUndefined();
      expect([0, 10], describeRun(r)).toContain(r.status);
      const t = (JSON.parse(r.stdout.toString('utf8')) as ScanReport).targets[0]!;
      const trickSids = new Set(tricks.map(([sid]) => sid));
      const found = t.wintrust.filter((w) => w.sid !== undefined && trickSids.has(w.sid) && w.exists);
      expect.soft(found, 'a trick profile was found (its hive resolved outside the volume)').toEqual([]);
      // Only the two real bad hives (.DEFAULT and Alice): the decoy profile (State 0xC9) was not read.
      const wt = t.findings.filter((f) => f.id === 'wintrust-state').map((f) => f.subject);
      expect.soft(wt.length, `wintrust-state findings: ${JSON.stringify(wt)}`).toBe(2);
      expect.soft(decoys.changes(before), 'scan changed a decoy').toEqual([]);

      const text = await runWufix(['scan', '--root', root], { env, timeoutMs: 60_000, rssLimitMiB: 1024 });
      expect.soft(text.killed, describeRun(text)).toBeUndefined();
      expect.soft([0, 10], describeRun(text)).toContain(text.status);

      const rep = await runWufix(['repair', '--root', root, '--only', 'wintrust', '--yes'], { env, timeoutMs: 60_000, rssLimitMiB: 1024 });
      expect.soft(rep.killed, describeRun(rep)).toBeUndefined();
      expect.soft(rep.status, describeRun(rep, 'repair --only wintrust (the two real hives): ')).toBe(0);
      expect.soft(decoys.changes(before), `a decoy changed\n${describeRun(rep)}`).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
      decoys.reset();
    }
  }, 300_000);

  // How long and how much memory this takes is measured in bench/profiles.mjs (0 / 4,000 / 16,000
  // entries, the growth printed beside hivexml's); here only that it ends and reads what it should.
  it('16,000 ProfileList entries to missing folders (beside 16,000 other folders in Users): the scan ends and lists each once as a hive that is not there', async () => {
    const root = mkdtempSync(path.join(tmp, 'many-'));
    try {
      copyTree(base, root);
      const n = 16_000;
      // As many other folders in Users as entries (old profiles without their registry entry).
      for (let i = 0; i < n; i++) mkdirSync(path.join(root, 'Users', `Old-Profile-${i}`));
      const entries: [string, Uint8Array][] = [];
      for (let i = 0; i < n; i++) entries.push([`S-1-5-21-1111111111-2222222222-3333333333-${10000 + i}`, utf16(`C:\\Users\\missing-user-${i}`)]);
      await addProfiles(root, entries);
      // The limits are a guard against a hang or a runaway, not a measurement.
      const r = await runWufix(['scan', '--root', root, '--json'], { env: stateEnv(tmp), timeoutMs: 300_000, rssLimitMiB: 2048 });
      expect(r.killed, describeRun(r)).toBeUndefined();
      expect([0, 10], describeRun(r)).toContain(r.status);
      const t = (JSON.parse(r.stdout.toString()) as { targets: { wintrust: { sid?: string; hive: string; exists: boolean }[] }[] }).targets[0]!;
      const missing = t.wintrust.filter((w) => w.sid?.startsWith('S-1-5-21-1111111111-2222222222-3333333333-'));
      // Every entry listed once, each as a hive that is not there (no Old-Profile-* folder taken for one).
      expect(missing).toHaveLength(n);
      expect(missing.every((w) => !w.exists && /^Users\\missing-user-\d+\\NTUSER\.DAT$/.test(w.hive))).toBe(true);
      expect(new Set(missing.map((w) => w.sid)).size).toBe(n);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 600_000);

  it('no host file outside the targets changed (find / -xdev -newer)', () => {
    expect(host.report([tmp, decoys.dir])).toBeUndefined();
  });
});
