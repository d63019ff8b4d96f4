// Issue #17 item 12: `wufix journal list` (header, UTC dates, each run's status told truthfully from
// its authenticated journal, an altered one listed as such and never followed, --image, --json) and
// `wufix journal prune` (dry run by default, --yes removes only finished runs, --all the rest, never
// through a link), and the plan's "Journal:" line. Real runs of the built CLI on a Windows tree
// (--root) and on a real NTFS disk image (--image, root only).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, cpSync, mkdirSync, writeFileSync, readFileSync, readdirSync, existsSync, symlinkSync, lstatSync, renameSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB } from '../helpers/disk-images.js';
import { runCli } from '../helpers/cli.js';
import { runCliWithSignals } from '../helpers/cli-signals.js';
import { buildWinreDisk, laptopParts } from '../helpers/winre-images.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { dotnetWintrust } from '../scan/scenarios.js';
import { runStatusOf, type RunSummary, type PruneResult, type JournalFile } from '../../src/engine/journal.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const isRoot = process.getuid?.() === 0;
const imageReason = skipReason(
  reason,
  isRoot ? undefined : 'needs root (loop devices, ntfs-3g)',
  toolsReason('ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk'),
  diskToolsReason(),
);

const winreReason = skipReason(imageReason, toolsReason('sfdisk', 'wimcapture', 'ntfsresize', 'ntfsfix', 'blkid'));

const HEADER = 'RUN ID                   STATUS       STARTED (UTC)        CHANGES  REPAIRS';
/** "2026-12-03 07:01:02" as the list prints an ISO time. */
const utc = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, '');
const oneLine = (s: string) => s.trim().split('\n');
/** Bytes of the regular files below a folder (what prune reports freeing). */
function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    const st = lstatSync(p);
    n += st.isDirectory() ? folderBytes(p) : st.size;
  }
  return n;
}

// Every phase pair a run can record (src/engine/apply.ts, src/winre/run.ts), and the status list shows for it.
// The real runs below reach applied, undone, rolled-back, stopped, unfinished and interrupted; a refusal
// recorded in a journal (the disk part refusing after the run's journal was written) only this table.
describe('runStatusOf: the status of an authenticated run from its recorded phases', () => {
  it.each([
    ['verified', undefined, undefined, 'applied'],
    ['undone', undefined, undefined, 'undone'],
    ['rolled-back', undefined, 'Ctrl-C; everything was rolled back', 'rolled-back'],
    ['rolled-back', 'rolled-back', 'x', 'rolled-back'],
    ['interrupted', 'interrupted', 'Ctrl-C', 'interrupted'],
    ['planned', 'planned', 'refused: the disk changed since the plan', 'refused'],
    ['planned', undefined, undefined, 'stopped'],
    ['backed-up', undefined, undefined, 'stopped'],
    ['applying', undefined, undefined, 'unfinished'],
    ['applied', undefined, undefined, 'unfinished'],
    ['failed', 'applying', 'x', 'unfinished'],
    // The disk part changed the disk while the file part had not started: killed between them.
    ['planned', 'applying', undefined, 'unfinished'],
    ['planned', 'verified', undefined, 'unfinished'],
    ['backed-up', 'verified', undefined, 'unfinished'],
    ['interrupted', 'applying', undefined, 'unfinished'],
    ['rolled-back', 'applying', undefined, 'unfinished'],
    ['undone', 'undone', undefined, 'undone'],
    ['?', undefined, undefined, 'unfinished'],
  ])('state %s, disk part %s, error %s -> %s', (phase, disk, error, want) => {
    expect(runStatusOf(phase, disk, error)).toBe(want);
  });
});

