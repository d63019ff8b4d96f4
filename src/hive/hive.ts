// The regf engine: an in-memory hive (base block + bins) with read and write operations.
// Pure core: bytes in, bytes out. File handling (logs, atomic save) lives in hivefile.ts.
//
// Cells are addressed by their offset relative to the first hive bin (file offset 0x1000), as in
// the format itself. Every cell reference read from the file is checked against a bitmap of valid
// cell starts built when the hive is opened, so corrupt offsets, cycles and absurd sizes become
// FormatErrors instead of crashes or hangs.
import { FormatError, BadInputError } from '../shared/errors.js';
import {
  BASE_BLOCK_SIZE,
  HBIN_START,
  parseBaseBlock,
  writeBaseBlock,
  newBaseBlock,
  filetimeNow,
  baseBlockProblems,
} from './baseblock.js';
import { compareNames, namesEqual, lhHash, lfHint, encodeName, decodeName } from './names.js';

export const NIL = 0xffffffff;

/** nk flags */
export const KEY_VOLATILE = 0x1;
export const KEY_HIVE_EXIT = 0x2;
export const KEY_HIVE_ENTRY = 0x4;
export const KEY_NO_DELETE = 0x8;
export const KEY_SYM_LINK = 0x10;
export const KEY_COMP_NAME = 0x20;
export const VALUE_COMP_NAME = 0x1;

/** Windows' limits (learn.microsoft.com "Registry element size limits"). */
export const MAX_KEY_NAME = 255;
export const MAX_VALUE_NAME = 16383;
export const MAX_DEPTH = 512;
/** Largest value stored in one plain cell; above it (minor >= 4) data goes into a db record. */
export const BIG_DATA_THRESHOLD = 16344;
/** Windows refuses values above 1 MB in 1.3 hives (no big-data records there). */
export const MAX_PLAIN_VALUE = 1024 * 1024;

/** CmpMaxFastIndexPerHblock and CmpMaxIndexPerHblock (ReactOS cmindex.c; Windows thresholds). */
export const MAX_FAST_INDEX = 507;
export const MAX_INDEX = 1013;

const SIG_NK = 0x6b6e;
const SIG_VK = 0x6b76;
const SIG_SK = 0x6b73;
const SIG_LF = 0x666c;
const SIG_LH = 0x686c;
const SIG_LI = 0x696c;
const SIG_RI = 0x6972;
const SIG_DB = 0x6264;

const HBIN_HEADER = 32;
/** Smallest cell an nk record fits in: 4-byte header + 76 bytes, 8-aligned. */
const MIN_NK_CELL = 80;
/** Sanity bound for a hive we load whole into memory (offreg refuses >= 4 GB). */
const MAX_HIVE_BYTES = 2 ** 31;

export interface ValueInfo {
  name: string;
  type: number;
  data: Uint8Array;
}

