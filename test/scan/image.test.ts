// `wufix scan --image` end to end on a real NTFS disk image: GPT made with sgdisk, NTFS with mkntfs,
// the Windows tree copied in through ntfs-3g, the BCD store on the FAT32 ESP written with mtools,
// a 525 MiB recovery partition with 82 MiB free (the Server 2022 KB5034439 seed failure).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB, win10_1909 } from '../helpers/disk-images.js';
import { ownDevices } from '../helpers/own.js';
import { runCli } from '../helpers/cli.js';
import * as S from './scenarios.js';
import type { ScanReport } from '../../src/model/scan.js';

/** Free bytes of an NTFS partition of an image as df reports them, on a read-only ntfs-3g mount. */
function dfFree(image: string, offset: number, size: number): number {
  const mnt = mkdtempSync(path.join(os.tmpdir(), 'wufix-df-'));
  const dev = execFileSync('losetup', ['--find', '--show', '-r', '--offset', String(offset), '--sizelimit', String(size), image], { encoding: 'utf8' }).trim();
  try {
    execFileSync('ntfs-3g', ['-o', 'ro', dev, mnt]);
    try {
      return Number(execFileSync('df', ['-B1', '--output=avail', mnt], { encoding: 'utf8' }).split('\n')[1]!.trim());
    } finally {
      execFileSync('umount', [mnt]);
    }
  } finally {
    execFileSync('losetup', ['--detach', dev]);
    rmSync(mnt, { recursive: true, force: true });
  }
}

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk'), diskToolsReason());

