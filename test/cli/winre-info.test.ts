// `wufix winre info` (issue #17, 11b): reagentc /info offline. On a real GPT laptop image (sgdisk,
// mkntfs, a wimcapture Winre.wim in a 570 MB recovery partition with 80 MB free, the fixture BCD
// re-pointed at it, ReAgent.xml pointing at it) compared with what `wufix scan --json` reports, with
// sfdisk, df on a read-only ntfs-3g mount and wimlib's wiminfo; and on a volume tree where WinRE is
// disabled and Winre.wim waits on the Windows volume.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, run, sfdiskJson, sha256, GiB, MiB } from '../helpers/disk-images.js';
import { buildWinreDisk, laptopParts, type WinreDisk } from '../helpers/winre-images.js';
import { runCli } from '../helpers/cli.js';
import { ownDevices } from '../helpers/own.js';
import { win10Winre } from '../scan/scenarios.js';
import type { ScanReport } from '../../src/model/scan.js';
import type { WinreStatus } from '../../src/windows/winre.js';

/** wiminfo's "Key: value" lines: the header block, and image 1's block. */
function wiminfo(file: string): { header: Record<string, string>; image: Record<string, string> } {
  const out = run('wiminfo', [file]);
  const [head, images] = out.split('Available Images:');
  const kv = (s: string) => Object.fromEntries([...s.matchAll(/^([A-Za-z ]+):[ \t]*(.*)$/gm)].map((m) => [m[1]!.trim(), m[2]!.trim()]));
  return { header: kv(head!), image: kv(images ?? '') };
}

/** A volume of an image mounted read-only (loop device and mount released afterwards). */
function withReadOnlyNtfs<T>(image: string, offset: number, size: number, fn: (mnt: string) => T): T {
  const mnt = mkdtempSync(path.join(path.dirname(image), 'ro-'));
  const dev = run('losetup', ['--find', '--show', '--read-only', '--offset', String(offset), '--sizelimit', String(size), image]).trim();
  try {
    run('ntfs-3g', ['-o', 'ro', dev, mnt]);
    try {
      return fn(mnt);
    } finally {
      run('umount', [mnt]);
    }
  } finally {
    run('losetup', ['--detach', dev]);
    rmSync(mnt, { recursive: true, force: true });
  }
}

function expectWimMatches(summary: WinreStatus['wim'], file: string): void {
  const ref = wiminfo(file);
  const s = summary!.summary!;
  expect(s.guid).toBe(ref.header['GUID']);
  expect(String(s.version)).toBe(ref.header['Version']);
  expect(String(s.imageCount)).toBe(ref.header['Image Count']);
  expect(s.compression).toBe(ref.header['Compression']);
  expect(`${s.chunkSize} bytes`).toBe(ref.header['Chunk Size']);
  expect(`${s.partNumber}/${s.totalParts}`).toBe(ref.header['Part Number']);
  expect(String(s.bootIndex)).toBe(ref.header['Boot Index']);
  const img = s.images[0]!;
  expect(img.index).toBe(Number(ref.image['Index']));
  expect(img.name).toBe(ref.image['Name']);
  expect(String(img.dirCount)).toBe(ref.image['Directory Count']);
  expect(String(img.fileCount)).toBe(ref.image['File Count']);
  expect(String(img.totalBytes)).toBe(ref.image['Total Bytes']);
  expect(summary!.bytes).toBe(statSync(file).size);
}

const reason = skipReason(sharedReason(), toolsReason('ntfs-3g', 'mkntfs', 'mcopy', 'wimcapture', 'wiminfo'), diskToolsReason());

