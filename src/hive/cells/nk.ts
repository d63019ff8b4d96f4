// nk: a key node (registry-hives.md section 2, "nk"). Offsets are from the record's start.
import { CELL_HEADER, NIL, align8 } from './cell.js';

export const enum NK {
  signature = 0,
  /** u16 KEY_* flags. */
  flags = 2,
  /** FILETIME. */
  lastWritten = 4,
  access = 12,
  parent = 16,
  subkeyCount = 20,
  volatileSubkeyCount = 24,
  subkeyList = 28,
  volatileSubkeyList = 32,
  valueCount = 36,
  valueList = 40,
  security = 44,
  className = 48,
  /** Max subkey-name bytes: low 16 bits only (the high bits hold flags). */
  maxNameLen = 52,
  maxClassLen = 56,
  maxValueNameLen = 60,
  maxValueDataLen = 64,
  workVar = 68,
  /** u16 */
  nameLength = 72,
  /** u16 */
  classLength = 74,
  name = 76,
}

/** Bytes of an nk record before its name. */
export const NK_FIXED = NK.name;
/** "nk" */
export const SIG_NK = 0x6b6e;
/** Smallest cell an nk record fits in: header + 76 bytes, 8-aligned. */
export const MIN_NK_CELL = align8(CELL_HEADER + NK_FIXED);
/** The maxNameLen field's length part. */
export const MAX_NAME_LEN_MASK = 0xffff;

/** nk flags */
export const KEY_VOLATILE = 0x1;
export const KEY_HIVE_EXIT = 0x2;
export const KEY_HIVE_ENTRY = 0x4;
export const KEY_NO_DELETE = 0x8;
export const KEY_SYM_LINK = 0x10;
export const KEY_COMP_NAME = 0x20;

/** Write a fresh nk record at file position `d` (no subkeys, values or class). */
export function initNk(dv: DataView, buf: Uint8Array, d: number, o: { flags: number; ts: bigint; parent: number; sk: number; name: Uint8Array }): void {
  dv.setUint16(d + NK.signature, SIG_NK, true);
  dv.setUint16(d + NK.flags, o.flags, true);
  dv.setBigUint64(d + NK.lastWritten, o.ts, true);
  dv.setUint32(d + NK.access, 0, true);
  dv.setUint32(d + NK.parent, o.parent >>> 0, true);
  dv.setUint32(d + NK.subkeyCount, 0, true);
  dv.setUint32(d + NK.volatileSubkeyCount, 0, true);
  dv.setUint32(d + NK.subkeyList, NIL, true);
  dv.setUint32(d + NK.volatileSubkeyList, NIL, true);
  dv.setUint32(d + NK.valueCount, 0, true);
  dv.setUint32(d + NK.valueList, NIL, true);
  dv.setUint32(d + NK.security, o.sk >>> 0, true);
  dv.setUint32(d + NK.className, NIL, true);
  dv.setUint32(d + NK.maxNameLen, 0, true);
  dv.setUint32(d + NK.maxClassLen, 0, true);
  dv.setUint32(d + NK.maxValueNameLen, 0, true);
  dv.setUint32(d + NK.maxValueDataLen, 0, true);
  dv.setUint32(d + NK.workVar, 0, true);
  dv.setUint16(d + NK.nameLength, o.name.length, true);
  dv.setUint16(d + NK.classLength, 0, true);
  buf.set(o.name, d + NK.name);
}
