// --winre-source on Windows/WinPE (issue #19, item 6): the install image is mounted read-only with
// DISM and Winre.wim/boot.sdi are read from the mount; the mount is discarded when the process
// ends. The command lines are golden files reviewed against learn.microsoft.com ("DISM Image
// Management Command-Line Options": /Mount-Image /ImageFile /Index /MountDir /ReadOnly,
// /Unmount-Image /MountDir /Discard). The stand-in for dism.exe runs wimlib's FUSE mount, which is
// read-only as DISM's /ReadOnly is, over a real wimlib-built install.wim.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dismErrorText, dismMountArgs, dismMountOpener, dismUnmountArgs, unmountAllSync, type DismSync } from '../../src/platform/dism-mount.js';
import { commandLine } from '../../src/platform/windows.js';
import { winreFromInstallWim } from '../../src/winre/install-wim.js';
import { skipReason, toolsReason } from '../helpers/env.js';
import { refusalOf } from '../helpers/refusal.js';

const GOLDEN = path.join(__dirname, 'golden', 'winre-source-mount.cmd.txt');
const reason = skipReason(toolsReason('wimcapture', 'wimmount', 'wimunmount'), process.getuid?.() === 0 ? undefined : 'FUSE mounts need root');
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const mounted = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === dir);

