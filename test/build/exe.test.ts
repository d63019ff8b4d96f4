// Smoke test of dist/wufix.exe (`make exe`: the bundle inside Node 22.22.2's node.exe, pkg --sea)
// under Wine: it starts, reports the same version as `node dist/wufix.js`, and `scan --json` of an
// offline Windows tree (test/helpers/winbuilder.ts) gives the same report as the Linux run.
// Wine proves the packaging (PE, SEA blob, Node built-ins, win32 path handling), not WinPE
// behaviour (diskpart, drive letters). Details: ../shared/docs/winpe-and-packaging.md section 6.
//
// Each run uses a throw-away Wine prefix under .tools/ (git-ignored), stopped and deleted after.
// stdout/stderr go to files: through a pipe, Node under Wine throws EBADF on the first write.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildWindowsTree, type InstallSpec } from '../helpers/winbuilder.js';
import { PROJECT_ROOT, sharedReason, skipReason, toolsReason } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { EXE, TOOLS, WINE64, WINESERVER, exeReason, wineReason } from './prereq.js';
import * as S from '../scan/scenarios.js';
import type { ScanReport } from '../../src/model/scan.js';

const reason = skipReason(exeReason(), wineReason(), sharedReason());
if (reason) console.warn(`test/build/exe.test.ts: skipped: ${reason}`);
let dir = '';
let prefix = '';
let runs = 0;

function wineEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    // No wine-mono / wine-gecko install prompts while the prefix is created.
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    NO_COLOR: '1',
  };
}

