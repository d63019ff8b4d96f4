// BCD stores: the real stores of ../shared (pybcd BCDrecovery / BCDvm, regipy/BCD, the Windows 7
// setup store), every element checked against libhivex's raw bytes, devices checked against byte
// offsets read independently here (Buffer reads, not our decoder) and against winre.md §9 facts.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { FormatError } from '../../src/shared/errors.js';
import {
  parseBcdStore,
  describeWinre,
  decodeDevice,
  formatDevice,
  elementName,
  objectTypeName,
  findObject,
  elementValue,
  type BcdStore,
  type BcdDevice,
} from '../../src/formats/bcd.js';
import { sharedReason, toolsReason, skipReason, fixture, hiveFixture } from '../helpers/env.js';
import { hivexDump, type DumpRow } from '../helpers/hive-tools.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));

const STORES: [string, () => string][] = [
  ['bcd/BCDrecovery', () => fixture('bcd', 'BCDrecovery')],
  ['bcd/BCDvm', () => fixture('bcd', 'BCDvm')],
  ['hives/regipy/BCD', () => hiveFixture('regipy/BCD')],
  ['hives/DFIRArtifactMuseum/Win7/BCD', () => hiveFixture('DFIRArtifactMuseum/Win7/BCD')],
];

const load = (f: string) => parseBcdStore(Hive.open(new Uint8Array(readFileSync(f))));

/** GUID text from 16 bytes, read independently (RFC 4122 mixed-endian layout). */
function guidAt(b: Buffer, off: number): string {
  const h = b.subarray(off, off + 16).toString('hex');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}
function rawElement(rows: DumpRow[], obj: string, el: string): Buffer {
  const r = rows.find((x) => x.path.toLowerCase() === `objects\\${obj}\\elements\\${el}`.toLowerCase());
  const v = r?.values.find((x) => x.name === 'Element');
  if (!v) throw new Error(`no element ${obj}\\${el} in the libhivex dump`);
  return Buffer.from(v.data, 'hex');
}
const part = (d: BcdDevice | undefined) => d as Extract<BcdDevice, { kind: 'partition' }>;

