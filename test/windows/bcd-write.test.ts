// BCD device encoding and WinRE re-pointing (issue #6, winre.md §9). encodeDevice must give back the
// exact bytes Windows wrote for every device element of the four real stores (raw bytes read by
// libhivex); repointWinre on copies of BCDrecovery (GPT) and BCDvm (MBR) is applied with our hive
// engine, saved, and read back by libhivex: only the identity bytes (offsets from the winre.md §9
// tables) of the expected elements differ, every other key and value is identical, and the WinRE
// chain decodes to the new partition.
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import { BadInputError, FormatError, RefusedError } from '../../src/shared/errors.js';
import { decodeDevice, describeWinre, parseBcdStore, type BcdDevice } from '../../src/formats/bcd.js';
import { encodeDevice, repointWinre, applyBcdChanges, type BcdChange } from '../../src/formats/bcd-write.js';
import { sharedReason, toolsReason, skipReason, fixture, hiveFixture } from '../helpers/env.js';
import { hivexDump, expectAcceptedByReaders, type DumpRow } from '../helpers/hive-tools.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'reglookup', 'regfinfo', 'hivexml'));

const STORES: [string, () => string][] = [
  ['bcd/BCDrecovery', () => fixture('bcd', 'BCDrecovery')],
  ['bcd/BCDvm', () => fixture('bcd', 'BCDvm')],
  ['hives/regipy/BCD', () => hiveFixture('regipy/BCD')],
  ['hives/DFIRArtifactMuseum/Win7/BCD', () => hiveFixture('DFIRArtifactMuseum/Win7/BCD')],
];

/** On-disk bytes of a GUID, written independently (RFC 4122 mixed-endian: 3 LE fields, 8 bytes as-is). */
function guidBytes(g: string): Buffer {
  const h = g.replace(/[{}-]/g, '');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return Buffer.from(le(h.slice(0, 8)) + le(h.slice(8, 12)) + le(h.slice(12, 16)) + h.slice(16), 'hex');
}
const u32le = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64le = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const utf16z = (s: string) => Buffer.from(s + '\0', 'utf16le');

const rowMap = (rows: DumpRow[]) => new Map(rows.map((r) => [r.path.toLowerCase(), r]));
function elementOf(rows: DumpRow[], obj: string, el: string): Buffer | undefined {
  const r = rows.find((x) => x.path.toLowerCase() === `objects\\${obj}\\elements\\${el}`.toLowerCase());
  const v = r?.values.find((x) => x.name === 'Element');
  return v ? Buffer.from(v.data, 'hex') : undefined;
}

