// `wufix disk list` (issue #17, 11a) on real images: a GPT laptop disk with Windows (sgdisk, mkntfs,
// the winbuilder tree, wimcapture), an MBR disk with an NTFS data volume and no Windows, a blank
// image; the same GPT image attached to a loop device this test attaches (read-only), named and found
// among the host's disks; an image the caller may not read (EACCES). Checked against sfdisk --json.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, statSync, chownSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { buildMbr, diskToolsReason, sfdiskJson, sparseImage, sha256, run, GiB, MiB } from '../helpers/disk-images.js';
import { buildWinreDisk, laptopParts, type WinreDisk } from '../helpers/winre-images.js';
import { runCli, CLI } from '../helpers/cli.js';
import { ownDevices } from '../helpers/own.js';
import { win10Winre } from '../scan/scenarios.js';
import type { DiskListEntry } from '../../src/disk/list.js';

const reason = skipReason(sharedReason(), toolsReason('ntfs-3g', 'mkntfs', 'mcopy', 'wimcapture', 'setpriv'), diskToolsReason());

const list = (args: string[]) => {
  const r = runCli(['disk', 'list', '--json', ...args]);
  return { ...r, disks: r.status === 0 || r.status === 2 ? (JSON.parse(r.stdout) as { disks: DiskListEntry[] }).disks : [] };
};

