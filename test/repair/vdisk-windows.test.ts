// `--image` on Windows/WinPE (issue #18, item 4): a VHD/VHDX attached with diskpart, read-only for the
// scan and the planning, writable for repair and undo, detached at the end; the rest through the
// Windows backend. diskpart cannot run here, so the host is test/helpers/vdisk-host.ts: `attach vdisk`
// makes the real container's disk (a fixed VHD on a loop device, a dynamic VHD or a VHDX exported by
// qemu-storage-daemon) disk 1, and every other diskpart command is carried out on it with real tools
// (sfdisk, ntfsresize, mkntfs, ntfs-3g). The laptop (KB5034441 failing on 82 MB free, WinTrust State
// 0xC9) is built once, converted by qemu-img into each format, and for each: the scan equals the Linux
// scan of the raw image (apart from the mount paths and what diskpart cannot tell), a read-only
// attach leaves the file byte for byte, repair + rescan clean, undo gives back the first scan and the
// partition extents, qemu-img check is clean, and nothing (letters, loop devices, daemons) is left.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { buildWinreDisk, laptopParts } from '../helpers/winre-images.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB, run } from '../helpers/disk-images.js';
import { ownDaemons, ownDevices, ownFuseMounts } from '../helpers/own.js';
import { runCli } from '../helpers/cli.js';
import { linuxVdiskHost, type VdiskHost } from '../helpers/vdisk-host.js';
import { win10Winre } from '../scan/scenarios.js';
import { scanVdiskWindows } from '../../src/cli/vdisk-windows.js';
import { addNextCommands } from '../../src/scan/next.js';
import { repairImageWindows, undoImageWindows } from '../../src/cli/repair.js';
import { Journal } from '../../src/engine/journal.js';
import { RefusedError } from '../../src/shared/errors.js';
import type { ScanReport, ScanResult } from '../../src/model/scan.js';

const reason = skipReason(
  sharedReason(),
  toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'sfdisk', 'wimcapture', 'ntfsresize', 'qemu-img', 'qemu-storage-daemon', 'fusermount3'),
  diskToolsReason(),
);

/** [file name, qemu-img -O, -o options, format, variant] */
const FORMATS: [string, string, string, string, RegExp][] = [
  ['laptop.vhdx', 'vhdx', 'subformat=dynamic', 'vhdx', /^$/],
  ['laptop-fixed.vhd', 'vpc', 'subformat=fixed,force_size=on', 'vhd', /fixed/],
  ['laptop-dynamic.vhd', 'vpc', 'subformat=dynamic,force_size=on', 'vhd', /dynamic/],
];

const SIZE = 6 * GiB;
const PARTS = laptopParts(SIZE, 82 * MiB);

