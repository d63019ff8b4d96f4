// Fuzz tier, partition tables and volume probes: readLayout (GPT and MBR with its EBR chain, then a
// probe of every partition), readGptCopies, readMbr and probeVolume, over an in-memory disk. The
// tables are real: built once by sfdisk on small sparse images, with real file systems (mkfs.fat,
// mkntfs, mkfs.exfat through a loop device that is detached in finally); the images are read into
// memory and deleted. Each case overlays mutated copies of the table sectors (protective MBR, both
// GPT headers and entry arrays, MBR and every EBR) and of the volumes' boot sectors on that disk,
// sometimes on a truncated disk; half of the GPT cases re-seal both CRCs, and a third of the cases
// make the crafted changes an attacker would (huge entry counts, entries beyond the disk,
// overlaps, EBR loops and long chains, the entry array over the header).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readLayout } from '../../src/disk/layout.js';
import { readGptCopies } from '../../src/disk/gpt.js';
import { readMbr } from '../../src/disk/mbr.js';
import { probeVolume } from '../../src/disk/probe.js';
import { crc32 } from '../../src/shared/crc32.js';
import { BadInputError, RefusedError } from '../../src/shared/errors.js';
import type { BlockDevice } from '../../src/model/disk.js';
import { buildGpt, buildMbr, diskToolsReason, MiB, tempDir, TYPE } from '../helpers/disk-images.js';
import { CASES, caseRng, fuzz, mutate, share, type Rng } from './harness.js';

const reason = diskToolsReason('mkntfs', 'mkfs.fat', 'mkfs.exfat');
const SS = 512;

/** A disk: the base image in memory with patched byte ranges over it (each case's mutations). */
class OverlayDevice implements BlockDevice {
  readonly sectorSize = SS;
  readonly name = 'fuzz-disk';
  constructor(
    private readonly base: Uint8Array,
    private readonly patches: { at: number; bytes: Uint8Array }[],
    readonly size: number,
  ) {}
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new PastEndError(`read past the end of the disk`, offset);
    const out = this.base.slice(offset, offset + length);
    for (const p of this.patches) {
      const s = Math.max(offset, p.at);
      const e = Math.min(offset + length, p.at + p.bytes.length);
      if (s < e) out.set(p.bytes.subarray(s - p.at, e - p.at), s - offset);
    }
    return out;
  }
  write(): void {
    throw new RefusedError('the fuzz disk is read-only');
  }
  flush(): void {}
}

/** The real devices throw BadInputError for reads past the end; so does this one. */
class PastEndError extends BadInputError {
  constructor(msg: string, offset: number) {
    super(msg, { file: 'fuzz-disk', offset });
  }
}

interface Disk {
  name: string;
  bytes: Uint8Array;
  /** Byte ranges holding tables and boot sectors (what the mutations target). */
  regions: [number, number][];
  volumes: [number, number][];
}

let tmp: { dir: string; cleanup: () => void } | undefined;
const disks: Disk[] = [];

