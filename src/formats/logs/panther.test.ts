// Panther setupact/setuperr and SetupDiag results as feature-update events, on the real setup logs of
// ../shared/fixtures/logs/panther against the README ground truth (baslr rollback 0xC1900101 - 0x30018
// from FirstBoot with the Sysprep 0x80070005 root cause; rickaK77 downlevel failure 0x80070032 -
// 0x50013 without a rollback; copyleft21 cancelled by the user, 0x800704C7, no failure), plus
// hand-made lines for what the real files lack (success, several runs, SetupDiag in the documented
// text and XML formats).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, sharedReason } from '../../../test/helpers/env.js';
import { newStats, type UpdateEvent } from '../../model/attempts.js';
import { pantherEvents, type PantherOptions } from './panther.js';
import { setupDiagEvents, setupDiagTime } from './setupdiag.js';

const reason = sharedReason();
const real = (name: string) => readFileSync(path.join(FIXTURES, 'logs', 'panther', name));

async function collect(gen: AsyncGenerator<UpdateEvent>): Promise<UpdateEvent[]> {
  const out: UpdateEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

async function panther(bytes: Uint8Array | string, source: PantherOptions['source'], file = `$WINDOWS.~BT\\Sources\\Panther\\${source}`) {
  const stats = newStats();
  const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  // Small chunks: lines and BOMs split across chunk boundaries.
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += 4099) chunks.push(b.subarray(i, i + 4099));
  const events = await collect(pantherEvents(chunks, file, { source, stats, session: '$WINDOWS.~BT' }));
  return { events, stats };
}

const brief = (e: UpdateEvent) => `${e.result} ${e.code ?? '-'} ${e.extendedCode ?? '-'} ${e.phase ?? '-'}`;

function wellFormed(es: UpdateEvent[]) {
  for (const e of es) {
    expect(e.kind).toBe('feature-update');
    expect(e.timeIsLocal).toBe(true);
    expect(e.message.length).toBeLessThanOrEqual(500);
    expect(e.message).toMatch(/^[\x20-\x7e]+$/);
    if (e.code !== undefined) expect(e.code).toMatch(/^0x[0-9a-f]{8}$/);
    if (e.extendedCode !== undefined) expect(e.extendedCode).toMatch(/^0x[0-9a-f]{1,5}$/);
  }
}

