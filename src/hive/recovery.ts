// Registry hive transaction-log recovery (registry-hives.md sections 3 and 4), as pure functions:
// bytes in, values out. No fs here (see logfiles.ts).
//
// New format (type 6, Windows 8.1+): a 512-byte base block, then "HvLE" entries chained by sequence
// number and protected by two Marvin32 hashes. Old format (type 1/2): base block, "DIRT" + bitmap,
// dirty 512-byte pages. The replay follows "Recovery algorithm (reproduce exactly)" step by step;
// the step numbers below refer to that list.
//
// Robustness: every offset read is bounds-checked, the entry walk always moves forward by at least
// 512 bytes, the hashing done while looking for remnants is budgeted, and the recovered size is
// bounded by what the applied entries say (hbins sizes above MAX_HBINS_SIZE are a FormatError).
import { FormatError } from '../shared/errors.js';
import { BASE, BASE_HEADER_SIZE, FILE_TYPE, HBIN_START, isDirty, parseBaseBlock, writeBaseBlock, type BaseBlock } from './baseblock.js';
import { HBIN, HBIN_ALIGN } from './cells/bin.js';
import { marvin32 } from './marvin32.js';

export interface LogFile {
  name: string;
  bytes: Uint8Array;
}

export interface LogEntryInfo {
  seq: number;
  fileOffset: number;
  size: number;
  pages: number;
  hbinsSize: number;
}

export interface LogInfo {
  name: string;
  format: 'new' | 'old' | 'empty' | 'invalid';
  usable: boolean;
  problem?: string;
  baseSeq1?: number;
  baseSeq2?: number;
  /** The valid chain (old format: one pseudo-entry describing the dirty pages). */
  entries: LogEntryInfo[];
  /** Highest seq of any entry whose hashes are valid, including stale remnants after the chain stops. */
  maxValidSeq?: number;
}

export interface RecoveryResult {
  /** The recovered primary: clean, type 0, seq1 = seq2 = last applied + 1, good checksum, length 4096 + hbinsSize. */
  bytes: Uint8Array;
  /** Empty when nothing was applied. */
  applied: { log: string; firstSeq: number; lastSeq: number; entries: number }[];
  logs: LogInfo[];
  /** Max over the primary's seqs, each log's base seqs and every hash-valid entry seq: a saver must write S > this. */
  maxSeqSeen: number;
  primaryWasDirty: boolean;
}

/** A dirty hive whose unflushed data cannot be replayed because no usable transaction log exists. */
export class DirtyHiveError extends FormatError {
  override readonly code = 'dirty-no-logs';
  constructor(message: string) {
    super(message, 0);
  }
}

/** Largest hive-bins size we accept from a log (2 GiB); anything larger is a FormatError. */
export const MAX_HBINS_SIZE = 0x80000000;

/** A log starts with a copy of the primary's first 512 bytes. */
const LOG_BASE_SIZE = BASE_HEADER_SIZE;
/** Logs are written in 512-byte sectors: entries, the dirty bitmap's end and old-format pages. */
const LOG_SECTOR = 512;

/** New format: an "HvLE" log entry's header (registry-hives.md section 3). */
const enum HVLE {
  signature = 0,
  /** u32 entry size, a multiple of 512. */
  size = 4,
  /** u32; bit 0 goes to the base block's flags. */
  flags = 8,
  seq = 12,
  hbinsSize = 16,
  pageCount = 20,
  /** u64 Marvin32 of the entry from ENTRY_HEADER_SIZE to its end. */
  hash1 = 24,
  /** u64 Marvin32 of the first HASH2_SPAN bytes. */
  hash2 = 32,
  /** Page references, then the pages in that order. */
  pages = 40,
}
const ENTRY_HEADER_SIZE = HVLE.pages;
const HASH2_SPAN = HVLE.hash2;
/** A page reference: u32 offset from the first hive bin, u32 size. */
const enum PAGE_REF {
  offset = 0,
  size = 4,
}
const PAGE_REF_SIZE = 8;

