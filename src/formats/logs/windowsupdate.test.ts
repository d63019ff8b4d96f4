// windowsUpdateLogEvents (issue #16): the four real WindowsUpdate.logs of
// ../shared/fixtures/logs/windowsupdate checked against the ground truth of its README, plus line
// formats no public log of that set holds (an uninstall, a Handler line with no LogHistory after
// it, a classic REPORT EVENT line), built from the real line layouts with made-up values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, sharedReason } from '../../../test/helpers/env.js';
import { newStats, type LogReadStats, type UpdateEvent } from '../../model/attempts.js';
import { windowsUpdateLogEvents } from './windowsupdate.js';

const FILE = 'Users\\tech\\Desktop\\WindowsUpdate.log';
const fixture = (name: string) => path.join(FIXTURES, 'logs', 'windowsupdate', name);

async function events(bytes: Uint8Array, stats?: LogReadStats): Promise<UpdateEvent[]> {
  // Small chunks: state must carry across chunk boundaries.
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += 4093) chunks.push(bytes.subarray(o, o + 4093));
  const out: UpdateEvent[] = [];
  for await (const e of windowsUpdateLogEvents(chunks, FILE, stats ? { stats } : {})) out.push(e);
  return out;
}
const ofText = (s: string) => events(Buffer.from(s));

