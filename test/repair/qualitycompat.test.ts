// The qualitycompat repair end to end through the engine (buildPlan -> applyPlan -> scan -> undo)
// on builder installations: Windows 10 1709 below the March 2018 cumulative update (16299.309,
// KB4088776) and Windows 7 without the value get it; builds at or past the cut-off do not. The value
// (name, REG_DWORD 0, key) is windows-update.md §5, read back with libhivex.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, type InstallSpec } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';
import { win7Loop, healthy } from '../scan/scenarios.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan, renderPlan } from '../../src/engine/plan.js';
import { applyPlan } from '../../src/engine/apply.js';
import { undoRun } from '../../src/engine/undo.js';
import { newRunId } from '../../src/engine/journal.js';
import { qualityCompat } from '../../src/repairs/qualitycompat.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const KEY = 'Microsoft\\Windows\\CurrentVersion\\QualityCompat';
const NAME = 'cadca5fe-87d3-4b96-b7fb-a231484277cc';

// --- helpers ----------------------------------------------------------------------------------
import { treeHashes, changedFiles, asMap, withChanges, dw, findingIds } from '../helpers/repair-harness.js';
const SOFTWARE = (root: string) => path.join(root, 'Windows', 'System32', 'config', 'SOFTWARE');
const ids = findingIds;

/** Windows 10 1709 (build 16299) at UBR 248, before the 2018-03 cumulative update 16299.309. */
const win10_1709: InstallSpec = {
  productName: 'Windows 10 Pro',
  editionId: 'Professional',
  installationType: 'Client',
  currentBuild: 16299,
  ubr: 248,
  displayVersion: '1709',
};

let tmp = '';
beforeAll(() => {
  if (!reason) tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-qualitycompat-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function run(root: string, only?: string[]) {
  const before = treeHashes(root);
  const dumpBefore = hivexDump(SOFTWARE(root));
  const scan = await scanTarget({ root });
  const runId = newRunId();
  const plan = await buildPlan(scan, [qualityCompat], { only }, { runId }, { tool: 'test' });
  const journalRoot = path.join(root, 'wufix', 'journal');
  if (plan.steps.length === 0) return { before, scan, plan };
  await applyPlan(plan, { journalRoot });
  const after = treeHashes(root);
  const dumpAfter = hivexDump(SOFTWARE(root));
  const scanAfter = await scanTarget({ root });
  const replan = await buildPlan(scanAfter, [qualityCompat], { only: ['qualitycompat'] }, { runId: newRunId() }, { tool: 'test' });
  await undoRun(journalRoot, runId);
  return { before, after, undone: treeHashes(root), dumpBefore, dumpAfter, scan, scanAfter, plan, replan };
}

describe.skipIf(!!reason)('qualitycompat repair', () => {
  for (const [name, spec, note] of [
    ['Windows 10 1709 below UBR 309', win10_1709, /Windows 10 1709 build 16299\.248 is below the March 2018 cumulative update KB4088776 \(16299\.309\)/],
    ['Windows 7 without the value', { ...win7Loop, qualityCompat: false }, /build 7601 is assumed to lack the April 2018 rollup/],
  ] as const) {
    it(`${name}: sets the value, the finding goes, undo restores every byte`, async () => {
      const root = path.join(tmp, name.replace(/\W+/g, '-'));
      await buildWindowsTree(root, spec);
      const r = await run(root);
      expect(ids(r.scan)).toContain('qualitycompat-missing');
      expect(r.plan.steps).toHaveLength(1);
      const step = r.plan.steps[0]!;
      expect(step.change).toEqual({
        kind: 'reg-set',
        hive: 'Windows\\System32\\config\\SOFTWARE',
        key: KEY,
        name: NAME,
        value: { type: 4, data: '00000000' },
        old: null,
      });
      expect(step.reason).toBe('qualitycompat-missing');
      expect(step.note).toMatch(note);
      expect(renderPlan(r.plan, [qualityCompat])).toContain(
        `qualitycompat: set the QualityCompat value that pre-2018 builds need to be offered security updates\n  - Windows\\System32\\config\\SOFTWARE  [${KEY}] ${NAME} REG_DWORD: (absent) -> 0x00000000\n      because: qualitycompat-missing; `,
      );
      // libhivex: one new key with one value, nothing else.
      expect(asMap(r.dumpAfter!)).toEqual(withChanges(r.dumpBefore!, { [KEY]: { [NAME]: dw(0) } }));
      expect(changedFiles(r.before, r.after!)).toEqual(['Windows/System32/config/SOFTWARE']);
      expect(ids(r.scanAfter!)).toEqual(ids(r.scan).filter((i) => i !== 'qualitycompat-missing'));
      expect(r.replan!.steps).toEqual([]);
      expect(r.undone).toEqual(r.before);
    });
  }

  for (const [name, spec] of [
    ['Windows 10 1709 at UBR 309 (KB4088776)', { ...win10_1709, ubr: 309 }],
    ['Windows 11 (healthy)', healthy],
    ['Windows 7 that has the value', win7Loop],
  ] as const) {
    it(`${name}: nothing to do, even with --only`, async () => {
      const root = path.join(tmp, name.replace(/\W+/g, '-'));
      await buildWindowsTree(root, spec);
      const r = await run(root, ['qualitycompat']);
      expect(ids(r.scan)).not.toContain('qualitycompat-missing');
      expect(r.plan.steps).toEqual([]);
      expect(treeHashes(root)).toEqual(r.before);
    });
  }
});
