// wu-hosts end to end through the built CLI (issue #19 item 2): the builder's Windows 10 tree (real
// hives) with a hosts file as Windows writes it (CRLF, Microsoft's header) plus what an update
// disabler adds: Windows Update names mapped to 0.0.0.0 / 127.0.0.1 / ::1, a tab, a trailing comment,
// a line that also maps an ad server, a last line without an ending, and names that are not Windows
// Update's (go.microsoft.com, a NAS). scan finds exactly those lines with their numbers, repair --yes
// comments out exactly them, the rescan is clean, undo --last restores the file byte for byte
// (sha256). A hosts file that is a symbolic link refuses the repair (exit 3, one line). Then the same
// on a real NTFS disk image (repair --image), when the disk tools are there.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk, withMountedNtfs } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, GiB, MiB } from '../helpers/disk-images.js';
import { runCli } from '../helpers/cli.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { WIN10_22H2_ENT } from '../scan/scenarios.js';
import type { ScanReport, ScanResult } from '../../src/model/scan.js';

const reason = skipReason(sharedReason());
const imageReason = skipReason(sharedReason(), toolsReason('ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk'), diskToolsReason());

const REL = 'Windows\\System32\\drivers\\etc\\hosts';
const HOSTS = (root: string) => path.join(root, 'Windows', 'System32', 'drivers', 'etc', 'hosts');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const STOCK = [
  '# Copyright (c) 1993-2009 Microsoft Corp.',
  '#',
  '# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.',
  '#',
  '# localhost name resolution is handled within DNS itself.',
  '#\t127.0.0.1       localhost',
  '#\t::1             localhost',
];
const DISABLER = [
  '',
  '# Windows Update Blocker',
  '0.0.0.0 windowsupdate.microsoft.com',
  '0.0.0.0\tupdate.microsoft.com\t# wub',
  '127.0.0.1 fe2.update.microsoft.com sls.update.microsoft.com',
  '::1 Download.WindowsUpdate.com',
  '0.0.0.0 ads.example tlu.dl.delivery.mp.microsoft.com tracker.example',
  '0.0.0.0 go.microsoft.com',
  '192.168.1.10 nas.home',
  '0.0.0.0 wustat.windows.com',
];
const ORIGINAL = Buffer.from([...STOCK, ...DISABLER].join('\r\n'), 'utf8');
// What the repair writes: lines 10-13 and 17 commented out, line 14's ad servers kept on a line of
// their own, line 15 (go.microsoft.com) and 16 (the NAS) as they were; the last line still without an ending.
const REPAIRED = Buffer.from(
  [
    ...STOCK,
    '',
    '# Windows Update Blocker',
    '# wufix: 0.0.0.0 windowsupdate.microsoft.com',
    '# wufix: 0.0.0.0\tupdate.microsoft.com\t# wub',
    '# wufix: 127.0.0.1 fe2.update.microsoft.com sls.update.microsoft.com',
    '# wufix: ::1 Download.WindowsUpdate.com',
    '# wufix: 0.0.0.0 ads.example tlu.dl.delivery.mp.microsoft.com tracker.example',
    '0.0.0.0 ads.example tracker.example',
    '0.0.0.0 go.microsoft.com',
    '192.168.1.10 nas.home',
    '# wufix: 0.0.0.0 wustat.windows.com',
  ].join('\r\n'),
  'utf8',
);

const scanJson = (args: string[]): ScanResult => {
  const r = runCli(['scan', ...args, '--json']);
  expect([0, 10], r.stderr).toContain(r.status);
  return (JSON.parse(r.stdout) as ScanReport).targets[0]!;
};
const hostsFindings = (t: ScanResult) => t.findings.filter((f) => f.id === 'wu-hosts-blocked');

/** The evidence the scan must give for ORIGINAL: each Windows Update line with its number. */
function expectFound(t: ScanResult): void {
  const [f, ...more] = hostsFindings(t);
  expect(more).toEqual([]);
  expect(f).toMatchObject({ id: 'wu-hosts-blocked', severity: 'error', repair: 'wu-hosts' });
  expect(f!.evidence.map((e) => `${e.file}:${e.line} ${e.data}`)).toEqual([
    `${REL}:10 0.0.0.0 windowsupdate.microsoft.com`,
    `${REL}:11 0.0.0.0\tupdate.microsoft.com\t# wub`,
    `${REL}:12 127.0.0.1 fe2.update.microsoft.com sls.update.microsoft.com`,
    `${REL}:13 ::1 Download.WindowsUpdate.com`,
    `${REL}:14 0.0.0.0 ads.example tlu.dl.delivery.mp.microsoft.com tracker.example`,
    `${REL}:17 0.0.0.0 wustat.windows.com`,
  ]);
  expect(f!.evidence[4]!.note).toBe('also maps 2 other name(s); the repair keeps them mapped');
}

