// Issue #17 item 13: a SYSTEM or SOFTWARE hive that cannot be read (empty, garbage, a folder or a
// FIFO in its place) is the first finding, an ERROR saying this Windows will not boot, with the way
// back (RegBack checked for a non-empty copy, the .LOG1/.LOG2, restore points, Windows.old); the
// scan still reports what else it can and exits 10, never 2 or a crash, and never hangs on a FIFO.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, truncateSync, copyFileSync, statSync, unlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import * as S from './scenarios.js';
import type { ScanReport, ScanResult } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const CFG = ['Windows', 'System32', 'config'];

describe.skipIf(!!reason)('scan of a Windows whose SYSTEM or SOFTWARE hive is unreadable', () => {
  let tmp = '';
  let base = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-badhive-'));
    base = path.join(tmp, 'base');
    // The Windows 10 KB5034441 scenario: its failed updates must still be reported beside the damage.
    await buildWindowsTree(base, S.win10Winre);
  }, 120_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  function copy(name: string): string {
    const d = path.join(tmp, name);
    execFileSync('cp', ['-a', `${base}/.`, d]);
    return d;
  }
  const cfg = (root: string, ...rest: string[]) => path.join(root, ...CFG, ...rest);

  function scan(root: string, timeout = 60_000): { status: number | null; t: ScanResult; text: string; stderr: string } {
    const started = Date.now();
    const r = runCli(['scan', '--root', root, '--json']);
    expect(Date.now() - started).toBeLessThan(timeout);
    expect(r.status, r.stderr).toBe(10);
    const t = (JSON.parse(r.stdout) as ScanReport).targets[0]!;
    const text = runCli(['scan', '--root', root]);
    expect(text.status, text.stderr).toBe(10);
    return { status: r.status, t, text: text.stdout, stderr: r.stderr };
  }

  it('SYSTEM truncated to 0 bytes, with a real RegBack copy and its logs: ERROR first, RegBack named with its size', () => {
    const root = copy('empty-system');
    const regback = cfg(root, 'RegBack');
    mkdirSync(regback);
    copyFileSync(cfg(root, 'SYSTEM'), path.join(regback, 'SYSTEM'));
    writeFileSync(path.join(regback, 'SOFTWARE'), ''); // Windows 10 1803+: RegBack files are 0 bytes
    writeFileSync(cfg(root, 'SYSTEM.LOG1'), Buffer.alloc(8192));
    writeFileSync(cfg(root, 'SYSTEM.LOG2'), '');
    mkdirSync(path.join(root, 'System Volume Information'));
    writeFileSync(path.join(root, 'System Volume Information', '{3808876b-c176-4e48-b7ae-04046e6cc752}'), 'x'); // not a store name
    const regbackBytes = statSync(path.join(regback, 'SYSTEM')).size;
    truncateSync(cfg(root, 'SYSTEM'), 0);

    const { t, text } = scan(root);
    const f = t.findings[0]!;
    expect(f).toMatchObject({ id: 'hive-damaged', severity: 'error', subject: 'SYSTEM' });
    expect(f.explanation).toMatch(/^This Windows will not boot: the SYSTEM hive \(Windows\\System32\\config\\SYSTEM\) is empty \(0 bytes\)\./);
    expect(f.explanation).toContain(`copy Windows\\System32\\config\\RegBack\\SYSTEM (${regbackBytes} bytes) over it`);
    expect(f.explanation).toContain('SYSTEM.LOG1/.LOG2 transaction logs only complete a hive that was not closed cleanly');
    expect(f.explanation).toContain('no restore point was found in System Volume Information');
    expect(f.evidence).toContainEqual({ file: 'Windows\\System32\\config\\SYSTEM', data: 'SYSTEM hive is empty (0 bytes)' });
    expect(f.evidence).toContainEqual(
      expect.objectContaining({ file: 'Windows\\System32\\config\\SYSTEM.LOG1', data: expect.stringMatching(/^8192 bytes: /) }),
    );
    expect(f.evidence).toContainEqual(expect.objectContaining({ file: 'Windows\\System32\\config\\SYSTEM.LOG2', data: expect.stringMatching(/^0 bytes: /) }));
    // The rest is still read: the SOFTWARE facts and the failed updates from the logs.
    expect(t.system.productName).toBe('Windows 10 Pro');
    expect(t.findings.map((x) => x.id)).toContain('winre-too-small');
    expect(t.attempts.filter((a) => a.result === 'failed').map((a) => a.kb)).toEqual(['KB5034441', 'KB5034441']);
    // The text report leads with it.
    const lines = text.split('\n');
    const first = lines.findIndex((l) => l.startsWith('[ERROR]') || l.startsWith('[WARNING]'));
    expect(lines[first]).toMatch(/^\[ERROR\] +hive-damaged \(SYSTEM\)/);
    expect(text).toContain('This Windows will not boot: the SYSTEM hive');
  });

  it('SYSTEM overwritten with garbage, RegBack empty: says so, and that no copy was found', () => {
    const root = copy('garbage-system');
    mkdirSync(cfg(root, 'RegBack'));
    writeFileSync(cfg(root, 'RegBack', 'SYSTEM'), '');
    const junk = Buffer.alloc(1 << 20);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
    writeFileSync(cfg(root, 'SYSTEM'), junk);
    // A volume shadow copy store as Windows names it: a restore point may hold the hive.
    mkdirSync(path.join(root, 'System Volume Information'));
    writeFileSync(path.join(root, 'System Volume Information', '{5b7a7b8e-1c2d-11ee-9a3b-00155d012345}{3808876b-c176-4e48-b7ae-04046e6cc752}'), 'VSS');
    const { t } = scan(root);
    const f = t.findings[0]!;
    expect(f).toMatchObject({ id: 'hive-damaged', severity: 'error', subject: 'SYSTEM' });
    expect(f.explanation).toMatch(/the SYSTEM hive \(Windows\\System32\\config\\SYSTEM\) cannot be read as a registry hive \(1048576 bytes: /);
    expect(f.explanation).toContain('RegBack has no usable copy (empty (0 bytes): Windows 10 1803 and later no longer fill RegBack)');
    expect(f.explanation).toContain('System Volume Information holds shadow copies: restore a restore point from Windows RE (System Restore)');
    expect(f.evidence).toContainEqual({ file: 'System Volume Information', data: expect.stringMatching(/^1 volume shadow copy store\(s\)/) });
    expect(t.problems.some((p) => p.startsWith('SYSTEM hive: '))).toBe(true);
  });

  it('SOFTWARE replaced by a folder, then by a FIFO: the ERROR, no hang, the SYSTEM facts still read', () => {
    for (const kind of ['dir', 'fifo'] as const) {
      const root = copy(`software-${kind}`);
      // Windows.old with a real SOFTWARE: the last-resort copy.
      mkdirSync(path.join(root, 'Windows.old', ...CFG), { recursive: true });
      copyFileSync(cfg(root, 'SOFTWARE'), path.join(root, 'Windows.old', ...CFG, 'SOFTWARE'));
      const oldBytes = statSync(cfg(root, 'SOFTWARE')).size;
      unlinkSync(cfg(root, 'SOFTWARE'));
      if (kind === 'dir') mkdirSync(cfg(root, 'SOFTWARE'));
      else execFileSync('mkfifo', [cfg(root, 'SOFTWARE')]);
      const { t } = scan(root, 30_000);
      const f = t.findings[0]!;
      expect(f).toMatchObject({ id: 'hive-damaged', severity: 'error', subject: 'SOFTWARE' });
      expect(f.explanation).toMatch(
        kind === 'dir' ? /the SOFTWARE hive \(Windows\\System32\\config\\SOFTWARE\) is a folder, not a file\./ : /SOFTWARE\) is a FIFO \(named pipe\)/,
      );
      expect(f.explanation).toContain(`Windows.old\\Windows\\System32\\config\\SOFTWARE is the previous installation's copy`);
      expect(f.evidence).toContainEqual(
        expect.objectContaining({ file: 'Windows.old\\Windows\\System32\\config\\SOFTWARE', data: expect.stringContaining(`${oldBytes} bytes`) }),
      );
      // SYSTEM was read: its control sets and services are there.
      expect(t.controlSets.length).toBeGreaterThan(0);
      expect(t.services.find((s) => s.name === 'wuauserv')?.exists).toBe(true);
      expect(t.system.productName).toBeUndefined();
    }
  });
});
