// The acceptance test of issue #16 on real logs: each real file of ../shared/fixtures/logs is put
// where Windows writes it, in an otherwise empty volume, and scanned. The attempts, results and
// codes must equal the ground truth in ../shared/fixtures/logs/README.md (found by reading the
// files and with python3-evtx, not from wufix's output), every file must be read and understood,
// and nothing the README calls noise may become a failure. Covered so far: CBS.log, System.evtx,
// ReportingEvents.log. The decoded WindowsUpdate.log, dism.log, Panther, Setup.evtx and the
// WindowsUpdateClient Operational log have no event parser yet (issue #16 note): their ground-truth
// cases were written in commit "ground-truth acceptance test" and return with those parsers.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixture, sharedReason } from '../helpers/env.js';
import { scanTarget } from '../../src/scan/scan.js';
import type { ScanResult } from '../../src/model/scan.js';
import type { UpdateAttempt } from '../../src/model/attempts.js';

const reason = sharedReason();
let tmp = '';

/** Scans a volume holding only these real logs (fixture path -> path inside the volume). */
async function scanLogs(name: string, files: Record<string, string>): Promise<ScanResult> {
  const root = path.join(tmp, name);
  for (const [src, dest] of Object.entries(files)) {
    const d = path.join(root, ...dest.split('\\'));
    mkdirSync(path.dirname(d), { recursive: true });
    copyFileSync(fixture('logs', src), d);
  }
  return scanTarget({ root });
}

const UPDATE_KINDS = new Set(['install', 'uninstall', 'feature-update']);
const failedUpdates = (t: ScanResult) => t.attempts.filter((a) => a.result === 'failed' && UPDATE_KINDS.has(a.kind));
const of = (t: ScanResult, kind: UpdateAttempt['kind'], result?: UpdateAttempt['result']) =>
  t.attempts.filter((a) => a.kind === kind && (result === undefined || a.result === result));
const byKb = (t: ScanResult, kb: string) => t.attempts.filter((a) => a.kb === kb);
/** How many attempts carry each code. */
const codeCounts = (as: UpdateAttempt[]) => {
  const m: Record<string, number> = {};
  for (const a of as) m[a.code ?? '-'] = (m[a.code ?? '-'] ?? 0) + 1;
  return m;
};
const findingIds = (t: ScanResult) => t.findings.map((f) => f.id).sort();

/** Every file was found, read and understood, and none made a problem line. */
function allUnderstood(t: ScanResult, files: string[]) {
  for (const f of files) {
    const read = t.logs.find((l) => l.file.toLowerCase() === f.toLowerCase());
    expect(read, `${f} was not read`).toBeDefined();
    expect(read!.understood, `${f}: ${read!.note ?? ''}`).toBe(true);
  }
  expect(t.problems).toEqual([]);
}

const CBS = 'Windows\\Logs\\CBS\\CBS.log';
const EVT = 'Windows\\System32\\winevt\\Logs';

