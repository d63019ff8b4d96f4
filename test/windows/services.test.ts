// SYSTEM hive: Select, the WU services and PendingFileRenameOperations, on the regipy SYSTEM hives
// (checked against libhivex) and on generated hives (written by the engine, read back by libhivex).
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import { BadInputError } from '../../src/shared/errors.js';
import { currentControlSet, readServices, defaultStart, pendingFileRenames, WU_SERVICES } from '../../src/windows/services.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { hivexDump, type DumpRow } from '../helpers/hive-tools.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));

const dword = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
const sz = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
const multi = (parts: string[]) => new Uint8Array(Buffer.from(parts.map((p) => p + '\0').join('') + '\0', 'utf16le'));

function row(rows: DumpRow[], p: string): DumpRow | undefined {
  return rows.find((r) => r.path.toLowerCase() === p.toLowerCase());
}
function hexDword(r: DumpRow | undefined, name: string): number | undefined {
  const v = r?.values.find((x) => x.name.toLowerCase() === name.toLowerCase());
  return v && v.type === 4 ? Buffer.from(v.data, 'hex').readUInt32LE(0) : undefined;
}
/** Pairs decoded independently from libhivex's raw REG_MULTI_SZ bytes. */
function hivexPairs(rows: DumpRow[], cs: string): { source: string; target: string }[] {
  const r = row(rows, `${cs}\\Control\\Session Manager`);
  const out: { source: string; target: string }[] = [];
  for (const name of ['PendingFileRenameOperations', 'PendingFileRenameOperations2']) {
    const v = r?.values.find((x) => x.name === name);
    if (!v) continue;
    const strings = Buffer.from(v.data, 'hex').toString('utf16le').split('\0');
    for (let i = 0; i + 1 < strings.length && strings[i] !== ''; i += 2) out.push({ source: strings[i]!, target: strings[i + 1]! });
  }
  return out;
}
const open = (f: string) => Hive.open(new Uint8Array(readFileSync(f)));

