// hbin: the 32-byte header of a hive bin (registry-hives.md section 2). Bins tile the hive-bins
// area from cell offset 0; each is a multiple of 4096 bytes and its cells tile it exactly.

/** Field offsets from the start of the bin. */
export const enum HBIN {
  signature = 0,
  /** u32: this bin's own offset from the first bin. */
  offset = 4,
  /** u32: bin size, a multiple of 4096. */
  size = 8,
  reserved1 = 12,
  reserved2 = 16,
  /** FILETIME (first bin only). */
  timestamp = 20,
  spare = 28,
}

/** Size of the bin header; the first cell of a bin starts right after it. */
export const HBIN_HEADER = 32;
/** "hbin" as a little-endian u32. */
export const SIG_HBIN = 0x6e696268;
/** Bins are sized in 4096-byte units. */
export const HBIN_ALIGN = 4096;

/** Write a bin header at file position `p` (`off` = the bin's hive-bins offset). */
export function writeHbinHeader(dv: DataView, p: number, off: number, size: number, ts: bigint): void {
  dv.setUint32(p + HBIN.signature, SIG_HBIN, true);
  dv.setUint32(p + HBIN.offset, off, true);
  dv.setUint32(p + HBIN.size, size, true);
  dv.setUint32(p + HBIN.reserved1, 0, true);
  dv.setUint32(p + HBIN.reserved2, 0, true);
  dv.setBigUint64(p + HBIN.timestamp, ts, true);
  dv.setUint32(p + HBIN.spare, 0, true);
}