describe('DISM mount: command lines', () => {
  it('mount read-only and discard: golden (paths with spaces, forward slashes turned, no trailing backslash)', () => {
    const dism = 'X:\\Windows\\System32\\Dism.exe';
    const lines = [
      commandLine(dism, dismMountArgs('D:/sources/install.wim', 6, 'X:\\Windows\\TEMP\\wufix-winre-mount-a1B2c3\\')),
      commandLine(dism, dismUnmountArgs('X:\\Windows\\TEMP\\wufix-winre-mount-a1B2c3')),
      commandLine(dism, dismMountArgs('E:\\Win 11 media (x64)\\sources\\install.wim', 1, 'C:\\Users\\tech one\\AppData\\Local\\Temp\\wufix-winre-mount-Zz9')),
    ];
    expect(`${lines.join('\r\n')}\r\n`).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it("DISM's error line is what the refusal quotes; control characters are not passed on", () => {
    const out =
      'Deployment Image Servicing and Management tool\r\nVersion: 10.0.26100.1\r\n\r\nError: 0xc1420127\r\n\r\nThe specified image in the specified wim is already mounted for read/write access.\r\n';
    expect(dismErrorText(out)).toBe('Error: 0xc1420127 The specified image in the specified wim is already mounted for read/write access.');
    expect(dismErrorText('\x1b[31mboom')).toBe('?[31mboom');
    expect(dismErrorText('')).toBe('no output');
  });
});

describe.skipIf(!!reason)(`DISM mount: a wimlib-built install.wim through a read-only FUSE stand-in${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  let wim = '';
  let esd = '';
  let winreSha = '';
  let sdiSha = '';
  const calls: string[][] = [];
  /** dism.exe's stand-in: /Mount-Image /ReadOnly = wimmount (read-only), /Unmount-Image /Discard = wimunmount. */
  const standIn: DismSync = (args) => {
    calls.push(args);
    // dism takes Windows paths: this host's are the same with / for \.
    const arg = (k: string) =>
      args
        .find((a) => a.startsWith(`/${k}:`))
        ?.slice(k.length + 2)
        .replace(/\\/g, '/');
    if (args.includes('/Mount-Image') && args.includes('/ReadOnly')) {
      const r = spawnSync('wimmount', [arg('ImageFile')!, arg('Index')!, arg('MountDir')!], { encoding: 'utf8' });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }
    if (args.includes('/Unmount-Image') && args.includes('/Discard')) {
      const r = spawnSync('wimunmount', [arg('MountDir')!], { encoding: 'utf8' });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }
    return { status: 87, output: 'Error: 87\r\n\r\nThe option is unknown.' };
  };
  const props = (arch: number) =>
    [
      ['WINDOWS/VERSION/MAJOR', '10'],
      ['WINDOWS/VERSION/MINOR', '0'],
      ['WINDOWS/VERSION/BUILD', '19045'],
      ['WINDOWS/VERSION/SPBUILD', '2006'],
      ['WINDOWS/EDITIONID', 'Professional'],
      ['WINDOWS/ARCH', String(arch)],
    ].flatMap(([k, v]) => ['--image-property', `${k}=${v}`]);

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-dismmount-'));
    const re = path.join(tmp, 're');
    mkdirSync(path.join(re, 'Windows', 'System32'), { recursive: true });
    writeFileSync(path.join(re, 'Windows', 'System32', 'payload'), randomBytes(1024 * 1024));
    const winre = path.join(tmp, 'Winre.wim');
    expect(spawnSync('wimcapture', [re, winre, 'WinRE', '--compress=none', ...props(9).map((p) => p.replace('19045', '19041'))]).status).toBe(0);
    const t = path.join(tmp, 'tree');
    mkdirSync(path.join(t, 'Windows', 'System32', 'Recovery'), { recursive: true });
    mkdirSync(path.join(t, 'Windows', 'Boot', 'DVD', 'PCAT'), { recursive: true });
    writeFileSync(path.join(t, 'Windows', 'System32', 'Recovery', 'Winre.wim'), readFileSync(winre));
    writeFileSync(path.join(t, 'Windows', 'Boot', 'DVD', 'PCAT', 'boot.sdi'), randomBytes(3 * 1024 * 1024)); // BIOS media: PCAT only
    wim = path.join(tmp, 'install.wim');
    expect(spawnSync('wimcapture', [t, wim, 'Windows 10 Pro', '--compress=lzx', ...props(9)]).status).toBe(0);
    esd = path.join(tmp, 'install.esd');
    expect(spawnSync('wimcapture', [t, esd, 'Windows 10 Pro', '--solid', ...props(9)]).status).toBe(0);
    winreSha = sha(winre);
    sdiSha = sha(path.join(t, 'Windows', 'Boot', 'DVD', 'PCAT', 'boot.sdi'));
  }, 120_000);
  afterAll(() => {
    unmountAllSync();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const system = { currentBuild: 19045, editionId: 'Professional', architecture: 'x64' };

  it('Winre.wim and boot.sdi (PCAT) read from the read-only mount, hashes equal; discarded at the end, its folder gone', async () => {
    const mnt = path.join(tmp, 'mnt');
    mkdirSync(mnt);
    calls.length = 0;
    const src = await winreFromInstallWim(wim, system, { open: dismMountOpener(standIn, mnt) });
    const dir = path.join(mnt, readdirSync(mnt)[0]!);
    expect(calls).toEqual([dismMountArgs(wim, 1, dir)]);
    expect(mounted(dir)).toBe(true);
    expect(src.files.map((f) => [f.name, f.sha256, f.host])).toEqual([
      ['Winre.wim', winreSha, path.join(dir, 'Windows', 'System32', 'Recovery', 'Winre.wim')],
      ['boot.sdi', sdiSha, path.join(dir, 'Windows', 'Boot', 'DVD', 'PCAT', 'boot.sdi')],
    ]);
    expect(src.version).toBe('10.0.19041.2006');
    // Read-only, as /ReadOnly: the mount refuses a write.
    expect(() => writeFileSync(path.join(dir, 'x'), 'y')).toThrow();
    expect(unmountAllSync()).toEqual([dir]);
    expect(calls.at(-1)).toEqual(dismUnmountArgs(dir));
    expect(mounted(dir)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);

  it('refused: an ESD (no DISM call), a failed mount (DISM words quoted, folder removed), a link inside the image (not followed), another architecture (no mount)', async () => {
    const mnt = path.join(tmp, 'mnt2');
    mkdirSync(mnt);
    calls.length = 0;
    const e1 = await refusalOf(winreFromInstallWim(esd, system, { open: dismMountOpener(standIn, mnt) }));
    expect(e1.code).toBe('winre-source-bad');
    expect(e1.message).toMatch(/is an ESD \(solid LZMS\), which DISM cannot mount: .*dism \/Export-Image \/SourceImageFile:.*install\.esd \/SourceIndex:1 /);
    expect(calls).toEqual([]);
    const failing: DismSync = (args) => {
      calls.push(args);
      return args.includes('/Mount-Image')
        ? { status: 5, output: 'Error: 5\r\n\r\nAccess is denied.\r\n' }
        : { status: 0, output: 'The operation completed successfully.' };
    };
    const e2 = await refusalOf(winreFromInstallWim(wim, system, { open: dismMountOpener(failing, mnt) }));
    expect(e2.message).toMatch(/^DISM could not mount image 1 of .*install\.wim read-only: Error: 5 Access is denied\.; nothing was written$/);
    expect(calls.map((c) => c[1])).toEqual(['/Mount-Image', '/Unmount-Image']);
    expect(readdirSync(mnt)).toEqual([]);
    // A link inside the image (Recovery -> a folder of this host holding a Winre.wim): not followed.
    const host = path.join(tmp, 'host-secret');
    mkdirSync(host, { recursive: true });
    writeFileSync(path.join(host, 'Winre.wim'), readFileSync(path.join(tmp, 'Winre.wim')));
    const lt = path.join(tmp, 'linktree');
    mkdirSync(path.join(lt, 'Windows', 'System32'), { recursive: true });
    mkdirSync(path.join(lt, 'Windows', 'Boot', 'DVD', 'PCAT'), { recursive: true });
    writeFileSync(path.join(lt, 'Windows', 'Boot', 'DVD', 'PCAT', 'boot.sdi'), randomBytes(4096));
    symlinkSync(host, path.join(lt, 'Windows', 'System32', 'Recovery'));
    const linked = path.join(tmp, 'linked.wim');
    expect(spawnSync('wimcapture', [lt, linked, 'Windows 10 Pro', ...props(9)]).status).toBe(0);
    const e4 = await refusalOf(winreFromInstallWim(linked, system, { open: dismMountOpener(standIn, mnt) }));
    expect(e4.code).toBe('winre-source-no-winre');
    unmountAllSync();
    calls.length = 0;
    const e3 = await refusalOf(winreFromInstallWim(wim, { ...system, architecture: 'arm64' }, { open: dismMountOpener(standIn, mnt) }));
    expect(e3.message).toMatch(/is x64, the offline Windows arm64/);
    expect(calls).toEqual([]);
  }, 120_000);
});
