// The repair engine on a realistic installation: plan -> journal -> apply -> verify -> undo, the
// safety refusals, and crash safety (SIGKILL at seeded points during apply, then undo or re-run).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, cpSync, rmSync as rm, existsSync, readFileSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { runCli, CLI } from '../helpers/cli.js';
import { testStateDir } from '../helpers/state-dir.js';
import { hivexDump, regfinfo, hivexsh } from '../helpers/hive-tools.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { dotnetWintrust, win7Loop } from '../scan/scenarios.js';
import type { InstallSpec } from '../helpers/winbuilder.js';
import type { ScanReport } from '../../src/model/scan.js';

/** The `code` of the error a command run with --json printed on stdout. */
const jsonErrorCode = (stdout: string | Buffer): string | undefined => (JSON.parse(stdout.toString()) as { error?: { code?: string } }).error?.code;

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'regfinfo', 'hivexsh'));
const KEY = 'Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust\\Trust Providers\\Software Publishing';
const CHANGED = ['Windows/System32/config/DEFAULT', 'Users/Alice/NTUSER.DAT'];

function state(hive: string): string | undefined {
  return hivexDump(hive)
    .find((k) => k.path === KEY)
    ?.values.find((v) => v.name === 'State')?.data;
}
function findings(root: string): string[] {
  const r = runCli(['scan', '--root', root, '--json']);
  return (JSON.parse(r.stdout) as ScanReport).targets[0]!.findings.map((f) => f.id);
}

