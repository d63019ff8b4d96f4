// au-pause / au-resume end to end through the engine (buildPlan -> applyPlan -> scan -> undo) on
// builder installations: the Windows 7 KB4056894 loop (test/scan/scenarios.ts win7Loop) is paused
// with the policy NoAutoUpdate=1 (windows-update.md §4 step 4, §6), the scan then reminds with the
// info finding 'au-paused', and au-resume removes the value again. Values read back with libhivex.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';
import { win7Loop, staleWsus } from '../scan/scenarios.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan, renderPlan } from '../../src/engine/plan.js';
import { applyPlan } from '../../src/engine/apply.js';
import { undoRun } from '../../src/engine/undo.js';
import { newRunId } from '../../src/engine/journal.js';
import { auPause, auResume } from '../../src/repairs/aupause.js';
import type { RepairModule } from '../../src/model/plan.js';
import type { ScanResult } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const AU = 'Policies\\Microsoft\\Windows\\WindowsUpdate\\AU';
const MODULES: RepairModule[] = [auPause, auResume];

// --- helpers ----------------------------------------------------------------------------------
import { treeHashes, changedFiles, asMap, withChanges, dw, findingIds } from '../helpers/repair-harness.js';
const SOFTWARE = (root: string) => path.join(root, 'Windows', 'System32', 'config', 'SOFTWARE');
const ids = findingIds;

