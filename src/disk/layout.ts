// Read a whole disk layout (scheme, partitions, volumes, free space) from a BlockDevice.
import { BadInputError, FormatError } from '../shared/errors.js';
import { readGptStrict, GPT_SIGNATURE } from './gpt.js';
import { hasBootSignature, isExtendedType, MBR_TYPE, parseMbrSector, readMbr } from './mbr.js';
import { probeVolume } from './probe.js';
import { gptRole, mbrRole, mbrTypeString } from './roles.js';
import { type BlockDevice, type Layout, type Partition, type Region } from '../model/disk.js';
import { MiB } from '../shared/units.js';

export interface ReadOptions {
  /** Probe each partition's volume (default true). */
  probe?: boolean;
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Aligned free regions: each gap's start rounded up to 1 MiB, kept when at least 1 MiB remains. */
export function alignedFree(gaps: Region[]): Region[] {
  const out: Region[] = [];
  for (const g of gaps) {
    const s = alignUp(g.start, MiB);
    const end = g.start + g.size;
    if (end - s >= MiB) out.push({ start: s, size: end - s });
  }
  return out;
}

/** Gaps of [lo, hi) not covered by `used` (byte ranges). */
export function gapsBetween(lo: number, hi: number, used: Region[]): Region[] {
  const sorted = [...used].sort((a, b) => a.start - b.start);
  const out: Region[] = [];
  let pos = lo;
  for (const u of sorted) {
    if (u.start > pos) out.push({ start: pos, size: Math.min(u.start, hi) - pos });
    pos = Math.max(pos, u.start + u.size);
    if (pos >= hi) break;
  }
  if (pos < hi) out.push({ start: pos, size: hi - pos });
  return out.filter((g) => g.size > 0);
}

/** Free regions of a GPT layout: inside the usable LBA range. */
export function gptFree(l: Pick<Layout, 'partitions' | 'sectorSize'> & { gpt: { firstUsableLba: number; lastUsableLba: number } }): Region[] {
  const ss = l.sectorSize;
  return alignedFree(gapsBetween(l.gpt.firstUsableLba * ss, (l.gpt.lastUsableLba + 1) * ss, l.partitions));
}

/**
 * Free regions of an MBR layout. Outside the extended partition: gaps from sector 1 to the end of
 * the addressable disk (2^32 sectors). Inside it: only the space after the last logical partition
 * (or the whole container when it has none), starting one sector later for the new EBR; that is
 * where a logical partition can be added without renumbering the others. Gaps between logical
 * partitions are not listed.
 */
export function mbrFree(l: Pick<Layout, 'partitions' | 'sectorSize' | 'sizeBytes'>): Region[] {
  const ss = l.sectorSize;
  const end = Math.min(l.sizeBytes, 2 ** 32 * ss);
  const primaries = l.partitions.filter((p) => !p.logical);
  const out = alignedFree(gapsBetween(ss, end, primaries));
  const ext = primaries.find((p) => p.role === 'extended' && isExtendedType(parseInt(p.type, 16)));
  if (ext) {
    const logicals = l.partitions.filter((p) => p.logical);
    const lastEnd = Math.max(ext.start, ...logicals.map((p) => p.start + p.size));
    const extEnd = ext.start + ext.size;
    if (extEnd - lastEnd > ss) out.push(...alignedFree([{ start: lastEnd + ss, size: extEnd - lastEnd - ss }]));
  }
  return out.sort((a, b) => a.start - b.start);
}

function probeInto(dev: BlockDevice, p: Partition): void {
  const read = (off: number, len: number) => dev.read(p.start + off, len);
  p.volume = probeVolume(read, p.size);
}

function readGptLayout(dev: BlockDevice): Layout {
  const ss = dev.sectorSize;
  const copy = readGptStrict(dev);
  const h = copy.header;
  const partitions: Partition[] = copy.entries.map((e) => ({
    number: e.index + 1,
    start: e.firstLba * ss,
    size: (e.lastLba - e.firstLba + 1) * ss,
    type: e.type,
    role: gptRole(e.type),
    name: e.name,
    attributes: e.attributes,
    guid: e.guid,
    active: false,
  }));
  const gpt = {
    firstUsableLba: h.firstUsableLba,
    lastUsableLba: h.lastUsableLba,
    primaryEntriesLba: h.entriesLba,
    backupEntriesLba: h.lastUsableLba + 1,
    backupHeaderLba: h.alternateLba,
    entryCount: h.entryCount,
    entrySize: h.entrySize,
    headerSize: h.headerSize,
    revision: h.revision,
  };
  return {
    scheme: 'gpt',
    sectorSize: ss,
    sizeBytes: dev.size,
    diskGuid: h.diskGuid,
    partitions,
    free: gptFree({ partitions, sectorSize: ss, gpt }),
    gpt,
  };
}

function readMbrLayout(dev: BlockDevice, sector0: Uint8Array): Layout {
  const ss = dev.sectorSize;
  const t = readMbr(dev, sector0);
  const partitions: Partition[] = [];
  t.primaries.forEach((e, i) => {
    if (e.type === 0) return;
    partitions.push({
      number: i + 1,
      start: e.startLba * ss,
      size: e.sectors * ss,
      type: mbrTypeString(e.type),
      role: mbrRole(e.type),
      active: e.status === 0x80,
    });
  });
  const ebrOffsets = new Map<number, number>();
  t.logicals.forEach((l, i) => {
    ebrOffsets.set(5 + i, l.ebrLba * ss);
    partitions.push({
      number: 5 + i,
      start: l.startLba * ss,
      size: l.sectors * ss,
      type: mbrTypeString(l.type),
      role: mbrRole(l.type),
      active: l.status === 0x80,
      logical: true,
    });
  });
  const layout: Layout = {
    scheme: 'mbr',
    sectorSize: ss,
    sizeBytes: dev.size,
    signature: t.diskSignature,
    partitions,
    free: [],
    mbr: { extendedNumber: t.extendedSlot + 1, ebrOffsets },
  };
  layout.free = mbrFree(layout);
  return layout;
}

/**
 * Read the layout. Strict: a table that is corrupt, inconsistent, hybrid or truncated is a
 * BadInputError (exit 2) naming the problem. Nothing is written.
 */
export function readLayout(dev: BlockDevice, opts: ReadOptions = {}): Layout {
  const ss = dev.sectorSize;
  if (dev.size < ss * 2) throw new BadInputError(`disk is only ${dev.size} bytes: too small for a partition table`, { file: dev.name });
  let layout: Layout;
  try {
    const sector0 = dev.read(0, ss);
    const gptAt1 = String.fromCharCode(...dev.read(ss, 8)) === GPT_SIGNATURE;
    // A file system written over the whole disk ("superfloppy") also ends its first sector with 0x55AA.
    const whole = gptAt1 ? undefined : probeVolume((off, len) => dev.read(off, len), Math.min(dev.size, 1 << 20));
    if (whole && whole.fs !== 'unknown') {
      throw new FormatError(`no partition table: the whole disk is one ${whole.fs} volume (no MBR or GPT)`, 0);
    }
    if (!hasBootSignature(sector0)) {
      throw new FormatError(
        gptAt1
          ? 'GPT header found but the protective MBR is missing (no 0x55AA at byte 510); not supported'
          : 'no partition table: no MBR boot signature 0x55AA at byte 510',
        510,
      );
    }
    const mbr = parseMbrSector(sector0, 0, 'MBR');
    const used = mbr.entries.map((e, i) => ({ e, n: i + 1 })).filter((x) => x.e.type !== 0);
    const prot = used.filter((x) => x.e.type === MBR_TYPE.GPT_PROTECTIVE);
    if (prot.length > 0) {
      if (used.length > 1) {
        const others = used.filter((x) => x.e.type !== MBR_TYPE.GPT_PROTECTIVE).map((x) => x.n);
        throw new FormatError(
          `hybrid MBR (protective 0xEE entry plus MBR partition${others.length > 1 ? 's' : ''} ${others.join(', ')}) is not supported`,
          446,
        );
      }
      layout = readGptLayout(dev);
    } else {
      if (gptAt1) {
        throw new FormatError('MBR partition table without a protective 0xEE entry, but a GPT header at LBA 1: ambiguous, not supported', ss);
      }
      layout = readMbrLayout(dev, sector0);
    }
  } catch (e) {
    if (e instanceof BadInputError && e.file === undefined) {
      throw new BadInputError(e.message, { file: dev.name, offset: e.offset, code: e.code });
    }
    throw e;
  }
  if (opts.probe !== false) {
    for (const p of layout.partitions) if (p.role !== 'extended') probeInto(dev, p);
  }
  return layout;
}
