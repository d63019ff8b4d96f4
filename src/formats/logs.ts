// Streaming parsers for the update logs readable offline (windows-update.md §8): ReportingEvents.log,
// CBS.log, the pre-Windows 10 WindowsUpdate.log and .NET/MSI setup logs. Pure: every parser takes
// an (async) iterable of byte chunks and yields typed records with file + line number as evidence.
// Memory stays bounded by the chunk size and `maxLineLength`, whatever the file size; the only
// fs code is in logs-file.ts.
//
// Times: these logs write wall-clock time. ReportingEvents carries a UTC offset and gets an exact
// Date; CBS.log, WindowsUpdate.log and setup logs have none, so their wall-clock time is encoded
// as if it were UTC (`timeIsLocal: true`), which keeps ordering and the printed value right.
import { normalizeHresult } from './errorcodes.js';

// ---------------------------------------------------------------------------------------------
// Encoding detection and decoding
// ---------------------------------------------------------------------------------------------

export type LogEncoding = 'utf-16le' | 'utf-8' | 'windows-1252';

export interface DetectedEncoding {
  encoding: LogEncoding;
  /** Bytes of byte-order mark at the start (0, 2 or 3). */
  bomLength: number;
  /** How it was decided. */
  reason: 'bom' | 'utf16-heuristic' | 'utf8-valid' | 'ascii' | 'not-utf8' | 'forced' | 'empty';
}

/** How many bytes the detector wants to see (fewer at end of stream). */
export const DETECT_BYTES = 4096;
const SAMPLE_BYTES = 64 * 1024;

/**
 * Decide the encoding of a log from its first bytes: BOM (FF FE = UTF-16LE, EF BB BF = UTF-8),
 * else UTF-16LE if NUL bytes sit at odd offsets (ASCII text as UTF-16LE), else UTF-8 if the sample
 * is valid UTF-8 (pure ASCII included), else Windows-1252 (ANSI).
 */
export function detectEncoding(head: Uint8Array): DetectedEncoding {
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2, reason: 'bom' };
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3, reason: 'bom' };
  if (head.length === 0) return { encoding: 'utf-8', bomLength: 0, reason: 'empty' };
  const sample = head.length > SAMPLE_BYTES ? head.subarray(0, SAMPLE_BYTES) : head;
  const pairs = sample.length >> 1;
  if (pairs > 0) {
    let oddZero = 0;
    let evenZero = 0;
    for (let i = 0; i + 1 < sample.length; i += 2) {
      if (sample[i] === 0) evenZero++;
      else if (sample[i + 1] === 0) oddZero++;
    }
    if (oddZero >= pairs * 0.3 && evenZero <= pairs * 0.1) return { encoding: 'utf-16le', bomLength: 0, reason: 'utf16-heuristic' };
  }
  let ascii = true;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { encoding: 'utf-8', bomLength: 0, reason: 'ascii' };
  try {
    // stream: true tolerates a sequence cut at the end of the sample.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return { encoding: 'utf-8', bomLength: 0, reason: 'utf8-valid' };
  } catch {
    return { encoding: 'windows-1252', bomLength: 0, reason: 'not-utf8' };
  }
}

// Windows-1252 0x80-0x9F (the rest is ISO-8859-1); undefined positions map to the C1 control.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];
const C1_RE = /[\x80-\x9f]/g;

/** Decode Windows-1252 bytes (stateless, so chunk boundaries do not matter). */
export function decodeWindows1252(bytes: Uint8Array): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  C1_RE.lastIndex = 0;
  if (!C1_RE.test(s)) return s;
  C1_RE.lastIndex = 0;
  return s.replace(C1_RE, (c) => String.fromCharCode(CP1252_HIGH[c.charCodeAt(0) - 0x80]!));
}

interface ChunkDecoder {
  decode(bytes: Uint8Array): string;
  end(): string;
}

function makeDecoder(encoding: LogEncoding): ChunkDecoder {
  if (encoding === 'windows-1252') return { decode: decodeWindows1252, end: () => '' };
  // Non-fatal: garbage bytes become U+FFFD; stream: true carries split sequences/surrogates.
  const td = new TextDecoder(encoding, { ignoreBOM: true });
  return {
    decode: (b) => td.decode(b, { stream: true }),
    end: () => td.decode(),
  };
}

// ---------------------------------------------------------------------------------------------
// Line reader
// ---------------------------------------------------------------------------------------------

