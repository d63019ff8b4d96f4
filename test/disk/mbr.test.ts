// MBR and EBR chains: record bytes against sfdisk's, idempotent rewrite of sfdisk chains, memory
// round trips, fuzzed sectors, loops and overlaps.
import fc from 'fast-check';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDevice, openBlockDevice } from '../../src/disk/blockdev.js';
import { readLayout } from '../../src/disk/layout.js';
import { encodeMbrEntry, mbrWrites, readMbr, type MbrTable } from '../../src/disk/mbr.js';
import { BadInputError } from '../../src/shared/errors.js';
import { buildMbr, diskToolsReason, MiB, readAt, sfdiskJson, sfdiskVerifyClean, tempDir, writeAt } from '../helpers/disk-images.js';
import { wufix } from './cli-helper.js';

const EMPTY_TABLE: MbrTable = {
  diskSignature: 0,
  primaries: [0, 1, 2, 3].map(() => ({ status: 0, type: 0, startLba: 0, sectors: 0 })),
  extendedSlot: -1,
  logicals: [],
};

function blankDisk(sectors: number): MemoryDevice {
  const dev = new MemoryDevice(sectors * 512);
  const s = new Uint8Array(512);
  new DataView(s.buffer).setUint32(440, 0xfc9c8a2f, true);
  s[510] = 0x55;
  s[511] = 0xaa;
  dev.write(0, s);
  return dev;
}

