// wu-cache on a realistic installation (caches present, ReportingEvents.log with 0x80240034):
// plan -> apply -> scan -> undo through the engine. Expected paths and bytes come from what the
// builder wrote (and windows-update.md §2: the BITS set moves together, catroot is never touched).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, cpSync, readFileSync, writeFileSync, existsSync, renameSync, symlinkSync, lstatSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { wuCacheBroken } from './repair-scenarios-2.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan, renderPlan } from '../../src/engine/plan.js';
import { applyPlan } from '../../src/engine/apply.js';
import { undoRun } from '../../src/engine/undo.js';
import { RefusedError } from '../../src/shared/errors.js';
import type { PlanStep } from '../../src/model/plan.js';
import { wucache, planCaches, touchesCatroot, assertNoCatroot } from '../../src/repairs/wucache.js';
import { hostVolume } from '../../src/engine/volume.js';

const reason = skipReason(sharedReason(), toolsReason('tar'));
const SD = 'Windows/SoftwareDistribution';
const C2 = 'Windows/System32/catroot2';
const DL = 'ProgramData/Microsoft/Network/Downloader';
// What the builder writes for `caches: true` (test/helpers/winbuilder.ts).
const BITS = ['qmgr.db', 'edb.chk', 'edb.log', 'qmgr.jfm'];
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const ids = async (root: string) => (await scanTarget({ root })).findings.map((f) => f.id).sort();

/** Before-fingerprint with the renames applied to its paths: what the tree must look like after. */
function renamedView(before: Map<string, string>, renames: [string, string][]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of before) {
    let key = k;
    for (const [from, to] of renames) {
      if (key === from || key === `${from}/` || key.startsWith(`${from}/`)) key = to + key.slice(from.length);
    }
    out.set(key, v);
  }
  return out;
}

describe('catroot guard (pure)', () => {
  it('System32\\catroot and anything below it, in any case; never catroot2', () => {
    expect(touchesCatroot('Windows\\System32\\catroot')).toBe(true);
    expect(touchesCatroot('windows\\SYSTEM32\\CatRoot\\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\\nt5.cat')).toBe(true);
    expect(touchesCatroot('Windows/System32/catroot/')).toBe(true);
    expect(touchesCatroot('Windows\\System32\\catroot2')).toBe(false);
    expect(touchesCatroot('Windows\\System32\\catroot.wufix-x')).toBe(false);
    expect(touchesCatroot('Windows\\SoftwareDistribution')).toBe(false);
  });
  it('assertNoCatroot throws a RefusedError for a rename, keep-copy or write touching catroot', () => {
    const mk = (change: PlanStep['change']): PlanStep[] => [{ repair: 'wu-cache', reason: 't', change }];
    expect(() => assertNoCatroot(mk({ kind: 'rename', from: 'Windows\\System32\\catroot', to: 'Windows\\System32\\catroot.wufix-1' }))).toThrow(RefusedError);
    expect(() => assertNoCatroot(mk({ kind: 'rename', from: 'Windows\\System32\\x', to: 'Windows\\System32\\CATROOT' }))).toThrow(/never touched/);
    expect(() => assertNoCatroot(mk({ kind: 'keep-copy', path: 'Windows\\System32\\catroot\\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\\nt5.cat' }))).toThrow(
      RefusedError,
    );
    const ok = mk({ kind: 'rename', from: 'Windows\\System32\\catroot2', to: 'Windows\\System32\\catroot2.wufix-1' });
    expect(assertNoCatroot(ok)).toBe(ok);
  });
});

