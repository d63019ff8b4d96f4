// winre with --winre-source (issue #19, item 6): a laptop whose recovery partition lost Winre.wim
// (and Windows\System32\Recovery has none), so the winre repair refuses; given the install media
// (an install.wim wimlib builds like Microsoft's: image 1 Windows 10 Pro build 19045 holding
// Windows\System32\Recovery\Winre.wim, a WinRE WIM of build 19041, and Windows\Boot\DVD\EFI\boot.sdi;
// image 2 Windows 11 build 22621), `repair --only winre --winre-source install.wim --yes` picks
// image 1, rebuilds the partition and puts exactly the extracted files there (sha256 equal);
// `undo --last` brings the old partition back (again without Winre.wim). Media that cannot match the
// offline Windows are refused before anything is written: another build (also chosen by index), an
// image without Winre.wim, a file that is no WIM, a Winre.wim of another build.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, withMountedNtfs } from '../helpers/winbuilder.js';
import { buildWinreDisk, laptopParts, readImageLayout, type WinreDisk } from '../helpers/winre-images.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB, run } from '../helpers/disk-images.js';
import { ownDevices } from '../helpers/own.js';
import { runCli } from '../helpers/cli.js';
import { win10Winre } from '../scan/scenarios.js';
import { RE_TYPE } from '../helpers/winre-checks.js';
import type { ScanReport } from '../../src/model/scan.js';

const reason = skipReason(
  sharedReason(),
  toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'wimcapture', 'wimappend', 'wimextract', 'ntfsresize'),
  diskToolsReason(),
);

const SIZE = 4 * GiB;

/** --image-property arguments for a Windows version and edition. */
const props = (build: number, sp: number, edition: string, arch = 9) =>
  [
    ['WINDOWS/VERSION/MAJOR', '10'],
    ['WINDOWS/VERSION/MINOR', '0'],
    ['WINDOWS/VERSION/BUILD', String(build)],
    ['WINDOWS/VERSION/SPBUILD', String(sp)],
    ['WINDOWS/EDITIONID', edition],
    ['WINDOWS/ARCH', String(arch)],
  ].flatMap(([k, v]) => ['--image-property', `${k}=${v}`]);

