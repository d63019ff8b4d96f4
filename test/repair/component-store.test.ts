// component-store --store-source (issue #19, item 4) on a Windows 10 22H2 (19045.3930) tree whose
// CBS.log is the real SFC log of ../shared (a run that left System.Design.dll and xpsservices.dll
// unrepaired: the scan's component-store-corrupt), with three component folders in WinSxS, one of
// them holding a corrupt payload. The media: an install.wim wimlib builds like Microsoft's, image 1
// Windows 10 Pro 19045.3930 holding two of the three folders (the good payload), image 2 the original
// 22H2 (19045.2006).
// - Linux (the real CLI): the plan names DISM and SFC with the source and what it holds of the
//   offline WinSxS; applying is refused in one line with what to run from WinPE, nothing written;
//   media of another cumulative update refused (store-source-mismatch).
// - Windows/WinPE, through a Linux stand-in for DISM and SFC (their command lines checked against
//   the golden ones): the stand-in DISM restores the component folders the source holds from it
//   with wimlib, the stand-in SFC logs a clean [SR] run in CBS.log as SFC does (lines modelled on
//   the real log's own [SR] lines); the payload is then the source's, the rescan has no
//   component-store-corrupt, the journal holds both command lines and says they are not undoable,
//   and undo says so too.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { fixture, sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { WIN10_22H2 } from '../scan/scenarios.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan } from '../../src/engine/plan.js';
import { applyPlan, type ApplyHost, type ToolRun } from '../../src/engine/apply.js';
import { undoRun } from '../../src/engine/undo.js';
import { Journal, newRunId } from '../../src/engine/journal.js';
import { REPAIRS } from '../../src/cli/wiring.js';
import { commandLine, dismRestoreHealthArgs, sfcOfflineArgs } from '../../src/platform/windows.js';
import { pickStoreImage } from '../../src/windows/store-source.js';
import { readWimSummary } from '../../src/windows/recovery.js';
import type { StoreSource } from '../../src/model/plan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'wimcapture', 'wimappend', 'wimextract', 'wimdir'));

const COMPONENTS = [
  'amd64_microsoft-windows-xpsservices_31bf3856ad364e35_10.0.19041.3930_none_5d6c1a2b3c4d5e6f',
  'msil_system.design_b03f5f7f11d50a3a_10.0.19041.3930_none_0a1b2c3d4e5f6071',
  'x86_microsoft-windows-ie-htmlrendering_31bf3856ad364e35_11.0.19041.3636_none_99aabbccddeeff00',
];
const REAL_CBS = 'cbs/win7sp1-x86-sfc-scannow-unrepairable-plus-sp1-0x80070490-Infinito1977.log';

/** A later SFC run that finds nothing, in the real log's [SR] line format (its verbs and counters). */
const cleanSfcRun = (n = 0x230) =>
  [
    '[SR] Verifying 100 (0x00000064) components',
    '[SR] Beginning Verify and Repair transaction',
    '[SR] Verify complete',
    '[SR] Repairing 0 components',
    '[SR] Beginning Verify and Repair transaction',
    '[SR] Repair complete',
    '[SR] Committing transaction',
    '[SR] Verify and Repair Transaction completed. All files and registry keys listed in this transaction  have been successfully repaired',
  ].map((m, i) => `2024-02-01 10:00:${String(i).padStart(2, '0')}, Info                  CSI    ${(n + i).toString(16).padStart(8, '0')} ${m}`);

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
/** Every file under `dir`, relative path -> sha256. */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, d.name);
    if (d.isDirectory()) Object.assign(out, tree(dir, r));
    else out[r] = sha(path.join(dir, r));
  }
  return out;
}

const props = (ubr: number) =>
  [
    ['WINDOWS/VERSION/MAJOR', '10'],
    ['WINDOWS/VERSION/MINOR', '0'],
    ['WINDOWS/VERSION/BUILD', '19045'],
    ['WINDOWS/VERSION/SPBUILD', String(ubr)],
    ['WINDOWS/EDITIONID', 'Professional'],
  ].flatMap(([k, v]) => ['--image-property', `${k}=${v}`]);

