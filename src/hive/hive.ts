// The regf engine: an in-memory hive (base block + bins) with read and write operations.
// Pure core: bytes in, bytes out. File handling (logs, atomic save) lives in hivefile.ts.
//
// Cells are addressed by their offset relative to the first hive bin (file offset 0x1000), as in
// the format itself. Every cell reference read from the file is checked against a bitmap of valid
// cell starts built when the hive is opened, so corrupt offsets, cycles and absurd sizes become
// FormatErrors instead of crashes or hangs.
import { FormatError, BadInputError } from '../shared/errors.js';
import { BASE_BLOCK_SIZE, HBIN_START, BASE, parseBaseBlock, writeBaseBlock, newBaseBlock, FILE_TYPE, filetimeNow, baseBlockProblems } from './baseblock.js';
import { compareNames, namesEqual, lhHash, lfHint, encodeName, decodeName } from './names.js';
import { CELL_HEADER, CELL_ALIGN, MIN_CELL, NIL, RECORD, cellSizeFor } from './cells/cell.js';
import { HBIN, HBIN_ALIGN, HBIN_HEADER, SIG_HBIN, writeHbinHeader } from './cells/bin.js';
import { NK, NK_FIXED, SIG_NK, MIN_NK_CELL, MAX_NAME_LEN_MASK, KEY_HIVE_EXIT, KEY_HIVE_ENTRY, KEY_NO_DELETE, KEY_COMP_NAME, initNk } from './cells/nk.js';
import { VK, VK_FIXED, SIG_VK, MIN_VK_CELL, VALUE_COMP_NAME, DATA_INLINE, DATA_LENGTH_MASK, INLINE_MAX, VALUE_LIST_ENTRY, initVk } from './cells/vk.js';
import { SK, SK_FIXED, SIG_SK, DEFAULT_ROOT_SD, initSk } from './cells/sk.js';
import {
  LIST,
  LIST_FIXED,
  FAST_ENTRY,
  FAST_ENTRY_SIZE,
  INDEX_ENTRY_SIZE,
  SIG_LF,
  SIG_LH,
  SIG_LI,
  SIG_RI,
  MAX_FAST_INDEX,
  MAX_INDEX,
  entrySize,
} from './cells/lists.js';
import { DB, DB_FIXED, SIG_DB, SEGMENT_ENTRY, BIG_DATA_THRESHOLD, initDb } from './cells/db.js';

export { NIL } from './cells/cell.js';
export { KEY_VOLATILE, KEY_HIVE_EXIT, KEY_HIVE_ENTRY, KEY_NO_DELETE, KEY_SYM_LINK, KEY_COMP_NAME } from './cells/nk.js';
export { VALUE_COMP_NAME } from './cells/vk.js';
export { BIG_DATA_THRESHOLD } from './cells/db.js';
export { MAX_FAST_INDEX, MAX_INDEX } from './cells/lists.js';

/** Windows' limits (learn.microsoft.com "Registry element size limits"). */
export const MAX_KEY_NAME = 255;
export const MAX_VALUE_NAME = 16383;
export const MAX_DEPTH = 512;
/** Windows refuses values above 1 MB in 1.3 hives (no big-data records there). */
export const MAX_PLAIN_VALUE = 1024 * 1024;

/** Sanity bound for a hive we load whole into memory (offreg refuses >= 4 GB). */
const MAX_HIVE_BYTES = 2 ** 31;
/** A new hive: one bin, its root nk right after the bin header. */
const NEW_HIVE_BIN = HBIN_ALIGN;
/** Growing the image: at least 1 MiB or 1/8 more at a time. */
const GROW_MIN = 1 << 20;
const GROW_SHIFT = 3;
/** Free-cell buckets are 8-byte size classes; the last one holds everything larger. */
const FREE_BUCKETS = 1024;

/** Slots of keyRaw's output. */
export const enum KEY_RAW {
  namePos = 0,
  nameLen = 1,
  compressed = 2,
  valueEntries = 3,
  size = 4,
}

/** Slots of valueRaw's output. */
export const enum VALUE_RAW {
  namePos = 0,
  nameLen = 1,
  compressed = 2,
  type = 3,
  dataPos = 4,
  dataLen = 5,
  size = 6,
}

export interface ValueInfo {
  name: string;
  type: number;
  data: Uint8Array;
}

export interface HiveStats {
  keys: number;
  values: number;
}

export class Hive {
  /** The whole file image; capacity may exceed the hive's length. */
  private buf: Uint8Array;
  private dv: DataView;
  private hbinsSize: number;
  /** Bins as sorted hbins-relative offsets, with their sizes. */
  private binStarts: number[] = [];
  private binSizes: number[] = [];
  /** One bit per 8-byte slot of the hbins area: set where a cell starts. */
  private starts: Uint8Array;
  /**
   * Free cells bucketed by size/8 (last bucket: everything larger), in bin and cell order. Built on
   * the first allocation or free: a read-only walk never needs them.
   */
  private freeLists: Set<number>[] | undefined;
  private readonly maxBucket = FREE_BUCKETS;
  /** Highest sequence number seen in the primary and its logs; a save writes one above it. */
  maxSeqSeen: number;
  readonly minor: number;
  private readonly originalLength: number;

  private constructor(bytes: Uint8Array, opts: { maxSeqSeen?: number } = {}) {
    if (bytes.length < BASE_BLOCK_SIZE) {
      throw new FormatError(`file is ${bytes.length} bytes, shorter than a ${BASE_BLOCK_SIZE}-byte base block`, bytes.length);
    }
    const bb = parseBaseBlock(bytes);
    const problems = baseBlockProblems(bb);
    if (problems[0] !== undefined) throw new FormatError(problems[0], BASE.major);
    if (bb.hbinsSize === 0) throw new FormatError('hive-bins size is 0: no hive bins', BASE.hbinsSize);
    if (HBIN_START + bb.hbinsSize > bytes.length) {
      throw new FormatError(`hive-bins size 0x${bb.hbinsSize.toString(16)} runs past the end of the ${bytes.length}-byte file (truncated?)`, BASE.hbinsSize);
    }
    if (HBIN_START + bb.hbinsSize > MAX_HIVE_BYTES) throw new FormatError('hive larger than 2 GiB is not supported', BASE.hbinsSize);
    this.buf = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.hbinsSize = bb.hbinsSize;
    this.minor = bb.minor;
    this.originalLength = bytes.length;
    this.maxSeqSeen = Math.max(opts.maxSeqSeen ?? 0, bb.seq1, bb.seq2);
    this.starts = newSlotMap(this.hbinsSize);
    this.scanBins();
    this.checkRoot(bb.rootCell);
    this.rootCell = bb.rootCell;
  }

  readonly rootCell: number;

  /** Open a hive image (already recovered if it was dirty). The bytes are used in place. */
  static open(bytes: Uint8Array, opts: { maxSeqSeen?: number } = {}): Hive {
    return new Hive(bytes, opts);
  }

  /** A new, empty hive: one bin, a root key flagged as Windows writes it (0x2C). */
  static create(opts: { minor?: number; rootName?: string; fileName?: string } = {}): Hive {
    const minor = opts.minor ?? 5;
    if (minor < 3 || minor > 6) throw new BadInputError(`cannot create a hive with minor version ${minor}`);
    const rootName = opts.rootName ?? 'ROOT';
    const bytes = new Uint8Array(BASE_BLOCK_SIZE + NEW_HIVE_BIN);
    const ts = filetimeNow();
    // The root nk is the bin's first cell, right after its header.
    const rootCell = HBIN_HEADER;
    bytes.set(newBaseBlock({ minor, rootCell, hbinsSize: NEW_HIVE_BIN, fileName: opts.fileName, timestamp: ts }), 0);
    const dv = new DataView(bytes.buffer);
    writeHbinHeader(dv, HBIN_START, 0, NEW_HIVE_BIN, ts);
    const enc = encodeName(rootName);
    const nkSize = cellSizeFor(NK_FIXED + enc.bytes.length);
    const p = HBIN_START + rootCell;
    dv.setInt32(p, -nkSize, true);
    initNk(dv, bytes, p + CELL_HEADER, {
      flags: KEY_HIVE_EXIT | KEY_HIVE_ENTRY | KEY_NO_DELETE | (enc.compressed ? KEY_COMP_NAME : 0),
      ts,
      parent: NIL,
      sk: NIL,
      name: enc.bytes,
    });
    // The rest of the bin is one free cell.
    const restOff = rootCell + nkSize;
    dv.setInt32(HBIN_START + restOff, NEW_HIVE_BIN - restOff, true);
    const hive = new Hive(bytes);
    // Give the root a default security descriptor, as every Windows hive root has one.
    hive.attachNewSecurity(hive.rootCell, DEFAULT_ROOT_SD);
    return hive;
  }

