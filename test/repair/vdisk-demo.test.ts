// The demo's laptop (issue #18 acceptance): the 16 GiB Windows 10 22H2 image `make demo` builds
// (KB5034441 failing on a recovery partition with 82 MB free, WinTrust State 0xC9 in two hives),
// converted by `qemu-img convert` into every container labs keep, and the whole job run on each
// through wufix's QEMU attach: scan equals the raw image's scan (apart from the container fields),
// `repair --yes` (the WinRE partition rebuilt, the hives fixed) leaves a clean rescan, `undo --last`
// puts the disk back (outside the Windows volume `qemu-img compare` says identical; inside, the
// rescan equals the first scan), `qemu-img check` is clean, `--overlay` leaves the base's sha256 as
// it was, and no FUSE mount, loop device or qemu-storage-daemon is left behind.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { buildWinreDisk, laptopParts } from '../helpers/winre-images.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB } from '../helpers/disk-images.js';
import { ownDaemons, ownDevices, ownFuseMounts } from '../helpers/own.js';
import { runCli } from '../helpers/cli.js';
import { win10Winre } from '../scan/scenarios.js';
import type { ScanReport } from '../../src/model/scan.js';

const reason = skipReason(
  sharedReason(),
  toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'wimcapture', 'ntfsresize', 'qemu-img', 'qemu-storage-daemon', 'fusermount3'),
  diskToolsReason(),
);

type Target = ScanReport['targets'][number];

/** [file name, qemu-img -O, -o options, the format wufix reports, the variant it reports] */
const FORMATS: [string, string, string, string, RegExp][] = [
  ['laptop.qcow2', 'qcow2', 'compat=1.1', 'qcow2', /^v3/],
  ['laptop.vhdx', 'vhdx', 'subformat=dynamic', 'vhdx', /^$/],
  ['laptop.vmdk', 'vmdk', 'subformat=monolithicSparse', 'vmdk', /monolithicSparse/],
  ['laptop-dynamic.vhd', 'vpc', 'subformat=dynamic,force_size=on', 'vhd', /dynamic/],
  ['laptop-fixed.vhd', 'vpc', 'subformat=fixed,force_size=on', 'vhd', /fixed/],
  ['laptop.vdi', 'vdi', 'static=off', 'vdi', /^dynamic$/],
];

const SIZE = 16 * GiB;
const PARTS = laptopParts(SIZE, 82 * MiB);
const OS = PARTS.find((p) => p.role === 'os')!;
const ESP = PARTS.find((p) => p.role === 'esp')!;