export type ByteChunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface LineReaderOptions {
  /** Force an encoding instead of detecting it. */
  encoding?: LogEncoding;
  /** Longer lines are cut to this many characters (the rest up to the newline is dropped). Default 1 MiB. */
  maxLineLength?: number;
  /** Called once with the encoding decision, before the first line. */
  onEncoding?: (e: DetectedEncoding) => void;
}

/** Lines decoded from one or more chunks; `first` is the 1-based number of `lines[0]`. */
export interface LineBatch {
  first: number;
  lines: string[];
}

export interface LogLine {
  line: number;
  text: string;
}

export const DEFAULT_MAX_LINE_LENGTH = 1 << 20;

/** Splits decoded text on LF (CRLF and LF line ends), carrying partial lines between pieces. */
class LineSplitter {
  private carry = '';
  private carryFull = false;
  constructor(private readonly maxLen: number) {}

  push(text: string, out: string[]): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      let line: string;
      if (this.carry.length > 0 || this.carryFull) {
        line = this.carryFull ? this.carry : this.carry + text.slice(start, Math.min(nl, start + this.maxLen));
        this.carry = '';
        this.carryFull = false;
      } else {
        line = text.slice(start, nl);
      }
      out.push(this.finish(line));
      start = nl + 1;
    }
    if (start < text.length && !this.carryFull) {
      const rest = start === 0 ? text : text.slice(start);
      if (this.carry.length + rest.length > this.maxLen) {
        // Line longer than the limit: keep its start, drop the rest up to the newline.
        this.carry += rest.slice(0, this.maxLen - this.carry.length);
        this.carryFull = true;
      } else {
        this.carry += rest;
      }
    }
  }

  /** End of input: the last line if the file has no trailing newline. */
  flush(out: string[]): void {
    if (this.carry.length > 0) out.push(this.finish(this.carry));
    this.carry = '';
    this.carryFull = false;
  }

  private finish(line: string): string {
    if (line.length > this.maxLen) line = line.slice(0, this.maxLen);
    return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
  }
}