describe.skipIf(!!reason)('real SYSTEM hives (regipy)', () => {
  it('SYSTEM: Select as libhivex reads it; Current = Default -> one control set', () => {
    const file = hiveFixture('regipy/SYSTEM');
    const rows = hivexDump(file);
    const sel = row(rows, 'Select');
    const cs = currentControlSet(open(file));
    expect(cs).toMatchObject({
      current: hexDword(sel, 'Current'),
      default: hexDword(sel, 'Default'),
      failed: hexDword(sel, 'Failed'),
      lastKnownGood: hexDword(sel, 'LastKnownGood'),
      fromSelect: true,
      missing: [],
    });
    expect(cs).toMatchObject({ current: 1, default: 1, lastKnownGood: 2 });
    expect(cs.paths).toEqual(['ControlSet001']);
  });

  it('SYSTEM (Windows 7): services match libhivex; UsoSvc does not exist there', () => {
    const file = hiveFixture('regipy/SYSTEM');
    const rows = hivexDump(file);
    const svcs = readServices(open(file));
    expect(svcs.map((s) => s.name)).toEqual([...WU_SERVICES]);
    for (const s of svcs) {
      const r = row(rows, `ControlSet001\\Services\\${s.name}`);
      expect(s.exists).toBe(r !== undefined);
      if (!r) continue;
      expect(s.start).toBe(hexDword(r, 'Start'));
      expect(s.delayedAutostart).toBe(hexDword(r, 'DelayedAutoStart') === 1);
      const sec = row(rows, `ControlSet001\\Services\\${s.name}\\Security`);
      expect(s.hasSecurity).toBe(!!sec?.values.some((v) => v.name === 'Security'));
    }
    const by = Object.fromEntries(svcs.map((s) => [s.name, s]));
    expect(by.UsoSvc!.exists).toBe(false);
    // Win7 defaults (windows-update.md §3): wuauserv 2 + delayed; BITS stored as 3 + DelayedAutoStart here.
    expect(by.wuauserv).toMatchObject({ keyName: 'wuauserv', start: 2, delayedAutostart: true, hasSecurity: true, securityValid: true });
    expect(by.cryptsvc).toMatchObject({ keyName: 'CryptSvc', start: 2, hasSecurity: true });
    // CryptSvc\Security\Security in this hive is 5 bytes (00 00 0e 00 01): present but not an SD.
    expect(by.cryptsvc!.securityValid).toBe(false);
    expect(by.EventLog!.imagePath).toMatch(/svchost\.exe -k LocalServiceNetworkRestricted$/);
  });

  it('SYSTEM_B (Windows 10): UsoSvc exists', () => {
    const file = hiveFixture('regipy/SYSTEM_B');
    const rows = hivexDump(file);
    const [uso] = readServices(open(file), ['UsoSvc']);
    expect(uso!.exists).toBe(true);
    expect(uso!.start).toBe(hexDword(row(rows, 'ControlSet001\\Services\\UsoSvc'), 'Start'));
    expect(uso!.serviceDll).toMatch(/usocore\.dll$/i);
  });

  for (const dest of ['regipy/SYSTEM_2', 'regipy/SYSTEM_B']) {
    it(`${dest}: PendingFileRenameOperations pairs equal libhivex's raw data`, () => {
      const file = hiveFixture(dest);
      const ours = pendingFileRenames(open(file));
      const theirs = hivexPairs(hivexDump(file), 'ControlSet001');
      expect(theirs.length).toBeGreaterThan(0);
      expect(ours.map(({ source, target }) => ({ source, target }))).toEqual(theirs);
      // Both hives hold only delete-on-reboot entries (empty targets, Sysinternals PendMoves rule).
      expect(ours.every((p) => p.delete && p.target === '' && p.source.startsWith('\\??\\'))).toBe(true);
    });
  }
  it('SYSTEM_2: the NSIS plug-in and its folder are queued for deletion', () => {
    const ours = pendingFileRenames(open(hiveFixture('regipy/SYSTEM_2')));
    expect(ours.map((p) => p.source)).toEqual([
      '\\??\\C:\\Users\\master\\AppData\\Local\\Temp\\nsp9C0.tmp\\nsProcess.dll',
      '\\??\\C:\\Users\\master\\AppData\\Local\\Temp\\nsp9C0.tmp\\',
    ]);
  });
  it('SYSTEM: no pending renames', () => {
    expect(pendingFileRenames(open(hiveFixture('regipy/SYSTEM')))).toEqual([]);
  });
});

