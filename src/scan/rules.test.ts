// The finding rules on their own (pure): thresholds and edges that the built scenarios do not hit.
import { targetScan } from '../../test/helpers/target-scan.js';
import { describe, it, expect } from 'vitest';
import { deriveFindings, RULES } from './rules/index.js';
import { MiB } from '../shared/units.js';
import { WINRE_UPDATE_FREE } from '../windows/winre.js';
import type { TargetScan, DiskInfo } from '../model/scan.js';
import type { UpdateEvent } from '../model/attempts.js';
import { correlate } from './attempts.js';

const base = targetScan;

function disk(recStart: number, osStart: number, free: number): DiskInfo {
  return {
    path: 'disk.img',
    scheme: 'gpt',
    sizeBytes: 64 * 1024 * MiB,
    partitions: [
      { number: 1, start: MiB, size: 100 * MiB, role: 'esp', fs: 'fat32' },
      { number: 3, start: osStart, size: 60 * 1024 * MiB, role: 'basic', fs: 'ntfs' },
      { number: 4, start: recStart, size: 600 * MiB, role: 'recovery', fs: 'ntfs', freeBytes: free },
    ],
    osPartition: 3,
    recoveryPartition: 4,
  };
}

const ids = (t: TargetScan) =>
  deriveFindings(t)
    .map((f) => f.id)
    .sort();

describe('finding rules', () => {
  it('winre-too-small fires below 250 MiB free, not at it; the free space is said rounded down, with the bytes', () => {
    expect(ids(base({ disk: disk(61 * 1024 * MiB, 117 * MiB, WINRE_UPDATE_FREE) }))).toEqual([]);
    expect(ids(base({ disk: disk(61 * 1024 * MiB, 117 * MiB, WINRE_UPDATE_FREE - 1) }))).toEqual(['winre-too-small']);
    // 262143999 bytes is 249.99... MiB: never "250 MiB free but needs 250 MiB".
    const f = deriveFindings(base({ disk: disk(61 * 1024 * MiB, 117 * MiB, WINRE_UPDATE_FREE - 1) }))[0]!;
    expect(f.explanation).toContain(`has 249.9 MiB (${WINRE_UPDATE_FREE - 1} bytes) free but the WinRE update`);
    expect(f.explanation).toContain('needs 250 MiB,');
  });

  it('winre-too-small from failed WinRE updates: not after a verified winre repair run since, again after a newer failure', () => {
    const fail = (time: string): UpdateEvent => ({
      source: 'ReportingEvents.log',
      file: 'ReportingEvents.log',
      time: new Date(time),
      timeIsLocal: false,
      kind: 'install',
      result: 'failed',
      kb: 'KB5034441',
      code: '0x80070643',
      line: 1,
      message: 'Installation Failure: Windows failed to install the following update with error 0x80070643',
    });
    const run = { runId: '20240201T100000Z-abcdef', finishedAt: '2024-02-01T10:00:00.000Z', repairs: ['winre' as const], journal: '/mnt/c/wufix/journal' };
    const other = { ...run, repairs: ['wintrust' as const] };
    const old = correlate([fail('2024-01-09T21:14:02Z')]);
    expect(ids(base({ attempts: old }))).toEqual(['winre-too-small']);
    expect(ids(base({ attempts: old, repairRuns: [other] }))).toEqual(['winre-too-small']); // another repair: still current
    expect(ids(base({ attempts: old, repairRuns: [run] }))).toEqual([]);
    expect(ids(base({ attempts: correlate([fail('2024-01-09T21:14:02Z'), fail('2024-02-02T08:00:00Z')]), repairRuns: [run] }))).toEqual(['winre-too-small']);
  });

  it('winre-misplaced: recovery before Windows', () => {
    expect(ids(base({ disk: disk(MiB * 200, 1024 * MiB, 400 * MiB) }))).toEqual(['winre-misplaced']);
  });

  it('wintrust-state: only states that make revocation failures fatal or restrict trust', () => {
    const w = (state: number) => ids(base({ wintrust: [{ kind: 'LocalSystem', hive: 'Windows\\System32\\config\\DEFAULT', exists: true, state }] }));
    expect(w(0x23c00)).toEqual([]); // Windows default
    expect(w(0x23e00)).toEqual([]); // revocation checking switched off on purpose (KB2715304)
    expect(w(0xc9)).toEqual(['wintrust-state']); // checks revocation, offline not OK
    expect(w(0x22849)).toEqual(['wintrust-state']); // 0x800 set but not 0x400: individual publishers' offline failures are fatal
    expect(w(0x63c00)).toEqual(['wintrust-state']); // 0x40000: only trust the trust database
  });

  it('reboot-loop counts attempts, not the same attempt seen in several logs', () => {
    const u = (source: 'ReportingEvents.log' | 'CBS.log', time: string): UpdateEvent => ({
      source,
      file: source,
      time: new Date(time),
      timeIsLocal: false,
      kind: 'install',
      result: 'failed',
      kb: 'KB1',
      code: '0x80073aa2',
      message: 'failed',
    });
    // Two attempts, each logged twice: no loop.
    expect(
      ids(
        base({
          attempts: correlate([
            u('ReportingEvents.log', '2024-01-01T01:00:00Z'),
            u('CBS.log', '2024-01-01T01:00:30Z'),
            u('ReportingEvents.log', '2024-01-02T01:00:00Z'),
            u('CBS.log', '2024-01-02T01:00:40Z'),
          ]),
        }),
      ),
    ).toEqual([]);
    // Three attempts in one log: a loop.
    expect(ids(base({ attempts: correlate(['01', '02', '03'].map((d) => u('ReportingEvents.log', `2024-01-${d}T01:00:00Z`))) }))).toEqual(['reboot-loop']);
  });

  it('services: Start=4 is a finding, a missing UsoSvc (Windows 7) is not', () => {
    expect(
      ids(
        base({
          services: [
            { name: 'UsoSvc', exists: false },
            { name: 'cryptsvc', exists: true, start: 4 },
          ],
        }),
      ),
    ).toEqual(['wu-service-disabled']);
  });

  it('findings come in the order of the rule families, whatever order the data is in', () => {
    const fail = (kb: string, code: string, day: string): UpdateEvent => ({
      source: 'ReportingEvents.log',
      file: 'ReportingEvents.log',
      time: new Date(`2024-01-${day}T01:00:00Z`),
      timeIsLocal: false,
      kind: 'install',
      result: 'failed',
      kb,
      code,
      message: 'failed',
    });
    const t = base({
      // Listed in the reverse of the rule order.
      policy: { noAutoUpdate: 0, qualityCompatApplies: true, useWUServer: 1, wuServer: 'http://wsus:8530' },
      caches: { bitsQueue: [], softwareDistribution: { path: 'Windows\\SoftwareDistribution', files: 3, bytes: 4096 } },
      attempts: correlate([
        fail('KB9', '0x8024402c', '01'),
        fail('KB8', '0x800b0109', '01'),
        fail('KB7', '0x80240034', '01'),
        ...['02', '03', '04'].map((d) => fail('KB1', '0x80073aa2', d)),
      ]),
      servicing: { rebootPending: true, packagesPending: [], sessionsPending: [], rebootRequired: false, componentsPending: [], pendingFileRenames: 0 },
      services: [{ name: 'bits', exists: true, start: 4 }],
      wintrust: [{ kind: 'LocalSystem', hive: 'Windows\\System32\\config\\DEFAULT', exists: true, state: 0xc9 }],
      winre: { installState: 0 },
      disk: disk(MiB * 200, 1024 * MiB, 100 * MiB),
      bitlocker: [{ partition: 5, start: 70 * 1024 * MiB }],
      hiveDamage: [{ hive: 'SOFTWARE', file: 'Windows\\System32\\config\\SOFTWARE', problem: 'is empty (0 bytes)', bytes: 0, recovery: [] }],
      hosts: {
        path: 'Windows\\System32\\drivers\\etc\\hosts',
        bytes: 30,
        blocked: [{ line: 1, text: '0.0.0.0 update.microsoft.com', address: '0.0.0.0', wuNames: ['update.microsoft.com'], otherNames: [], core: true }],
      },
    });
    expect(deriveFindings(t).map((f) => f.id)).toEqual([
      'hive-damaged',
      'bitlocker-locked',
      'winre-too-small',
      'winre-disabled',
      'winre-misplaced',
      'wintrust-state',
      'wu-service-disabled',
      'reboot-loop',
      'pending-servicing',
      'wu-cache',
      'wsus-cert-untrusted',
      'stale-wsus-policy',
      'wu-hosts-blocked',
      'qualitycompat-missing',
    ]);
    expect(RULES.map((r) => r.id)).toEqual([
      'hive-damaged',
      'bitlocker-locked',
      'winre',
      'wintrust-state',
      'wu-service-disabled',
      'pending',
      'servicing-history',
      'wu-cache',
      'wsus',
      'wu-hosts-blocked',
      'wu-tasks-disabled',
      'policy',
    ]);
  });
});