describe.skipIf(!!reason)(`the demo laptop in every container${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  let wtmp = '';
  let raw = '';
  let rawScan: Target | undefined;
  const env = () => ({ TMPDIR: wtmp });
  const daemons = () => ownDaemons(tmp);
  const fuseMounts = () => ownFuseMounts(tmp);
  const expectNothingLeft = () => {
    expect(ownDevices(tmp)).toEqual({ loops: [], mounts: [] });
    expect(fuseMounts()).toEqual([]);
    expect(daemons()).toEqual([]);
  };
  const scanOf = (img: string, status = 10): Target => {
    const r = runCli(['scan', '--image', img, '--json'], { env: env() });
    expect(r.status, r.stderr).toBe(status);
    return (JSON.parse(r.stdout) as ScanReport).targets[0]!;
  };
  /** A scan target with the image path made one, the temp mount names and the container fields left out. */
  const normal = (t: Target, image: string) => {
    const c = structuredClone(t);
    delete c.disk?.container;
    return JSON.parse(
      JSON.stringify(c)
        .split(image)
        .join('IMAGE')
        .replace(/wufix-mnt-[A-Za-z0-9]+/g, 'MNT'),
    ) as unknown;
  };
  const ids = (t: Target) => t.findings.filter((f) => f.severity !== 'info').map((f) => f.id);
  /** `qemu-img compare` of one byte range of two images (the raw driver's offset/size over the container). */
  const rangeOpts = (f: string, offset: number, size: number) => {
    const fmt = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', f], { encoding: 'utf8' })) as { format: string };
    return `driver=raw,offset=${offset},size=${size},file.driver=${fmt.format},file.file.driver=file,file.file.filename=${f}`;
  };
  const compareRange = (a: string, b: string, offset: number, size: number) =>
    spawnSync('qemu-img', ['compare', '--image-opts', rangeOpts(a, offset, size), rangeOpts(b, offset, size)], { encoding: 'utf8' });
  /** The BCD store's bytes: the ESP exported raw by qemu-img, the file read by mtools. */
  const bcdOf = (img: string) => {
    const esp = path.join(tmp, 'esp.raw');
    try {
      execFileSync('qemu-img', ['convert', '--image-opts', rangeOpts(img, ESP.start, ESP.size), '-O', 'raw', esp]);
      return execFileSync('mtype', ['-i', esp, '::/EFI/Microsoft/Boot/BCD'], { maxBuffer: 1 << 26 });
    } finally {
      rmSync(esp, { force: true });
    }
  };
  const checkClean = (img: string) => {
    const chk = spawnSync('qemu-img', ['check', img], { encoding: 'utf8' });
    // 0 clean, 63 "this format cannot be checked" (VHD, VDI without a check); 1-3 are errors, leaks or a failed check.
    expect([0, 63], chk.stdout + chk.stderr).toContain(chk.status);
  };

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-vdemo-'));
    wtmp = path.join(tmp, 'wtmp');
    mkdirSync(wtmp);
    const tree = path.join(tmp, 'tree');
    // What scripts/demo-build.ts builds for `make demo`.
    await buildWindowsTree(tree, { ...win10Winre, wintrust: { default: 0xc9, user: 0xc9 } });
    raw = path.join(tmp, 'laptop.img');
    buildWinreDisk(raw, { scheme: 'gpt', size: SIZE, tree, parts: PARTS });
    rmSync(tree, { recursive: true, force: true });
    rawScan = scanOf(raw);
    expect(ids(rawScan)).toEqual(expect.arrayContaining(['winre-too-small', 'wintrust-state']));
  }, 900_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const [name, fmt, opts, format, variant] of FORMATS) {
    it(`${name}: scan as the raw image; repair (WinRE rebuilt, hives fixed), rescan clean; undo; qemu-img compare and check`, () => {
      const img = path.join(tmp, name);
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', fmt, '-o', opts, raw, img]);
      const pristine = path.join(tmp, `pristine-${name}`);
      execFileSync('cp', ['--sparse=always', img, pristine]);
      try {
        const t = scanOf(img);
        expect(t.disk?.path).toBe(img);
        expect(t.disk?.container).toMatchObject({ format, virtualSize: SIZE });
        expect(t.disk?.container?.variant ?? '').toMatch(variant);
        expect(normal(t, img)).toEqual(normal(rawScan!, raw));
        expect(sha256(img)).toBe(sha256(pristine)); // a scan writes nothing, not even a container header
        expectNothingLeft();

        const r = runCli(['repair', '--image', img, '--yes'], { env: env() });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/Applied \d+ change\(s\) and verified them/);
        expectNothingLeft();
        checkClean(img);
        const after = scanOf(img, 0);
        expect(ids(after)).toEqual([]);
        expect(after.disk?.partitions.find((p) => p.number === after.disk?.recoveryPartition)?.size).toBeGreaterThan(900 * MiB);

        const u = runCli(['undo', '--image', img, '--last'], { env: env() });
        expect(u.status, u.stderr).toBe(0);
        expect(u.stdout).toMatch(/the disk \(partition table, recovery partition, BCD store\) restored/);
        expectNothingLeft();
        checkClean(img);
        expect(normal(scanOf(img), img)).toEqual(normal(rawScan!, raw));
        // Outside the volumes wufix mounted read-write: identical (both GPTs, the MSR, the recovery
        // partition). The ESP's FAT bookkeeping (FSInfo) changes when the BCD is rewritten; the BCD
        // file itself is byte for byte. Inside Windows, ntfs-3g's read-write mounts rewrite NTFS
        // metadata; the files are what undo restores (the rescan above), as on a raw image.
        for (const [from, to] of [
          [0, ESP.start],
          [ESP.start + ESP.size, OS.start],
          [OS.start + OS.size, SIZE],
        ] as const) {
          const c = compareRange(img, pristine, from, to - from);
          expect(c.status, `${from}-${to}: ${c.stdout}${c.stderr}`).toBe(0);
        }
        expect(bcdOf(img)).toEqual(bcdOf(pristine));
      } finally {
        rmSync(pristine, { force: true });
        rmSync(img, { force: true });
        rmSync(`${img}.wufix-journal`, { recursive: true, force: true });
      }
    }, 900_000);
  }

  it('qcow2 over a backing file: repair --overlay writes only the new overlay (the base sha256 unchanged), undo on the overlay', () => {
    const base = path.join(tmp, 'base.qcow2');
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, base]);
    const top = path.join(tmp, 'vm1.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top]);
    const baseSha = sha256(base);
    const topSha = sha256(top);
    const overlay = path.join(tmp, 'fix-test.qcow2');
    // A dry run creates no overlay.
    const dry = runCli(['repair', '--image', top, '--overlay', overlay, '--dry-run'], { env: env() });
    expect(dry.status, dry.stderr).toBe(0);
    expect(existsSync(overlay)).toBe(false);
    const r = runCli(['repair', '--image', top, '--overlay', overlay, '--yes'], { env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`The changes are in the overlay ${overlay}`);
    expect(sha256(base)).toBe(baseSha);
    expect(sha256(top)).toBe(topSha);
    expectNothingLeft();
    checkClean(overlay);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', overlay], { encoding: 'utf8' })) as { 'backing-filename'?: string };
    expect(info['backing-filename']).toBe(top);
    expect(ids(scanOf(overlay, 0))).toEqual([]);
    expect(ids(scanOf(top))).toEqual(ids(rawScan!)); // the image under the overlay still has every finding
    // An existing overlay is never overwritten.
    const again = runCli(['repair', '--image', top, '--overlay', overlay, '--yes', '--json'], { env: env() });
    expect(again.status, again.stderr).toBe(3);
    expect((JSON.parse(again.stdout) as { error: { code: string } }).error.code).toBe('overlay-exists');
    const u = runCli(['undo', '--image', overlay, '--last'], { env: env() });
    expect(u.status, u.stderr).toBe(0);
    expect(normal(scanOf(overlay), overlay)).toEqual(normal(rawScan!, raw));
    expect(sha256(base)).toBe(baseSha);
    expect(sha256(top)).toBe(topSha);
    expectNothingLeft();
  }, 900_000);
});