  // ---------------------------------------------------------------- low-level access

  private pos(cell: number): number {
    return HBIN_START + cell;
  }

  private isCellStart(cell: number): boolean {
    if (cell % CELL_ALIGN !== 0 || cell < 0 || cell >= this.hbinsSize) return false;
    return slotIsSet(this.starts, cell);
  }

  private setStart(cell: number, on: boolean): void {
    const slot = cell >>> 3;
    const byte = slot >>> 3;
    const bit = 1 << (slot & 7);
    const v = this.starts[byte] ?? 0;
    this.starts[byte] = on ? v | bit : v & ~bit;
  }

  /** Size of the cell (positive), whether allocated or free. */
  private cellSize(cell: number): number {
    return Math.abs(this.dv.getInt32(this.pos(cell), true));
  }

  /** Check that `cell` is an allocated cell whose data holds at least `min` bytes; returns its data length. */
  private cell(cell: number, min: number, what: string): number {
    if (!this.isCellStart(cell)) {
      throw new FormatError(`${what} points to 0x${(cell >>> 0).toString(16)}, which is not a cell`, cell === NIL ? undefined : this.pos(cell));
    }
    const raw = this.dv.getInt32(this.pos(cell), true);
    if (raw >= 0) throw new FormatError(`${what} points to a free cell`, this.pos(cell));
    const len = -raw - CELL_HEADER;
    if (len < min) throw new FormatError(`${what} cell is ${len} bytes, too small (need ${min})`, this.pos(cell));
    return len;
  }

  /** Record fields: `off` is a field of the record in `cell` (NK.*, VK.*, ...). */
  private u16(cell: number, off: number): number {
    return this.dv.getUint16(HBIN_START + cell + CELL_HEADER + off, true);
  }
  private u32(cell: number, off: number): number {
    return this.dv.getUint32(HBIN_START + cell + CELL_HEADER + off, true);
  }
  private setU16(cell: number, off: number, v: number): void {
    this.dv.setUint16(HBIN_START + cell + CELL_HEADER + off, v, true);
  }
  private setU32(cell: number, off: number, v: number): void {
    this.dv.setUint32(HBIN_START + cell + CELL_HEADER + off, v >>> 0, true);
  }
  /** File position of a record's first byte (after the cell's size field). */
  private rec(cell: number): number {
    return HBIN_START + cell + CELL_HEADER;
  }
  private sig(cell: number): number {
    return this.u16(cell, RECORD.signature);
  }

  // ---------------------------------------------------------------- opening: bins, cells, free lists

  private scanBins(): void {
    const end = this.hbinsSize;
    let off = 0;
    while (off < end) {
      const p = HBIN_START + off;
      if (p + HBIN_HEADER > HBIN_START + end || this.dv.getUint32(p + HBIN.signature, true) !== SIG_HBIN) {
        throw new FormatError(`no "hbin" signature at hive-bins offset 0x${off.toString(16)}: corrupt or truncated hive`, p);
      }
      const selfOff = this.dv.getUint32(p + HBIN.offset, true);
      const size = this.dv.getUint32(p + HBIN.size, true);
      if (selfOff !== off) throw new FormatError(`hive bin at 0x${off.toString(16)} says its offset is 0x${selfOff.toString(16)}`, p + HBIN.offset);
      if (size < HBIN_ALIGN || size % HBIN_ALIGN !== 0 || off + size > end) {
        throw new FormatError(`hive bin at 0x${off.toString(16)} has a bad size 0x${size.toString(16)}`, p + HBIN.size);
      }
      this.binStarts.push(off);
      this.binSizes.push(size);
      let c = off + HBIN_HEADER;
      const binEnd = off + size;
      while (c < binEnd) {
        const raw = this.dv.getInt32(HBIN_START + c, true);
        const cs = Math.abs(raw);
        if (cs < MIN_CELL || cs % CELL_ALIGN !== 0 || c + cs > binEnd) {
          throw new FormatError(`cell at 0x${c.toString(16)} has a bad size ${raw}`, HBIN_START + c);
        }
        this.setStart(c, true);
        c += cs;
      }
      off += size;
    }
  }

  private checkRoot(root: number): void {
    this.cell(root, NK_FIXED, 'root key');
    if (this.sig(root) !== SIG_NK) throw new FormatError('root cell is not a key (nk) record', this.pos(root));
  }

  private bucketOf(size: number): number {
    return Math.min(Math.floor(size / CELL_ALIGN), this.maxBucket);
  }
  /**
   * The free lists, collected from the bins (already checked by scanBins) when first needed. alloc
   * and free call it before they change any cell, so the lists hold what opening would have found.
   */
  private freeBuckets(): Set<number>[] {
    if (this.freeLists) return this.freeLists;
    const lists: Set<number>[] = [];
    for (let i = 0; i <= this.maxBucket; i++) lists.push(new Set());
    for (let i = 0; i < this.binStarts.length; i++) {
      const binEnd = (this.binStarts[i] ?? 0) + (this.binSizes[i] ?? 0);
      for (let c = (this.binStarts[i] ?? 0) + HBIN_HEADER; c < binEnd; c += this.cellSize(c)) {
        const raw = this.dv.getInt32(this.pos(c), true);
        if (raw > 0) lists[this.bucketOf(raw)]?.add(c);
      }
    }
    this.freeLists = lists;
    return lists;
  }
  private addFree(cell: number, size: number): void {
    this.freeBuckets()[this.bucketOf(size)]?.add(cell);
  }
  private removeFree(cell: number, size: number): void {
    this.freeBuckets()[this.bucketOf(size)]?.delete(cell);
  }

  // ---------------------------------------------------------------- allocation

  /** Allocate a cell holding `dataLen` bytes; returns its offset. Contents are zeroed. */
  private alloc(dataLen: number): number {
    const buckets = this.freeBuckets();
    const need = cellSizeFor(dataLen);
    let found = -1;
    let foundSize = 0;
    for (let b = this.bucketOf(need); b <= this.maxBucket && found < 0; b++) {
      const set = buckets[b]!;
      if (set.size === 0) continue;
      for (const c of set) {
        const s = this.cellSize(c);
        if (s >= need) {
          found = c;
          foundSize = s;
          break;
        }
      }
    }
    if (found < 0) {
      found = this.addBin(need);
      foundSize = this.cellSize(found);
    }
    this.removeFree(found, foundSize);
    const rest = foundSize - need;
    if (rest >= MIN_CELL) {
      const restCell = found + need;
      this.dv.setInt32(this.pos(restCell), rest, true);
      this.setStart(restCell, true);
      this.addFree(restCell, rest);
      this.dv.setInt32(this.pos(found), -need, true);
    } else {
      this.dv.setInt32(this.pos(found), -foundSize, true);
    }
    const size = rest >= MIN_CELL ? need : foundSize;
    this.buf.fill(0, this.rec(found), this.pos(found) + size);
    return found;
  }

  /** Free a cell and coalesce it with free neighbours in the same bin. */
  private free(cell: number): void {
    if (cell === NIL || !this.isCellStart(cell)) return;
    this.freeBuckets();
    let size = this.cellSize(cell);
    if (this.dv.getInt32(this.pos(cell), true) > 0) return; // already free
    const bin = this.binOf(cell);
    const binEnd = this.binStarts[bin]! + this.binSizes[bin]!;
    let start = cell;
    // Next neighbour.
    const next = cell + size;
    if (next < binEnd && this.dv.getInt32(this.pos(next), true) > 0) {
      const ns = this.cellSize(next);
      this.removeFree(next, ns);
      this.setStart(next, false);
      size += ns;
    }
    // Previous neighbour: walk the bin's cells.
    let c = this.binStarts[bin]! + HBIN_HEADER;
    let prev = -1;
    while (c < cell) {
      prev = c;
      c += this.cellSize(c);
    }
    if (prev >= 0 && this.dv.getInt32(this.pos(prev), true) > 0) {
      const ps = this.cellSize(prev);
      this.removeFree(prev, ps);
      this.setStart(cell, false);
      start = prev;
      size += ps;
    }
    this.dv.setInt32(this.pos(start), size, true);
    this.addFree(start, size);
  }

