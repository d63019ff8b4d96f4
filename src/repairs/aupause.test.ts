// Pure planner test: au-pause / au-resume from an in-memory volume holding a SOFTWARE hive made by
// the hive engine (with and without the NoAutoUpdate policy); no file system.
import { describe, expect, it } from 'vitest';
import { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { memoryVolume } from '../engine/volume.js';
import type { ScanResult } from '../model/scan.js';
import { AU_POLICY_KEY } from '../windows/policy.js';
import { auPause, auResume } from './aupause.js';
import { dwordHex } from './wintrust.js';

const SOFTWARE_REL = 'Windows\\System32\\config\\SOFTWARE';

function software(noAutoUpdate?: number): Uint8Array {
  const h = Hive.create({ rootName: 'ROOT' });
  const nk = h.ensureKey(AU_POLICY_KEY);
  if (noAutoUpdate !== undefined) h.setValue(nk, 'NoAutoUpdate', REG.DWORD, new Uint8Array(Buffer.from(dwordHex(noAutoUpdate), 'hex')));
  return h.serialize();
}

const scanOf = (noAutoUpdate?: number): ScanResult =>
  ({ policy: { noAutoUpdate }, findings: [{ id: 'reboot-loop', severity: 'error', subject: 'KB5034441' }] }) as unknown as ScanResult;
const ctx = (bytes: Uint8Array | undefined, noAutoUpdate?: number) => ({
  root: '/nowhere',
  scan: scanOf(noAutoUpdate),
  options: { runId: 'r' },
  volume: memoryVolume(bytes ? { [SOFTWARE_REL]: bytes } : {}),
});

describe('au-pause / au-resume plan through the volume port', () => {
  it('au-pause sets NoAutoUpdate=1 where it is absent, naming the loop', async () => {
    const steps = await auPause.plan(ctx(software()));
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({
      repair: 'au-pause',
      reason: 'reboot-loop (KB5034441)',
      change: { kind: 'reg-set', hive: SOFTWARE_REL, key: AU_POLICY_KEY, name: 'NoAutoUpdate', value: { type: REG.DWORD, data: dwordHex(1) }, old: null },
    });
  });

  it('au-pause keeps the old value when one is stored (0), and plans nothing when already paused or no hive', async () => {
    const steps = await auPause.plan(ctx(software(0)));
    expect(steps[0]?.change).toMatchObject({ old: { type: REG.DWORD, data: dwordHex(0) } });
    expect(await auPause.plan(ctx(software(1), 1))).toEqual([]);
    expect(await auPause.plan(ctx(undefined))).toEqual([]);
  });

  it('au-resume deletes the stored value, and plans nothing without one', async () => {
    const steps = await auResume.plan(ctx(software(1), 1));
    expect(steps.map((s) => s.change)).toEqual([
      { kind: 'reg-delete-value', hive: SOFTWARE_REL, key: AU_POLICY_KEY, name: 'NoAutoUpdate', old: { type: REG.DWORD, data: dwordHex(1) } },
    ]);
    expect(await auResume.plan(ctx(software()))).toEqual([]);
  });
});
