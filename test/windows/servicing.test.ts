// Pending servicing state (windows-update.md §4) on generated SOFTWARE / COMPONENTS hives, written
// by the engine and checked with libhivex before we read them back.
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import {
  CBS_KEY,
  WU_AU_KEY,
  readServicingMarkers,
  readSessionsPending,
  readCbsPackages,
  summarizeCbsPackages,
  componentsPending,
  cbsStateName,
  kbOf,
} from '../../src/windows/servicing.js';
import { toolsReason, skipReason } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';

const dword = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
const reason = skipReason(toolsReason('python3-hivex'));

async function roundTrip(h: Hive, name: string): Promise<{ hive: Hive; rows: ReturnType<typeof hivexDump> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-servicing-'));
  try {
    const f = path.join(dir, name);
    await writeNewHiveFile(f, h);
    return { hive: Hive.open(new Uint8Array(readFileSync(f))), rows: hivexDump(f) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('servicing markers', () => {
  it('a healthy system: the empty SessionsPending key exists but nothing is pending', () => {
    const h = Hive.create({ rootName: 'SOFTWARE' });
    h.ensureKey(`${CBS_KEY}\\SessionsPending`);
    h.ensureKey(`${CBS_KEY}\\PackagesPending`);
    h.ensureKey(`${CBS_KEY}\\Packages`);
    const m = readServicingMarkers(h);
    expect(m.sessionsPending).toEqual({ exists: true, exclusive: undefined, totalSessionPhases: undefined, incompleteSessions: [], pending: false });
    expect(m.packagesPending).toEqual([]);
    expect(m.anyPending).toBe(false);
  });

  it.skipIf(!!reason)('a stuck post-reboot transaction: every marker as libhivex reads it', async () => {
    const h = Hive.create({ rootName: 'SOFTWARE' });
    h.ensureKey(`${CBS_KEY}\\RebootPending`);
    h.setValue(h.ensureKey(`${CBS_KEY}\\PackagesPending`), 'Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3803.1.8', REG.DWORD, dword(1));
    const sp = h.ensureKey(`${CBS_KEY}\\SessionsPending`);
    h.setValue(sp, 'Exclusive', REG.DWORD, dword(3));
    h.setValue(sp, 'TotalSessionPhases', REG.DWORD, dword(1));
    h.setValue(h.ensureKey(`${CBS_KEY}\\SessionsPending\\31079215_2468137059`), 'Complete', REG.DWORD, dword(1));
    h.ensureKey(`${CBS_KEY}\\SessionsPending\\31079216_1234`);
    const rr = h.ensureKey(`${WU_AU_KEY}\\RebootRequired`);
    h.setValue(rr, '9f3c2ad0-1c4e-4a1c-9d7f-5a0b6f2c1d11', REG.DWORD, dword(1));
    h.ensureKey(`${WU_AU_KEY}\\PostRebootReporting`);
    const { hive, rows } = await roundTrip(h, 'SOFTWARE');
    expect(rows.some((r) => r.path === `${CBS_KEY}\\RebootPending`)).toBe(true);
    expect(rows.find((r) => r.path === `${CBS_KEY}\\SessionsPending`)!.values.map((v) => [v.name, v.data])).toEqual([
      ['Exclusive', '03000000'],
      ['TotalSessionPhases', '01000000'],
    ]);
    const m = readServicingMarkers(hive);
    expect(m).toMatchObject({
      rebootPending: true,
      rebootInProgress: false,
      packagesPending: ['Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3803.1.8'],
      wuRebootRequired: true,
      rebootRequiredUpdates: ['9f3c2ad0-1c4e-4a1c-9d7f-5a0b6f2c1d11'],
      wuPostRebootReporting: true,
      anyPending: true,
    });
    expect(m.sessionsPending).toEqual({ exists: true, exclusive: 3, totalSessionPhases: 1, incompleteSessions: ['31079216_1234'], pending: true });
  });

  it('each SessionsPending condition alone is pending', () => {
    for (const setup of [
      (h: Hive, k: number) => h.setValue(k, 'Exclusive', REG.DWORD, dword(1)),
      (h: Hive, k: number) => h.setValue(k, 'TotalSessionPhases', REG.DWORD, dword(2)),
      (h: Hive) => h.ensureKey(`${CBS_KEY}\\SessionsPending\\s1`),
    ]) {
      const h = Hive.create();
      setup(h, h.ensureKey(`${CBS_KEY}\\SessionsPending`));
      expect(readSessionsPending(h).pending).toBe(true);
    }
    const h = Hive.create();
    h.setValue(h.ensureKey(`${CBS_KEY}\\SessionsPending`), 'Exclusive', REG.DWORD, dword(0));
    expect(readSessionsPending(h).pending).toBe(false);
    expect(readSessionsPending(Hive.create())).toEqual({ exists: false, incompleteSessions: [], pending: false });
  });
});

describe('CBS packages', () => {
  it('state names from the CBS Servicing States Chart', () => {
    expect([0x0, 0x5, 0x20, 0x40, 0x50, 0x60, 0x65, 0x70, 0x80].map(cbsStateName)).toEqual([
      'Absent',
      'Uninstall Pending',
      'Resolved',
      'Staged',
      'Superseded',
      'Install Pending',
      'Partially Installed',
      'Installed',
      'Permanent',
    ]);
    expect(cbsStateName(0xffffffe0)).toBe('Unknown (0xffffffe0)');
  });
  it('kbOf', () => {
    expect(kbOf('Package_for_KB4056894~31bf3856ad364e35~amd64~~6.1.1.3')).toBe('KB4056894');
    expect(kbOf('Package_1_for_KB2656368~31bf3856ad364e35~amd64~~6.1.1.0')).toBe('KB2656368');
    expect(kbOf('Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3803.1.8')).toBeUndefined();
  });
  it.skipIf(!!reason)('counts per state and the pending packages with their KB', async () => {
    const h = Hive.create({ rootName: 'SOFTWARE' });
    const pkgs: [string, number | undefined][] = [
      ['Package_for_KB4056894~31bf3856ad364e35~amd64~~6.1.1.3', 0x60],
      ['Package_for_KB4093118~31bf3856ad364e35~amd64~~6.1.1.2', 0x70],
      ['Package_for_KB3125574~31bf3856ad364e35~amd64~~6.1.4.4', 0x70],
      ['Package_for_KB2656368~31bf3856ad364e35~amd64~~6.1.1.0', 0x5],
      ['Microsoft-Windows-Foundation-Package~31bf3856ad364e35~amd64~~6.1.7601.17514', 0x80],
      ['Package_for_KB976902~31bf3856ad364e35~amd64~~6.1.1.17514', 0x50],
      ['Package_weird', undefined],
    ];
    for (const [name, st] of pkgs) {
      const k = h.ensureKey(`${CBS_KEY}\\Packages\\${name}`);
      if (st !== undefined) h.setValue(k, 'CurrentState', REG.DWORD, dword(st));
    }
    h.setValue(h.ensureKey(`${CBS_KEY}\\Packages\\${pkgs[0]![0]}`), 'LastError', REG.DWORD, dword(0x80073aa2));
    const { hive, rows } = await roundTrip(h, 'SOFTWARE');
    const theirStates = rows
      .filter((r) => r.path.startsWith(`${CBS_KEY}\\Packages\\`))
      .map((r) => r.values.find((v) => v.name === 'CurrentState'))
      .map((v) => (v ? Buffer.from(v.data, 'hex').readUInt32LE(0) : undefined));
    expect(readCbsPackages(hive).map((p) => p.state)).toEqual(theirStates);
    const s = summarizeCbsPackages(hive);
    expect(s.total).toBe(7);
    expect(s.counts).toEqual({ 'Install Pending': 1, Installed: 2, 'Uninstall Pending': 1, Permanent: 1, Superseded: 1, 'No CurrentState': 1 });
    expect(s.pending.map((p) => [p.kb, p.stateName, p.lastError])).toEqual([
      ['KB2656368', 'Uninstall Pending', undefined],
      ['KB4056894', 'Install Pending', 0x80073aa2],
    ]);
  });
});

describe('COMPONENTS hive', () => {
  it('nothing queued', () => {
    expect(componentsPending(Hive.create({ rootName: 'COMPONENTS' }))).toEqual({ values: {}, pending: false });
  });
  it.skipIf(!!reason)('PendingXmlIdentifier, NextQueueEntryIndex, AdvancedInstallersNeedResolving at the root', async () => {
    const h = Hive.create({ rootName: 'COMPONENTS' });
    const id = new Uint8Array(Buffer.from('1d9f2a6b3c4e5f60.0000000000000001', 'utf16le'));
    h.setValue(h.rootCell, 'PendingXmlIdentifier', REG.BINARY, id);
    h.setValue(h.rootCell, 'NextQueueEntryIndex', REG.BINARY, dword(7));
    h.setValue(h.rootCell, 'AdvancedInstallersNeedResolving', REG.BINARY, dword(1));
    const { hive, rows } = await roundTrip(h, 'COMPONENTS');
    const root = rows.find((r) => r.path === '')!;
    expect(root.values.map((v) => v.name)).toEqual(['PendingXmlIdentifier', 'NextQueueEntryIndex', 'AdvancedInstallersNeedResolving']);
    const c = componentsPending(hive);
    expect(c.pending).toBe(true);
    expect(c.values.PendingXmlIdentifier).toMatchObject({ type: REG.BINARY, hex: root.values[0]!.data, text: '1d9f2a6b3c4e5f60.0000000000000001' });
    expect(c.values.NextQueueEntryIndex).toMatchObject({ number: 7, hex: '07000000' });
    expect(c.values.AdvancedInstallersNeedResolving).toMatchObject({ number: 1 });
  });
  it('ExecutionState / StoreDirty: 0 or empty is a settled store (Azure win-fix-pending-servicing), anything else counts', () => {
    const h = Hive.create({ rootName: 'COMPONENTS' });
    h.setValue(h.rootCell, 'ExecutionState', REG.DWORD, dword(0));
    h.setValue(h.rootCell, 'StoreDirty', REG.DWORD, dword(0));
    h.setValue(h.rootCell, 'NextQueueEntryIndexBCDB', REG.SZ, new Uint8Array(Buffer.from(' \0', 'utf16le')));
    expect(componentsPending(h)).toEqual({ values: {}, pending: false });
    h.setValue(h.rootCell, 'ExecutionState', REG.DWORD, dword(3));
    h.setValue(h.rootCell, 'StoreDirty', REG.BINARY, new Uint8Array([0]));
    const c = componentsPending(h);
    expect(Object.keys(c.values)).toEqual(['ExecutionState', 'StoreDirty']);
    expect(c.values.ExecutionState).toMatchObject({ number: 3 });
    expect(c.pending).toBe(true);
  });
});
