// Volume probes: what file system (or BitLocker) a partition holds, from its boot sector and, for
// labels, a few more sectors. Pure: works on a reader of volume-relative byte ranges.
import type { VolumeInfo } from '../model/disk.js';

/** Reads `length` bytes at a byte offset relative to the start of the volume. */
export type VolumeReader = (offset: number, length: number) => Uint8Array;

const ascii = (b: Uint8Array, off: number, len: number) => String.fromCharCode(...b.subarray(off, off + len));
const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** BitLocker boot-sector magics (util-linux libblkid bitlocker.c; libyal libbde). */
const BDE_VISTA = [0xeb, 0x52, 0x90, ...Buffer.from('-FVE-FS-')];
const BDE_WIN7 = [0xeb, 0x58, 0x90, ...Buffer.from('-FVE-FS-')];
const BDE_TOGO = [0xeb, 0x58, 0x90, ...Buffer.from('MSWIN4.1')];
const FVE_MAGIC = '-FVE-FS-';

function startsWith(b: Uint8Array, magic: number[]): boolean {
  return magic.every((v, i) => b[i] === v);
}

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
function u64n(b: Uint8Array, o: number): number {
  return u32(b, o) + u32(b, o + 4) * 2 ** 32;
}

function utf16(b: Uint8Array, off: number, chars: number): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += String.fromCharCode(u16(b, off + i * 2));
  return s;
}

function safeRead(read: VolumeReader, size: number, off: number, len: number): Uint8Array | undefined {
  if (off < 0 || len <= 0 || off + len > size) return undefined;
  try {
    return read(off, len);
  } catch {
    return undefined;
  }
}

/** BitLocker flavour, or undefined. Win7/To Go need the FVE metadata block the header points at. */
export function probeBitLocker(bs: Uint8Array, read: VolumeReader, size: number): VolumeInfo['bitlocker'] {
  if (startsWith(bs, BDE_VISTA)) return 'vista';
  const kind = startsWith(bs, BDE_WIN7) ? 'win7' : startsWith(bs, BDE_TOGO) ? 'togo' : undefined;
  if (!kind) return undefined;
  const metaOff = u64n(bs, kind === 'win7' ? 176 : 440);
  if (metaOff === 0) return undefined;
  const fve = safeRead(read, size, metaOff, 8);
  return fve && ascii(fve, 0, 8) === FVE_MAGIC ? kind : undefined;
}

/**
 * Apply an NTFS multi-sector "update sequence" fixup to a record; false when it is torn. The stride
 * is always 512 bytes, whatever the sector size (ntfs-3g NTFS_BLOCK_SIZE).
 */
function applyFixup(rec: Uint8Array): boolean {
  const stride = 512;
  const usaOff = u16(rec, 4);
  const usaCount = u16(rec, 6);
  if (usaCount === 0 || usaOff + usaCount * 2 > rec.length) return false;
  const usn = u16(rec, usaOff);
  for (let i = 1; i < usaCount; i++) {
    const end = i * stride - 2;
    if (end + 2 > rec.length) return false;
    if (u16(rec, end) !== usn) return false;
    rec[end] = rec[usaOff + i * 2]!;
    rec[end + 1] = rec[usaOff + i * 2 + 1]!;
  }
  return true;
}

/** $VOLUME_NAME (attribute 0x60) of MFT record 3 ($Volume); '' when absent or unreadable. */
function ntfsLabel(read: VolumeReader, size: number, cluster: number, bs: Uint8Array): string {
  const mftLcn = u64n(bs, 0x30);
  const cpr = (bs[0x40]! << 24) >> 24; // signed
  const recSize = cpr > 0 ? cpr * cluster : 2 ** -cpr;
  if (!isPow2(recSize) || recSize < 256 || recSize > 65536) return '';
  const rec = safeRead(read, size, mftLcn * cluster + 3 * recSize, recSize);
  if (!rec || ascii(rec, 0, 4) !== 'FILE') return '';
  const copy = rec.slice();
  if (!applyFixup(copy)) return '';
  let off = u16(copy, 0x14);
  while (off + 16 <= copy.length) {
    const type = u32(copy, off);
    if (type === 0xffffffff) break;
    const len = u32(copy, off + 4);
    if (len < 16 || off + len > copy.length) break;
    if (type === 0x60 && copy[off + 8] === 0) {
      const vlen = u32(copy, off + 0x10);
      const voff = u16(copy, off + 0x14);
      if (off + voff + vlen > copy.length) return '';
      return utf16(copy, off + voff, vlen >> 1);
    }
    off += len;
  }
  return '';
}