function concatBytes(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Decode a stream of byte chunks into batches of lines (one batch per input chunk that completes
 * at least one line). Encoding is detected from the first DETECT_BYTES bytes unless forced.
 * Line ends: LF or CRLF (a CR or a UTF-16 code unit split across chunks is handled).
 */
export async function* readLineBatches(chunks: ByteChunks, opts: LineReaderOptions = {}): AsyncGenerator<LineBatch> {
  const maxLen = Math.max(1, opts.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
  const splitter = new LineSplitter(maxLen);
  let decoder: ChunkDecoder | undefined;
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  let next = 1;

  const start = (head: Uint8Array): string => {
    let det: DetectedEncoding;
    if (opts.encoding) {
      const bom =
        opts.encoding === 'utf-16le' && head[0] === 0xff && head[1] === 0xfe
          ? 2
          : opts.encoding === 'utf-8' && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf
            ? 3
            : 0;
      det = { encoding: opts.encoding, bomLength: bom, reason: 'forced' };
    } else {
      det = detectEncoding(head);
    }
    opts.onEncoding?.(det);
    decoder = makeDecoder(det.encoding);
    return decoder.decode(det.bomLength ? head.subarray(det.bomLength) : head);
  };

  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    let text: string;
    if (!decoder) {
      pending.push(chunk);
      pendingLen += chunk.length;
      if (pendingLen < DETECT_BYTES) continue;
      text = start(concatBytes(pending, pendingLen));
      pending = [];
    } else {
      text = decoder.decode(chunk);
    }
    const out: string[] = [];
    splitter.push(text, out);
    if (out.length > 0) {
      yield { first: next, lines: out };
      next += out.length;
    }
  }
  const out: string[] = [];
  if (!decoder) splitter.push(start(concatBytes(pending, pendingLen)), out);
  splitter.push(decoder!.end(), out);
  splitter.flush(out);
  if (out.length > 0) yield { first: next, lines: out };
}

/** One line at a time (convenience over readLineBatches). */
export async function* readLines(chunks: ByteChunks, opts: LineReaderOptions = {}): AsyncGenerator<LogLine> {
  for await (const b of readLineBatches(chunks, opts)) {
    for (let i = 0; i < b.lines.length; i++) yield { line: b.first + i, text: b.lines[i]! };
  }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/**
 * A copy of `s` that does not keep its parent string alive. Lines are slices of the decoded
 * 1 MiB chunk; a record that kept such a slice would pin the whole chunk in memory.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}

function hexField(s: string): string | undefined {
  const t = s.trim();
  if (!/^(?:0x)?[0-9a-f]{1,8}$/i.test(t)) return undefined;
  return '0x' + (parseInt(t.replace(/^0x/i, ''), 16) >>> 0).toString(16).padStart(8, '0');
}

const KB_RE = /(?:\b|_)KB(\d{6,8})(?!\d)/i;

/** 'KB5034441' from any text mentioning it (Package_for_KB..., "(KB5034441)"), else undefined. */
export function extractKb(text: string): string | undefined {
  const m = KB_RE.exec(text);
  return m ? `KB${m[1]}` : undefined;
}

/**
 * Parse 'YYYY-MM-DD', 'HH:MM:SS[:mmm|.mmm]' and an optional '+HHMM'/'-HHMM' offset. Without an
 * offset the wall-clock time is returned as if it were UTC. Undefined if out of range.
 */
export function parseLogTime(date: string, time: string): { time: Date; local: boolean } | undefined {
  const d = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(date.trim());
  const t = /^(\d{1,2}):(\d{2}):(\d{2})(?:[:.](\d{1,3}))?\s*(?:([+-])(\d{2}):?(\d{2}))?$/.exec(time.trim());
  if (!d || !t) return undefined;
  const [y, mo, da] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const [h, mi, s] = [Number(t[1]), Number(t[2]), Number(t[3])];
  const ms = t[4] ? Number(t[4].padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  let v = Date.UTC(y, mo - 1, da, h, mi, s, ms);
  const local = t[5] === undefined;
  if (!local) {
    const off = (Number(t[6]) * 60 + Number(t[7])) * 60_000;
    v -= t[5] === '+' ? off : -off;
  }
  return { time: new Date(v), local };
}

// ---------------------------------------------------------------------------------------------
// ReportingEvents.log (and REPORT EVENT lines of WindowsUpdate.log)
// ---------------------------------------------------------------------------------------------

export interface ReportingEvent {
  file: string;
  line: number;
  /** {EventInstanceGUID} */
  instanceId: string;
  time: Date;
  /** 147 detection, 161/162 download failed/succeeded, 182/183 install failed/succeeded, ... */
  eventId: number;
  /** Win8+: AGENT_INSTALLING_FAILED etc. */
  eventName?: string;
  /** {UpdateID} */
  updateId: string;
  revision: number;
  /** '0x80070643' */
  hresult: string;
  /** AutomaticUpdates, AutomaticUpdatesWuApp, UpdateOrchestrator, ... */
  client: string;
  status: 'Success' | 'Failure';
  /** Content Download / Content Install / Software Synchronization / ... */
  category: string;
  message: string;
  kb?: string;
  /** Fields after the message (Windows 10 adds one). */
  extra?: string[];
}

const GUID_RE = /^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/;
const EVENT_ID_RE = /^(\d{1,6})(?:\s*\[([A-Za-z0-9_]+)\])?$/;

/** Fields: guid, time, namespace, eventId[ [NAME]], source, updateId, revision, hresult, client, status, category, message, extra... */
function reportFromFields(f: string[], file: string, line: number): ReportingEvent | undefined {
  if (f.length < 12) return undefined;
  const instanceId = f[0]!.trim();
  if (!GUID_RE.test(instanceId)) return undefined;
  const ts = f[1]!.trim();
  const sp = ts.indexOf(' ');
  if (sp < 0) return undefined;
  const t = parseLogTime(ts.slice(0, sp), ts.slice(sp + 1));
  if (!t) return undefined;
  const ev = EVENT_ID_RE.exec(f[3]!.trim());
  if (!ev) return undefined;
  const updateId = f[5]!.trim();
  if (!GUID_RE.test(updateId)) return undefined;
  const revision = Number(f[6]!.trim());
  if (!Number.isInteger(revision)) return undefined;
  const hresult = hexField(f[7]!);
  if (!hresult) return undefined;
  const status = f[9]!.trim();
  if (status !== 'Success' && status !== 'Failure') return undefined;
  const message = f[11]!.trim();
  const rec: ReportingEvent = {
    file,
    line,
    instanceId,
    time: t.time,
    eventId: Number(ev[1]),
    updateId,
    revision,
    hresult,
    client: f[8]!.trim(),
    status,
    category: f[10]!.trim(),
    message,
  };
  if (ev[2]) rec.eventName = ev[2];
  const kb = extractKb(message);
  if (kb) rec.kb = kb;
  if (f.length > 12) {
    const extra = f.slice(12).map((x) => x.trim());
    while (extra.length > 0 && extra[extra.length - 1] === '') extra.pop();
    if (extra.length > 0) rec.extra = extra;
  }
  return rec;
}

/** One ReportingEvents.log line (TAB-separated) -> record, or undefined if it is not one. */
export function parseReportingEventsLine(text: string, file: string, line: number): ReportingEvent | undefined {
  if (text.length < 40 || text.charCodeAt(0) !== 0x7b /* { */) return undefined;
  return reportFromFields(detach(text).split('\t'), file, line);
}

const KNOWN_CATEGORIES = [
  'Content Download',
  'Content Install',
  'Content Uninstall',
  'Software Synchronization',
  'Pre-Deployment Check',
  'Software Update',
];
const REPORT_WS_RE =
  /^(\{[^}\s]+\})\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[:.]\d{1,3})?\s*[+-]\d{4})\s+(\d+)\s+(\d+(?: \[[A-Za-z0-9_]+\])?)\s+(\d+)\s+(\{[^}\s]+\})\s+(\d+)\s+([0-9A-Fa-f]{1,8})\s+(\S+)\s+(Success|Failure)\s+(.*)$/;

