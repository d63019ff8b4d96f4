// WinPE packaging scripts in winpe/: add-to-wim.sh run with wimlib on synthetic boot.wim files laid
// out like real WinPE media (checked back with wimdir, wimextract, wiminfo and wimverify), and the
// ADK script add-to-winpe.cmd and the menu startnet.cmd read as batch files: their commands in
// order, each checked, with CRLF line endings. (test/build/exe.test.ts runs startnet.cmd under
// Wine's cmd.)
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/env.js';
import { wimtoolsReason } from './prereq.js';

const WINPE = path.join(PROJECT_ROOT, 'winpe');
const ADD_TO_WIM = path.join(WINPE, 'add-to-wim.sh');
const STARTNET = path.join(WINPE, 'startnet.cmd');
const ADD_TO_WINPE = path.join(WINPE, 'add-to-winpe.cmd');
const ORIGINAL_STARTNET = 'wpeinit\r\n';

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The lines of a batch file (CRLF), without @, comments and blank lines, with their 1-based numbers. */
function batchLines(file: string): { n: number; text: string }[] {
  return readFileSync(file, 'latin1')
    .split('\r\n')
    .map((l, i) => ({ n: i + 1, text: l.trim().replace(/^@/, '') }))
    .filter((l) => l.text !== '' && !/^(rem(\s|$)|::)/i.test(l.text));
}

describe('winpe/*.cmd are batch files cmd.exe reads as written', () => {
  for (const f of [STARTNET, ADD_TO_WINPE]) {
    it(`${path.basename(f)}: ASCII, CRLF line endings only, ends with CRLF`, () => {
      const b = readFileSync(f);
      expect(b.every((c) => c < 0x80)).toBe(true);
      const s = b.toString('latin1');
      expect(s.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      expect(s.endsWith('\r\n')).toBe(true);
    });
    it(`${path.basename(f)}: every goto / call :label target exists`, () => {
      const lines = batchLines(f);
      const labels = new Set(lines.filter((l) => l.text.startsWith(':')).map((l) => l.text.slice(1).toLowerCase()));
      const targets = lines.flatMap((l) => [...l.text.matchAll(/\b(?:goto\s+:?|call\s+:)([A-Za-z_][\w]*)/gi)].map((m) => m[1]!.toLowerCase()));
      expect(targets.length).toBeGreaterThan(0);
      for (const t of targets) if (t !== 'eof') expect(labels, `label :${t}`).toContain(t);
    });
  }
});

describe('winpe/add-to-winpe.cmd (Windows ADK)', () => {
  const lines = batchLines(ADD_TO_WINPE);
  // The build, in the order it must happen: [what, pattern of the command line].
  const OC = '"%OC%\\';
  const steps: [string, RegExp][] = [
    ['copype', /^call copype amd64 "%WORK%"$/i],
    ['mount', /^Dism \/Mount-Image \/ImageFile:"%WIM%" \/Index:1 \/MountDir:"%MOUNT%"$/i],
    ['WMI', pkg('WinPE-WMI.cab')],
    ['WMI en-us', pkg('en-us\\WinPE-WMI_en-us.cab')],
    ['SecureStartup', pkg('WinPE-SecureStartup.cab')],
    ['SecureStartup en-us', pkg('en-us\\WinPE-SecureStartup_en-us.cab')],
    ['EnhancedStorage', pkg('WinPE-EnhancedStorage.cab')],
    ['EnhancedStorage en-us', pkg('en-us\\WinPE-EnhancedStorage_en-us.cab')],
    ['copy exe', /^copy \/b \/y "%EXE%" "%MOUNT%\\wufix\\wufix\.exe"/i],
    ['copy menu', /^copy \/b \/y "%STARTNET%" "%MOUNT%\\Windows\\System32\\startnet\.cmd"/i],
    ['unmount commit', /^Dism \/Unmount-Image \/MountDir:"%MOUNT%" \/Commit$/i],
    ['media', /^call MakeWinPEMedia \/(ISO|UFD) /i],
  ];
  function pkg(cab: string): RegExp {
    const esc = (OC + cab + '"').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`^Dism /Add-Package /Image:"%MOUNT%" /PackagePath:${esc}$`, 'i');
  }
  const index = (re: RegExp) => lines.findIndex((l) => re.test(l.text));

  it('runs copype, Dism /Mount-Image, the three packages with their en-us packs, copy, /Unmount-Image /Commit, MakeWinPEMedia in that order', () => {
    const at = steps.map(([what, re]) => {
      const i = index(re);
      expect(i, `${what}: no line matches ${re}`).toBeGreaterThanOrEqual(0);
      return i;
    });
    for (let k = 1; k < at.length; k++) expect(at[k], `${steps[k]![0]} after ${steps[k - 1]![0]}`).toBeGreaterThan(at[k - 1]!);
    // Each of these commands appears once (the failure path's unmount is /Discard).
    for (const [what, re] of steps.slice(0, -1))
      expect(
        lines.filter((l) => re.test(l.text)),
        what,
      ).toHaveLength(1);
  });

  it('checks every step with `if errorlevel 1` on the next line; failures after the mount discard it', () => {
    const mount = index(steps[1]![1]);
    const commit = index(steps[10]![1]);
    const checked = /^(call copype|Dism |copy |call MakeWinPEMedia|mkdir |if not exist "%MOUNT%\\wufix" mkdir )/i;
    const commands = lines.map((l, i) => ({ ...l, i })).filter((l) => checked.test(l.text));
    expect(commands.length).toBeGreaterThanOrEqual(steps.length + 1);
    for (const c of commands) {
      const next = lines[c.i + 1]?.text ?? '';
      if (/\/Discard$/i.test(c.text)) continue; // the failure path itself
      const m = /^if errorlevel 1 goto (\w+)$/i.exec(next);
      expect(m, `line ${c.n} "${c.text}" is followed by "${next}"`).not.toBeNull();
      const target = m![1]!.toLowerCase();
      if (c.i > mount && c.i <= commit) expect(target, `line ${c.n}`).toBe('fail_mounted');
      else expect(target, `line ${c.n}`).toBe('fail');
    }
  });

  it('the failure path after the mount unmounts with /Discard and exits 1; preconditions come before copype', () => {
    const label = lines.findIndex((l) => /^:fail_mounted$/i.test(l.text));
    expect(label).toBeGreaterThan(0);
    const after = lines.slice(label + 1, label + 5).map((l) => l.text);
    expect(after).toContainEqual('Dism /Unmount-Image /MountDir:"%MOUNT%" /Discard');
    expect(after).toContain('exit /b 1');
    const copype = index(steps[0]![1]);
    for (const check of [/^fltmc\b/i, /^if "%WinPERoot%"==""/i, /^where copype\b/i, /^if not exist "%EXE%"/i, /^if exist "%WORK%"/i]) {
      const i = index(check);
      expect(i, String(check)).toBeGreaterThanOrEqual(0);
      expect(i, String(check)).toBeLessThan(copype);
    }
  });

  it('/ISO overwrites without asking (/F), /UFD lets MakeWinPEMedia ask before formatting', () => {
    expect(index(/^call MakeWinPEMedia \/ISO \/F "%WORK%" "%TARGET%"$/i)).toBeGreaterThan(0);
    expect(index(/^call MakeWinPEMedia \/UFD "%WORK%" "%TARGET%"$/i)).toBeGreaterThan(0);
  });
});