beforeAll(() => {
  if (reason) return;
  tmp = tempDir('wufix-fuzz-disk-');
  try {
    const size = 48 * MiB;
    const g = path.join(tmp.dir, 'gpt.img');
    buildGpt(
      g,
      size,
      [
        { start: 1 * MiB, size: 17 * MiB, type: TYPE.ESP, name: 'EFI system partition', fs: { kind: 'fat16', label: 'ESP' } },
        { start: 18 * MiB, size: 1 * MiB, type: TYPE.MSR, name: 'Microsoft reserved partition' },
        { start: 19 * MiB, size: 12 * MiB, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'ntfs', label: 'Windows' } },
        { start: 31 * MiB, size: 8 * MiB, type: TYPE.BASIC, name: 'Data', fs: { kind: 'exfat', label: 'DATA' } },
        { start: 39 * MiB, size: 8 * MiB, type: TYPE.RECOVERY, name: 'Recovery', attributes: 0x8000000000000001n, fs: { kind: 'ntfs', label: 'Recovery' } },
      ],
      SS,
      'sfdisk',
    );
    const m = path.join(tmp.dir, 'mbr.img');
    buildMbr(
      m,
      size,
      [
        { number: 1, start: 1 * MiB, size: 12 * MiB, type: 0x07, active: true, fs: { kind: 'ntfs', label: 'System' } },
        { number: 2, start: 13 * MiB, size: 30 * MiB, type: 0x0f },
        { number: 5, start: 14 * MiB, size: 8 * MiB, type: 0x07 },
        { number: 6, start: 23 * MiB, size: 8 * MiB, type: 0x0b },
        { number: 7, start: 32 * MiB, size: 8 * MiB, type: 0x27 },
        { number: 3, start: 44 * MiB, size: 3 * MiB, type: 0x0c },
      ],
      SS,
    );
    const gb = new Uint8Array(readFileSync(g));
    const mb = new Uint8Array(readFileSync(m));
    const gptVolumes: [number, number][] = [
      [1 * MiB, 17 * MiB],
      [19 * MiB, 12 * MiB],
      [31 * MiB, 8 * MiB],
      [39 * MiB, 8 * MiB],
    ];
    disks.push({
      name: 'gpt',
      bytes: gb,
      regions: [[0, 34 * SS], [size - 33 * SS, size], ...gptVolumes.map(([s]) => [s, s + 16 * SS] as [number, number])],
      volumes: gptVolumes,
    });
    // MBR: sector 0 and the EBR of each logical (sfdisk puts it 1 MiB before... wherever the chain says).
    const dv = new DataView(mb.buffer);
    const ebrs: number[] = [];
    const ext = dv.getUint32(446 + 16 + 8, true);
    for (let e = ext, k = 0; k < 8; k++) {
      ebrs.push(e * SS);
      const link = dv.getUint32(e * SS + 446 + 16 + 8, true);
      if (link === 0) break;
      e = ext + link;
    }
    disks.push({
      name: 'mbr',
      bytes: mb,
      regions: [[0, SS], ...ebrs.map((o) => [o, o + SS] as [number, number]), [1 * MiB, 1 * MiB + 16 * SS]],
      volumes: [[1 * MiB, 12 * MiB]],
    });
  } finally {
    tmp.cleanup();
    tmp = undefined;
  }
});
afterAll(() => tmp?.cleanup());

const dvOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Re-seal a GPT copy whose header is at `hdr` (disk offsets) in the overlay: entries CRC, then header CRC. */
function resealGpt(read: (o: number, n: number) => Uint8Array, patch: (o: number, b: Uint8Array) => void, hdr: number, size: number): void {
  const h = read(hdr, SS);
  const d = dvOf(h);
  const entriesLba = Number(d.getBigUint64(72, true));
  const count = d.getUint32(80, true);
  const esize = d.getUint32(84, true);
  const bytes = count * esize;
  if (bytes > 0 && bytes <= 4 * MiB && entriesLba * SS + bytes <= size) d.setUint32(88, crc32(read(entriesLba * SS, bytes)), true);
  const hs = d.getUint32(12, true);
  if (hs >= 92 && hs <= SS) {
    d.setUint32(16, 0, true);
    d.setUint32(16, crc32(h.subarray(0, hs)), true);
  }
  patch(hdr, h);
}