describe.skipIf(!!reason)(`winre --winre-source: Winre.wim from the install media${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  let disk: WinreDisk | undefined;
  let pristine = '';
  /** sha256 of the Winre.wim and boot.sdi inside image 1 of install.wim. */
  let wimSha = '';
  let sdiSha = '';
  let installWim = '';

  /** A WinRE WIM of `build` (random payload so its hash means something). */
  function winreWim(dir: string, build: number): string {
    const src = path.join(dir, `winre-src-${build}`);
    mkdirSync(path.join(src, 'Windows', 'System32'), { recursive: true });
    writeFileSync(path.join(src, 'Windows', 'System32', 'winpeshl.payload'), randomBytes(2 * MiB));
    writeFileSync(path.join(src, 'Windows', 'System32', 'winpeshl.ini'), '[LaunchApps]\r\n%SYSTEMDRIVE%\\sources\\recovery\\recenv.exe\r\n');
    const wim = path.join(dir, `Winre-${build}.wim`);
    run('wimcapture', [src, wim, 'Microsoft Windows Recovery Environment (x64)', '--compress=none', ...props(build, 3920, 'WindowsPE')]);
    rmSync(src, { recursive: true, force: true });
    return wim;
  }

  /** An install image tree: Windows\System32\Recovery\Winre.wim (when given) and boot.sdi. */
  function installTree(dir: string, name: string, winre: string | undefined, sdi: Buffer): string {
    const t = path.join(dir, name);
    mkdirSync(path.join(t, 'Windows', 'System32', 'Recovery'), { recursive: true });
    mkdirSync(path.join(t, 'Windows', 'Boot', 'DVD', 'EFI'), { recursive: true });
    if (winre) run('cp', [winre, path.join(t, 'Windows', 'System32', 'Recovery', 'Winre.wim')]);
    writeFileSync(path.join(t, 'Windows', 'Boot', 'DVD', 'EFI', 'boot.sdi'), sdi);
    writeFileSync(path.join(t, 'Windows', 'System32', 'ntoskrnl.exe'), randomBytes(64 * 1024));
    return t;
  }

  const recFiles = (img: string) => {
    const l = readImageLayout(img);
    const rec = l.partitions.find((p) => p.type === RE_TYPE)!;
    return withMountedNtfs(img, rec.start, rec.size, (mnt) => {
      const d = path.join(mnt, 'Recovery', 'WindowsRE');
      const f = (n: string) => (existsSync(path.join(d, n)) ? sha256(path.join(d, n)) : undefined);
      return { size: rec.size, wim: f('Winre.wim'), sdi: f('boot.sdi') };
    });
  };

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-wsrc-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, { ...win10Winre, processorArchitecture: 'AMD64' });
    disk = buildWinreDisk(path.join(tmp, 'laptop.img'), { scheme: 'gpt', size: SIZE, tree, parts: laptopParts(SIZE, 82 * MiB) });
    rmSync(tree, { recursive: true, force: true });
    // Winre.wim lost from the recovery partition (boot.sdi stays).
    withMountedNtfs(disk.file, disk.recovery!.start, disk.recovery!.size, (mnt) => rmSync(path.join(mnt, 'Recovery', 'WindowsRE', 'Winre.wim')));
    pristine = path.join(tmp, 'pristine.img');
    run('cp', ['--sparse=always', disk.file, pristine]);

    const sdi = randomBytes(3 * MiB);
    const w10 = winreWim(tmp, 19041);
    const w11 = winreWim(tmp, 22621);
    installWim = path.join(tmp, 'install.wim');
    run('wimcapture', [installTree(tmp, 'pro', w10, sdi), installWim, 'Windows 10 Pro', '--compress=lzx', ...props(19045, 2006, 'Professional')]);
    run('wimappend', [installTree(tmp, 'w11', w11, sdi), installWim, 'Windows 11 Pro', ...props(22621, 1702, 'Professional')]);
    wimSha = sha256(w10);
    const sdiFile = path.join(tmp, 'boot.sdi');
    writeFileSync(sdiFile, sdi);
    sdiSha = sha256(sdiFile);
  }, 600_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('without it: the winre repair refuses and says to give --winre-source; nothing written', () => {
    const before = sha256(disk!.file);
    const r = runCli(['repair', '--image', disk!.file, '--only', 'winre', '--yes', '--json']);
    expect(r.status, r.stderr).toBe(3);
    const e = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
    expect(e.code).toBe('winre-no-wim');
    expect(e.message).toMatch(/--winre-source <sources\\install\.wim or install\.esd>/);
    expect(sha256(disk!.file)).toBe(before);
  });

  it('repair --winre-source install.wim: image 1 (build 19045) chosen, the new partition holds exactly the extracted Winre.wim and boot.sdi; undo brings the old partition back', () => {
    const img = disk!.file;
    expect(recFiles(img).wim).toBeUndefined();
    const wtmp = path.join(tmp, 'wtmp');
    mkdirSync(wtmp, { recursive: true });
    const r = runCli(['repair', '--image', img, '--only', 'winre', '--winre-source', installWim, '--yes'], { env: { TMPDIR: wtmp } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/install\.wim \(image 1, 10\.0\.19041\.3920\), extracted with wimlib/);
    expect(r.stderr).toMatch(/extracting Winre\.wim and boot\.sdi from image 1 "Windows 10 Pro" \(10\.0\.19045\.2006\)/);
    const after = recFiles(img);
    expect(after.size).toBeGreaterThan(900 * MiB);
    expect(after.wim).toBe(wimSha);
    expect(after.sdi).toBe(sdiSha);
    const scan = JSON.parse(runCli(['scan', '--image', img, '--json']).stdout) as ScanReport;
    expect(scan.targets[0]!.findings.filter((f) => f.id.startsWith('winre-')).map((f) => f.id)).toEqual([]);
    // The extraction folder went with the process.
    expect(readdirSync(wtmp).filter((n) => n.startsWith('wufix-winre-'))).toEqual([]);
    expect(ownDevices(tmp)).toEqual({ loops: [], mounts: [] });

    const u = runCli(['undo', '--image', img, '--last']);
    expect(u.status, u.stderr).toBe(0);
    const back = recFiles(img);
    expect(back.size).toBe(disk!.recovery!.size);
    expect(back.wim).toBeUndefined();
    expect(back.sdi).toBe(recFiles(pristine).sdi);
    expect(ownDevices(tmp)).toEqual({ loops: [], mounts: [] });
    rmSync(`${img}.wufix-journal`, { recursive: true, force: true });
  }, 600_000);

  it('media that cannot match are refused (exit 3, one line, nothing written): another build, an index of another build, no Winre.wim, not a WIM, another architecture, a Winre.wim of another build', () => {
    const img = disk!.file;
    const before = sha256(img);
    const sdi = randomBytes(MiB);
    const only11 = path.join(tmp, 'only11.wim');
    run('wimcapture', [installTree(tmp, 'o11', winreWim(tmp, 22621), sdi), only11, 'Windows 11 Pro', ...props(22631, 2861, 'Professional')]);
    const noWinre = path.join(tmp, 'nowinre.wim');
    run('wimcapture', [installTree(tmp, 'nw', undefined, sdi), noWinre, 'Windows 10 Pro', ...props(19045, 2006, 'Professional')]);
    const wrongInner = path.join(tmp, 'wronginner.wim');
    run('wimcapture', [installTree(tmp, 'wi', winreWim(tmp, 22000), sdi), wrongInner, 'Windows 10 Pro', ...props(19045, 2006, 'Professional')]);
    const arm64 = path.join(tmp, 'arm64.wim');
    run('wimcapture', [installTree(tmp, 'a64', winreWim(tmp, 19041), sdi), arm64, 'Windows 10 Pro', ...props(19045, 2006, 'Professional', 12)]);
    const notWim = path.join(tmp, 'install.esd');
    writeFileSync(notWim, randomBytes(4096));
    const cases: [string[], string, RegExp][] = [
      [['--winre-source', only11], 'winre-source-mismatch', /no image of .*only11\.wim is Windows build 19045 \(it has 1: 10\.0\.22631\.2861\)/],
      [
        ['--winre-source', installWim, '--winre-source-index', '2'],
        'winre-source-mismatch',
        /image 2 "Windows 11 Pro" \(10\.0\.22621\.1702\) .* is not Windows build 19045/,
      ],
      [['--winre-source', noWinre], 'winre-source-no-winre', /has no Windows\\System32\\Recovery\\Winre\.wim/],
      [['--winre-source', notWim], 'winre-source-bad', /is not a WIM\/ESD wufix can read/],
      [['--winre-source', arm64], 'winre-source-mismatch', /image 1 "Windows 10 Pro" \(10\.0\.19045\.2006\) of .*arm64\.wim is arm64, the offline Windows x64/],
      [['--winre-source', wrongInner], 'winre-source-mismatch', /Winre\.wim in image 1 .* is build 22000, the offline Windows 19045/],
    ];
    for (const [args, code, msg] of cases) {
      const r = runCli(['repair', '--image', img, '--only', 'winre', ...args, '--yes', '--json']);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      const e = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
      expect(e.code, args.join(' ')).toBe(code);
      expect(e.message).toMatch(msg);
      expect(e.message).not.toMatch(/\n/);
    }
    // Usage: the index alone, or --winre-source with --only naming other repairs.
    expect(runCli(['repair', '--image', img, '--winre-source-index', '1']).status).toBe(1);
    expect(runCli(['repair', '--image', img, '--only', 'wintrust', '--winre-source', installWim]).status).toBe(1);
    expect(sha256(img)).toBe(before);
    expect(existsSync(`${img}.wufix-journal`)).toBe(false);
  }, 600_000);
});
