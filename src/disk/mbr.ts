// Master Boot Record: four primary entries, disk signature, boot indicator, and the chain of
// Extended Boot Records (EBRs) that holds logical partitions.
import { FormatError } from '../shared/errors.js';
import type { BlockDevice } from '../model/disk.js';
import type { SectorWrite } from './gpt.js';

export const MBR_TYPE = {
  FAT12: 0x01,
  FAT16_SMALL: 0x04,
  EXTENDED_CHS: 0x05,
  FAT16: 0x06,
  NTFS: 0x07,
  FAT32_CHS: 0x0b,
  FAT32_LBA: 0x0c,
  FAT16_LBA: 0x0e,
  EXTENDED_LBA: 0x0f,
  WINRE: 0x27,
  LDM: 0x42,
  LINUX_SWAP: 0x82,
  LINUX: 0x83,
  LINUX_EXTENDED: 0x85,
  LINUX_LVM: 0x8e,
  GPT_PROTECTIVE: 0xee,
  EFI_SYSTEM: 0xef,
  LINUX_RAID: 0xfd,
} as const;

export function isExtendedType(t: number): boolean {
  return t === MBR_TYPE.EXTENDED_CHS || t === MBR_TYPE.EXTENDED_LBA || t === MBR_TYPE.LINUX_EXTENDED;
}

/** One 16-byte partition record. startLba is relative to the sector it was read from. */
export interface MbrEntry {
  status: number;
  type: number;
  startLba: number;
  sectors: number;
}

export interface MbrSector {
  diskSignature: number;
  /** Four records; type 0 = unused. */
  entries: MbrEntry[];
}

const TABLE_OFFSET = 446;
const MAX_LOGICALS = 256;

export function hasBootSignature(sector: Uint8Array): boolean {
  return sector.length >= 512 && sector[510] === 0x55 && sector[511] === 0xaa;
}

/** Parse a sector holding a partition table (MBR or EBR). `base` is its byte offset on disk. */
export function parseMbrSector(buf: Uint8Array, base: number, which: string): MbrSector {
  if (!hasBootSignature(buf)) {
    throw new FormatError(`${which}: boot signature 0x55AA missing at byte 510 (no partition table)`, base + 510);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const entries: MbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const off = TABLE_OFFSET + i * 16;
    entries.push({
      status: buf[off]!,
      type: buf[off + 4]!,
      startLba: dv.getUint32(off + 8, true),
      sectors: dv.getUint32(off + 12, true),
    });
  }
  return { diskSignature: dv.getUint32(440, true), entries };
}

/** CHS triple for an LBA with the usual 255 heads / 63 sectors geometry; 1023/254/63 past 8 GB. */
export function chsBytes(lba: number): [number, number, number] {
  const spt = 63;
  const heads = 255;
  let c = Math.floor(lba / (spt * heads));
  let h = Math.floor(lba / spt) % heads;
  let s = (lba % spt) + 1;
  if (c > 1023) {
    c = 1023;
    h = 254;
    s = 63;
  }
  return [h, (s & 0x3f) | ((c >> 2) & 0xc0), c & 0xff];
}

/** Encode one record. `absStart` is the absolute LBA used for the CHS fields. */
export function encodeMbrEntry(e: MbrEntry, absStart: number): Uint8Array {
  const b = new Uint8Array(16);
  if (e.type === 0) return b;
  const dv = new DataView(b.buffer);
  b[0] = e.status;
  b.set(chsBytes(absStart), 1);
  b[4] = e.type;
  b.set(chsBytes(absStart + e.sectors - 1), 5);
  dv.setUint32(8, e.startLba, true);
  dv.setUint32(12, e.sectors, true);
  return b;
}

/** A logical partition: its record made absolute, and where its EBR is. */
export interface MbrLogical {
  ebrLba: number;
  status: number;
  type: number;
  startLba: number;
  sectors: number;
}

export interface MbrTable {
  diskSignature: number;
  /** Slots 0-3; type 0 = unused. startLba absolute (= relative for the MBR). */
  primaries: MbrEntry[];
  /** Slot of the extended partition, -1 when none. */
  extendedSlot: number;
  logicals: MbrLogical[];
}

function sameEntry(a: MbrEntry, b: MbrEntry): boolean {
  if (a.type === 0 && b.type === 0) return true;
  return a.status === b.status && a.type === b.type && a.startLba === b.startLba && a.sectors === b.sectors;
}

