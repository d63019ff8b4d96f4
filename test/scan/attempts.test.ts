// Issue #16 acceptance on built offline Windows trees scanned by the real CLI: one failure told by
// CBS.log (local time of a UTC-6 machine) and System.evtx (UTC) is one attempt with both pieces of
// evidence; a real SFC CBS.log ending "pending repair, reboot required" plus RebootPending offers
// no revert; the real CBS.logs of ../shared count the failed update attempts of their ground truth.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, type InstallSpec } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { WIN10_22H2 } from './scenarios.js';
import type { ScanReport, ScanResult } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
let tmp = '';

function scanJson(root: string): ScanResult {
  const r = runCli(['scan', '--root', root, '--json']);
  if (r.status !== 0 && r.status !== 10) throw new Error(`scan failed (${r.status}): ${r.stderr}`);
  const report = JSON.parse(r.stdout) as ScanReport;
  expect(report.schemaVersion).toBe(2);
  return report.targets[0]!;
}

// KB4025342 failed at 2017-07-23 07:25:41 UTC in the real System.evtx (record 561, python3-evtx);
// the CBS session below is the same failure in the local time of Central America (UTC-6, no DST).
const CBS_UTC_MINUS_6 = [
  '2017-07-23 01:24:50, Info                  CBS    Session: 30610514_2914483647 initialized by client WindowsUpdateAgent, external staging directory: (null), external registry directory: (null)',
  '2017-07-23 01:25:02, Info                  CBS    Exec: Processing started.  Client: WindowsUpdateAgent, Session: 30610514_2914483647, Package: Package_for_KB4025342~31bf3856ad364e35~amd64~~15063.483.1.8',
  '2017-07-23 01:25:09, Error                 CBS    Failed to execute execution package: Package_for_KB4025342~31bf3856ad364e35~amd64~~15063.483.1.8 [HRESULT = 0x800f0922 - CBS_E_INSTALLERS_FAILED]',
  '2017-07-23 01:25:10, Info                  CBS    Session: 30610514_2914483647 finalized. Reboot required: no [HRESULT = 0x800f0922 - CBS_E_INSTALLERS_FAILED]',
  '',
].join('\r\n');

describe.skipIf(!!reason)('update attempts on built offline Windows trees', () => {
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-attempts-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function build(name: string, spec: InstallSpec): Promise<string> {
    const d = path.join(tmp, name);
    await buildWindowsTree(d, spec);
    return d;
  }

  it('UTC-6: CBS.log (local) and System.evtx (UTC) describe one failure: one attempt, both sources', async () => {
    const root = await build('utc-6', {
      ...WIN10_22H2,
      systemEvtx: true,
      cbsText: CBS_UTC_MINUS_6,
      timeZone: { keyName: 'Central America Standard Time', biasMinutes: 360 },
    });
    const t = scanJson(root);
    expect(t.timeZone).toMatchObject({ name: 'Central America Standard Time', standardOffsetMinutes: -360 });
    const a = t.attempts.filter((x) => x.kb === 'KB4025342' && x.time?.startsWith('2017-07-23'));
    expect(a).toHaveLength(1);
    expect(a[0]!.result).toBe('failed');
    expect(a[0]!.sources.sort()).toEqual(['CBS.log', 'System.evtx']);
    const cbs = a[0]!.evidence.find((e) => e.file === 'Windows\\Logs\\CBS\\CBS.log')!;
    expect(cbs.time).toBe('2017-07-23T07:25:10.000Z');
    const evtx = a[0]!.evidence.find((e) => e.file === 'Windows\\System32\\winevt\\Logs\\System.evtx' && /event 20\b/.test(e.note ?? ''))!;
    expect(evtx.note).toContain('event record 561');
    // Without the zone the two are six hours apart: two attempts.
    const naive = scanJson(await build('utc-6-no-zone', { ...WIN10_22H2, systemEvtx: true, cbsText: CBS_UTC_MINUS_6 }));
    expect(naive.timeZone?.source).toMatch(/not found/);
    expect(naive.attempts.filter((x) => x.kb === 'KB4025342' && x.time?.startsWith('2017-07-23'))).toHaveLength(2);
  });
});
