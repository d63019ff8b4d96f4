// Issue #16's harmful suggestion, fixed: an SFC run that ends "pending repair transaction, reboot
// required" (0x80070bc9) plus the CBS RebootPending key must NOT offer the pending repair (it would
// revert SFC's own repair); the scan says "boot once to finish" instead. The CBS.log is the real
// Windows 7 SFC log of ../shared (its first run left two files unrepaired), followed by a second
// SFC run modelled on that log's own [SR] lines: no public CBS.log of a pending SFC repair was
// found, so the wording of its last line follows the description of it (say so if a real
// one turns up). The registry markers are real keys in the builder's real Windows hives.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { fixture, sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { WIN7_PRO } from './scenarios.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan } from '../../src/engine/plan.js';
import { VOLUME_REPAIRS } from '../../src/repairs/index.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
let tmp = '';

const SECOND_RUN = [
  '2019-02-25 09:10:01, Info                  CSI    00000001 [SR] Verifying 100 (0x00000064) components',
  '2019-02-25 09:10:01, Info                  CSI    00000002 [SR] Beginning Verify and Repair transaction',
  '2019-02-25 09:10:04, Info                  CSI    00000003 [SR] Verify complete',
  '2019-02-25 09:10:04, Info                  CSI    00000004 [SR] Repairing 1 components',
  '2019-02-25 09:10:04, Info                  CSI    00000005 [SR] Beginning Verify and Repair transaction',
  '2019-02-25 09:10:05, Info                  CSI    00000006 [SR] Repairing corrupted file [ml:520{260},l:46{23}]"\\??\\C:\\Windows\\System32"\\[l:30{15}]"xpsservices.dll" from store',
  '2019-02-25 09:10:05, Info                  CSI    00000007 [SR] Repair complete',
  '2019-02-25 09:10:05, Info                  CSI    00000008 [SR] Committing transaction',
  '2019-02-25 09:10:06, Info                  CSI    00000009 [SR] Verify and Repair Transaction completed: pending repair transaction, reboot required [HRESULT = 0x80070bc9 - ERROR_FAIL_REBOOT_REQUIRED]',
];

describe.skipIf(!!reason)('SFC repair waiting for a reboot (issue #16)', () => {
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-sfcpend-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('no revert offered, "boot once to finish" instead; the earlier unrepaired files still reported', async () => {
    const real = readFileSync(fixture('logs', 'cbs/win7sp1-x86-sfc-scannow-unrepairable-plus-sp1-0x80070490-Infinito1977.log'), 'utf8');
    const root = path.join(tmp, 'win7');
    await buildWindowsTree(root, { ...WIN7_PRO, cbsText: `${real.replace(/\r?\n$/, '')}\r\n${SECOND_RUN.join('\r\n')}\r\n`, pending: { rebootPending: true } });
    const scan = await scanTarget({ root });

    const sfc = scan.attempts.filter((a) => a.kind === 'component-repair');
    expect(sfc.map((a) => a.result)).toEqual(['failed', 'reboot-pending']);
    expect(sfc[1]).toMatchObject({ client: 'SFC', code: '0x80070bc9', rebootRequired: true });

    const pending = scan.findings.filter((f) => f.id === 'pending-servicing');
    expect(pending).toHaveLength(1);
    expect(pending[0]!.severity).toBe('warning');
    expect(pending[0]!.repair).toBeUndefined();
    expect(pending[0]!.explanation).toMatch(/boot once to finish/);
    expect(pending[0]!.evidence).toContainEqual(expect.objectContaining({ key: expect.stringMatching(/RebootPending$/) }));
    expect(scan.findings.some((f) => f.repair === 'pending')).toBe(false);
    // The first run's damage is real and stays reported (a repair from a matching source).
    expect(scan.findings.map((f) => f.id)).toContain('component-store-corrupt');
    // 0x80070bc9 is not a failed install, and the plan selects nothing that reverts.
    expect(scan.attempts.filter((a) => a.result === 'failed' && a.kind === 'install')).toEqual([]);
    const plan = await buildPlan(scan, VOLUME_REPAIRS, {}, { runId: 'sfc-pending' }, { tool: 'test' });
    expect(plan.steps.filter((s) => s.repair === 'pending')).toEqual([]);
    expect(plan.notFixed).toContainEqual(expect.objectContaining({ id: 'pending-servicing', why: 'no automatic repair' }));
  });
});