function probeNtfs(bs: Uint8Array, read: VolumeReader, size: number): VolumeInfo | undefined {
  if (ascii(bs, 3, 8) !== 'NTFS    ') return undefined;
  const bps = u16(bs, 11);
  const spcRaw = bs[13]!;
  const spc = spcRaw > 0x80 ? 2 ** (256 - spcRaw) : spcRaw;
  if (!isPow2(bps) || bps < 256 || bps > 4096 || !isPow2(spc)) return undefined;
  const cluster = bps * spc;
  const info: VolumeInfo = {
    fs: 'ntfs',
    label: ntfsLabel(read, size, cluster, bs),
    // 64-bit serial printed as two 32-bit halves (a JS number would lose the low bits)
    serial: hex(u32(bs, 0x4c), 8) + hex(u32(bs, 0x48), 8),
    bytesPerSector: bps,
    clusterSize: cluster,
    totalSectors: u64n(bs, 0x28),
  };
  return info;
}

function fatLabel(raw: string): string {
  const t = raw.replace(/[ \0]+$/, '');
  return t === 'NO NAME' ? '' : t;
}

/**
 * The volume-label entry (attribute 0x08, not a long-name entry) of a FAT root directory; Windows
 * changes only this entry when relabelling, so it wins over the boot-sector copy (as in blkid).
 * Only the first 64 KiB of the root directory are searched. undefined when there is none.
 */
function fatRootLabel(read: VolumeReader, size: number, off: number, len: number): string | undefined {
  const dir = safeRead(read, size, off, Math.min(len, 64 * 1024));
  if (!dir) return undefined;
  for (let o = 0; o + 32 <= dir.length; o += 32) {
    const first = dir[o]!;
    if (first === 0) break;
    if (first === 0xe5) continue;
    const attr = dir[o + 11]!;
    if ((attr & 0x3f) === 0x0f) continue; // long file name entry
    if (attr & 0x08) return ascii(dir, o, 11).replace(/[ \0]+$/, '');
  }
  return undefined;
}

function probeFat(bs: Uint8Array, read: VolumeReader, size: number): VolumeInfo | undefined {
  if (bs[510] !== 0x55 || bs[511] !== 0xaa) return undefined;
  if (!(bs[0] === 0xeb && bs[2] === 0x90) && bs[0] !== 0xe9) return undefined;
  const bps = u16(bs, 11);
  const spc = bs[13]!;
  const reserved = u16(bs, 14);
  const nfats = bs[16]!;
  const rootEntries = u16(bs, 17);
  const total = u16(bs, 19) || u32(bs, 32);
  const fat16Size = u16(bs, 22);
  const fatSize = fat16Size || u32(bs, 36);
  if (!isPow2(bps) || bps < 512 || bps > 4096 || !isPow2(spc) || reserved === 0 || nfats === 0 || fatSize === 0 || total === 0) {
    return undefined;
  }
  const rootSectors = Math.ceil((rootEntries * 32) / bps);
  const dataSectors = total - (reserved + nfats * fatSize + rootSectors);
  if (dataSectors <= 0) return undefined;
  const clusters = Math.floor(dataSectors / spc);
  const fat32 = fat16Size === 0;
  const fs = fat32 ? 'fat32' : clusters < 4085 ? 'fat12' : 'fat16';
  const ext = fat32 ? 0x40 : 0x24;
  const info: VolumeInfo = { fs, label: '', bytesPerSector: bps, clusterSize: bps * spc, totalSectors: total };
  if (bs[ext + 2] === 0x29 || bs[ext + 2] === 0x28) {
    const serial = u32(bs, ext + 3);
    info.serial = `${hex(serial >>> 16, 4)}-${hex(serial & 0xffff, 4)}`;
    if (bs[ext + 2] === 0x29) info.label = fatLabel(ascii(bs, ext + 7, 11));
  }
  const rootStart = (reserved + nfats * fatSize) * bps;
  const rootLabel = fat32
    ? fatRootLabel(read, size, rootStart + (u32(bs, 44) - 2) * bps * spc, bps * spc)
    : fatRootLabel(read, size, rootStart, rootSectors * bps);
  if (rootLabel !== undefined) info.label = rootLabel;
  return info;
}

