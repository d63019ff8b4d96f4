// regf base block (the first 4096 bytes of a hive or the first 512 of a transaction log).
// parse() reads the fields we interpret; write() patches them into a copy of the original bytes so
// that every byte we do not own (OfRg, GUIDs, flags, reserved junk) is preserved.
import { FormatError } from '../shared/errors.js';
import { HBIN_ALIGN } from './cells/bin.js';

export const BASE_BLOCK_SIZE = 4096;
/** File offset of the first hive bin: cell offsets count from here. */
export const HBIN_START = BASE_BLOCK_SIZE;

/** Field offsets in the base block (registry-hives.md section 1). */
export const enum BASE {
  signature = 0,
  seq1 = 4,
  seq2 = 8,
  /** FILETIME */
  timestamp = 12,
  major = 20,
  minor = 24,
  type = 28,
  format = 32,
  rootCell = 36,
  hbinsSize = 40,
  clustering = 44,
  /** UTF-16LE, 64 bytes. */
  fileName = 48,
  fileNameEnd = 112,
  flags = 144,
  /** "OfRg" and a u32 1, as offreg >= 6.2 writes them. */
  offregSignature = 176,
  offregFlags = 180,
  /** The checksum covers the 127 dwords before it. */
  checksum = 508,
}

/** The part of the base block a transaction log copies (and the checksum covers). */
export const BASE_HEADER_SIZE = 512;
/** Characters of the file name field (64 bytes of UTF-16). */
const FILE_NAME_CHARS = (BASE.fileNameEnd - BASE.fileName) / 2;
const SIG_REGF = [0x72, 0x65, 0x67, 0x66]; // "regf"
const SIG_OFRG = [0x4f, 0x66, 0x52, 0x67]; // "OfRg"

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
  const dv = new DataView(buf.buffer, buf.byteOffset, BASE_HEADER_SIZE);
  let x = 0;
  for (let i = 0; i < (BASE.checksum as number); i += 4) x ^= dv.getUint32(i, true);
  x >>>= 0;
  if (x === 0xffffffff) return 0xfffffffe;
  if (x === 0) return 1;
  return x;
}

export function hasRegfSignature(buf: Uint8Array): boolean {
  return buf.length >= SIG_REGF.length && SIG_REGF.every((c, i) => buf[BASE.signature + i] === c);
}

/** Parse a base block. Throws FormatError only when the bytes cannot be a base block at all. */
export function parseBaseBlock(buf: Uint8Array): BaseBlock {
  if (buf.length < BASE_HEADER_SIZE) throw new FormatError(`file is ${buf.length} bytes, too short for a regf base block`, 0);
  if (!hasRegfSignature(buf)) throw new FormatError('not a registry hive: no "regf" signature', 0);
  const dv = new DataView(buf.buffer, buf.byteOffset, BASE_HEADER_SIZE);
  const storedChecksum = dv.getUint32(BASE.checksum, true);
  const computedChecksum = baseBlockChecksum(buf);
  let fileName = '';
  for (let i = BASE.fileName; i < BASE.fileNameEnd; i += 2) {
    const c = dv.getUint16(i, true);
    if (c === 0) break;
    fileName += String.fromCharCode(c);
  }
  return {
    seq1: dv.getUint32(BASE.seq1, true),
    seq2: dv.getUint32(BASE.seq2, true),
    timestamp: dv.getBigUint64(BASE.timestamp, true),
    major: dv.getUint32(BASE.major, true),
    minor: dv.getUint32(BASE.minor, true),
    type: dv.getUint32(BASE.type, true),
    format: dv.getUint32(BASE.format, true),
    rootCell: dv.getUint32(BASE.rootCell, true),
    hbinsSize: dv.getUint32(BASE.hbinsSize, true),
    clustering: dv.getUint32(BASE.clustering, true),
    fileName,
    flags: dv.getUint32(BASE.flags, true),
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
  if (bb.hbinsSize % HBIN_ALIGN !== 0) p.push(`hive-bins size 0x${bb.hbinsSize.toString(16)} is not a multiple of 4096`);
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
  const dv = new DataView(buf.buffer, buf.byteOffset, BASE_HEADER_SIZE);
  if (patch.seq1 !== undefined) dv.setUint32(BASE.seq1, patch.seq1 >>> 0, true);
  if (patch.seq2 !== undefined) dv.setUint32(BASE.seq2, patch.seq2 >>> 0, true);
  if (patch.timestamp !== undefined) dv.setBigUint64(BASE.timestamp, patch.timestamp, true);
  if (patch.minor !== undefined) dv.setUint32(BASE.minor, patch.minor, true);
  if (patch.type !== undefined) dv.setUint32(BASE.type, patch.type, true);
  if (patch.rootCell !== undefined) dv.setUint32(BASE.rootCell, patch.rootCell, true);
  if (patch.hbinsSize !== undefined) dv.setUint32(BASE.hbinsSize, patch.hbinsSize, true);
  if (patch.flags !== undefined) dv.setUint32(BASE.flags, patch.flags >>> 0, true);
  dv.setUint32(BASE.checksum, baseBlockChecksum(buf), true);
}

/** A fresh base block for a new, empty hive (4096 bytes). */
export function newBaseBlock(opts: { minor: number; rootCell: number; hbinsSize: number; fileName?: string; timestamp: bigint }): Uint8Array {
  const buf = new Uint8Array(BASE_BLOCK_SIZE);
  const dv = new DataView(buf.buffer);
  buf.set(SIG_REGF, BASE.signature);
  dv.setUint32(BASE.seq1, 1, true);
  dv.setUint32(BASE.seq2, 1, true);
  dv.setBigUint64(BASE.timestamp, opts.timestamp, true);
  dv.setUint32(BASE.major, 1, true);
  dv.setUint32(BASE.minor, opts.minor, true);
  dv.setUint32(BASE.type, FILE_TYPE.PRIMARY, true);
  dv.setUint32(BASE.format, 1, true);
  dv.setUint32(BASE.rootCell, opts.rootCell, true);
  dv.setUint32(BASE.hbinsSize, opts.hbinsSize, true);
  dv.setUint32(BASE.clustering, 1, true);
  // At most 31 characters: the field keeps a terminating NUL.
  const name = (opts.fileName ?? '').slice(0, FILE_NAME_CHARS - 1);
  for (let i = 0; i < name.length; i++) dv.setUint16(BASE.fileName + 2 * i, name.charCodeAt(i), true);
  // Offline registry library marker, as offreg >= 6.2 writes it.
  buf.set(SIG_OFRG, BASE.offregSignature);
  dv.setUint32(BASE.offregFlags, 1, true);
  dv.setUint32(BASE.checksum, baseBlockChecksum(buf), true);
  return buf;
}

/** Current time as a Windows FILETIME. */
export function filetimeNow(): bigint {
  return BigInt(Date.now()) * 10000n + 116444736000000000n;
}