describe.skipIf(!!reason)('BCD stores vs libhivex', () => {
  for (const [name, file] of reason ? [] : STORES) {
    it(`${name}: every object and element, raw bytes and registry type as libhivex reads them`, () => {
      const f = file();
      const rows = hivexDump(f);
      const store = load(f);
      const theirs = rows
        .filter((r) => /^Objects\\[^\\]+\\Elements\\[^\\]+$/i.test(r.path))
        .map((r) => {
          const [, obj, , el] = r.path.split('\\');
          const v = r.values.find((x) => x.name === 'Element')!;
          return `${obj!.toLowerCase()}/${el!.toLowerCase()}/${v.type}/${v.data}`;
        })
        .sort();
      const ours = store.objects.flatMap((o) => o.elements.map((e) => `${o.id}/${e.hex}/${e.regType}/${Buffer.from(e.raw).toString('hex')}`)).sort();
      expect(ours).toEqual(theirs);
      const types = rows.filter((r) => /^Objects\\[^\\]+\\Description$/i.test(r.path));
      for (const t of types) {
        const id = t.path.split('\\')[1]!.toLowerCase();
        const v = t.values.find((x) => x.name === 'Type')!;
        expect(findObject(store, id)!.type).toBe(Buffer.from(v.data, 'hex').readUInt32LE(0));
      }
      // Every element decodes (no raw fallbacks) in these real stores.
      expect(store.objects.flatMap((o) => o.elements.filter((e) => e.error).map((e) => `${o.id}/${e.hex}: ${e.error}`))).toEqual([]);
    });
  }

  it('regipy/BCD (Win10 UEFI): the full WinRE chain of winre.md §9', () => {
    const f = hiveFixture('regipy/BCD');
    const rows = hivexDump(f);
    const store = load(f);
    expect(store.keyName).toBe('BCD00000000');
    const w = describeWinre(store);
    const LOADER = '{733b62e5-f608-11eb-825c-c112f60133ab}';
    const RESUME = '{733b62e4-f608-11eb-825c-c112f60133ab}';
    const WINRE = '{733b62e6-f608-11eb-825c-c112f60133ab}';
    const OPTIONS = '{733b62e7-f608-11eb-825c-c112f60133ab}'; // loader GUID + 1, as the doc notes
    expect(w.problems).toEqual([]);
    expect(w.defaultLoader).toBe(LOADER);
    expect(w.osLoaders).toEqual([
      expect.objectContaining({ id: LOADER, description: 'Windows 10', recoverySequence: [WINRE], recoveryEnabled: true, isDefault: true }),
    ]);
    expect(w.resumeRecoverySequence).toEqual([WINRE]);
    expect(elementValue(findObject(store, RESUME), 0x16000009)).toBe(true);
    expect(w.winreLoader).toMatchObject({
      id: WINRE,
      exists: true,
      description: 'Windows Recovery Environment',
      path: '\\windows\\system32\\winload.efi',
      winpe: true,
      ramdisk: { path: '\\Recovery\\WindowsRE\\Winre.wim', optionsId: OPTIONS },
    });
    // The 200-byte ramdisk and the 88-byte partition device, offsets per winre.md §9 tables.
    const rd = rawElement(rows, WINRE, '21000001');
    expect(rd.length).toBe(200);
    expect(guidAt(rd, 0)).toBe(OPTIONS.slice(1, -1));
    expect(rd.readUInt32LE(0x18)).toBe(rd.length - 0x10);
    expect(rd.readUInt32LE(0x20)).toBe(3);
    expect(rd.readUInt32LE(0x3c)).toBe(rd.length - 0x38);
    expect(rd.readUInt32LE(0x44)).toBe(6);
    expect(rd.subarray(0x8c, rd.length - 2).toString('utf16le')).toBe(w.winreLoader!.ramdisk!.path);
    const dev = part(w.winreLoader!.ramdisk!.device);
    expect(dev).toEqual({ kind: 'partition', table: 'gpt', partitionGuid: guidAt(rd, 0x54), diskGuid: guidAt(rd, 0x6c) });
    const sdi = rawElement(rows, OPTIONS, '31000003');
    expect(sdi.length).toBe(88);
    expect(sdi.readUInt32LE(0x10)).toBe(6);
    expect(sdi.readUInt32LE(0x34)).toBe(0);
    expect(w.ramdiskOptions).toEqual({
      id: OPTIONS,
      exists: true,
      description: 'Windows Recovery',
      sdiDevice: { kind: 'partition', table: 'gpt', partitionGuid: guidAt(sdi, 0x20), diskGuid: guidAt(sdi, 0x38) },
      sdiPath: '\\Recovery\\WindowsRE\\boot.sdi',
    });
    // WinRE partition != OS partition, same disk.
    const os = part(w.osLoaders[0]!.osDevice);
    expect(os.diskGuid).toBe(dev.diskGuid);
    expect(os.partitionGuid).not.toBe(dev.partitionGuid);
    // The other WinRE loader elements listed in §9.
    const re = findObject(store, WINRE)!;
    const val = (hex: number) => elementValue(re, hex);
    expect(val(0x14000006)).toEqual(['{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}']);
    expect(val(0x22000002)).toBe('\\windows');
    expect(val(0x15000065)).toBe(3);
    expect(val(0x25000020)).toBe(0);
    expect(val(0x250000c2)).toBe(1);
    expect(val(0x46000010)).toBe(true); // format nibble 6 = boolean, stored as 01
    expect(re.elements.find((e) => e.id === 0x46000010)!.name).toBe('custom:46000010');
    expect(formatDevice(val(0x11000001) as BcdDevice)).toBe(
      `ramdisk=[partition={disk {${dev.diskGuid}}, partition {${dev.partitionGuid}}}]\\Recovery\\WindowsRE\\Winre.wim,${OPTIONS}`,
    );
  });

  it('BCDrecovery (Windows 8.1 UEFI): WinRE loader, options and recoverysequence', () => {
    const f = fixture('bcd', 'BCDrecovery');
    const rows = hivexDump(f);
    const w = describeWinre(load(f));
    expect(w.problems).toEqual([]);
    expect(w.osLoaders.map((l) => [l.id, l.description, l.recoverySequence, l.recoveryEnabled, l.isDefault])).toEqual([
      ['{17d1a947-6ebc-11e3-92e2-9e90a5a36f6e}', 'Windows 8.1', ['{17d1a948-6ebc-11e3-92e2-9e90a5a36f6e}'], true, true],
    ]);
    expect(w.winreLoader).toMatchObject({
      id: '{17d1a948-6ebc-11e3-92e2-9e90a5a36f6e}',
      ramdisk: { path: '\\Recovery\\WindowsRE\\Winre.wim', optionsId: '{17d1a949-6ebc-11e3-92e2-9e90a5a36f6e}' },
    });
    const rd = rawElement(rows, '{17d1a948-6ebc-11e3-92e2-9e90a5a36f6e}', '11000001');
    expect(part(w.winreLoader!.ramdisk!.device).partitionGuid).toBe(guidAt(rd, 0x54));
    expect(w.ramdiskOptions).toMatchObject({ description: 'Windows Recovery', sdiPath: '\\Recovery\\WindowsRE\\boot.sdi' });
    expect(formatDevice(w.ramdiskOptions!.sdiDevice!)).toBe(formatDevice(w.winreLoader!.ramdisk!.device));
  });

  it('BCDvm (BIOS/MBR): partition offset + disk signature; WinRE at \\Recovery\\{GUID}\\Winre.wim (winre.md §10)', () => {
    const f = fixture('bcd', 'BCDvm');
    const rows = hivexDump(f);
    const store = load(f);
    const w = describeWinre(store);
    expect(w.problems).toEqual([]);
    const win7 = w.osLoaders.find((l) => l.description === 'Windows 7')!;
    const raw = rawElement(rows, win7.id, '21000001');
    expect(raw.readUInt32LE(0x34)).toBe(1); // MBR
    expect(part(win7.osDevice)).toEqual({
      kind: 'partition',
      table: 'mbr',
      partitionOffset: Number(raw.readBigUInt64LE(0x20)),
      diskSignature: raw.readUInt32LE(0x38),
    });
    expect(part(win7.osDevice)).toMatchObject({ partitionOffset: 1048576, diskSignature: 0x36234da4 });
    expect(formatDevice(win7.osDevice!)).toBe('partition={disk signature 0x36234da4, offset 1048576}');
    expect(win7.recoverySequence).toEqual([w.winreLoader!.id]);
    const guid = w.winreLoader!.id.slice(1, -1);
    expect(w.winreLoader!.ramdisk!.path).toBe(`\\Recovery\\${guid}\\Winre.wim`);
    expect(w.ramdiskOptions!.sdiPath).toBe(`\\Recovery\\${guid}\\boot.sdi`);
    expect(w.ramdiskOptions!.description).toBe('Ramdisk Options'); // text after the NUL is ignored
    // The WinPE entry boots a ramdisk with the well-known {ramdiskoptions}; bootmgr device is boot.
    const pe = w.osLoaders.find((l) => l.description === 'Windows PE')!;
    expect(pe).toMatchObject({ isDefault: true, winpe: true });
    expect(formatDevice(pe.osDevice!)).toBe('ramdisk=[partition={disk signature 0x36234da4, offset 1048576}]\\boot\\boot.wim,{ramdiskoptions}');
    expect(elementValue(findObject(store, '{bootmgr}'), 0x11000001)).toEqual({ kind: 'boot' });
    expect(elementValue(findObject(store, '{bootmgr}'), 0x24000001)).toEqual([
      '{572bcd55-ffa7-11d9-aae0-0007e994107d}',
      '{efd09c92-55fb-11e2-aa98-9d073f340da7}',
    ]);
  });

  it('Win7/BCD (setup media): "Windows Setup" = ramdisk [boot]\\sources\\boot.wim, no WinRE; short integers', () => {
    const f = hiveFixture('DFIRArtifactMuseum/Win7/BCD');
    const rows = hivexDump(f);
    const store = load(f);
    expect(store.keyName).toBe('BCD00000001');
    const w = describeWinre(store);
    expect(w.winreLoader).toBeUndefined();
    expect(w.osLoaders).toHaveLength(1);
    expect(w.osLoaders[0]).toMatchObject({ description: 'Windows Setup', isDefault: true, winpe: true });
    expect(formatDevice(w.osLoaders[0]!.osDevice!)).toBe('ramdisk=[boot]\\sources\\boot.wim,{7619dcc8-fafe-11d9-b411-000476eba25f}');
    // {dbgsettings} baudrate stored in 3 bytes (00 c2 01) = 115200.
    const dbg = findObject(store, '{dbgsettings}')!;
    expect(rawElement(rows, dbg.id, '15000014').length).toBe(3);
    expect(elementValue(dbg, 0x15000014)).toBe(115200);
    expect(dbg.elements.find((e) => e.id === 0x15000014)!.name).toBe('baudrate');
    expect(elementValue(findObject(store, '{bootmgr}'), 0x25000004)).toBe(30);
  });
});