describe.skipIf(!!reason)('wufix journal list / prune on a --root tree', () => {
  let tmp = '';
  let pristine = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-jcli-'));
    pristine = path.join(tmp, 'pristine');
    await buildWindowsTree(pristine, dotnetWintrust);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const fresh = (name: string) => {
    const d = path.join(tmp, name);
    cpSync(pristine, d, { recursive: true });
    return d;
  };
  const jroot = (root: string) => path.join(root, 'wufix', 'journal');
  const list = (root: string) => {
    const r = runCli(['journal', 'list', '--root', root, '--json']);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as RunSummary[];
  };
  const repair = (root: string, env?: NodeJS.ProcessEnv) => runCli(['repair', '--root', root, '--yes'], { env });
  /** A root with three runs: rolled back (Ctrl-C during apply), undone, and applied (can still be undone). */
  const threeRuns = (name: string) => {
    const root = fresh(name);
    expect(repair(root, { WUFIX_TEST_SIGINT_AT: 'after-group-0' }).status).toBe(130);
    expect(repair(root).status).toBe(0);
    const applied = list(root).find((x) => x.status === 'applied')!;
    expect(runCli(['undo', applied.runId, '--root', root]).status).toBe(0);
    expect(repair(root).status).toBe(0);
    const runs = list(root);
    expect(runs.map((r) => r.status)).toEqual(['rolled-back', 'undone', 'applied']);
    return { root, runs };
  };

  it('the plan says how much journal the run takes and where, with the free space; it is what the run then backs up', () => {
    const root = fresh('plan');
    const r = runCli(['repair', '--root', root]);
    expect(r.status, r.stderr).toBe(0);
    const runId = /^Plan for .* \(run (\S+)\): 2 change\(s\)$/m.exec(r.stdout)![1]!;
    const m = /^Journal: (\d+(?:\.\d)?) MiB \((\d+) bytes\) in\n {2}(.+)\n {2}\(free there: \d+(?:\.\d)? MiB \((\d+) bytes\)\)$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const bytes = Number(m![2]);
    expect(Number(m![1])).toBeCloseTo(bytes / MiB, 1);
    expect(m![3]).toBe(path.join(jroot(root), runId));
    expect(Number(m![4])).toBeGreaterThan(0);
    // --json says the same.
    const j = JSON.parse(runCli(['repair', '--root', root, '--json']).stdout) as { journalSpace: { bytes: number; dir: string; free: number; needed: number } };
    expect(j.journalSpace).toMatchObject({ bytes, needed: Math.ceil(bytes * 1.1) + 16 * MiB });
    // Applied: the backup holds exactly that many bytes of files (the two hives and their logs).
    expect(repair(root).status).toBe(0);
    const [run] = list(root);
    const files = JSON.parse(readFileSync(path.join(jroot(root), run!.runId, 'files.json'), 'utf8')) as JournalFile[];
    expect(files.reduce((a, f) => a + f.size, 0)).toBe(bytes);
  });

  it.skipIf(!isRoot)('the plan says when the journal will not fit (the repair then refuses: journal-space)', () => {
    const root = fresh('plan-small');
    const small = path.join(tmp, 'small');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]);
    try {
      const r = runCli(['repair', '--root', root, '--journal', small]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`^ {2}${small}/\\S+\\n {2}\\(free there: .*\\)\\n {2}not enough free space: with its margin the journal needs \\d+`, 'm'),
      );
      const y = runCli(['repair', '--root', root, '--journal', small, '--yes', '--json']);
      expect(y.status).toBe(3);
      expect(JSON.parse(y.stdout).error.code).toBe('journal-space');
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('list: a header, UTC start times, and rolled-back, undone and applied runs marked truthfully', () => {
    const t0 = new Date().toISOString();
    const { root, runs } = threeRuns('list');
    const t1 = new Date().toISOString();
    const r = runCli(['journal', 'list', '--root', root]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`Runs in ${jroot(root)}, oldest first (times in UTC):`);
    expect(lines[1]).toBe(HEADER);
    // 80 columns, but for the undo command lines (copied as they are, never wrapped).
    for (const l of lines) if (!l.startsWith('      wufix undo ')) expect(l.length, l).toBeLessThanOrEqual(80);
    for (const x of runs) {
      expect(x.createdAt >= t0 && x.createdAt <= t1, x.createdAt).toBe(true);
      expect(x.updatedAt >= x.createdAt && x.updatedAt <= t1).toBe(true);
      expect(x).toMatchObject({ authenticated: true, steps: 2, repairs: ['wintrust'] });
    }
    const [rb, un, ap] = runs as [RunSummary, RunSummary, RunSummary];
    const row = (x: RunSummary, status: string) => new RegExp(`^${x.runId} {2}${status.padEnd(11)} {2}${utc(x.createdAt)} {8}2 {2}wintrust$`, 'm');
    expect(r.stdout).toMatch(row(rb, 'rolled-back'));
    expect(r.stdout).toMatch(new RegExp(`^ {4}rolled back ${utc(rb.updatedAt)} UTC: nothing changed; why: Ctrl-C`, 'm'));
    expect(r.stdout).toMatch(row(un, 'undone'));
    expect(r.stdout).toMatch(new RegExp(`^ {4}undone ${utc(un.updatedAt)} UTC: every byte restored`, 'm'));
    expect(r.stdout).toMatch(row(ap, 'applied'));
    expect(r.stdout).toMatch(new RegExp(`^ {6}wufix undo ${ap.runId} --root "${root}"$`, 'm'));
    // The raw phases behind them, and what undo and prune may do with each.
    expect(runs.map((x) => [x.phase, x.undoable, x.finished])).toEqual([
      ['rolled-back', false, true],
      ['undone', false, true],
      ['verified', true, false],
    ]);
    // --journal names the same folder: the same runs.
    expect((JSON.parse(runCli(['journal', 'list', '--journal', jroot(root), '--json']).stdout) as RunSummary[]).map((x) => x.status)).toEqual([
      'rolled-back',
      'undone',
      'applied',
    ]);
  });

  it('list: a run killed half-way is unfinished (undo it), one killed before its first change is stopped', () => {
    const root = fresh('killed');
    const before = treeHashes(root);
    expect(repair(root, { WUFIX_TEST_CRASH_AT: 'after-backup' }).status).toBe(null); // SIGKILL
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
    expect(list(root).map((x) => [x.status, x.phase])).toEqual([['stopped', 'backed-up']]);
    expect(repair(root, { WUFIX_TEST_CRASH_AT: 'after-group-0' }).status).toBe(null);
    const runs = list(root);
    expect(runs.map((x) => [x.status, x.undoable])).toEqual([
      ['stopped', false],
      ['unfinished', true],
    ]);
    const out = runCli(['journal', 'list', '--root', root]).stdout;
    expect(out).toMatch(new RegExp(`^${runs[1]!.runId} {2}unfinished {3}`, 'm'));
    expect(out).toMatch(/^ {4}stopped half-way \(phase applying\) [-\d]+ [:\d]+ UTC: the target is not\n {6}in a known state; undo it:$/m);
    expect(out).toMatch(/^ {4}ended before its first change [-\d]+ [:\d]+ UTC \(killed, or a power\n {6}cut\): nothing changed$/m);
    // What the list says is what undo finds.
    expect(runCli(['undo', runs[1]!.runId, '--root', root]).status).toBe(0);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
    expect(list(root).map((x) => x.status)).toEqual(['stopped', 'undone']);
  });

  it('an altered journal is listed as not authenticated, never followed: its claimed state is not believed, prune keeps it', () => {
    const root = fresh('altered');
    expect(repair(root).status).toBe(0);
    const [run] = list(root);
    // Someone edits state.json to claim the run was undone (so prune would delete the only way back).
    const sf = path.join(jroot(root), run!.runId, 'state.json');
    writeFileSync(sf, readFileSync(sf, 'utf8').replace('"verified"', '"undone"'));
    const runs = list(root);
    expect(runs).toEqual([expect.objectContaining({ runId: run!.runId, status: 'not-authenticated', authenticated: false, phase: 'undone', undoable: false })]);
    expect(runs[0]!.problem).toMatch(/state\.json changed after the run sealed it/);
    const text = runCli(['journal', 'list', '--root', root]).stdout;
    expect(text).toMatch(new RegExp(`^${run!.runId} {2}UNTRUSTED {4}`, 'm'));
    expect(text).toMatch(/^ {4}NOT AUTHENTICATED: state\.json changed after the run sealed it;/m);
    const before = treeHashes(root, []);
    const p = runCli(['journal', 'prune', '--root', root, '--yes', '--json']);
    expect(p.status, p.stderr).toBe(0);
    const res = JSON.parse(p.stdout) as PruneResult;
    expect(res.removed).toEqual([]);
    expect(res.kept).toEqual([
      expect.objectContaining({ runId: run!.runId, why: expect.stringMatching(/^not authenticated \(.*\): its state is not trusted; --all removes it$/) }),
    ]);
    expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
  });

  it('prune: a dry run by default changes nothing; --yes removes only the finished runs, the applied one still undoes byte for byte; --all --yes the rest', () => {
    const { root, runs } = threeRuns('prune');
    const [rb, un, ap] = runs as [RunSummary, RunSummary, RunSummary];
    const sizes = [rb, un].map((x) => folderBytes(path.join(jroot(root), x.runId)));
    const before = treeHashes(root, []); // the journal folder included
    const dry = runCli(['journal', 'prune', '--root', root]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
    const total = sizes[0]! + sizes[1]!;
    expect(dry.stdout).toMatch(new RegExp(`^Would remove 2 run\\(s\\), freeing \\d+(\\.\\d)? MiB \\(${total} bytes\\):$`, 'm'));
    expect(dry.stdout).toMatch(new RegExp(`^ {2}${rb.runId} {2}rolled-back {2}.*\\(${sizes[0]} bytes\\)$`, 'm'));
    expect(dry.stdout).toMatch(new RegExp(`^ {2}${un.runId} {2}undone {7}.*\\(${sizes[1]} bytes\\)$`, 'm'));
    expect(dry.stdout).toMatch(
      new RegExp(
        `^Kept 1 run\\(s\\):\\n {2}${ap.runId} {2}applied\\n {4}it can still be undone; --all removes it\\n {4}undo it with:\\n {6}wufix undo ${ap.runId} --root "${root}"$`,
        'm',
      ),
    );
    expect(dry.stdout).toMatch(/^Dry run: nothing was removed\. Add --yes to remove them\.$/m);
    for (const l of dry.stdout.split('\n')) if (!l.startsWith('      wufix undo ')) expect(l.length, l).toBeLessThanOrEqual(80);
    // --yes: exactly the two finished runs' folders go, nothing else.
    const y = runCli(['journal', 'prune', '--root', root, '--yes', '--json']);
    expect(y.status, y.stderr).toBe(0);
    const res = JSON.parse(y.stdout) as PruneResult;
    expect(res).toMatchObject({ dryRun: false, bytes: total });
    expect(res.removed.map((x) => x.runId)).toEqual([rb.runId, un.runId]);
    expect(res.kept.map((x) => x.runId)).toEqual([ap.runId]);
    const gone = treeDiff(before, treeHashes(root, []));
    expect(gone.length).toBeGreaterThan(0);
    for (const g of gone) expect(g, g).toMatch(new RegExp(`^wufix/journal/(${rb.runId}|${un.runId})(/|$)`));
    expect(readdirSync(jroot(root))).toEqual([ap.runId]);
    // The kept run is intact: undo puts every byte back.
    expect(runCli(['undo', ap.runId, '--root', root]).status).toBe(0);
    expect(treeDiff(treeHashes(pristine), treeHashes(root))).toEqual([]);
    // Now undone, a plain prune removes it; first another applied run for --all.
    expect(repair(root).status).toBe(0);
    const all = runCli(['journal', 'prune', '--root', root, '--all']);
    expect(all.stdout).toMatch(/^Would remove 2 run\(s\)/m);
    expect(all.stdout).toMatch(/^Warning: 1 of them can still be undone or are not authenticated: removing/m);
    expect(readdirSync(jroot(root))).toHaveLength(2);
    expect(runCli(['journal', 'prune', '--root', root, '--all', '--yes']).status).toBe(0);
    expect(readdirSync(jroot(root))).toEqual([]);
    expect(runCli(['journal', 'list', '--root', root]).stdout).toBe(`No runs in ${jroot(root)}.\n`);
  });

  it('prune refuses a journal folder that is a symbolic link (exit 3, one line) and deletes nothing through a link inside a run', () => {
    const { root, runs } = threeRuns('links');
    const real = jroot(root);
    const link = path.join(tmp, 'journal-link');
    symlinkSync(real, link);
    const before = treeHashes(root, []);
    const r = runCli(['journal', 'prune', '--journal', link, '--yes', '--json']);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^wufix: refused: the journal folder .*journal-link is a symbolic link; wufix does not follow it to delete anything/);
    expect(JSON.parse(r.stdout).error.code).toBe('journal-link');
    expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
    // <root>\wufix\journal itself a link (planted on the target): refused as for repair.
    const moved = path.join(tmp, 'moved-journal');
    renameSync(real, moved);
    symlinkSync(moved, real);
    const t = runCli(['journal', 'prune', '--root', root, '--yes']);
    expect(t.status).toBe(3);
    expect(t.stderr).toMatch(/^wufix: refused: .*journal on the target is a link or not a folder/);
    expect(readdirSync(moved).sort()).toEqual(runs.map((x) => x.runId).sort());
    rmSync(real);
    renameSync(moved, real);
    // A finished run whose folder holds a link to a file outside: kept and named, the file untouched.
    const decoy = path.join(tmp, 'decoy.txt');
    writeFileSync(decoy, 'keep me');
    const rbDir = path.join(real, runs[0]!.runId);
    rmSync(path.join(rbDir, 'log.txt'));
    symlinkSync(decoy, path.join(rbDir, 'log.txt'));
    const p = runCli(['journal', 'prune', '--root', root, '--yes', '--json']);
    expect(p.status, p.stderr).toBe(0);
    const res = JSON.parse(p.stdout) as PruneResult;
    expect(res.removed.map((x) => x.runId)).toEqual([runs[1]!.runId]);
    expect(res.kept.find((x) => x.runId === runs[0]!.runId)?.why).toMatch(/^log\.txt is a symbolic link; wufix does not follow or delete links/);
    expect(readFileSync(decoy, 'utf8')).toBe('keep me');
    expect(lstatSync(path.join(rbDir, 'log.txt')).isSymbolicLink()).toBe(true);
    expect(existsSync(path.join(real, runs[2]!.runId, 'backup.tar'))).toBe(true);
  });

  it('usage: list and prune need a target', () => {
    for (const c of ['list', 'prune']) {
      const r = runCli(['journal', c]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`journal ${c} needs --root <volume>, --image <disk image> or --journal <dir>`));
    }
  });
});

