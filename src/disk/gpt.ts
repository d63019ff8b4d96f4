// GUID Partition Table (UEFI spec 2.x, chapter 5.3): headers, entry arrays, CRC32 checks, writing
// both copies consistently and repairing one copy from the other on request.
import { FormatError } from '../shared/errors.js';
import { crc32 } from '../shared/crc32.js';
import { guidFromBytes, guidToBytes, ZERO_GUID } from '../shared/guid.js';
import type { BlockDevice } from '../model/disk.js';

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION_1_0 = 0x00010000;
export const GPT_HEADER_SIZE = 92;
export const GPT_ENTRY_SIZE = 128;
/** Largest entry array we accept (bytes); real disks use 16 KiB. */
const MAX_ENTRY_ARRAY = 4 * 1024 * 1024;

export interface GptHeader {
  revision: number;
  headerSize: number;
  headerCrc: number;
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
}

export interface GptEntry {
  /** 0-based index in the entry array (partition number - 1). */
  index: number;
  type: string;
  guid: string;
  firstLba: number;
  lastLba: number;
  attributes: bigint;
  name: string;
}

/** One copy (primary or backup) of the table as read from disk. */
export interface GptCopy {
  header: GptHeader;
  /** The raw entry array (entryCount * entrySize bytes). */
  raw: Uint8Array;
  entries: GptEntry[];
}