describe.skipIf(!!reason)('generated SYSTEM hives', () => {
  it('Current != Default: both sets, Current first; renames with a rename and a delete, ...2 too', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-services-'));
    try {
      const h = Hive.create({ rootName: 'SYSTEM' });
      const sel = h.ensureKey('Select');
      h.setValue(sel, 'Current', REG.DWORD, dword(2));
      h.setValue(sel, 'Default', REG.DWORD, dword(1));
      h.setValue(sel, 'LastKnownGood', REG.DWORD, dword(3));
      for (const cs of ['ControlSet001', 'ControlSet002']) {
        const wu = h.ensureKey(`${cs}\\Services\\wuauserv`);
        h.setValue(wu, 'Start', REG.DWORD, dword(cs === 'ControlSet002' ? 4 : 3));
        h.setValue(wu, 'ImagePath', REG.EXPAND_SZ, sz('%systemroot%\\system32\\svchost.exe -k netsvcs -p'));
      }
      const sm = h.ensureKey('ControlSet002\\Control\\Session Manager');
      h.setValue(sm, 'PendingFileRenameOperations', REG.MULTI_SZ, multi(['\\??\\C:\\a.new', '!\\??\\C:\\a.dll', '\\??\\C:\\b.tmp', '']));
      h.setValue(sm, 'PendingFileRenameOperations2', REG.MULTI_SZ, multi(['\\??\\C:\\c.tmp', '']));
      const f = path.join(dir, 'SYSTEM');
      await writeNewHiveFile(f, h);
      const rows = hivexDump(f);
      expect(hexDword(row(rows, 'Select'), 'Current')).toBe(2);
      expect(hexDword(row(rows, 'ControlSet002\\Services\\wuauserv'), 'Start')).toBe(4);
      expect(hivexPairs(rows, 'ControlSet002')).toHaveLength(3);

      const back = open(f);
      const cs = currentControlSet(back);
      expect(cs).toMatchObject({ current: 2, default: 1, lastKnownGood: 3, paths: ['ControlSet002', 'ControlSet001'], missing: [] });
      expect(readServices(back, ['wuauserv'])[0]).toMatchObject({ controlSet: 'ControlSet002', start: 4, hasSecurity: false });
      expect(readServices(back, ['WUAUSERV'], 'ControlSet001')[0]).toMatchObject({ keyName: 'wuauserv', start: 3 });
      const pr = pendingFileRenames(back);
      expect(pr.map((p) => ({ ...p }))).toEqual([
        { source: '\\??\\C:\\a.new', target: '!\\??\\C:\\a.dll', delete: false, value: 'PendingFileRenameOperations', controlSet: 'ControlSet002' },
        { source: '\\??\\C:\\b.tmp', target: '', delete: true, value: 'PendingFileRenameOperations', controlSet: 'ControlSet002' },
        { source: '\\??\\C:\\c.tmp', target: '', delete: true, value: 'PendingFileRenameOperations2', controlSet: 'ControlSet002' },
      ]);
      expect(pr).toHaveLength(hivexPairs(rows, 'ControlSet002').length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Select pointing at a missing set is reported; no Select falls back to the lowest set', () => {
    const h = Hive.create();
    h.setValue(h.ensureKey('Select'), 'Current', REG.DWORD, dword(3));
    h.ensureKey('ControlSet001\\Services');
    expect(currentControlSet(h)).toMatchObject({ current: 3, default: 3, paths: [], missing: ['ControlSet003'] });
    const g = Hive.create();
    g.ensureKey('ControlSet002\\Services');
    g.ensureKey('ControlSet001\\Services');
    expect(currentControlSet(g)).toMatchObject({ current: 1, paths: ['ControlSet001'], fromSelect: false });
    expect(() => currentControlSet(Hive.create())).toThrow(BadInputError);
  });
});

describe('defaultStart (windows-update.md §3)', () => {
  const w10 = { currentBuild: 19045 };
  const w7 = { currentBuild: 7601 };
  it('Windows 10 / Server 2016+', () => {
    expect(defaultStart('wuauserv', w10)).toMatchObject({ start: 3, delayedAutostart: false });
    expect(defaultStart('BITS', w10)).toMatchObject({ start: 3 });
    expect(defaultStart('CryptSvc', w10)).toMatchObject({ start: 2 });
    expect(defaultStart('TrustedInstaller', { currentBuild: 20348 })).toMatchObject({ start: 3 });
    expect(defaultStart('msiserver', w10)).toMatchObject({ start: 3 });
    expect(defaultStart('UsoSvc', w10)).toBeUndefined();
  });
  it('Windows 7: wuauserv and BITS delayed auto', () => {
    expect(defaultStart('wuauserv', w7)).toMatchObject({ start: 2, delayedAutostart: true });
    expect(defaultStart('bits', w7)).toMatchObject({ start: 2, delayedAutostart: true });
    expect(defaultStart('cryptsvc', w7)).toMatchObject({ start: 2, delayedAutostart: false });
    expect(defaultStart('trustedinstaller', w7)).toMatchObject({ start: 3 });
    expect(defaultStart('UsoSvc', w7)).toBeUndefined();
  });
  it('Windows 8.x is not in the table', () => {
    expect(defaultStart('wuauserv', { currentBuild: 9600 })).toBeUndefined();
  });
});