function checkEvent(e: UpdateEvent): void {
  expect(e.source).toBe('WindowsUpdate.log');
  expect(e.file).toBe(FILE);
  expect(e.message.length).toBeLessThanOrEqual(500);
  expect(e.message).toMatch(/^[\x20-\x7e]*$/);
  expect(e.message).not.toMatch(/^\s|\s$/);
  if (e.code !== undefined) expect(e.code).toMatch(/^0x[0-9a-f]{8}$/);
  if (e.kb !== undefined) expect(e.kb).toMatch(/^KB\d+$/);
  if (e.updateId !== undefined) expect(e.updateId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(e.time).toBeInstanceOf(Date);
  expect(e.line).toBeGreaterThan(0);
}

const by = (es: UpdateEvent[], f: (e: UpdateEvent) => boolean) => es.filter(f);
const installs = (es: UpdateEvent[]) => by(es, (e) => e.kind === 'install' || e.kind === 'uninstall');
const results = (es: UpdateEvent[]) => [...new Set(es.map((e) => e.result))].sort();

/** A decoded line as Get-WindowsUpdateLog writes it. */
const dec = (ts: string, pid: number, tid: number, comp: string, text: string) =>
  `${ts} ${String(pid).padEnd(5)} ${String(tid).padEnd(5)} ${comp.padEnd(15)} ${text}\r\n`;

describe.skipIf(!!sharedReason())('real decoded WindowsUpdate.logs (README ground truth)', () => {
  it('ReeceKetley: KB5034441 failed 0x800f0828 (mapped 0x80070643); KB4023057/KB5036979 reboot-pending; KB5037036 not-applicable; no WIL noise', async () => {
    const stats = newStats();
    const es = await events(readFileSync(fixture('win10-22h2-kb5034441-0x80070643-0x800f0828-ReeceKetley.log')), stats);
    expect(stats).toMatchObject({ format: 'windowsupdate-decoded', lines: 10725, recognized: 10725 });
    es.forEach(checkEvent);
    expect(es.every((e) => e.timeIsLocal)).toBe(true);

    const failed = by(installs(es), (e) => e.result === 'failed');
    expect(failed.map((e) => e.line)).toEqual([9858, 9861, 9862]);
    for (const e of failed) expect(e).toMatchObject({ kb: 'KB5034441', updateId: '576b0dd6-57cc-457b-a5ec-e888491b395d', code: '0x800f0828', kind: 'install' });
    const history = failed.find((e) => e.line === 9862)!;
    expect(history.message).toContain('resultUnMapped=800F0828');
    expect(history.message).toContain('mapped 0x80070643');
    expect(history.time!.toISOString()).toBe('2024-05-02T16:40:48.682Z');
    expect(failed[0]!.message).toBe('Command line install completed. Return code = 0x800f0828, Result = Failed, Reboot required = false');

    for (const kb of ['KB4023057', 'KB5036979']) {
      const e = by(es, (x) => x.kb === kb);
      expect(e.length, kb).toBe(3);
      expect(results(e)).toEqual(['reboot-pending']);
      expect(e.every((x) => x.rebootRequired && x.code === '0x80242014' && x.kind === 'install')).toBe(true);
    }
    const na = by(es, (e) => e.kb === 'KB5037036');
    expect(na.map((e) => [e.line, e.result, e.code])).toEqual([
      [8207, 'not-applicable', '0x80240017'],
      [8208, 'not-applicable', '0x80240017'],
    ]);
    // Only those four updates have a non-success result; the WIL *FAILED* lines (8024801E,
    // 80248007, 80070002 ...) are none of them.
    expect(new Set(by(installs(es), (e) => e.result !== 'succeeded').map((e) => e.kb))).toEqual(new Set(['KB5034441', 'KB4023057', 'KB5036979', 'KB5037036']));
    expect(by(es, (e) => /\*FAILED\*/.test(e.message))).toEqual([]);
    // Two driver searches failed (0x8024402F, 0x8024402C); the rest succeeded.
    const scans = by(es, (e) => e.kind === 'scan');
    expect(by(scans, (e) => e.result === 'failed').map((e) => e.code)).toEqual(['0x8024402f', '0x8024402c']);
    expect(by(scans, (e) => e.result === 'failed').every((e) => e.client === 'Device Driver Retrieval Client')).toBe(true);
    expect(by(scans, (e) => e.result === 'succeeded')).toHaveLength(11);
    expect(by(es, (e) => e.kind === 'download')).toEqual([]);
  });

  it('privacytarget: KB5035853 reboot-pending after a DO 403 download failure; one failed scan 0x8024402C; KB890830 succeeded (0x00240006)', async () => {
    const es = await events(readFileSync(fixture('win11-23h2-kb5035853-postreboot-pending-0x80242014-privacytarget.log')));
    es.forEach(checkEvent);
    const cu = by(es, (e) => e.kb === 'KB5035853');
    expect(cu.map((e) => [e.line, e.kind, e.result, e.code])).toEqual([
      [7171, 'download', 'failed', '0x80190193'],
      [8591, 'install', 'reboot-pending', '0x80242014'],
      [8612, 'install', 'reboot-pending', '0x80242014'],
      [8614, 'install', 'reboot-pending', '0x80242014'],
    ]);
    expect(cu[0]!.updateId).toBe('19682df0-d60c-4c12-b482-78552a546a7f');
    expect(cu[0]!.title).toBe('2024-03 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5035853)');
    expect(cu[3]!.client).toBe('MoUpdateOrchestrator');
    const msrt = by(es, (e) => e.kb === 'KB890830');
    expect(msrt.length).toBe(2);
    expect(msrt.every((e) => e.result === 'succeeded' && e.code === '0x00240006')).toBe(true);
    expect(by(es, (e) => e.result === 'failed').map((e) => [e.kind, e.code])).toEqual([
      ['scan', '0x8024402c'],
      ['download', '0x80190193'],
    ]);
    // Defender signature installs (KB2267602) all succeeded; nothing else is not a success.
    expect(results(by(es, (e) => e.kb === 'KB2267602'))).toEqual(['succeeded']);
    expect(by(installs(es), (e) => e.result !== 'succeeded' && e.kb !== 'KB5035853')).toEqual([]);
  });

  it('josemct: 50 Store download failures 0x80190193 and no failed install', async () => {
    const es = await events(readFileSync(fixture('win10-21h2-store-download-http403-0x80190193-josemct.log')));
    es.forEach(checkEvent);
    const dl = by(es, (e) => e.kind === 'download');
    expect(dl).toHaveLength(50);
    expect(dl.every((e) => e.result === 'failed' && e.code === '0x80190193' && e.updateId && /403'd/.test(e.message))).toBe(true);
    expect(installs(es).length).toBeGreaterThan(0);
    expect(results(installs(es))).toEqual(['succeeded']);
    expect(by(es, (e) => e.kind === 'scan' && e.result !== 'succeeded')).toEqual([]);
  });

  it('karthikvemula (classic format): the driver search cancelled 0x8024000B; the UpdateNow hr:80070005 line is no event', async () => {
    const stats = newStats();
    const es = await events(readFileSync(fixture('win7sp1-oldformat-sync-0x8024000b-karthikvemula.log')), stats);
    expect(stats).toMatchObject({ format: 'windowsupdate-classic', lines: 2651, recognized: 2651 });
    es.forEach(checkEvent);
    expect(es.map((e) => [e.line, e.kind, e.result, e.code, e.client])).toEqual([[173, 'scan', 'cancelled', '0x8024000b', 'ChkWuDrv']]);
    expect(es[0]!.time!.toISOString()).toBe('2018-05-21T20:27:47.556Z');
    expect(es[0]!.timeIsLocal).toBe(true);
  });
});

describe('decoded line kinds', () => {
  const ID = '11111111-2222-3333-4444-555555555555';
  const title = (ts: string) =>
    dec(ts, 100, 200, 'Agent', '  Title = 2024-05 Cumulative Update for Windows 10 (KB5099999)') + dec(ts, 100, 200, 'Agent', `  UpdateId = ${ID}.1`);

  it('an uninstall LogHistory line is an uninstall; the title and KB come from the Title/UpdateId lines', async () => {
    const es = await ofText(
      title('2024/06/01 10:00:00.1000000') +
        dec(
          '2024/06/01 10:05:00.1000000',
          100,
          300,
          'Agent',
          `LogHistory called for Caller=wusa, idUpdate=${ID}.1, operation = Uninstall, resultMapped=80070005, resultUnMapped=0`,
        ),
    );
    expect(es).toHaveLength(1);
    expect(es[0]).toMatchObject({ kind: 'uninstall', result: 'failed', code: '0x80070005', kb: 'KB5099999', updateId: ID, client: 'wusa', line: 3 });
    expect(es[0]!.title).toBe('2024-05 Cumulative Update for Windows 10 (KB5099999)');
  });

  it('mapped and unmapped equal: the code is the mapped one, once; cancelled and success codes', async () => {
    const es = await ofText(
      dec('2024/06/01 10:05:00.1000000', 1, 2, 'Agent', `LogHistory called. idUpdate={${ID}}.1, resultMapped=80070643, resultUnMapped=80070643`) +
        dec('2024/06/01 10:06:00.1000000', 1, 2, 'Agent', `LogHistory called. idUpdate={${ID}}.1, resultMapped=8024000B, resultUnMapped=0`) +
        dec('2024/06/01 10:07:00.1000000', 1, 2, 'Agent', `LogHistory called. idUpdate={${ID}}.1, resultMapped=0, resultUnMapped=0`),
    );
    expect(es.map((e) => [e.result, e.code])).toEqual([
      ['failed', '0x80070643'],
      ['cancelled', '0x8024000b'],
      ['succeeded', '0x00000000'],
    ]);
    expect(es[0]!.message).not.toContain('(mapped');
  });

  it('a failed command-line install with no LogHistory line after it is emitted alone after 10 minutes; a succeeded one is not', async () => {
    const es = await ofText(
      dec(
        '2024/06/01 10:00:00.1000000',
        7,
        8,
        'Handler',
        'Command line install completed. Return code = 0x80070002, Result = Failed, Reboot required = false',
      ) +
        dec(
          '2024/06/01 10:01:00.1000000',
          7,
          8,
          'Handler',
          'Command line install completed. Return code = 0x00000000, Result = Succeeded, Reboot required = false',
        ) +
        dec('2024/06/01 10:30:00.1000000', 7, 8, 'Agent', `LogHistory called. idUpdate={${ID}}.1, resultMapped=80070002, resultUnMapped=0`),
    );
    expect(es.map((e) => [e.line, e.result, e.code, e.updateId])).toEqual([
      [1, 'failed', '0x80070002', undefined],
      [3, 'failed', '0x80070002', ID],
    ]);
  });

  it('a Deployment line written after its LogHistory line takes its result; a WIL *FAILED* line is none', async () => {
    const es = await ofText(
      dec('2024/06/01 10:00:00.1000000', 1, 2, 'Agent', `LogHistory called. idUpdate={${ID}}.1, resultMapped=80242014, resultUnMapped=0`) +
        dec('2024/06/01 10:00:00.2000000', 1, 2, 'UDP', '*FAILED* [80242014] Deployment job Id 3081F5DA-9046-4DBE-BA63-73147C2BE6E3 : update failed') +
        dec(
          '2024/06/01 10:00:01.1000000',
          1,
          2,
          'Deployment',
          `Deployment job Id 3081F5DA-9046-4DBE-BA63-73147C2BE6E3 : NotifyClient (1)(0) called for update id ${ID}, code = Update success, percent complete = 100`,
        ),
    );
    expect(es.map((e) => [e.line, e.result, e.code])).toEqual([
      [1, 'reboot-pending', '0x80242014'],
      [3, 'reboot-pending', '0x80242014'],
    ]);
  });

  it('a DO job that completed, or an hr with the severity bit clear, is no download failure', async () => {
    const es = await ofText(
      dec('2024/06/01 10:00:00.1000000', 1, 2, 'DownloadManager', `DO job {8294F2E2-DBD9-46BE-A58F-8591B12ADC48} completed successfully, updateId = ${ID}.1`) +
        dec(
          '2024/06/01 10:00:01.1000000',
          1,
          2,
          'DownloadManager',
          `DO job {8294F2E2-DBD9-46BE-A58F-8591B12ADC48} failed, updateId = ${ID}.1, hr = 0x00000001`,
        ) +
        dec(
          '2024/06/01 10:00:02.1000000',
          1,
          2,
          'DownloadManager',
          `DO job {8294F2E2-DBD9-46BE-A58F-8591B12ADC48} failed, updateId = ${ID}.1, hr = 0x80D02002`,
        ) +
        dec(
          '2024/06/01 10:00:03.1000000',
          1,
          2,
          'DownloadManager',
          `*FAILED* [80D03805] DO job {8294F2E2-DBD9-46BE-A58F-8591B12ADC48} hit a transient error, updateId = ${ID}.1`,
        ),
    );
    expect(es.map((e) => [e.line, e.kind, e.result, e.code])).toEqual([[3, 'download', 'failed', '0x80d02002']]);
  });
});

describe('classic format', () => {
  const cl = (d: string, t: string, comp: string, text: string) => `${d}\t${t}\t 908\t45c\t${comp}\t${text}\r\n`;
  it('REPORT EVENT lines are events with their own UTC offset; an install failure is failed', async () => {
    const stats = newStats();
    const es = await events(
      Buffer.from(
        cl(
          '2012-03-01',
          '10:00:00:123',
          'Report',
          'REPORT EVENT: {7D3B9C5E-1B2A-4C3D-9E8F-0A1B2C3D4E5F}\t2012-03-01 10:00:00:120+0100\t1\t182\t101\t{A1B2C3D4-E5F6-4789-ABCD-EF0123456789}\t201\t80070643\tAutomaticUpdates\tFailure\tContent Install\tInstallation Failure: Windows failed to install the following update with error 0x80070643: Security Update for Windows 7 (KB2918614).',
        ) +
          cl(
            '2012-03-01',
            '10:00:01:000',
            'Report',
            'REPORT EVENT: {8D3B9C5E-1B2A-4C3D-9E8F-0A1B2C3D4E5F}\t2012-03-01 10:00:00:900+0100\t1\t147\t101\t{00000000-0000-0000-0000-000000000000}\t0\t0\tAutomaticUpdates\tSuccess\tSoftware Synchronization\tWindows Update Client successfully detected 3 updates.',
          ) +
          cl('2012-03-01', '10:00:02:000', 'Agent', '  * WARNING: Exit code = 0x8024402C'),
      ),
      stats,
    );
    expect(stats).toMatchObject({ format: 'windowsupdate-classic', lines: 3, recognized: 3 });
    expect(es.map((e) => [e.line, e.kind, e.result, e.code, e.kb, e.timeIsLocal])).toEqual([
      [1, 'install', 'failed', '0x80070643', 'KB2918614', false],
      [2, 'scan', 'succeeded', '0x00000000', undefined, false],
    ]);
    expect(es[0]!.time!.toISOString()).toBe('2012-03-01T09:00:00.120Z');
    expect(es[0]!.updateId).toBe('a1b2c3d4-e5f6-4789-abcd-ef0123456789');
    expect(es[0]!.title).toBe('Security Update for Windows 7 (KB2918614)');
    expect(es[1]!.updateId).toBeUndefined();
  });

  it('text in neither format: lines read, none recognized, no event', async () => {
    const stats = newStats();
    const es = await events(
      Buffer.from('Windows Update logs are now generated using ETW (Event Tracing for Windows).\r\nPlease run Get-WindowsUpdateLog\r\n'),
      stats,
    );
    expect(es).toEqual([]);
    expect(stats).toEqual({ lines: 2, recognized: 0 });
  });
});
