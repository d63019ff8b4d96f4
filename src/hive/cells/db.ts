// db: a big-data record (registry-hives.md section 2): a value longer than BIG_DATA_THRESHOLD in a
// minor >= 4 hive is split into segments; db points to the list of their cells.

export const enum DB {
  signature = 0,
  /** u16 */
  segmentCount = 2,
  /** Cell of the segment list (a bare array of u32 segment cells). */
  segmentList = 4,
}

/** Size of a db record. */
export const DB_FIXED = 8;
/** "db" */
export const SIG_DB = 0x6264;
/** One segment-list entry (a u32 cell offset). */
export const SEGMENT_ENTRY = 4;
/** Largest value stored in one plain cell; above it (minor >= 4) data goes into a db record. */
export const BIG_DATA_THRESHOLD = 16344;

/** Write a db record at file position `d`. */
export function initDb(dv: DataView, d: number, segments: number, list: number): void {
  dv.setUint16(d + DB.signature, SIG_DB, true);
  dv.setUint16(d + DB.segmentCount, segments, true);
  dv.setUint32(d + DB.segmentList, list, true);
}