/** Runs `wine64 args` with stdout and stderr in files (never pipes). */
function wine(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const n = ++runs;
  const out = path.join(dir, `stdout-${n}.txt`);
  const err = path.join(dir, `stderr-${n}.txt`);
  const fo = openSync(out, 'w');
  const fe = openSync(err, 'w');
  let status: number | null;
  try {
    const r = spawnSync(WINE64, args, { stdio: ['ignore', fo, fe], env: wineEnv(), timeout: 110_000 });
    if (r.error) throw r.error;
    status = r.status;
  } finally {
    closeSync(fo);
    closeSync(fe);
  }
  return { status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
}

/** The Windows spelling of a host path through Wine's Z: drive (Z:\ is /). */
const winPath = (p: string) => `Z:${p.replace(/\//g, '\\')}`;

describe.skipIf(!!reason)(`dist/wufix.exe under Wine${reason ? ` (skipped: ${reason})` : ''}`, () => {
  beforeAll(() => {
    mkdirSync(TOOLS, { recursive: true });
    dir = mkdtempSync(path.join(TOOLS, 'wine-test-'));
    prefix = path.join(dir, 'prefix');
    // A fresh prefix reports Windows 7 (6.1.7601), below Node 22's minimum (exit 216): say Windows 10.
    const r = wine(['winecfg', '/v', 'win10']);
    if (r.status !== 0) throw new Error(`wine64 winecfg /v win10 failed (${r.status}): ${r.stderr}`);
  });
  afterAll(() => {
    if (prefix) {
      // Stop this prefix's wineserver (and any process left in it), then wait for it to exit.
      spawnSync(WINESERVER, ['-k'], { env: wineEnv(), stdio: 'ignore' });
      spawnSync(WINESERVER, ['-w'], { env: wineEnv(), stdio: 'ignore', timeout: 30_000 });
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--version: the same version, commit and build date as node dist/wufix.js', () => {
    const linux = runCli(['--version']);
    expect(linux.status).toBe(0);
    const exe = wine([EXE, '--version']);
    expect(exe.stderr).toBe('');
    expect(exe.status).toBe(0);
    expect(exe.stdout.trim()).toBe(linux.stdout.trim());
    expect(exe.stdout).toMatch(/^wufix \d+\.\d+\.\d+ \(commit /);
  });

  it("dist/wufix.exe.sha256 is the exe's sha256 (sha256sum format)", () => {
    const line = readFileSync(`${EXE}.sha256`, 'utf8');
    const sha = createHash('sha256').update(readFileSync(EXE)).digest('hex');
    expect(line).toBe(`${sha}  wufix.exe\n`);
  });

  // Two with findings (exit 10), one healthy (exit 0).
  const scenarios: [string, InstallSpec][] = [
    ['dotnet-wintrust', S.dotnetWintrust],
    ['server2022-winre', S.server2022Winre],
    ['healthy', S.healthy],
  ];
  for (const [name, spec] of scenarios) {
    it(`scan --root Z:\\... --json (${name}): the Linux run's report, path spelling aside`, async () => {
      const root = path.join(dir, name);
      await buildWindowsTree(root, spec);
      const linux = runCli(['scan', '--root', root, '--json']);
      if (linux.status !== 0 && linux.status !== 10) throw new Error(`linux scan failed (${linux.status}): ${linux.stderr}`);
      const exe = wine([EXE, 'scan', '--root', winPath(root), '--json']);
      expect(exe.stderr).toBe(linux.stderr);
      expect(exe.status).toBe(linux.status);
      expect(exe.status).toBe(name === 'healthy' ? 0 : 10);
      const want = JSON.parse(linux.stdout) as ScanReport;
      const got = JSON.parse(exe.stdout) as ScanReport;
      expect(got.targets).toHaveLength(1);
      expect(normalize(got, want)).toEqual(want);
    });
  }

  // winpe/startnet.cmd under Wine's cmd.exe, as on a stick with another PE: the menu finds
  // wufix.exe beside itself; the offline Windows is drive W:. Wine's `set /p` reads whatever is in
  // the pipe at once, so each answer is written only when its prompt has appeared in the output.
  it('winpe/startnet.cmd menu: 1 scan all volumes finds W:, 2 dry run on W: shows the plan, 3 leaves to the prompt', async () => {
    const root = path.join(dir, 'menu-C');
    await buildWindowsTree(root, S.dotnetWintrust);
    symlinkSync(root, path.join(prefix, 'dosdevices', 'w:'));
    const stick = path.join(dir, 'stick', 'wufix');
    mkdirSync(stick, { recursive: true });
    symlinkSync(EXE, path.join(stick, 'wufix.exe'));
    copyFileSync(path.join(PROJECT_ROOT, 'winpe', 'startnet.cmd'), path.join(stick, 'startnet.cmd'));
    // `pause` takes one character; `set /p` a line.
    const answers = ['1\r\n', ' ', '2\r\n', 'w\r\n', ' ', '3\r\n'];
    const { status, output } = await interact([WINE64, 'cmd', '/c', `${winPath(stick)}\\startnet.cmd`, 'menu'], answers);
    expect(status, output).toBe(0);
    const menuShown = output.split('Choice [1-3]: ').length - 1;
    expect(menuShown, output).toBe(3);
    // 1: every volume with a Windows; here only W: (C: is Wine's, without hives; Z: is /).
    expect(output).toContain('wufix scan exit code 10 (0 nothing to fix, 10 findings)');
    expect(output).toMatch(/W:\\/);
    expect(output).toContain('wintrust-state');
    // 2: the plan for W:, the one the Linux build shows for the same tree (its lines that do not
    // name the root or the run id), nothing applied (no --yes).
    expect(output).toContain('Drive letter of the offline Windows (for example C): ');
    const linux = runCli(['repair', '--root', root, '--dry-run']);
    expect(linux.status, linux.stderr).toBe(0);
    // Left out: the header paragraph (it names the root and run id, and wraps where the root is
    // long) and the journal block (its folder and the free space there differ between the runs).
    const paragraphs = linux.stdout.split(/\n\s*\n/).filter((p) => !/^(Plan for |Journal: )/.test(p));
    const planLines = paragraphs
      .flatMap((p) => p.split('\n'))
      .map((l) => l.trimEnd())
      .filter((l) => l.trim() !== '' && !l.includes(root) && !/\(run \S+\)/.test(l));
    expect(output).toMatch(/Plan for W:\\ \(run \S+\): 2 change\(s\)/i);
    expect(output).toMatch(/^Journal: \d+(\.\d)? MiB \(\d+ bytes\) in\r?$/m);
    expect(planLines.length).toBeGreaterThanOrEqual(3);
    for (const l of planLines) expect(output).toContain(l);
    expect(output).toContain('To apply: ');
    expect(output).not.toMatch(/Applied \d+ change/);
    // 3: leaves the menu for the prompt, naming the exe.
    expect(output).toContain(`Command prompt. wufix: "${winPath(stick)}\\wufix.exe" --help`);
  });

  // The WinRE rebuild needs diskpart: asked for alone it refuses in one line (exit 3); a full repair
  // goes on without it and says the WinRE partition was not checked. Wine has no diskpart.exe.
  it('repair --root V:\\ --only winre without diskpart: one-line refusal, exit 3; a full dry run still plans the rest', async () => {
    const root = path.join(dir, 'no-diskpart');
    await buildWindowsTree(root, S.dotnetWintrust);
    symlinkSync(root, path.join(prefix, 'dosdevices', 'v:'));
    const only = wine([EXE, 'repair', '--root', 'V:\\', '--only', 'winre']);
    expect(only.status, only.stderr).toBe(3);
    expect(only.stderr.trim().split('\n')).toHaveLength(1);
    expect(only.stderr).toMatch(/diskpart\.exe not found/);
    const all = wine([EXE, 'repair', '--root', 'V:\\']);
    expect(all.status, all.stderr).toBe(0);
    expect(all.stderr).toMatch(/the WinRE partition was not checked: .*diskpart/);
    expect(all.stdout).toMatch(/wintrust: reset the WinTrust/);
  });

  // --winre-source on Windows/WinPE mounts the install image read-only with DISM after diskpart has
  // found the disk: under Wine (neither tool) the first missing one is refused in one line before
  // the media is read or anything written. (The DISM mount itself: test/platform/dism-mount.test.ts.)
  it('repair --only winre --winre-source install.wim without diskpart or Dism.exe: one-line refusal, exit 3, nothing written', async () => {
    const root = path.join(dir, 'no-dism');
    await buildWindowsTree(root, S.dotnetWintrust);
    symlinkSync(root, path.join(prefix, 'dosdevices', 'u:'));
    const wim = path.join(dir, 'install.wim');
    writeFileSync(wim, randomBytes(4096));
    const before = createHash('sha256')
      .update(readFileSync(path.join(root, 'Windows', 'System32', 'config', 'SYSTEM')))
      .digest('hex');
    const r = wine([EXE, 'repair', '--root', 'U:\\', '--only', 'winre', '--winre-source', winPath(wim), '--yes', '--json']);
    expect(r.status, r.stderr).toBe(3);
    expect((JSON.parse(r.stdout) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'no-diskpart',
      message: expect.stringMatching(/diskpart\.exe not found/),
    });
    expect(
      createHash('sha256')
        .update(readFileSync(path.join(root, 'Windows', 'System32', 'config', 'SYSTEM')))
        .digest('hex'),
    ).toBe(before);
    expect(existsSync(path.join(root, 'wufix'))).toBe(false);
  });

  // --image on Windows attaches a VHD/VHDX with diskpart: other containers are refused by their
  // content before anything runs (a qcow2 named .vhdx included), and a VHDX where there is no
  // diskpart (Wine) is refused in one line too; neither file is changed.
  it.skipIf(!!toolsReason('qemu-img'))(
    'scan --image: a qcow2 (named .vhdx) refused with the conversion, a VHDX without diskpart refused; one line, exit 3',
    () => {
      const q = path.join(dir, 'vm-qcow2.vhdx');
      const x = path.join(dir, 'vm.vhdx');
      spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', q, '64M']);
      spawnSync('qemu-img', ['create', '-q', '-f', 'vhdx', x, '64M']);
      const before = [readFileSync(q), readFileSync(x)].map((b) => createHash('sha256').update(b).digest('hex'));
      const r1 = wine([EXE, 'scan', '--image', winPath(q), '--json']);
      expect(r1.status, r1.stderr).toBe(3);
      expect((JSON.parse(r1.stdout) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'vdisk-windows-format',
        message: expect.stringMatching(/qcow2 .*attaches VHD and VHDX with diskpart only.*qemu-img convert -O vhdx/),
      });
      const r2 = wine([EXE, 'scan', '--image', winPath(x)]);
      expect(r2.status, r2.stderr).toBe(3);
      expect(r2.stderr.trim().split('\n')).toHaveLength(1);
      expect(r2.stderr).toMatch(/diskpart\.exe not found: .*VHD\/VHDX/);
      expect([readFileSync(q), readFileSync(x)].map((b) => createHash('sha256').update(b).digest('hex'))).toEqual(before);
    },
  );
});

/** Runs `cmd` with stdout+stderr to a file; writes answers[i] once the (i+1)-th prompt shows. */
async function interact(cmd: string[], answers: string[]): Promise<{ status: number | null; output: string }> {
  const out = path.join(dir, `interact-${++runs}.txt`);
  const fo = openSync(out, 'w');
  const prompts = /Choice \[1-3\]: |\(for example C\): |Press any key to continue/g;
  try {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', fo, fo], env: wineEnv() });
    let sent = 0;
    const poll = setInterval(() => {
      const seen = (readFileSync(out, 'latin1').match(prompts) ?? []).length;
      if (seen > sent && sent < answers.length) child.stdin!.write(answers[sent++]!);
    }, 100);
    const kill = setTimeout(() => child.kill(), 90_000);
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
    clearInterval(poll);
    clearTimeout(kill);
    return { status, output: readFileSync(out, 'latin1') };
  } finally {
    closeSync(fo);
  }
}

/**
 * The Windows report with what must differ between the two runs made equal to the Linux one, after
 * checking its own form. Everything else (findings, evidence, versions, the tool string) must match.
 * - scannedAt: the clock (checked to be an ISO time).
 * - targets[].root and windowsDir: host paths, `/a/b` on Linux and `Z:\a\b` under Wine.
 * - targets[].wintrust[].hive, compared case-insensitively: Linux matches each component of a
 *   profile path from the registry against the directory listing and reports the disk's spelling
 *   ("Windows\System32\config\systemprofile\NTUSER.DAT"); on Windows the registry's spelling
 *   ("%systemroot%\system32\config\systemprofile") opens as written and is reported as such.
 */
function normalize(got: ScanReport, want: ScanReport): ScanReport {
  const out = structuredClone(got);
  expect(new Date(out.scannedAt).toISOString()).toBe(out.scannedAt);
  out.scannedAt = want.scannedAt;
  out.targets.forEach((t, i) => {
    const w = want.targets[i];
    if (!w) return;
    expect(t.root).toBe(winPath(w.root));
    expect(t.windowsDir).toBe(winPath(w.windowsDir));
    t.root = w.root;
    t.windowsDir = w.windowsDir;
    // The repair commands name the target as each build spells it.
    const respell = (cmd: string) => cmd.split(winPath(w.root)).join(w.root);
    for (const f of t.findings) if (f.nextCommand) f.nextCommand = respell(f.nextCommand);
    for (const n of t.nextCommands ?? []) n.command = respell(n.command);
    // The one designed difference: on Windows the winre repair runs on --root (through diskpart),
    // where Linux needs the disk image and prints a placeholder for it.
    (t.nextCommands ?? []).forEach((n, k) => {
      const wn = w.nextCommands?.[k];
      if (!wn || wn.runnable || !n.repairs.includes('winre')) return;
      expect(n).toEqual({ command: `wufix repair --root ${w.root} --only ${n.repairs.join(',')}`, repairs: n.repairs, runnable: true });
      t.nextCommands![k] = wn;
    });
    t.findings.forEach((f, k) => {
      const wf = w.findings[k];
      if (f.repair !== 'winre' || !wf?.nextCommand || wf.nextCommand === f.nextCommand) return;
      expect(f.nextCommand).toBe(`wufix repair --root ${w.root} --only winre`);
      f.nextCommand = wf.nextCommand;
    });
    t.wintrust.forEach((h, j) => {
      const wh = w.wintrust[j];
      if (wh && h.hive.toLowerCase() === wh.hive.toLowerCase()) h.hive = wh.hive;
    });
  });
  return out;
}