  private binOf(cell: number): number {
    let lo = 0;
    let hi = this.binStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.binStarts[mid]! <= cell) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Append a bin big enough for a cell of `need` bytes; returns the free cell it contains. */
  private addBin(need: number): number {
    const size = Math.ceil((need + HBIN_HEADER) / HBIN_ALIGN) * HBIN_ALIGN;
    const off = this.hbinsSize;
    const newLen = HBIN_START + off + size;
    if (newLen > MAX_HIVE_BYTES) throw new BadInputError('hive would grow beyond 2 GiB');
    if (newLen > this.buf.length) {
      const grown = new Uint8Array(Math.max(newLen, Math.min(MAX_HIVE_BYTES, this.buf.length + Math.max(GROW_MIN, this.buf.length >>> GROW_SHIFT))));
      grown.set(this.buf.subarray(0, HBIN_START + this.hbinsSize));
      this.buf = grown;
      this.dv = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
    } else {
      this.buf.fill(0, HBIN_START + off, newLen);
    }
    writeHbinHeader(this.dv, HBIN_START + off, off, size, 0n);
    this.hbinsSize += size;
    const slots = slotMapBytes(this.hbinsSize);
    if (slots > this.starts.length) {
      const s = new Uint8Array(Math.max(slots, this.starts.length * 2));
      s.set(this.starts);
      this.starts = s;
    }
    this.binStarts.push(off);
    this.binSizes.push(size);
    const cell = off + HBIN_HEADER;
    this.dv.setInt32(this.pos(cell), size - HBIN_HEADER, true);
    this.setStart(cell, true);
    this.addFree(cell, size - HBIN_HEADER);
    return cell;
  }

  /** Reallocate to hold `dataLen` bytes, keeping the contents; returns the new offset. */
  private realloc(cell: number, dataLen: number): number {
    const oldLen = this.cellSize(cell) - CELL_HEADER;
    if (cellSizeFor(dataLen) <= oldLen + CELL_HEADER) return cell;
    const copy = this.buf.slice(this.rec(cell), this.rec(cell) + oldLen);
    this.free(cell);
    const n = this.alloc(dataLen);
    this.buf.set(copy, this.rec(n));
    return n;
  }

  // ---------------------------------------------------------------- reading keys

  private checkNk(nk: number, what = 'key'): void {
    this.cell(nk, NK_FIXED, what);
    if (this.sig(nk) !== SIG_NK) throw new FormatError(`${what} is not a key (nk) record`, this.pos(nk));
    const nameLen = this.u16(nk, NK.nameLength);
    if (NK_FIXED + nameLen > this.cellSize(nk) - CELL_HEADER) throw new FormatError('key name runs past its cell', this.rec(nk) + NK.nameLength);
  }

  /**
   * A key's stored name and value list for byte-level walkers (dump), checked as keyName() and
   * values() check them; no allocation. Writes the KEY_RAW slots of `out`; returns the value count
   * (the value list's entries are u32 cell offsets from file position out[KEY_RAW.valueEntries]).
   */
  keyRaw(nk: number, out: Uint32Array): number {
    this.checkNk(nk);
    const r = this.rec(nk);
    out[KEY_RAW.namePos] = r + NK.name;
    out[KEY_RAW.nameLen] = this.dv.getUint16(r + NK.nameLength, true);
    out[KEY_RAW.compressed] = this.dv.getUint16(r + NK.flags, true) & KEY_COMP_NAME ? 1 : 0;
    const count = this.dv.getUint32(r + NK.valueCount, true);
    if (count === 0) return 0;
    const list = this.dv.getUint32(r + NK.valueList, true);
    this.cell(list, count * VALUE_LIST_ENTRY, 'value list');
    out[KEY_RAW.valueEntries] = this.rec(list);
    return count;
  }

  /**
   * A value's stored name, type and data for byte-level walkers, checked as valueName() and
   * valueDataView() check them; no allocation. Writes the VALUE_RAW slots of `out` and returns
   * true for inline and single-cell data; false for big data (then read it with valueDataView).
   */
  valueRaw(vk: number, out: Uint32Array): boolean {
    this.checkVk(vk);
    const r = this.rec(vk);
    out[VALUE_RAW.namePos] = r + VK.name;
    out[VALUE_RAW.nameLen] = this.dv.getUint16(r + VK.nameLength, true);
    out[VALUE_RAW.compressed] = this.dv.getUint16(r + VK.flags, true) & VALUE_COMP_NAME ? 1 : 0;
    out[VALUE_RAW.type] = this.dv.getUint32(r + VK.type, true);
    const raw = this.dv.getUint32(r + VK.dataLength, true);
    const len = raw & DATA_LENGTH_MASK;
    if (raw & DATA_INLINE) {
      if (len > INLINE_MAX) throw new FormatError(`inline value data claims ${len} bytes (at most 4 fit)`, r + VK.dataLength);
      out[VALUE_RAW.dataPos] = r + VK.data;
      out[VALUE_RAW.dataLen] = len;
      return true;
    }
    out[VALUE_RAW.dataPos] = 0;
    out[VALUE_RAW.dataLen] = 0;
    if (len === 0) return true;
    const dataCell = this.dv.getUint32(r + VK.data, true);
    const cl = this.cell(dataCell, 0, 'value data');
    if (len > cl) return false;
    out[VALUE_RAW.dataPos] = this.rec(dataCell);
    out[VALUE_RAW.dataLen] = len;
    return true;
  }

  /** The hive image (read-only use; valid until the next write). */
  get bytes(): Uint8Array {
    return this.buf;
  }

  keyName(nk: number): string {
    this.checkNk(nk);
    const flags = this.u16(nk, NK.flags);
    return decodeName(this.buf, this.rec(nk) + NK.name, this.u16(nk, NK.nameLength), (flags & KEY_COMP_NAME) !== 0);
  }

  /**
   * The key's security descriptor bytes (a view into the hive, valid until the next write), or
   * undefined when the key has none. The sk cell is checked; the descriptor is bounded by its cell.
   * Security cells are shared by many keys, so a reader decodes each offset once (skOffset).
   */
  keySecurity(nk: number): Uint8Array | undefined {
    this.checkNk(nk);
    const sk = this.u32(nk, NK.security);
    if (sk === NIL) return undefined;
    const len = this.cell(sk, SK_FIXED, 'security');
    if (this.sig(sk) !== SIG_SK) throw new FormatError('security cell is not an sk record', this.pos(sk));
    const sdLen = this.u32(sk, SK.descriptorLength);
    if (SK_FIXED + sdLen > len)
      throw new FormatError(`security descriptor of ${sdLen} bytes runs past its ${len}-byte cell`, this.rec(sk) + SK.descriptorLength);
    const p = this.rec(sk) + SK.descriptor;
    return this.buf.subarray(p, p + sdLen);
  }

  /** Offset of the key's sk cell (NIL when none): the cache key for decoded descriptors. */
  skOffset(nk: number): number {
    return this.u32(nk, NK.security);
  }

  keyParent(nk: number): number {
    return this.u32(nk, NK.parent);
  }

  className(nk: number): string | undefined {
    const off = this.u32(nk, NK.className);
    const len = this.u16(nk, NK.classLength);
    if (off === NIL || len === 0) return undefined;
    const cl = this.cell(off, len, 'class name');
    return decodeName(this.buf, this.rec(off), Math.min(len, cl), false);
  }

  /** Subkeys in stored order (for an ri, each leaf in turn). */
  subkeys(nk: number): number[] {
    const out: number[] = [];
    this.subkeysInto(nk, out);
    return out;
  }

  /** The same into `out` (emptied first), so that a walk can reuse one array. */
  subkeysInto(nk: number, out: number[]): void {
    out.length = 0;
    this.checkNk(nk);
    const count = this.u32(nk, NK.subkeyCount);
    const list = this.u32(nk, NK.subkeyList);
    if (count === 0) return;
    // Every subkey is a distinct nk cell of at least MIN_NK_CELL bytes: a larger count cannot be
    // true, and it would let an ri list repeat one big leaf up to 65,535 times (4 billion entries).
    if (count > this.hbinsSize / MIN_NK_CELL) {
      throw new FormatError(`key says it has ${count} subkeys, more than a ${this.hbinsSize}-byte hive can hold`, this.rec(nk) + NK.subkeyCount);
    }
    this.readList(list, out, true, count);
    if (out.length !== count) {
      throw new FormatError(`key says it has ${count} subkeys but its list holds ${out.length}`, this.rec(nk) + NK.subkeyCount);
    }
  }