/** The changes a crafted table makes (applied to the overlay), with re-sealed CRCs for GPT. */
function crafted(
  rng: Rng,
  disk: Disk,
  read: (o: number, n: number) => Uint8Array,
  overlayRead: (o: number, n: number) => Uint8Array,
  patch: (o: number, b: Uint8Array) => void,
  size: number,
): string {
  if (disk.name === 'gpt') {
    // The same change to one copy, or to both (then they agree and the semantic checks decide).
    const both = rng.chance(0.6);
    const copies = both ? [SS, disk.bytes.length - SS] : [rng.chance(0.7) ? SS : disk.bytes.length - SS];
    const kind = rng.int(7);
    const pick = {
      count: rng.pick([0xffffffff, 0x7fffffff, 1_000_000, 32768, 65536]),
      end: rng.pick([size / SS, size / SS + 1e6, 2 ** 53, 2 ** 40]),
      esize: rng.pick([0, 64, 256, 1 << 20, 0x80000000]),
      last: rng.pick([0, 1, size / SS, 2 ** 60]),
    };
    let what = '';
    for (const which of copies) {
      const h = read(which, SS);
      const d = dvOf(h);
      const entriesLba = Number(d.getBigUint64(72, true));
      const e = read(entriesLba * SS, 128 * 4);
      const ed = dvOf(e);
      switch (kind) {
        case 0:
          d.setUint32(80, pick.count, true);
          what = 'huge entry count';
          break;
        case 1:
          ed.setBigUint64(40, BigInt(pick.end), true);
          what = 'entry 1 ends beyond the disk';
          break;
        case 2:
          ed.setBigUint64(128 + 32, ed.getBigUint64(32, true) + 8n, true);
          what = 'entries 1 and 2 overlap';
          break;
        case 3:
          d.setBigUint64(72, BigInt(which / SS), true);
          what = 'entry array over the header';
          break;
        case 4:
          ed.setBigUint64(32, ed.getBigUint64(40, true) + 1n, true);
          what = 'entry 1 starts after it ends';
          break;
        case 5:
          d.setUint32(84, pick.esize, true);
          what = 'entry size';
          break;
        case 6:
          d.setBigUint64(48, BigInt(pick.last), true);
          what = 'last usable LBA';
          break;
      }
      patch(entriesLba * SS, e);
      patch(which, h);
    }
    // Re-seal after all patches (the read below sees them through the overlay).
    for (const which of copies) resealGpt(overlayRead, patch, which, size);
    return `crafted gpt${both ? ' (both copies)' : ''}: ${what}`;
  }
  // MBR: EBR loops, long chains, logicals beyond the disk, overlapping primaries.
  const s0 = read(0, SS);
  const d0 = dvOf(s0);
  const ext = d0.getUint32(446 + 16 + 8, true);
  const kind = rng.int(5);
  switch (kind) {
    case 0: {
      // The first EBR links to itself (or to the extended start again).
      const ebr = read(ext * SS, SS);
      dvOf(ebr).setUint32(446 + 16 + 8, rng.chance(0.5) ? 0 : 1, true);
      ebr[446 + 16 + 4] = 0x05;
      patch(ext * SS, ebr);
      return 'crafted mbr: EBR loop';
    }
    case 1: {
      // 300 EBRs, one per sector, each with a one-sector logical: longer than any real chain.
      for (let k = 0; k < 300; k++) {
        const at = (ext + 2 * k) * SS;
        const ebr = new Uint8Array(SS);
        ebr[510] = 0x55;
        ebr[511] = 0xaa;
        const dv = dvOf(ebr);
        ebr[446 + 4] = 0x07;
        dv.setUint32(446 + 8, 1, true);
        dv.setUint32(446 + 12, 1, true);
        ebr[446 + 16 + 4] = 0x05;
        dv.setUint32(446 + 16 + 8, 2 * (k + 1), true);
        dv.setUint32(446 + 16 + 12, 2, true);
        patch(at, ebr);
      }
      return 'crafted mbr: 300-EBR chain';
    }
    case 2:
      d0.setUint32(446 + 12, rng.pick([0xffffffff, size / SS, 0x7fffffff]), true);
      patch(0, s0);
      return 'crafted mbr: partition 1 beyond the disk';
    case 3:
      d0.setUint32(446 + 32 + 8, d0.getUint32(446 + 8, true) + 1, true);
      patch(0, s0);
      return 'crafted mbr: partitions 1 and 3 overlap';
    default: {
      for (let i = 0; i < 4; i++) s0[446 + i * 16 + 4] = 0x05;
      patch(0, s0);
      return 'crafted mbr: four extended partitions';
    }
  }
}

