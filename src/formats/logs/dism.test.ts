// dismLogEvents (issue #16): the two real dism.logs of ../shared/fixtures/logs/dism against the
// ground truth of its README, and runs that set does not hold (/RestoreHealth failing 0x800f081f,
// /Add-Package, /Image, a run cut off by the end of the file), built on the real line layout of those
// logs ("date time, Level<pad>DISM<pad>DISM.EXE: ...") with made-up values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, sharedReason } from '../../../test/helpers/env.js';
import { newStats, type LogReadStats, type UpdateEvent } from '../../model/attempts.js';
import { dismCommand, dismLogEvents } from './dism.js';

const FILE = 'Windows\\Logs\\DISM\\dism.log';
const fixture = (name: string) => path.join(FIXTURES, 'logs', 'dism', name);

async function events(bytes: Uint8Array, stats?: LogReadStats): Promise<UpdateEvent[]> {
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += 4093) chunks.push(bytes.subarray(o, o + 4093));
  const out: UpdateEvent[] = [];
  for await (const e of dismLogEvents(chunks, FILE, stats ? { stats } : {})) out.push(e);
  return out;
}

function checkEvent(e: UpdateEvent): void {
  expect(e).toMatchObject({ source: 'DISM.log', file: FILE, timeIsLocal: true });
  expect(e.message.length).toBeLessThanOrEqual(500);
  expect(e.message).toMatch(/^[\x20-\x7e]*$/);
  if (e.code !== undefined) expect(e.code).toMatch(/^0x[0-9a-f]{8}$/);
  expect(e.time).toBeInstanceOf(Date);
}

const L = (ts: string, level: string, msg: string) => `${ts}, ${level.padEnd(22)}DISM   ${msg}\r\n`;
function run(ts: string, cmd: string, body: string[], closed = 'no', end = true): string {
  return (
    L(ts, 'Info', 'DISM.EXE: <----- Starting Dism.exe session ----->') +
    L(ts, 'Info', `DISM.EXE: Executing command line: ${cmd}`) +
    L(ts, 'Info', 'DISM Manager: PID=4242 TID=1 Successfully loaded the ImageSession at "C:\\Windows\\TEMP\\X" - CDISMManager::LoadRemoteImageSession') +
    L(
      ts,
      'Warning',
      'DISM Provider Store: PID=4243 TID=2 Failed to load the provider: C:\\Windows\\TEMP\\X\\MetaDeployProvider.dll. - CDISMProviderStore::Internal_GetProvider(hr:0x8007007e)',
    ) +
    body.join('') +
    (closed ? L(ts, 'Info', `DISM.EXE: Image session has been closed. Reboot required=${closed}.`) : '') +
    (end ? L(ts, 'Info', 'DISM.EXE: <----- Ending Dism.exe session ----->') : '')
  );
}

describe.skipIf(!!sharedReason())('real dism.logs (README ground truth)', () => {
  it('iideerii: every NetFx3 enable failed 0x800f081f (source files not found); ScanHealth succeeded; DismApi and provider-load noise none', async () => {
    const stats = newStats();
    const es = await events(readFileSync(fixture('win10-21h2-netfx3-enable-0x800f081f-iideerii.log')), stats);
    expect(stats).toMatchObject({ format: 'dism', lines: 1567 });
    es.forEach(checkEvent);
    expect(es.map((e) => [e.line, e.kind, e.result, e.code, e.title ?? e.phase])).toEqual([
      [433, 'feature', 'failed', '0x800f081f', 'NetFx3'],
      [811, 'feature', 'failed', '0x800f081f', 'NetFx3'],
      [1021, 'component-repair', 'succeeded', undefined, 'ScanHealth'],
      [1161, 'feature', 'failed', '0x800f081f', 'NetFx3'],
      [1341, 'feature', 'failed', '0x800f081f', 'NetFx3'],
      [1521, 'feature', 'failed', '0x800f081f', 'NetFx3'],
    ]);
    expect(es.every((e) => e.client === 'DISM')).toBe(true);
    expect(es[0]!.message).toContain('Failed while processing command enable-feature');
    expect(es[0]!.time!.toISOString()).toBe('2023-07-05T21:36:53.000Z');
    expect(es.some((e) => /dxgiadaptercache|directxdatabaseupdater|0x8007007e/i.test(e.message))).toBe(false);
  });

  it('DieterReuter: no failure; mistyped and read-only commands are no event; the Disable-Feature runs end reboot-pending', async () => {
    const es = await events(readFileSync(fixture('win7-enable-disable-feature-sessions-DieterReuter.log')));
    es.forEach(checkEvent);
    expect(es.filter((e) => e.result === 'failed')).toEqual([]);
    expect(es.every((e) => e.kind === 'feature')).toBe(true);
    // The README says "one session ends Reboot required=yes"; the file holds two such lines
    // (lines 2115 and 2273, both /Disable-Feature), checked here as written.
    expect(es.filter((e) => e.result === 'reboot-pending').map((e) => [e.line, e.title])).toEqual([
      [2115, 'Printing-Foundation-LPRPortMonitor'],
      [2273, 'Printing-Foundation-LPDPrintService'],
    ]);
    expect(es.filter((e) => e.result === 'succeeded').map((e) => e.title)).toEqual([
      'Printing-Foundation-LPDPrintService',
      'TelnetClient',
      'TelnetClient',
      'Printing-Foundation-LPRPortMonitor',
      'Printing-Foundation-LPRPortMonitor',
    ]);
    // /Add-Feature: and /EnableFeature= were refused ("No providers were found"): nothing was tried.
    expect(es.some((e) => /add-feature|enablefeature/i.test(e.message))).toBe(false);
  });
});