export interface HiveStats {
  keys: number;
  values: number;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Size of a cell that holds `dataLen` bytes (4-byte header, 8-byte granularity). */
function cellSizeFor(dataLen: number): number {
  return Math.max(8, align8(dataLen + 4));
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
  /** Free cells bucketed by size/8 (last bucket: everything larger). */
  private freeBuckets: Set<number>[] = [];
  private readonly maxBucket = 1024;
  /** Highest sequence number seen in the primary and its logs; a save writes one above it. */
  maxSeqSeen: number;
  readonly minor: number;
  private readonly originalLength: number;

  private constructor(bytes: Uint8Array, opts: { maxSeqSeen?: number } = {}) {
    if (bytes.length < BASE_BLOCK_SIZE) {
      throw new FormatError(`file is ${bytes.length} bytes, shorter than a 4096-byte base block`, bytes.length);
    }
    const bb = parseBaseBlock(bytes);
    const problems = baseBlockProblems(bb);
    if (problems.length) throw new FormatError(problems[0]!, 20);
    if (bb.hbinsSize === 0) throw new FormatError('hive-bins size is 0: no hive bins', 40);
    if (HBIN_START + bb.hbinsSize > bytes.length) {
      throw new FormatError(
        `hive-bins size 0x${bb.hbinsSize.toString(16)} runs past the end of the ${bytes.length}-byte file (truncated?)`,
        40,
      );
    }
    if (HBIN_START + bb.hbinsSize > MAX_HIVE_BYTES) throw new FormatError('hive larger than 2 GiB is not supported', 40);
    this.buf = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.hbinsSize = bb.hbinsSize;
    this.minor = bb.minor;
    this.originalLength = bytes.length;
    this.maxSeqSeen = Math.max(opts.maxSeqSeen ?? 0, bb.seq1, bb.seq2);
    this.starts = new Uint8Array(Math.ceil(this.hbinsSize / 8 / 8) + 1);
    for (let i = 0; i <= this.maxBucket; i++) this.freeBuckets.push(new Set());
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
    const bytes = new Uint8Array(BASE_BLOCK_SIZE + 4096);
    const ts = filetimeNow();
    bytes.set(newBaseBlock({ minor, rootCell: 0x20, hbinsSize: 4096, fileName: opts.fileName, timestamp: ts }), 0);
    const dv = new DataView(bytes.buffer);
    writeHbinHeader(dv, HBIN_START, 0, 4096, ts);
    // Root nk at hbins offset 0x20.
    const enc = encodeName(rootName);
    const nkSize = cellSizeFor(76 + enc.bytes.length);
    const p = HBIN_START + 0x20;
    dv.setInt32(p, -nkSize, true);
    initNk(dv, bytes, p + 4, {
      flags: KEY_HIVE_EXIT | KEY_HIVE_ENTRY | KEY_NO_DELETE | (enc.compressed ? KEY_COMP_NAME : 0),
      ts,
      parent: NIL,
      sk: NIL,
      name: enc.bytes,
    });
    // The rest of the bin is one free cell.
    const restOff = 0x20 + nkSize;
    dv.setInt32(HBIN_START + restOff, 4096 - restOff, true);
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
    if (cell % 8 !== 0 || cell < 0 || cell >= this.hbinsSize) return false;
    const slot = cell >>> 3;
    return (this.starts[slot >>> 3]! & (1 << (slot & 7))) !== 0;
  }

  private setStart(cell: number, on: boolean): void {
    const slot = cell >>> 3;
    if (on) this.starts[slot >>> 3]! |= 1 << (slot & 7);
    else this.starts[slot >>> 3]! &= ~(1 << (slot & 7));
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
    const len = -raw - 4;
    if (len < min) throw new FormatError(`${what} cell is ${len} bytes, too small (need ${min})`, this.pos(cell));
    return len;
  }

  private u16(cell: number, off: number): number {
    return this.dv.getUint16(HBIN_START + cell + 4 + off, true);
  }
  private u32(cell: number, off: number): number {
    return this.dv.getUint32(HBIN_START + cell + 4 + off, true);
  }
  private setU16(cell: number, off: number, v: number): void {
    this.dv.setUint16(HBIN_START + cell + 4 + off, v, true);
  }
  private setU32(cell: number, off: number, v: number): void {
    this.dv.setUint32(HBIN_START + cell + 4 + off, v >>> 0, true);
  }
  private sig(cell: number): number {
    return this.u16(cell, 0);
  }

  // ---------------------------------------------------------------- opening: bins, cells, free lists

  private scanBins(): void {
    const end = this.hbinsSize;
    let off = 0;
    while (off < end) {
      const p = HBIN_START + off;
      if (p + HBIN_HEADER > HBIN_START + end || this.dv.getUint32(p, true) !== 0x6e696268 /* hbin */) {
        throw new FormatError(`no "hbin" signature at hive-bins offset 0x${off.toString(16)}: corrupt or truncated hive`, p);
      }
      const selfOff = this.dv.getUint32(p + 4, true);
      const size = this.dv.getUint32(p + 8, true);
      if (selfOff !== off) throw new FormatError(`hive bin at 0x${off.toString(16)} says its offset is 0x${selfOff.toString(16)}`, p + 4);
      if (size < 4096 || size % 4096 !== 0 || off + size > end) {
        throw new FormatError(`hive bin at 0x${off.toString(16)} has a bad size 0x${size.toString(16)}`, p + 8);
      }
      this.binStarts.push(off);
      this.binSizes.push(size);
      let c = off + HBIN_HEADER;
      const binEnd = off + size;
      while (c < binEnd) {
        const raw = this.dv.getInt32(HBIN_START + c, true);
        const cs = Math.abs(raw);
        if (cs < 8 || cs % 8 !== 0 || c + cs > binEnd) {
          throw new FormatError(`cell at 0x${c.toString(16)} has a bad size ${raw}`, HBIN_START + c);
        }
        this.setStart(c, true);
        if (raw > 0) this.addFree(c, cs);
        c += cs;
      }
      off += size;
    }
  }

  private checkRoot(root: number): void {
    this.cell(root, 76, 'root key');
    if (this.sig(root) !== SIG_NK) throw new FormatError('root cell is not a key (nk) record', this.pos(root));
  }

  private bucketOf(size: number): number {
    return Math.min(size >>> 3, this.maxBucket);
  }
  private addFree(cell: number, size: number): void {
    this.freeBuckets[this.bucketOf(size)]!.add(cell);
  }
  private removeFree(cell: number, size: number): void {
    this.freeBuckets[this.bucketOf(size)]!.delete(cell);
  }

  // ---------------------------------------------------------------- allocation

  /** Allocate a cell holding `dataLen` bytes; returns its offset. Contents are zeroed. */
  private alloc(dataLen: number): number {
    const need = cellSizeFor(dataLen);
    let found = -1;
    let foundSize = 0;
    for (let b = this.bucketOf(need); b <= this.maxBucket && found < 0; b++) {
      const set = this.freeBuckets[b]!;
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
    if (rest >= 8) {
      const restCell = found + need;
      this.dv.setInt32(this.pos(restCell), rest, true);
      this.setStart(restCell, true);
      this.addFree(restCell, rest);
      this.dv.setInt32(this.pos(found), -need, true);
    } else {
      this.dv.setInt32(this.pos(found), -foundSize, true);
    }
    const size = rest >= 8 ? need : foundSize;
    this.buf.fill(0, this.pos(found) + 4, this.pos(found) + size);
    return found;
  }

  /** Free a cell and coalesce it with free neighbours in the same bin. */
  private free(cell: number): void {
    if (cell === NIL || !this.isCellStart(cell)) return;
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
    const size = Math.ceil((need + HBIN_HEADER) / 4096) * 4096;
    const off = this.hbinsSize;
    const newLen = HBIN_START + off + size;
    if (newLen > MAX_HIVE_BYTES) throw new BadInputError('hive would grow beyond 2 GiB');
    if (newLen > this.buf.length) {
      const grown = new Uint8Array(Math.max(newLen, Math.min(MAX_HIVE_BYTES, this.buf.length + Math.max(1 << 20, this.buf.length >>> 3))));
      grown.set(this.buf.subarray(0, HBIN_START + this.hbinsSize));
      this.buf = grown;
      this.dv = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
    } else {
      this.buf.fill(0, HBIN_START + off, newLen);
    }
    writeHbinHeader(this.dv, HBIN_START + off, off, size, 0n);
    this.hbinsSize += size;
    const slots = Math.ceil(this.hbinsSize / 64) + 1;
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
    const oldLen = this.cellSize(cell) - 4;
    if (cellSizeFor(dataLen) <= oldLen + 4) return cell;
    const copy = this.buf.slice(this.pos(cell) + 4, this.pos(cell) + 4 + oldLen);
    this.free(cell);
    const n = this.alloc(dataLen);
    this.buf.set(copy, this.pos(n) + 4);
    return n;
  }

  // ---------------------------------------------------------------- reading keys

  private checkNk(nk: number, what = 'key'): void {
    this.cell(nk, 76, what);
    if (this.sig(nk) !== SIG_NK) throw new FormatError(`${what} is not a key (nk) record`, this.pos(nk));
    const nameLen = this.u16(nk, 72);
    if (76 + nameLen > this.cellSize(nk) - 4) throw new FormatError('key name runs past its cell', this.pos(nk) + 4 + 72);
  }

  /**
   * Where a key's stored name is, for byte-level dumps: writes [file position, byte length,
   * compressed ? 1 : 0] into `out` (no allocation in the hot loop).
   */
  keyNameRaw(nk: number, out: Int32Array): void {
    this.checkNk(nk);
    out[0] = this.pos(nk) + 4 + 76;
    out[1] = this.u16(nk, 72);
    out[2] = this.u16(nk, 2) & KEY_COMP_NAME ? 1 : 0;
  }

  /** Where a value's stored name is: [file position, byte length, compressed ? 1 : 0] into `out`. */
  valueNameRaw(vk: number, out: Int32Array): void {
    this.checkVk(vk);
    out[0] = this.pos(vk) + 4 + 20;
    out[1] = this.u16(vk, 2);
    out[2] = this.u16(vk, 16) & VALUE_COMP_NAME ? 1 : 0;
  }

  /**
   * Where a value's data is, without copying: writes [file position, length] into `out` and returns
   * true for inline and single-cell data; returns false for big data (use valueDataView).
   */
  valueDataRaw(vk: number, out: Int32Array): boolean {
    const raw = this.u32(vk, 4);
    const len = raw & 0x7fffffff;
    if (raw & 0x80000000) {
      if (len > 4) throw new FormatError(`inline value data claims ${len} bytes (at most 4 fit)`, this.pos(vk) + 8);
      out[0] = this.pos(vk) + 4 + 8;
      out[1] = len;
      return true;
    }
    if (len === 0) {
      out[0] = 0;
      out[1] = 0;
      return true;
    }
    const dataCell = this.u32(vk, 8);
    const cl = this.cell(dataCell, 0, 'value data');
    if (len > cl) return false;
    out[0] = this.pos(dataCell) + 4;
    out[1] = len;
    return true;
  }

  /** The hive image (read-only use; valid until the next write). */
  get bytes(): Uint8Array {
    return this.buf;
  }

  keyName(nk: number): string {
    this.checkNk(nk);
    const flags = this.u16(nk, 2);
    return decodeName(this.buf, this.pos(nk) + 4 + 76, this.u16(nk, 72), (flags & KEY_COMP_NAME) !== 0);
  }

  /**
   * The key's security descriptor bytes (a view into the hive, valid until the next write), or
   * undefined when the key has none. The sk cell is checked; the descriptor is bounded by its cell.
   * Security cells are shared by many keys, so a reader decodes each offset once (skOffset).
   */
  keySecurity(nk: number): Uint8Array | undefined {
    this.checkNk(nk);
    const sk = this.u32(nk, 44);
    if (sk === NIL) return undefined;
    const len = this.cell(sk, 20, 'security');
    if (this.sig(sk) !== SIG_SK) throw new FormatError('security cell is not an sk record', this.pos(sk));
    const sdLen = this.u32(sk, 16);
    if (20 + sdLen > len) throw new FormatError(`security descriptor of ${sdLen} bytes runs past its ${len}-byte cell`, this.pos(sk) + 4 + 16);
    const p = this.pos(sk) + 4 + 20;
    return this.buf.subarray(p, p + sdLen);
  }

  /** Offset of the key's sk cell (NIL when none): the cache key for decoded descriptors. */
  skOffset(nk: number): number {
    return this.u32(nk, 44);
  }

  keyParent(nk: number): number {
    return this.u32(nk, 16);
  }

  className(nk: number): string | undefined {
    const off = this.u32(nk, 48);
    const len = this.u16(nk, 74);
    if (off === NIL || len === 0) return undefined;
    const cl = this.cell(off, len, 'class name');
    return decodeName(this.buf, this.pos(off) + 4, Math.min(len, cl), false);
  }

  /** Subkeys in stored order (for an ri, each leaf in turn). */
  subkeys(nk: number): number[] {
    this.checkNk(nk);
    const count = this.u32(nk, 20);
    const list = this.u32(nk, 28);
    if (count === 0) return [];
    // Every subkey is a distinct nk cell of at least MIN_NK_CELL bytes: a larger count cannot be
    // true, and it would let an ri list repeat one big leaf up to 65,535 times (4 billion entries).
    if (count > this.hbinsSize / MIN_NK_CELL) {
      throw new FormatError(`key says it has ${count} subkeys, more than a ${this.hbinsSize}-byte hive can hold`, this.pos(nk) + 4 + 20);
    }
    const out: number[] = [];
    this.readList(list, out, true, count);
    if (out.length !== count) {
      throw new FormatError(`key says it has ${count} subkeys but its list holds ${out.length}`, this.pos(nk) + 4 + 20);
    }
    return out;
  }

  private readList(list: number, out: number[], allowRi: boolean, limit: number): void {
    const len = this.cell(list, 4, 'subkey list');
    const sig = this.sig(list);
    const n = this.u16(list, 2);
    const p = this.pos(list) + 4 + 4;
    switch (sig) {
      case SIG_LF:
      case SIG_LH:
        if (4 + n * 8 > len) throw new FormatError('subkey list runs past its cell', this.pos(list));
        for (let i = 0; i < n; i++) out.push(this.dv.getUint32(p + i * 8, true));
        return;
      case SIG_LI:
        if (4 + n * 4 > len) throw new FormatError('subkey list runs past its cell', this.pos(list));
        for (let i = 0; i < n; i++) out.push(this.dv.getUint32(p + i * 4, true));
        return;
      case SIG_RI:
        if (!allowRi) throw new FormatError('an ri list points to another ri list', this.pos(list));
        if (4 + n * 4 > len) throw new FormatError('subkey index runs past its cell', this.pos(list));
        for (let i = 0; i < n; i++) {
          this.readList(this.dv.getUint32(p + i * 4, true), out, false, limit);
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
    const count = this.u32(nk, 36);
    if (count === 0) return [];
    const list = this.u32(nk, 40);
    const len = this.cell(list, count * 4, 'value list');
    void len;
    const out = new Array<number>(count);
    const p = this.pos(list) + 4;
    for (let i = 0; i < count; i++) out[i] = this.dv.getUint32(p + i * 4, true);
    return out;
  }

  private checkVk(vk: number): void {
    this.cell(vk, 20, 'value');
    if (this.sig(vk) !== SIG_VK) throw new FormatError('value list entry is not a value (vk) record', this.pos(vk));
    if (20 + this.u16(vk, 2) > this.cellSize(vk) - 4) throw new FormatError('value name runs past its cell', this.pos(vk) + 6);
  }

  valueName(vk: number): string {
    this.checkVk(vk);
    return decodeName(this.buf, this.pos(vk) + 4 + 20, this.u16(vk, 2), (this.u16(vk, 16) & VALUE_COMP_NAME) !== 0);
  }

  valueType(vk: number): number {
    return this.u32(vk, 12);
  }

  /** Declared data length (without the inline bit). */
  valueLength(vk: number): number {
    return this.u32(vk, 4) & 0x7fffffff;
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
    const raw = this.u32(vk, 4);
    const len = raw & 0x7fffffff;
    if (raw & 0x80000000) {
      if (len > 4) throw new FormatError(`inline value data claims ${len} bytes (at most 4 fit)`, this.pos(vk) + 8);
      const p = this.pos(vk) + 4 + 8;
      return this.buf.subarray(p, p + len);
    }
    if (len === 0) return new Uint8Array(0);
    const dataCell = this.u32(vk, 8);
    const cl = this.cell(dataCell, 0, 'value data');
    if (len <= cl) return this.buf.subarray(this.pos(dataCell) + 4, this.pos(dataCell) + 4 + len);
    if (cl >= 8 && this.sig(dataCell) === SIG_DB) return this.readBigData(dataCell, len);
    throw new FormatError(`value data length ${len} is larger than its ${cl}-byte cell`, this.pos(dataCell));
  }

  private readBigData(db: number, len: number): Uint8Array {
    const n = this.u16(db, 2);
    const list = this.u32(db, 4);
    this.cell(list, n * 4, 'big-data segment list');
    // Bound the allocation by what the record and the file can really hold.
    if (len > n * BIG_DATA_THRESHOLD || len > this.hbinsSize) {
      throw new FormatError(`big-data value claims ${len} bytes but has ${n} segments`, this.pos(db));
    }
    const out = new Uint8Array(len);
    let got = 0;
    for (let i = 0; i < n && got < len; i++) {
      const seg = this.dv.getUint32(this.pos(list) + 4 + i * 4, true);
      const sl = this.cell(seg, 0, 'big-data segment');
      const take = Math.min(sl, BIG_DATA_THRESHOLD, len - got);
      out.set(this.buf.subarray(this.pos(seg) + 4, this.pos(seg) + 4 + take), got);
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
    const list = this.u32(nk, 28);
    if (this.u32(nk, 20) === 0) return undefined;
    const leaves: number[] = [];
    this.cell(list, 4, 'subkey list');
    if (this.sig(list) === SIG_RI) {
      const n = this.u16(list, 2);
      for (let i = 0; i < n; i++) leaves.push(this.u32(list, 4 + i * 4));
    } else leaves.push(list);
    const hash = lhHash(name);
    for (const leaf of leaves) {
      this.cell(leaf, 4, 'subkey list');
      const sig = this.sig(leaf);
      const n = this.u16(leaf, 2);
      const step = sig === SIG_LI ? 4 : 8;
      for (let i = 0; i < n; i++) {
        if (sig === SIG_LH && this.u32(leaf, 8 + i * 8) !== hash) continue;
        const child = this.u32(leaf, 4 + i * step);
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
    const slot = nk >>> 3;
    if (seen[slot >>> 3]! & (1 << (slot & 7))) throw new FormatError('a key is linked twice in the key tree (cycle?)', this.pos(nk));
    seen[slot >>> 3]! |= 1 << (slot & 7);
  }

  private claim(owned: Uint8Array, cell: number, what: string): void {
    const slot = cell >>> 3;
    if (owned[slot >>> 3]! & (1 << (slot & 7))) {
      throw new FormatError(`${what} cell 0x${cell.toString(16)} is used twice in the key tree (shared cells: crafted or corrupt hive)`, this.pos(cell));
    }
    owned[slot >>> 3]! |= 1 << (slot & 7);
  }

  /**
   * Claim the cells a key owns alone in Windows' layout: its value list, each value record, each
   * value's data cell (with a big-data record's segment list and segments) and its class-name cell.
   * A cell claimed twice during one walk is a FormatError: without this, one 1 MB data cell named by
   * 40,000 value records (or one value list named by every key) makes a reader produce gigabytes
   * from a 2 MB file. Cells that are not valid are left to the readers, which report them as before.
   */
  claimKeyCells(nk: number, owned: Uint8Array): void {
    const cls = this.u32(nk, 48);
    if (cls !== NIL && this.u16(nk, 74) !== 0 && this.isCellStart(cls)) this.claim(owned, cls, 'class name');
    const count = this.u32(nk, 36);
    if (count === 0) return;
    const list = this.u32(nk, 40);
    if (!this.isCellStart(list) || this.cellSize(list) - 4 < count * 4) return;
    this.claim(owned, list, 'value list');
    const p = this.pos(list) + 4;
    for (let i = 0; i < count; i++) {
      const vk = this.dv.getUint32(p + i * 4, true);
      if (!this.isCellStart(vk) || this.cellSize(vk) < 24) continue;
      this.claim(owned, vk, 'value');
      const raw = this.u32(vk, 4);
      if (raw & 0x80000000 || (raw & 0x7fffffff) === 0) continue;
      const dc = this.u32(vk, 8);
      if (!this.isCellStart(dc)) continue;
      this.claim(owned, dc, 'value data');
      const cl = this.cellSize(dc) - 4;
      if ((raw & 0x7fffffff) > cl && cl >= 8 && this.sig(dc) === SIG_DB) {
        const n = this.u16(dc, 2);
        const segs = this.u32(dc, 4);
        if (!this.isCellStart(segs) || this.cellSize(segs) - 4 < n * 4) continue;
        this.claim(owned, segs, 'big-data segment list');
        for (let j = 0; j < n; j++) {
          const seg = this.u32(segs, j * 4);
          if (this.isCellStart(seg)) this.claim(owned, seg, 'big-data segment');
        }
      }
    }
  }

  stats(): HiveStats {
    let keys = 0;
    let values = 0;
    this.walk(this.rootCell, '', (nk) => {
      keys++;
      values += this.u32(nk, 36);
    });
    return { keys, values };
  }

  get hiveBinsSize(): number {
    return this.hbinsSize;
  }

  // ---------------------------------------------------------------- writing keys

  private touch(nk: number, ts = filetimeNow()): void {
    this.dv.setBigUint64(this.pos(nk) + 4 + 4, ts, true);
  }

  /** Create a subkey (error if it exists). Returns the new key. */
  createKey(parent: number, name: string): number {
    validateKeyName(name);
    this.checkNk(parent, 'parent key');
    if (this.findSubkey(parent, name) !== undefined) throw new BadInputError(`key "${name}" already exists`);
    if (this.depthOf(parent) + 1 > MAX_DEPTH) throw new BadInputError(`key would be deeper than ${MAX_DEPTH} levels`);
    const enc = encodeName(name);
    const nk = this.alloc(76 + enc.bytes.length);
    const ts = filetimeNow();
    const sk = this.u32(parent, 44);
    initNk(this.dv, this.buf, this.pos(nk) + 4, {
      flags: enc.compressed ? KEY_COMP_NAME : 0,
      ts,
      parent,
      sk,
      name: enc.bytes,
    });
    if (sk !== NIL && this.isCellStart(sk) && this.sig(sk) === SIG_SK) {
      this.setU32(sk, 12, this.u32(sk, 12) + 1);
    } else {
      this.setU32(nk, 44, NIL);
    }
    this.addSubkey(parent, nk, name);
    // Parent bookkeeping: MaxNameLen is the UTF-16 byte length (low 16 bits; high bits are flags).
    const mx = this.u32(parent, 52);
    if ((mx & 0xffff) < name.length * 2) this.setU32(parent, 52, (mx & 0xffff0000) | (name.length * 2));
    this.touch(parent, ts);
    // Offline writers store 0/nil in volatile fields of keys they write.
    this.setU32(parent, 24, 0);
    this.setU32(parent, 32, NIL);
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

  private entrySize(sig: number): number {
    return sig === SIG_LI || sig === SIG_RI ? 4 : 8;
  }

  private leafCount(leaf: number): number {
    return this.u16(leaf, 2);
  }

  private leafEntry(leaf: number, i: number): number {
    return this.u32(leaf, 4 + i * this.entrySize(this.sig(leaf)));
  }

  /** Compare `name` with the key at entry i of a leaf. */
  private cmpEntry(name: string, leaf: number, i: number): number {
    return compareNames(name, this.keyName(this.leafEntry(leaf, i)));
  }

  /** Insert `child` into `parent`'s subkey list (ReactOS CmpAddSubKey: Windows' thresholds). */
  private addSubkey(parent: number, child: number, name: string): void {
    let list = this.u32(parent, 28);
    const count = this.u32(parent, 20);
    if (count === 0) {
      list = this.alloc(4 + 8);
      this.setU16(list, 0, this.leafSig());
      this.setU16(list, 2, 0);
      this.setU32(parent, 28, list);
    } else {
      this.cell(list, 4, 'subkey list');
      const sig = this.sig(list);
      const n = this.leafCount(list);
      if (sig === SIG_LF && n >= MAX_FAST_INDEX) {
        // Fast leaf full: convert in place to an index leaf.
        const cells: number[] = [];
        for (let i = 0; i < n; i++) cells.push(this.u32(list, 4 + i * 8));
        this.setU16(list, 0, SIG_LI);
        cells.forEach((c, i) => this.setU32(list, 4 + i * 4, c));
      } else if ((sig === SIG_LI || sig === SIG_LH) && n >= MAX_INDEX) {
        const root = this.alloc(4 + 4);
        this.setU16(root, 0, SIG_RI);
        this.setU16(root, 2, 1);
        this.setU32(root, 4, list);
        this.setU32(parent, 28, root);
        list = root;
      }
    }
    if (this.sig(list) === SIG_RI) {
      const { leaf, rootIndex } = this.selectLeaf(parent, name);
      const newLeaf = this.addToLeaf(leaf, child, name);
      this.setU32(this.u32(parent, 28), 4 + rootIndex * 4, newLeaf);
    } else {
      const newLeaf = this.addToLeaf(list, child, name);
      this.setU32(parent, 28, newLeaf);
    }
    this.setU32(parent, 20, count + 1);
  }

  /** CmpAddToLeaf: grow by 1.5x when full, insert in sorted position. Returns the (maybe moved) leaf. */
  private addToLeaf(leaf: number, child: number, name: string): number {
    const sig = this.sig(leaf);
    const es = this.entrySize(sig);
    const n = this.leafCount(leaf);
    const oldSize = this.cellSize(leaf);
    // Free entry space in the current cell (cell size includes the 4-byte header).
    const free = oldSize - 4 - (4 + es * n);
    if (Math.floor(free / es) < 1) {
      let size = oldSize + Math.floor(oldSize / 2);
      if (size < oldSize + es) size = oldSize + es;
      leaf = this.realloc(leaf, size - 4);
    }
    // Insertion point: first entry that sorts after the name.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmpEntry(name, leaf, mid) > 0) lo = mid + 1;
      else hi = mid;
    }
    const base = this.pos(leaf) + 4 + 4;
    this.buf.copyWithin(base + (lo + 1) * es, base + lo * es, base + n * es);
    this.setU32(leaf, 4 + lo * es, child);
    if (sig === SIG_LH) this.setU32(leaf, 8 + lo * es, lhHash(name));
    else if (sig === SIG_LF) this.setU32(leaf, 8 + lo * es, lfHint(name));
    this.setU16(leaf, 2, n + 1);
    return leaf;
  }

  /** CmpFindSubKeyInRoot: index of the leaf whose range holds `name`, and whether it is inside. */
  private findInRoot(root: number, name: string): { index: number; inside: boolean } {
    const count = this.leafCount(root);
    const leafAt = (i: number) => this.u32(root, 4 + i * 4);
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
      const root = this.u32(parent, 28);
      const { index, inside } = this.findInRoot(root, name);
      const leafAt = (i: number) => this.u32(root, 4 + i * 4);
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
      this.setU32(parent, 28, this.splitLeaf(root, index));
    }
    throw new FormatError('could not place a subkey in its index (corrupt ri list)', this.pos(parent));
  }

  /** CmpSplitLeaf: split leaf `sel` of an ri into two halves; returns the (maybe moved) root. */
  private splitLeaf(root: number, sel: number): number {
    const leaf = this.u32(root, 4 + sel * 4);
    const sig = this.sig(leaf);
    const es = this.entrySize(sig);
    const n = this.leafCount(leaf);
    const first = n >>> 1;
    const last = n - first;
    const nl = this.alloc(es * last + 4 + 1);
    this.setU16(nl, 0, sig);
    const rootCount = this.leafCount(root);
    const rootFree = this.cellSize(root) - 4 - rootCount * 4 - 4;
    if (Math.floor(rootFree / 4) < 1) root = this.realloc(root, this.cellSize(root) - 4 + 4);
    this.buf.copyWithin(this.pos(nl) + 8, this.pos(leaf) + 8 + first * es, this.pos(leaf) + 8 + n * es);
    const rb = this.pos(root) + 8;
    this.buf.copyWithin(rb + (sel + 2) * 4, rb + (sel + 1) * 4, rb + rootCount * 4);
    this.setU16(leaf, 2, first);
    this.setU16(nl, 2, last);
    this.setU16(root, 2, rootCount + 1);
    this.setU32(root, 4 + (sel + 1) * 4, nl);
    return root;
  }

  /** Remove `child` from `parent`'s subkey list (CmpRemoveSubKey). */
  private removeSubkey(parent: number, child: number): void {
    const list = this.u32(parent, 28);
    const count = this.u32(parent, 20);
    this.cell(list, 4, 'subkey list');
    let root = -1;
    let rootIndex = -1;
    let leaf = list;
    if (this.sig(list) === SIG_RI) {
      root = list;
      const rn = this.leafCount(root);
      leaf = -1;
      for (let i = 0; i < rn && leaf < 0; i++) {
        const l = this.u32(root, 4 + i * 4);
        for (let j = 0; j < this.leafCount(l); j++) {
          if (this.leafEntry(l, j) === child) {
            leaf = l;
            rootIndex = i;
            break;
          }
        }
      }
      if (leaf < 0) throw new FormatError('key not found in its parent\'s subkey index', this.pos(child));
    }
    const es = this.entrySize(this.sig(leaf));
    const n = this.leafCount(leaf);
    let idx = -1;
    for (let j = 0; j < n; j++) if (this.leafEntry(leaf, j) === child) idx = j;
    if (idx < 0) throw new FormatError('key not found in its parent\'s subkey list', this.pos(child));
    this.setU32(parent, 20, count - 1);
    if (n - 1 === 0) {
      this.free(leaf);
      if (root >= 0) {
        const rn = this.leafCount(root);
        if (rn - 1 === 0) {
          this.free(root);
          this.setU32(parent, 28, NIL);
        } else {
          const rb = this.pos(root) + 8;
          this.buf.copyWithin(rb + rootIndex * 4, rb + (rootIndex + 1) * 4, rb + rn * 4);
          this.setU16(root, 2, rn - 1);
        }
      } else {
        this.setU32(parent, 28, NIL);
      }
    } else {
      const base = this.pos(leaf) + 8;
      this.buf.copyWithin(base + idx * es, base + (idx + 1) * es, base + n * es);
      this.setU16(leaf, 2, n - 1);
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
    if (this.u32(nk, 36) > 0) this.free(this.u32(nk, 40));
    this.setU32(nk, 36, 0);
    this.setU32(nk, 40, NIL);
    const cls = this.u32(nk, 48);
    if (cls !== NIL) this.free(cls);
    this.releaseSecurity(this.u32(nk, 44));
  }

  private recomputeMaxNameLen(nk: number): void {
    let m = 0;
    for (const c of this.subkeys(nk)) m = Math.max(m, this.keyName(c).length * 2);
    const mx = this.u32(nk, 52);
    this.setU32(nk, 52, (mx & 0xffff0000) | m);
  }

  // ---------------------------------------------------------------- security

  private releaseSecurity(sk: number): void {
    if (sk === NIL || !this.isCellStart(sk) || this.sig(sk) !== SIG_SK) return;
    const rc = this.u32(sk, 12);
    if (rc > 1) {
      this.setU32(sk, 12, rc - 1);
      return;
    }
    const flink = this.u32(sk, 4);
    const blink = this.u32(sk, 8);
    if (flink !== sk && this.isCellStart(flink) && this.isCellStart(blink)) {
      this.setU32(blink, 4, flink);
      this.setU32(flink, 8, blink);
    }
    this.free(sk);
  }

  /** Give a key a security descriptor of its own (used for a new hive's root). */
  private attachNewSecurity(nk: number, sd: Uint8Array): void {
    const sk = this.alloc(20 + sd.length);
    this.setU16(sk, 0, SIG_SK);
    this.setU32(sk, 4, sk);
    this.setU32(sk, 8, sk);
    this.setU32(sk, 12, 1);
    this.setU32(sk, 16, sd.length);
    this.buf.set(sd, this.pos(sk) + 4 + 20);
    this.setU32(nk, 44, sk);
  }

  // ---------------------------------------------------------------- writing values

  setValue(nk: number, name: string, type: number, data: Uint8Array): void {
    this.checkNk(nk);
    if (name.length > MAX_VALUE_NAME) throw new BadInputError(`value name longer than ${MAX_VALUE_NAME} characters`);
    if (!Number.isInteger(type) || type < 0 || type > 0xffffffff) throw new BadInputError(`bad value type ${type}`);
    if (data.length > 0x7fffffff) throw new BadInputError('value data too large');
    const useDb = this.minor >= 4 && data.length > BIG_DATA_THRESHOLD;
    if (!useDb && data.length > MAX_PLAIN_VALUE) {
      throw new BadInputError(`a ${data.length}-byte value does not fit a version 1.${this.minor} hive (1 MB limit without big-data records)`);
    }
    let vk = this.findValue(nk, name);
    if (vk === undefined) {
      const enc = encodeName(name);
      vk = this.alloc(20 + enc.bytes.length);
      this.setU16(vk, 0, SIG_VK);
      this.setU16(vk, 2, enc.bytes.length);
      this.setU32(vk, 4, 0x80000000);
      this.setU32(vk, 8, 0);
      this.setU16(vk, 16, enc.compressed ? VALUE_COMP_NAME : 0);
      this.buf.set(enc.bytes, this.pos(vk) + 4 + 20);
      this.appendValue(nk, vk);
      const mvn = this.u32(nk, 60);
      if (mvn < name.length * 2) this.setU32(nk, 60, name.length * 2);
    } else {
      this.freeValueData(vk);
    }
    this.setU32(vk, 12, type);
    this.writeValueData(vk, data, useDb);
    if (this.u32(nk, 64) < data.length) this.setU32(nk, 64, data.length);
    this.touch(nk);
  }

  private writeValueData(vk: number, data: Uint8Array, useDb: boolean): void {
    const len = data.length;
    if (len <= 4) {
      const p = this.pos(vk) + 4 + 8;
      this.buf.fill(0, p, p + 4);
      this.buf.set(data, p);
      this.setU32(vk, 4, (len | 0x80000000) >>> 0);
      return;
    }
    if (!useDb) {
      const c = this.alloc(len);
      this.buf.set(data, this.pos(c) + 4);
      this.setU32(vk, 4, len);
      this.setU32(vk, 8, c);
      return;
    }
    const n = Math.ceil(len / BIG_DATA_THRESHOLD);
    const segs: number[] = [];
    for (let i = 0; i < n; i++) {
      const chunk = data.subarray(i * BIG_DATA_THRESHOLD, Math.min(len, (i + 1) * BIG_DATA_THRESHOLD));
      // Windows allocates every segment full size, the last one too (seen in every real hive).
      const s = this.alloc(BIG_DATA_THRESHOLD);
      this.buf.set(chunk, this.pos(s) + 4);
      segs.push(s);
    }
    const list = this.alloc(n * 4);
    segs.forEach((s, i) => this.setU32(list, i * 4, s));
    const db = this.alloc(8);
    this.setU16(db, 0, SIG_DB);
    this.setU16(db, 2, n);
    this.setU32(db, 4, list);
    this.setU32(vk, 4, len);
    this.setU32(vk, 8, db);
  }

  private freeValueData(vk: number): void {
    const raw = this.u32(vk, 4);
    if (raw & 0x80000000) return;
    const len = raw & 0x7fffffff;
    const c = this.u32(vk, 8);
    if (len === 0 || !this.isCellStart(c)) return;
    if (len > this.cellSize(c) - 4 && this.sig(c) === SIG_DB) {
      const n = this.u16(c, 2);
      const list = this.u32(c, 4);
      if (this.isCellStart(list)) {
        for (let i = 0; i < n; i++) this.free(this.u32(list, i * 4));
        this.free(list);
      }
    }
    this.free(c);
  }

  private appendValue(nk: number, vk: number): void {
    const count = this.u32(nk, 36);
    let list = this.u32(nk, 40);
    if (count === 0) {
      list = this.alloc(4);
    } else {
      const cap = Math.floor((this.cellSize(list) - 4) / 4);
      if (cap < count + 1) list = this.realloc(list, Math.max((count + 1) * 4, Math.floor(count * 1.5) * 4));
    }
    this.setU32(list, count * 4, vk);
    this.setU32(nk, 40, list);
    this.setU32(nk, 36, count + 1);
  }

  deleteValue(nk: number, name: string): boolean {
    const vk = this.findValue(nk, name);
    if (vk === undefined) return false;
    const vals = this.values(nk);
    const idx = vals.indexOf(vk);
    const list = this.u32(nk, 40);
    const base = this.pos(list) + 4;
    this.buf.copyWithin(base + idx * 4, base + (idx + 1) * 4, base + vals.length * 4);
    this.setU32(nk, 36, vals.length - 1);
    if (vals.length - 1 === 0) {
      this.free(list);
      this.setU32(nk, 40, NIL);
    }
    this.freeValueData(vk);
    this.free(vk);
    let mn = 0;
    let md = 0;
    for (const v of this.values(nk)) {
      mn = Math.max(mn, this.valueName(v).length * 2);
      md = Math.max(md, this.valueLength(v));
    }
    this.setU32(nk, 60, mn);
    this.setU32(nk, 64, md);
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
    writeBaseBlock(this.buf, { seq1: seq, seq2: seq, type: 0, hbinsSize: this.hbinsSize, timestamp: filetimeNow() });
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
      this.checkListHashes(this.u32(nk, 28), this.u32(nk, 20));
      for (const vk of this.values(nk)) this.valueData(vk);
    });
  }

  private checkListHashes(list: number, count: number): void {
    if (count === 0) return;
    const sig = this.sig(list);
    if (sig === SIG_RI) {
      for (let i = 0; i < this.leafCount(list); i++) this.checkListHashes(this.u32(list, 4 + i * 4), 1);
      return;
    }
    if (sig !== SIG_LH && sig !== SIG_LF) return;
    for (let i = 0; i < this.leafCount(list); i++) {
      const name = this.keyName(this.u32(list, 4 + i * 8));
      const stored = this.u32(list, 8 + i * 8);
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

function writeHbinHeader(dv: DataView, p: number, off: number, size: number, ts: bigint): void {
  dv.setUint32(p, 0x6e696268, true);
  dv.setUint32(p + 4, off, true);
  dv.setUint32(p + 8, size, true);
  dv.setUint32(p + 12, 0, true);
  dv.setUint32(p + 16, 0, true);
  dv.setBigUint64(p + 20, ts, true);
  dv.setUint32(p + 28, 0, true);
}

function initNk(
  dv: DataView,
  buf: Uint8Array,
  d: number,
  o: { flags: number; ts: bigint; parent: number; sk: number; name: Uint8Array },
): void {
  dv.setUint16(d, SIG_NK, true);
  dv.setUint16(d + 2, o.flags, true);
  dv.setBigUint64(d + 4, o.ts, true);
  dv.setUint32(d + 12, 0, true);
  dv.setUint32(d + 16, o.parent >>> 0, true);
  dv.setUint32(d + 20, 0, true);
  dv.setUint32(d + 24, 0, true);
  dv.setUint32(d + 28, NIL, true);
  dv.setUint32(d + 32, NIL, true);
  dv.setUint32(d + 36, 0, true);
  dv.setUint32(d + 40, NIL, true);
  dv.setUint32(d + 44, o.sk >>> 0, true);
  dv.setUint32(d + 48, NIL, true);
  for (let i = 52; i < 72; i += 4) dv.setUint32(d + i, 0, true);
  dv.setUint16(d + 72, o.name.length, true);
  dv.setUint16(d + 74, 0, true);
  buf.set(o.name, d + 76);
}

/**
 * Self-relative security descriptor for a new hive's root:
 * O:BA G:SY D:P(A;CI;KA;;;SY)(A;CI;KA;;;BA)(A;CI;KR;;;BU) - SYSTEM and Administrators full, Users read.
 */
const DEFAULT_ROOT_SD: Uint8Array = (() => {
  const sidSY = [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
  const sidBA = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0];
  const sidBU = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 33, 2, 0, 0];
  const ace = (mask: number, sid: number[]) => {
    const size = 8 + sid.length;
    return [0, 0x02 /* CONTAINER_INHERIT */, size & 0xff, size >> 8, mask & 0xff, (mask >> 8) & 0xff, (mask >> 16) & 0xff, (mask >>> 24) & 0xff, ...sid];
  };
  const aces = [...ace(0xf003f, sidSY), ...ace(0xf003f, sidBA), ...ace(0x20019, sidBU)];
  const aclSize = 8 + aces.length;
  const acl = [2, 0, aclSize & 0xff, aclSize >> 8, 3, 0, 0, 0, ...aces];
  const hdr = 20;
  const offOwner = hdr;
  const offGroup = offOwner + sidBA.length;
  const offDacl = offGroup + sidSY.length;
  const control = 0x8004 | 0x1000; // SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_PROTECTED
  const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
  return new Uint8Array([1, 0, control & 0xff, control >> 8, ...le32(offOwner), ...le32(offGroup), ...le32(0), ...le32(offDacl), ...sidBA, ...sidSY, ...acl]);
})();