/** Byte positions where two buffers of the same length differ. */
function diffPositions(a: Buffer, b: Buffer): number[] {
  expect(a.length).toBe(b.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}
const within = (positions: number[], ranges: [number, number][]) => positions.filter((p) => !ranges.some(([s, e]) => p >= s && p < e));

/**
 * libhivex view of original vs result: every key and value identical except the `changed` element
 * values ("{obj}/hex", lowercase), which must exist on both sides. Returns their (old, new) bytes.
 */
function compareStores(before: DumpRow[], after: DumpRow[], changed: string[]): Map<string, { old: Buffer; now: Buffer }> {
  const want = new Set(changed.map((c) => c.toLowerCase()));
  const key = (obj: string, el: string) => `objects\\${obj}\\elements\\${el}`;
  const changedKeys = new Map([...want].map((c) => [key(c.split('/')[0]!, c.split('/')[1]!), c]));
  const a = rowMap(before);
  const b = rowMap(after);
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  const out = new Map<string, { old: Buffer; now: Buffer }>();
  for (const [p, ra] of a) {
    const rb = b.get(p)!;
    const c = changedKeys.get(p);
    if (!c) {
      expect(rb, p).toEqual(ra);
      continue;
    }
    const va = ra.values.find((v) => v.name === 'Element')!;
    const vb = rb.values.find((v) => v.name === 'Element')!;
    expect(vb.type, p).toBe(va.type);
    expect(vb.data, `${p} should have changed`).not.toBe(va.data);
    expect(rb.values.filter((v) => v.name !== 'Element')).toEqual(ra.values.filter((v) => v.name !== 'Element'));
    out.set(c, { old: Buffer.from(va.data, 'hex'), now: Buffer.from(vb.data, 'hex') });
  }
  expect([...out.keys()].sort()).toEqual([...want].sort());
  return out;
}

async function applyAndSave(
  src: string,
  build: (h: Hive) => BcdChange[],
): Promise<{ before: DumpRow[]; after: DumpRow[]; file: string; dir: string; hive: Hive }> {
  const hive = Hive.open(new Uint8Array(readFileSync(src)));
  const changes = build(hive);
  applyBcdChanges(hive, changes);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bcdw-'));
  const file = path.join(dir, 'BCD');
  await writeNewHiveFile(file, hive);
  return { before: hivexDump(src), after: hivexDump(file), file, dir, hive };
}

const storeOf = (file: string) => parseBcdStore(Hive.open(new Uint8Array(readFileSync(file))));

describe.skipIf(!!reason)('encodeDevice: byte-identical to what Windows wrote', () => {
  for (const [name, file] of reason ? [] : STORES) {
    it(`${name}: encode(decode(bytes)) === bytes for every device element (libhivex raw bytes)`, () => {
      const rows = hivexDump(file());
      let n = 0;
      for (const r of rows) {
        const m = /^Objects\\([^\\]+)\\Elements\\([0-9a-f]{8})$/i.exec(r.path);
        if (!m || ((parseInt(m[2]!, 16) >>> 24) & 0xf) !== 1) continue;
        const v = r.values.find((x) => x.name === 'Element')!;
        expect(v.type).toBe(REG.BINARY);
        const raw = Buffer.from(v.data, 'hex');
        const d = decodeDevice(new Uint8Array(raw));
        expect(Buffer.from(encodeDevice(d)).toString('hex'), `${r.path}`).toBe(v.data);
        n++;
      }
      expect(n).toBeGreaterThan(0);
    });
  }
  it('the stores cover partition GPT/MBR, ramdisk on GPT/MBR/boot, and boot', () => {
    const kinds = new Set<string>();
    for (const [, file] of STORES) {
      for (const r of hivexDump(file())) {
        const m = /\\Elements\\([0-9a-f]{8})$/i.exec(r.path);
        if (!m || ((parseInt(m[1]!, 16) >>> 24) & 0xf) !== 1) continue;
        const d = decodeDevice(new Uint8Array(Buffer.from(r.values[0]!.data, 'hex')));
        kinds.add(
          d.kind === 'partition'
            ? `partition/${d.table}`
            : d.kind === 'ramdisk'
              ? `ramdisk/${d.parent.kind === 'partition' ? d.parent.table : d.parent.kind}`
              : d.kind,
        );
      }
    }
    expect([...kinds].sort()).toEqual(['boot', 'partition/gpt', 'partition/mbr', 'ramdisk/boot', 'ramdisk/gpt', 'ramdisk/mbr']);
  });
});

describe('encodeDevice: the winre.md §9 layouts, built independently', () => {
  const DISK = '376e5397-7d1f-4e4f-a668-5a62c1269e60';
  const PART = '6cdfcd69-de75-4490-8f99-5a84bf264917';
  const OPTS = '{733b62e7-f608-11eb-825c-c112f60133ab}';
  function partition88(id: Buffer, table: number, sig: Buffer): Buffer {
    const b = Buffer.alloc(88);
    b.writeUInt32LE(6, 0x10);
    b.writeUInt32LE(0x48, 0x18);
    id.copy(b, 0x20);
    b.writeUInt32LE(table, 0x34);
    sig.copy(b, 0x38);
    return b;
  }
  it('GPT partition: unique GUID at 0x20, table 0 at 0x34, disk GUID at 0x38; 88 bytes', () => {
    const got = Buffer.from(encodeDevice({ kind: 'partition', table: 'gpt', partitionGuid: PART, diskGuid: `{${DISK.toUpperCase()}}` }));
    expect(got.toString('hex')).toBe(partition88(guidBytes(PART), 0, guidBytes(DISK)).toString('hex'));
  });
  it('MBR partition: byte offset u64 at 0x20, table 1, signature u32 at 0x38 (offset above 4 GiB)', () => {
    const off = 0x1_2345_6000 * 512;
    const got = Buffer.from(encodeDevice({ kind: 'partition', table: 'mbr', partitionOffset: off, diskSignature: 0xfc9c8a2f }));
    expect(got.toString('hex')).toBe(
      partition88(Buffer.concat([u64le(off), Buffer.alloc(8)]), 1, Buffer.concat([u32le(0xfc9c8a2f), Buffer.alloc(12)])).toString('hex'),
    );
  });
  it('ramdisk: options GUID, type 0 flags 1 size len-0x10, local type 3, block 1/len-0x38/5, nested partition at 0x44, path at 0x8c', () => {
    const p = '\\Recovery\\WindowsRE\\Winre.wim';
    const got = Buffer.from(
      encodeDevice({ kind: 'ramdisk', optionsId: OPTS, path: p, parent: { kind: 'partition', table: 'gpt', partitionGuid: PART, diskGuid: DISK } }),
    );
    expect(got.length).toBe(200);
    const exp = Buffer.alloc(200);
    guidBytes(OPTS).copy(exp, 0);
    exp.writeUInt32LE(1, 0x14);
    exp.writeUInt32LE(200 - 0x10, 0x18);
    exp.writeUInt32LE(3, 0x20);
    exp.writeUInt32LE(1, 0x38);
    exp.writeUInt32LE(200 - 0x38, 0x3c);
    exp.writeUInt32LE(5, 0x40);
    partition88(guidBytes(PART), 0, guidBytes(DISK)).subarray(0x10).copy(exp, 0x44);
    utf16z(p).copy(exp, 0x8c);
    expect(got.toString('hex')).toBe(exp.toString('hex'));
    // a well-known alias is the same GUID
    const alias = encodeDevice({ kind: 'ramdisk', optionsId: '{ramdiskoptions}', path: p, parent: { kind: 'boot' } });
    expect(Buffer.from(alias.subarray(0, 16)).toString('hex')).toBe(guidBytes('ae5534e0-a924-466c-b836-758539a3ee3a').toString('hex'));
  });
  it('decode(encode(d)) deep-equals d for generated partition/ramdisk/boot devices', () => {
    const guid = fc.uuid().map((s) => s.toLowerCase());
    const part = fc.oneof(
      fc.record({ kind: fc.constant('partition' as const), table: fc.constant('gpt' as const), partitionGuid: guid, diskGuid: guid }),
      fc.record({
        kind: fc.constant('partition' as const),
        table: fc.constant('mbr' as const),
        partitionOffset: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        diskSignature: fc.integer({ min: 0, max: 0xffffffff }),
      }),
    );
    const dev = fc.oneof(
      part,
      fc.constant({ kind: 'boot' as const }),
      fc.record({
        kind: fc.constant('ramdisk' as const),
        optionsId: guid.map((g) => `{${g}}`),
        parent: fc.oneof(part, fc.constant({ kind: 'boot' as const })),
        path: fc.string({ maxLength: 80 }).map((s) => '\\' + s.replace(/\0/g, '')),
      }),
    );
    fc.assert(
      fc.property(dev, (d) => {
        expect(decodeDevice(encodeDevice(d as BcdDevice))).toEqual(d);
      }),
      { numRuns: 500 },
    );
  });
  it('unsupported or invalid devices are FormatErrors', () => {
    const bad: BcdDevice[] = [
      { kind: 'locate' },
      { kind: 'file', parent: { kind: 'boot' }, path: '\\x' },
      { kind: 'unknown', deviceType: 9 },
      { kind: 'partition', table: 'gpt', partitionGuid: 'nope', diskGuid: PART },
      { kind: 'partition', table: 'gpt', diskGuid: PART },
      { kind: 'partition', table: 'mbr', partitionOffset: -1, diskSignature: 1 },
      { kind: 'partition', table: 'mbr', partitionOffset: 1048576, diskSignature: 2 ** 32 },
      { kind: 'ramdisk', parent: { kind: 'boot', optionsId: OPTS }, path: '\\a' },
      { kind: 'ramdisk', parent: { kind: 'boot' }, path: 'a\0b' },
      { kind: 'boot', optionsId: '{not-a-guid}' },
    ];
    for (const d of bad) expect(() => encodeDevice(d), JSON.stringify(d)).toThrow(FormatError);
  });
});

describe.skipIf(!!reason)('repointWinre on real stores, checked with libhivex', () => {
  const NEW_DISK = '0f1e2d3c-4b5a-4697-8877-665544332211';
  const NEW_PART = 'aabbccdd-eeff-4011-9233-445566778899';

  it('BCDrecovery (GPT): only the partition identity inside the three WinRE devices changes', async () => {
    const src = fixture('bcd', 'BCDrecovery');
    const WINRE = '{17d1a948-6ebc-11e3-92e2-9e90a5a36f6e}';
    const OPTIONS = '{17d1a949-6ebc-11e3-92e2-9e90a5a36f6e}';
    const OS = '{17d1a947-6ebc-11e3-92e2-9e90a5a36f6e}';
    let result: ReturnType<typeof repointWinre> | undefined;
    const { before, after, file, dir } = await applyAndSave(src, (h) => {
      result = repointWinre(h, { scheme: 'gpt', diskGuid: `{${NEW_DISK.toUpperCase()}}`, partitionGuid: NEW_PART });
      return result.changes;
    });
    try {
      expect(result).toMatchObject({ osLoader: OS, winreLoader: WINRE, optionsIds: [OPTIONS], warnings: [] });
      // The plan: three REG_BINARY element sets whose `old` is what libhivex reads in the original.
      expect(result!.changes.map((c) => [c.key, c.name, c.value.type])).toEqual([
        [`Objects\\${WINRE}\\Elements\\11000001`, 'Element', REG.BINARY],
        [`Objects\\${WINRE}\\Elements\\21000001`, 'Element', REG.BINARY],
        [`Objects\\${OPTIONS}\\Elements\\31000003`, 'Element', REG.BINARY],
      ]);
      for (const c of result!.changes) {
        const [, obj, , el] = c.key.split('\\');
        expect(c.old).toEqual({ type: REG.BINARY, data: elementOf(before, obj!, el!)!.toString('hex') });
      }
      const diffs = compareStores(before, after, [`${WINRE}/11000001`, `${WINRE}/21000001`, `${OPTIONS}/31000003`]);
      // Ramdisk (winre.md §9): nested partition at 0x44 -> unique GUID at 0x54, disk GUID at 0x6c.
      for (const el of ['11000001', '21000001']) {
        const { old, now } = diffs.get(`${WINRE}/${el}`)!;
        expect(
          within(diffPositions(old, now), [
            [0x54, 0x64],
            [0x6c, 0x7c],
          ]),
        ).toEqual([]);
        expect(now.subarray(0x54, 0x64).equals(guidBytes(NEW_PART))).toBe(true);
        expect(now.subarray(0x6c, 0x7c).equals(guidBytes(NEW_DISK))).toBe(true);
      }
      // 88-byte partition device: unique GUID at 0x20, disk GUID at 0x38.
      const { old, now } = diffs.get(`${OPTIONS}/31000003`)!;
      expect(
        within(diffPositions(old, now), [
          [0x20, 0x30],
          [0x38, 0x48],
        ]),
      ).toEqual([]);
      expect(now.subarray(0x20, 0x30).equals(guidBytes(NEW_PART))).toBe(true);
      expect(now.subarray(0x38, 0x48).equals(guidBytes(NEW_DISK))).toBe(true);

      expect(expectAcceptedByReaders(file)).toEqual([]);
      const w = describeWinre(storeOf(file));
      const target = { kind: 'partition', table: 'gpt', partitionGuid: NEW_PART, diskGuid: NEW_DISK };
      expect(w.problems).toEqual([]);
      expect(w.osLoaders.find((l) => l.isDefault)).toMatchObject({ id: OS, recoverySequence: [WINRE], recoveryEnabled: true });
      expect(w.winreLoader).toMatchObject({
        id: WINRE,
        exists: true,
        ramdisk: { device: target, path: '\\Recovery\\WindowsRE\\Winre.wim', optionsId: OPTIONS },
      });
      expect(w.ramdiskOptions).toMatchObject({ id: OPTIONS, sdiDevice: target, sdiPath: '\\Recovery\\WindowsRE\\boot.sdi' });
      // The OS itself stays where it was.
      expect(w.osLoaders[0]!.osDevice).toEqual(describeWinre(storeOf(src)).osLoaders[0]!.osDevice);
      // Planning again on the result: nothing left to do.
      expect(repointWinre(Hive.open(new Uint8Array(readFileSync(file))), { scheme: 'gpt', diskGuid: NEW_DISK, partitionGuid: NEW_PART }).changes).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('regipy/BCD (GPT) with recoverysequence removed and recoveryenabled = 00: both restored as Windows writes them', async () => {
    const src = hiveFixture('regipy/BCD');
    const OS = '{733b62e5-f608-11eb-825c-c112f60133ab}';
    const WINRE = '{733b62e6-f608-11eb-825c-c112f60133ab}';
    const orig = hivexDump(src);
    const hive = Hive.open(new Uint8Array(readFileSync(src)));
    hive.deleteKey(hive.lookup(`Objects\\${OS}\\Elements\\14000008`)!);
    hive.setValue(hive.lookup(`Objects\\${OS}\\Elements\\16000009`)!, 'Element', REG.BINARY, new Uint8Array([0]));
    // Same partition as now: only the OS loader elements change.
    const cur = describeWinre(storeOf(src)).ramdiskOptions!.sdiDevice as Extract<BcdDevice, { kind: 'partition' }>;
    const r = repointWinre(hive, { scheme: 'gpt', diskGuid: cur.diskGuid!, partitionGuid: cur.partitionGuid! });
    expect(r.osLoader).toBe(OS);
    expect(r.winreLoader).toBe(WINRE); // found through the resume object's recoverysequence
    expect(r.changes).toEqual([
      {
        key: `Objects\\${OS}\\Elements\\14000008`,
        name: 'Element',
        old: null,
        value: { type: REG.MULTI_SZ, data: elementOf(orig, OS, '14000008')!.toString('hex') },
      },
      { key: `Objects\\${OS}\\Elements\\16000009`, name: 'Element', old: { type: REG.BINARY, data: '00' }, value: { type: REG.BINARY, data: '01' } },
    ]);
    applyBcdChanges(hive, r.changes);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bcdw-'));
    try {
      const file = path.join(dir, 'BCD');
      await writeNewHiveFile(file, hive);
      // libhivex reads back the original store exactly (the key re-created, the value restored).
      const sortRows = (rows: DumpRow[]) => rows.map((x) => JSON.stringify(x)).sort();
      expect(sortRows(hivexDump(file))).toEqual(sortRows(orig));
      expect(describeWinre(storeOf(file)).problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const WIN7 = '{efd09c92-55fb-11e2-aa98-9d073f340da7}';
  const VM_WINRE = '{efd09c93-55fb-11e2-aa98-9d073f340da7}';
  const VM_OPTIONS = '{efd09c94-55fb-11e2-aa98-9d073f340da7}';
  const SIG = 0x1a2b3c4d;
  const OFFSET = 60 * 2 ** 30 + 2 ** 20; // above 4 GiB: the u64 matters

  it('BCDvm (MBR): the WinRE image moves from \\Recovery\\{GUID} on System Reserved to \\Recovery\\WindowsRE on the new partition', async () => {
    const src = fixture('bcd', 'BCDvm');
    let result: ReturnType<typeof repointWinre> | undefined;
    const { before, after, file, dir } = await applyAndSave(src, (h) => {
      result = repointWinre(h, { scheme: 'mbr', diskSignature: SIG, offset: OFFSET });
      return result.changes;
    });
    try {
      // The default entry is the Windows PE ramdisk: WinRE goes to the Windows 7 loader that has it.
      expect(result).toMatchObject({ osLoader: WIN7, winreLoader: VM_WINRE, optionsIds: [VM_OPTIONS], warnings: [] });
      expect(result!.changes.map((c) => c.key.split('\\').slice(1).join('/'))).toEqual([
        `${VM_WINRE}/Elements/11000001`,
        `${VM_WINRE}/Elements/21000001`,
        `${VM_OPTIONS}/Elements/31000003`,
        `${VM_OPTIONS}/Elements/32000004`,
      ]);
      const diffs = compareStores(before, after, [`${VM_WINRE}/11000001`, `${VM_WINRE}/21000001`, `${VM_OPTIONS}/31000003`, `${VM_OPTIONS}/32000004`]);
      const NEWPATH = '\\Recovery\\WindowsRE\\Winre.wim';
      for (const el of ['11000001', '21000001']) {
        const { old, now } = diffs.get(`${VM_WINRE}/${el}`)!;
        expect(old.length).toBe(254);
        expect(now.length).toBe(0x8c + utf16z(NEWPATH).length);
        // Up to the path: only the two lengths and the partition identity differ.
        const pos = diffPositions(old.subarray(0, 0x8c), now.subarray(0, 0x8c));
        expect(
          within(pos, [
            [0x18, 0x1c],
            [0x3c, 0x40],
            [0x54, 0x64],
            [0x6c, 0x7c],
          ]),
        ).toEqual([]);
        expect(now.readUInt32LE(0x18)).toBe(now.length - 0x10);
        expect(now.readUInt32LE(0x3c)).toBe(now.length - 0x38);
        expect(now.subarray(0x54, 0x64).equals(Buffer.concat([u64le(OFFSET), Buffer.alloc(8)]))).toBe(true);
        expect(now.readUInt32LE(0x68)).toBe(1); // still MBR
        expect(now.subarray(0x6c, 0x7c).equals(Buffer.concat([u32le(SIG), Buffer.alloc(12)]))).toBe(true);
        expect(now.subarray(0x8c).equals(utf16z(NEWPATH))).toBe(true);
      }
      const sdi = diffs.get(`${VM_OPTIONS}/31000003`)!;
      expect(
        within(diffPositions(sdi.old, sdi.now), [
          [0x20, 0x30],
          [0x38, 0x48],
        ]),
      ).toEqual([]);
      expect(sdi.now.subarray(0x20, 0x30).equals(Buffer.concat([u64le(OFFSET), Buffer.alloc(8)]))).toBe(true);
      expect(sdi.now.subarray(0x38, 0x48).equals(Buffer.concat([u32le(SIG), Buffer.alloc(12)]))).toBe(true);
      expect(diffs.get(`${VM_OPTIONS}/32000004`)!.now.equals(utf16z('\\Recovery\\WindowsRE\\boot.sdi'))).toBe(true);

      expect(expectAcceptedByReaders(file)).toEqual([]);
      const w = describeWinre(storeOf(file));
      const target = { kind: 'partition', table: 'mbr', partitionOffset: OFFSET, diskSignature: SIG };
      expect(w.problems).toEqual([]);
      expect(w.osLoaders.find((l) => l.id === WIN7)).toMatchObject({ recoverySequence: [VM_WINRE], recoveryEnabled: true });
      expect(w.winreLoader).toMatchObject({ id: VM_WINRE, ramdisk: { device: target, path: NEWPATH, optionsId: VM_OPTIONS } });
      expect(w.ramdiskOptions).toMatchObject({ id: VM_OPTIONS, sdiDevice: target, sdiPath: '\\Recovery\\WindowsRE\\boot.sdi' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('BCDvm (MBR) keeping the old directory: only offset and signature bytes change, lengths identical', async () => {
    const src = fixture('bcd', 'BCDvm');
    const oldDir = `\\Recovery\\${VM_WINRE.slice(1, -1)}`;
    const { before, after, file, dir } = await applyAndSave(
      src,
      (h) => repointWinre(h, { scheme: 'mbr', diskSignature: SIG, offset: OFFSET }, { osLoader: WIN7, directory: oldDir + '\\' }).changes,
    );
    try {
      const diffs = compareStores(before, after, [`${VM_WINRE}/11000001`, `${VM_WINRE}/21000001`, `${VM_OPTIONS}/31000003`]);
      for (const el of ['11000001', '21000001']) {
        const { old, now } = diffs.get(`${VM_WINRE}/${el}`)!;
        expect(
          within(diffPositions(old, now), [
            [0x54, 0x5c],
            [0x6c, 0x70],
          ]),
        ).toEqual([]);
      }
      const sdi = diffs.get(`${VM_OPTIONS}/31000003`)!;
      expect(
        within(diffPositions(sdi.old, sdi.now), [
          [0x20, 0x28],
          [0x38, 0x3c],
        ]),
      ).toEqual([]);
      expect(describeWinre(storeOf(file)).problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refusals: no Windows loader / no WinRE loader (Win7 setup store), bad target, stale plan', () => {
    const setup = () => Hive.open(new Uint8Array(readFileSync(hiveFixture('DFIRArtifactMuseum/Win7/BCD'))));
    const gpt = { scheme: 'gpt' as const, diskGuid: NEW_DISK, partitionGuid: NEW_PART };
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as Error).constructor.name, (e as RefusedError).code];
      }
      return undefined;
    };
    expect(codeOf(() => repointWinre(setup(), gpt))).toEqual(['RefusedError', 'bcd-os-loader']);
    expect(codeOf(() => repointWinre(setup(), gpt, { osLoader: '{default}' }))).toEqual(['RefusedError', 'bcd-no-winre']);
    expect(codeOf(() => repointWinre(setup(), gpt, { osLoader: '{11111111-2222-3333-4444-555555555555}' }))).toEqual(['BadInputError', 'bcd-os-loader']);
    const vm = () => Hive.open(new Uint8Array(readFileSync(fixture('bcd', 'BCDvm'))));
    expect(() => repointWinre(vm(), { scheme: 'gpt', diskGuid: 'x', partitionGuid: NEW_PART })).toThrow(BadInputError);
    expect(() => repointWinre(vm(), { scheme: 'mbr', diskSignature: -1, offset: OFFSET })).toThrow(BadInputError);
    expect(() => repointWinre(vm(), { scheme: 'mbr', diskSignature: SIG, offset: 0 })).toThrow(BadInputError);
    expect(() => repointWinre(vm(), { scheme: 'mbr', diskSignature: SIG, offset: OFFSET }, { directory: 'Recovery' })).toThrow(BadInputError);
    // A plan made on one state is refused on another.
    const h = vm();
    const { changes } = repointWinre(h, { scheme: 'mbr', diskSignature: SIG, offset: OFFSET });
    const h2 = vm();
    applyBcdChanges(h2, changes);
    expect(codeOf(() => applyBcdChanges(h2, changes))).toEqual(['RefusedError', 'bcd-stale']);
  });
});