function probeExfat(bs: Uint8Array, read: VolumeReader, size: number): VolumeInfo | undefined {
  if (ascii(bs, 3, 8) !== 'EXFAT   ') return undefined;
  const bpsShift = bs[108]!;
  const spcShift = bs[109]!;
  if (bpsShift < 9 || bpsShift > 12 || bpsShift + spcShift > 25) return undefined;
  const bps = 2 ** bpsShift;
  const cluster = bps * 2 ** spcShift;
  const serial = u32(bs, 100);
  const info: VolumeInfo = {
    fs: 'exfat',
    label: '',
    serial: `${hex(serial >>> 16, 4)}-${hex(serial & 0xffff, 4)}`,
    bytesPerSector: bps,
    clusterSize: cluster,
    totalSectors: u64n(bs, 72),
  };
  // The label is a 0x83 entry in the root directory (first cluster is enough for it in practice).
  const heap = u32(bs, 88) * bps;
  const rootCluster = u32(bs, 96);
  if (rootCluster >= 2) {
    const dir = safeRead(read, size, heap + (rootCluster - 2) * cluster, Math.min(cluster, 64 * 1024));
    if (dir) {
      for (let o = 0; o + 32 <= dir.length; o += 32) {
        const t = dir[o]!;
        if (t === 0) break;
        if (t === 0x83) {
          info.label = utf16(dir, o + 2, Math.min(dir[o + 1]!, 11));
          break;
        }
      }
    }
  }
  return info;
}

function probeRefs(bs: Uint8Array): VolumeInfo | undefined {
  if (!(bs[3] === 0x52 && bs[4] === 0x65 && bs[5] === 0x46 && bs[6] === 0x53 && u32(bs, 7) === 0)) return undefined;
  if (ascii(bs, 16, 4) !== 'FSRS') return undefined;
  const bps = u32(bs, 32);
  const spc = u32(bs, 36);
  const info: VolumeInfo = { fs: 'refs', label: '', totalSectors: u64n(bs, 24) };
  if (isPow2(bps) && bps >= 512 && bps <= 4096) info.bytesPerSector = bps;
  if (isPow2(spc) && info.bytesPerSector) info.clusterSize = spc * bps;
  if (u32(bs, 56) || u32(bs, 60)) info.serial = hex(u32(bs, 60), 8) + hex(u32(bs, 56), 8);
  return info;
}

/**
 * Identify the volume. `read` is relative to the start of the partition, `size` its length.
 * BitLocker is checked first: its To Go header looks like FAT.
 */
export function probeVolume(read: VolumeReader, size: number): VolumeInfo {
  const bs = safeRead(read, size, 0, 512);
  if (!bs) return { fs: 'unknown', label: '' };
  const bde = probeBitLocker(bs, read, size);
  if (bde) return { fs: 'bitlocker', label: '', bitlocker: bde };
  return probeNtfs(bs, read, size) ?? probeExfat(bs, read, size) ?? probeRefs(bs) ?? probeFat(bs, read, size) ?? { fs: 'unknown', label: '' };
}
