// GPT structures: CRC32 and GUID byte order against published values, byte round trips against
// tables written by sgdisk, round-trip properties, corruption and repair.
import fc from 'fast-check';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDevice, openBlockDevice } from '../../src/disk/blockdev.js';
import { crc32, crc32Continue } from '../../src/shared/crc32.js';
import { encodeGptEntry, gptWrites, parseGptEntries, readGptCopies, readGptStrict, repairGpt, type GptHeader } from '../../src/disk/gpt.js';
import { guidFromBytes, guidToBytes } from '../../src/shared/guid.js';
import { readLayout } from '../../src/disk/layout.js';
import { BadInputError } from '../../src/shared/errors.js';
import { wufix } from './cli-helper.js';
import {
  buildGpt,
  diskToolsReason,
  MiB,
  readAt,
  run,
  sgdiskVerifyClean,
  sfdiskJson,
  sha256,
  tempDir,
  TYPE,
  win10_22h2,
  writeAt,
} from '../helpers/disk-images.js';

describe('CRC32 and GUIDs (published values)', () => {
  it('CRC-32/IEEE check value of "123456789" is 0xCBF43926', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32Continue(crc32(Buffer.from('1234')), Buffer.from('56789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xcbf43926);
  });

  it('recovery type GUID has the on-disk bytes documented in winre.md', () => {
    const bytes = [0xa4, 0xbb, 0x94, 0xde, 0xd1, 0x06, 0x40, 0x4d, 0xa1, 0x6a, 0xbf, 0xd5, 0x01, 0x79, 0xd6, 0xac];
    expect([...guidToBytes('de94bba4-06d1-4d40-a16a-bfd50179d6ac')]).toEqual(bytes);
    expect(guidFromBytes(Uint8Array.from(bytes))).toBe('de94bba4-06d1-4d40-a16a-bfd50179d6ac');
    expect(guidFromBytes(guidToBytes('DE94BBA4-06D1-4D40-A16A-BFD50179D6AC'))).toBe('de94bba4-06d1-4d40-a16a-bfd50179d6ac');
  });

  it('attributes 0x8000000000000001 are stored as 01 00 00 00 00 00 00 80', () => {
    const e = encodeGptEntry({
      type: TYPE.RECOVERY,
      guid: '11111111-2222-4333-8444-555555555555',
      firstLba: 2048,
      lastLba: 4095,
      attributes: 0x8000000000000001n,
      name: '',
    });
    expect([...e.subarray(48, 56)]).toEqual([0x01, 0, 0, 0, 0, 0, 0, 0x80]);
  });

  it('GUID text <-> bytes round trip (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect([...guidToBytes(guidFromBytes(b))]).toEqual([...b]);
      }),
    );
  });
});

const entryArb = fc.record({
  type: fc.uuid(),
  guid: fc.uuid(),
  first: fc.integer({ min: 34, max: 1_000_000 }),
  len: fc.integer({ min: 1, max: 100_000 }),
  attributes: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  name: fc.string({ unit: fc.integer({ min: 1, max: 0xd7ff }).map((c) => String.fromCharCode(c)), maxLength: 36 }),
});

describe('GPT round trips in memory (properties)', () => {
  it('parse(encode(entry)) == entry, encode(parse(bytes)) == bytes', () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        const raw = encodeGptEntry({ type: e.type, guid: e.guid, firstLba: e.first, lastLba: e.first + e.len - 1, attributes: e.attributes, name: e.name });
        const [p] = parseGptEntries(raw, 1, 128, 0);
        expect(p).toEqual({ index: 0, type: e.type, guid: e.guid, firstLba: e.first, lastLba: e.first + e.len - 1, attributes: e.attributes, name: e.name });
        expect([...encodeGptEntry(p!)]).toEqual([...raw]);
      }),
    );
  });

  it('gptWrites produces two consistent copies that read back to the same entries', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 6 }), fc.uuid(), fc.constantFrom(512, 4096), (es, diskGuid, ss) => {
        const sectors = ss === 512 ? 4096 : 1024;
        const dev = new MemoryDevice(sectors * ss, ss);
        const entrySectors = (128 * 128) / ss;
        const header: GptHeader = {
          revision: 0x10000,
          headerSize: 92,
          headerCrc: 0,
          myLba: 1,
          alternateLba: sectors - 1,
          firstUsableLba: 2 + entrySectors,
          lastUsableLba: sectors - 2 - entrySectors,
          diskGuid,
          entriesLba: 2,
          entryCount: 128,
          entrySize: 128,
          entriesCrc: 0,
        };
        const raw = new Uint8Array(128 * 128);
        // Lay entries out without overlap inside the usable area.
        let pos = header.firstUsableLba;
        const placed = es.map((e, i) => {
          const len = 1 + (e.len % 8);
          const ent = { index: i * 3, type: e.type, guid: e.guid, firstLba: pos, lastLba: pos + len - 1, attributes: e.attributes, name: e.name };
          pos += len;
          raw.set(encodeGptEntry(ent), ent.index * 128);
          return ent;
        });
        for (const w of gptWrites(header, raw, ss, sectors)) dev.write(w.offset, w.bytes);
        dev.write(0, pmbr(ss, sectors));
        const r = readGptCopies(dev);
        expect(r.primaryError).toBeUndefined();
        expect(r.backupError).toBeUndefined();
        expect(r.mismatch).toBeUndefined();
        expect(r.primary!.entries).toEqual(placed);
        expect(r.backup!.entries).toEqual(placed);
        expect(readLayout(dev).diskGuid).toBe(diskGuid);
      }),
      { numRuns: 60 },
    );
  });
});