describe.skipIf(!!imageReason)('wufix journal list / prune --image on a real NTFS disk image', () => {
  let tmp = '';
  let img = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-jimg-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, dotnetWintrust);
    img = path.join(tmp, 'win7.img');
    buildDisk(img, tree, { size: 3 * GiB, recoverySize: 700 * MiB, recoveryFree: 400 * MiB });
  }, 300_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('list --image shows the run beside the image (applied, then undone); prune --image removes it and leaves the image byte for byte', () => {
    const r = runCli(['repair', '--image', img, '--yes']);
    expect(r.status, r.stderr).toBe(0);
    const l = runCli(['journal', 'list', '--image', img]);
    expect(l.status, l.stderr).toBe(0);
    expect(l.stdout.split('\n').slice(0, 2)).toEqual([`Runs in ${img}.wufix-journal, oldest first (times in UTC):`, HEADER]);
    const [run] = JSON.parse(runCli(['journal', 'list', '--image', img, '--json']).stdout) as RunSummary[];
    expect(run).toMatchObject({ status: 'applied', authenticated: true, steps: 2 });
    expect(l.stdout).toMatch(new RegExp(`^${run!.runId} {2}applied {6}${utc(run!.createdAt)} {8}2 {2}wintrust$`, 'm'));
    expect(l.stdout).toMatch(new RegExp(`^ {6}wufix undo ${run!.runId} --image "${img}"$`, 'm'));
    // Made for this image only: listed with --journal alone it still authenticates, with another image's name it does not.
    const other = path.join(tmp, 'other.img');
    writeFileSync(other, '');
    const o = JSON.parse(runCli(['journal', 'list', '--image', other, '--journal', `${img}.wufix-journal`, '--json']).stdout) as RunSummary[];
    expect(o).toEqual([expect.objectContaining({ status: 'not-authenticated', problem: expect.stringMatching(/it was made for .*win7\.img, not for/) })]);
    // The applied run is kept by prune.
    const keep = runCli(['journal', 'prune', '--image', img, '--yes', '--json']);
    expect((JSON.parse(keep.stdout) as PruneResult).removed).toEqual([]);
    expect(runCli(['undo', '--image', img, '--last']).status).toBe(0);
    const [undone] = JSON.parse(runCli(['journal', 'list', '--image', img, '--json']).stdout) as RunSummary[];
    expect(undone).toMatchObject({ runId: run!.runId, status: 'undone' });
    const imgBefore = sha256(img);
    const dry = runCli(['journal', 'prune', '--image', img]);
    expect(dry.stdout).toMatch(new RegExp(`^ {2}${run!.runId} {2}undone `, 'm'));
    expect(existsSync(path.join(`${img}.wufix-journal`, run!.runId))).toBe(true);
    const y = runCli(['journal', 'prune', '--image', img, '--yes']);
    expect(y.status, y.stderr).toBe(0);
    expect(y.stdout).toMatch(/^Removed 1 run\(s\), freeing /m);
    expect(readdirSync(`${img}.wufix-journal`)).toEqual([]);
    expect(sha256(img)).toBe(imgBefore);
  }, 300_000);
});

