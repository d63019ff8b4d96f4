// reportingEventsEvents (issue #16): the real UTF-16LE ReportingEvents.log of
// ../shared/fixtures/logs/reportingevents against the ground truth of its README, and the record
// kinds that file does not hold (install failure, uninstall, restart required, no offset), built
// on its real field layout with made-up values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, sharedReason } from '../../../test/helpers/env.js';
import { newStats, type LogReadStats, type UpdateEvent } from '../../model/attempts.js';
import { eventText, guidField, reportingEventsEvents, wuCodeResult } from './reporting-events.js';

const FILE = 'Windows\\SoftwareDistribution\\ReportingEvents.log';

async function events(bytes: Uint8Array, stats?: LogReadStats): Promise<UpdateEvent[]> {
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += 4093) chunks.push(bytes.subarray(o, o + 4093));
  const out: UpdateEvent[] = [];
  for await (const e of reportingEventsEvents(chunks, FILE, stats ? { stats } : {})) out.push(e);
  return out;
}

/** One record in the real layout (Windows 10: event name in brackets, a trailing cV field). */
function rec(time: string, ev: string, updateId: string, hr: string, client: string, status: string, category: string, message: string): string {
  return (
    ['{A583FB9E-9C9C-4282-B2AC-021ABB6BCB34}', time, '1', ev, '101', updateId, '1', hr, client, status, category, message, 'w3Fd8MIdE0yBSbdX.0.7.1'].join(
      '\t',
    ) + '\r\n'
  );
}
const utf16 = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);

describe('codes and fields', () => {
  it('wuCodeResult: reboot-pending, not-applicable, cancelled, success codes, failures', () => {
    expect(wuCodeResult('0x80242014')).toBe('reboot-pending');
    expect(wuCodeResult('0x80240017')).toBe('not-applicable');
    expect(wuCodeResult('0x8024000b')).toBe('cancelled');
    expect(wuCodeResult('0x800704c7')).toBe('cancelled');
    expect(wuCodeResult('0x00240006')).toBe('succeeded');
    expect(wuCodeResult('0x00000000')).toBe('succeeded');
    expect(wuCodeResult('0x80070643')).toBe('failed');
    expect(wuCodeResult('0x800f0828')).toBe('failed');
  });
  it('guidField and eventText', () => {
    expect(guidField('{83CB05B1-36CD-4EF9-A9C6-136D4B522E64}')).toBe('83cb05b1-36cd-4ef9-a9c6-136d4b522e64');
    expect(guidField('{00000000-0000-0000-0000-000000000000}')).toBeUndefined();
    expect(guidField('not a guid')).toBeUndefined();
    expect(eventText('  a\tb\r\nc\u00e9 ')).toBe('a b c?');
    expect(eventText('x'.repeat(5000))).toHaveLength(500);
  });
});