let tmp = '';
beforeAll(() => {
  if (!reason) tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-aupause-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function step(root: string, scan: ScanResult, only?: string[]) {
  const runId = newRunId();
  const plan = await buildPlan(scan, MODULES, { only }, { runId }, { tool: 'test' });
  if (plan.steps.length) await applyPlan(plan, { journalRoot: path.join(root, 'wufix', 'journal') });
  return { runId, plan, hashes: treeHashes(root), dump: hivexDump(SOFTWARE(root)), scan: await scanTarget({ root }) };
}

describe.skipIf(!!reason)('au-pause / au-resume', () => {
  it('Windows 7 KB4056894 loop: pause, reminder, resume, undo both', async () => {
    const root = path.join(tmp, 'win7loop');
    await buildWindowsTree(root, win7Loop);
    const hashes0 = treeHashes(root);
    const dump0 = hivexDump(SOFTWARE(root));
    const scan0 = await scanTarget({ root });
    expect(ids(scan0)).toContain('reboot-loop:KB4056894');
    expect(ids(scan0)).not.toContain('au-paused');

    // Default selection: the reboot-loop finding picks au-pause; au-resume (fixes nothing) does not run.
    const p = await step(root, scan0);
    expect(p.plan.steps).toEqual([
      {
        repair: 'au-pause',
        reason: 'reboot-loop (KB4056894)',
        change: {
          kind: 'reg-set',
          hive: 'Windows\\System32\\config\\SOFTWARE',
          key: AU,
          name: 'NoAutoUpdate',
          value: { type: 4, data: '01000000' },
          old: null,
        },
        note: 'Windows stops installing updates automatically until au-resume (wufix repair --only au-resume)',
      },
    ]);
    expect(renderPlan(p.plan, MODULES)).toContain(
      `au-pause: pause automatic updates (policy NoAutoUpdate=1) so a looping update is not retried\n  - Windows\\System32\\config\\SOFTWARE  [${AU}] NoAutoUpdate REG_DWORD: (absent) -> 0x00000001\n      because: reboot-loop (KB4056894); `,
    );
    // reboot-loop names the pending repair (reverting the queue); pausing alone does not fix it.
    expect(p.plan.notFixed.map((n) => n.id)).toEqual(['reboot-loop', 'pending-servicing']);
    // libhivex: the policy keys are new, with the one value.
    expect(asMap(p.dump)).toEqual(
      withChanges(dump0, {
        Policies: {},
        'Policies\\Microsoft': {},
        'Policies\\Microsoft\\Windows': {},
        'Policies\\Microsoft\\Windows\\WindowsUpdate': {},
        [AU]: { NoAutoUpdate: dw(1) },
      }),
    );
    expect(changedFiles(hashes0, p.hashes)).toEqual(['Windows/System32/config/SOFTWARE']);
    // The scan reminds while paused. reboot-loop stays: it is read from the logs' past failures,
    // which pausing does not erase (the pending repair removes the cause).
    expect(ids(p.scan)).toEqual([...ids(scan0), 'au-paused'].sort());
    expect(p.scan.findings.find((f) => f.id === 'au-paused')!.severity).toBe('info');
    // Idempotent: pausing again plans nothing.
    expect((await buildPlan(p.scan, MODULES, { only: ['au-pause'] }, { runId: newRunId() }, { tool: 'test' })).steps).toEqual([]);

    // au-resume runs only when asked for.
    expect((await buildPlan(p.scan, MODULES, {}, { runId: newRunId() }, { tool: 'test' })).steps.map((s) => s.repair)).toEqual([]);
    const r = await step(root, p.scan, ['au-resume']);
    expect(r.plan.steps).toEqual([
      {
        repair: 'au-resume',
        reason: 'au-paused (NoAutoUpdate=1)',
        change: { kind: 'reg-delete-value', hive: 'Windows\\System32\\config\\SOFTWARE', key: AU, name: 'NoAutoUpdate', old: { type: 4, data: '01000000' } },
        note: 'automatic updates follow the AUOptions policy or the Windows default again',
      },
    ]);
    expect(renderPlan(r.plan, MODULES)).toContain(`[${AU}] delete value NoAutoUpdate (was 0x00000001)\n      because: au-paused (NoAutoUpdate=1)`);
    expect(asMap(r.dump)).toEqual(withChanges(p.dump, { [AU]: { NoAutoUpdate: null } }));
    expect(changedFiles(p.hashes, r.hashes)).toEqual(['Windows/System32/config/SOFTWARE']);
    expect(ids(r.scan)).toEqual(ids(scan0));
    expect((await buildPlan(r.scan, MODULES, { only: ['au-resume'] }, { runId: newRunId() }, { tool: 'test' })).steps).toEqual([]);

    // Undo, newest first: back to the paused tree, then to the original, byte for byte.
    await undoRun(path.join(root, 'wufix', 'journal'), r.runId);
    expect(treeHashes(root)).toEqual(p.hashes);
    await undoRun(path.join(root, 'wufix', 'journal'), p.runId);
    expect(treeHashes(root)).toEqual(hashes0);
  });

  it('staleWsus (already NoAutoUpdate=1): au-pause plans nothing; au-resume deletes only NoAutoUpdate', async () => {
    const root = path.join(tmp, 'stalewsus');
    await buildWindowsTree(root, staleWsus);
    const hashes0 = treeHashes(root);
    const dump0 = hivexDump(SOFTWARE(root));
    const scan0 = await scanTarget({ root });
    expect(ids(scan0)).toContain('au-paused');
    expect((await buildPlan(scan0, MODULES, { only: ['au-pause'] }, { runId: newRunId() }, { tool: 'test' })).steps).toEqual([]);
    const r = await step(root, scan0, ['au-resume']);
    expect(r.plan.steps).toHaveLength(1);
    expect(asMap(r.dump)).toEqual(withChanges(dump0, { [AU]: { NoAutoUpdate: null } }));
    expect(asMap(r.dump)[AU.toLowerCase()]).toEqual({ usewuserver: dw(1) });
    expect(ids(r.scan)).toEqual(ids(scan0).filter((i) => i !== 'au-paused'));
    await undoRun(path.join(root, 'wufix', 'journal'), r.runId);
    expect(treeHashes(root)).toEqual(hashes0);
  });

  it('NoAutoUpdate=0 present: au-pause sets 1 (old value recorded), au-resume would delete it', async () => {
    const root = path.join(tmp, 'zero');
    await buildWindowsTree(root, { ...win7Loop, policy: { noAutoUpdate: 0 } });
    const scan0 = await scanTarget({ root });
    expect(ids(scan0)).not.toContain('au-paused');
    const plan = await buildPlan(scan0, MODULES, {}, { runId: newRunId() }, { tool: 'test' });
    expect(plan.steps.map((s) => s.change)).toEqual([
      {
        kind: 'reg-set',
        hive: 'Windows\\System32\\config\\SOFTWARE',
        key: AU,
        name: 'NoAutoUpdate',
        value: { type: 4, data: '01000000' },
        old: { type: 4, data: '00000000' },
      },
    ]);
    const resume = await buildPlan(scan0, MODULES, { only: ['au-resume'] }, { runId: newRunId() }, { tool: 'test' });
    expect(resume.steps.map((s) => [s.change.kind, s.reason])).toEqual([['reg-delete-value', 'policy NoAutoUpdate present']]);
  });
});