describe('corrupted GPT bytes (property)', () => {
  /** A 2 MiB disk with a valid GPT holding three partitions. */
  function validDisk(): MemoryDevice {
    const sectors = 4096;
    const dev = new MemoryDevice(sectors * 512);
    const header: GptHeader = {
      revision: 0x10000,
      headerSize: 92,
      headerCrc: 0,
      myLba: 1,
      alternateLba: sectors - 1,
      firstUsableLba: 34,
      lastUsableLba: sectors - 34,
      diskGuid: '8a5d4c1e-1f2b-4c3d-9e8f-0a1b2c3d4e5f',
      entriesLba: 2,
      entryCount: 128,
      entrySize: 128,
      entriesCrc: 0,
    };
    const raw = new Uint8Array(128 * 128);
    [
      [2048, 2559],
      [2560, 3071],
      [3072, 4000],
    ].forEach(([a, b], i) =>
      raw.set(
        encodeGptEntry({ type: TYPE.BASIC, guid: `8a5d4c1e-1f2b-4c3d-9e8f-0a1b2c3d4e6${i}`, firstLba: a!, lastLba: b!, attributes: 0n, name: `p${i}` }),
        i * 128,
      ),
    );
    for (const w of gptWrites(header, raw, 512, sectors)) dev.write(w.offset, w.bytes);
    dev.write(0, pmbr(512, sectors));
    return dev;
  }

  it('any single changed byte in a CRC-protected area (either header, either entry array) is detected', () => {
    const sectors = 4096;
    const areas = [
      [512, 512 + 92], // primary header
      [1024, 1024 + 128 * 128], // primary entries
      [(sectors - 33) * 512, (sectors - 1) * 512], // backup entries
      [(sectors - 1) * 512, (sectors - 1) * 512 + 92], // backup header
    ];
    fc.assert(
      fc.property(fc.nat(3), fc.nat(), fc.integer({ min: 1, max: 255 }), (area, pos, x) => {
        const dev = validDisk();
        const [a, b] = areas[area]!;
        const off = a! + (pos % (b! - a!));
        dev.bytes[off]! ^= x;
        expect(() => readLayout(dev)).toThrow(BadInputError);
      }),
      { numRuns: 400 },
    );
  });

  it('random byte changes anywhere in the table sectors give a layout or a BadInputError, never a crash', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 20 }), (changes) => {
        const dev = validDisk();
        const table = 34 * 512;
        for (const [pos, v] of changes) {
          const p = pos % (2 * table);
          dev.bytes[p < table ? p : dev.bytes.length - 2 * table + p] = v;
        }
        try {
          readLayout(dev);
        } catch (e) {
          expect(e).toBeInstanceOf(BadInputError);
        }
      }),
      { numRuns: 400 },
    );
  });
});