describe.skipIf(!!sharedReason())('real ReportingEvents.log (dcheva, UTF-16LE)', () => {
  it('22 failed scans (19 x 0x80072ee2), 163 DOWNLOAD_CANCELED cancelled, no failed install', async () => {
    const stats = newStats();
    const es = await events(
      readFileSync(path.join(FIXTURES, 'logs', 'reportingevents', 'win10-11-ReportingEvents-utf16-detect-fail-0x80072ee2-dcheva.log')),
      stats,
    );
    expect(stats).toMatchObject({ format: 'reportingevents', recognized: 1709 });
    for (const e of es) {
      expect(e.source).toBe('ReportingEvents.log');
      expect(e.timeIsLocal).toBe(false);
      expect(e.code).toMatch(/^0x[0-9a-f]{8}$/);
      expect(e.message.length).toBeLessThanOrEqual(500);
    }
    const failedScans = es.filter((e) => e.kind === 'scan' && e.result === 'failed');
    expect(failedScans).toHaveLength(22);
    expect(failedScans.filter((e) => e.code === '0x80072ee2')).toHaveLength(19);
    expect(failedScans.filter((e) => e.code === '0x8024402c')).toHaveLength(2);
    expect(failedScans.filter((e) => e.code === '0x80240438')).toHaveLength(1);
    expect(failedScans.every((e) => e.updateId === undefined && e.client)).toBe(true);
    expect(es.filter((e) => e.kind === 'scan' && e.result === 'succeeded')).toHaveLength(1654);
    const cancelled = es.filter((e) => e.result === 'cancelled');
    expect(cancelled).toHaveLength(14);
    expect(cancelled.every((e) => e.kind === 'download' && e.code === '0x8024000b' && /^163 \[AGENT_DOWNLOAD_CANCELED\] Success/.test(e.message))).toBe(true);
    expect(es.filter((e) => (e.kind === 'install' || e.kind === 'uninstall') && e.result === 'failed')).toEqual([]);
    // Store apps: 5 installs started and succeeded, with their titles; "Download queued" (168) is no event.
    const inst = es.filter((e) => e.kind === 'install');
    expect(inst.map((e) => e.result).sort()).toEqual([...Array(5).fill('in-progress'), ...Array(5).fill('succeeded')]);
    expect(inst.every((e) => e.title && e.updateId)).toBe(true);
    expect(es.filter((e) => /Download queued/.test(e.message))).toEqual([]);
    // The first record: 2023-06-17 20:20:23:087+0300.
    expect(es[0]!.time!.toISOString()).toBe('2023-06-17T17:20:23.087Z');
  });
});

describe('record kinds', () => {
  it('install failure, restart required, uninstall, and a record without offset (local time)', async () => {
    const stats = newStats();
    const es = await events(
      utf16(
        rec(
          '2015-04-01 10:00:00:000+0200',
          '182',
          '{A1B2C3D4-E5F6-4789-ABCD-EF0123456789}',
          '80070643',
          'AutomaticUpdates',
          'Failure',
          'Content Install',
          'Installation Failure: Windows failed to install the following update with error 0x80070643: Security Update for Windows 8.1 (KB3000850).',
        ) +
          rec(
            '2015-04-01 10:01:00:000+0200',
            '184 [AGENT_INSTALLING_PLANNED]',
            '{A1B2C3D4-E5F6-4789-ABCD-EF0123456789}',
            '0',
            'AutomaticUpdates',
            'Success',
            'Content Install',
            'Planned.',
          ) +
          rec(
            '2015-04-01 10:02:00:000',
            '183',
            '{B1B2C3D4-E5F6-4789-ABCD-EF0123456789}',
            '0',
            'AutomaticUpdates',
            'Success',
            'Content Install',
            'Restart Required: To complete the installation of the following updates, the computer must be restarted. Until then, Windows cannot search for or download new updates: Update for Windows (KB3001111)',
          ) +
          rec(
            '2015-04-01 10:03:00:000+0200',
            '188 [AGENT_UNINSTALLING_SUCCEEDED]',
            '{C1B2C3D4-E5F6-4789-ABCD-EF0123456789}',
            '0',
            'wusa',
            'Success',
            'Content Uninstall',
            'Uninstallation Successful: Windows successfully uninstalled the following update: Update (KB3002222)',
          ) +
          'garbage line\r\n',
      ),
      stats,
    );
    expect(stats).toEqual({ lines: 5, recognized: 4, format: 'reportingevents' });
    expect(es.map((e) => [e.kind, e.result, e.code, e.kb, e.timeIsLocal])).toEqual([
      ['install', 'failed', '0x80070643', 'KB3000850', false],
      ['install', 'reboot-pending', '0x00000000', 'KB3001111', true],
      ['uninstall', 'succeeded', '0x00000000', 'KB3002222', false],
    ]);
    expect(es[0]).toMatchObject({ title: 'Security Update for Windows 8.1 (KB3000850)', updateId: 'a1b2c3d4-e5f6-4789-abcd-ef0123456789', line: 1 });
    expect(es[0]!.time!.toISOString()).toBe('2015-04-01T08:00:00.000Z');
    expect(es[1]!.time!.toISOString()).toBe('2015-04-01T10:02:00.000Z');
    expect(es[1]!.rebootRequired).toBe(true);
  });
});
