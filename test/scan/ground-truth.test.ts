// The acceptance test of issue #16 on real logs: each real file of ../shared/fixtures/logs is put
// where Windows writes it, in an otherwise empty volume, and scanned. The attempts, results and
// codes must equal the ground truth in ../shared/fixtures/logs/README.md (found by reading the
// files and with python3-evtx, not from wufix's output), every file must be read and understood,
// and nothing the README calls noise may become a failure.
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
const WU = 'Windows\\WindowsUpdate.log';
const DISM = 'Windows\\Logs\\DISM\\dism.log';
const EVT = 'Windows\\System32\\winevt\\Logs';
const BT = '$WINDOWS.~BT\\Sources';

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

  it('decoded WindowsUpdate.log (KB5034441): one failed install 0x800f0828; 80242014 is a reboot, 80240017 not applicable', async () => {
    const t = await scanLogs('wu-5034441', { 'windowsupdate/win10-22h2-kb5034441-0x80070643-0x800f0828-ReeceKetley.log': WU });
    allUnderstood(t, [WU]);
    const failed = failedUpdates(t);
    expect(failed.map((a) => `${a.kb} ${a.code}`)).toEqual(['KB5034441 0x800f0828']);
    for (const kb of ['KB4023057', 'KB5036979']) {
      expect(byKb(t, kb).length, kb).toBeGreaterThan(0);
      expect(
        byKb(t, kb).every((a) => a.result === 'reboot-pending' || a.result === 'succeeded'),
        kb,
      ).toBe(true);
    }
    expect(byKb(t, 'KB5037036').map((a) => a.result)).toContain('not-applicable');
    expect(t.attempts.filter((a) => a.code === '0x8024801e' || a.code === '0x80248007')).toEqual([]);
    expect(findingIds(t)).toContain('winre-too-small');
  });

  it('decoded WindowsUpdate.log (KB5035853): pending reboot, a 403 download, one failed scan, MSRT succeeded', async () => {
    const t = await scanLogs('wu-5035853', { 'windowsupdate/win11-23h2-kb5035853-postreboot-pending-0x80242014-privacytarget.log': WU });
    allUnderstood(t, [WU]);
    expect(failedUpdates(t)).toEqual([]);
    const kb = byKb(t, 'KB5035853').filter((a) => a.kind === 'install');
    expect(kb[kb.length - 1]!.result).toBe('reboot-pending');
    expect(codeCounts(of(t, 'download', 'failed'))).toEqual({ '0x80190193': of(t, 'download', 'failed').length });
    expect(of(t, 'download', 'failed').length).toBeGreaterThan(0);
    expect(codeCounts(of(t, 'scan', 'failed'))).toEqual({ '0x8024402c': 1 });
    expect(byKb(t, 'KB890830').map((a) => a.result)).toContain('succeeded');
  });

  it('decoded WindowsUpdate.log (Store downloads): only 0x80190193 download failures, no failed install', async () => {
    const t = await scanLogs('wu-store', { 'windowsupdate/win10-21h2-store-download-http403-0x80190193-josemct.log': WU });
    allUnderstood(t, [WU]);
    expect(failedUpdates(t)).toEqual([]);
    const dl = of(t, 'download', 'failed');
    expect(dl.length).toBeGreaterThan(0);
    expect(Object.keys(codeCounts(dl))).toEqual(['0x80190193']);
    expect(dl.reduce((n, a) => n + a.events, 0)).toBeGreaterThanOrEqual(50);
  });

  it('classic WindowsUpdate.log (Windows 7): the cancelled driver search, no failed install', async () => {
    const t = await scanLogs('wu-classic', { 'windowsupdate/win7sp1-oldformat-sync-0x8024000b-karthikvemula.log': WU });
    allUnderstood(t, [WU]);
    expect(failedUpdates(t)).toEqual([]);
    expect(of(t, 'scan', 'cancelled').map((a) => a.code)).toContain('0x8024000b');
    expect(of(t, 'scan', 'failed')).toEqual([]);
  });

  it('dism.log: enabling NetFx3 failed 0x800f081f; the Windows 7 session only needed a reboot', async () => {
    const a = await scanLogs('dism-netfx3', { 'dism/win10-21h2-netfx3-enable-0x800f081f-iideerii.log': DISM });
    allUnderstood(a, [DISM]);
    expect(failedUpdates(a)).toEqual([]);
    const f = a.attempts.filter((x) => x.result === 'failed');
    // The user ran /Enable-Feature /FeatureName:NetFx3 five times (lines 316, 694, 1043, 1223, 1403);
    // each failed 0x800f081f. Runs minutes apart read as one attempt, so there are 1 to 5.
    expect(f.length).toBeGreaterThan(0);
    expect(f.length).toBeLessThanOrEqual(5);
    expect(new Set(f.map((x) => `${x.kind} ${x.code}`))).toEqual(new Set(['feature 0x800f081f']));
    expect(f.every((x) => /NetFx3/i.test(x.name))).toBe(true);
    expect(a.attempts.filter((x) => x.code === '0x8007007e')).toEqual([]);

    const b = await scanLogs('dism-win7', { 'dism/win7-enable-disable-feature-sessions-DieterReuter.log': DISM });
    allUnderstood(b, [DISM]);
    expect(b.attempts.filter((x) => x.result === 'failed')).toEqual([]);
    // README says one; the file has two sessions closing "Reboot required=yes." (lines 2115, 2273).
    expect(b.attempts.filter((x) => x.result === 'reboot-pending').map((x) => x.evidence.some((e) => e.line === 2115 || e.line === 2273))).toEqual([
      true,
      true,
    ]);
  });

  it('Panther (Update Assistant 1909 -> 19041): one rollback 0xC1900101 - 0x30018 with the Sysprep 0x80070005 cause', async () => {
    const files = {
      'panther/win10-1909-featureupdate-rollback-0xC1900101-0x30018-Panther-setuperr-baslr.log': `${BT}\\Panther\\setuperr.log`,
      'panther/win10-1909-featureupdate-rollback-0xC1900101-0x30018-Rollback-setupact-baslr.log': `${BT}\\Rollback\\setupact.log`,
      'panther/win10-1909-featureupdate-rollback-0xC1900101-0x30018-Rollback-setuperr-baslr.log': `${BT}\\Rollback\\setuperr.log`,
    };
    const t = await scanLogs('panther-rollback', files);
    allUnderstood(t, Object.values(files));
    const fu = failedUpdates(t);
    expect(fu).toHaveLength(1);
    expect(fu[0]).toMatchObject({ kind: 'feature-update', code: '0xc1900101', extendedCode: '0x30018' });
    expect(fu[0]!.evidence.map((e) => e.data ?? '').join('\n')).toMatch(/Sysprep specialize offline failed.*0x80070005/);
    const f = t.findings.find((x) => x.id === 'feature-update-rollback');
    expect(f?.severity).toBe('error');
    expect(f?.explanation).toMatch(/rolled back/);
  });

  it('Panther (media upgrade): failed downlevel 0x80070032 - 0x50013, no rollback', async () => {
    const t = await scanLogs('panther-downlevel', {
      'panther/win10-1803-to-21h2-media-upgrade-0x80070032-0x50013-setupact-rickaK77.log': `${BT}\\Panther\\setupact.log`,
    });
    allUnderstood(t, [`${BT}\\Panther\\setupact.log`]);
    const fu = failedUpdates(t);
    expect(fu.map((a) => `${a.kind} ${a.code} ${a.extendedCode}`)).toEqual(['feature-update 0x80070032 0x50013']);
    const f = t.findings.find((x) => x.id === 'feature-update-rollback');
    expect(f).toBeDefined();
    expect(f!.explanation).not.toMatch(/rolled back/);
  });

  it('Panther (media creation tool): the user cancelled 0x800704C7, which is no failure', async () => {
    const files = {
      'panther/win11-host-mct-win10-2004-cancelled-0x800704C7-setupact-copyleft21.log': `${BT}\\Panther\\setupact.log`,
      'panther/win11-host-mct-win10-2004-cancelled-0x800704C7-setuperr-copyleft21.log': `${BT}\\Panther\\setuperr.log`,
    };
    const t = await scanLogs('panther-cancel', files);
    allUnderstood(t, Object.values(files));
    expect(failedUpdates(t)).toEqual([]);
    expect(of(t, 'feature-update', 'cancelled').map((a) => a.code)).toContain('0x800704c7');
    expect(t.findings).toEqual([]);
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

  it('Setup.evtx (Windows 10 21H1): KB5010342 is left waiting for a reboot; (2012 R2): KB2999226 installed', async () => {
    const a = await scanLogs('evtx-setup-21h1', { 'evtx/win10-21h1-Setup-servicing-lcu-reboot-required-DFIRArtifactMuseum.evtx': `${EVT}\\Setup.evtx` });
    allUnderstood(a, [`${EVT}\\Setup.evtx`]);
    expect(a.attempts.filter((x) => x.result === 'failed')).toEqual([]);
    const kb = byKb(a, 'KB5010342');
    expect(kb[kb.length - 1]!.result).toBe('reboot-pending');
    expect(kb[kb.length - 1]!.endTime ?? kb[kb.length - 1]!.time).toMatch(/^2022-02-08T20:54:59/); // EVTX times are UTC

    const b = await scanLogs('evtx-setup-2012r2', { 'evtx/win2012r2-Setup-servicing-kb2999226-and-roles-DFIRArtifactMuseum.evtx': `${EVT}\\Setup.evtx` });
    allUnderstood(b, [`${EVT}\\Setup.evtx`]);
    expect(b.attempts.filter((x) => x.result === 'failed')).toEqual([]);
    expect(byKb(b, 'KB2999226').map((x) => `${x.kind} ${x.result}`)).toContain('install succeeded');
    expect(of(b, 'feature').length).toBeGreaterThan(0);
  });

  it('WindowsUpdateClient Operational.evtx: 26 failed scans (14 x 0x800b0101, 10 x 0x80240438, 2 x 0x8024402c)', async () => {
    const dest = `${EVT}\\Microsoft-Windows-WindowsUpdateClient%4Operational.evtx`;
    const t = await scanLogs('evtx-operational', {
      'evtx/win10-ltsc2019-WindowsUpdateClient%4Operational-scan-failures-0x800b0101-DFIRArtifactMuseum.evtx': dest,
    });
    allUnderstood(t, [dest]);
    expect(failedUpdates(t)).toEqual([]);
    const scans = of(t, 'scan', 'failed');
    expect(scans.reduce((n, a) => n + a.events, 0)).toBe(26);
    const perEvent: Record<string, number> = {};
    for (const a of scans) perEvent[a.code!] = (perEvent[a.code!] ?? 0) + a.events;
    expect(perEvent).toEqual({ '0x800b0101': 14, '0x80240438': 10, '0x8024402c': 2 });
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