describe.skipIf(!!reason)(`component-store: DISM /RestoreHealth + SFC from matching media${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  let wim = '';
  let good = '';
  const payload = (root: string) => path.join(root, 'Windows', 'WinSxS', COMPONENTS[0]!, 'xpsservices.dll');

  async function target(name: string): Promise<string> {
    const root = path.join(tmp, name);
    const real = readFileSync(fixture('logs', REAL_CBS), 'utf8');
    await buildWindowsTree(root, { ...WIN10_22H2, ubr: 3930, cbsText: real });
    for (const c of COMPONENTS) {
      mkdirSync(path.join(root, 'Windows', 'WinSxS', c), { recursive: true });
      writeFileSync(path.join(root, 'Windows', 'WinSxS', c, 'payload.bin'), randomBytes(4096));
    }
    writeFileSync(payload(root), Buffer.alloc(8192)); // zeroed: the corrupt payload
    return root;
  }

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-store-'));
    const src = path.join(tmp, 'media');
    for (const c of COMPONENTS.slice(0, 2)) mkdirSync(path.join(src, 'Windows', 'WinSxS', c), { recursive: true });
    writeFileSync(path.join(src, 'Windows', 'WinSxS', COMPONENTS[0]!, 'xpsservices.dll'), randomBytes(8192));
    writeFileSync(path.join(src, 'Windows', 'WinSxS', COMPONENTS[1]!, 'System.Design.dll'), randomBytes(8192));
    good = path.join(tmp, 'good-xpsservices.dll');
    writeFileSync(good, readFileSync(path.join(src, 'Windows', 'WinSxS', COMPONENTS[0]!, 'xpsservices.dll')));
    wim = path.join(tmp, 'install.wim');
    execFileSync('wimcapture', [src, wim, 'Windows 10 Pro', '--compress=lzx', ...props(3930)], { stdio: 'ignore' });
    execFileSync('wimappend', [src, wim, 'Windows 10 Pro 22H2 RTM', ...props(2006)], { stdio: 'ignore' });
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('Linux: the plan names DISM and SFC with the checked source; applying refused in one line, nothing written; other media refused', async () => {
    const root = await target('linux');
    const scan = JSON.parse(runCli(['scan', '--root', root, '--json']).stdout) as { targets: { findings: { id: string }[] }[] };
    expect(scan.targets[0]!.findings.map((f) => f.id)).toContain('component-store-corrupt');
    const before = tree(root);
    const dry = runCli(['repair', '--root', root, '--only', 'component-store', '--store-source', wim]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`/RestoreHealth /Source:wim:${wim}:1 /LimitAccess`);
    expect(dry.stdout).toMatch(/sfc \/scannow \/offbootdir=<volume> \/offwindir=<volume>\\Windows/);
    const flat = dry.stdout.replace(/\s+/g, ' ');
    expect(flat).toMatch(/source \S*install\.wim image 1 \(10\.0\.19045\.3930, Professional\): the source holds 2 of the 3 component folders/);
    expect(flat).not.toMatch(/Not fixed by this plan/);
    expect(dry.stdout.replace(/\n +/g, '')).toContain(COMPONENTS[2]); // a name longer than a line is cut at the console width
    const r = runCli(['repair', '--root', root, '--only', 'component-store', '--store-source', wim, '--yes']);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /only in Windows\/WinPE: boot WinPE and run wufix repair --root <W:> --only component-store --store-source <drive>:\\install\.wim --store-source-index 1/,
    );
    const old = runCli(['repair', '--root', root, '--only', 'component-store', '--store-source', wim, '--store-source-index', '2', '--json']);
    expect(old.status).toBe(3);
    expect((JSON.parse(old.stdout) as { error: { code: string } }).error.code).toBe('store-source-mismatch');
    expect(runCli(['repair', '--root', root, '--store-source-index', '1']).status).toBe(1);
    expect(tree(root)).toEqual(before);
  });

  it('Windows/WinPE through the stand-in: DISM restores from the source, SFC logs a clean run; rescan clean; not undoable, said by the journal and undo', async () => {
    const root = await target('winpe');
    const scan = await scanTarget({ root });
    expect(scan.findings.map((f) => f.id)).toContain('component-store-corrupt');
    const source: StoreSource = pickStoreImage(wim, readWimSummary(wim).images, scan.system);
    const plan = await buildPlan(scan, REPAIRS, { only: ['component-store'] }, { runId: newRunId(), storeSource: source }, { tool: 'test' });
    expect(plan.steps.map((s) => s.change.kind)).toEqual(['dism-restore-health', 'sfc-offline']);
    const commands: string[] = [];
    const ok = (cmd: string, output: string): ToolRun => ({ commandLine: cmd, exitCode: 0, ok: true, output });
    const host: ApplyHost = {
      revertPendingActions: () => Promise.reject(new Error('not in this plan')),
      async restoreHealth(r, s, scratch, progress, logPath) {
        const cmd = commandLine('Dism.exe', dismRestoreHealthArgs(r, s, scratch, logPath));
        commands.push(cmd);
        // DISM writes its session to /LogPath (dism.log's line layout, as in ../shared's real dism.logs).
        const L = (level: string, msg: string) => `2024-01-20 10:00:00, ${level.padEnd(22)}DISM   ${msg}\r\n`;
        writeFileSync(
          logPath!,
          L('Info', 'DISM.EXE: <----- Starting Dism.exe session ----->') +
            L('Info', `DISM.EXE: Executing command line: ${cmd}`) +
            L('Info', 'DISM Package Manager: PID=4243 TID=2 The component store is repairable. - CDISMPackageManager::Internal_Finalize') +
            L('Info', 'DISM.EXE: Image session has been closed. Reboot required=no.') +
            L('Info', 'DISM.EXE: <----- Ending Dism.exe session ----->'),
        );
        // RestoreHealth replaces the store's payloads from the source: here every offline component
        // folder the source holds is extracted from it over the offline one (wimlib).
        const sxs = path.join(r, 'Windows', 'WinSxS');
        for (const c of readdirSync(sxs))
          execFileSync('wimextract', [s.wim, String(s.index), `/Windows/WinSxS/${c}`, `--dest-dir=${sxs}`, '--nullglob', '--no-acls'], { stdio: 'ignore' });
        progress('DISM /RestoreHealth: 100%');
        return ok(
          cmd,
          'Deployment Image Servicing and Management tool\n[==========================100.0%==========================]\nThe restore operation completed successfully.\nThe operation completed successfully.\n',
        );
      },
      async sfcOffline(r) {
        const cmd = commandLine('sfc.exe', sfcOfflineArgs(r));
        commands.push(cmd);
        appendFileSync(path.join(r, 'Windows', 'Logs', 'CBS', 'CBS.log'), cleanSfcRun().join('\r\n') + '\r\n');
        return ok(cmd, 'Windows Resource Protection did not find any integrity violations.\n');
      },
    };
    const journalRoot = path.join(tmp, 'journal');
    const res = await applyPlan(plan, { journalRoot, host });
    expect(res.applied).toBe(2);
    // The Windows spelling of these paths (on Windows they are W:\ and D:\sources\install.wim).
    const w = (p: string) => p.replace(/\//g, '\\');
    expect(commands).toEqual([
      `Dism.exe /English /Image:${w(root)} /Cleanup-Image /RestoreHealth /Source:wim:${w(wim)}:1 /LimitAccess /ScratchDir:${w(root)}\\wufix\\dism-scratch /LogPath:${w(root)}\\wufix\\dism-restorehealth-${plan.runId}.log`,
      `sfc.exe /scannow /offbootdir=${w(root)}\\ /offwindir=${w(root)}\\Windows`,
    ]);
    expect(sha(payload(root))).toBe(sha(good));
    const log = readFileSync(path.join(journalRoot, plan.runId, 'log.txt'), 'utf8');
    expect(log).toContain(commands[0]);
    // DISM's own log of the run, read back: the session succeeded (and had found the store corrupt).
    expect(log).toMatch(/wufix\\dism-restorehealth-[\w-]+\.log: \/RestoreHealth succeeded \(DISM found the component store corrupt\)/);
    expect(log).toMatch(/not undoable byte for byte: DISM \/RestoreHealth replaced component files itself/);
    const after = await scanTarget({ root });
    expect(after.findings.map((f) => f.id)).not.toContain('component-store-corrupt');
    const u = await undoRun(journalRoot, plan.runId, { root });
    expect(u.notUndone).toEqual(['DISM /RestoreHealth', 'SFC /scannow']);
    expect(sha(payload(root))).toBe(sha(good)); // nothing to put back
    expect(Journal.list(journalRoot)).toEqual([plan.runId]);
  });
});