let tmp = '';
beforeAll(() => {
  if (!reason) tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-hosts-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function build(root: string, hosts: Buffer): Promise<void> {
  await buildWindowsTree(root, { ...WIN10_22H2_ENT });
  mkdirSync(path.dirname(HOSTS(root)), { recursive: true });
  writeFileSync(HOSTS(root), hosts);
}

describe.skipIf(!!reason)('wu-hosts', () => {
  it('a disabled hosts file: scan finds the lines, repair --yes comments out exactly them, clean rescan, undo byte for byte', async () => {
    const root = path.join(tmp, 'disabled');
    await build(root, ORIGINAL);
    const hashes0 = treeHashes(root);

    const t0 = scanJson(['--root', root]);
    expect(t0.hosts).toMatchObject({ path: REL, bytes: ORIGINAL.length });
    expectFound(t0);
    const text = runCli(['scan', '--root', root]);
    expect(text.status).toBe(10);
    expect(text.stdout).toMatch(/^\[ERROR\] +wu-hosts-blocked +repair: wu-hosts$/m);
    expect(text.stdout).toContain(`${REL}:17  0.0.0.0 wustat.windows.com`);

    // The dry run names the file and each line; nothing changes.
    const dry = runCli(['repair', '--root', root]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^wu-hosts: hosts file: comment out the lines/m);
    expect(dry.stdout).toContain(`write ${REL} (${REPAIRED.length} bytes, replacing the current file)`);
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);
    expect(runCli(['repair', '--help']).stdout).toMatch(/wu-hosts/);

    const r = runCli(['repair', '--root', root, '--yes']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Applied 1 change\(s\) and verified them/);
    expect(readFileSync(HOSTS(root)).equals(REPAIRED)).toBe(true);
    // The hosts file changed, nothing else outside the journal.
    expect(treeDiff(hashes0, treeHashes(root))).toEqual(['Windows/System32/drivers/etc/hosts']);

    const t1 = scanJson(['--root', root]);
    expect(hostsFindings(t1)).toEqual([]);
    expect(t1.hosts).toEqual({ path: REL, bytes: REPAIRED.length, blocked: [] });
    expect(runCli(['repair', '--root', root, '--only', 'wu-hosts']).stdout).toMatch(/Nothing to change/);

    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(0);
    expect(sha(readFileSync(HOSTS(root)))).toBe(sha(ORIGINAL));
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);
    expectFound(scanJson(['--root', root]));
  });

  it('a hosts file without Windows Update names is no finding and is never written', async () => {
    const root = path.join(tmp, 'stock');
    const stock = Buffer.from([...STOCK, '0.0.0.0 go.microsoft.com download.microsoft.com', '# 0.0.0.0 update.microsoft.com', ''].join('\r\n'));
    await build(root, stock);
    const t = scanJson(['--root', root]);
    expect(hostsFindings(t)).toEqual([]);
    expect(t.hosts?.blocked).toEqual([]);
    const r = runCli(['repair', '--root', root, '--only', 'wu-hosts', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(HOSTS(root)).equals(stock)).toBe(true);
  });

  it('a hosts file that is a symbolic link: the scan reports it and reads nothing through it; the repair refuses (exit 3, one line)', async () => {
    const root = path.join(tmp, 'link');
    await buildWindowsTree(root, { ...WIN10_22H2_ENT });
    const outside = path.join(tmp, 'outside-hosts');
    writeFileSync(outside, ORIGINAL);
    mkdirSync(path.dirname(HOSTS(root)), { recursive: true });
    symlinkSync(outside, HOSTS(root));
    const t = scanJson(['--root', root]);
    expect(hostsFindings(t)).toEqual([]);
    expect(t.hosts).toBeUndefined();
    expect(
      t.problems.some((p) => /hosts/.test(p) && /link/.test(p)),
      t.problems.join('\n'),
    ).toBe(true);
    const r = runCli(['repair', '--root', root, '--only', 'wu-hosts', '--yes', '--json']);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^wufix: refused: wu-hosts: .*hosts/);
    expect((JSON.parse(r.stdout) as { error?: { code?: string } }).error?.code).toBe('link');
    expect(readFileSync(outside).equals(ORIGINAL)).toBe(true);
  });
});

describe.skipIf(!!imageReason)('wu-hosts on a real NTFS disk image', () => {
  it('repair --image --yes comments out the lines on the NTFS volume; undo --image restores the file byte for byte', async () => {
    const dir = path.join(tmp, 'img');
    const tree = path.join(dir, 'tree');
    await build(tree, ORIGINAL);
    const img = path.join(dir, 'win10.img');
    const disk = buildDisk(img, tree, { size: 3 * GiB, recoverySize: 700 * MiB, recoveryFree: 400 * MiB });
    const onOs = <T>(fn: (mnt: string) => T) => withMountedNtfs(img, disk.osStart, disk.recStart - disk.osStart, fn);
    const before = onOs((m) => treeHashes(m));

    expectFound(scanJson(['--image', img]));
    const r = runCli(['repair', '--image', img, '--only', 'wu-hosts', '--yes']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Applied 1 change\(s\) and verified them/);
    expect(onOs((m) => readFileSync(HOSTS(m)).equals(REPAIRED))).toBe(true);
    expect(onOs((m) => treeDiff(before, treeHashes(m)))).toEqual(['Windows/System32/drivers/etc/hosts']);
    expect(hostsFindings(scanJson(['--image', img]))).toEqual([]);

    const u = runCli(['undo', '--image', img, '--last']);
    expect(u.status, u.stderr).toBe(0);
    expect(onOs((m) => sha(readFileSync(HOSTS(m))))).toBe(sha(ORIGINAL));
    expect(onOs((m) => treeDiff(before, treeHashes(m)))).toEqual([]);
  }, 600_000);
});