/** Read and check the MBR and its EBR chain. Throws FormatError with the exact problem. */
export function readMbr(dev: BlockDevice, sector0?: Uint8Array): MbrTable {
  const ss = dev.sectorSize;
  const diskSectors = dev.size / ss;
  const mbr = parseMbrSector(sector0 ?? dev.read(0, ss), 0, 'MBR');
  const primaries = mbr.entries.map((e) => (e.type === 0 ? { status: 0, type: 0, startLba: 0, sectors: 0 } : e));
  let extendedSlot = -1;
  primaries.forEach((e, i) => {
    const at = TABLE_OFFSET + i * 16;
    if (e.type === 0) return;
    if (e.status !== 0 && e.status !== 0x80) {
      throw new FormatError(`MBR partition ${i + 1}: invalid boot indicator 0x${e.status.toString(16).padStart(2, '0')}`, at);
    }
    if (e.sectors === 0 || e.startLba === 0) {
      throw new FormatError(`MBR partition ${i + 1}: empty or invalid extent (start ${e.startLba}, ${e.sectors} sectors)`, at + 8);
    }
    if (e.startLba + e.sectors > diskSectors) {
      throw new FormatError(
        `MBR partition ${i + 1} ends at sector ${e.startLba + e.sectors - 1}, past the end of the disk (${diskSectors} sectors; truncated image?)`,
        at + 8,
      );
    }
    if (isExtendedType(e.type)) {
      if (extendedSlot >= 0) throw new FormatError(`MBR: more than one extended partition (${extendedSlot + 1} and ${i + 1})`, at + 4);
      extendedSlot = i;
    }
  });
  const used = primaries.map((e, i) => ({ e, i })).filter((x) => x.e.type !== 0);
  used.sort((a, b) => a.e.startLba - b.e.startLba);
  for (let k = 1; k < used.length; k++) {
    const a = used[k - 1]!;
    const b = used[k]!;
    if (b.e.startLba < a.e.startLba + a.e.sectors) {
      const [x, y] = a.i < b.i ? [a.i, b.i] : [b.i, a.i];
      throw new FormatError(`MBR partitions ${x + 1} and ${y + 1} overlap`, TABLE_OFFSET + y * 16 + 8);
    }
  }
  const logicals: MbrLogical[] = [];
  if (extendedSlot >= 0) {
    const ext = primaries[extendedSlot]!;
    const extEnd = ext.startLba + ext.sectors; // exclusive
    let ebrLba = ext.startLba;
    const seen = new Set<number>();
    for (;;) {
      if (seen.has(ebrLba)) throw new FormatError(`EBR chain loops back to sector ${ebrLba}`, ebrLba * ss + TABLE_OFFSET + 16);
      if (seen.size >= MAX_LOGICALS) throw new FormatError(`EBR chain longer than ${MAX_LOGICALS} entries`, ebrLba * ss);
      seen.add(ebrLba);
      const ebr = parseMbrSector(dev.read(ebrLba * ss, ss), ebrLba * ss, `EBR at sector ${ebrLba}`);
      const [l, link] = [ebr.entries[0]!, ebr.entries[1]!];
      const number = 5 + logicals.length;
      if (ebr.entries[2]!.type !== 0 || ebr.entries[3]!.type !== 0) {
        throw new FormatError(`EBR at sector ${ebrLba}: entries 3-4 must be unused`, ebrLba * ss + TABLE_OFFSET + 32);
      }
      if (l.type === 0) {
        if (ebrLba === ext.startLba && link.type === 0) break; // extended partition without logicals
        throw new FormatError(`EBR at sector ${ebrLba} describes no logical partition`, ebrLba * ss + TABLE_OFFSET);
      }
      if (isExtendedType(l.type)) throw new FormatError(`EBR at sector ${ebrLba}: first entry is an extended type`, ebrLba * ss + TABLE_OFFSET + 4);
      if (l.status !== 0 && l.status !== 0x80) {
        throw new FormatError(`logical partition ${number}: invalid boot indicator 0x${l.status.toString(16)}`, ebrLba * ss + TABLE_OFFSET);
      }
      const start = ebrLba + l.startLba;
      if (l.startLba === 0 || l.sectors === 0 || start + l.sectors > extEnd) {
        throw new FormatError(
          `logical partition ${number} (sectors ${start}-${start + l.sectors - 1}) is not inside the extended partition (sectors ${ext.startLba}-${extEnd - 1})`,
          ebrLba * ss + TABLE_OFFSET + 8,
        );
      }
      const prev = logicals[logicals.length - 1];
      if (prev && ebrLba < prev.startLba + prev.sectors) {
        throw new FormatError(`logical partitions ${number - 1} and ${number} overlap (EBR at sector ${ebrLba})`, ebrLba * ss + TABLE_OFFSET + 8);
      }
      logicals.push({ ebrLba, status: l.status, type: l.type, startLba: start, sectors: l.sectors });
      if (link.type === 0) break;
      if (!isExtendedType(link.type)) {
        throw new FormatError(`EBR at sector ${ebrLba}: link entry has type 0x${link.type.toString(16)}, expected 0x05/0x0f`, ebrLba * ss + TABLE_OFFSET + 20);
      }
      const next = ext.startLba + link.startLba;
      if (next <= ebrLba || next >= extEnd) {
        throw new FormatError(
          `EBR at sector ${ebrLba}: next EBR at sector ${next} is not after it inside the extended partition`,
          ebrLba * ss + TABLE_OFFSET + 24,
        );
      }
      if (next < start + l.sectors) {
        throw new FormatError(`EBR at sector ${next} lies inside logical partition ${number}`, ebrLba * ss + TABLE_OFFSET + 24);
      }
      ebrLba = next;
    }
  }
  return { diskSignature: mbr.diskSignature, primaries, extendedSlot, logicals };
}