describe.skipIf(!!reason)('repair engine', () => {
  let tmp = '';
  let pristine = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-repair-'));
    pristine = path.join(tmp, 'pristine');
    await buildWindowsTree(pristine, dotnetWintrust);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const fresh = (name: string, from = pristine) => {
    const d = path.join(tmp, name);
    cpSync(from, d, { recursive: true });
    return d;
  };

  it('dry run by default: shows the plan, changes nothing', () => {
    const root = fresh('dry');
    const before = treeHashes(root, []);
    const r = runCli(['repair', '--root', root]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^wintrust: reset the WinTrust "Software Publishing" State in every user hive$/m);
    expect(r.stdout).toMatch(/^ {2}- Windows\\System32\\config\\DEFAULT {2}\[Software\\.*Software Publishing\] State REG_DWORD: 0x000000C9 -> 0x00023C00$/m);
    // The reason is prose: wrapped at 80 columns in a pipe (the change line above stays whole).
    expect(r.stdout).toMatch(/^ {6}because: wintrust-state \(LocalSystem \(\.DEFAULT\)\); setreg options 1,2,3,9\n {8}-> 2,3,4,5,6,7$/m);
    expect(r.stdout).toMatch(/Dry run: nothing changed\. Add --yes to apply\./);
    expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
  });

  it('--yes fixes exactly the findings, touches nothing else, undo restores every byte', () => {
    const root = fresh('apply');
    const before = treeHashes(root);
    expect(findings(root)).toEqual(['wintrust-state', 'wintrust-state']);
    const r = runCli(['repair', '--root', root, '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Applied 2 change\(s\) and verified them/);
    expect(findings(root)).toEqual([]);
    for (const h of CHANGED) expect(state(path.join(root, h))).toBe('003c0200');
    // Exactly the two hives changed (their logs too, when they had any).
    const diff = treeDiff(before, treeHashes(root));
    expect(diff.filter((d) => !CHANGED.includes(d) && !/\.LOG\d?$/i.test(d))).toEqual([]);
    for (const h of CHANGED) expect(regfinfo(path.join(root, h)).status).toBe(0);
    // The journal: plan, backup, hashes, state, log.
    const runs = runCli(['journal', 'list', '--root', root, '--json']);
    const list = JSON.parse(runs.stdout) as { runId: string; phase: string; steps: number }[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ phase: 'verified', steps: 2 });
    const jdir = path.join(root, 'wufix', 'journal', list[0]!.runId);
    for (const f of ['plan.json', 'files.json', 'backup.tar', 'state.json', 'seal.json', 'log.txt']) expect(existsSync(path.join(jdir, f)), f).toBe(true);
    // Sealed with the key of this test file's own state directory (never the host's ~/.local/state), and in its ledger.
    expect(existsSync(path.join(testStateDir(), 'journal.key'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(testStateDir(), 'runs', `${list[0]!.runId}.json`), 'utf8'))).toMatchObject({
      runId: list[0]!.runId,
      journalDir: jdir,
      target: root,
    });
    const tarList = execFileSync('tar', ['-tf', path.join(jdir, 'backup.tar')], { encoding: 'utf8' });
    for (const h of CHANGED) expect(tarList).toContain(h);
    // Undo: every byte back.
    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(0);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
    // A second undo of the same run is refused.
    expect(runCli(['undo', '--last', '--root', root]).status).toBe(3);
  });

  it('undo refuses (exit 3) when a file changed after the run, unless --force', () => {
    const root = fresh('changed');
    const before = treeHashes(root);
    expect(runCli(['repair', '--root', root, '--yes']).status).toBe(0);
    // Someone edits a hive after the repair.
    expect(runCli(['hive', 'set', path.join(root, CHANGED[0]!), 'Software\\Later', 'x', '--type', 'REG_DWORD', '--data', '1']).status).toBe(0);
    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status).toBe(3);
    expect(u.stderr).toMatch(/changed after run .* use --force/);
    expect(runCli(['undo', '--last', '--root', root, '--force']).status).toBe(0);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('Ctrl-C during apply rolls everything back (exit 130, every byte as before)', () => {
    const root = fresh('sigint');
    const before = treeHashes(root);
    const r = runCli(['repair', '--root', root, '--yes'], { env: { WUFIX_TEST_SIGINT_AT: 'after-group-0' } });
    expect(r.status).toBe(130);
    expect(r.stderr).toMatch(/^wufix: interrupted: Ctrl-C; everything was rolled back$/m);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
    const list = JSON.parse(runCli(['journal', 'list', '--root', root, '--json']).stdout) as { phase: string }[];
    expect(list.map((x) => x.phase)).toEqual(['rolled-back']);
  });

  it('refuses a dirty hive without its logs (exit 3, nothing written)', () => {
    const root = fresh('dirty');
    // The builder copies the real, dirty LocalService NTUSER.DAT with its logs: drop the logs.
    const ls = path.join(root, 'Windows', 'ServiceProfiles', 'LocalService');
    for (const l of ['NTUSER.DAT.LOG1', 'NTUSER.DAT.LOG2']) rm(path.join(ls, l));
    const before = treeHashes(root, []);
    // 0x22849 differs from every hive's State, so the dirty one is in the plan.
    const r = runCli(['repair', '--root', root, '--yes', '--wintrust-value', '0x22849', '--json']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^wufix: refused: .*LocalService.*dirty.*logs/);
    expect(jsonErrorCode(r.stdout)).toBe('dirty-hive');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
  });

  it('refuses when the journal does not fit (exit 3, nothing written)', () => {
    const root = fresh('space');
    const small = path.join(tmp, 'small');
    execFileSync('mkdir', ['-p', small]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]);
    try {
      const before = treeHashes(root, []);
      const r = runCli(['repair', '--root', root, '--yes', '--journal', small, '--json']);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/not enough free space for the journal/);
      expect(JSON.parse(r.stdout)).toMatchObject({
        error: { code: 'journal-space', exitCode: 3, message: expect.stringMatching(/not enough free space for the journal/) },
      });
      expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('crash safety: 50 seeded SIGKILLs during a multi-repair apply; undo or a re-run converges, every hive opens', async () => {
    // Four repairs at once (wintrust in two hives, pending: SOFTWARE + COMPONENTS + a rename,
    // au-pause, wu-cache: three renames and a kept log), so kills land between hives and renames.
    const combined: InstallSpec = {
      ...win7Loop,
      wintrust: { default: 0xc9, user: 0xc9 },
      caches: true,
      windowsUpdateLog: [...win7Loop.windowsUpdateLog!, { time: '2018-01-08 03:00:00', kb: 'KB4057400', code: '80240034', title: 'Update (KB4057400)' }],
    };
    const multi = path.join(tmp, 'multi');
    await buildWindowsTree(multi, combined);
    // Every kill point is visited by both an undo run and a re-run (the schedule is seeded).
    const points = [
      'after-backup',
      'mid-write',
      'before-fsync',
      'before-rename',
      'after-rename',
      'after-group-0',
      'after-group-1',
      'after-group-2',
      'after-group-3',
      'after-group-4',
      'after-group-5',
      'after-group-6',
    ];
    let x = 0x5eed;
    const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const original = treeHashes(multi);
    // The fully repaired state, from an uninterrupted run.
    const ref = fresh('ref', multi);
    expect(runCli(['repair', '--root', ref, '--yes']).status).toBe(0);
    const repairedStates = CHANGED.map((h) => state(path.join(ref, h)));
    expect(repairedStates).toEqual(['003c0200', '003c0200']);
    expect(findings(ref).filter((f) => f !== 'au-paused')).toEqual([]);
    const outcomes = { undo: 0, rerun: 0, killedEarly: 0 };
    for (let run = 0; run < 50; run++) {
      // Hive files to check after the kill: every hive the plan touches.
      const root = fresh(`crash-${run}`, multi);
      const usePoint = run < 2 * points.length || rnd() < 0.5;
      const point = run < 2 * points.length ? points[run >> 1]! : points[Math.floor(rnd() * points.length)]!;
      const env = usePoint ? { ...process.env, WUFIX_TEST_CRASH_AT: point } : process.env;
      await new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'repair', '--root', root, '--yes'], { env, stdio: 'ignore' });
        const t = usePoint ? undefined : setTimeout(() => child.kill('SIGKILL'), 50 + Math.floor(rnd() * 600));
        child.on('exit', () => {
          if (t) clearTimeout(t);
          resolve();
        });
      });
      for (const h of [...CHANGED, 'Windows/System32/config/SOFTWARE', 'Windows/System32/config/COMPONENTS']) {
        expect(hivexsh(path.join(root, h), 'cd \\\n').status, `${run} ${h}`).toBe(0);
        expect(regfinfo(path.join(root, h)).status).toBe(0);
      }
      const hasRun = existsSync(path.join(root, 'wufix', 'journal')) && JSON.parse(runCli(['journal', 'list', '--root', root, '--json']).stdout).length > 0;
      if (run % 2 === 0 && hasRun) {
        const u = runCli(['undo', '--last', '--root', root]);
        // A run killed before it changed anything, or rolled back, has nothing to undo.
        if (!(u.status === 3 && /nothing to undo/.test(u.stderr))) expect(u.status, u.stderr).toBe(0);
        expect(treeDiff(original, treeHashes(root))).toEqual([]);
        outcomes.undo++;
      } else {
        if (!hasRun) outcomes.killedEarly++;
        const r = runCli(['repair', '--root', root, '--yes']);
        expect(r.status, r.stderr).toBe(0);
        expect(CHANGED.map((h) => state(path.join(root, h)))).toEqual(repairedStates);
        expect(findings(root).filter((f) => f !== 'au-paused')).toEqual([]);
        outcomes.rerun++;
      }
      rmSync(root, { recursive: true, force: true });
    }
    expect(outcomes.undo + outcomes.rerun).toBe(50);
  }, 600_000);
});
