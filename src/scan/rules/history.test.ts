// The attempt-grounded findings: component store, feature-update rollback, disk space, and the
// pending queue that must not be reverted when it is finished work waiting for a boot.
import { describe, expect, it } from 'vitest';
import type { UpdateEvent } from '../../model/attempts.js';
import type { TargetScan } from '../../model/scan.js';
import { GiB } from '../../shared/units.js';
import { correlate } from '../attempts.js';
import { deriveFindings } from './index.js';

function scan(events: UpdateEvent[], over: Partial<TargetScan> = {}): TargetScan {
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
    attempts: correlate(events),
    logs: [],
    problems: [],
    ...over,
  };
}
const ev = (o: Partial<UpdateEvent> & Pick<UpdateEvent, 'kind' | 'result' | 'time'>): UpdateEvent => ({
  source: 'CBS.log',
  file: 'CBS.log',
  timeIsLocal: false,
  message: 'm',
  ...o,
});
const at = (s: string) => new Date(`${s}Z`);
const pendingState = { rebootPending: true, packagesPending: [], sessionsPending: [], rebootRequired: false, componentsPending: [], pendingFileRenames: 0 };
const find = (t: TargetScan, id: string) => deriveFindings(t).filter((f) => f.id === id);

describe('pending work and the boot that finishes it', () => {
  it('an SFC repair waiting for a reboot (0x80070bc9) plus RebootPending: no revert, boot once', () => {
    const sfc = ev({
      kind: 'component-repair',
      client: 'SFC',
      result: 'reboot-pending',
      code: '0x80070bc9',
      rebootRequired: true,
      time: at('2024-01-02T10:00:00'),
    });
    const t = scan([ev({ kind: 'install', kb: 'KB1', result: 'succeeded', time: at('2024-01-01T10:00:00') }), sfc], { servicing: pendingState });
    const [p, ...rest] = find(t, 'pending-servicing');
    expect(rest).toEqual([]);
    expect(p!.repair).toBeUndefined();
    expect(p!.severity).toBe('warning');
    expect(p!.explanation).toMatch(/boot once to finish/);
    expect(p!.explanation).toMatch(/component-store repair/);
  });

  it('the same queue after failing rollbacks is offered for revert', () => {
    const fails = ['01', '02', '03'].map((d) => ev({ kind: 'install', kb: 'KB2', result: 'failed', code: '0x80073aa2', time: at(`2024-01-${d}T10:00:00`) }));
    const t = scan(fails, { servicing: pendingState });
    expect(find(t, 'pending-servicing')[0]!.repair).toBe('pending');
    expect(find(t, 'reboot-loop')[0]!.subject).toBe('KB2');
  });

  it('log codes alone (no queued state) never make pending-servicing', () => {
    expect(
      find(scan([ev({ kind: 'component-repair', result: 'reboot-pending', code: '0x80070bc9', time: at('2024-01-02T10:00:00') })]), 'pending-servicing'),
    ).toEqual([]);
  });
});

describe('component-store-corrupt', () => {
  const broken = ev({
    kind: 'component-repair',
    client: 'SFC',
    result: 'failed',
    unrepaired: ['xpsservices.dll'],
    corruptionFound: true,
    time: at('2024-01-01T10:00:00'),
  });
  it('an SFC run that left files unrepaired, with the files named', () => {
    const [f] = find(scan([broken]), 'component-store-corrupt');
    expect(f!.severity).toBe('error');
    expect(f!.explanation).toContain('xpsservices.dll');
    expect(f!.explanation).toContain('RestoreHealth');
  });
  it('gone once a later repair succeeded; a feature missing its source is not store damage', () => {
    const fixed = ev({ source: 'DISM.log', kind: 'component-repair', client: 'DISM', result: 'succeeded', time: at('2024-01-03T10:00:00') });
    expect(find(scan([broken, fixed]), 'component-store-corrupt')).toEqual([]);
    const netfx = ev({ source: 'DISM.log', kind: 'feature', result: 'failed', code: '0x800f081f', time: at('2024-01-03T10:00:00') });
    expect(find(scan([netfx]), 'component-store-corrupt')).toEqual([]);
  });
  it('installs failing with store codes count', () => {
    const t = scan([ev({ source: 'Setup.evtx', kind: 'install', kb: 'KB5', result: 'failed', code: '0x800f0984', time: at('2024-01-01T10:00:00') })]);
    expect(find(t, 'component-store-corrupt')[0]!.errorCodes).toEqual(['0x800f0984']);
  });
});