describe.skipIf(!!reason)(`Panther logs (real)${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('baslr Rollback/setupact: one rollback result 0xC1900101 - 0x30018 from FirstBoot,Start (reported twice, kept once)', async () => {
    const { events, stats } = await panther(real('win10-1909-featureupdate-rollback-0xC1900101-0x30018-Rollback-setupact-baslr.log'), 'setupact.log');
    wellFormed(events);
    expect(stats.format).toBe('panther');
    expect(stats.lines).toBe(5752);
    expect(stats.recognized).toBeGreaterThan(5700);
    expect(events.map(brief)).toEqual(['failed 0xc1900101 0x30018 FirstBoot,Start']);
    expect(events[0]).toMatchObject({ line: 5377, session: '$WINDOWS.~BT#1', source: 'setupact.log' });
    expect(events[0]!.message).toBe('MOUPG SetupHost: Reporting post reboot event -> [0xC1900101, 0x30018]');
    expect(events[0]!.time!.toISOString()).toBe('2021-05-18T05:12:43.000Z');
  });

  it('baslr Panther/setuperr: the root cause is Sysprep 0x80070005 at 04:47:32, not the DU, CSI or MIG errors', async () => {
    const { events, stats } = await panther(real('win10-1909-featureupdate-rollback-0xC1900101-0x30018-Panther-setuperr-baslr.log'), 'setuperr.log');
    wellFormed(events);
    expect(stats.recognized).toBe(60); // every timestamped line, BOMs of appended runs included
    expect(events.map(brief)).toEqual(['failed 0x80070005 - -']);
    expect(events[0]!.message).toBe('SP Sysprep specialize offline failed. Error: 0x80070005[gle=0x0000007a]');
    expect(events[0]!.time!.toISOString()).toBe('2021-05-18T04:47:32.000Z');
    expect(events[0]!.line).toBe(40);
  });

  it('baslr Rollback/setuperr: only follow-on errors (telemetry, IBSLIB, MOUPG): no event, but understood', async () => {
    const { events, stats } = await panther(real('win10-1909-featureupdate-rollback-0xC1900101-0x30018-Rollback-setuperr-baslr.log'), 'setuperr.log');
    expect(events).toEqual([]);
    expect([stats.lines, stats.recognized]).toEqual([5, 5]);
  });

  it('rickaK77 setupact: started (target 10.0.19041.1253), failed downlevel 0x80070032 - 0x50013 after "Disk provisioning is not available"', async () => {
    const { events } = await panther(real('win10-1803-to-21h2-media-upgrade-0x80070032-0x50013-setupact-rickaK77.log'), 'setupact.log');
    wellFormed(events);
    expect(events.map(brief)).toEqual(['in-progress - - -', 'failed 0x80070032 0x50013 Downlevel']);
    expect(events[0]!.message).toMatch(/Setup build version is: 10\.0\.19041\.1253/);
    expect(events[1]!.message).toMatch(/Reporting error event -> \[0x80070032, 0x50013\].*Disk provisioning is not available; hr = 0x80070032/);
    expect(events.map((e) => e.session)).toEqual(['$WINDOWS.~BT#1', '$WINDOWS.~BT#1']);
    // The non-fatal "Set boot command" 0x80040154 / 0x800700B7 errors are not results.
    expect(events.filter((e) => e.code === '0x80040154' || e.code === '0x800700b7')).toEqual([]);
  });

  it('copyleft21: the user cancelled (0x800704D3 -> 0x800704C7): cancelled, never failed, in setupact and setuperr', async () => {
    const act = await panther(real('win11-host-mct-win10-2004-cancelled-0x800704C7-setupact-copyleft21.log'), 'setupact.log');
    const err = await panther(real('win11-host-mct-win10-2004-cancelled-0x800704C7-setuperr-copyleft21.log'), 'setuperr.log');
    wellFormed(act.events);
    expect(act.events.map(brief)).toEqual(['in-progress - - -', 'cancelled 0x800704c7 - Downlevel']);
    expect(err.events).toEqual([]);
    expect(err.stats.recognized).toBe(28);
  });
});

const L = (t: string, level: string, comp: string, msg: string) => `2023-04-02 ${t}, ${level.padEnd(21)} ${comp.padEnd(6)} ${msg}\r\n`;

describe('Panther logs (hand-made lines)', () => {
  it('a successful run, then a new run that failed: two sessions, the success and the failure', async () => {
    const text =
      '\uFEFF' +
      L('10:00:00', 'Info', 'MOUPG', '*************** SetupHost Logging Begin ***************') +
      L('10:00:01', 'Info', 'MOUPG', 'SetupHost: Setup build version is: 10.0.22631.2861 (ni_release.220506-1250)') +
      L('11:30:00', 'Info', 'MOUPG', 'SetupHost: Reporting error event -> [0x0, 0x0]') +
      '\uFEFF' +
      L('12:00:00', 'Info', 'MOUPG', '*************** SetupHost Logging Begin ***************') +
      L('12:00:01', 'Info', 'MOUPG', 'SetupHost: Setup build version is: 10.0.22631.2861 (ni_release.220506-1250)') +
      L('12:10:00', 'Error', 'SP', 'Operation failed: Add [1] package C:\\$WINDOWS.~BT\\DUImageSandbox\\x.cab. Error: 0x800F0922[gle=0x000000b7]') +
      L('12:10:01', 'Error', 'MOUPG', 'CSetupManager::ExecuteSafeOSMode(500): Result = 0x800F0922') +
      L('12:11:00', 'Info', 'MOUPG', 'SetupHost: Reporting error event -> [0x800F0922, 0x20003]') +
      'a continuation line that is not a record\r\n';
    const { events, stats } = await panther(text, 'setupact.log');
    wellFormed(events);
    expect(events.map((e) => `${e.session} ${brief(e)}`)).toEqual([
      '$WINDOWS.~BT#1 in-progress - - -',
      '$WINDOWS.~BT#1 succeeded - - -',
      '$WINDOWS.~BT#2 in-progress - - -',
      '$WINDOWS.~BT#2 failed 0x800f0922 0x20003 SafeOS',
    ]);
    expect(events[3]!.message).toMatch(/first reported: SP Operation failed: Add \[1\] package/);
    expect([stats.lines, stats.recognized]).toEqual([9, 8]);
    // The same lines in setuperr: the SP line is the root cause; start and result lines are setupact's.
    const err = await panther(text, 'setuperr.log');
    expect(err.events.map((e) => `${e.session} ${brief(e)}`)).toEqual(['$WINDOWS.~BT#2 failed 0x800f0922 - -']);
  });

  it('no event from noise: MIG/CSI/DU/CONX errors, telemetry, a code on an Info line, lines that are not Panther', async () => {
    const text =
      L('10:00:00', 'Error', 'MIG', 'Failed to gather object. Error: 0x80070005') +
      L('10:00:01', 'Error', 'CSI', '00000001 (F) STATUS_OBJECT_NAME_NOT_FOUND #12# hr = 0xd0000034') +
      L('10:00:02', 'Error', 'DU', 'DU::CDUSession::Search: Failed to set WU internal configuration property. hr = 0x80070057') +
      L('10:00:03', 'Error', 'CONX', 'Failed to load appraiser. Error: 0x80070002') +
      L('10:00:04', 'Error', 'SP', 'Failed to merge telemetry file: x.etl. hr = 0X80070057') +
      L('10:00:05', 'Info', 'SP', 'Operation failed: something. Error: 0x80070005') +
      L('10:00:06', 'Error', 'SP', 'CSetupPlatform::DownloadDynamicUpdates: Failed to download updates. Error: 0x80004005') +
      'Reporting error event -> [0x80070005, 0x10000]\r\n';
    for (const source of ['setupact.log', 'setuperr.log'] as const) {
      const { events, stats } = await panther(text, source);
      expect(events, source).toEqual([]);
      expect(stats.recognized).toBe(7);
    }
  });

  it('a file that is not a setup log: nothing recognized, nothing emitted; a hostile long line is cut', async () => {
    const junk = await panther('just some text\nmore text\n', 'setupact.log');
    expect(junk.events).toEqual([]);
    expect([junk.stats.lines, junk.stats.recognized]).toEqual([2, 0]);
    const long = L('10:00:00', 'Error', 'SP', `Sysprep failed. Error: 0x80070005 ${'x'.repeat(200_000)}`);
    const { events } = await panther(long, 'setuperr.log');
    expect(events).toHaveLength(1);
    expect(events[0]!.message.length).toBeLessThanOrEqual(500);
  });
});

// SetupDiag in the formats learn.microsoft.com documents ("SetupDiag", sample logs); values are made up.
const SETUPDIAG_TEXT = [
  'SetupDiag v1.7.1.0',
  'Matching Profile found: FindRollbackFailure - 3A43C9B5-05B3-4F7C-A955-88F991BB5A48',
  'System Information:',
  '    Machine Name = Offline',
  '    HostOSVersion = 10.0.19045',
  '    TargetOSBuildString = 10.0.22631.2861 (ni_release.220506-1250)',
  '    UpgradeStartTime = 11/4/2023 9:47:16 PM',
  '    UpgradeEndTime = 11/4/2023 11:02:40 PM',
  '',
  'Error: SetupDiag reports rollback failure found.',
  'Last Phase = Safe OS',
  'Last Operation = Apply WIM',
  'Error: 0xC1900101 - 0x4000D',
  'Refer to https://learn.microsoft.com/windows/deployment/upgrade/upgrade-error-codes for error information.',
  '',
].join('\r\n');

const SETUPDIAG_XML = [
  '<?xml version="1.0" encoding="utf-16"?>',
  '<SetupDiag xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="https://learn.microsoft.com/windows/deployment/upgrade/setupdiag">',
  '  <Version>1.7.1.0</Version>',
  '  <ProfileName>FindSPFatalError</ProfileName>',
  '  <ProfileGuid>A4028172-1B09-48F8-AD3B-86CDD7D55852</ProfileGuid>',
  '  <SystemInfo>',
  '    <TargetOSBuildString>10.0.19045.2965 (22h2_release.220506-1250)</TargetOSBuildString>',
  '    <UpgradeStartTime>2023-05-06T21:19:10</UpgradeStartTime>',
  '    <UpgradeEndTime>2023-05-06T22:21:49</UpgradeEndTime>',
  '    <RollbackStartTime>0001-01-01T00:00:00</RollbackStartTime>',
  '  </SystemInfo>',
  '  <FailureData>',
  'Error: SetupDiag reports Fatal Error.',
  'Last Setup Phase = Downlevel',
  'Last Setup Operation: Gather data, scope: EVERYTHING',
  'Error: 0x8007042B - 0x2000D</FailureData>',
  '  <FailureDetails>Err = 0x8007042B, LastOperation = Gather data, scope: EVERYTHING, LastPhase = Downlevel</FailureDetails>',
  '</SetupDiag>',
  '',
].join('\r\n');

function utf16(s: string): Uint8Array {
  const b = new Uint8Array(2 + s.length * 2);
  b[0] = 0xff;
  b[1] = 0xfe;
  for (let i = 0; i < s.length; i++) {
    b[2 + 2 * i] = s.charCodeAt(i) & 0xff;
    b[3 + 2 * i] = s.charCodeAt(i) >> 8;
  }
  return b;
}

describe('SetupDiag results (documented formats)', () => {
  it('text: the matched rule, 0xC1900101 - 0x4000D, phase Safe OS, the end time, the target build', async () => {
    const stats = newStats();
    const es = await collect(setupDiagEvents([new TextEncoder().encode(SETUPDIAG_TEXT)], 'Windows\\Logs\\SetupDiag\\SetupDiagResults.log', { stats }));
    wellFormed(es);
    expect(es.map(brief)).toEqual(['failed 0xc1900101 0x4000d Safe OS']);
    expect(es[0]).toMatchObject({ source: 'SetupDiag', line: 2, session: 'Windows\\Logs\\SetupDiag\\SetupDiagResults.log' });
    expect(es[0]!.time!.toISOString()).toBe('2023-11-04T23:02:40.000Z');
    expect(es[0]!.message).toBe(
      'SetupDiag FindRollbackFailure: rollback failure found. Error: 0xc1900101 - 0x4000d. Last phase: Safe OS. Target: 10.0.22631.2861 (ni_release.220506-1250).',
    );
    expect(stats.format).toBe('setupdiag');
    expect(stats.recognized).toBeGreaterThan(0);
  });

  it('xml (UTF-16LE as Windows setup writes it): FindSPFatalError, 0x8007042B - 0x2000D, Downlevel', async () => {
    const stats = newStats();
    const b = utf16(SETUPDIAG_XML);
    const es = await collect(setupDiagEvents([b.subarray(0, 101), b.subarray(101)], 'Windows\\Logs\\SetupDiag\\SetupDiagResults.xml', { stats }));
    wellFormed(es);
    expect(es.map(brief)).toEqual(['failed 0x8007042b 0x2000d Downlevel']);
    expect(es[0]!.time!.toISOString()).toBe('2023-05-06T22:21:49.000Z');
    expect(es[0]!.message).toMatch(/^SetupDiag FindSPFatalError: Fatal Error\./);
    expect(stats.format).toBe('setupdiag-xml');
  });

  it('a success rule is a success; no profile is no event; times', async () => {
    const ok = await collect(
      setupDiagEvents([new TextEncoder().encode('Matching Profile found: FindSuccessfulUpgrade - 8A0824C8-A56D-4C55-95A0-22751AB62F3E\n')], 'x'),
    );
    expect(ok.map(brief)).toEqual(['succeeded - - -']);
    expect(await collect(setupDiagEvents([new TextEncoder().encode('SetupDiag: processing rule: CompatScanOnly.\n...No match.\n')], 'x'))).toEqual([]);
    expect(setupDiagTime('3/21/2023 12:02:40 AM')!.toISOString()).toBe('2023-03-21T00:02:40.000Z');
    expect(setupDiagTime('3/21/2023 12:02:40 PM')!.toISOString()).toBe('2023-03-21T12:02:40.000Z');
    expect(setupDiagTime('0001-01-01T00:00:00')).toBeUndefined();
    expect(setupDiagTime('yesterday')).toBeUndefined();
  });
});
