// pending on the Windows 7 KB4056894 boot loop (test/scan/scenarios.ts win7Loop) and on an
// installation with every marker the repair clears: plan -> apply -> python3-hivex -> scan -> undo.
// Expected keys/values are what the builder wrote and windows-update.md §4 names.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, cpSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, type InstallSpec } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { hivexDump, type DumpRow } from '../helpers/hive-tools.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { win7Loop } from '../scan/scenarios.js';
import { pendingMarkersOnly } from './repair-scenarios-2.js';
import { scanTarget } from '../../src/scan/scan.js';
import { openHiveFile, saveHiveFile } from '../../src/hive/hivefile.js';
import { buildPlan, renderPlan } from '../../src/engine/plan.js';
import { applyPlan } from '../../src/engine/apply.js';
import { undoRun } from '../../src/engine/undo.js';
import { pending, planPending, describeRenames } from '../../src/repairs/pending.js';
import type { Finding } from '../../src/model/scan.js';
import { hostVolume } from '../../src/engine/volume.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const CFG = 'Windows/System32/config';
const CBS = 'Microsoft\\Windows\\CurrentVersion\\Component Based Servicing';
const RR = 'Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired';
const SM = 'ControlSet001\\Control\\Session Manager';
const THREE = ['PendingXmlIdentifier', 'NextQueueEntryIndex', 'AdvancedInstallersNeedResolving'];
// What the builder writes (winbuilder.ts buildComponents / buildSystem), as hex.
const utf16z = (s: string) => Buffer.from(s + '\0', 'utf16le').toString('hex');
const BUILT_COMPONENTS = {
  PendingXmlIdentifier: { type: 3, data: utf16z('1d3a4f5e6b7c8d9e') },
  NextQueueEntryIndex: { type: 3, data: '01000000' },
  AdvancedInstallersNeedResolving: { type: 3, data: '01' },
};
const RENAME_SRC = '\\??\\C:\\Windows\\WinSxS\\Temp\\PendingRenames\\x.dll';

const rowsByPath = (rows: DumpRow[]) => new Map(rows.map((r) => [r.path, r]));
/** A hivex dump minus the given key paths (and everything below them). */
const without = (rows: DumpRow[], keys: string[]) => rows.filter((r) => !keys.some((k) => r.path === k || r.path.startsWith(`${k}\\`)));
const fixedIds = (fs: Finding[]) => fs.filter((f) => f.id === 'pending-servicing' || f.id === 'reboot-loop');

describe('describeRenames (pure)', () => {
  it('delete vs move, first entries and the rest counted', () => {
    const r = (source: string, target: string) => ({
      source,
      target,
      delete: target === '',
      value: 'PendingFileRenameOperations' as const,
      controlSet: 'ControlSet001',
    });
    expect(describeRenames([r('\\??\\C:\\a', ''), r('\\??\\C:\\b', '!\\??\\C:\\c')])).toBe('delete \\??\\C:\\a; \\??\\C:\\b -> !\\??\\C:\\c');
    expect(describeRenames([r('a', ''), r('b', ''), r('c', ''), r('d', ''), r('e', '')], 2)).toBe('delete a; delete b, and 3 more');
  });
});