describe.skipIf(!!reason)('winre info: reagentc /info offline', () => {
  let tmp = '';
  let img: WinreDisk;
  let tree = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-winreinfo-'));
    tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, win10Winre);
    const size = 3 * GiB;
    img = buildWinreDisk(path.join(tmp, 'laptop.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
  }, 300_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('--image: status, location, Winre.wim (as wiminfo reads it), BCD entry and free space, as the scan reports them', () => {
    const before = sha256(img.file);
    const devices = ownDevices(tmp);
    const s = runCli(['scan', '--image', img.file, '--json', '-q']);
    expect(s.status).toBe(10);
    const t = (JSON.parse(s.stdout) as ScanReport).targets[0]!;
    const r = runCli(['winre', 'info', '--image', img.file, '--json', '-q']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [w, ...others] = (JSON.parse(r.stdout) as { targets: WinreStatus[] }).targets;
    expect(others).toEqual([]);
    expect(w!.root).toBe(t.root);

    // ReAgent.xml: enabled, pointing at the recovery partition at the end of the disk.
    expect(t.winre.installState).toBe(1);
    expect(w!.status).toBe('Enabled');
    expect(w!.installState).toBe(1);
    const rec = img.recovery!;
    const recRef = sfdiskJson(img.file).partitions.find((p) => p.start === rec.start)!;
    expect(w!.location).toMatchObject({ path: t.winre.winreLocation!.path, offset: rec.start, disk: img.file });
    expect(w!.location!.path.toLowerCase()).toBe('\\recovery\\windowsre');
    expect(w!.location!.diskId?.replace(/[{}]/g, '').toLowerCase()).toBe(sfdiskJson(img.file).id);
    expect(w!.location!.partition).toEqual({ number: recRef.number, start: rec.start, size: rec.size, role: 'recovery', fs: 'ntfs' });

    // The recovery partition as the scan measured it, and as df reads it.
    const scanRec = t.disk!.partitions.find((p) => p.number === recRef.number)!;
    expect(w!.recoveryPartition).toEqual({
      number: recRef.number,
      sizeBytes: rec.size,
      freeBytes: scanRec.freeBytes,
      neededBytes: 250 * MiB,
      meetsNeed: false,
    });
    const wimFile = scanRec.winreFiles!.find((f) => f.name === 'Winre.wim')!;
    expect(w!.wim).toMatchObject({ path: `partition ${recRef.number}: \\Recovery\\WindowsRE\\Winre.wim`, bytes: wimFile.bytes, where: 'recovery-partition' });
    withReadOnlyNtfs(img.file, rec.start, rec.size, (mnt) => {
      const free = Number(run('df', ['-B1', '--output=avail', mnt]).split('\n')[1]!.trim());
      expect(w!.recoveryPartition!.freeBytes).toBe(free);
      expectWimMatches(w!.wim, path.join(mnt, 'Recovery', 'WindowsRE', 'Winre.wim'));
      expect(sha256(path.join(mnt, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(img.wimSha256);
    });
    expect(w!.wim!.summary!.images[0]!.name).toBe('Microsoft Windows Recovery Environment (x64)');

    // The BCD: the OS loader's recoverysequence. The builders' ReAgent.xml (winbuilder) names another
    // WinreBCD than the fixture BCD store's WinRE loader: a real mismatch, reported as one.
    const reagent = t.winre.reagent as { winreBcd?: string };
    expect(w!.bcdId).toBe(reagent.winreBcd);
    expect(w!.bcdId).toBe('{b2e2f7c1-5d7b-11ee-9c2a-806e6f6e6963}');
    expect(w!.bcd).toMatchObject({ store: t.winre.bcdStore, recoverySequence: t.winre.recoverySequence, entryExists: true, matchesReAgent: false });
    expect(w!.bcd!.recoverySequence).toBe('{17d1a948-6ebc-11e3-92e2-9e90a5a36f6e}');

    // The text: every line within 80 columns, the verdict on the 250 MB need.
    const text = runCli(['winre', 'info', '--image', img.file, '-q']);
    expect(text.status).toBe(0);
    expect(text.stdout.split('\n').filter((l) => l.length > 80)).toEqual([]);
    expect(text.stdout).toMatch(/Status: +Enabled \(ReAgent.xml InstallState 1\)/);
    expect(text.stdout).toContain(`Location:            partition ${recRef.number} at `);
    expect(text.stdout).toMatch(new RegExp(`BCD recovery entry:  \\${t.winre.recoverySequence!.slice(0, -1)}\\}\\n +NOT the WinreBCD of ReAgent.xml\\n`));
    expect(text.stdout).toContain('BCD identifier:      {b2e2f7c1-5d7b-11ee-9c2a-806e6f6e6963}');
    expect(text.stdout).toMatch(/below the 250 MiB the WinRE update \(KB5034441\) needs/);
    expect(text.stdout).toContain('"Microsoft Windows Recovery Environment (x64)"');

    // Read-only.
    expect(sha256(img.file)).toBe(before);
    expect(ownDevices(tmp)).toEqual(devices);
  }, 180_000);

  it('--root with WinRE disabled: Disabled, no location, the Winre.wim staged on the Windows volume read by its header', async () => {
    const root = path.join(tmp, 'disabled');
    await buildWindowsTree(root, { ...win10Winre, reagent: { installState: 0 } });
    // A real WIM where Windows leaves it while WinRE is disabled.
    const src = path.join(tmp, 'wimsrc');
    run('mkdir', ['-p', path.join(src, 'Windows', 'System32')]);
    run('cp', [path.join(root, 'Windows', 'System32', 'config', 'SYSTEM'), path.join(src, 'Windows', 'System32', 'x')]);
    const staged = path.join(root, 'Windows', 'System32', 'Recovery', 'Winre.wim');
    run('wimcapture', [src, path.join(tmp, 'staged.wim'), 'Microsoft Windows Recovery Environment (x64)', '--compress=LZX']);
    copyFileSync(path.join(tmp, 'staged.wim'), staged);
    const s = runCli(['scan', '--root', root, '--json', '-q']);
    const t = (JSON.parse(s.stdout) as ScanReport).targets[0]!;
    const r = runCli(['winre', 'info', '--root', root, '--json', '-q']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const w = (JSON.parse(r.stdout) as { targets: WinreStatus[] }).targets[0]!;
    expect(w.status).toBe('Disabled');
    expect(w.installState).toBe(t.winre.installState);
    expect(w.wim).toMatchObject({ path: t.winre.winreWimOnOs!.path, bytes: t.winre.winreWimOnOs!.bytes, where: 'os-volume' });
    expectWimMatches(w.wim, staged);
    expect(w.wim!.summary!.compression).toBe('LZX');
    expect(w.recoveryPartition).toBeUndefined(); // no disk read: a tree is not on one
    const text = runCli(['winre', 'info', '--root', root, '-q']);
    expect(text.stdout).toMatch(/Status: +Disabled \(ReAgent.xml InstallState 0\)/);
    expect(text.stdout).toContain('staged on the Windows volume');

    // A Winre.wim that is not a WIM: named as such, not a crash.
    copyFileSync(path.join(root, 'Windows', 'System32', 'config', 'SYSTEM'), staged);
    const bad = runCli(['winre', 'info', '--root', root, '--json', '-q']);
    expect(bad.status).toBe(0);
    const wb = (JSON.parse(bad.stdout) as { targets: WinreStatus[] }).targets[0]!;
    expect(wb.wim!.error).toMatch(/not a WIM file/);
    expect(wb.wim!.summary).toBeUndefined();
  }, 120_000);

  it('no Windows at the target: one line, exit 2', () => {
    const r = runCli(['winre', 'info', '--root', tmp]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^wufix: error: .*no Windows/);
  });
});