describe('winpe/startnet.cmd (the menu)', () => {
  const lines = batchLines(STARTNET).map((l) => l.text);
  it('runs wpeinit first (unless asked for the menu only), then offers scan, repair dry run and a shell', () => {
    const wpeinit = lines.findIndex((l) => /\bwpeinit$/i.test(l));
    expect(lines[wpeinit]).toBe('if /i not "%~1"=="menu" wpeinit');
    const menu = lines.indexOf(':menu');
    expect(menu).toBeGreaterThan(wpeinit);
    const choice = (n: number) =>
      lines
        .find((l) => l.startsWith(`if "%CH%"=="${n}" goto `))
        ?.split(' ')
        .pop();
    expect([choice(1), choice(2), choice(3)]).toEqual(['scan', 'dryrun', 'shell']);
    const body = (label: string) => lines.slice(lines.indexOf(`:${label}`) + 1);
    expect(body('scan')[0]).toBe('"%WUFIX%" scan');
    expect(body('dryrun')).toContain('"%WUFIX%" repair --root %DRV%:\\ --dry-run');
    expect(body('shell')).toContain('exit /b 0');
  });
  it('finds wufix.exe in X:\\wufix (where both scripts put it) or \\wufix on another drive', () => {
    expect(lines).toContain('if not defined WUFIX if exist "%SystemDrive%\\wufix\\wufix.exe" set "WUFIX=%SystemDrive%\\wufix\\wufix.exe"');
    expect(lines.some((l) => /^if not defined WUFIX for %%d in \(C D .* Z\) do .*"%%d:\\wufix\\wufix\.exe"/.test(l))).toBe(true);
  });
});