  private readList(list: number, out: number[], allowRi: boolean, limit: number): void {
    const len = this.cell(list, LIST_FIXED, 'subkey list');
    const sig = this.sig(list);
    const n = this.u16(list, LIST.count);
    const p = this.rec(list) + LIST.entries;
    switch (sig) {
      case SIG_LF:
      case SIG_LH:
        if (LIST_FIXED + n * FAST_ENTRY_SIZE > len) throw new FormatError('subkey list runs past its cell', this.pos(list));
        for (let i = 0; i < n; i++) out.push(this.dv.getUint32(p + i * FAST_ENTRY_SIZE + FAST_ENTRY.cell, true));
        return;
      case SIG_LI:
        if (LIST_FIXED + n * INDEX_ENTRY_SIZE > len) throw new FormatError('subkey list runs past its cell', this.pos(list));
        for (let i = 0; i < n; i++) out.push(this.dv.getUint32(p + i * INDEX_ENTRY_SIZE, true));
        return;
      case SIG_RI:
        if (!allowRi) throw new FormatError('an ri list points to another ri list', this.pos(list));
        if (LIST_FIXED + n * INDEX_ENTRY_SIZE > len) throw new FormatError('subkey index runs past its cell', this.pos(list));
        for (let i = 0; i < n; i++) {
          this.readList(this.dv.getUint32(p + i * INDEX_ENTRY_SIZE, true), out, false, limit);
          if (out.length > limit) break;
        }
        return;
      default:
        throw new FormatError(`unknown subkey list signature 0x${sig.toString(16)}`, this.pos(list));
    }
  }

  /** Value cells in value-list order. */
  values(nk: number): number[] {
    this.checkNk(nk);
    const count = this.u32(nk, NK.valueCount);
    if (count === 0) return [];
    const list = this.u32(nk, NK.valueList);
    this.cell(list, count * VALUE_LIST_ENTRY, 'value list');
    const out = new Array<number>(count);
    const p = this.rec(list);
    for (let i = 0; i < count; i++) out[i] = this.dv.getUint32(p + i * VALUE_LIST_ENTRY, true);
    return out;
  }

  private checkVk(vk: number): void {
    this.cell(vk, VK_FIXED, 'value');
    if (this.sig(vk) !== SIG_VK) throw new FormatError('value list entry is not a value (vk) record', this.pos(vk));
    if (VK_FIXED + this.u16(vk, VK.nameLength) > this.cellSize(vk) - CELL_HEADER)
      throw new FormatError('value name runs past its cell', this.rec(vk) + VK.nameLength);
  }

  valueName(vk: number): string {
    this.checkVk(vk);
    return decodeName(this.buf, this.rec(vk) + VK.name, this.u16(vk, VK.nameLength), (this.u16(vk, VK.flags) & VALUE_COMP_NAME) !== 0);
  }

  valueType(vk: number): number {
    return this.u32(vk, VK.type);
  }

  /** Declared data length (without the inline bit). */
  valueLength(vk: number): number {
    return this.u32(vk, VK.dataLength) & DATA_LENGTH_MASK;
  }

  /** The value's raw bytes (a copy), following big-data records where present. */
  valueData(vk: number): Uint8Array {
    return this.valueDataView(vk).slice();
  }

  /**
   * The value's raw bytes without copying where possible: a view into the hive that is valid only
   * until the next write. For read-only walks (dump, export) on large hives.
   */
  valueDataView(vk: number): Uint8Array {
    this.checkVk(vk);
    const raw = this.u32(vk, VK.dataLength);
    const len = raw & DATA_LENGTH_MASK;
    if (raw & DATA_INLINE) {
      if (len > INLINE_MAX) throw new FormatError(`inline value data claims ${len} bytes (at most 4 fit)`, this.rec(vk) + VK.dataLength);
      const p = this.rec(vk) + VK.data;
      return this.buf.subarray(p, p + len);
    }
    if (len === 0) return new Uint8Array(0);
    const dataCell = this.u32(vk, VK.data);
    const cl = this.cell(dataCell, 0, 'value data');
    if (len <= cl) return this.buf.subarray(this.rec(dataCell), this.rec(dataCell) + len);
    if (cl >= DB_FIXED && this.sig(dataCell) === SIG_DB) return this.readBigData(dataCell, len);
    throw new FormatError(`value data length ${len} is larger than its ${cl}-byte cell`, this.pos(dataCell));
  }

  private readBigData(db: number, len: number): Uint8Array {
    const n = this.u16(db, DB.segmentCount);
    const list = this.u32(db, DB.segmentList);
    this.cell(list, n * SEGMENT_ENTRY, 'big-data segment list');
    // Bound the allocation by what the record and the file can really hold.
    if (len > n * BIG_DATA_THRESHOLD || len > this.hbinsSize) {
      throw new FormatError(`big-data value claims ${len} bytes but has ${n} segments`, this.pos(db));
    }
    const out = new Uint8Array(len);
    let got = 0;
    for (let i = 0; i < n && got < len; i++) {
      const seg = this.dv.getUint32(this.rec(list) + i * SEGMENT_ENTRY, true);
      const sl = this.cell(seg, 0, 'big-data segment');
      const take = Math.min(sl, BIG_DATA_THRESHOLD, len - got);
      out.set(this.buf.subarray(this.rec(seg), this.rec(seg) + take), got);
      got += take;
    }
    if (got < len) throw new FormatError(`big-data value holds ${got} of its ${len} bytes`, this.pos(db));
    return out;
  }

  value(vk: number): ValueInfo {
    return { name: this.valueName(vk), type: this.valueType(vk), data: this.valueData(vk) };
  }

  /** Find a subkey by name (Windows case-insensitive collation). */
  findSubkey(nk: number, name: string): number | undefined {
    const list = this.u32(nk, NK.subkeyList);
    if (this.u32(nk, NK.subkeyCount) === 0) return undefined;
    const leaves: number[] = [];
    this.cell(list, LIST_FIXED, 'subkey list');
    if (this.sig(list) === SIG_RI) {
      const n = this.u16(list, LIST.count);
      for (let i = 0; i < n; i++) leaves.push(this.u32(list, LIST.entries + i * INDEX_ENTRY_SIZE));
    } else leaves.push(list);
    const hash = lhHash(name);
    for (const leaf of leaves) {
      this.cell(leaf, LIST_FIXED, 'subkey list');
      const sig = this.sig(leaf);
      const n = this.u16(leaf, LIST.count);
      const step = sig === SIG_LI ? INDEX_ENTRY_SIZE : FAST_ENTRY_SIZE;
      for (let i = 0; i < n; i++) {
        if (sig === SIG_LH && this.u32(leaf, LIST.entries + i * FAST_ENTRY_SIZE + FAST_ENTRY.hash) !== hash) continue;
        const child = this.u32(leaf, LIST.entries + i * step);
        if (namesEqual(this.keyName(child), name)) return child;
      }
    }
    return undefined;
  }

  findValue(nk: number, name: string): number | undefined {
    for (const vk of this.values(nk)) if (namesEqual(this.valueName(vk), name)) return vk;
    return undefined;
  }

  /** Resolve a backslash-separated path relative to the root ('' = root). */
  lookup(path: string): number | undefined {
    let nk = this.rootCell;
    for (const part of splitPath(path)) {
      const c = this.findSubkey(nk, part);
      if (c === undefined) return undefined;
      nk = c;
    }
    return nk;
  }

  /** Path of a key relative to the root. */
  pathOf(nk: number): string {
    const parts: string[] = [];
    let cur = nk;
    for (let d = 0; cur !== this.rootCell; d++) {
      if (d > MAX_DEPTH) throw new FormatError('key parent chain is too deep (cycle?)', this.pos(nk));
      this.checkNk(cur, 'parent key');
      parts.push(this.keyName(cur));
      cur = this.keyParent(cur);
    }
    return parts.reverse().join('\\');
  }