describe('names', () => {
  it('element names by object type (winre.md §1/§9 ids)', () => {
    expect(elementName(0x14000008)).toBe('recoverysequence');
    expect(elementName(0x16000009)).toBe('recoveryenabled');
    expect(elementName(0x23000003, 0x10100002)).toBe('default');
    expect(elementName(0x23000003, 0x10200003)).toBe('resumeobject');
    expect(elementName(0x24000001, 0x10100002)).toBe('displayorder');
    expect(elementName(0x21000001, 0x10200003)).toBe('osdevice');
    expect(elementName(0x21000001, 0x10200004)).toBe('filedevice');
    expect(elementName(0x31000003, 0x30000000)).toBe('ramdisksdidevice');
    expect(elementName(0x32000004, 0x30000000)).toBe('ramdisksdipath');
    expect(elementName(0x26000022, 0x10200003)).toBe('winpe');
    expect(elementName(0x250000c2, 0x10200003)).toBe('bootmenupolicy');
  });
  it('object types', () => {
    expect(objectTypeName(0x10100002)).toBe('bootmgr');
    expect(objectTypeName(0x10200003)).toBe('osloader');
    expect(objectTypeName(0x10200004)).toBe('resume');
    expect(objectTypeName(0x30000000)).toBe('device');
    expect(objectTypeName(0x20200003)).toBe('inherit osloader');
    expect(objectTypeName(0x20100000)).toBe('inherit library');
    expect(objectTypeName(0x101fffff)).toBe('firmware');
  });
});

