// A cell: an i32 size (negative when allocated, positive when free; it counts itself and is a
// multiple of 8), then the record. Cell offsets are relative to the first hive bin (file 0x1000).
// Record field offsets (NK, VK, ...) are from the record's start, i.e. after the size field.

/** The i32 size field in front of every record. */
export const CELL_HEADER = 4;
/** Cells are allocated in 8-byte units; the smallest cell is one unit. */
export const CELL_ALIGN = 8;
export const MIN_CELL = 8;
/** The nil cell reference. */
export const NIL = 0xffffffff;

export function align8(n: number): number {
  return (n + CELL_ALIGN - 1) & ~(CELL_ALIGN - 1);
}

/** Size of a cell that holds `dataLen` bytes (with its header, in 8-byte units). */
export function cellSizeFor(dataLen: number): number {
  return Math.max(MIN_CELL, align8(dataLen + CELL_HEADER));
}

/** Every record starts with a two-byte ASCII signature ("nk", "vk", "lf", ...) read as a u16. */
export const enum RECORD {
  signature = 0,
  signatureEnd = 2,
}