function runDisk(dev: OverlayDevice, volumes: [number, number][]): { outSize: number } {
  let out = 0;
  // Each reader on its own: one refusing must not hide another's crash.
  const each = (f: () => unknown) => {
    try {
      out += JSON.stringify(f(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))?.length ?? 0;
    } catch (e) {
      if (!(e instanceof BadInputError)) throw e;
    }
  };
  each(() => readGptCopies(dev));
  each(() => readMbr(dev));
  for (const [s, n] of volumes) each(() => probeVolume((o, l) => dev.read(s + o, l), Math.min(n, dev.size - s)));
  const layout = readLayout(dev);
  out += JSON.stringify(layout, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)).length;
  return { outSize: out };
}

describe.skipIf(!!reason)('fuzz: GPT/MBR tables and volume probes (readLayout + readers)', () => {
  it(`${CASES} mutated real tables on an in-memory disk: a layout or a FormatError, each case bounded`, async () => {
    expect(disks).toHaveLength(2);
    for (const d of disks) {
      const l = readLayout(new OverlayDevice(d.bytes, [], d.bytes.length));
      expect(l.partitions.length, d.name).toBeGreaterThanOrEqual(4);
      expect(l.partitions.map((p) => p.volume?.fs ?? '').join(','), d.name).toMatch(/ntfs/);
    }
    let total = 0;
    for (const [di, disk] of disks.entries()) {
      const r = await fuzz(
        `disk ${disk.name}`,
        share(CASES, disks.length, di),
        (i) => {
          const rng = caseRng(`disk:${disk.name}`, i);
          const patches: { at: number; bytes: Uint8Array }[] = [];
          const size = rng.chance(0.1) ? Math.floor(rng.int(disk.bytes.length) / SS) * SS : disk.bytes.length;
          const dev = new OverlayDevice(disk.bytes, patches, size);
          const read = (o: number, n: number) => (o >= 0 && o + n <= disk.bytes.length ? dev.read(o, Math.min(n, Math.max(0, size - o))) : new Uint8Array(n));
          const patch = (o: number, b: Uint8Array) => {
            if (o >= 0 && o + b.length <= disk.bytes.length) patches.push({ at: o, bytes: b });
          };
          const ops: string[] = size < disk.bytes.length ? [`disk cut to ${size}`] : [];
          if (i % 3 === 0 && size === disk.bytes.length) {
            ops.push(crafted(rng, disk, (o, n) => disk.bytes.slice(o, o + n), read, patch, size));
          } else {
            const regions = disk.regions.filter(() => rng.chance(0.6));
            if (regions.length === 0) regions.push(disk.regions[rng.int(disk.regions.length)]!);
            for (const [s, e] of regions) {
              const m = mutate(rng, disk.bytes.subarray(s, e), { maxOps: 6, resize: false });
              patches.push({ at: s, bytes: m.bytes });
              ops.push(`@${s}:`, ...m.ops);
            }
            if (disk.name === 'gpt' && rng.chance(0.5) && size === disk.bytes.length) {
              resealGpt(read, patch, SS, size);
              resealGpt(read, patch, size - SS, size);
              ops.push('resealed');
            }
          }
          return { input: dev, inSize: disk.regions.reduce((n, [s, e]) => n + e - s, 0), ops, label: `${disk.name} ${size}` };
        },
        (dev) => runDisk(dev, disk.volumes),
        { outFactor: 4 },
      );
      expect(r.failures).toEqual([]);
      expect(r.typed).toBeGreaterThan(0);
      total += r.cases;
    }
    expect(total).toBeGreaterThanOrEqual(CASES);
  });
});
