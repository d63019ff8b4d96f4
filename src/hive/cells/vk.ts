// vk: a value key (registry-hives.md section 2, "vk"), and the value list (a bare array of vk
// cell offsets). Offsets are from the record's start.
import { CELL_HEADER } from './cell.js';

export const enum VK {
  signature = 0,
  /** u16 */
  nameLength = 2,
  /** u32 data length; bit 31 set = the data (at most 4 bytes) is stored in the data field itself. */
  dataLength = 4,
  /** u32 data cell, or the inline data. */
  data = 8,
  type = 12,
  /** u16 VALUE_* flags. */
  flags = 16,
  spare = 18,
  name = 20,
}

/** Bytes of a vk record before its name. */
export const VK_FIXED = VK.name;
/** "vk" */
export const SIG_VK = 0x6b76;
/** Smallest cell a vk record fits in (header + fixed part). */
export const MIN_VK_CELL = CELL_HEADER + VK_FIXED;
export const VALUE_COMP_NAME = 0x1;
/** dataLength bit 31: data inline. */
export const DATA_INLINE = 0x80000000;
export const DATA_LENGTH_MASK = 0x7fffffff;
/** At most this many bytes fit inline. */
export const INLINE_MAX = 4;
/** One value-list entry (a u32 vk offset). */
export const VALUE_LIST_ENTRY = 4;

/** Write a fresh vk record at file position `d`: no data yet (inline, length 0). */
export function initVk(dv: DataView, buf: Uint8Array, d: number, name: Uint8Array, compressed: boolean): void {
  dv.setUint16(d + VK.signature, SIG_VK, true);
  dv.setUint16(d + VK.nameLength, name.length, true);
  dv.setUint32(d + VK.dataLength, DATA_INLINE, true);
  dv.setUint32(d + VK.data, 0, true);
  dv.setUint16(d + VK.flags, compressed ? VALUE_COMP_NAME : 0, true);
  buf.set(name, d + VK.name);
}
