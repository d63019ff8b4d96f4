// Pure planner test: services plans from an in-memory volume holding a real SYSTEM hive
// (regipy/SYSTEM) in which wuauserv and bits were disabled with the hive engine; no file system.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { memoryVolume } from '../engine/volume.js';
import type { ScanResult } from '../model/scan.js';
import { services } from './services.js';
import { dwordHex } from './wintrust.js';

const FIXTURE = path.join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'hives', 'regipy', 'SYSTEM');
const SYSTEM_REL = 'Windows\\System32\\config\\SYSTEM';
const dword = (n: number) => new Uint8Array(Buffer.from(dwordHex(n), 'hex'));

/** regipy/SYSTEM with wuauserv and bits set to Disabled (Start=4) in ControlSet001. */
function disabledSystem(): { bytes: Uint8Array; before: Record<string, string> } {
  const h = Hive.open(new Uint8Array(readFileSync(FIXTURE)));
  const before: Record<string, string> = {};
  for (const svc of ['wuauserv', 'BITS']) {
    const nk = h.lookup(`ControlSet001\\Services\\${svc}`);
    if (nk === undefined) throw new Error(`regipy/SYSTEM has no ${svc}`);
    const vk = h.findValue(nk, 'Start');
    before[svc] = vk === undefined ? '' : Buffer.from(h.valueData(vk)).toString('hex');
    h.setValue(nk, 'Start', REG.DWORD, dword(4));
  }
  return { bytes: h.serialize(), before };
}

const scanOf = (build: number): ScanResult => ({ controlSets: ['ControlSet001'], system: { currentBuild: build }, findings: [] }) as unknown as ScanResult;

describe('services plans through the volume port', () => {
  it('re-enables the disabled services of a real SYSTEM hive, with the old value as stored', async () => {
    const { bytes, before } = disabledSystem();
    // Stored case differs from the planner's path: the plan names the hive as the volume stores it.
    const volume = memoryVolume({ 'WINDOWS\\system32\\Config\\SYSTEM': bytes });
    const steps = await services.plan({ root: '/nowhere', scan: scanOf(17763), options: { runId: 'r' }, volume });
    const starts = steps.filter((s) => s.change.kind === 'reg-set' && s.change.name === 'Start');
    expect(starts.map((s) => s.change.kind === 'reg-set' && s.change.key)).toEqual(['ControlSet001\\Services\\wuauserv', 'ControlSet001\\Services\\BITS']);
    for (const s of starts) {
      expect(s.change).toMatchObject({
        hive: 'WINDOWS\\system32\\Config\\SYSTEM',
        value: { type: REG.DWORD, data: dwordHex(3) },
        old: { type: REG.DWORD, data: dwordHex(4) },
      });
    }
    // The fixture's own values were not Disabled: the plan comes from the edit, not from the fixture.
    expect(Object.values(before)).not.toContain(dwordHex(4));
  });

  it('plans nothing when the volume has no SYSTEM hive, or the scan no control set', async () => {
    const { bytes } = disabledSystem();
    expect(await services.plan({ root: '/nowhere', scan: scanOf(17763), options: { runId: 'r' }, volume: memoryVolume({}) })).toEqual([]);
    const none = { ...scanOf(17763), controlSets: [] } as ScanResult;
    expect(await services.plan({ root: '/nowhere', scan: none, options: { runId: 'r' }, volume: memoryVolume({ [SYSTEM_REL]: bytes }) })).toEqual([]);
  });

  it('does not look through a link on the way to the hive', async () => {
    const { bytes } = disabledSystem();
    const volume = memoryVolume({ 'Windows\\System32\\config': 'link', 'Windows\\System32\\config2\\SYSTEM': bytes });
    expect(await services.plan({ root: '/nowhere', scan: scanOf(17763), options: { runId: 'r' }, volume })).toEqual([]);
  });
});