  /**
   * Depth-first walk from `start`: calls `visit(nk, path)` for each key, subkeys in stored order.
   * Cycles and excessive depth are FormatErrors.
   */
  walk(start: number, startPath: string, visit: (nk: number, path: string, treeParent: number) => void): void {
    // Keys are marked when pushed, not when visited: a subkey list shared by many keys (or an ri
    // whose leaves repeat) is then refused at its first repeated entry, so the stack never holds
    // more entries than the hive has distinct keys (linear work, bounds in docs/parser-bounds.md).
    const seen = this.newCellMap();
    const owned = this.newCellMap();
    this.markKey(seen, start);
    const stack: [number, string, number, number][] = [[start, startPath, 0, NIL]];
    while (stack.length) {
      const [nk, path, depth, treeParent] = stack.pop()!;
      if (depth > MAX_DEPTH) throw new FormatError(`key tree deeper than ${MAX_DEPTH} levels`, this.pos(nk));
      this.claimKeyCells(nk, owned);
      visit(nk, path, treeParent);
      const subs = this.subkeys(nk);
      for (let i = subs.length - 1; i >= 0; i--) {
        const c = subs[i]!;
        this.checkNk(c, 'subkey');
        this.markKey(seen, c);
        const name = this.keyName(c);
        stack.push([c, path === '' ? name : `${path}\\${name}`, depth + 1, nk]);
      }
    }
  }

  /** One bit per 8-byte cell slot of the hive bins (for one walk's cycle and ownership checks). */
  newCellMap(): Uint8Array {
    return new Uint8Array((this.hbinsSize >>> 6) + 1);
  }

  /** Mark a key as reached; a key reached twice is a cycle or a shared list (FormatError). */
  markKey(seen: Uint8Array, nk: number): void {
    if (!setSlot(seen, nk)) throw new FormatError('a key is linked twice in the key tree (cycle?)', this.pos(nk));
  }

  private claim(owned: Uint8Array, cell: number, what: string): void {
    if (!setSlot(owned, cell)) {
      throw new FormatError(`${what} cell 0x${cell.toString(16)} is used twice in the key tree (shared cells: crafted or corrupt hive)`, this.pos(cell));
    }
  }

  /**
   * Claim the cells a key owns alone in Windows' layout: its value list, each value record, each
   * value's data cell (with a big-data record's segment list and segments) and its class-name cell.
   * A cell claimed twice during one walk is a FormatError: without this, one 1 MB data cell named by
   * 40,000 value records (or one value list named by every key) makes a reader produce gigabytes
   * from a 2 MB file. Cells that are not valid are left to the readers, which report them as before.
   */
  claimKeyCells(nk: number, owned: Uint8Array): void {
    const dv = this.dv;
    const r = this.rec(nk);
    const cls = dv.getUint32(r + NK.className, true);
    if (cls !== NIL && dv.getUint16(r + NK.classLength, true) !== 0 && this.isCellStart(cls)) this.claim(owned, cls, 'class name');
    const count = dv.getUint32(r + NK.valueCount, true);
    if (count === 0) return;
    const list = dv.getUint32(r + NK.valueList, true);
    if (!this.isCellStart(list) || this.cellSize(list) - CELL_HEADER < count * VALUE_LIST_ENTRY) return;
    this.claim(owned, list, 'value list');
    const p = this.rec(list);
    for (let i = 0; i < count; i++) this.claimValueCells(dv.getUint32(p + i * VALUE_LIST_ENTRY, true), owned);
  }

  /** A value record and its data cells (see claimKeyCells). */
  private claimValueCells(vk: number, owned: Uint8Array): void {
    if (!this.isCellStart(vk) || this.cellSize(vk) < MIN_VK_CELL) return;
    this.claim(owned, vk, 'value');
    const raw = this.u32(vk, VK.dataLength);
    if (raw & DATA_INLINE || (raw & DATA_LENGTH_MASK) === 0) return;
    const dc = this.u32(vk, VK.data);
    if (!this.isCellStart(dc)) return;
    this.claim(owned, dc, 'value data');
    const cl = this.cellSize(dc) - CELL_HEADER;
    if ((raw & DATA_LENGTH_MASK) > cl && cl >= DB_FIXED && this.sig(dc) === SIG_DB) this.claimBigData(dc, owned);
  }

  /** A big-data record's segment list and segments (see claimKeyCells). */
  private claimBigData(db: number, owned: Uint8Array): void {
    const n = this.u16(db, DB.segmentCount);
    const segs = this.u32(db, DB.segmentList);
    if (!this.isCellStart(segs) || this.cellSize(segs) - CELL_HEADER < n * SEGMENT_ENTRY) return;
    this.claim(owned, segs, 'big-data segment list');
    for (let j = 0; j < n; j++) {
      const seg = this.u32(segs, j * SEGMENT_ENTRY);
      if (this.isCellStart(seg)) this.claim(owned, seg, 'big-data segment');
    }
  }

  stats(): HiveStats {
    let keys = 0;
    let values = 0;
    this.walk(this.rootCell, '', (nk) => {
      keys++;
      values += this.u32(nk, NK.valueCount);
    });
    return { keys, values };
  }

  get hiveBinsSize(): number {
    return this.hbinsSize;
  }

  // ---------------------------------------------------------------- writing keys

  private touch(nk: number, ts = filetimeNow()): void {
    this.dv.setBigUint64(this.rec(nk) + NK.lastWritten, ts, true);
  }

  /** Create a subkey (error if it exists). Returns the new key. */
  createKey(parent: number, name: string): number {
    validateKeyName(name);
    this.checkNk(parent, 'parent key');
    if (this.findSubkey(parent, name) !== undefined) throw new BadInputError(`key "${name}" already exists`);
    if (this.depthOf(parent) + 1 > MAX_DEPTH) throw new BadInputError(`key would be deeper than ${MAX_DEPTH} levels`);
    const enc = encodeName(name);
    const nk = this.alloc(NK_FIXED + enc.bytes.length);
    const ts = filetimeNow();
    const sk = this.u32(parent, NK.security);
    initNk(this.dv, this.buf, this.rec(nk), {
      flags: enc.compressed ? KEY_COMP_NAME : 0,
      ts,
      parent,
      sk,
      name: enc.bytes,
    });
    if (sk !== NIL && this.isCellStart(sk) && this.sig(sk) === SIG_SK) {
      this.setU32(sk, SK.refCount, this.u32(sk, SK.refCount) + 1);
    } else {
      this.setU32(nk, NK.security, NIL);
    }
    this.addSubkey(parent, nk, name);
    // Parent bookkeeping: MaxNameLen is the UTF-16 byte length (low 16 bits; high bits are flags).
    const mx = this.u32(parent, NK.maxNameLen);
    if ((mx & MAX_NAME_LEN_MASK) < name.length * 2) this.setU32(parent, NK.maxNameLen, (mx & ~MAX_NAME_LEN_MASK) | (name.length * 2));
    this.touch(parent, ts);
    // Offline writers store 0/nil in volatile fields of keys they write.
    this.setU32(parent, NK.volatileSubkeyCount, 0);
    this.setU32(parent, NK.volatileSubkeyList, NIL);
    return nk;
  }

  private depthOf(nk: number): number {
    let d = 0;
    for (let cur = nk; cur !== this.rootCell; cur = this.keyParent(cur)) {
      this.checkNk(cur, 'parent key');
      if (++d > MAX_DEPTH) throw new FormatError('key parent chain is too deep (cycle?)', this.pos(nk));
    }
    return d;
  }

  /** Resolve a path, creating missing keys. */
  ensureKey(path: string): number {
    let nk = this.rootCell;
    for (const part of splitPath(path)) {
      nk = this.findSubkey(nk, part) ?? this.createKey(nk, part);
    }
    return nk;
  }

  private leafSig(): number {
    return this.minor >= 5 ? SIG_LH : this.minor >= 3 ? SIG_LF : SIG_LI;
  }

  private leafCount(leaf: number): number {
    return this.u16(leaf, LIST.count);
  }

  private leafEntry(leaf: number, i: number): number {
    return this.u32(leaf, LIST.entries + i * entrySize(this.sig(leaf)));
  }

  /** Compare `name` with the key at entry i of a leaf. */
  private cmpEntry(name: string, leaf: number, i: number): number {
    return compareNames(name, this.keyName(this.leafEntry(leaf, i)));
  }