describe('transaction-log-full (issue #19)', () => {
  const txr = {
    folder: 'Windows\\System32\\config\\TxR',
    entries: [{ path: 'Windows\\System32\\config\\TxR\\a.TxR.blf', kind: 'file' as const, bytes: 65536 }],
  };
  const attempt = (result: 'failed' | 'succeeded', code: string | undefined, time: string, source: 'CBS.log' | 'WindowsUpdate.log' = 'CBS.log') => ({
    kind: 'install' as const,
    name: 'KB5034122',
    kb: 'KB5034122',
    time,
    result,
    code,
    sources: [source],
    evidence: [{ file: 'Windows\\Logs\\CBS\\CBS.log', line: 5, data: `HRESULT = ${code ?? '0x0'}` }],
    events: 1,
  });
  const ids = (t: TargetScan) => deriveFindings(t).map((f) => f.id);
  it('CBS ERROR_LOG_FULL with TxR logs: found; a later success ends it; another log than CBS, or no regular TxR file, is not enough', () => {
    const full = attempt('failed', '0x800719e4', '2024-01-09T08:05:40Z');
    expect(ids(base({ txr, attempts: [full] }))).toEqual(['transaction-log-full']);
    expect(ids(base({ txr, attempts: [full, attempt('succeeded', undefined, '2024-01-10T08:00:00Z')] }))).toEqual([]);
    expect(ids(base({ txr, attempts: [attempt('failed', '0x800719e4', '2024-01-09T08:05:40Z', 'WindowsUpdate.log')] }))).toEqual([]);
    expect(ids(base({ txr: { ...txr, entries: [{ ...txr.entries[0]!, kind: 'link' }] }, attempts: [full] }))).toEqual([]);
    expect(ids(base({ attempts: [full] }))).toEqual([]);
  });
  it('healthy TxR logs alone are never evidence; a damaged one is', () => {
    expect(ids(base({ txr }))).toEqual([]);
    const damaged = { ...txr, entries: [{ ...txr.entries[0]!, damage: 'is empty (0 bytes)' }] };
    const f = deriveFindings(base({ txr: damaged }))[0]!;
    expect(f).toMatchObject({ id: 'transaction-log-full', repair: 'pending', severity: 'error' });
    expect(f.evidence).toEqual([{ file: 'Windows\\System32\\config\\TxR\\a.TxR.blf', data: 'damaged: is empty (0 bytes)' }]);
  });
});