describe.skipIf(!!reason)('wu-cache repair', () => {
  let tmp = '';
  let pristine = '';
  let n = 0;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-wucache-'));
    pristine = path.join(tmp, 'pristine');
    await buildWindowsTree(pristine, wuCacheBroken);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const fresh = () => {
    const d = path.join(tmp, `t${n++}`);
    cpSync(pristine, d, { recursive: true, verbatimSymlinks: true });
    return d;
  };
  const runId = (k: string) => `20240314T120000Z-${k}`;

  it('plans keep-copy of ReportingEvents.log, then SoftwareDistribution, catroot2 and the whole BITS set; nothing under catroot', async () => {
    const root = fresh();
    const scan = await scanTarget({ root });
    expect(scan.findings.map((f) => f.id)).toEqual(['wu-cache']);
    expect(scan.findings[0]!.errorCodes).toEqual(['0x80240034']);
    const id = runId('plan01');
    const steps = await wucache.plan({ root, volume: hostVolume(root), scan, options: { runId: id } });
    expect(steps.slice(0, 3).map((s) => s.change)).toEqual([
      { kind: 'keep-copy', path: 'Windows\\SoftwareDistribution\\ReportingEvents.log' },
      { kind: 'rename', from: 'Windows\\SoftwareDistribution', to: `Windows\\SoftwareDistribution.wufix-${id}` },
      { kind: 'rename', from: 'Windows\\System32\\catroot2', to: `Windows\\System32\\catroot2.wufix-${id}` },
    ]);
    expect(steps).toHaveLength(3 + BITS.length);
    for (const s of steps.slice(3)) {
      const c = s.change;
      expect(c.kind === 'rename' && c.to === `${c.from}.wufix-${id}`).toBe(true);
    }
    // The BITS renames: exactly the four files the builder wrote, in any order.
    const bits = steps.slice(3).map((s) => (s.change.kind === 'rename' ? s.change.from : ''));
    expect(bits.map((b) => b.split('\\').pop()).sort()).toEqual([...BITS].sort());
    expect(bits.every((b) => b.startsWith('ProgramData\\Microsoft\\Network\\Downloader\\'))).toBe(true);
    for (const s of steps) {
      expect(s.repair).toBe('wu-cache');
      expect(s.reason).toBe('wu-cache (0x80240034)');
      const c = s.change;
      for (const p of c.kind === 'rename' ? [c.from, c.to] : c.kind === 'keep-copy' ? [c.path] : [])
        expect(p.toLowerCase()).not.toMatch(/system32\\catroot(\\|$)/);
    }
    const plan = await buildPlan(scan, [wucache], {}, { runId: id }, { tool: 't' });
    expect(plan.notFixed).toEqual([]);
    expect(renderPlan(plan, [wucache])).toMatch(/rename Windows\\System32\\catroot2 -> Windows\\System32\\catroot2\.wufix-/);
  });

  it('apply: exactly the renames (content intact), catroot byte-identical, ReportingEvents.log in the journal, scan clean; undo restores every byte', async () => {
    const root = fresh();
    const before = treeHashes(root);
    const catrootBefore = [...before].filter(([k]) => k.startsWith('Windows/System32/catroot/'));
    expect(catrootBefore.length).toBeGreaterThan(1);
    const reportingBefore = sha(path.join(root, SD, 'ReportingEvents.log'));
    const id = runId('apply1');
    const scan = await scanTarget({ root });
    const plan = await buildPlan(scan, [wucache], {}, { runId: id }, { tool: 't' });
    const journalRoot = path.join(root, 'wufix', 'journal');
    const res = await applyPlan(plan, { journalRoot });
    expect(res.applied).toBe(plan.steps.length);

    const after = treeHashes(root);
    const expected = renamedView(before, [
      [SD, `${SD}.wufix-${id}`],
      [C2, `${C2}.wufix-${id}`],
      ...BITS.map((f): [string, string] => [`${DL}/${f}`, `${DL}/${f}.wufix-${id}`]),
    ]);
    expect(treeDiff(expected, after)).toEqual([]);
    for (const [k, v] of catrootBefore) expect(after.get(k), k).toBe(v);
    expect(existsSync(path.join(root, SD))).toBe(false);
    expect(existsSync(path.join(root, C2))).toBe(false);

    // The journal keeps ReportingEvents.log byte for byte.
    const tarFile = path.join(res.journal, 'backup.tar');
    const kept = execFileSync('tar', ['-xOf', tarFile, 'Windows/SoftwareDistribution/ReportingEvents.log']);
    expect(createHash('sha256').update(kept).digest('hex')).toBe(reportingBefore);

    // The scan no longer finds wu-cache (nor anything else), and a re-plan has nothing left to do.
    const scanAfter = await scanTarget({ root });
    expect(scanAfter.findings.map((f) => f.id)).toEqual([]);
    expect(planCaches({ root, volume: hostVolume(root), scan: scanAfter, options: { runId: runId('again1') } }).steps).toEqual([]);

    await undoRun(journalRoot, id);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
    expect(await ids(root)).toEqual(['wu-cache']);
  });

  it('Windows 7 BITS queue (qmgr0.dat, qmgr1.dat) moves as a set too', async () => {
    const root = fresh();
    for (const f of BITS) rmSync(path.join(root, DL, f));
    writeFileSync(path.join(root, DL, 'qmgr0.dat'), Buffer.alloc(1000, 1));
    writeFileSync(path.join(root, DL, 'qmgr1.dat'), Buffer.alloc(1000, 2));
    writeFileSync(path.join(root, DL, 'readme.txt'), 'not a queue file');
    const before = treeHashes(root);
    const id = runId('win7q1');
    const plan = await buildPlan(await scanTarget({ root }), [wucache], {}, { runId: id }, { tool: 't' });
    const froms = plan.steps.flatMap((s) => (s.change.kind === 'rename' && s.change.from.startsWith('ProgramData') ? [s.change.from] : []));
    expect(froms.sort()).toEqual(['ProgramData\\Microsoft\\Network\\Downloader\\qmgr0.dat', 'ProgramData\\Microsoft\\Network\\Downloader\\qmgr1.dat']);
    const journalRoot = path.join(root, 'wufix', 'journal');
    await applyPlan(plan, { journalRoot });
    const after = treeHashes(root);
    expect(after.get(`${DL}/readme.txt`)).toBe(before.get(`${DL}/readme.txt`));
    expect(after.get(`${DL}/qmgr0.dat.wufix-${id}`)).toBe(before.get(`${DL}/qmgr0.dat`));
    await undoRun(journalRoot, id);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('a symbolic link in place of catroot2 refuses the repair (exit 3, naming it); planCaches alone skips it; nothing changes', async () => {
    const root = fresh();
    // catroot2 moved elsewhere and replaced by a link to it (what a junction looks like on Linux).
    const elsewhere = path.join(tmp, `elsewhere-${n}`);
    renameSync(path.join(root, C2), elsewhere);
    symlinkSync(elsewhere, path.join(root, C2));
    const elsewhereBefore = treeHashes(elsewhere, []);
    const before = treeHashes(root);
    const id = runId('link01');
    const scan = await scanTarget({ root });
    expect(scan.problems.some((p) => p.startsWith('Windows\\System32\\catroot2: a symbolic link (or junction) to ') && p.includes(elsewhere))).toBe(true);
    const refused = await buildPlan(scan, [wucache], {}, { runId: id }, { tool: 't' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(RefusedError);
    expect((refused as RefusedError).code).toBe('link');
    expect((refused as RefusedError).message).toMatch(
      /^wu-cache: Windows\\System32\\catroot2 is a symbolic link \(or junction\) to .*not followed.*--skip wu-cache/,
    );
    // The planner on its own still skips the link and names it (for callers without the check).
    const { steps, skippedLinks } = planCaches({ root, volume: hostVolume(root), scan, options: { runId: id } });
    expect(skippedLinks).toEqual(['Windows\\System32\\catroot2']);
    expect(steps.flatMap((s) => (s.change.kind === 'rename' ? [s.change.from] : []))).not.toContain('Windows\\System32\\catroot2');
    expect(lstatSync(path.join(root, C2)).isSymbolicLink()).toBe(true);
    expect(treeDiff(elsewhereBefore, treeHashes(elsewhere, []))).toEqual([]);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('a symbolic link in place of SoftwareDistribution: no keep-copy, no rename of it, reported', async () => {
    const root = fresh();
    const elsewhere = path.join(tmp, `elsewhere-sd-${n}`);
    renameSync(path.join(root, SD), elsewhere);
    symlinkSync(elsewhere, path.join(root, SD));
    const scan = await scanTarget({ root });
    const { steps, skippedLinks } = planCaches({ root, volume: hostVolume(root), scan, options: { runId: runId('link02') } });
    expect(skippedLinks).toEqual(['Windows\\SoftwareDistribution']);
    expect(steps.some((s) => s.change.kind === 'keep-copy')).toBe(false);
    expect(steps.map((s) => (s.change.kind === 'rename' ? s.change.from : s.change.kind))).toEqual([
      'Windows\\System32\\catroot2',
      ...steps.slice(1).map((s) => (s.change.kind === 'rename' ? s.change.from : '')),
    ]);
    expect(steps.slice(1).every((s) => s.change.kind === 'rename' && s.change.from.startsWith('ProgramData\\'))).toBe(true);
    expect(steps[0]!.note).toMatch(/not renamed: Windows\\SoftwareDistribution is a junction or symbolic link/);
  });

  it('undo of a renames-only run (no ReportingEvents.log to keep) restores every byte', async () => {
    const root = fresh();
    rmSync(path.join(root, SD, 'ReportingEvents.log'));
    const before = treeHashes(root);
    const id = runId('norep1');
    const plan = await buildPlan(await scanTarget({ root }), [wucache], { only: ['wu-cache'] }, { runId: id }, { tool: 't' });
    expect(plan.steps.length).toBeGreaterThan(1);
    expect(plan.steps.every((s) => s.change.kind === 'rename')).toBe(true);
    const journalRoot = path.join(root, 'wufix', 'journal');
    await applyPlan(plan, { journalRoot });
    await undoRun(journalRoot, id);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });
});