  /** Insert `child` into `parent`'s subkey list (ReactOS CmpAddSubKey: Windows' thresholds). */
  private addSubkey(parent: number, child: number, name: string): void {
    let list = this.u32(parent, NK.subkeyList);
    const count = this.u32(parent, NK.subkeyCount);
    if (count === 0) {
      list = this.alloc(LIST_FIXED + FAST_ENTRY_SIZE);
      this.setU16(list, LIST.signature, this.leafSig());
      this.setU16(list, LIST.count, 0);
      this.setU32(parent, NK.subkeyList, list);
    } else {
      this.cell(list, LIST_FIXED, 'subkey list');
      const sig = this.sig(list);
      const n = this.leafCount(list);
      if (sig === SIG_LF && n >= MAX_FAST_INDEX) {
        // Fast leaf full: convert in place to an index leaf.
        const cells: number[] = [];
        for (let i = 0; i < n; i++) cells.push(this.u32(list, LIST.entries + i * FAST_ENTRY_SIZE));
        this.setU16(list, LIST.signature, SIG_LI);
        cells.forEach((c, i) => this.setU32(list, LIST.entries + i * INDEX_ENTRY_SIZE, c));
      } else if ((sig === SIG_LI || sig === SIG_LH) && n >= MAX_INDEX) {
        const root = this.alloc(LIST_FIXED + INDEX_ENTRY_SIZE);
        this.setU16(root, LIST.signature, SIG_RI);
        this.setU16(root, LIST.count, 1);
        this.setU32(root, LIST.entries, list);
        this.setU32(parent, NK.subkeyList, root);
        list = root;
      }
    }
    if (this.sig(list) === SIG_RI) {
      const { leaf, rootIndex } = this.selectLeaf(parent, name);
      const newLeaf = this.addToLeaf(leaf, child, name);
      this.setU32(this.u32(parent, NK.subkeyList), LIST.entries + rootIndex * INDEX_ENTRY_SIZE, newLeaf);
    } else {
      const newLeaf = this.addToLeaf(list, child, name);
      this.setU32(parent, NK.subkeyList, newLeaf);
    }
    this.setU32(parent, NK.subkeyCount, count + 1);
  }

