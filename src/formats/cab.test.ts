// The cabinet reader on cabinets written here byte by byte after MS-CAB (CFHEADER 36 bytes, optional
// reserve, CFFOLDER, CFFILE, CFDATA) with real CBS text as content: "none" and MSZIP ("CK" + raw
// deflate with the previous block as dictionary), reserve areas, several folders; then every way a
// hostile cabinet can be wrong. test/fuzz/logs-cbs.test.ts checks the reader against gcab/cabextract.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FIXTURES, sharedReason } from '../../test/helpers/env.js';
import { CabError, cabInfo, cabMembers, type CabOptions } from './cab.js';

interface MemberSpec {
  name: string;
  data: Uint8Array;
}

interface FolderSpec {
  compression: 0 | 1 | 2 | 3;
  members: MemberSpec[];
}

interface BuildOptions {
  reserve?: { header: number; folder: number; data: number };
  flags?: number;
  /** Corrupt the "CK" of the first MSZIP block. */
  badCk?: boolean;
}

const le16 = (v: number) => Buffer.from([v & 0xff, (v >> 8) & 0xff]);
const le32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

/** A cabinet after MS-CAB 2.1-2.4. */
function buildCab(folders: FolderSpec[], o: BuildOptions = {}): Buffer {
  const r = o.reserve;
  const headerLen = 36 + (r ? 4 + r.header : 0);
  const folderLen = 8 + (r ? r.folder : 0);
  const files: Buffer[] = [];
  const datas: Buffer[][] = [];
  folders.forEach((f, fi) => {
    const stream = Buffer.concat(f.members.map((m) => m.data));
    let off = 0;
    for (const m of f.members) {
      files.push(Buffer.concat([le32(m.data.length), le32(off), le16(fi), le16(0x5821), le16(0x6000), le16(0x20), Buffer.from(m.name + '\0', 'latin1')]));
      off += m.data.length;
    }
    const blocks: Buffer[] = [];
    let prev: Buffer | undefined;
    for (let p = 0; p < stream.length || (p === 0 && stream.length === 0); p += 32768) {
      const raw = stream.subarray(p, p + 32768);
      let payload: Buffer;
      if (f.compression === 1) {
        payload = Buffer.concat([
          Buffer.from(o.badCk && blocks.length === 0 ? 'XK' : 'CK'),
          prev ? deflateRawSync(raw, { dictionary: prev }) : deflateRawSync(raw),
        ]);
        prev = raw;
      } else payload = raw;
      blocks.push(Buffer.concat([le32(0), le16(payload.length), le16(raw.length), Buffer.alloc(r ? r.data : 0), payload]));
      if (stream.length === 0) break;
    }
    datas.push(blocks);
  });
  const filesLen = files.reduce((a, b) => a + b.length, 0);
  const coffFiles = headerLen + folderLen * folders.length;
  let dataOff = coffFiles + filesLen;
  const folderBufs = folders.map((f, i) => {
    const b = Buffer.concat([le32(dataOff), le16(datas[i]!.length), le16(f.compression), Buffer.alloc(r ? r.folder : 0)]);
    dataOff += datas[i]!.reduce((a, x) => a + x.length, 0);
    return b;
  });
  const total = dataOff;
  const flags = (o.flags ?? 0) | (r ? 4 : 0);
  const head = Buffer.concat([
    Buffer.from('MSCF'),
    le32(0),
    le32(total),
    le32(0),
    le32(coffFiles),
    le32(0),
    Buffer.from([3, 1]),
    le16(folders.length),
    le16(files.length),
    le16(flags),
    le16(0x1234),
    le16(0),
    r ? Buffer.concat([le16(r.header), Buffer.from([r.folder, r.data]), Buffer.alloc(r.header)]) : Buffer.alloc(0),
  ]);
  return Buffer.concat([head, ...folderBufs, ...files, ...datas.flat()]);
}

function chunked(b: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < b.length; o += n) out.push(b.subarray(o, o + n));
  return out;
}