/** A protective MBR covering the disk (UEFI 5.2.3). */
function pmbr(ss: number, sectors: number): Uint8Array {
  const b = new Uint8Array(ss);
  const dv = new DataView(b.buffer);
  b.set([0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff], 446);
  dv.setUint32(454, 1, true);
  dv.setUint32(458, Math.min(sectors - 1, 0xffffffff), true);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

const reason = diskToolsReason('mkntfs', 'mkfs.fat');

describe.skipIf(!!reason)(`GPT against sgdisk-made tables${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  let win10: string;
  let n = 0;
  beforeAll(() => {
    t = tempDir();
    win10 = win10_22h2(t.dir, 1024 * MiB).file;
  });
  afterAll(() => t?.cleanup());
  /** A private sparse copy of the Windows 10 22H2 image. */
  const win10Copy = () => {
    const f = path.join(t.dir, `w${n++}.img`);
    run('cp', ['--sparse=always', win10, f]);
    return { file: f };
  };

  it('rewriting an sgdisk table from its parsed form reproduces its bytes exactly (both copies)', () => {
    const img = buildGpt(path.join(t.dir, 'rt.img'), 256 * MiB, [
      { start: MiB, size: 100 * MiB, type: TYPE.ESP, name: 'EFI system partition', attributes: 0x8000000000000000n },
      { start: 101 * MiB, size: 16 * MiB, type: TYPE.MSR, name: 'Microsoft reserved partition' },
      { start: 117 * MiB, size: 100 * MiB, type: TYPE.RECOVERY, name: 'R\u00e9cup\u00e9ration', attributes: 0x8000000000000001n },
    ]);
    const before = readFileSync(img.file);
    const dev = openBlockDevice(img.file, { write: true });
    try {
      const copy = readGptStrict(dev);
      const raw = new Uint8Array(copy.raw.length);
      for (const e of parseGptEntries(copy.raw, copy.header.entryCount, copy.header.entrySize, 0)) raw.set(encodeGptEntry(e), e.index * 128);
      for (const w of gptWrites(copy.header, raw, 512, dev.size / 512)) dev.write(w.offset, w.bytes);
    } finally {
      dev.close();
    }
    expect(Buffer.compare(readFileSync(img.file), before)).toBe(0);
  });

  /** Each corruption: what to do to a fresh Windows 10 image, and what `show` must say. */
  const corruptions: { name: string; apply: (file: string) => void; message: RegExp }[] = [
    { name: 'primary header CRC', apply: (f) => flip(f, 512 + 40), message: /primary GPT header at LBA 1: header CRC32 mismatch/ },
    { name: 'primary entry array CRC', apply: (f) => flip(f, 1024 + 56), message: /primary GPT partition entry array: CRC32 mismatch/ },
    {
      name: 'backup header missing',
      apply: (f) => writeAt(f, sizeOf(f) - 512, new Uint8Array(512)),
      message: /backup GPT header .*invalid signature.*primary copy is valid/,
    },
    { name: 'backup entries CRC', apply: (f) => flip(f, sizeOf(f) - 33 * 512 + 3 * 128 + 20), message: /backup GPT partition entry array: CRC32 mismatch/ },
  ];

  for (const c of corruptions) {
    it(`corrupt ${c.name}: show exits 2 with one line, writes nothing; repair only when asked`, async () => {
      const img = win10Copy();
      const good = sfdiskJson(img.file);
      c.apply(img.file);
      const hash = sha256(img.file);
      const r = await wufix('disk', 'show', img.file);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(c.message);
      expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
      expect(sha256(img.file)).toBe(hash);
      // sgdisk sees the damage too.
      expect(sgdiskVerifyClean(img.file).clean).toBe(false);
      // Repair from the good copy, then everything agrees with the original table.
      const from = /primary/.test(c.name) ? 'backup' : 'primary';
      const dev = openBlockDevice(img.file, { write: true });
      try {
        expect(repairGpt(dev, from)).toMatch(/rebuilt/);
      } finally {
        dev.close();
      }
      expect(sgdiskVerifyClean(img.file).clean).toBe(true);
      expect(sfdiskJson(img.file)).toEqual(good);
    });
  }

  it('truncated image (backup gone) and an image cut inside a partition give exit 2', async () => {
    const { truncateSync } = await import('node:fs');
    const img = win10Copy();
    truncateSync(img.file, 600 * MiB);
    const r = await wufix('disk', 'show', '--json', img.file);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'format', exitCode: 2 } }); // --json: the error, as JSON
    expect(r.stderr).toMatch(/truncated image/);
    truncateSync(img.file, 600 * MiB + 100);
    const r2 = await wufix('disk', 'show', img.file);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/not a multiple of the 512-byte sector size/);
  });

  it('overlapping entries with valid CRCs: sgdisk -v reports the overlap, show exits 2 naming both', async () => {
    const img = buildGpt(path.join(t.dir, 'ov.img'), 64 * MiB, [
      { start: MiB, size: 10 * MiB, type: TYPE.BASIC, name: 'a' },
      { start: 11 * MiB, size: 10 * MiB, type: TYPE.BASIC, name: 'b' },
    ]);
    const dev = openBlockDevice(img.file, { write: true });
    try {
      const copy = readGptStrict(dev);
      const raw = copy.raw.slice();
      const [, b] = copy.entries;
      raw.set(encodeGptEntry({ ...b!, firstLba: 2048 * 5 }), 128); // entry 2 now starts inside entry 1
      for (const w of gptWrites(copy.header, raw, 512, dev.size / 512)) dev.write(w.offset, w.bytes);
    } finally {
      dev.close();
    }
    expect(sgdiskVerifyClean(img.file).output).toMatch(/overlap/i);
    const r = await wufix('disk', 'show', img.file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GPT partitions 1 and 2 overlap/);
  });

  it('hybrid MBR (sgdisk -h) is refused as unsupported with exit 2', async () => {
    const img = buildGpt(path.join(t.dir, 'hy.img'), 64 * MiB, [{ start: MiB, size: 10 * MiB, type: TYPE.BASIC, name: 'a' }]);
    run('sgdisk', ['-h', '1', img.file]);
    const r = await wufix('disk', 'show', img.file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hybrid MBR/);
  });

  it('a valid primary with a missing backup is never repaired by reading', () => {
    const img = win10Copy();
    writeAt(img.file, sizeOf(img.file) - 512, new Uint8Array(512));
    const hash = sha256(img.file);
    const dev = openBlockDevice(img.file);
    try {
      expect(() => readLayout(dev)).toThrow(BadInputError);
    } finally {
      dev.close();
    }
    expect(sha256(img.file)).toBe(hash);
  });
});

function sizeOf(file: string): number {
  return statSync(file).size;
}

function flip(file: string, offset: number): void {
  const b = readAt(file, offset, 1);
  writeAt(file, offset, Uint8Array.of(b[0]! ^ 0xff));
}
