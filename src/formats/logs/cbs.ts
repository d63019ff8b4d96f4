// CBS.log records: servicing failures and package state changes with their HRESULTs.
import { detach, extractKb, hexField, parseLogTime } from './fields.js';
import { type ByteChunks, type ParseOptions, readLineBatches } from './lines.js';

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
  return (
    c0 >= 48 && c0 <= 57 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && s.charCodeAt(10) === 32 && s.charCodeAt(13) === 58 && s.charCodeAt(19) === 44
  );
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