const reason = wimtoolsReason();
if (reason) console.warn(`test/build/winpe.test.ts: add-to-wim.sh tests skipped: ${reason}`);
describe.skipIf(!!reason)(`winpe/add-to-wim.sh on synthetic boot.wim files${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  let exe = '';
  const exeBytes = randomBytes(256 * 1024);

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-winpe-'));
    exe = path.join(tmp, 'dummy-wufix.exe');
    writeFileSync(exe, Buffer.concat([Buffer.from('MZ'), exeBytes]));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A WinPE-like tree: Windows/System32 with the stock startnet.cmd, a config hive, boot files. */
  function tree(name: string, marker: string): string {
    const d = path.join(tmp, name);
    mkdirSync(path.join(d, 'Windows', 'System32', 'config'), { recursive: true });
    writeFileSync(path.join(d, 'Windows', 'System32', 'startnet.cmd'), ORIGINAL_STARTNET);
    writeFileSync(path.join(d, 'Windows', 'System32', 'config', 'SYSTEM'), `regf ${marker}`);
    writeFileSync(path.join(d, 'Windows', 'System32', 'winload.exe'), `MZ ${marker}`);
    return d;
  }
  /** Like copype's media/sources/boot.wim: one image, boot index 1. */
  function copypeWim(name: string): string {
    const wim = path.join(tmp, `${name}.wim`);
    ok('wimcapture', [tree(`${name}-1`, 'pe'), wim, 'Microsoft Windows PE (amd64)', '--compress=LZX', '--boot']);
    return wim;
  }
  /** Like a Windows ISO's sources/boot.wim: 1 "Microsoft Windows PE", 2 "Microsoft Windows Setup" (boot index 2). */
  function setupWim(name: string): string {
    const wim = path.join(tmp, `${name}.wim`);
    ok('wimcapture', [tree(`${name}-1`, 'pe'), wim, 'Microsoft Windows PE (amd64)', '--compress=LZX']);
    ok('wimappend', [tree(`${name}-2`, 'setup'), wim, 'Microsoft Windows Setup (amd64)', '--boot']);
    return wim;
  }
  const info = (wim: string, key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(ok('wiminfo', [wim]))?.[1];
  const listing = (wim: string, index: number) =>
    ok('wimdir', [wim, String(index)])
      .split('\n')
      .filter(Boolean);
  function extract(wim: string, index: number, files: string[]): Buffer[] {
    const dest = mkdtempSync(path.join(tmp, 'x-'));
    ok('wimextract', [wim, String(index), ...files, `--dest-dir=${dest}`, '--no-acls']);
    return files.map((f) => readFileSync(path.join(dest, path.basename(f))));
  }
  const addToWim = (...args: string[]) => run('bash', [ADD_TO_WIM, ...args]);

  it('copype layout (one image): adds /wufix/wufix.exe and the menu as startnet.cmd to image 1, keeps the rest', () => {
    const wim = copypeWim('copype');
    const r = addToWim(wim, exe);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('image 1');
    const files = listing(wim, 1);
    expect(files).toEqual(
      expect.arrayContaining([
        '/wufix',
        '/wufix/wufix.exe',
        '/Windows/System32/startnet.cmd',
        '/Windows/System32/config/SYSTEM',
        '/Windows/System32/winload.exe',
      ]),
    );
    expect(files.filter((f) => /startnet\.cmd$/i.test(f))).toEqual(['/Windows/System32/startnet.cmd']);
    const [gotExe, gotMenu, system] = extract(wim, 1, ['/wufix/wufix.exe', '/Windows/System32/startnet.cmd', '/Windows/System32/config/SYSTEM']);
    expect(sha(gotExe!)).toBe(sha(readFileSync(exe)));
    expect(gotMenu!.equals(readFileSync(STARTNET))).toBe(true);
    expect(system!.toString()).toBe('regf pe');
    expect(info(wim, 'Image Count')).toBe('1');
    expect(info(wim, 'Boot Index')).toBe('1');
    ok('wimverify', [wim]);
  });

  it('Windows setup layout (two images): the boot index, 2, gets wufix; image 1 is untouched', () => {
    const wim = setupWim('setup');
    const before1 = listing(wim, 1);
    const r = addToWim(wim, exe);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('image 2');
    expect(listing(wim, 2)).toEqual(expect.arrayContaining(['/wufix/wufix.exe', '/Windows/System32/startnet.cmd']));
    expect(listing(wim, 1)).toEqual(before1);
    const [menu1] = extract(wim, 1, ['/Windows/System32/startnet.cmd']);
    expect(menu1!.toString()).toBe(ORIGINAL_STARTNET);
    const [menu2, system2] = extract(wim, 2, ['/Windows/System32/startnet.cmd', '/Windows/System32/config/SYSTEM']);
    expect(menu2!.equals(readFileSync(STARTNET))).toBe(true);
    expect(system2!.toString()).toBe('regf setup');
    expect(info(wim, 'Boot Index')).toBe('2');
    ok('wimverify', [wim]);
  });

  it('an explicit index wins over the boot index', () => {
    const wim = setupWim('explicit');
    expect(addToWim(wim, exe, '1').status).toBe(0);
    expect(listing(wim, 1)).toContain('/wufix/wufix.exe');
    expect(listing(wim, 2)).not.toContain('/wufix/wufix.exe');
  });

  it('run again with a new exe: replaces both files, one copy of each', () => {
    const wim = copypeWim('again');
    expect(addToWim(wim, exe).status).toBe(0);
    const exe2 = path.join(tmp, 'wufix-v2.exe');
    writeFileSync(exe2, Buffer.concat([Buffer.from('MZ v2'), randomBytes(1000)]));
    expect(addToWim(wim, exe2).status).toBe(0);
    const files = listing(wim, 1);
    expect(files.filter((f) => /wufix\.exe$/i.test(f))).toEqual(['/wufix/wufix.exe']);
    const [gotExe] = extract(wim, 1, ['/wufix/wufix.exe']);
    expect(gotExe!.equals(readFileSync(exe2))).toBe(true);
    ok('wimverify', [wim]);
  });

  it('an image whose directories are spelled windows/system32 gets its startnet.cmd replaced, not a second one', () => {
    const d = path.join(tmp, 'lower');
    mkdirSync(path.join(d, 'windows', 'system32'), { recursive: true });
    writeFileSync(path.join(d, 'windows', 'system32', 'startnet.cmd'), ORIGINAL_STARTNET);
    const wim = path.join(tmp, 'lower.wim');
    ok('wimcapture', [d, wim, 'lower', '--boot']);
    expect(addToWim(wim, exe).status).toBe(0);
    const files = listing(wim, 1);
    expect(files.filter((f) => /startnet\.cmd$/i.test(f))).toEqual(['/windows/system32/startnet.cmd']);
    const [menu] = extract(wim, 1, ['/windows/system32/startnet.cmd']);
    expect(menu!.equals(readFileSync(STARTNET))).toBe(true);
  });

  it('warns when the image has a winpeshl.ini (it would run instead of startnet.cmd)', () => {
    const d = tree('peshl', 'pe');
    writeFileSync(path.join(d, 'Windows', 'System32', 'winpeshl.ini'), '[LaunchApps]\r\n%SYSTEMROOT%\\System32\\wpeinit.exe\r\n');
    const wim = path.join(tmp, 'peshl.wim');
    ok('wimcapture', [d, wim, 'peshl', '--boot']);
    const r = addToWim(wim, exe);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: image 1 has Windows\/System32\/winpeshl\.ini/);
  });

  it('refuses (exit 1, WIM unchanged): an index out of range, a missing exe, no boot index among several images; usage: exit 2', () => {
    const wim = setupWim('refuse');
    const before = sha(readFileSync(wim));
    const r1 = addToWim(wim, exe, '3');
    expect(r1.status).toBe(1);
    expect(r1.stderr).toContain('image index 3: ');
    expect(r1.stderr).toContain('has images 1..2');
    const r2 = addToWim(wim, path.join(tmp, 'missing.exe'));
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain('missing.exe: no such file');
    expect(sha(readFileSync(wim))).toBe(before);
    const nb = path.join(tmp, 'noboot.wim');
    ok('wimcapture', [tree('nb1', 'a'), nb, 'a']);
    ok('wimappend', [tree('nb2', 'b'), nb, 'b']);
    const r3 = addToWim(nb, exe);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toContain('2 images and no boot index');
    expect(addToWim(wim).status).toBe(2);
  });
});
