// Subkey lists (registry-hives.md section 2): lf and lh leaves hold (nk offset, hint or hash)
// pairs, li leaves and ri indexes hold bare offsets (an ri's point to leaves). Offsets are from the
// record's start.

export const enum LIST {
  signature = 0,
  /** u16 number of entries. */
  count = 2,
  entries = 4,
}

/** Within an lf/lh entry. */
export const enum FAST_ENTRY {
  cell = 0,
  /** lf: the first four name characters; lh: the name hash. */
  hash = 4,
}

/** Bytes of a list before its entries. */
export const LIST_FIXED = LIST.entries;
/** An lf/lh entry (offset + hint/hash); an li/ri entry (offset). */
export const FAST_ENTRY_SIZE = 8;
export const INDEX_ENTRY_SIZE = 4;

/** "lf", "lh", "li", "ri" */
export const SIG_LF = 0x666c;
export const SIG_LH = 0x686c;
export const SIG_LI = 0x696c;
export const SIG_RI = 0x6972;

/** Entry size of a list with this signature. */
export function entrySize(sig: number): number {
  return sig === SIG_LI || sig === SIG_RI ? INDEX_ENTRY_SIZE : FAST_ENTRY_SIZE;
}

/** CmpMaxFastIndexPerHblock and CmpMaxIndexPerHblock (ReactOS cmindex.c; Windows thresholds). */
export const MAX_FAST_INDEX = 507;
export const MAX_INDEX = 1013;
