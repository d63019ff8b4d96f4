// regf base block (the first 4096 bytes of a hive or the first 512 of a transaction log).
// parse() reads the fields we interpret; write() patches them into a copy of the original bytes so
// that every byte we do not own (OfRg, GUIDs, flags, reserved junk) is preserved.
import { FormatError } from '../shared/errors.js';

export const BASE_BLOCK_SIZE = 4096;
export const HBIN_START = 4096;

export const FILE_TYPE = { PRIMARY: 0, LOG_OLD: 1, LOG_OLDEST: 2, LOG_NEW: 6 } as const;

export interface BaseBlock {
  seq1: number;
  seq2: number;
  /** Last-written FILETIME as a bigint (100 ns since 1601). */
  timestamp: bigint;
  major: number;
  minor: number;
  type: number;
  format: number;
  rootCell: number;
  hbinsSize: number;
  clustering: number;
  /** Informational UTF-16LE file name (trailing NULs stripped). */
  fileName: string;
  flags: number;
  storedChecksum: number;
  computedChecksum: number;
  checksumOk: boolean;
}

/** XOR of the 127 dwords at 0..507, with Windows' special cases (0xFFFFFFFF -> 0xFFFFFFFE, 0 -> 1). */
export function baseBlockChecksum(buf: Uint8Array): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, 512);
  let x = 0;
  for (let i = 0; i < 508; i += 4) x ^= dv.getUint32(i, true);
  x >>>= 0;
  if (x === 0xffffffff) return 0xfffffffe;
  if (x === 0) return 1;
  return x;
}

export function hasRegfSignature(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x72 && buf[1] === 0x65 && buf[2] === 0x67 && buf[3] === 0x66;
}

/** Parse a base block. Throws FormatError only when the bytes cannot be a base block at all. */
export function parseBaseBlock(buf: Uint8Array): BaseBlock {
  if (buf.length < 512) throw new FormatError(`file is ${buf.length} bytes, too short for a regf base block`, 0);
  if (!hasRegfSignature(buf)) throw new FormatError('not a registry hive: no "regf" signature', 0);
  const dv = new DataView(buf.buffer, buf.byteOffset, 512);
  const storedChecksum = dv.getUint32(508, true);
  const computedChecksum = baseBlockChecksum(buf);
  let fileName = '';
  for (let i = 48; i < 112; i += 2) {
    const c = dv.getUint16(i, true);
    if (c === 0) break;
    fileName += String.fromCharCode(c);
  }
  return {
    seq1: dv.getUint32(4, true),
    seq2: dv.getUint32(8, true),
    timestamp: dv.getBigUint64(12, true),
    major: dv.getUint32(20, true),
    minor: dv.getUint32(24, true),
    type: dv.getUint32(28, true),
    format: dv.getUint32(32, true),
    rootCell: dv.getUint32(36, true),
    hbinsSize: dv.getUint32(40, true),
    clustering: dv.getUint32(44, true),
    fileName,
    flags: dv.getUint32(144, true),
    storedChecksum,
    computedChecksum,
    checksumOk: storedChecksum === computedChecksum,
  };
}

/** Dirty: sequence numbers differ or the checksum is bad. */
export function isDirty(bb: BaseBlock): boolean {
  return bb.seq1 !== bb.seq2 || !bb.checksumOk;
}

/** Problems that make a primary's base block unusable for Windows (section 7 of registry-hives.md). */
export function baseBlockProblems(bb: BaseBlock): string[] {
  const p: string[] = [];
  if (bb.major !== 1) p.push(`unsupported major version ${bb.major}`);
  if (bb.minor < 3 || bb.minor > 6) p.push(`unsupported minor version ${bb.minor} (1.3 to 1.6 are supported)`);
  if (bb.format !== 1) p.push(`unsupported format ${bb.format}`);
  if (bb.hbinsSize % 4096 !== 0) p.push(`hive-bins size 0x${bb.hbinsSize.toString(16)} is not a multiple of 4096`);
  return p;
}

export interface BaseBlockPatch {
  seq1?: number;
  seq2?: number;
  timestamp?: bigint;
  type?: number;
  hbinsSize?: number;
  rootCell?: number;
  minor?: number;
  flags?: number;
}

/** Patch fields into `buf` (in place) and recompute the checksum. */
export function writeBaseBlock(buf: Uint8Array, patch: BaseBlockPatch): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, 512);
  if (patch.seq1 !== undefined) dv.setUint32(4, patch.seq1 >>> 0, true);
  if (patch.seq2 !== undefined) dv.setUint32(8, patch.seq2 >>> 0, true);
  if (patch.timestamp !== undefined) dv.setBigUint64(12, patch.timestamp, true);
  if (patch.minor !== undefined) dv.setUint32(24, patch.minor, true);
  if (patch.type !== undefined) dv.setUint32(28, patch.type, true);
  if (patch.rootCell !== undefined) dv.setUint32(36, patch.rootCell, true);
  if (patch.hbinsSize !== undefined) dv.setUint32(40, patch.hbinsSize, true);
  if (patch.flags !== undefined) dv.setUint32(144, patch.flags >>> 0, true);
  dv.setUint32(508, baseBlockChecksum(buf), true);
}

/** A fresh base block for a new, empty hive (4096 bytes). */
export function newBaseBlock(opts: { minor: number; rootCell: number; hbinsSize: number; fileName?: string; timestamp: bigint }): Uint8Array {
  const buf = new Uint8Array(BASE_BLOCK_SIZE);
  const dv = new DataView(buf.buffer);
  buf.set([0x72, 0x65, 0x67, 0x66], 0);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, 1, true);
  dv.setBigUint64(12, opts.timestamp, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(24, opts.minor, true);
  dv.setUint32(28, 0, true);
  dv.setUint32(32, 1, true);
  dv.setUint32(36, opts.rootCell, true);
  dv.setUint32(40, opts.hbinsSize, true);
  dv.setUint32(44, 1, true);
  const name = (opts.fileName ?? '').slice(0, 31);
  for (let i = 0; i < name.length; i++) dv.setUint16(48 + 2 * i, name.charCodeAt(i), true);
  // Offline registry library marker, as offreg >= 6.2 writes it.
  buf.set([0x4f, 0x66, 0x52, 0x67], 176);
  dv.setUint32(180, 1, true);
  dv.setUint32(508, baseBlockChecksum(buf), true);
  return buf;
}

/** Current time as a Windows FILETIME. */
export function filetimeNow(): bigint {
  return BigInt(Date.now()) * 10000n + 116444736000000000n;
}