  /** CmpAddToLeaf: grow by 1.5x when full, insert in sorted position. Returns the (maybe moved) leaf. */
  private addToLeaf(leaf: number, child: number, name: string): number {
    const sig = this.sig(leaf);
    const es = entrySize(sig);
    const n = this.leafCount(leaf);
    const oldSize = this.cellSize(leaf);
    // Free entry space in the current cell (cell size includes the cell header).
    const free = oldSize - CELL_HEADER - (LIST_FIXED + es * n);
    if (Math.floor(free / es) < 1) {
      let size = oldSize + Math.floor(oldSize / 2);
      if (size < oldSize + es) size = oldSize + es;
      leaf = this.realloc(leaf, size - CELL_HEADER);
    }
    // Insertion point: first entry that sorts after the name.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmpEntry(name, leaf, mid) > 0) lo = mid + 1;
      else hi = mid;
    }
    const base = this.rec(leaf) + LIST.entries;
    this.buf.copyWithin(base + (lo + 1) * es, base + lo * es, base + n * es);
    this.setU32(leaf, LIST.entries + lo * es, child);
    if (sig === SIG_LH) this.setU32(leaf, LIST.entries + lo * es + FAST_ENTRY.hash, lhHash(name));
    else if (sig === SIG_LF) this.setU32(leaf, LIST.entries + lo * es + FAST_ENTRY.hash, lfHint(name));
    this.setU16(leaf, LIST.count, n + 1);
    return leaf;
  }

  /** CmpFindSubKeyInRoot: index of the leaf whose range holds `name`, and whether it is inside. */
  private findInRoot(root: number, name: string): { index: number; inside: boolean } {
    const count = this.leafCount(root);
    const leafAt = (i: number) => this.u32(root, LIST.entries + i * INDEX_ENTRY_SIZE);
    const cmpLast = (i: number) => {
      const l = leafAt(i);
      return Math.sign(this.cmpEntry(name, l, this.leafCount(l) - 1));
    };
    const cmpFirst = (i: number) => Math.sign(this.cmpEntry(name, leafAt(i), 0));
    let low = 0;
    let high = count - 1;
    for (;;) {
      const i = low + ((high - low) >>> 1);
      const r = cmpLast(i);
      if (r === 0) return { index: i, inside: true };
      if (r < 0) {
        if (cmpFirst(i) >= 0) return { index: i, inside: true };
        high = i;
      } else low = i;
      if (high - low <= 1) break;
    }
    let r = cmpLast(low);
    if (r === 0) return { index: low, inside: true };
    if (r < 0) {
      if (cmpFirst(low) >= 0) return { index: low, inside: true };
      return { index: low, inside: false };
    }
    r = cmpLast(high);
    if (r <= 0) return { index: high, inside: true };
    return { index: high, inside: false };
  }

  /** CmpSelectLeaf: choose (and split if needed) the leaf under an ri that will take `name`. */
  private selectLeaf(parent: number, name: string): { leaf: number; rootIndex: number } {
    for (let guard = 0; guard < 4; guard++) {
      const root = this.u32(parent, NK.subkeyList);
      const { index, inside } = this.findInRoot(root, name);
      const leafAt = (i: number) => this.u32(root, LIST.entries + i * INDEX_ENTRY_SIZE);
      const fits = (i: number) => this.leafCount(leafAt(i)) < MAX_INDEX;
      if (inside) {
        if (fits(index)) return { leaf: leafAt(index), rootIndex: index };
      } else if (Math.sign(this.cmpEntry(name, leafAt(index), 0)) >= 0) {
        if (fits(index)) return { leaf: leafAt(index), rootIndex: index };
        if (index + 1 < this.leafCount(root) && fits(index + 1)) return { leaf: leafAt(index + 1), rootIndex: index + 1 };
      } else if (index > 0) {
        if (fits(index - 1)) return { leaf: leafAt(index - 1), rootIndex: index - 1 };
      } else if (fits(0)) {
        return { leaf: leafAt(0), rootIndex: 0 };
      }
      this.setU32(parent, NK.subkeyList, this.splitLeaf(root, index));
    }
    throw new FormatError('could not place a subkey in its index (corrupt ri list)', this.pos(parent));
  }

  /** CmpSplitLeaf: split leaf `sel` of an ri into two halves; returns the (maybe moved) root. */
  private splitLeaf(root: number, sel: number): number {
    const leaf = this.u32(root, LIST.entries + sel * INDEX_ENTRY_SIZE);
    const sig = this.sig(leaf);
    const es = entrySize(sig);
    const n = this.leafCount(leaf);
    const first = n >>> 1;
    const last = n - first;
    // One byte more than the entries, as CmpSplitLeaf sizes it.
    const nl = this.alloc(es * last + LIST_FIXED + 1);
    this.setU16(nl, LIST.signature, sig);
    const rootCount = this.leafCount(root);
    const rootFree = this.cellSize(root) - CELL_HEADER - rootCount * INDEX_ENTRY_SIZE - LIST_FIXED;
    if (Math.floor(rootFree / INDEX_ENTRY_SIZE) < 1) root = this.realloc(root, this.cellSize(root) - CELL_HEADER + INDEX_ENTRY_SIZE);
    const from = this.rec(leaf) + LIST.entries;
    this.buf.copyWithin(this.rec(nl) + LIST.entries, from + first * es, from + n * es);
    const rb = this.rec(root) + LIST.entries;
    const ie = INDEX_ENTRY_SIZE;
    this.buf.copyWithin(rb + (sel + 2) * ie, rb + (sel + 1) * ie, rb + rootCount * ie);
    this.setU16(leaf, LIST.count, first);
    this.setU16(nl, LIST.count, last);
    this.setU16(root, LIST.count, rootCount + 1);
    this.setU32(root, LIST.entries + (sel + 1) * INDEX_ENTRY_SIZE, nl);
    return root;
  }

  /** Remove `child` from `parent`'s subkey list (CmpRemoveSubKey). */
  private removeSubkey(parent: number, child: number): void {
    const list = this.u32(parent, NK.subkeyList);
    const count = this.u32(parent, NK.subkeyCount);
    this.cell(list, LIST_FIXED, 'subkey list');
    let root = -1;
    let rootIndex = -1;
    let leaf = list;
    if (this.sig(list) === SIG_RI) {
      root = list;
      const rn = this.leafCount(root);
      leaf = -1;
      for (let i = 0; i < rn && leaf < 0; i++) {
        const l = this.u32(root, LIST.entries + i * INDEX_ENTRY_SIZE);
        for (let j = 0; j < this.leafCount(l); j++) {
          if (this.leafEntry(l, j) === child) {
            leaf = l;
            rootIndex = i;
            break;
          }
        }
      }
      if (leaf < 0) throw new FormatError("key not found in its parent's subkey index", this.pos(child));
    }
    const es = entrySize(this.sig(leaf));
    const n = this.leafCount(leaf);
    let idx = -1;
    for (let j = 0; j < n; j++) if (this.leafEntry(leaf, j) === child) idx = j;
    if (idx < 0) throw new FormatError("key not found in its parent's subkey list", this.pos(child));
    this.setU32(parent, NK.subkeyCount, count - 1);
    if (n - 1 === 0) {
      this.free(leaf);
      if (root >= 0) {
        const rn = this.leafCount(root);
        if (rn - 1 === 0) {
          this.free(root);
          this.setU32(parent, NK.subkeyList, NIL);
        } else {
          const rb = this.rec(root) + LIST.entries;
          const ie = INDEX_ENTRY_SIZE;
          this.buf.copyWithin(rb + rootIndex * ie, rb + (rootIndex + 1) * ie, rb + rn * ie);
          this.setU16(root, LIST.count, rn - 1);
        }
      } else {
        this.setU32(parent, NK.subkeyList, NIL);
      }
    } else {
      const base = this.rec(leaf) + LIST.entries;
      this.buf.copyWithin(base + idx * es, base + (idx + 1) * es, base + n * es);
      this.setU16(leaf, LIST.count, n - 1);
    }
  }

  /** Delete a key and everything below it. The root cannot be deleted. */
  deleteKey(nk: number): void {
    if (nk === this.rootCell) throw new BadInputError('the root key cannot be deleted');
    this.checkNk(nk);
    const parent = this.keyParent(nk);
    this.checkNk(parent, 'parent key');
    // Free the subtree bottom-up: preorder reversed visits every key after all of its descendants.
    // The tree parent comes from the walk, not from the (possibly stale) parent field.
    const order: [number, number][] = [];
    this.walk(nk, '', (k, _p, treeParent) => order.push([k, treeParent === NIL ? parent : treeParent]));
    for (let i = order.length - 1; i >= 0; i--) {
      const [k, p] = order[i]!;
      this.freeKeyCells(k);
      this.removeSubkey(p, k);
      this.free(k);
    }
    this.recomputeMaxNameLen(parent);
    this.touch(parent);
  }

  /** Free everything a key owns except the nk cell itself and its subkey lists (already empty). */
  private freeKeyCells(nk: number): void {
    for (const vk of this.values(nk)) {
      this.freeValueData(vk);
      this.free(vk);
    }
    if (this.u32(nk, NK.valueCount) > 0) this.free(this.u32(nk, NK.valueList));
    this.setU32(nk, NK.valueCount, 0);
    this.setU32(nk, NK.valueList, NIL);
    const cls = this.u32(nk, NK.className);
    if (cls !== NIL) this.free(cls);
    this.releaseSecurity(this.u32(nk, NK.security));
  }

  private recomputeMaxNameLen(nk: number): void {
    let m = 0;
    for (const c of this.subkeys(nk)) m = Math.max(m, this.keyName(c).length * 2);
    const mx = this.u32(nk, NK.maxNameLen);
    this.setU32(nk, NK.maxNameLen, (mx & ~MAX_NAME_LEN_MASK) | m);
  }

  // ---------------------------------------------------------------- security

  private releaseSecurity(sk: number): void {
    if (sk === NIL || !this.isCellStart(sk) || this.sig(sk) !== SIG_SK) return;
    const rc = this.u32(sk, SK.refCount);
    if (rc > 1) {
      this.setU32(sk, SK.refCount, rc - 1);
      return;
    }
    const flink = this.u32(sk, SK.flink);
    const blink = this.u32(sk, SK.blink);
    if (flink !== sk && this.isCellStart(flink) && this.isCellStart(blink)) {
      this.setU32(blink, SK.flink, flink);
      this.setU32(flink, SK.blink, blink);
    }
    this.free(sk);
  }

  /**
   * Point key `nk` at security descriptor `sd` (self-relative bytes): an sk cell that already holds
   * exactly these bytes is shared (its reference count raised), else a new one is put on the list of
   * all sk cells beside the key's current one; the old cell loses the key's reference (and is freed,
   * unlinked from the list, when that was its last). Children keep their own sk cells, as Windows'
   * RegSetKeySecurity leaves inherited descriptors to the caller.
   */
  setKeySecurity(nk: number, sd: Uint8Array): void {
    this.checkNk(nk);
    if (sd.length < 20 || sd.length > 65536) throw new BadInputError(`a security descriptor of ${sd.length} bytes`);
    const old = this.u32(nk, NK.security);
    const oldOk = old !== NIL && this.isCellStart(old) && this.sig(old) === SIG_SK;
    if (oldOk) {
      const cur = this.keySecurity(nk)!;
      if (cur.length === sd.length && cur.every((b, i) => b === sd[i])) return;
    }
    // An sk cell with these very bytes, found along the list (bounded: a hostile list may not end).
    let same = NIL;
    if (oldOk) {
      for (let sk = this.u32(old, SK.flink), n = 0; sk !== old && n < 1_000_000; sk = this.u32(sk, SK.flink), n++) {
        if (!this.isCellStart(sk) || this.sig(sk) !== SIG_SK) break;
        const len = this.u32(sk, SK.descriptorLength);
        if (len !== sd.length) continue;
        const p = this.rec(sk) + SK.descriptor;
        if (this.buf.subarray(p, p + len).every((b, i) => b === sd[i])) {
          same = sk;
          break;
        }
      }
    }
    if (same !== NIL) {
      this.setU32(same, SK.refCount, this.u32(same, SK.refCount) + 1);
      this.setU32(nk, NK.security, same);
    } else {
      const sk = this.alloc(SK_FIXED + sd.length);
      initSk(this.dv, this.buf, this.rec(sk), sk, sd);
      const next = oldOk ? this.u32(old, SK.flink) : NIL;
      if (oldOk && this.isCellStart(next) && this.sig(next) === SIG_SK) {
        this.setU32(sk, SK.flink, next);
        this.setU32(sk, SK.blink, old);
        this.setU32(next, SK.blink, sk);
        this.setU32(old, SK.flink, sk);
      }
      this.setU32(nk, NK.security, sk);
    }
    if (oldOk) this.releaseSecurity(old);
  }

  /** Give a key a security descriptor of its own (used for a new hive's root). */
  private attachNewSecurity(nk: number, sd: Uint8Array): void {
    const sk = this.alloc(SK_FIXED + sd.length);
    initSk(this.dv, this.buf, this.rec(sk), sk, sd);
    this.setU32(nk, NK.security, sk);
  }

  // ---------------------------------------------------------------- writing values

  setValue(nk: number, name: string, type: number, data: Uint8Array): void {
    this.checkNk(nk);
    if (name.length > MAX_VALUE_NAME) throw new BadInputError(`value name longer than ${MAX_VALUE_NAME} characters`);
    if (!Number.isInteger(type) || type < 0 || type > 0xffffffff) throw new BadInputError(`bad value type ${type}`);
    if (data.length > DATA_LENGTH_MASK) throw new BadInputError('value data too large');
    const useDb = this.minor >= 4 && data.length > BIG_DATA_THRESHOLD;
    if (!useDb && data.length > MAX_PLAIN_VALUE) {
      throw new BadInputError(`a ${data.length}-byte value does not fit a version 1.${this.minor} hive (1 MB limit without big-data records)`);
    }
    let vk = this.findValue(nk, name);
    if (vk === undefined) {
      const enc = encodeName(name);
      vk = this.alloc(VK_FIXED + enc.bytes.length);
      initVk(this.dv, this.buf, this.rec(vk), enc.bytes, enc.compressed);
      this.appendValue(nk, vk);
      const mvn = this.u32(nk, NK.maxValueNameLen);
      if (mvn < name.length * 2) this.setU32(nk, NK.maxValueNameLen, name.length * 2);
    } else {
      this.freeValueData(vk);
    }
    this.setU32(vk, VK.type, type);
    this.writeValueData(vk, data, useDb);
    if (this.u32(nk, NK.maxValueDataLen) < data.length) this.setU32(nk, NK.maxValueDataLen, data.length);
    this.touch(nk);
  }

  private writeValueData(vk: number, data: Uint8Array, useDb: boolean): void {
    const len = data.length;
    if (len <= INLINE_MAX) {
      const p = this.rec(vk) + VK.data;
      this.buf.fill(0, p, p + INLINE_MAX);
      this.buf.set(data, p);
      this.setU32(vk, VK.dataLength, (len | DATA_INLINE) >>> 0);
      return;
    }
    if (!useDb) {
      const c = this.alloc(len);
      this.buf.set(data, this.rec(c));
      this.setU32(vk, VK.dataLength, len);
      this.setU32(vk, VK.data, c);
      return;
    }
    const n = Math.ceil(len / BIG_DATA_THRESHOLD);
    const segs: number[] = [];
    for (let i = 0; i < n; i++) {
      const chunk = data.subarray(i * BIG_DATA_THRESHOLD, Math.min(len, (i + 1) * BIG_DATA_THRESHOLD));
      // Windows allocates every segment full size, the last one too (seen in every real hive).
      const s = this.alloc(BIG_DATA_THRESHOLD);
      this.buf.set(chunk, this.rec(s));
      segs.push(s);
    }
    const list = this.alloc(n * SEGMENT_ENTRY);
    segs.forEach((s, i) => this.setU32(list, i * SEGMENT_ENTRY, s));
    const db = this.alloc(DB_FIXED);
    initDb(this.dv, this.rec(db), n, list);
    this.setU32(vk, VK.dataLength, len);
    this.setU32(vk, VK.data, db);
  }

  private freeValueData(vk: number): void {
    const raw = this.u32(vk, VK.dataLength);
    if (raw & DATA_INLINE) return;
    const len = raw & DATA_LENGTH_MASK;
    const c = this.u32(vk, VK.data);
    if (len === 0 || !this.isCellStart(c)) return;
    if (len > this.cellSize(c) - CELL_HEADER && this.sig(c) === SIG_DB) {
      const n = this.u16(c, DB.segmentCount);
      const list = this.u32(c, DB.segmentList);
      if (this.isCellStart(list)) {
        for (let i = 0; i < n; i++) this.free(this.u32(list, i * SEGMENT_ENTRY));
        this.free(list);
      }
    }
    this.free(c);
  }

  private appendValue(nk: number, vk: number): void {
    const count = this.u32(nk, NK.valueCount);
    let list = this.u32(nk, NK.valueList);
    if (count === 0) {
      list = this.alloc(VALUE_LIST_ENTRY);
    } else {
      const cap = Math.floor((this.cellSize(list) - CELL_HEADER) / VALUE_LIST_ENTRY);
      if (cap < count + 1) list = this.realloc(list, Math.max(count + 1, Math.floor(count * 1.5)) * VALUE_LIST_ENTRY);
    }
    this.setU32(list, count * VALUE_LIST_ENTRY, vk);
    this.setU32(nk, NK.valueList, list);
    this.setU32(nk, NK.valueCount, count + 1);
  }

  deleteValue(nk: number, name: string): boolean {
    const vk = this.findValue(nk, name);
    if (vk === undefined) return false;
    const vals = this.values(nk);
    const idx = vals.indexOf(vk);
    const list = this.u32(nk, NK.valueList);
    const base = this.rec(list);
    const ve = VALUE_LIST_ENTRY;
    this.buf.copyWithin(base + idx * ve, base + (idx + 1) * ve, base + vals.length * ve);
    this.setU32(nk, NK.valueCount, vals.length - 1);
    if (vals.length - 1 === 0) {
      this.free(list);
      this.setU32(nk, NK.valueList, NIL);
    }
    this.freeValueData(vk);
    this.free(vk);
    let mn = 0;
    let md = 0;
    for (const v of this.values(nk)) {
      mn = Math.max(mn, this.valueName(v).length * 2);
      md = Math.max(md, this.valueLength(v));
    }
    this.setU32(nk, NK.maxValueNameLen, mn);
    this.setU32(nk, NK.maxValueDataLen, md);
    this.touch(nk);
    return true;
  }

  // ---------------------------------------------------------------- saving

  /**
   * The bytes of a clean primary: type 0, seq1 = seq2 = above every sequence number seen,
   * hive-bins size and checksum updated. Bytes beyond the bins that the original file had are kept.
   */
  serialize(): Uint8Array {
    const hlen = HBIN_START + this.hbinsSize;
    const outLen = Math.max(hlen, this.originalLength);
    // Patch the base block in place and hand out a view when the buffer is large enough: a
    // 100 MB hive is then saved without a second 100 MB copy.
    if (this.buf.length < outLen) {
      const grown = new Uint8Array(outLen);
      grown.set(this.buf);
      this.buf = grown;
      this.dv = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
    }
    const seq = (this.maxSeqSeen + 1) >>> 0;
    writeBaseBlock(this.buf, { seq1: seq, seq2: seq, type: FILE_TYPE.PRIMARY, hbinsSize: this.hbinsSize, timestamp: filetimeNow() });
    return this.buf.subarray(0, outLen);
  }

  /** After a successful save the new file is the baseline. */
  markSaved(): void {
    this.maxSeqSeen = (this.maxSeqSeen + 1) >>> 0;
  }

  /**
   * Structural self-check, run before every save and by the tests: every key reachable once, subkey
   * lists in Windows order with correct lh hashes / lf hints, counts consistent, every value readable.
   */
  verify(): void {
    this.walk(this.rootCell, '', (nk) => {
      const subs = this.subkeys(nk);
      let prev: string | undefined;
      for (const c of subs) {
        const name = this.keyName(c);
        if (prev !== undefined && compareNames(prev, name) >= 0) {
          throw new FormatError(`subkeys of "${this.pathOf(nk)}" are not in Windows order ("${prev}", "${name}")`, this.pos(nk));
        }
        prev = name;
      }
      this.checkListHashes(this.u32(nk, NK.subkeyList), this.u32(nk, NK.subkeyCount));
      for (const vk of this.values(nk)) this.valueData(vk);
    });
  }

  private checkListHashes(list: number, count: number): void {
    if (count === 0) return;
    const sig = this.sig(list);
    if (sig === SIG_RI) {
      for (let i = 0; i < this.leafCount(list); i++) this.checkListHashes(this.u32(list, LIST.entries + i * INDEX_ENTRY_SIZE), 1);
      return;
    }
    if (sig !== SIG_LH && sig !== SIG_LF) return;
    for (let i = 0; i < this.leafCount(list); i++) {
      const name = this.keyName(this.u32(list, LIST.entries + i * FAST_ENTRY_SIZE));
      const stored = this.u32(list, LIST.entries + i * FAST_ENTRY_SIZE + FAST_ENTRY.hash);
      if (sig === SIG_LH && stored !== lhHash(name)) {
        throw new FormatError(`lh hash of "${name}" is 0x${stored.toString(16)}, expected 0x${lhHash(name).toString(16)}`, this.pos(list));
      }
      // lf hints: Windows' form, or any hint with byte 0 = 0 for names with wide characters.
      if (sig === SIG_LF && stored !== lfHint(name) && !((stored & 0xff) === 0 && /[^\u0000-\u00ff]/.test(name.slice(0, 4)))) {
        throw new FormatError(`lf hint of "${name}" is 0x${stored.toString(16)}, expected 0x${lfHint(name).toString(16)}`, this.pos(list));
      }
    }
  }
}

