// The finding rules on their own (pure): thresholds and edges that the built scenarios do not hit.
import { describe, it, expect } from 'vitest';
import { deriveFindings, RULES } from './rules/index.js';
import { MiB } from '../shared/units.js';
import { WINRE_UPDATE_FREE } from '../windows/winre.js';
import type { TargetScan, DiskInfo } from '../model/scan.js';
import type { UpdateEvent } from '../model/attempts.js';
import { correlate } from './attempts.js';

function base(over: Partial<TargetScan> = {}): TargetScan {
  return {
    root: '/mnt/c',
    windowsDir: '/mnt/c/Windows',
    system: { currentBuild: 19045 },
    services: [],
    controlSets: ['ControlSet001'],
    wintrust: [],
    servicing: { rebootPending: false, packagesPending: [], sessionsPending: [], rebootRequired: false, componentsPending: [], pendingFileRenames: 0 },
    policy: {},
    certificates: [],
    winre: {},
    bitlocker: [],
    caches: { bitsQueue: [] },
    attempts: [],
    logs: [],
    problems: [],
    ...over,
  };
}

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
  it('winre-too-small fires below 250 MB free, not at it', () => {
    expect(ids(base({ disk: disk(61 * 1024 * MiB, 117 * MiB, WINRE_UPDATE_FREE) }))).toEqual([]);
    expect(ids(base({ disk: disk(61 * 1024 * MiB, 117 * MiB, WINRE_UPDATE_FREE - 1) }))).toEqual(['winre-too-small']);
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
    });
    expect(deriveFindings(t).map((f) => f.id)).toEqual([
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
      'qualitycompat-missing',
    ]);
    expect(RULES.map((r) => r.id)).toEqual([
      'bitlocker-locked',
      'winre',
      'wintrust-state',
      'wu-service-disabled',
      'pending',
      'servicing-history',
      'wu-cache',
      'wsus',
      'policy',
    ]);
  });
});