describe.skipIf(!!reason)('disk list: images, an attached loop device, an unreadable image', () => {
  let tmp = '';
  let gpt: WinreDisk;
  let mbr = '';
  let blank = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-disklist-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, win10Winre);
    const size = 3 * GiB;
    gpt = buildWinreDisk(path.join(tmp, 'laptop.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    rmSync(tree, { recursive: true, force: true });
    mbr = buildMbr(path.join(tmp, 'data.img'), GiB, [
      { number: 1, start: MiB, size: 512 * MiB, type: 0x07, active: false, fs: { kind: 'ntfs', label: 'Data' } },
      { number: 2, start: 513 * MiB, size: 256 * MiB, type: 0x0c, active: false, fs: { kind: 'fat32', label: 'STICK' } },
    ]).file;
    blank = sparseImage(path.join(tmp, 'blank.img'), 64 * MiB);
  }, 300_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('lists images: size, scheme, disk id and partitions as sfdisk reads them, Windows only where it is; changes nothing', () => {
    const before = [gpt.file, mbr, blank].map(sha256);
    const devices = ownDevices(tmp);
    const r = list([gpt.file, mbr, blank]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.disks.map((d) => d.path)).toEqual([gpt.file, mbr, blank]);
    expect(r.disks.map((d) => d.number)).toEqual([0, 1, 2]);

    const [g, m, b] = r.disks as [DiskListEntry, DiskListEntry, DiskListEntry];
    const gRef = sfdiskJson(gpt.file);
    expect(g.scheme).toBe('gpt');
    expect(g.sizeBytes).toBe(statSync(gpt.file).size);
    expect(g.diskGuid).toBe(gRef.id);
    expect(g.partitions).toBe(gRef.partitions.length);
    const osRef = gRef.partitions.find((p) => p.start === gpt.os.start)!;
    expect(g.windows).toEqual([{ partition: osRef.number, start: osRef.start, size: osRef.size }]);

    const mRef = sfdiskJson(mbr);
    expect(mRef.scheme).toBe('mbr');
    expect(m.scheme).toBe('mbr');
    expect(m.signature).toBe(mRef.id);
    expect(m.partitions).toBe(2);
    expect(m.windows).toEqual([]); // the NTFS data volume was looked into: no Windows\System32\config\SYSTEM

    expect(b.scheme).toBe('none');
    expect(b.partitions).toBe(0);
    expect(b.error).toBeUndefined();
    expect(b.notes.join(' ')).toMatch(/no partition table/);

    // The table: one line per disk (long paths on a line of their own), within 80 columns.
    const text = runCli(['disk', 'list', gpt.file, mbr, blank]);
    expect(text.status).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Disk\s+Path\s+Size\s+Scheme\s+Parts\s+Windows$/);
    expect(lines.filter((l) => l.length > 80)).toEqual([]);
    expect(text.stdout).toMatch(new RegExp(`3\\.00 GiB\\s+GPT\\s+4\\s+partition ${osRef.number}\\n`));
    expect(text.stdout).toMatch(/1\.00 GiB\s+MBR\s+2\s+no\n/);
    expect(text.stdout).toMatch(/64\.0 MiB\s+NONE\s+0\s+no\n/);

    // Read-only: the images are byte for byte as they were, nothing of ours left attached or mounted.
    expect([gpt.file, mbr, blank].map(sha256)).toEqual(before);
    expect(ownDevices(tmp)).toEqual(devices);
  }, 120_000);

  it('an attached loop device: named, and found among the host disks with its backing file', () => {
    const dev = run('losetup', ['--find', '--show', '--read-only', gpt.file]).trim();
    try {
      const named = list([dev]);
      expect(named.status).toBe(0);
      const d = named.disks[0]!;
      expect(d.path).toBe(dev);
      expect(d.backingFile).toBe(gpt.file);
      expect(d.readOnly).toBe(true);
      expect(d.scheme).toBe('gpt');
      expect(d.diskGuid).toBe(sfdiskJson(gpt.file).id);
      expect(d.sizeBytes).toBe(Number(run('blockdev', ['--getsize64', dev]).trim()));
      const osNumber = sfdiskJson(gpt.file).partitions.find((p) => p.start === gpt.os.start)!.number;
      expect(d.windows?.map((w) => w.partition)).toEqual([osNumber]);

      // The host's disks (no mounting: other tests' loop devices are left alone): ours among them, once.
      const host = list(['--no-windows']);
      expect(host.status).toBe(0);
      const mine = host.disks.filter((h) => h.path === dev);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ backingFile: gpt.file, scheme: 'gpt', partitions: 4, sizeBytes: d.sizeBytes });
      expect(mine[0]!.windows).toBeUndefined();
      expect(host.disks.some((h) => /^\/dev\/(ram|zram)\d+$/.test(h.path))).toBe(false);
      // Every loop device listed is attached (an unused one has no backing file and is left out).
      for (const h of host.disks.filter((x) => /^\/dev\/loop\d+$/.test(x.path))) expect(h.backingFile).toBeTruthy();
      expect(new Set(host.disks.map((h) => h.number)).size).toBe(host.disks.length);
    } finally {
      run('losetup', ['--detach', dev]);
    }
  }, 120_000);

  it('a loop device of the Windows partition alone (one NTFS volume, no table): Windows on the whole disk', () => {
    const dev = run('losetup', ['--find', '--show', '--read-only', '--offset', String(gpt.os.start), '--sizelimit', String(gpt.os.size), gpt.file]).trim();
    try {
      const r = list([dev]);
      expect(r.status).toBe(0);
      expect(r.disks[0]).toMatchObject({ path: dev, scheme: 'none', partitions: 0, sizeBytes: gpt.os.size, backingFile: gpt.file });
      expect(r.disks[0]!.windows).toEqual([{ partition: 0, start: 0, size: gpt.os.size }]);
      expect(r.disks[0]!.notes).toEqual(['no partition table: the whole disk is one ntfs volume (no MBR or GPT)']);
      expect(runCli(['disk', 'list', dev]).stdout).toMatch(/NONE\s+0\s+whole disk\n/);
    } finally {
      run('losetup', ['--detach', dev]);
    }
  }, 60_000);

  it('an image the user may not read is listed with the reason (EACCES), not a crash; exit 2 for a named disk', () => {
    // A directory "nobody" may enter, holding a copy it may not read.
    const dir = mkdtempSync(path.join(tmp, 'acl-'));
    chmodSync(tmp, 0o755);
    chmodSync(dir, 0o755);
    run('cp', ['--sparse=always', mbr, path.join(dir, 'disk.img')]);
    chmodSync(path.join(dir, 'disk.img'), 0o600);
    chownSync(path.join(dir, 'disk.img'), 0, 0);
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'disk', 'list', '--json', path.join(dir, 'disk.img'), blank],
      {
        encoding: 'utf8',
        env: { ...process.env, WUFIX_STATE_DIR: dir },
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(2);
    const [d, b] = (JSON.parse(r.stdout) as { disks: DiskListEntry[] }).disks as [DiskListEntry, DiskListEntry];
    expect(d.error).toMatch(/^EACCES: permission denied/);
    expect(d.scheme).toBeUndefined();
    expect(b.scheme).toBe('none'); // the readable one is still listed
    const text = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'disk', 'list', path.join(dir, 'disk.img')], {
      encoding: 'utf8',
    });
    expect(text.status).toBe(2);
    expect(text.stdout).toMatch(/unreadable\n\s+not readable: EACCES: permission denied/);
    expect(text.stderr).toBe('');
  }, 60_000);
});