/** The part after 'REPORT EVENT:' in WindowsUpdate.log; TAB-separated, or space-separated copies. */
export function parseReportEventText(text: string, file: string, line: number): ReportingEvent | undefined {
  const own = detach(text.trim());
  const tabbed = own.split('\t');
  if (tabbed.length >= 12) return reportFromFields(tabbed, file, line);
  const m = REPORT_WS_RE.exec(own);
  if (!m) return undefined;
  const rest = m[11]!;
  const cat = KNOWN_CATEGORIES.find((c) => rest.startsWith(c + ' ') || rest === c);
  const category = cat ?? '';
  const message = cat ? rest.slice(cat.length).trim() : rest;
  return reportFromFields([m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7]!, m[8]!, m[9]!, m[10]!, category, message], file, line);
}

export type ParseOptions = LineReaderOptions;

/** Stream ReportingEvents.log (UTF-16LE with/without BOM, UTF-8 or ANSI). Non-record lines are skipped. */
export async function* parseReportingEvents(chunks: ByteChunks, file: string, opts: ParseOptions = {}): AsyncGenerator<ReportingEvent> {
  for await (const b of readLineBatches(chunks, opts)) {
    for (let i = 0; i < b.lines.length; i++) {
      const r = parseReportingEventsLine(b.lines[i]!, file, b.first + i);
      if (r) yield r;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CBS.log
// ---------------------------------------------------------------------------------------------

export interface CbsRecord {
  file: string;
  /** Line of the timestamped line. */
  line: number;
  /** Last continuation line (= line when there is none). */
  endLine: number;
  time: Date;
  /** Info, Error, Warning, Perf, ... */
  level: string;
  /** CBS, CSI, DISM, ... */
  component: string;
  /** Message, continuation lines joined with '\n'. */
  message: string;
  /** CSI lines: the hex sequence number ('00000e64'). */
  csiSequence?: string;
  hresult?: string;
  kb?: string;
  /** Why it was selected. */
  reason: 'level' | 'hresult' | 'package';
}

const CBS_HEAD_RE = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d), (\S+)\s+(\S+)(?:\s(.*))?$/s;
const HRESULT_EQ_RE = /HRESULT\s*=\s*(0x[0-9a-f]{1,8})\b/i;
const RESULT_RE = /\b(overall result|result|hr|error|status|gle)\s*[:=]\s*(0x[0-9a-f]{1,8})\b/gi;
const PACKAGE_STATE_RE = /\b(?:current|target|state|pending|install|uninstall|stag|resolv|absent|supersed|reboot|fail|applicab|rollback|perman|exec:)/i;
/** Continuation text kept per record (the rest is dropped). */
const CBS_MAX_RECORD = 64 * 1024;

function isCbsTimestamped(s: string): boolean {
  // 'YYYY-MM-DD HH:MM:SS,' (fast check; the full regex runs only on selected records)
  if (s.length < 21) return false;
  const c0 = s.charCodeAt(0);
  return c0 >= 48 && c0 <= 57 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && s.charCodeAt(10) === 32 && s.charCodeAt(13) === 58 && s.charCodeAt(19) === 44;
}

/** Extract the HRESULT a CBS/servicing message reports, if any. */
export function extractCbsHresult(text: string): string | undefined {
  const m = HRESULT_EQ_RE.exec(text);
  if (m) return hexField(m[1]!);
  // 'result:' / 'hr:' / 'status:' values: the overall result first, else the first non-zero one
  // ("download status: 0x0 (S_OK), ..., overall result:0x800f0922").
  let first: string | undefined;
  let nonZero: string | undefined;
  RESULT_RE.lastIndex = 0;
  for (let r = RESULT_RE.exec(text); r; r = RESULT_RE.exec(text)) {
    const h = hexField(r[2]!);
    if (!h) continue;
    if (/^overall/i.test(r[1]!)) return h;
    first ??= h;
    if (h !== '0x00000000') nonZero ??= h;
  }
  return nonZero ?? first;
}

/** Decide whether a complete CBS record (header + continuation) is worth yielding, and build it. */
function cbsRecord(first: string, cont: string[] | undefined, file: string, line: number, endLine: number): CbsRecord | undefined {
  const isErr = first.startsWith('Error', 21) || first.startsWith('Warning', 21);
  const full = cont ? first + '\n' + cont.join('\n') : first;
  const hasHr = full.indexOf('HRESULT') >= 0 || /result\s*[:=]\s*0x|hr\s*[:=]\s*0x/i.test(full);
  const hasKb = full.indexOf('KB') >= 0 || full.indexOf('kb') >= 0;
  if (!isErr && !hasHr && !hasKb) return undefined;
  const hresult = hasHr || isErr ? extractCbsHresult(full) : undefined;
  let reason: CbsRecord['reason'];
  let kb: string | undefined;
  if (isErr) reason = 'level';
  else if (hresult !== undefined && (hresult !== '0x00000000' || HRESULT_EQ_RE.test(full))) reason = 'hresult';
  else {
    kb = extractKb(full);
    if (!kb || !PACKAGE_STATE_RE.test(full)) return undefined;
    reason = 'package';
  }
  const own = detach(full);
  const m = CBS_HEAD_RE.exec(own);
  if (!m) return undefined;
  const t = parseLogTime(m[1]!, m[2]!);
  if (!t) return undefined;
  const message = (m[5] ?? '').trim();
  const rec: CbsRecord = { file, line, endLine, time: t.time, level: m[3]!, component: m[4]!, message, reason };
  if (m[4] === 'CSI') {
    const seq = /^([0-9a-f]{8})\b/.exec(message);
    if (seq) rec.csiSequence = seq[1];
  }
  if (hresult !== undefined) rec.hresult = hresult;
  kb ??= extractKb(message);
  if (kb) rec.kb = kb;
  return rec;
}

/**
 * Stream CBS.log: yields Error/Warning records, records reporting an HRESULT ('HRESULT = 0x...',
 * '[HRESULT = ...]', 'result: 0x...'), and package state lines that mention a KB. Continuation
 * lines (no timestamp) are joined to their record.
 */
export async function* parseCbsLog(chunks: ByteChunks, file: string, opts: ParseOptions = {}): AsyncGenerator<CbsRecord> {
  let first: string | undefined;
  let firstLine = 0;
  let cont: string[] | undefined;
  let contLen = 0;
  let lastLine = 0;
  for await (const b of readLineBatches(chunks, opts)) {
    const out: CbsRecord[] = [];
    for (let i = 0; i < b.lines.length; i++) {
      const text = b.lines[i]!;
      const ln = b.first + i;
      if (isCbsTimestamped(text)) {
        if (first !== undefined) {
          const r = cbsRecord(first, cont, file, firstLine, lastLine);
          if (r) out.push(r);
        }
        first = text;
        firstLine = ln;
        lastLine = ln;
        cont = undefined;
        contLen = 0;
      } else if (first !== undefined) {
        lastLine = ln;
        if (text.length === 0 || contLen >= CBS_MAX_RECORD) continue;
        const piece = text.length + contLen > CBS_MAX_RECORD ? text.slice(0, CBS_MAX_RECORD - contLen) : text;
        (cont ??= []).push(piece);
        contLen += piece.length + 1;
      }
    }
    // Records must not pin chunk strings: cbsRecord detaches what it keeps; `first`/`cont` of the
    // record in progress are re-read from this batch only until the next record starts.
    if (first !== undefined && b.lines.length > 0) {
      first = detach(first);
      if (cont) cont = cont.map(detach);
    }
    yield* out;
  }
  if (first !== undefined) {
    const r = cbsRecord(first, cont, file, firstLine, lastLine);
    if (r) yield r;
  }
}

// ---------------------------------------------------------------------------------------------
// WindowsUpdate.log (plain text through Windows 8.1)
// ---------------------------------------------------------------------------------------------

export interface WindowsUpdateLogRecord {
  file: string;
  line: number;
  time: Date;
  /** Process and thread ids as written (hex). */
  pid: string;
  tid: string;
  /** Agent, AU, Report, Handler, Setup, DnldMgr, PT, ... */
  component: string;
  text: string;
  /** 'FATAL:' / 'WARNING:' lines. */
  severity?: 'fatal' | 'warning' | 'error';
  hresult?: string;
  kb?: string;
  /** Parsed 'REPORT EVENT:' line. */
  report?: ReportingEvent;
}

const WU_DATE_RE = /^\d{4}-\d\d-\d\d$/;
const WU_SEVERITY_RE = /^\s*(?:\*\s*)?(FATAL|WARNING|ERROR)\s*:/i;
const WU_HR_RE = /\b0x([0-9a-f]{8})\b|\b(?:hr|error|err|code|result)\s*[=:]\s*([0-9a-f]{8})\b/i;

/** One WindowsUpdate.log line ('Date\tTime\tPID\tTID\tComponent\tText') -> record, or undefined. */
export function parseWindowsUpdateLogLine(text: string, file: string, line: number): WindowsUpdateLogRecord | undefined {
  if (text.length < 20) return undefined;
  const c0 = text.charCodeAt(0);
  if (c0 < 48 || c0 > 57) return undefined;
  const own = detach(text);
  const f = own.split('\t');
  if (f.length < 6 || !WU_DATE_RE.test(f[0]!)) return undefined;
  const t = parseLogTime(f[0]!, f[1]!);
  if (!t) return undefined;
  const body = f.length === 6 ? f[5]! : f.slice(5).join('\t');
  const rec: WindowsUpdateLogRecord = {
    file,
    line,
    time: t.time,
    pid: f[2]!.trim(),
    tid: f[3]!.trim(),
    component: f[4]!.trim(),
    text: body,
  };
  const rep = /^\s*REPORT EVENT:\s*/.exec(body);
  if (rep) {
    const r = parseReportEventText(body.slice(rep[0].length), file, line);
    if (r) {
      rec.report = r;
      rec.hresult = r.hresult;
      if (r.kb) rec.kb = r.kb;
      if (r.status === 'Failure') rec.severity = 'error';
      return rec;
    }
  }
  const sev = WU_SEVERITY_RE.exec(body);
  if (sev) rec.severity = sev[1]!.toLowerCase() as 'fatal' | 'warning' | 'error';
  const hr = WU_HR_RE.exec(body);
  if (hr) {
    const h = hexField(hr[1] ?? hr[2]!);
    if (h && h !== '0x00000000') rec.hresult = h;
  }
  const kb = extractKb(body);
  if (kb) rec.kb = kb;
  return rec;
}

/** Stream WindowsUpdate.log; every well-formed line is a record (REPORT EVENT lines parsed). */
export async function* parseWindowsUpdateLog(chunks: ByteChunks, file: string, opts: ParseOptions = {}): AsyncGenerator<WindowsUpdateLogRecord> {
  for await (const b of readLineBatches(chunks, opts)) {
    for (let i = 0; i < b.lines.length; i++) {
      const r = parseWindowsUpdateLogLine(b.lines[i]!, file, b.first + i);
      if (r) yield r;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// .NET / MSI setup logs
// ---------------------------------------------------------------------------------------------

export type SetupRecordKind =
  | 'errorlog-event' // dd_dotnet*.txt '***errorlog event***'
  | 'final-result' // 'Final Result: Installation failed with error code: (0x00000643) ...'
  | 'msi-return-value-3' // verbose MSI log, first failing action
  | 'custom-action-error' // 'CustomAction X returned actual error code 1603'
  | 'signature-failure' // 'Signature verification ... failed with error 0x800b010b', trust HRESULTs
  | 'msi-error' // 'Error 1603.' / 'Product: ... -- Error 1935.'
  | 'error'; // other failure lines carrying an HRESULT / error code

export interface SetupLogRecord {
  file: string;
  line: number;
  kind: SetupRecordKind;
  hresult?: string;
  /** The line (HTML stripped), trimmed. */
  message: string;
  /** msi-return-value-3 / custom-action-error: the failing action. */
  action?: string;
  /** msi-return-value-3: the lines just above (oldest first), where the cause usually is. */
  context?: string[];
  /** msi-error: the MSI error number. */
  msiError?: number;
  /** final-result: whether the installation succeeded. */
  success?: boolean;
}

export interface SetupParseOptions extends ParseOptions {
  /** Strip HTML (the .NET 4 patch logs are HTML). Default: by file extension, or on seeing <html>. */
  html?: boolean;
  /** Lines of context kept for 'Return value 3' (default 8). */
  contextLines?: number;
}

/** File names of setup logs worth reading in Windows\Temp and %TEMP% of each profile. */
export function isSetupLogName(name: string): boolean {
  const n = name.toLowerCase();
  return (
    /^dd_.*\.(?:txt|log)$/.test(n) ||
    /_msp\d*\.txt$/.test(n) ||
    /^msi.*\.log$/.test(n) ||
    /^kb\d+.*\.(?:html?|txt|log)$/.test(n) ||
    /^ndp.*\.(?:html?|txt|log)$/.test(n) ||
    /^(?:microsoft )?\.net framework.*\.(?:html?|txt|log)$/.test(n)
  );
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
/**
 * Every "<...>" replaced by a space, as /<[^>]*>/g would, in linear time: that regex rescans to the
 * end of the line for every "<" that has no ">" after it (a 600 KB line of "<td" took minutes).
 */
function stripTags(s: string): string {
  if (s.indexOf('<') < 0) return s;
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    const lt = s.indexOf('<', i);
    if (lt < 0) break;
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0) break; // no ">" after it: no tag from here on
    parts.push(s.slice(i, lt), ' ');
    i = gt + 1;
  }
  parts.push(s.slice(i));
  return parts.join('');
}

/** Split an HTML line into text lines (block tags break lines), tags removed, entities decoded. */
export function htmlToText(html: string): string[] {
  return html
    .split(/<br\s*\/?>|<\/(?:tr|p|li|div|h\d|table)>/i)
    .map((p) =>
      stripTags(p)
        .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
          if (e[0] === '#') {
            const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
            return cp > 0 && cp < 0x110000 ? String.fromCodePoint(cp) : all;
          }
          return ENTITY[e.toLowerCase()] ?? all;
        })
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((p) => p.length > 0);
}

const SETUP_HEX_RE = /\b0x([0-9a-f]{8})\b/i;
const SETUP_CODE_RE = /error code\s*[:=]?\s*\(?\s*(0x[0-9a-f]{1,8}|\d{1,10})\b/i;
const SETUP_CODE2_RE = /(?:returned (?:actual )?error code|error status:?|exit code:?|is returning)\s*(\d{1,10})\b/i;
const TRUST_HR_RE = /\b0x(800b01[0-9a-f]{2}|8009[0-9a-f]{4})\b/i;
const SIGNATURE_RE = /signature verification|verify(?:ing)? (?:the )?(?:digital )?signature|failed to verify|authenticode|winverifytrust|certificate chain|trust (?:verification|check)/i;
const FAIL_RE = /fail|error|invalid|not trusted|untrusted|could not|unable/i;
const ACTION_START_RE = /Action start \d\d?:\d\d:\d\d:\s*([^.\s]+)\./i;
const ACTION_END3_RE = /Action ended \d\d?:\d\d:\d\d:\s*([^.\s]+)\.\s*Return value 3/i;
const CA_ERROR_RE = /CustomAction (\S+) returned actual error code (\d+)/i;
const MSI_ERROR_RE = /(?:^|[\s:>-])Error (\d{4,5})\s*[.:]/;

/** The HRESULT a setup-log line reports: an 8-digit 0x code, or 'error code N' (Win32/MSI). */
export function extractSetupHresult(text: string): string | undefined {
  const m = SETUP_HEX_RE.exec(text);
  if (m) {
    const h = normalizeHresult(m[1]!);
    if (h && h !== '0x00000000') return h;
  }
  const c = SETUP_CODE_RE.exec(text) ?? SETUP_CODE2_RE.exec(text);
  if (c) {
    const v = c[1]!;
    const h = /^0x/i.test(v) ? normalizeHresult(v) : normalizeHresult(Number(v));
    if (h && h !== '0x00000000') return h;
  }
  return undefined;
}

/** Classify one (HTML-stripped) setup-log line; `state` carries MSI action/context tracking. */
function classifySetupLine(
  text: string,
  file: string,
  line: number,
  state: { lastAction?: string; context: string[] },
): SetupLogRecord | undefined {
  const message = text.trim();
  if (message.length === 0) return undefined;
  const rec = (kind: SetupRecordKind, extra: Partial<SetupLogRecord> = {}): SetupLogRecord => {
    const r: SetupLogRecord = { file, line, kind, message: detach(message), ...extra };
    if (!('hresult' in extra)) {
      const h = extractSetupHresult(message);
      if (h) r.hresult = h;
    }
    return r;
  };
  if (/\*\*\*\s*errorlog event\s*\*\*\*/i.test(message)) return rec('errorlog-event');
  const fin = /Final Result:\s*(.*)$/i.exec(message);
  if (fin) {
    const h = extractSetupHresult(fin[1]!);
    const failed = h !== undefined || /fail|error|cancel|abort/i.test(fin[1]!);
    return rec('final-result', h ? { hresult: h, success: !failed } : { success: !failed });
  }
  if (/Return value 3\b/i.test(message)) {
    const a = ACTION_END3_RE.exec(message);
    const action = a?.[1] ?? state.lastAction;
    const extra: Partial<SetupLogRecord> = { context: state.context.map(detach) };
    if (action) extra.action = action;
    return rec('msi-return-value-3', extra);
  }
  if (TRUST_HR_RE.test(message) || (SIGNATURE_RE.test(message) && FAIL_RE.test(message))) {
    const t = TRUST_HR_RE.exec(message);
    return t ? rec('signature-failure', { hresult: normalizeHresult(t[1]!)! }) : rec('signature-failure');
  }
  const ca = CA_ERROR_RE.exec(message);
  if (ca) {
    const h = normalizeHresult(Number(ca[2]));
    return rec('custom-action-error', h && h !== '0x00000000' ? { action: ca[1]!, hresult: h } : { action: ca[1]! });
  }
  const me = MSI_ERROR_RE.exec(message);
  if (me) {
    const n = Number(me[1]);
    const extra: Partial<SetupLogRecord> = { msiError: n };
    // MSI return codes 1601-1654 are the Win32 ERROR_INSTALL_* values; other numbers are MSI
    // message ids (Error 1935, 2203, ...) without an HRESULT equivalent.
    if (n >= 1601 && n <= 1654) extra.hresult = normalizeHresult(n)!;
    else {
      const h = extractSetupHresult(message);
      if (h) extra.hresult = h;
    }
    return rec('msi-error', extra);
  }
  if (/fail|error/i.test(message)) {
    const h = extractSetupHresult(message);
    if (h && parseInt(h.slice(2), 16) >= 0x80000000) return rec('error', { hresult: h });
  }
  return undefined;
}

/**
 * Stream a .NET/MSI setup log (dd_dotnet*.txt, *_MSP0.txt, .NET 4 HTML logs, verbose MSI logs)
 * and yield the failure evidence: errorlog events, 'Final Result' lines, the first failing MSI
 * action ('Return value 3' with the lines above it), custom-action and MSI errors, and signature
 * verification failures (0x800B010B, 0x800B010E, ...).
 */
export async function* parseSetupLog(chunks: ByteChunks, file: string, opts: SetupParseOptions = {}): AsyncGenerator<SetupLogRecord> {
  let html = opts.html ?? (/\.html?$/i.test(file) ? true : undefined);
  const keep = Math.max(0, opts.contextLines ?? 8);
  const state: { lastAction?: string; context: string[] } = { context: [] };
  for await (const b of readLineBatches(chunks, opts)) {
    const out: SetupLogRecord[] = [];
    for (let i = 0; i < b.lines.length; i++) {
      const raw = b.lines[i]!;
      const ln = b.first + i;
      if (html === undefined && /<html|<body|<table/i.test(raw)) html = true;
      const texts = html ? htmlToText(raw) : [raw];
      for (const text of texts) {
        const r = classifySetupLine(text, file, ln, state);
        if (r) out.push(r);
        const st = ACTION_START_RE.exec(text);
        if (st) state.lastAction = st[1];
        const trimmed = text.trim();
        if (keep > 0 && trimmed.length > 0) {
          state.context.push(trimmed.length > 2000 ? trimmed.slice(0, 2000) : trimmed);
          if (state.context.length > keep) state.context.shift();
        }
      }
    }
    if (state.context.length > 0) state.context = state.context.map(detach);
    if (state.lastAction) state.lastAction = detach(state.lastAction);
    yield* out;
  }
}