/** Old format: "DIRT" at LOG_BASE_SIZE, then a bitmap with one bit per 512-byte page of the bins. */
const DIRT_SIGNATURE_SIZE = 4;
const OLD_PAGE = 512;
/** Hive-bin bytes one bitmap byte covers (eight 512-byte pages). */
const BITMAP_BYTES_PER_HBINS = OLD_PAGE * 8;

// ---------------------------------------------------------------------------------------------
// Sequence numbers (u32, wrap-aware)

/** True when `a` comes before `b`: (b - a) mod 2^32 is in [1, 2^31). */
export function seqBefore(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d >= 1 && d < 0x80000000;
}

const seqNext = (s: number): number => (s + 1) >>> 0;
const seqMax = (a: number | undefined, b: number): number => (a === undefined || seqBefore(a, b) ? b : a);

// ---------------------------------------------------------------------------------------------
// Small readers

const u32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, o: number): bigint => (BigInt(u32(b, o + 4)) << 32n) | BigInt(u32(b, o));
const sigAt = (b: Uint8Array, o: number, sig: string): boolean =>
  o >= 0 &&
  o + 4 <= b.length &&
  b[o] === sig.charCodeAt(0) &&
  b[o + 1] === sig.charCodeAt(1) &&
  b[o + 2] === sig.charCodeAt(2) &&
  b[o + 3] === sig.charCodeAt(3);