describe.skipIf(!!winreReason)('wufix journal list / prune after an interrupted WinRE rebuild (a real image)', () => {
  let tmp = '';
  let tree = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-jwinre-'));
    tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, dotnetWintrust);
  }, 120_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('Ctrl-C while the disk part saves its journal: listed interrupted (nothing changed), prune removes it, the image byte for byte', async () => {
    const size = 4 * GiB;
    const img = buildWinreDisk(path.join(tmp, 'sigint.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    const before = sha256(img.file);
    const r = await runCliWithSignals(
      ['repair', '--image', img.file, '--only', 'winre', '--yes'],
      [{ when: /saving bytes \d+\.\.\d+ to the journal: \d+%/, signal: 'SIGINT' }],
    );
    expect(r.status, r.stderr).toBe(130);
    expect(sha256(img.file)).toBe(before);
    const [run] = JSON.parse(runCli(['journal', 'list', '--image', img.file, '--json']).stdout) as RunSummary[];
    expect(run).toMatchObject({ status: 'interrupted', phase: 'interrupted', diskPhase: 'interrupted', authenticated: true, undoable: false, finished: true });
    const text = runCli(['journal', 'list', '--image', img.file]).stdout;
    expect(text).toMatch(new RegExp(`^${run!.runId} {2}interrupted {2}${utc(run!.createdAt)} {8}${run!.steps} {2}winre$`, 'm'));
    expect(text).toMatch(new RegExp(`^ {4}interrupted before its first change ${utc(run!.updatedAt)} UTC: nothing`, 'm'));
    const p = runCli(['journal', 'prune', '--image', img.file, '--yes', '--json']);
    expect(p.status, p.stderr).toBe(0);
    const res = JSON.parse(p.stdout) as PruneResult;
    expect(res.removed.map((x) => x.runId)).toEqual([run!.runId]);
    expect(res.bytes).toBeGreaterThan(0);
    expect(readdirSync(`${img.file}.wufix-journal`)).toEqual([]);
    expect(sha256(img.file)).toBe(before);
  }, 600_000);
});