describe('MBR in memory (properties)', () => {
  const tableArb = fc
    .record({
      sizes: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 0, maxLength: 3 }),
      logicals: fc.array(
        fc.record({ gap: fc.integer({ min: 1, max: 5 }), size: fc.integer({ min: 1, max: 40 }), type: fc.constantFrom(0x07, 0x27, 0x0c, 0x83) }),
        { maxLength: 6 },
      ),
      extended: fc.boolean(),
      active: fc.nat(4),
      types: fc.array(fc.constantFrom(0x07, 0x27, 0x0c, 0x0b, 0x42, 0x83), { minLength: 3, maxLength: 3 }),
    })
    .map((r) => {
      const t: MbrTable = structuredClone(EMPTY_TABLE);
      t.diskSignature = 0xfc9c8a2f;
      let pos = 2048;
      r.sizes.forEach((s, i) => {
        t.primaries[i] = { status: r.active === i ? 0x80 : 0, type: r.types[i]!, startLba: pos, sectors: s * 2048 };
        pos += s * 2048;
      });
      if (r.extended) {
        const slot = r.sizes.length;
        const start = pos;
        let p = start;
        for (const l of r.logicals) {
          const ebr = p;
          const ls = ebr + l.gap * 64;
          t.logicals.push({ ebrLba: ebr, status: 0, type: l.type, startLba: ls, sectors: l.size * 64 });
          p = ls + l.size * 64;
        }
        t.primaries[slot] = { status: 0, type: 0x0f, startLba: start, sectors: p - start + 2048 };
        t.extendedSlot = slot;
      }
      return t;
    });

  it('readMbr(write(table)) == table, and a second write is a no-op', () => {
    fc.assert(
      fc.property(tableArb, (t) => {
        const dev = blankDisk(2048 * 256);
        for (const w of mbrWrites(dev, EMPTY_TABLE, t)) dev.write(w.offset, w.bytes);
        const back = readMbr(dev);
        expect(back).toEqual(t);
        expect(mbrWrites(dev, back, t)).toEqual([]);
        const l = readLayout(dev);
        expect(l.partitions.filter((p) => p.logical).map((p) => p.number)).toEqual(t.logicals.map((_, i) => 5 + i));
      }),
      { numRuns: 150 },
    );
  });

  it('corrupt input is the normal case: random sector bytes give a layout or a BadInputError, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 512, maxLength: 512 }), fc.uint8Array({ minLength: 512, maxLength: 512 }), fc.boolean(), (s0, s1, sig) => {
        const dev = new MemoryDevice(4096 * 512);
        const a = s0.slice();
        if (sig) {
          a[510] = 0x55;
          a[511] = 0xaa;
        }
        dev.write(0, a);
        dev.write(2048 * 512, s1);
        try {
          readLayout(dev);
        } catch (e) {
          expect(e).toBeInstanceOf(BadInputError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('an EBR chain that points back at itself is reported, not followed forever', () => {
    const dev = blankDisk(8192);
    const t: MbrTable = structuredClone(EMPTY_TABLE);
    t.primaries[0] = { status: 0, type: 0x05, startLba: 2048, sectors: 4096 };
    t.extendedSlot = 0;
    t.logicals = [{ ebrLba: 2048, status: 0, type: 0x07, startLba: 2049, sectors: 100 }];
    for (const w of mbrWrites(dev, EMPTY_TABLE, t)) dev.write(w.offset, w.bytes);
    const ebr = dev.read(2048 * 512, 512);
    ebr.set(encodeMbrEntry({ status: 0, type: 0x05, startLba: 0, sectors: 101 }, 2048), 446 + 16); // link -> itself
    dev.write(2048 * 512, ebr);
    expect(() => readLayout(dev)).toThrow(/EBR at sector 2048: next EBR at sector 2048/);
  });
});

const reason = diskToolsReason();

describe.skipIf(!!reason)(`MBR against sfdisk${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir();
  });
  afterAll(() => t?.cleanup());

  it('primary records (CHS included) are byte-identical to the ones sfdisk writes', () => {
    const img = buildMbr(path.join(t.dir, 'chs.img'), 20 * 1024 * MiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
      { number: 2, start: 101 * MiB, size: 9000 * MiB, type: 0x07 },
      { number: 3, start: 9101 * MiB, size: 550 * MiB, type: 0x27 },
      { number: 4, start: 9651 * MiB, size: 2000 * MiB, type: 0x0c },
    ]);
    const raw = readAt(img.file, 446, 64);
    const dev = openBlockDevice(img.file);
    try {
      const m = readMbr(dev);
      m.primaries.forEach((e, i) => expect(Buffer.from(encodeMbrEntry(e, e.startLba)).toString('hex')).toBe(raw.subarray(i * 16, i * 16 + 16).toString('hex')));
    } finally {
      dev.close();
    }
  });

  it('a chain written by sfdisk needs no writes to match itself (our EBR encoding agrees field by field)', () => {
    const img = buildMbr(path.join(t.dir, 'chain.img'), 512 * MiB, [
      { number: 1, start: MiB, size: 50 * MiB, type: 0x07, active: true },
      { number: 2, start: 51 * MiB, size: 400 * MiB, type: 0x05 },
      { number: 5, start: 52 * MiB, size: 100 * MiB, type: 0x07 },
      { number: 6, start: 153 * MiB, size: 100 * MiB, type: 0x27 },
      { number: 7, start: 254 * MiB, size: 100 * MiB, type: 0x83 },
    ]);
    const dev = openBlockDevice(img.file);
    try {
      const m = readMbr(dev);
      expect(m.logicals.map((l) => [l.startLba * 512, l.sectors * 512])).toEqual(
        sfdiskJson(img.file)
          .partitions.filter((p) => p.number >= 5)
          .map((p) => [p.start, p.size]),
      );
      expect(mbrWrites(dev, m, m)).toEqual([]);
    } finally {
      dev.close();
    }
  });

  it('overlapping primaries: sfdisk -V complains, show exits 2 naming both', async () => {
    const img = buildMbr(path.join(t.dir, 'ov.img'), 64 * MiB, [
      { number: 1, start: MiB, size: 20 * MiB, type: 0x07 },
      { number: 2, start: 21 * MiB, size: 20 * MiB, type: 0x07 },
    ]);
    writeAt(img.file, 446 + 16, encodeMbrEntry({ status: 0, type: 0x07, startLba: 10 * 2048, sectors: 20 * 2048 }, 10 * 2048));
    const v = sfdiskVerifyClean(img.file);
    expect(v.clean).toBe(false);
    expect(v.output).toMatch(/Partition 1: overlaps partition 2/);
    const r = await wufix('disk', 'show', '--json', img.file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MBR partitions 1 and 2 overlap/);
  });

  it('a disk without any partition table gives exit 2 with a clear line', async () => {
    const { sparseImage } = await import('../helpers/disk-images.js');
    const f = sparseImage(path.join(t.dir, 'blank.img'), 8 * MiB);
    const r = await wufix('disk', 'show', f);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no partition table/);
  });
});

describe.skipIf(!!diskToolsReason('mkntfs', 'mkfs.fat'))('whole-disk file systems', () => {
  it('NTFS or FAT written over the whole disk (no partition table) is reported as such, exit 2', async () => {
    const { run, sparseImage } = await import('../helpers/disk-images.js');
    const t = tempDir();
    try {
      for (const [fs, cmd] of [
        ['ntfs', ['mkntfs', '-Q', '-F', '-q']],
        ['fat32', ['mkfs.fat', '-F', '32']],
      ] as const) {
        const f = sparseImage(path.join(t.dir, `${fs}.img`), 64 * MiB);
        run(cmd[0], [...cmd.slice(1), f]);
        const r = await wufix('disk', 'show', f);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`no partition table: the whole disk is one ${fs} volume`));
      }
    } finally {
      t.cleanup();
    }
  });
});