describe('runs the real logs do not hold', () => {
  it('/RestoreHealth failing with 0x800f081f is a failed component repair; corruption noted', async () => {
    const es = await events(
      Buffer.from(
        run('2024-01-02 10:00:00', 'dism.exe  /Online /Cleanup-Image /RestoreHealth', [
          L('2024-01-02 10:05:00', 'Info', 'DISM Package Manager: PID=4243 TID=2 The component store is repairable. - CDISMPackageManager::Internal_Finalize'),
          L(
            '2024-01-02 10:20:00',
            'Error',
            'DISM Package Manager: PID=4243 TID=2 Failed to restore the image health. - CPackageManagerCLIHandler::ProcessCmdLine_CleanupImage(hr:0x800f081f)',
          ),
          L(
            '2024-01-02 10:20:00',
            'Error',
            'DISM Package Manager: PID=4243 TID=2 Failed while processing command cleanup-image. - CPackageManagerCLIHandler::ExecuteCmdLine(hr:0x800f081f)',
          ),
        ]),
      ),
    );
    expect(es).toHaveLength(1);
    expect(es[0]).toMatchObject({
      kind: 'component-repair',
      result: 'failed',
      code: '0x800f081f',
      phase: 'RestoreHealth',
      corruptionFound: true,
      session: '4242',
      line: 7,
    });
  });

  it('/Add-Package names the package and its KB; /Image runs say so in the client; a run cut off is in-progress', async () => {
    const es = await events(
      Buffer.from(
        run('2024-01-02 11:00:00', 'dism.exe /Online /Add-Package /PackagePath:"C:\\Temp\\updates\\windows10.0-kb5034441-x64.cab"', [], 'yes') +
          run('2024-01-02 12:00:00', 'dism.exe /Image:D:\\mount /Remove-Package /PackageName:Package_for_KB5000001~31bf3856ad364e35~amd64~~1.0', []) +
          run('2024-01-02 13:00:00', 'dism.exe /Online /Add-Capability /CapabilityName:OpenSSH.Client~~~~0.0.1.0', [], '', false),
      ),
    );
    expect(es.map((e) => [e.kind, e.result, e.kb, e.package ?? e.title, e.client])).toEqual([
      ['install', 'reboot-pending', 'KB5034441', 'windows10.0-kb5034441-x64.cab', 'DISM'],
      ['uninstall', 'succeeded', 'KB5000001', 'Package_for_KB5000001~31bf3856ad364e35~amd64~~1.0', 'DISM /Image:D:\\mount'],
      ['feature', 'in-progress', undefined, 'OpenSSH.Client~~~~0.0.1.0', 'DISM'],
    ]);
    expect(es[0]!.rebootRequired).toBe(true);
  });

  it('dismCommand: read-only commands and help are no attempt', () => {
    expect(dismCommand('dism /Online /Get-Features')).toBeUndefined();
    expect(dismCommand('dism /?')).toBeUndefined();
    expect(dismCommand('dism /Online /Cleanup-Image /AnalyzeComponentStore')).toBeUndefined();
    expect(dismCommand('dism /Online /Cleanup-Image /StartComponentCleanup /ResetBase')).toMatchObject({
      kind: 'component-repair',
      op: 'StartComponentCleanup',
    });
    expect(dismCommand('DISM.exe /Online /Enable-Feature=TelnetClient')).toMatchObject({ kind: 'feature', title: 'TelnetClient' });
  });

  it('text that is no dism.log: lines read, none recognized, no event', async () => {
    const stats = newStats();
    expect(await events(Buffer.from('hello\nworld\n'), stats)).toEqual([]);
    expect(stats).toEqual({ lines: 2, recognized: 0 });
  });
});