describe('generated stores and bad input', () => {
  const sz = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
  const multi = (p: string[]) => new Uint8Array(Buffer.from(p.map((x) => x + '\0').join('') + '\0', 'utf16le'));
  function store(build: (h: Hive) => void): BcdStore {
    const h = Hive.create({ rootName: 'NewStoreRoot' });
    build(h);
    return parseBcdStore(h);
  }
  const obj = (h: Hive, id: string, type: number) => {
    const d = h.ensureKey(`Objects\\${id}\\Description`);
    h.setValue(d, 'Type', REG.DWORD, new Uint8Array(new Uint32Array([type]).buffer));
  };
  const el = (h: Hive, id: string, hex: string, type: number, data: Uint8Array) =>
    h.setValue(h.ensureKey(`Objects\\${id}\\Elements\\${hex}`), 'Element', type, data);

  it('recoverysequence to a missing object is a problem, not a crash', () => {
    const s = store((h) => {
      obj(h, '{9dea862c-5cdd-4e70-acc1-f32b344d4795}', 0x10100002);
      el(h, '{9dea862c-5cdd-4e70-acc1-f32b344d4795}', '23000003', REG.SZ, sz('{aaaaaaaa-0000-0000-0000-000000000001}'));
      obj(h, '{aaaaaaaa-0000-0000-0000-000000000001}', 0x10200003);
      el(h, '{aaaaaaaa-0000-0000-0000-000000000001}', '14000008', REG.MULTI_SZ, multi(['{aaaaaaaa-0000-0000-0000-000000000002}']));
      el(h, '{aaaaaaaa-0000-0000-0000-000000000001}', '16000009', REG.BINARY, new Uint8Array([0]));
    });
    const w = describeWinre(s);
    expect(w.winreLoader).toEqual({ id: '{aaaaaaaa-0000-0000-0000-000000000002}', exists: false });
    expect(w.problems).toEqual([
      'recoverysequence of {aaaaaaaa-0000-0000-0000-000000000001} points at {aaaaaaaa-0000-0000-0000-000000000002}, which is not in the store',
    ]);
    expect(w.osLoaders[0]!.recoveryEnabled).toBe(false);
  });

  it('a device element of the wrong registry type or truncated keeps its raw bytes with an error', () => {
    const s = store((h) => {
      obj(h, '{aaaaaaaa-0000-0000-0000-000000000001}', 0x10200003);
      el(h, '{aaaaaaaa-0000-0000-0000-000000000001}', '11000001', REG.BINARY, new Uint8Array(40));
      el(h, '{aaaaaaaa-0000-0000-0000-000000000001}', '12000004', REG.BINARY, new Uint8Array([1, 2]));
    });
    const e = s.objects[0]!.elements;
    expect(e[0]!.error).toMatch(/descriptor size/);
    expect(e[0]!.value).toBeInstanceOf(Uint8Array);
    expect(e[1]!.error).toMatch(/does not fit a string element/);
  });

  it('not a BCD store', () => {
    expect(() => parseBcdStore(Hive.create())).toThrow(FormatError);
  });

  it('decodeDevice: random bytes give a device or a FormatError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 260 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 300 }), (b, t, size) => {
        const buf = new Uint8Array(Math.max(b.length, 0x30));
        buf.set(b);
        const dv = new DataView(buf.buffer);
        dv.setUint32(0x10, t === 9 ? 6 : t, true);
        dv.setUint32(0x18, size, true);
        if (t === 0) dv.setUint32(0x20, size % 2 ? 3 : 5, true);
        try {
          decodeDevice(buf);
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