describe.skipIf(!!reason)(`--image on Windows/WinPE: VHD and VHDX attached with diskpart${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  let wtmp = '';
  let raw = '';
  let rawScan: ScanResult | undefined;
  let savedTmp: string | undefined;
  const expectNothingLeft = (host?: VdiskHost) => {
    expect(host?.attached()).toBeUndefined();
    expect(ownDevices(tmp)).toEqual({ loops: [], mounts: [] });
    expect(ownFuseMounts(tmp)).toEqual([]);
    expect(ownDaemons(tmp)).toEqual([]);
  };
  const ids = (t: ScanResult) =>
    t.findings
      .filter((f) => f.severity !== 'info')
      .map((f) => f.id)
      .sort();
  /** A scan with the image and mount paths made one, the container fields left out. */
  const normal = (t: ScanResult, image: string, roots: string[]) => {
    const c = structuredClone(t) as ScanResult & { disk?: { container?: unknown } };
    delete c.disk?.container;
    let s = JSON.stringify(c).split(image).join('IMAGE');
    for (const r of roots) s = s.split(r).join('ROOT');
    return JSON.parse(s.replace(/\/tmp\/[^"]*?wufix-mnt-[A-Za-z0-9]+/g, 'ROOT')) as unknown;
  };
  const extents = (img: string) => {
    const r = path.join(tmp, 'extents.raw');
    try {
      execFileSync('qemu-img', ['convert', '-O', 'raw', img, r]);
      return run('sgdisk', ['-p', r])
        .split('\n')
        .filter((l) => /^\s+\d+\s+\d+\s+\d+/.test(l))
        .map((l) => l.trim().split(/\s+/).slice(0, 6).join(' '));
    } finally {
      rmSync(r, { force: true });
    }
  };
  const checkClean = (img: string) => {
    const chk = spawnSync('qemu-img', ['check', img], { encoding: 'utf8' });
    expect([0, 63], chk.stdout + chk.stderr).toContain(chk.status);
  };
  const newHost = () => linuxVdiskHost({ base: mkdtempSync(path.join(tmp, 'letters-')) });

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-vwin-'));
    wtmp = path.join(tmp, 'wtmp');
    mkdirSync(wtmp);
    // The FUSE exports of the in-process attach go under the test's folder (checked as its own).
    savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = wtmp;
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, { ...win10Winre, wintrust: { default: 0xc9, user: 0xc9 } });
    raw = path.join(tmp, 'laptop.img');
    buildWinreDisk(raw, { scheme: 'gpt', size: SIZE, tree, parts: PARTS });
    rmSync(tree, { recursive: true, force: true });
    const r = runCli(['scan', '--image', raw, '--json'], { env: { TMPDIR: wtmp } });
    expect(r.status, r.stderr).toBe(10);
    rawScan = (JSON.parse(r.stdout) as ScanReport).targets[0]!;
    expect(ids(rawScan)).toEqual(expect.arrayContaining(['winre-too-small', 'wintrust-state']));
  }, 900_000);
  afterAll(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const [name, fmt, opts, format, variant] of FORMATS) {
    it(`${name}: scan (read-only attach) as the Linux scan of the raw image; repair, rescan clean; undo; nothing left attached`, async () => {
      const img = path.join(tmp, name);
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', fmt, '-o', opts, raw, img]);
      const before = sha256(img);
      const pristineExtents = extents(img);
      const host = newHost();
      try {
        const t = await scanVdiskWindows(host, img);
        // What `wufix scan` adds to every report (src/cli/targets.ts), as wufix.exe would.
        addNextCommands(t, { image: img, platform: 'win32', isFile: () => true });
        expect(host.attaches).toEqual([{ file: img, readOnly: true }]);
        expect(host.log).toContain(`select vdisk file="${img}"`);
        expect(host.log).toContain('attach vdisk readonly');
        expect(host.log).toContain('detach vdisk');
        expect(t.disk?.path).toBe(img);
        expect(t.disk?.container).toMatchObject({ format, virtualSize: SIZE });
        expect(t.disk?.container?.variant ?? '').toMatch(variant);
        expect(t.root).toBe(`${img} partition ${rawScan!.disk!.osPartition}`);
        expect(normal(t, img, [host.letterRoot('D')])).toEqual(normal(rawScan!, raw, []));
        expect(sha256(img)).toBe(before); // a read-only attach writes nothing, not even a container header
        expectNothingLeft(host);

        await repairImageWindows({ image: img, yes: true }, host);
        expect(host.attaches.map((a) => a.readOnly)).toEqual([true, true, false]); // scan, plan, apply
        expect(host.log.some((l) => /^shrink desired=\d+ minimum=\d+$/.test(l))).toBe(true);
        expectNothingLeft(host);
        checkClean(img);
        const after = await scanVdiskWindows(host, img);
        expect(ids(after)).toEqual([]);
        expect(after.disk?.partitions.find((p) => p.number === after.disk?.recoveryPartition)?.size).toBeGreaterThan(900 * MiB);

        const jr = `${img}.wufix-journal`;
        const runs = Journal.list(jr);
        expect(runs).toHaveLength(1);
        const u = await undoImageWindows(host, img, jr, runs[0]!, {});
        expect(u.disk).toBe(true);
        expect(u.restored).toBeGreaterThan(0);
        expectNothingLeft(host);
        checkClean(img);
        const again = await scanVdiskWindows(host, img);
        expect(ids(again)).toEqual(ids(rawScan!));
        // The same partitions at the same offsets (diskpart gives the recreated one a new GUID, so its
        // BCD entry is re-pointed: the extents are compared, not the GUIDs).
        expect(extents(img)).toEqual(pristineExtents);
      } finally {
        host.close();
        rmSync(img, { force: true });
        rmSync(`${img}.wufix-journal`, { recursive: true, force: true });
      }
    }, 900_000);
  }

  it('refused before anything is attached: qcow2, VMDK and raw images (with the conversion to VHDX); a dry run attaches read-only only', async () => {
    const host = newHost();
    try {
      for (const [fmt, file] of [
        ['qcow2', 'laptop.qcow2'],
        ['vmdk', 'laptop.vmdk'],
      ] as const) {
        const img = path.join(tmp, file);
        execFileSync('qemu-img', ['create', '-q', '-f', fmt, img, '1G']);
        const e = await scanVdiskWindows(host, img).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(RefusedError);
        expect((e as RefusedError).code).toBe('vdisk-windows-format');
        expect((e as Error).message).toMatch(/qemu-img convert -O vhdx/);
        rmSync(img);
      }
      const e = await scanVdiskWindows(host, raw).catch((x: unknown) => x);
      expect((e as RefusedError).code).toBe('vdisk-windows-format');
      expect((e as Error).message).toMatch(/a raw disk image/);
      expect(host.attaches).toEqual([]);
      expect(host.log).toEqual([]);

      const img = path.join(tmp, 'dry.vhdx');
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', raw, img]);
      const sha = sha256(img);
      await repairImageWindows({ image: img, dryRun: true }, host);
      expect(host.attaches).toEqual([{ file: img, readOnly: true }]);
      expect(sha256(img)).toBe(sha);
      expectNothingLeft(host);
      rmSync(img);
    } finally {
      host.close();
    }
  }, 300_000);

  it('a VHDX held open writable by another qemu-storage-daemon: diskpart cannot attach it, refused with one line, nothing written', async () => {
    const img = path.join(tmp, 'busy.vhdx');
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', raw, img]);
    const sha = sha256(img);
    const d = spawnSync('qemu-storage-daemon', [
      '--daemonize',
      '--blockdev',
      `driver=vhdx,node-name=busy,file.driver=file,file.filename=${img}`,
      '--pidfile',
      path.join(tmp, 'busy.pid'),
    ]);
    expect(d.status, String(d.stderr)).toBe(0);
    const host = newHost();
    try {
      const e = await scanVdiskWindows(host, img).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RefusedError);
      expect((e as RefusedError).code).toBe('vdisk-attach');
      expect((e as Error).message).toMatch(/could not attach .*Nothing was written$/);
      expect((e as Error).message).not.toMatch(/\n/);
      expect(host.attached()).toBeUndefined();
    } finally {
      host.close();
      spawnSync('sh', ['-c', `kill $(cat ${path.join(tmp, 'busy.pid')})`]);
      for (let i = 0; i < 100 && ownDaemons(tmp).length; i++) spawnSync('sleep', ['0.1']);
    }
    expect(sha256(img)).toBe(sha);
    expectNothingLeft();
    rmSync(img);
  }, 300_000);
});
