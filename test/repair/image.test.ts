// Repair on a real NTFS disk image (mounted read-write with ntfs-3g by wufix), undo on it, and the
// volume-level refusals: a read-only mount and a BitLocker-locked Windows volume.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk, withMountedNtfs } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB, win10_1909 } from '../helpers/disk-images.js';
import { ownDevices } from '../helpers/own.js';
import { runCli } from '../helpers/cli.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { dotnetWintrust } from '../scan/scenarios.js';
import type { ScanReport } from '../../src/model/scan.js';

/** The `code` of the error a command run with --json printed on stdout. */
const jsonErrorCode = (stdout: string | Buffer): string | undefined => (JSON.parse(stdout.toString()) as { error?: { code?: string } }).error?.code;

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk'), diskToolsReason());

describe.skipIf(!!reason)('repair and undo on a disk image', () => {
  let tmp = '';
  /** This file's own loop devices and mounts (backed by its temp dir), never the machine-wide lists. */
  const loops = () => ownDevices(tmp);
  let img = '';
  let disk: ReturnType<typeof buildDisk>;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-repimg-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, dotnetWintrust);
    img = path.join(tmp, 'win7.img');
    disk = buildDisk(img, tree, { size: 3 * GiB, recoverySize: 700 * MiB, recoveryFree: 400 * MiB });
  }, 300_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const osTree = () => withMountedNtfs(img, disk.osStart, disk.recStart - disk.osStart, (m) => treeHashes(m));

  it('repair --image --yes fixes the WinTrust findings; undo --image restores every file', () => {
    const before = osTree();
    const loopsBefore = loops();
    const r = runCli(['repair', '--image', img, '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Applied 2 change\(s\) and verified them/);
    expect(loops()).toEqual(loopsBefore);
    const s = runCli(['scan', '--image', img, '--json']);
    const t = (JSON.parse(s.stdout) as ScanReport).targets[0]!;
    expect(t.findings.filter((f) => f.id === 'wintrust-state')).toEqual([]);
    const changed = treeDiff(before, osTree());
    expect(changed.filter((d) => !/(DEFAULT|NTUSER\.DAT)(\.LOG\d)?$/i.test(d))).toEqual([]);
    const u = runCli(['undo', '--image', img, '--last']);
    expect(u.status, u.stderr).toBe(0);
    expect(treeDiff(before, osTree())).toEqual([]);
    expect(loops()).toEqual(loopsBefore);
  });

  it('refuses a read-only volume (exit 3, one line)', () => {
    const mnt = path.join(tmp, 'ro');
    mkdirSync(mnt, { recursive: true });
    const dev = execFileSync(
      'losetup',
      ['--find', '--show', '-r', '--offset', String(disk.osStart), '--sizelimit', String(disk.recStart - disk.osStart), img],
      { encoding: 'utf8' },
    ).trim();
    try {
      execFileSync('ntfs-3g', ['-o', 'ro', dev, mnt]);
      try {
        const before = sha256(img);
        const r = runCli(['repair', '--root', mnt, '--yes', '--journal', path.join(tmp, 'j'), '--json']);
        expect(r.status).toBe(3);
        expect(r.stderr).toMatch(/^wufix: refused: .* is read-only/);
        expect(jsonErrorCode(r.stdout)).toBe('read-only');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(sha256(img)).toBe(before); // the refusal changed nothing
      } finally {
        execFileSync('umount', [mnt]);
      }
    } finally {
      execFileSync('losetup', ['--detach', dev]);
    }
  });

  it('refuses a BitLocker-locked Windows volume (exit 3), image unchanged', () => {
    const d = mkdtempSync(path.join(tmp, 'bl-'));
    const bl = win10_1909(d);
    const before = sha256(bl.file);
    const r = runCli(['repair', '--image', bl.file, '--yes', '--json']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/BitLocker-encrypted and locked.*manage-bde -unlock/);
    expect(jsonErrorCode(r.stdout)).toBe('bitlocker');
    expect(sha256(bl.file)).toBe(before);
  });
});