describe.skipIf(!!reason)('wufix scan --image on a real disk image', () => {
  let tmp = '';
  /** This file's own loop devices and mounts (backed by its temp dir), never the machine-wide lists. */
  const loops = () => ownDevices(tmp);
  let img = '';
  let layout: ReturnType<typeof buildDisk>;
  let before = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-scanimg-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, S.server2022Winre);
    img = path.join(tmp, 'server2022.img');
    layout = buildDisk(img, tree, { size: 4 * GiB, recoverySize: 525 * MiB, recoveryFree: 82 * MiB, guid: '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9' });
    before = sha256(img);
  }, 300_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('finds Windows, measures the recovery partition, explains the failure, changes nothing', () => {
    const loopsBefore = loops();
    const r = runCli(['scan', '--image', img, '--json']);
    expect(r.status, r.stderr).toBe(10);
    const report = JSON.parse(r.stdout) as ScanReport;
    expect(report.targets).toHaveLength(1);
    const t = report.targets[0]!;
    expect(t.root).toBe(`${img} partition 3`);
    expect(t.system.productName).toBe('Windows Server 2022 Standard');
    expect(t.disk).toMatchObject({ scheme: 'gpt', osPartition: 3, recoveryPartition: 4 });
    const rec = t.disk!.partitions.find((p) => p.number === 4)!;
    expect(rec.start).toBe(layout.recStart);
    expect(rec.size).toBe(525 * MiB);
    // ntfs-3g's free-space figure for the partition the builder filled to 82 MiB free, and df's on
    // a read-only mount of it: the same bytes.
    expect(Math.abs(rec.freeBytes! - 82 * MiB)).toBeLessThan(2 * MiB);
    expect(rec.freeBytes).toBe(dfFree(img, rec.start, rec.size));
    expect(t.findings.map((f) => f.id)).toEqual(['winre-too-small']);
    const f = t.findings[0]!;
    // Units (issue #17 item 7): MiB rounded down to 0.1 (src/shared/units.ts), then the exact bytes.
    const mib = (Math.floor((rec.freeBytes! * 10) / MiB) / 10).toFixed(1);
    expect(f.explanation).toContain(`has ${mib} MiB (${rec.freeBytes} bytes) free but the WinRE update (KB5034441/KB5034439/KB5034440) needs 250 MiB,`);
    expect(f.explanation).not.toMatch(/\bMB\b/);
    expect(f.evidence[0]!.data).toBe(`partition 4: 525 MiB (${525 * MiB} bytes), ${mib} MiB (${rec.freeBytes} bytes) free, ntfs "Windows RE tools"`);
    const text = runCli(['scan', '--image', img, '--quiet']).stdout;
    expect(text).toContain(`recovery 4 (525 MiB, ${Math.floor(rec.freeBytes! / MiB)} MiB free)`);
    expect(text).not.toMatch(/\d MB\b/);
    expect(f.evidence[0]).toMatchObject({ file: img, offset: layout.recStart });
    expect(f.evidence).toContainEqual(expect.objectContaining({ file: 'Windows\\SoftwareDistribution\\ReportingEvents.log', line: 2 }));
    // The BCD store on the ESP was read: the real store's OS loader has a recovery sequence.
    expect(t.winre.bcdStore).toBe('partition 1: \\EFI\\Microsoft\\Boot\\BCD');
    expect(t.winre.recoverySequence).toMatch(/^\{[0-9a-f-]{36}\}$/);
    expect(t.winre.winreLoader).toMatchObject({ id: t.winre.recoverySequence, exists: true });
    expect(t.winre.winreLoader!.device).toMatch(/Winre\.wim/i);
    expect(t.winre.ramdiskOptions?.sdiPath).toMatch(/boot\.sdi$/i);
    // Read-only: the image is byte-identical, and no loop device or mount is left behind.
    expect(sha256(img)).toBe(before);
    expect(loops()).toEqual(loopsBefore);
    expect(loops()).toEqual({ loops: [], mounts: [] });
  });

  it('--html draws the disk to scale with the recovery free space marked short', () => {
    const html = path.join(tmp, 'r.html');
    const r = runCli(['scan', '--image', img, '--html', html, '--quiet']);
    expect(r.status).toBe(10);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<svg[^>]*aria-label="disk layout"/);
    expect(page).toMatch(/<rect class="free" [^>]*fill="#e15759"/);
    const m = /Recovery partition 4: only ([\d.]+) MiB free; the WinRE update needs 250(?:\.0)? MiB free/.exec(page);
    expect(Math.abs(Number(m?.[1]) - 82)).toBeLessThanOrEqual(2);
    expect(page).not.toMatch(/\d MB\b/);
  });

  it('--root with --disk: the same finding from the mounted volume', () => {
    const mnt = path.join(tmp, 'root');
    execFileSync('mkdir', ['-p', mnt]);
    const dev = execFileSync(
      'losetup',
      ['--find', '--show', '-r', '--offset', String(layout.osStart), '--sizelimit', String(layout.recStart - layout.osStart), img],
      { encoding: 'utf8' },
    ).trim();
    try {
      execFileSync('ntfs-3g', ['-o', 'ro', dev, mnt]);
      try {
        const r = runCli(['scan', '--root', mnt, '--json']);
        expect(r.status, r.stderr).toBe(10);
        const t = (JSON.parse(r.stdout) as ScanReport).targets[0]!;
        // The disk is found from the loop device behind the mount.
        expect(t.disk?.path).toBe(img);
        expect(t.disk?.osPartition).toBe(3);
        expect(t.findings.map((f) => f.id)).toEqual(['winre-too-small']);
      } finally {
        execFileSync('umount', [mnt]);
      }
    } finally {
      execFileSync('losetup', ['--detach', dev]);
    }
  });
});

describe.skipIf(!!reason)('wufix scan --image with a BitLocker-encrypted Windows volume', () => {
  it('reports bitlocker-locked with the partition, and says why nothing else could be read', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-scanbl-'));
    try {
      const img = win10_1909(tmp); // recovery first, then ESP, MSR, and a BitLocker (Win7+) Windows volume
      const before = sha256(img.file);
      const r = runCli(['scan', '--image', img.file, '--json']);
      expect(r.status, r.stderr).toBe(10);
      const t = (JSON.parse(r.stdout) as ScanReport).targets[0]!;
      const bl = t.findings.filter((f) => f.id === 'bitlocker-locked');
      expect(bl).toHaveLength(1);
      expect(bl[0]!.evidence[0]).toMatchObject({ offset: img.gpt![3]!.start });
      expect(bl[0]!.explanation).toMatch(/Partition 4 is BitLocker-encrypted and locked.*manage-bde -unlock/);
      expect(t.problems).toContain('no readable Windows volume: the BitLocker volumes must be unlocked first');
      expect(sha256(img.file)).toBe(before);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