function freshSector(ss: number): Uint8Array {
  const b = new Uint8Array(ss);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** Patch the records of a table sector in place where they differ from `want`; true if changed. */
function patch(sector: Uint8Array, want: (MbrEntry & { abs: number })[]): boolean {
  const cur = parseMbrSectorLoose(sector);
  let changed = !hasBootSignature(sector);
  want.forEach((w, i) => {
    if (!sameEntry(cur[i]!, w)) {
      sector.set(encodeMbrEntry(w, w.abs), TABLE_OFFSET + i * 16);
      changed = true;
    }
  });
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return changed;
}

function parseMbrSectorLoose(buf: Uint8Array): MbrEntry[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: MbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const off = TABLE_OFFSET + i * 16;
    out.push({ status: buf[off]!, type: buf[off + 4]!, startLba: dv.getUint32(off + 8, true), sectors: dv.getUint32(off + 12, true) });
  }
  return out;
}

const EMPTY = { status: 0, type: 0, startLba: 0, sectors: 0, abs: 0 };

/**
 * Sector writes that make the disk hold `table`, comparing with what is on disk now: sectors whose
 * records already match are not written, and only the differing records of a sector are re-encoded
 * (boot code, disk signature and untouched records keep their bytes).
 */
export function mbrWrites(dev: BlockDevice, before: MbrTable, table: MbrTable): SectorWrite[] {
  // Sectors that are EBRs now; any other sector becoming an EBR is written from scratch.
  const ebrsNow = new Set(before.logicals.map((l) => l.ebrLba));
  if (before.extendedSlot >= 0) ebrsNow.add(before.primaries[before.extendedSlot]!.startLba);
  const ss = dev.sectorSize;
  const writes: SectorWrite[] = [];
  const s0 = dev.read(0, ss).slice();
  const want0 = table.primaries.map((e) => (e.type === 0 ? EMPTY : { ...e, abs: e.startLba }));
  const s0changed = patch(s0, want0);
  if (table.extendedSlot >= 0) {
    const ext = table.primaries[table.extendedSlot]!;
    const ls = table.logicals;
    if (ls.length === 0) {
      const isNew = !ebrsNow.has(ext.startLba);
      const s = isNew ? freshSector(ss) : dev.read(ext.startLba * ss, ss).slice();
      if (patch(s, [EMPTY, EMPTY, EMPTY, EMPTY]) || isNew) writes.push({ offset: ext.startLba * ss, bytes: s });
    }
    ls.forEach((l, i) => {
      if (i === 0 && l.ebrLba !== ext.startLba) throw new FormatError(`the first EBR must be at the start of the extended partition`);
      const next = ls[i + 1];
      const want = [
        { status: l.status, type: l.type, startLba: l.startLba - l.ebrLba, sectors: l.sectors, abs: l.startLba },
        next
          ? {
              status: 0,
              type: MBR_TYPE.EXTENDED_CHS,
              startLba: next.ebrLba - ext.startLba,
              sectors: next.startLba + next.sectors - next.ebrLba,
              abs: next.ebrLba,
            }
          : EMPTY,
        EMPTY,
        EMPTY,
      ];
      // A sector that is not an EBR yet is written from scratch (no stale boot code or records).
      const isNew = !ebrsNow.has(l.ebrLba);
      const sector = isNew ? freshSector(ss) : dev.read(l.ebrLba * ss, ss).slice();
      if (patch(sector, want) || isNew) writes.push({ offset: l.ebrLba * ss, bytes: sector });
    });
  }
  // Crash order: new EBR sectors before anything links to them, existing EBRs from the end of the
  // chain back to the start, the MBR last.
  const fresh = writes.filter((w) => !ebrsNow.has(w.offset / ss));
  const existing = writes.filter((w) => ebrsNow.has(w.offset / ss)).reverse();
  return [...fresh, ...existing, ...(s0changed ? [{ offset: 0, bytes: s0 }] : [])];
}