describe('feature-update-rollback', () => {
  const rolled = ev({
    source: 'setupact.log',
    kind: 'feature-update',
    result: 'failed',
    code: '0xc1900101',
    extendedCode: '0x30018',
    phase: 'FirstBoot',
    time: at('2021-05-12T04:00:00'),
  });
  it('a rollback is an error with its phase and extended code', () => {
    const [f] = find(scan([rolled]), 'feature-update-rollback');
    expect(f!.severity).toBe('error');
    expect(f!.explanation).toMatch(/phase FirstBoot with 0xc1900101 - 0x30018/);
  });
  it('rolled back only past the first restart: a downlevel failure changed nothing', () => {
    expect(find(scan([rolled]), 'feature-update-rollback')[0]!.explanation).toMatch(/and rolled back/);
    const downlevel = ev({
      source: 'setupact.log',
      kind: 'feature-update',
      result: 'failed',
      code: '0x80070032',
      extendedCode: '0x50013',
      time: at('2021-05-12T04:00:00'),
    });
    expect(find(scan([downlevel]), 'feature-update-rollback')[0]!.explanation).not.toMatch(/rolled back/);
    const phase1 = { ...downlevel, extendedCode: '0x1000d' };
    expect(find(scan([phase1]), 'feature-update-rollback')[0]!.explanation).toMatch(/before restarting, so nothing was changed/);
  });
  it('a cancelled setup is no finding; a later successful one makes the rollback history (info)', () => {
    const cancelled = ev({ source: 'setupact.log', kind: 'feature-update', result: 'cancelled', code: '0x800704c7', time: at('2021-05-12T04:00:00') });
    expect(find(scan([cancelled]), 'feature-update-rollback')).toEqual([]);
    const ok = ev({ source: 'setupact.log', kind: 'feature-update', result: 'succeeded', time: at('2021-06-12T04:00:00') });
    expect(find(scan([rolled, ok]), 'feature-update-rollback')[0]!.severity).toBe('info');
  });
});

describe('low-disk-space', () => {
  const full = ev({ source: 'WindowsUpdate.log', kind: 'install', kb: 'KB9', result: 'failed', code: '0x80070070', time: at('2024-01-01T10:00:00') });
  it('a disk-full failure with the free space measured', () => {
    const [f] = find(scan([full], { osFreeBytes: 1 * GiB }), 'low-disk-space');
    expect(f!.severity).toBe('error');
    expect(f!.evidence[0]!.data).toMatch(/free on the Windows volume now/);
  });
  it('very little space without a failure is a warning; plenty of space and no failure is nothing', () => {
    expect(find(scan([], { osFreeBytes: GiB }), 'low-disk-space')[0]!.severity).toBe('warning');
    expect(find(scan([], { osFreeBytes: 50 * GiB }), 'low-disk-space')).toEqual([]);
    // WU_E_SERVICE_STOP is a space problem only when space is short.
    const stop = ev({ kind: 'install', kb: 'KB9', result: 'failed', code: '0x8024001e', time: at('2024-01-01T10:00:00') });
    expect(find(scan([stop], { osFreeBytes: 50 * GiB }), 'low-disk-space')).toEqual([]);
    expect(find(scan([stop], { osFreeBytes: 5 * GiB }), 'low-disk-space')).toHaveLength(1);
  });
});