describe.skipIf(!!reason)('ground truth of the real logs (issue #16)', () => {
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-truth-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('CBS.log Windows 7 SFC: 0 failed installs; the 0x80070490 checks are applicability; SFC left 2 files unrepaired', async () => {
    const t = await scanLogs('cbs-win7', { 'cbs/win7sp1-x86-sfc-scannow-unrepairable-plus-sp1-0x80070490-Infinito1977.log': CBS });
    allUnderstood(t, [CBS]);
    expect(failedUpdates(t)).toEqual([]);
    const checks = of(t, 'applicability', 'failed');
    expect(checks.length).toBeGreaterThan(0);
    expect(new Set(checks.map((a) => a.code))).toEqual(new Set(['0x80070490']));
    expect(new Set(checks.map((a) => a.kb))).toEqual(new Set(['KB976932', 'KB976933']));
    const sfc = of(t, 'component-repair');
    expect(sfc).toHaveLength(1);
    expect(sfc[0]!.result).toBe('failed'); // "successfully repaired" is misleading: two files were not
    expect(sfc[0]!.client).toBe('SFC');
    expect(sfc[0]!.unrepaired!.join(' ')).toMatch(/System\.Design\.dll/i);
    expect(sfc[0]!.unrepaired!.join(' ')).toMatch(/xpsservices\.dll/i);
    // 1173 x 0x800f0805 and 544 x 0x800f080d are noise: no attempt carries them.
    expect(t.attempts.filter((a) => a.code === '0x800f0805' || a.code === '0x800f080d')).toEqual([]);
    expect(findingIds(t)).toContain('component-store-corrupt');
    expect(findingIds(t)).not.toContain('pending-servicing');
    expect(t.codes.map((c) => c.code)).not.toContain('0x800f0805');
  });

  it('clean CBS.logs (Windows 10 1909, 19041 with Dism++, Windows 11 24H2): no failure of any kind', async () => {
    for (const [name, src] of [
      ['cbs-1909', 'cbs/win10-1903-1909-clean-wu-sessions-0x800f0805-noise-JoseMorenoSater.log'],
      ['cbs-19041', 'cbs/win10-19041-dismpp-and-fod-sessions-no-failure-HowardZHY.log'],
      ['cbs-24h2', 'cbs/win11-24h2-clean-wu-sessions-glsureshkumar.log'],
    ] as const) {
      const t = await scanLogs(name, { [src]: CBS });
      allUnderstood(t, [CBS]);
      expect(
        t.attempts.filter((a) => a.result === 'failed'),
        name,
      ).toEqual([]);
      expect(t.findings, name).toEqual([]);
      if (name === 'cbs-19041') expect(byKb(t, 'KB5000736').map((a) => `${a.kind} ${a.result}`)).toEqual(['install succeeded']);
    }
  });

  it('System.evtx (Windows 11): five event-20 failures, KB5009566 installed', async () => {
    const t = await scanLogs('evtx-system', { 'evtx/win11-21h2-System-wuclient-19-20-43-44-five-failures-DFIRArtifactMuseum.evtx': `${EVT}\\System.evtx` });
    allUnderstood(t, [`${EVT}\\System.evtx`]);
    const failed = t.attempts.filter((a) => a.result === 'failed');
    expect(codeCounts(failed)).toEqual({ '0x80073d02': 3, '0x80240016': 2 });
    expect(failed.every((a) => a.kind === 'install' && a.sources.includes('System.evtx'))).toBe(true);
    expect(byKb(t, 'KB5009566').map((a) => a.result)).toContain('succeeded');
    // Defender KB2267602 failed once, then installed: the failure is still an attempt of its own.
    expect(byKb(t, 'KB2267602').map((a) => a.result)).toEqual(expect.arrayContaining(['failed', 'succeeded']));
    // Evidence quotes Event Viewer's EventRecordID (python3-evtx: 470, 507, 531, 602, 712).
    const records = failed.flatMap((a) => a.evidence.filter((e) => /event 20\b/.test(e.note ?? '')).map((e) => /event record (\d+)/.exec(e.note ?? '')?.[1]));
    expect(records.sort()).toEqual(['470', '507', '531', '602', '712']);
  });

  it('ReportingEvents.log (UTF-16LE): 22 failed detections (19 x 0x80072ee2), the cancelled download, no failed install', async () => {
    const dest = 'Windows\\SoftwareDistribution\\ReportingEvents.log';
    const t = await scanLogs('reporting', { 'reportingevents/win10-11-ReportingEvents-utf16-detect-fail-0x80072ee2-dcheva.log': dest });
    allUnderstood(t, [dest]);
    expect(failedUpdates(t)).toEqual([]);
    const scans = of(t, 'scan', 'failed');
    expect(scans.reduce((n, a) => n + a.events, 0)).toBe(22);
    expect(scans.filter((a) => a.code === '0x80072ee2').reduce((n, a) => n + a.events, 0)).toBe(19);
    expect(of(t, 'download', 'cancelled').map((a) => a.code)).toContain('0x8024000b');
  });
});