function tryParseBaseBlock(bytes: Uint8Array): { bb?: BaseBlock; error?: FormatError } {
  try {
    return { bb: parseBaseBlock(bytes) };
  } catch (e) {
    if (e instanceof FormatError) return { error: e };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Log parsing

interface PageRef {
  /** Offset from the start of the hive bins. */
  offset: number;
  size: number;
  /** Where the page's bytes are in the log file. */
  dataOffset: number;
}

interface Entry {
  seq: number;
  fileOffset: number;
  size: number;
  flags: number;
  hbinsSize: number;
  pages: PageRef[];
}

interface ParsedLog {
  info: LogInfo;
  bytes: Uint8Array;
  bb?: BaseBlock;
  /** New format: the valid chain. */
  chain: Entry[];
  /** A hash-valid entry whose hbins size exceeds MAX_HBINS_SIZE; fatal if this log is replayed. */
  oversized?: FormatError;
  /** Old format: the dirty pages (file offsets in the primary, log offsets). */
  oldPages?: { primaryOffset: number; logOffset: number }[];
}

type EntryRead =
  | { ok: true; entry: Entry; hashed: number }
  | { ok: false; reason: string; hashValid: boolean; seq?: number; skip?: number; hashed: number; oversized?: boolean };

/**
 * Read and check the entry at `pos` (step 2). `hashBudget` bounds how many bytes Hash-1 may cover.
 * hashValid reports whether both hashes matched, even when the entry is structurally unusable.
 */
function readEntry(bytes: Uint8Array, pos: number, hashBudget: number): EntryRead {
  const fail = (reason: string, extra: Partial<{ hashValid: boolean; seq: number; skip: number; hashed: number; oversized: boolean }> = {}): EntryRead => ({
    ok: false,
    reason: `entry at 0x${pos.toString(16)}: ${reason}`,
    hashValid: extra.hashValid ?? false,
    seq: extra.seq,
    skip: extra.skip,
    hashed: extra.hashed ?? 0,
    oversized: extra.oversized,
  });
  if (pos + ENTRY_HEADER_SIZE > bytes.length) return fail('truncated header');
  if (!sigAt(bytes, pos, 'HvLE')) return fail('no HvLE signature');
  const size = u32(bytes, pos + HVLE.size);
  if (size < LOG_SECTOR || size % LOG_SECTOR !== 0) return fail(`bad size ${size}`);
  if (pos + size > bytes.length) return fail(`size ${size} runs past the end of the file`);
  const flags = u32(bytes, pos + HVLE.flags);
  const seq = u32(bytes, pos + HVLE.seq);
  const hbinsSize = u32(bytes, pos + HVLE.hbinsSize);
  const count = u32(bytes, pos + HVLE.pageCount);
  if (hbinsSize === 0 || hbinsSize % HBIN_ALIGN !== 0) return fail(`hbins size 0x${hbinsSize.toString(16)} is not a positive multiple of 4096`);
  if (count === 0) return fail('page count is 0');
  // Hash-2 covers the first 32 bytes (cheap); check it before spending Hash-1 on the body.
  if (marvin32(bytes.subarray(pos, pos + HASH2_SPAN)) !== u64(bytes, pos + HVLE.hash2)) return fail('bad Hash-2');
  const bodyLen = size - ENTRY_HEADER_SIZE;
  if (bodyLen > hashBudget) return fail('hash budget exhausted');
  if (marvin32(bytes.subarray(pos + ENTRY_HEADER_SIZE, pos + size)) !== u64(bytes, pos + HVLE.hash1)) return fail('bad Hash-1', { hashed: bodyLen });
  // Hash-valid from here on: the seq is real (counts for maxValidSeq) even if the entry is unusable.
  const valid = { hashValid: true, seq, skip: size, hashed: bodyLen };
  if (hbinsSize > MAX_HBINS_SIZE) return fail(`hbins size 0x${hbinsSize.toString(16)} exceeds the 2 GiB limit`, { ...valid, oversized: true });
  if (count * PAGE_REF_SIZE > bodyLen) return fail(`page count ${count} does not fit in the entry`, valid);
  const pages: PageRef[] = [];
  let data = pos + HVLE.pages + count * PAGE_REF_SIZE;
  for (let i = 0; i < count; i++) {
    const ref = pos + HVLE.pages + i * PAGE_REF_SIZE;
    const offset = u32(bytes, ref + PAGE_REF.offset);
    const psize = u32(bytes, ref + PAGE_REF.size);
    if (psize === 0 || offset + psize > hbinsSize) {
      return fail(`page ${i} (offset 0x${offset.toString(16)}, size 0x${psize.toString(16)}) is outside the hbins size 0x${hbinsSize.toString(16)}`, valid);
    }
    if (data + psize > pos + size) return fail(`page ${i} data runs past the end of the entry`, valid);
    pages.push({ offset, size: psize, dataOffset: data });
    data += psize;
  }
  return { ok: true, entry: { seq, fileOffset: pos, size, flags, hbinsSize, pages }, hashed: bodyLen };
}

function entryInfo(e: Entry): LogEntryInfo {
  return { seq: e.seq, fileOffset: e.fileOffset, size: e.size, pages: e.pages.length, hbinsSize: e.hbinsSize };
}

/** Walk entries from 512 (the chain), then scan the rest of the file for hash-valid remnants. */
function parseNewEntries(
  bytes: Uint8Array,
  firstSeq: number | undefined,
): {
  chain: Entry[];
  stop?: string;
  maxValidSeq?: number;
  oversized?: FormatError;
} {
  const chain: Entry[] = [];
  let maxValidSeq: number | undefined;
  let oversized: FormatError | undefined;
  let stop: string | undefined;
  // Hash-1 over chain and remnant entries costs at most the file size once; the budget only bites on
  // adversarial input (many headers with a valid Hash-2 and a bad Hash-1).
  let budget = 4 * bytes.length + (1 << 20);
  let pos = LOG_BASE_SIZE;
  if (firstSeq !== undefined) {
    let expected = firstSeq;
    for (;;) {
      if (pos >= bytes.length) break;
      const r = readEntry(bytes, pos, budget);
      budget -= r.hashed;
      if (!r.ok) {
        if (r.oversized && r.seq === expected) {
          oversized = new FormatError(`${r.reason} (sequence ${r.seq})`, pos);
        }
        if (!r.hashValid) stop = r.reason;
        else {
          stop = r.seq === expected ? r.reason : `entry at 0x${pos.toString(16)}: sequence ${r.seq}, expected ${expected}`;
        }
        break;
      }
      if (r.entry.seq !== expected) {
        stop = `entry at 0x${pos.toString(16)}: sequence ${r.entry.seq}, expected ${expected}`;
        break;
      }
      chain.push(r.entry);
      maxValidSeq = seqMax(maxValidSeq, r.entry.seq);
      pos += r.entry.size;
      expected = seqNext(expected);
    }
  }
  // Remnants: hash-valid entries after the chain stops (old, already applied or stale data).
  while (pos + ENTRY_HEADER_SIZE <= bytes.length) {
    if (!sigAt(bytes, pos, 'HvLE')) {
      pos += LOG_SECTOR;
      continue;
    }
    const r = readEntry(bytes, pos, budget);
    budget -= r.hashed;
    if (r.ok) {
      maxValidSeq = seqMax(maxValidSeq, r.entry.seq);
      pos += r.entry.size;
    } else if (r.hashValid && r.seq !== undefined) {
      maxValidSeq = seqMax(maxValidSeq, r.seq);
      pos += r.skip ?? LOG_SECTOR;
    } else {
      if (budget <= 0) {
        stop = `${stop ?? 'chain ended'}; remnant scan stopped (hash budget exhausted)`;
        break;
      }
      pos += LOG_SECTOR;
    }
  }
  return { chain, stop, maxValidSeq, oversized };
}

function parseOldLog(info: LogInfo, bytes: Uint8Array, bb: BaseBlock): ParsedLog {
  const invalid = (problem: string): ParsedLog => ({ info: { ...info, usable: false, problem }, bytes, bb, chain: [] });
  if (!sigAt(bytes, LOG_BASE_SIZE, 'DIRT')) return invalid('old-format log without a DIRT signature at 512');
  const hbinsSize = bb.hbinsSize;
  if (hbinsSize === 0 || hbinsSize % HBIN_ALIGN !== 0) return invalid(`hbins size 0x${hbinsSize.toString(16)} is not a positive multiple of 4096`);
  if (hbinsSize > MAX_HBINS_SIZE) return invalid(`hbins size 0x${hbinsSize.toString(16)} exceeds the 2 GiB limit`);
  const bitmapLen = hbinsSize / BITMAP_BYTES_PER_HBINS;
  const bitmapStart = LOG_BASE_SIZE + DIRT_SIGNATURE_SIZE;
  if (bitmapStart + bitmapLen > bytes.length) return invalid('dirty bitmap runs past the end of the file');
  const pagesStart = Math.ceil((bitmapStart + bitmapLen) / LOG_SECTOR) * LOG_SECTOR;
  const oldPages: { primaryOffset: number; logOffset: number }[] = [];
  for (let i = 0; i < bitmapLen; i++) {
    const byte = bytes[bitmapStart + i]!;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if ((byte >> bit) & 1) {
        const page = i * 8 + bit;
        oldPages.push({ primaryOffset: HBIN_START + OLD_PAGE * page, logOffset: pagesStart + OLD_PAGE * oldPages.length });
      }
    }
  }
  if (oldPages.length === 0) return invalid('dirty bitmap has no page set');
  if (pagesStart + OLD_PAGE * oldPages.length > bytes.length) {
    return invalid(`${oldPages.length} dirty pages run past the end of the file`);
  }
  const entry: LogEntryInfo = { seq: bb.seq1, fileOffset: pagesStart, size: OLD_PAGE * oldPages.length, pages: oldPages.length, hbinsSize };
  return { info: { ...info, usable: true, entries: [entry] }, bytes, bb, chain: [], oldPages };
}

function firstHbinTimestamp(primary: Uint8Array): bigint | undefined {
  // The header must reach the end of its timestamp (where the spare field starts).
  if (!sigAt(primary, HBIN_START + HBIN.signature, 'hbin') || primary.length < HBIN_START + HBIN.spare) return undefined;
  return u64(primary, HBIN_START + HBIN.timestamp);
}

/** Parse one log and judge whether it can be used for this primary. `pbb` = primary base block if its checksum is good. */
function parseLog(log: LogFile, pbb: BaseBlock | undefined, primaryTimestamp: bigint | undefined): ParsedLog {
  const bytes = log.bytes;
  const info: LogInfo = { name: log.name, format: 'invalid', usable: false, entries: [] };
  if (bytes.length === 0) return { info: { ...info, format: 'empty', problem: 'empty file' }, bytes, chain: [] };
  const { bb, error } = tryParseBaseBlock(bytes);
  if (!bb) {
    // Not even a base block; hash-valid entries may still exist (they count for maxSeqSeen).
    const scan = bytes.length > LOG_BASE_SIZE ? parseNewEntries(bytes, undefined) : { maxValidSeq: undefined };
    return { info: { ...info, problem: error?.message ?? 'unreadable base block', maxValidSeq: scan.maxValidSeq }, bytes, chain: [] };
  }
  const withSeqs: LogInfo = bb.checksumOk ? { ...info, baseSeq1: bb.seq1, baseSeq2: bb.seq2 } : info;
  const baseProblem = !bb.checksumOk
    ? 'base block checksum is bad'
    : bb.seq1 !== bb.seq2
      ? `base block sequence numbers differ (${bb.seq1} / ${bb.seq2})`
      : bb.type !== FILE_TYPE.LOG_NEW && bb.type !== FILE_TYPE.LOG_OLD && bb.type !== FILE_TYPE.LOG_OLDEST
        ? `file type ${bb.type} is not a transaction log`
        : undefined;

  if (bb.checksumOk && (bb.type === FILE_TYPE.LOG_OLD || bb.type === FILE_TYPE.LOG_OLDEST)) {
    const old: LogInfo = { ...withSeqs, format: 'old' };
    if (baseProblem) return { info: { ...old, problem: baseProblem }, bytes, bb, chain: [] };
    const parsed = parseOldLog(old, bytes, bb);
    if (parsed.info.usable) {
      if (primaryTimestamp === undefined) {
        parsed.info = { ...parsed.info, usable: false, problem: 'no primary timestamp to match the log against' };
      } else if (bb.timestamp !== primaryTimestamp) {
        parsed.info = { ...parsed.info, usable: false, problem: `log timestamp ${bb.timestamp} does not match the primary's ${primaryTimestamp}` };
      }
    }
    return parsed;
  }

  if (baseProblem) {
    const scan = parseNewEntries(bytes, undefined);
    return {
      info: { ...withSeqs, format: bb.type === FILE_TYPE.LOG_NEW ? 'new' : 'invalid', problem: baseProblem, maxValidSeq: scan.maxValidSeq },
      bytes,
      bb,
      chain: [],
    };
  }

  // New format, valid base block: the chain starts at the base seq.
  const r = parseNewEntries(bytes, bb.seq1);
  const parsed: ParsedLog = {
    info: { ...withSeqs, format: 'new', entries: r.chain.map(entryInfo), maxValidSeq: r.maxValidSeq },
    bytes,
    bb,
    chain: r.chain,
    oversized: r.oversized,
  };
  let problem: string | undefined;
  if (r.oversized) problem = r.oversized.message;
  else if (r.chain.length === 0) problem = `no valid log entries (${r.stop ?? 'file ends after the base block'})`;
  else if (pbb && seqBefore(bb.seq1, pbb.seq2)) problem = `stale: base sequence ${bb.seq1} is before the primary's secondary sequence ${pbb.seq2}`;
  parsed.info.usable = problem === undefined;
  if (problem) parsed.info.problem = problem;
  return parsed;
}

interface PrimaryState {
  bb?: BaseBlock;
  /** Base block parsed and checksum good. */
  valid: boolean;
  error?: FormatError;
  timestamp?: bigint;
}

function primaryState(primary: Uint8Array): PrimaryState {
  const { bb, error } = tryParseBaseBlock(primary);
  const valid = !!bb && bb.checksumOk;
  // Old-format logs match on the base block timestamp, or on the first bin's when the base block is bad.
  const timestamp = valid ? bb.timestamp : firstHbinTimestamp(primary);
  return { bb, valid, error, timestamp };
}

function parseAll(primary: PrimaryState, logs: LogFile[]): ParsedLog[] {
  return logs.map((l) => parseLog(l, primary.valid ? primary.bb : undefined, primary.timestamp));
}

/** Parse every log and judge it against this primary (stale, timestamp mismatch, broken...). Never throws on log content. */
export function inspectLogs(primary: Uint8Array, logs: LogFile[]): LogInfo[] {
  return parseAll(primaryState(primary), logs).map((p) => p.info);
}

/** True when the hive is dirty (sequence numbers differ or the base block checksum is bad). Throws FormatError for a non-hive. */
export function needsRecovery(primary: Uint8Array): boolean {
  return isDirty(parseBaseBlock(primary));
}

// ---------------------------------------------------------------------------------------------
// Replay

function orderBySeq(logs: ParsedLog[]): ParsedLog[] {
  // Step 3: a before b if (b - a) mod 2^32 is in [1, 2^31); ties keep the given (LOG, LOG1, LOG2) order.
  return logs
    .map((l, i) => ({ l, i }))
    .sort((x, y) => {
      const a = x.l.bb!.seq1;
      const b = y.l.bb!.seq1;
      if (seqBefore(a, b)) return -1;
      if (seqBefore(b, a)) return 1;
      return x.i - y.i;
    })
    .map((x) => x.l);
}

function lastSeqOf(l: ParsedLog): number {
  return l.chain[l.chain.length - 1]!.seq;
}

interface Plan {
  /** Logs to replay in order, each with its whole valid chain. */
  logs: ParsedLog[];
  /** Take the base block from this log (invalid primary base block). */
  baseFrom?: ParsedLog;
}

function planNew(primary: PrimaryState, parsed: ParsedLog[]): Plan | undefined {
  if (primary.valid) {
    // Steps 3-4: order, drop stale logs (usable already excludes them), apply the first, chain on at last + 1.
    const candidates = orderBySeq(parsed.filter((p) => p.info.format === 'new' && p.info.usable));
    if (candidates.length === 0) return undefined;
    const plan: ParsedLog[] = [candidates[0]!];
    const rest = candidates.slice(1);
    for (;;) {
      const want = seqNext(lastSeqOf(plan[plan.length - 1]!));
      const i = rest.findIndex((p) => p.bb!.seq1 === want);
      if (i < 0) break;
      plan.push(rest[i]!);
      rest.splice(i, 1);
    }
    return { logs: plan };
  }
  // Invalid primary base block: only the log with the latest entries, and its base block.
  const candidates = parsed.filter((p) => p.info.format === 'new' && p.bb && p.bb.checksumOk && p.chain.length > 0 && !p.oversized);
  if (candidates.length === 0) {
    const bad = parsed.find((p) => p.oversized);
    if (bad) throw bad.oversized!;
    return undefined;
  }
  let best = candidates[0]!;
  for (const c of candidates.slice(1)) if (seqBefore(lastSeqOf(best), lastSeqOf(c))) best = c;
  return { logs: [best], baseFrom: best };
}

/**
 * How far (hbins-relative) a chain of valid hive bins starting at 0 reaches inside `buf`: a bin
 * that starts inside `buf` counts with its whole size. Bins past that point can only be zeros.
 */
function binsReach(buf: Uint8Array, hbinsSize: number): number {
  let off = 0;
  while (off < hbinsSize) {
    const p = HBIN_START + off;
    // The header must reach the end of its size field (where reserved1 starts).
    if (p + HBIN.reserved1 > buf.length || !sigAt(buf, p + HBIN.signature, 'hbin') || u32(buf, p + HBIN.offset) !== off) return off;
    const size = u32(buf, p + HBIN.size);
    if (size < HBIN_ALIGN || size % HBIN_ALIGN !== 0 || off + size > hbinsSize) return off;
    off += size;
  }
  return off;
}

/** Zero tail a replay may add beyond its data without a bin saying so: this multiple of the input. */
export const MAX_UNBACKED_GROWTH_FACTOR = 16;

/**
 * The recovered image is allocated only as far as the primary and the logged pages can fill it;
 * beyond that it is zeros. It grows further only when a hive bin inside that data says it extends
 * further (a grown bin whose free space was not logged), or by at most 16x the input bytes + 1 MiB
 * (Windows' own replay of a log over an unreadable primary gives such images; they are refused
 * later by Hive.open). Otherwise a 5 KiB crafted log with a hash-valid entry claiming 2 GiB of
 * bins would cost 2 GiB for an image that is all zeros past its first bytes (never a hive).
 */
function growTo(buf: Uint8Array, hbinsSize: number, inputBytes: number, where: number, what: string): Uint8Array {
  const need = HBIN_START + hbinsSize;
  if (need <= buf.length) return buf.length === need ? buf : buf.slice(0, need);
  const reach = binsReach(buf, hbinsSize);
  if (reach < hbinsSize && need > MAX_UNBACKED_GROWTH_FACTOR * inputBytes + (1 << 20)) {
    throw new FormatError(
      `${what} gives a hive-bins size of 0x${hbinsSize.toString(16)}, but the primary and the logged pages end at 0x${(buf.length - HBIN_START).toString(16)} ` +
        `and their hive bins reach only 0x${reach.toString(16)}: the rest would be zeros, not a hive (crafted or corrupt log)`,
      where,
    );
  }
  const out = new Uint8Array(need);
  out.set(buf);
  return out;
}

function applyNew(state: PrimaryState, primary: Uint8Array, plan: Plan): { bytes: Uint8Array; applied: RecoveryResult['applied'] } {
  for (const l of plan.logs) if (l.oversized) throw l.oversized;
  // Allocate only what can hold data: the primary (up to the largest size an entry gives) and the
  // logged pages. growTo() extends the result when a bin in that data says so.
  let cap = 0;
  let pageEnd = 0;
  for (const l of plan.logs) {
    for (const e of l.chain) {
      cap = Math.max(cap, HBIN_START + e.hbinsSize);
      for (const p of e.pages) pageEnd = Math.max(pageEnd, HBIN_START + p.offset + p.size);
    }
  }
  const filled = Math.min(cap, Math.max(primary.length, pageEnd, HBIN_START));
  let buf: Uint8Array = new Uint8Array(filled);
  buf.set(primary.subarray(0, Math.min(primary.length, filled)));
  let hbinsSize = 0;
  let flagBit = 0;
  let last = 0;
  const applied: RecoveryResult['applied'] = [];
  for (const l of plan.logs) {
    for (const e of l.chain) {
      // Step 5: grow to 4096 + hbinsSize (buf is already cap long), copy the pages, take hbins size and flag bit 0.
      for (const p of e.pages) buf.set(l.bytes.subarray(p.dataOffset, p.dataOffset + p.size), HBIN_START + p.offset);
      hbinsSize = e.hbinsSize;
      flagBit = e.flags & 1;
      last = e.seq;
    }
    applied.push({ log: l.info.name, firstSeq: l.chain[0]!.seq, lastSeq: lastSeqOf(l), entries: l.chain.length });
  }
  const lastLog = plan.logs[plan.logs.length - 1]!;
  const lastEntry = lastLog.chain[lastLog.chain.length - 1]!;
  buf = growTo(
    buf,
    hbinsSize,
    primary.length + plan.logs.reduce((n, l) => n + l.bytes.length, 0),
    lastEntry.fileOffset + HVLE.hbinsSize,
    `${lastLog.info.name}: entry ${last} (at 0x${lastEntry.fileOffset.toString(16)})`,
  );
  const out = buf;
  if (plan.baseFrom) {
    out.fill(0, 0, HBIN_START);
    out.set(plan.baseFrom.bytes.subarray(0, LOG_BASE_SIZE), 0);
  }
  const flags = plan.baseFrom ? plan.baseFrom.bb!.flags : state.bb!.flags;
  // Step 6.
  const seq = seqNext(last);
  writeBaseBlock(out, { seq1: seq, seq2: seq, type: FILE_TYPE.PRIMARY, hbinsSize, flags: ((flags & ~1) | flagBit) >>> 0 });
  return { bytes: out, applied };
}

function applyOld(primary: PrimaryState, primaryBytes: Uint8Array, parsed: ParsedLog[]): { bytes: Uint8Array; applied: RecoveryResult['applied'] } | undefined {
  // Applicable old logs (timestamp already matched in parseLog); the newest wins (LOG2 when newer).
  const candidates = orderBySeq(parsed.filter((p) => p.info.format === 'old' && p.info.usable));
  const log = candidates[candidates.length - 1];
  if (!log) return undefined;
  const bb = log.bb!;
  const size = HBIN_START + bb.hbinsSize;
  // As applyNew: allocate what the primary and the dirty pages can fill, grow only as a bin says.
  let pageEnd = 0;
  for (const p of log.oldPages!) pageEnd = Math.max(pageEnd, p.primaryOffset + OLD_PAGE);
  let out: Uint8Array = new Uint8Array(Math.min(size, Math.max(primaryBytes.length, pageEnd, HBIN_START)));
  out.set(primaryBytes.subarray(0, Math.min(primaryBytes.length, out.length)));
  for (const p of log.oldPages!) out.set(log.bytes.subarray(p.logOffset, p.logOffset + OLD_PAGE), p.primaryOffset);
  out = growTo(out, bb.hbinsSize, primaryBytes.length + log.bytes.length, BASE.hbinsSize, `${log.info.name}: base block`);
  let flags = primary.valid ? primary.bb!.flags : bb.flags;
  if (!primary.valid) {
    out.fill(0, 0, HBIN_START);
    out.set(log.bytes.subarray(0, LOG_BASE_SIZE), 0);
    flags = bb.flags;
  }
  const seq = seqNext(bb.seq1);
  writeBaseBlock(out, { seq1: seq, seq2: seq, type: FILE_TYPE.PRIMARY, hbinsSize: bb.hbinsSize, flags });
  return { bytes: out, applied: [{ log: log.info.name, firstSeq: bb.seq1, lastSeq: bb.seq1, entries: 1 }] };
}

/**
 * Recover a hive from its transaction logs exactly as Windows does (registry-hives.md section 3).
 * A clean primary is returned unchanged (a copy) and its logs are ignored.
 * Throws DirtyHiveError when the primary is dirty and no log can be used, FormatError on structural problems.
 */
export function recoverHive(primary: Uint8Array, logs: LogFile[]): RecoveryResult {
  const state = primaryState(primary);
  if (state.valid && state.bb!.type !== FILE_TYPE.PRIMARY) {
    throw new FormatError(`not a primary hive file: file type ${state.bb!.type}`, BASE.type);
  }
  const parsed = parseAll(state, logs);
  const infos = parsed.map((p) => p.info);

  let maxSeqSeen: number | undefined;
  if (state.valid) {
    maxSeqSeen = seqMax(maxSeqSeen, state.bb!.seq1);
    maxSeqSeen = seqMax(maxSeqSeen, state.bb!.seq2);
  }
  for (const p of parsed) {
    if (p.info.baseSeq1 !== undefined) maxSeqSeen = seqMax(maxSeqSeen, p.info.baseSeq1);
    if (p.info.baseSeq2 !== undefined) maxSeqSeen = seqMax(maxSeqSeen, p.info.baseSeq2);
    if (p.info.maxValidSeq !== undefined) maxSeqSeen = seqMax(maxSeqSeen, p.info.maxValidSeq);
  }

  // Step 1: a valid, clean primary ignores its logs.
  if (state.valid && !isDirty(state.bb!)) {
    return { bytes: primary.slice(), applied: [], logs: infos, maxSeqSeen: maxSeqSeen ?? 0, primaryWasDirty: false };
  }

  const plan = planNew(state, parsed);
  const result = plan ? applyNew(state, primary, plan) : applyOld(state, primary, parsed);
  if (!result) {
    if (!state.bb && state.error) throw state.error; // not a hive at all, and nothing to rebuild it from
    const why = state.valid ? `sequence numbers ${state.bb!.seq1} / ${state.bb!.seq2} differ` : 'its base block checksum is bad';
    const tried = infos.length === 0 ? 'no log files were given' : infos.map((i) => `${i.name}: ${i.problem ?? 'not applicable'}`).join('; ');
    throw new DirtyHiveError(`hive is dirty (${why}) and no usable transaction log was found (${tried}); its unflushed changes are lost`);
  }
  return { bytes: result.bytes, applied: result.applied, logs: infos, maxSeqSeen: maxSeqSeen ?? 0, primaryWasDirty: true };
}