async function readAll(cab: Uint8Array, opts: CabOptions = {}, chunk = 5003): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const m of cabMembers(chunked(cab, chunk), opts)) {
    const parts: Uint8Array[] = [];
    for await (const c of m.chunks) parts.push(Uint8Array.from(c));
    out.set(m.entry.name, Buffer.concat(parts));
  }
  return out;
}

async function cabError(p: Promise<unknown>): Promise<CabError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CabError);
    return e as CabError;
  }
  throw new Error('expected a CabError');
}

const TEXT = Buffer.from(
  Array.from(
    { length: 4000 },
    (_, i) => `2024-01-01 00:00:${String(i % 60).padStart(2, '0')}, Info                  CBS    Appl: line ${i} of a CBS log\r\n`,
  ).join(''),
);

describe('cabMembers', () => {
  it('reads "none" and MSZIP folders, several members, across chunk boundaries', async () => {
    const a = TEXT.subarray(0, 70_001);
    const b = TEXT.subarray(70_001);
    const c = Buffer.from('short member\r\n');
    const cab = buildCab([
      {
        compression: 1,
        members: [
          { name: 'CbsPersist_20240101000000.log', data: a },
          { name: 'b.log', data: b },
        ],
      },
      { compression: 0, members: [{ name: 'c.txt', data: c }] },
    ]);
    for (const chunk of [1, 977, 1 << 20]) {
      const got = await readAll(cab, {}, chunk);
      expect([...got.keys()]).toEqual(['CbsPersist_20240101000000.log', 'b.log', 'c.txt']);
      expect(got.get('CbsPersist_20240101000000.log')!.equals(a)).toBe(true);
      expect(got.get('b.log')!.equals(b)).toBe(true);
      expect(got.get('c.txt')!.equals(c)).toBe(true);
    }
    const info = await cabInfo([cab]);
    expect(info.folders.map((f) => f.compression)).toEqual(['mszip', 'none']);
    expect(info.files.map((f) => [f.name, f.size, f.folder, f.offset])).toEqual([
      ['CbsPersist_20240101000000.log', a.length, 0, 0],
      ['b.log', b.length, 0, a.length],
      ['c.txt', c.length, 1, 0],
    ]);
  });

  it('yields one piece per CFDATA block (at most 32 KiB): the cabinet is never inflated whole', async () => {
    const cab = buildCab([{ compression: 1, members: [{ name: 'x.log', data: TEXT }] }]);
    let pieces = 0;
    let max = 0;
    for await (const m of cabMembers([cab]))
      for await (const c of m.chunks) {
        pieces++;
        max = Math.max(max, c.length);
      }
    expect(pieces).toBe(Math.ceil(TEXT.length / 32768));
    expect(max).toBe(32768);
  });

  it('honours the header, folder and data reserve areas', async () => {
    const cab = buildCab([{ compression: 1, members: [{ name: 'r.log', data: TEXT }] }], { reserve: { header: 20, folder: 3, data: 5 } });
    expect((await readAll(cab)).get('r.log')!.equals(TEXT)).toBe(true);
  });

  it('a member the consumer skips does not disturb the next one', async () => {
    const cab = buildCab([
      {
        compression: 1,
        members: [
          { name: 'skip.log', data: TEXT.subarray(0, 100_000) },
          { name: 'keep.log', data: TEXT.subarray(100_000) },
        ],
      },
    ]);
    const seen: string[] = [];
    let kept: Buffer | undefined;
    for await (const m of cabMembers([cab])) {
      seen.push(m.entry.name);
      if (m.entry.name === 'keep.log') {
        const parts: Uint8Array[] = [];
        for await (const c of m.chunks) parts.push(Uint8Array.from(c));
        kept = Buffer.concat(parts);
      } else {
        for await (const c of m.chunks) {
          void c;
          break; // read one block, then leave
        }
      }
    }
    expect(seen).toEqual(['skip.log', 'keep.log']);
    expect(kept!.equals(TEXT.subarray(100_000))).toBe(true);
  });

  it('LZX and Quantum are refused with the compression named', async () => {
    for (const [t, name] of [
      [3, 'LZX'],
      [2, 'Quantum'],
    ] as const) {
      const cab = buildCab([{ compression: 0, members: [{ name: 'x.log', data: TEXT.subarray(0, 1000) }] }]);
      // Patch typeCompress (CFFOLDER at 36: coffCabStart 4, cCFData 2, typeCompress 2).
      cab.writeUInt16LE(t | (t === 3 ? 0x1500 : 0), 36 + 6);
      const e = await cabError(readAll(cab));
      expect(e.reason).toBe('unsupported-compression');
      expect(e.message).toBe(`compressed with ${name}, not read`);
      expect((await cabInfo([cab])).folders[0]!.compression).toBe(t === 3 ? 'lzx' : 'quantum');
    }
  });

  it('damaged cabinets: a typed CabError, never a crash or a hang', async () => {
    const good = buildCab([{ compression: 1, members: [{ name: 'x.log', data: TEXT }] }]);
    expect((await cabError(readAll(Buffer.from('MSCX' + 'x'.repeat(100))))).message).toMatch(/no MSCF signature/);
    expect((await cabError(readAll(good.subarray(0, 20)))).reason).toBe('truncated');
    expect((await cabError(readAll(good.subarray(0, good.length - 100)))).reason).toBe('truncated');
    expect((await cabError(readAll(buildCab([{ compression: 1, members: [{ name: 'x.log', data: TEXT }] }], { badCk: true })))).message).toMatch(
      /no MSZIP "CK"/,
    );
    const flipped = Buffer.from(good);
    flipped[good.length - 5000] = flipped[good.length - 5000]! ^ 0xff;
    flipped[good.length - 4000] = flipped[good.length - 4000]! ^ 0xff;
    expect((await cabError(readAll(flipped))).reason).toBe('format');
    const multi = buildCab([{ compression: 0, members: [{ name: 'x.log', data: TEXT.subarray(0, 10) }] }], { flags: 2 });
    expect((await cabError(readAll(multi))).reason).toBe('multi-cabinet');
    const v = Buffer.from(good);
    v[25] = 2;
    expect((await cabError(readAll(v))).message).toMatch(/version 2\.3/);
    const big = Buffer.from(good);
    big.writeUInt32LE(good.length + 10, 36); // first CFDATA beyond the cabinet's size
    expect((await cabError(readAll(big))).message).toMatch(/outside the cabinet/);
  });

  it('limits: member count, folder count, total output', async () => {
    const many = buildCab([{ compression: 0, members: Array.from({ length: 30 }, (_, i) => ({ name: `m${i}.log`, data: Buffer.from('x') })) }]);
    expect((await cabError(readAll(many, { maxFiles: 20 }))).reason).toBe('limit');
    expect((await readAll(many, { maxFiles: 30 })).size).toBe(30);
    const two = buildCab([
      { compression: 0, members: [{ name: 'a', data: Buffer.from('a') }] },
      { compression: 0, members: [{ name: 'b', data: Buffer.from('b') }] },
    ]);
    expect((await cabError(readAll(two, { maxFolders: 1 }))).reason).toBe('limit');
    const e = await cabError(readAll(buildCab([{ compression: 1, members: [{ name: 'x.log', data: TEXT }] }]), { maxOutput: 100_000 }));
    expect(e.reason).toBe('limit');
  });
});

describe.skipIf(!!sharedReason())('cabMembers on real CBS text', () => {
  it('a 2 MB real CBS.log in an MSZIP cabinet comes back byte for byte', async () => {
    const log = readFileSync(path.join(FIXTURES, 'logs', 'cbs', 'win10-1903-1909-clean-wu-sessions-0x800f0805-noise-JoseMorenoSater.log'));
    const cab = buildCab([{ compression: 1, members: [{ name: 'CbsPersist_20200205102057.log', data: log }] }]);
    expect(cab.length).toBeLessThan(log.length / 4);
    const got = await readAll(cab, {}, 65536);
    expect(got.get('CbsPersist_20200205102057.log')!.equals(log)).toBe(true);
  });
});