describe.skipIf(!!reason)('pending repair', () => {
  let tmp = '';
  const pristine: Record<string, string> = {};
  let n = 0;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-pending-'));
    for (const [name, spec] of [
      ['win7Loop', win7Loop],
      ['markers', pendingMarkersOnly],
    ] as [string, InstallSpec][]) {
      pristine[name] = path.join(tmp, name);
      await buildWindowsTree(pristine[name], spec);
    }
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const fresh = (name: string) => {
    const d = path.join(tmp, `t${n++}`);
    cpSync(pristine[name]!, d, { recursive: true });
    return d;
  };
  const runId = (k: string) => `20180108T090000Z-${k}`;

  it('win7Loop: plans pending.xml, the three COMPONENTS values, RebootPending and the CBS session queue; PendingFileRenameOperations only shown', async () => {
    const root = fresh('win7Loop');
    const scan = await scanTarget({ root });
    expect(
      fixedIds(scan.findings)
        .map((f) => `${f.id}${f.subject ? `:${f.subject}` : ''}`)
        .sort(),
    ).toEqual(['pending-servicing', 'reboot-loop:KB4056894']);
    const id = runId('plan01');
    const steps = await planPending({ root, volume: hostVolume(root), scan, options: { runId: id } });
    expect(steps.map((s) => s.change)).toEqual([
      { kind: 'rename', from: 'Windows\\WinSxS\\pending.xml', to: `Windows\\WinSxS\\pending.xml.wufix-${id}` },
      ...THREE.map((name) => ({
        kind: 'reg-delete-value',
        hive: 'Windows\\System32\\config\\COMPONENTS',
        key: '',
        name,
        old: BUILT_COMPONENTS[name as keyof typeof BUILT_COMPONENTS],
      })),
      { kind: 'reg-delete-key', hive: 'Windows\\System32\\config\\SOFTWARE', key: `${CBS}\\RebootPending` },
      // The builder's PackagesPending entry and SessionsPending Exclusive=1 / TotalSessionPhases=1.
      { kind: 'reg-delete-key', hive: 'Windows\\System32\\config\\SOFTWARE', key: `${CBS}\\PackagesPending` },
      {
        kind: 'reg-delete-value',
        hive: 'Windows\\System32\\config\\SOFTWARE',
        key: `${CBS}\\SessionsPending`,
        name: 'Exclusive',
        old: { type: 4, data: '01000000' },
      },
      {
        kind: 'reg-delete-value',
        hive: 'Windows\\System32\\config\\SOFTWARE',
        key: `${CBS}\\SessionsPending`,
        name: 'TotalSessionPhases',
        old: { type: 4, data: '01000000' },
      },
    ]);
    for (const s of steps) expect(s.reason).toMatch(/^pending-servicing \/ reboot-loop \(KB4056894\): /);
    expect(steps[0]!.note).toBe(
      `kept (add --clear-pending-renames to clear): PendingFileRenameOperations in ControlSet001: 1 operation (delete ${RENAME_SRC})`,
    );
    const plan = await buildPlan(scan, [pending], {}, { runId: id }, { tool: 't' });
    expect(plan.steps).toEqual(steps);
    expect(renderPlan(plan, [pending])).toContain('delete value PendingXmlIdentifier');
  });

  it('win7Loop apply: exactly those changes (python3-hivex), SYSTEM and every other file unchanged; undo restores every byte', async () => {
    const root = fresh('win7Loop');
    const before = treeHashes(root);
    const dump = (h: string) => hivexDump(path.join(root, CFG, h));
    const swBefore = dump('SOFTWARE');
    const compBefore = dump('COMPONENTS');
    expect(
      compBefore
        .find((r) => r.path === '')!
        .values.map((v) => v.name)
        .sort(),
    ).toEqual([...THREE].sort());
    const id = runId('apply1');
    const plan = await buildPlan(await scanTarget({ root }), [pending], {}, { runId: id }, { tool: 't' });
    const journalRoot = path.join(root, 'wufix', 'journal');
    await applyPlan(plan, { journalRoot });

    // COMPONENTS: the root values gone, every key still there.
    const compAfter = dump('COMPONENTS');
    expect(compAfter.find((r) => r.path === '')!.values).toEqual([]);
    expect(without(compAfter, [''])).toEqual(without(compBefore, ['']));
    expect(compAfter.map((r) => r.path)).toEqual(compBefore.map((r) => r.path));
    // SOFTWARE: RebootPending and PackagesPending gone, SessionsPending empty (as on a healthy
    // system), everything else as it was.
    const swAfter = dump('SOFTWARE');
    expect(rowsByPath(swAfter).has(`${CBS}\\RebootPending`)).toBe(false);
    expect(rowsByPath(swAfter).has(`${CBS}\\PackagesPending`)).toBe(false);
    expect(rowsByPath(swAfter).get(`${CBS}\\SessionsPending`)!.values).toEqual([]);
    const keep = (rows: DumpRow[]) => without(rows, [`${CBS}\\RebootPending`, `${CBS}\\PackagesPending`, `${CBS}\\SessionsPending`]);
    expect(keep(swAfter)).toEqual(keep(swBefore));
    // Files: the two hives changed, pending.xml renamed with the same bytes; nothing else.
    const after = treeHashes(root);
    const diff = treeDiff(before, after);
    expect(diff.filter((d) => !/^Windows\/System32\/config\/(SOFTWARE|COMPONENTS)(\.LOG\d)?$/.test(d))).toEqual([
      'Windows/WinSxS/pending.xml',
      `Windows/WinSxS/pending.xml.wufix-${id}`,
    ]);
    expect(after.get(`Windows/WinSxS/pending.xml.wufix-${id}`)).toBe(before.get('Windows/WinSxS/pending.xml'));
    expect(after.get(`${CFG}/SYSTEM`)).toBe(before.get(`${CFG}/SYSTEM`));

    // The scan: nothing is queued any more, so pending-servicing is gone. reboot-loop stays while
    // automatic installs are not paused (the au-pause repair's job), read from the log history.
    const scanAfter = await scanTarget({ root });
    expect(scanAfter.servicing).toMatchObject({
      rebootPending: false,
      rebootRequired: false,
      componentsPending: [],
      packagesPending: [],
      sessionsPending: [],
      pendingFileRenames: 1,
    });
    expect(scanAfter.servicing.pendingXml).toBeUndefined();
    expect(scanAfter.findings.map((f) => f.id)).toEqual(['reboot-loop']);
    const loop = scanAfter.findings.find((f) => f.id === 'reboot-loop')!;
    expect(loop.evidence.every((e) => e.file === 'Windows\\WindowsUpdate.log')).toBe(true);
    // Idempotent: nothing left for this repair to plan.
    expect(await planPending({ root, volume: hostVolume(root), scan: scanAfter, options: { runId: runId('again1') } })).toEqual([]);

    await undoRun(journalRoot, id);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('--clear-pending-renames deletes PendingFileRenameOperations from the control set (python3-hivex); undo restores SYSTEM', async () => {
    const root = fresh('win7Loop');
    const before = treeHashes(root);
    const sysBefore = hivexDump(path.join(root, CFG, 'SYSTEM'));
    const pfro = rowsByPath(sysBefore)
      .get(SM)!
      .values.find((v) => v.name === 'PendingFileRenameOperations')!;
    expect(pfro.type).toBe(7);
    const id = runId('clear1');
    const scan = await scanTarget({ root });
    const plan = await buildPlan(scan, [pending], {}, { runId: id, clearPendingRenames: true }, { tool: 't' });
    const last = plan.steps[plan.steps.length - 1]!;
    expect(last.change).toEqual({
      kind: 'reg-delete-value',
      hive: 'Windows\\System32\\config\\SYSTEM',
      key: SM,
      name: 'PendingFileRenameOperations',
      old: { type: 7, data: pfro.data },
    });
    expect(last.note).toBe(`PendingFileRenameOperations in ControlSet001: 1 operation (delete ${RENAME_SRC})`);
    expect(plan.steps.some((s) => s.note?.includes('kept'))).toBe(false);
    const journalRoot = path.join(root, 'wufix', 'journal');
    await applyPlan(plan, { journalRoot });
    const sysAfter = hivexDump(path.join(root, CFG, 'SYSTEM'));
    const sm = rowsByPath(sysAfter).get(SM)!;
    expect(sm.values.map((v) => v.name)).toEqual([]);
    expect(sysAfter.filter((r) => r.path !== SM)).toEqual(sysBefore.filter((r) => r.path !== SM));
    expect((await scanTarget({ root })).servicing.pendingFileRenames).toBe(0);
    await undoRun(journalRoot, id);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('every marker it clears (RebootRequired too): the scan afterwards has no pending-servicing; undo restores every byte', async () => {
    const root = fresh('markers');
    const before = treeHashes(root);
    const scan = await scanTarget({ root });
    expect(scan.findings.map((f) => f.id)).toEqual(['pending-servicing']);
    const id = runId('mark01');
    const plan = await buildPlan(scan, [pending], {}, { runId: id }, { tool: 't' });
    expect(plan.steps.map((s) => s.change.kind)).toEqual([
      'rename',
      'reg-delete-value',
      'reg-delete-value',
      'reg-delete-value',
      'reg-delete-key',
      'reg-delete-key',
    ]);
    expect(plan.steps[5]!.change).toEqual({ kind: 'reg-delete-key', hive: 'Windows\\System32\\config\\SOFTWARE', key: RR });
    const swBefore = hivexDump(path.join(root, CFG, 'SOFTWARE'));
    expect(rowsByPath(swBefore).has(RR)).toBe(true);
    const journalRoot = path.join(root, 'wufix', 'journal');
    await applyPlan(plan, { journalRoot });
    const swAfter = hivexDump(path.join(root, CFG, 'SOFTWARE'));
    expect(swAfter).toEqual(without(swBefore, [`${CBS}\\RebootPending`, RR]));
    expect(existsSync(path.join(root, 'Windows/WinSxS/pending.xml'))).toBe(false);
    expect(readFileSync(path.join(root, `Windows/WinSxS/pending.xml.wufix-${id}`), 'utf8')).toContain('Identifier="1d3a4f5e6b7c8d9e"');
    expect((await scanTarget({ root })).findings.map((f) => f.id)).toEqual([]);
    await undoRun(journalRoot, id);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
    expect((await scanTarget({ root })).findings.map((f) => f.id)).toEqual(['pending-servicing']);
  });

  it('RebootInProgress (which the scan reports as RebootPending) is deleted too, with a note counting its entries', async () => {
    const root = fresh('markers');
    const h = await openHiveFile(path.join(root, CFG, 'SOFTWARE'));
    h.hive.setValue(h.hive.ensureKey(`${CBS}\\RebootInProgress`), '{8A2C3F1E-0000-0000-0000-000000000001}', 4, new Uint8Array([1, 0, 0, 0]));
    await saveHiveFile(h);
    const steps = await planPending({ root, volume: hostVolume(root), scan: await scanTarget({ root }), options: { runId: runId('inprog') } });
    const s = steps.find((x) => x.change.kind === 'reg-delete-key' && x.change.key.endsWith('RebootInProgress'))!;
    expect(s.change).toEqual({ kind: 'reg-delete-key', hive: 'Windows\\System32\\config\\SOFTWARE', key: `${CBS}\\RebootInProgress` });
    expect(s.note).toBe('1 entry below it');
  });
});