function u64(buf: Uint8Array, off: number, what: string, at: number): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${what} ${v} is too large`, at + off);
  return Number(v);
}

/** Parse and check one GPT header sector read from `lba`. `base` is its byte offset (for messages). */
export function parseGptHeader(buf: Uint8Array, lba: number, base: number, which: string): GptHeader {
  const sig = String.fromCharCode(...buf.subarray(0, 8));
  if (sig !== GPT_SIGNATURE) {
    throw new FormatError(`${which} GPT header at LBA ${lba}: invalid signature, expected "EFI PART"`, base);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const revision = dv.getUint32(8, true);
  const headerSize = dv.getUint32(12, true);
  if (revision >>> 16 !== 1) {
    throw new FormatError(`${which} GPT header: unsupported revision 0x${revision.toString(16).padStart(8, '0')}`, base + 8);
  }
  if (headerSize < GPT_HEADER_SIZE || headerSize > buf.length) {
    throw new FormatError(`${which} GPT header: header size ${headerSize} out of range (92..${buf.length})`, base + 12);
  }
  const headerCrc = dv.getUint32(16, true);
  const copy = buf.slice(0, headerSize);
  copy.fill(0, 16, 20);
  const calc = crc32(copy);
  if (calc !== headerCrc) {
    throw new FormatError(`${which} GPT header at LBA ${lba}: header CRC32 mismatch (stored 0x${hex32(headerCrc)}, computed 0x${hex32(calc)})`, base + 16);
  }
  const h: GptHeader = {
    revision,
    headerSize,
    headerCrc,
    myLba: u64(buf, 24, 'MyLBA', base),
    alternateLba: u64(buf, 32, 'AlternateLBA', base),
    firstUsableLba: u64(buf, 40, 'FirstUsableLBA', base),
    lastUsableLba: u64(buf, 48, 'LastUsableLBA', base),
    diskGuid: guidFromBytes(buf, 56),
    entriesLba: u64(buf, 72, 'PartitionEntryLBA', base),
    entryCount: dv.getUint32(80, true),
    entrySize: dv.getUint32(84, true),
    entriesCrc: dv.getUint32(88, true),
  };
  if (h.myLba !== lba) throw new FormatError(`${which} GPT header: MyLBA is ${h.myLba}, expected ${lba}`, base + 24);
  if (h.entrySize < GPT_ENTRY_SIZE || h.entrySize % GPT_ENTRY_SIZE !== 0 || (h.entrySize & (h.entrySize - 1)) !== 0) {
    throw new FormatError(`${which} GPT header: partition entry size ${h.entrySize} is not 128 * 2^n`, base + 84);
  }
  if (h.entryCount === 0 || h.entryCount * h.entrySize > MAX_ENTRY_ARRAY) {
    throw new FormatError(`${which} GPT header: ${h.entryCount} partition entries is out of range`, base + 80);
  }
  if (h.firstUsableLba > h.lastUsableLba + 1) {
    throw new FormatError(`${which} GPT header: FirstUsableLBA ${h.firstUsableLba} > LastUsableLBA ${h.lastUsableLba}`, base + 40);
  }
  return h;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function decodeName(buf: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 72; i += 2) {
    const c = buf[off + i]! | (buf[off + i + 1]! << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Parse the used entries of an entry array. Entries with an all-zero type GUID are unused. */
export function parseGptEntries(raw: Uint8Array, count: number, size: number, base: number): GptEntry[] {
  const out: GptEntry[] = [];
  for (let i = 0; i < count; i++) {
    const off = i * size;
    const type = guidFromBytes(raw, off);
    if (type === ZERO_GUID) continue;
    out.push({
      index: i,
      type,
      guid: guidFromBytes(raw, off + 16),
      firstLba: u64(raw, off + 32, `entry ${i + 1} StartingLBA`, base),
      lastLba: u64(raw, off + 40, `entry ${i + 1} EndingLBA`, base),
      attributes: new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigUint64(off + 48, true),
      name: decodeName(raw, off + 56),
    });
  }
  return out;
}

/** The 128 bytes of one entry. Names longer than 36 UTF-16 code units are rejected. */
export function encodeGptEntry(e: Omit<GptEntry, 'index'>): Uint8Array {
  const b = new Uint8Array(GPT_ENTRY_SIZE);
  const dv = new DataView(b.buffer);
  b.set(guidToBytes(e.type), 0);
  b.set(guidToBytes(e.guid), 16);
  dv.setBigUint64(32, BigInt(e.firstLba), true);
  dv.setBigUint64(40, BigInt(e.lastLba), true);
  dv.setBigUint64(48, BigInt.asUintN(64, e.attributes), true);
  if (e.name.length > 36) throw new FormatError(`partition name "${e.name}" is longer than 36 UTF-16 code units`);
  for (let i = 0; i < e.name.length; i++) dv.setUint16(56 + i * 2, e.name.charCodeAt(i), true);
  return b;
}

/** A header sector (sectorSize bytes) with its CRC computed. */
export function encodeGptHeader(h: Omit<GptHeader, 'headerCrc'>, sectorSize: number): Uint8Array {
  const b = new Uint8Array(sectorSize);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) b[i] = GPT_SIGNATURE.charCodeAt(i);
  dv.setUint32(8, h.revision, true);
  dv.setUint32(12, h.headerSize, true);
  dv.setBigUint64(24, BigInt(h.myLba), true);
  dv.setBigUint64(32, BigInt(h.alternateLba), true);
  dv.setBigUint64(40, BigInt(h.firstUsableLba), true);
  dv.setBigUint64(48, BigInt(h.lastUsableLba), true);
  b.set(guidToBytes(h.diskGuid), 56);
  dv.setBigUint64(72, BigInt(h.entriesLba), true);
  dv.setUint32(80, h.entryCount, true);
  dv.setUint32(84, h.entrySize, true);
  dv.setUint32(88, h.entriesCrc, true);
  dv.setUint32(16, crc32(b, 0, h.headerSize), true);
  return b;
}

export interface GptReadResult {
  primary?: GptCopy;
  backup?: GptCopy;
  primaryError?: FormatError;
  backupError?: FormatError;
  /** Set when both copies parse but disagree. */
  mismatch?: string;
}

function readCopy(dev: BlockDevice, lba: number, which: string): GptCopy {
  const ss = dev.sectorSize;
  const lastLba = dev.size / ss - 1;
  if (lba > lastLba) {
    throw new FormatError(`${which} GPT header at LBA ${lba} is past the end of the disk (last LBA ${lastLba}; truncated image?)`);
  }
  const header = parseGptHeader(dev.read(lba * ss, ss), lba, lba * ss, which);
  const bytes = header.entryCount * header.entrySize;
  const sectors = Math.ceil(bytes / ss);
  if (header.entriesLba + sectors - 1 > lastLba) {
    throw new FormatError(`${which} GPT partition entries at LBA ${header.entriesLba} run past the end of the disk (truncated image?)`, lba * ss + 72);
  }
  if (header.lastUsableLba > lastLba) {
    throw new FormatError(
      `${which} GPT header: LastUsableLBA ${header.lastUsableLba} is past the end of the disk (last LBA ${lastLba}; truncated image?)`,
      lba * ss + 48,
    );
  }
  // The entry array must not overlap the usable area nor the header itself.
  const entriesEnd = header.entriesLba + sectors - 1;
  if ((header.entriesLba <= lba && lba <= entriesEnd) || !(entriesEnd < header.firstUsableLba || header.entriesLba > header.lastUsableLba)) {
    throw new FormatError(`${which} GPT partition entries at LBA ${header.entriesLba} overlap the header or usable area`, lba * ss + 72);
  }
  const raw = dev.read(header.entriesLba * ss, bytes);
  const calc = crc32(raw);
  if (calc !== header.entriesCrc) {
    throw new FormatError(
      `${which} GPT partition entry array: CRC32 mismatch (stored 0x${hex32(header.entriesCrc)}, computed 0x${hex32(calc)})`,
      header.entriesLba * ss,
    );
  }
  const entries = parseGptEntries(raw, header.entryCount, header.entrySize, header.entriesLba * ss);
  return { header, raw, entries };
}

/** Read both copies without throwing on a bad copy: errors are reported per copy. */
export function readGptCopies(dev: BlockDevice): GptReadResult {
  const res: GptReadResult = {};
  const lastLba = dev.size / dev.sectorSize - 1;
  try {
    res.primary = readCopy(dev, 1, 'primary');
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    res.primaryError = e;
  }
  // The backup is where the primary says (AlternateLBA); without a valid primary, at the last LBA.
  const backupLba = res.primary ? res.primary.header.alternateLba : lastLba;
  try {
    if (res.primary && backupLba !== lastLba) {
      throw new FormatError(
        backupLba > lastLba
          ? `backup GPT header expected at LBA ${backupLba} (from the primary) but the disk ends at LBA ${lastLba} (truncated image?)`
          : `backup GPT header is at LBA ${backupLba}, not at the last LBA ${lastLba} (disk enlarged after partitioning?)`,
      );
    }
    res.backup = readCopy(dev, backupLba, 'backup');
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    res.backupError = e;
  }
  if (res.primary && res.backup) {
    const p = res.primary.header;
    const b = res.backup.header;
    const diffs: string[] = [];
    if (p.diskGuid !== b.diskGuid) diffs.push('disk GUID');
    if (p.firstUsableLba !== b.firstUsableLba || p.lastUsableLba !== b.lastUsableLba) diffs.push('usable LBA range');
    if (p.entryCount !== b.entryCount || p.entrySize !== b.entrySize) diffs.push('entry array geometry');
    if (p.entriesCrc !== b.entriesCrc) diffs.push('partition entries');
    if (b.alternateLba !== 1) diffs.push('backup AlternateLBA');
    if (diffs.length) res.mismatch = `primary and backup GPT differ (${diffs.join(', ')})`;
  }
  return res;
}

/** Both copies valid and identical, or a FormatError naming what is wrong. */
export function readGptStrict(dev: BlockDevice): GptCopy {
  const r = readGptCopies(dev);
  if (r.primaryError) {
    const hint = r.backup ? ' (the backup copy is valid and can rebuild it)' : '';
    throw new FormatError(r.primaryError.message + hint, r.primaryError.offset);
  }
  if (r.backupError) {
    throw new FormatError(r.backupError.message + ' (the primary copy is valid and can rebuild it)', r.backupError.offset);
  }
  if (r.mismatch) throw new FormatError(r.mismatch);
  checkEntries(r.primary!, dev.sectorSize);
  return r.primary!;
}

/** Entries inside the usable area, start <= end, no two overlapping. */
export function checkEntries(copy: GptCopy, sectorSize: number): void {
  const h = copy.header;
  const at = (e: GptEntry) => h.entriesLba * sectorSize + e.index * h.entrySize;
  for (const e of copy.entries) {
    if (e.firstLba > e.lastLba) {
      throw new FormatError(`GPT partition ${e.index + 1}: starting LBA ${e.firstLba} > ending LBA ${e.lastLba}`, at(e) + 32);
    }
    if (e.firstLba < h.firstUsableLba || e.lastLba > h.lastUsableLba) {
      throw new FormatError(
        `GPT partition ${e.index + 1}: LBAs ${e.firstLba}-${e.lastLba} outside the usable area ${h.firstUsableLba}-${h.lastUsableLba}`,
        at(e) + 32,
      );
    }
  }
  const sorted = [...copy.entries].sort((a, b) => a.firstLba - b.firstLba);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.firstLba <= a.lastLba) {
      const [x, y] = a.index < b.index ? [a, b] : [b, a];
      throw new FormatError(`GPT partitions ${x.index + 1} and ${y.index + 1} overlap`, at(y) + 32);
    }
  }
}

export interface SectorWrite {
  offset: number;
  bytes: Uint8Array;
}

/**
 * The writes that put `raw` (a full entry array) on disk as both copies, with headers derived from
 * `base` (the primary header being replaced). Backup first, primary last: an interrupted write
 * leaves the old primary intact.
 */
export function gptWrites(base: GptHeader, raw: Uint8Array, sectorSize: number, diskSectors: number): SectorWrite[] {
  const lastLba = diskSectors - 1;
  const entriesCrc = crc32(raw);
  const entrySectors = Math.ceil(raw.length / sectorSize);
  const backupEntriesLba = base.lastUsableLba + 1;
  if (backupEntriesLba + entrySectors > lastLba) {
    throw new FormatError(`no room for the backup GPT entry array between LBA ${backupEntriesLba} and ${lastLba}`);
  }
  const padded = new Uint8Array(entrySectors * sectorSize);
  padded.set(raw);
  const common = {
    revision: base.revision,
    headerSize: base.headerSize,
    firstUsableLba: base.firstUsableLba,
    lastUsableLba: base.lastUsableLba,
    diskGuid: base.diskGuid,
    entryCount: base.entryCount,
    entrySize: base.entrySize,
    entriesCrc,
  };
  const primaryEntriesLba = base.entriesLba;
  const primary = encodeGptHeader({ ...common, myLba: 1, alternateLba: lastLba, entriesLba: primaryEntriesLba }, sectorSize);
  const backup = encodeGptHeader({ ...common, myLba: lastLba, alternateLba: 1, entriesLba: backupEntriesLba }, sectorSize);
  if (primaryEntriesLba < 2 || primaryEntriesLba + entrySectors > base.firstUsableLba) {
    throw new FormatError(`no room for the primary GPT entry array before FirstUsableLBA ${base.firstUsableLba}`);
  }
  return [
    { offset: backupEntriesLba * sectorSize, bytes: padded },
    { offset: lastLba * sectorSize, bytes: backup },
    { offset: primaryEntriesLba * sectorSize, bytes: padded },
    { offset: sectorSize, bytes: primary },
  ];
}

/**
 * Rewrite a missing or corrupt copy from the valid one. Only called when the user asks for it.
 * Returns what was repaired; throws when the source copy is not valid.
 */
export function repairGpt(dev: BlockDevice, from: 'primary' | 'backup'): string {
  const r = readGptCopies(dev);
  const src = from === 'primary' ? r.primary : r.backup;
  if (!src) {
    const err = from === 'primary' ? r.primaryError : r.backupError;
    throw new FormatError(`cannot repair from the ${from} GPT: ${err?.message ?? 'not valid'}`, err?.offset);
  }
  const target = from === 'primary' ? 'backup' : 'primary';
  const targetOk = from === 'primary' ? r.backup : r.primary;
  if (targetOk && !r.mismatch) return `nothing to repair: both GPT copies are valid and agree`;
  checkEntries(src, dev.sectorSize);
  const base: GptHeader = from === 'primary' ? src.header : { ...src.header, myLba: 1, entriesLba: 2 };
  // Writing both copies from the source leaves the source's bytes unchanged when it is the primary
  // (same header fields and entries); for a backup source this rebuilds the primary at LBA 1/2.
  for (const w of gptWrites(base, src.raw, dev.sectorSize, dev.size / dev.sectorSize)) dev.write(w.offset, w.bytes);
  dev.flush();
  return `rebuilt the ${target} GPT from the ${from} copy`;
}