// -------------------------------------------------------------------- helpers

export function splitPath(path: string): string[] {
  return path.split('\\').filter((p) => p !== '');
}

function validateKeyName(name: string): void {
  if (name.length === 0) throw new BadInputError('empty key name');
  if (name.length > MAX_KEY_NAME) throw new BadInputError(`key name longer than ${MAX_KEY_NAME} characters`);
  if (name.includes('\\')) throw new BadInputError('key name contains a backslash');
}

/** Bytes of a map with one bit per 8-byte cell slot of `hbinsSize` bytes of bins. */
function slotMapBytes(hbinsSize: number): number {
  return Math.ceil(hbinsSize / CELL_ALIGN / 8) + 1;
}

function newSlotMap(hbinsSize: number): Uint8Array {
  return new Uint8Array(slotMapBytes(hbinsSize));
}

function slotIsSet(map: Uint8Array, cell: number): boolean {
  const slot = cell >>> 3;
  return ((map[slot >>> 3] ?? 0) & (1 << (slot & 7))) !== 0;
}

/** Set the slot's bit; false when it was already set (or lies outside the map). */
function setSlot(map: Uint8Array, cell: number): boolean {
  const slot = cell >>> 3;
  const byte = slot >>> 3;
  const bit = 1 << (slot & 7);
  const v = map[byte];
  if (v === undefined) return true; // outside the map: nothing to record
  if (v & bit) return false;
  map[byte] = v | bit;
  return true;
}
