// CBS.log records: servicing failures and package state changes with their HRESULTs.
import type { AttemptResult, LogReadStats, LogSource, UpdateEvent } from '../../model/attempts.js';
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

// ---------------------------------------------------------------------------------------------
// CBS.log as sessions (issue #16): typed UpdateEvents, one per (session, update) that was really
// installed, uninstalled, added as a feature or failed its applicability check, plus one
// 'component-repair' event per SFC ([SR]) run and per DISM store check/repair. Error lines with a
// code are not events by themselves; CSI lines only feed the SFC run.

/** Open sessions kept at once (Windows 7 writes thousands of applicability sessions it never finalizes). */
const MAX_OPEN_SESSIONS = 64;
/** Updates (packages, KBs, capabilities) one session keeps. */
const MAX_SESSION_ITEMS = 300;
const MAX_SESSION_KBS = 32;
/** Unrepaired file / component names one repair run keeps. */
const MAX_UNREPAIRED = 64;
const MAX_MESSAGE = 500;
/** An SFC run whose [SR] lines stop for this long has ended (a later [SR] line starts a new run). */
const SFC_GAP_MS = 30 * 60_000;
/** Codes written by probes and lookups, never by a failed attempt. */
const PROBE_CODES = new Set(['0x800f0805', '0x800f080d', '0x80070002', '0x80070490']);

export interface CbsEventOptions extends ParseOptions {
  stats?: LogReadStats;
  source?: 'CBS.log' | 'CbsPersist';
}

type ItemKind = 'install' | 'uninstall' | 'feature' | 'applicability';

interface Item {
  kind: ItemKind;
  package?: string;
  kb?: string;
  /** Set by the line that decided it; else the session's result decides. */
  result?: AttemptResult;
  code?: string;
  rebootRequired?: boolean;
  phase?: string;
  line: number;
  time: string;
  message: string;
}

interface Repair {
  op: 'repair' | 'scan';
  line: number;
  time: string;
  message: string;
  code?: string;
  corruptionFound: boolean;
  unrepaired: string[];
  /** The last "(p) ..." item, until "Repair failed" / "(Fixed)" tells what happened to it. */
  lastItem?: string;
}

interface Session {
  id: string;
  client?: string;
  line: number;
  time: string;
  items: Map<string, Item>;
  kbs: string[];
  /** The first WER / Exec package of the session (names a failure that has no item). */
  package?: string;
  failCode?: string;
  failMessage?: string;
  failLine?: number;
  /** "Failed to perform operation" / "Failed to process single phase execution": the session's operation failed. */
  opFailed?: boolean;
  repair?: Repair;
  startup?: boolean;
}

interface SfcRun {
  line: number;
  time: string;
  lastMs: number;
  lastLine: number;
  lastTime: string;
  repairing?: number;
  unrepaired: string[];
  repaired: number;
  pending: boolean;
  completed: boolean;
  message: string;
}

const SESSION_INIT_RE = /^Session: (\S+) initialized by client (.+?)\.?(?:, external staging|$)/;
const SESSION_FINAL_RE = /^Session: (\S+) finalized\..*?Reboot required: (yes|no)/i;
const SESSION_REPAIR_FAIL_RE = /^Session: (\S+) failed to perform store corruption detect and repair/;
const EXEC_START_RE = /^Exec: Processing started\.\s+(?:Client: ([^,]+), )?Session: ([^,\s]+), Package: ([^\s,[]+)/;
const EXEC_DONE_RE = /^Exec: Processing complete\.\s+Session: ([^,\s]+), Package: ([^\s,[]+)/;
const EXEC_REPAIR_RE = /^Exec: Processing complete, session\(Corruption (?:Repairing|Detecting)\): (\S+)/;
const EXEC_OP_RE = /^Exec: (Installing|Uninstalling) Package: ([^\s,]+)/;
const PLAN_RE = /^Plan: Package: ([^\s,]+), .*?current: (\w+),.*?targeted: (\w+)/;
const REPORT_RE = /^Reporting package change(?: completion)? for package: ([^\s,]+), current: ([^,]+),.*? target: (\w+),.*?status: (0x[0-9a-f]+)/i;
const WER_RE =
  /^WER: Generating failure report for package: ?([^\s,]+), status: (0x[0-9a-f]+), failure source: ([^,]+),.*?target state: (\w+)(?:, client id: (.+))?/i;
const STARTUP_PKG_RE = /^Startup: Package: ([^\s,]+) completed startup processing, new state: (\w+), original: (\w+), targeted: (\w+)\.\s*hr = (0x[0-9a-f]+)/i;
const APPL_FAIL_RE = /(?:applicab|partially installed|detect)/i;
const PKG_IN_RE = /package:?\s+'?([A-Za-z0-9][\w.-]*~[\w.~-]*)/i;
const CAPABILITY_RE = /\b([A-Za-z][\w.-]*~~~[A-Za-z-]*~\d+\.\d+\.\d+\.\d+)/;
const CAP_ACTION_RE = /install|add|remov|enabl|fail|exec/i;
const HR_RE = /(?:HRESULT\s*=\s*|\bhr:?\s*=?\s*|\bstatus:\s*|Operation result:\s*)(0x[0-9a-f]{1,8})\b/i;
const ROLLUP_RE = /^Package_for_(?:RollupFix|ServicingStack|DotNetRollup|OasisAsset)/i;
const FOD_CLIENT_RE = /fod|featuresondemand|capabilit/i;
const SR_FILE_RE = /\[SR\] Cannot repair member file \[[^\]]*\]"([^"]{1,260})"/;
const SR_REPAIRING_RE = /\[SR\] Repairing (\d+) components/;
const CHECKSUR_ITEM_RE = /^\(p\)\s+(CSI [\w ]+?|CBS [\w ]+?)\s+(?:\((?:n|w|f)\)\s+)?(\(Fixed\)\s+)?(\S+)\s*$/;

/** ASCII-safe (anything else becomes '?'), one line, at most MAX_MESSAGE characters, detached. */
function oneLine(s: string): string {
  const t = s.replace(/[\r\n\t]+/g, ' ').trim();
  return ascii(t.length > MAX_MESSAGE ? t.slice(0, MAX_MESSAGE) : t);
}

/** A name taken from the log (package, file, session id): ASCII-safe, at most `max` characters, detached. */
function ascii(s: string, max = MAX_MESSAGE): string {
  const t = s.length > max ? s.slice(0, max) : s;
  return /^[\x20-\x7e]*$/.test(t) ? detach(t) : t.replace(/[^\x20-\x7e]/g, '?');
}

function codeOf(msg: string): string | undefined {
  const m = HR_RE.exec(msg);
  return m ? hexField(m[1]!) : undefined;
}

function isRebootCode(code: string | undefined): boolean {
  return code === '0x80070bc9' || code === '0x800f0821' || code === '0x00000bc9';
}

function cbsTime(ts: string): Date | undefined {
  return parseLogTime(ts.slice(0, 10), ts.slice(11, 19))?.time;
}

function stateKind(target: string, current?: string): ItemKind | undefined {
  const t = target.toLowerCase();
  if (t === 'absent' || t === 'uninstallpending') return current && current.toLowerCase() === 'absent' ? undefined : 'uninstall';
  if (t === 'installed' || t === 'staged' || t === 'installpending') return current && current.toLowerCase() === t ? undefined : 'install';
  return undefined;
}

/**
 * Stream CBS.log (or a CbsPersist_*.log, same format) and yield UpdateEvents: CBS sessions with
 * their packages and capabilities, startup processing, SFC runs and DISM store repairs.
 * Memory: at most MAX_OPEN_SESSIONS open sessions of MAX_SESSION_ITEMS items each.
 */
// long: one streaming state machine over the line kinds of CBS.log; its parts share the state
export async function* cbsEvents(chunks: ByteChunks, file: string, opts: CbsEventOptions = {}): AsyncGenerator<UpdateEvent> {
  const stats = opts.stats;
  const source: LogSource = opts.source ?? 'CBS.log';
  const sessions = new Map<string, Session>();
  let current: Session | undefined;
  let startup: Session | undefined;
  let sfc: SfcRun | undefined;
  /** A repair whose CheckSUR block (continuation lines) is being read. */
  let checkSur: Repair | undefined;
  let out: UpdateEvent[] = [];

  const base = (line: number, ts: string, message: string): UpdateEvent => {
    const e: UpdateEvent = { source, file, line, timeIsLocal: true, kind: 'install', result: 'unknown', message };
    const t = cbsTime(ts);
    if (t) e.time = t;
    return e;
  };

  const flushSession = (s: Session, final?: { code?: string; reboot: boolean; line: number; ts: string; message: string }): void => {
    sessions.delete(s.id);
    if (current === s) current = undefined;
    if (startup === s) startup = undefined;
    const sessionCode = final?.code && final.code !== '0x00000000' && !PROBE_CODES.has(final.code) ? final.code : undefined;
    // A finalized session says how it ended; without a finalize line only a failed operation counts.
    const failed = final ? sessionCode : s.opFailed ? s.failCode : undefined;
    const onlyKb = s.kbs.length === 1 ? s.kbs[0] : undefined;
    const feature = s.client !== undefined && FOD_CLIENT_RE.test(s.client);
    let emitted = 0;
    for (const it of s.items.values()) {
      let result = it.result;
      let code = it.code;
      let reboot = it.rebootRequired;
      if (result === undefined) {
        if (it.kind === 'applicability') continue;
        if (failed) {
          result = isRebootCode(failed) ? 'reboot-pending' : 'failed';
          code = failed;
        } else if (final) {
          result = final.reboot ? 'reboot-pending' : 'succeeded';
          code = final.code;
          if (final.reboot) reboot = true;
        } else result = 'in-progress';
      } else if (result === 'succeeded' && final?.reboot) {
        result = 'reboot-pending';
        reboot = true;
      }
      const e = base(
        final && it.result === undefined ? final.line : it.line,
        final && it.result === undefined ? final.ts : it.time,
        final && it.result === undefined ? final.message : it.message,
      );
      e.kind = feature && it.kind !== 'applicability' ? 'feature' : it.kind;
      e.result = result;
      e.session = s.id;
      if (s.client) e.client = s.client;
      if (it.package) e.package = it.package;
      // A KB named only elsewhere in the session (an Info line) belongs to the update when the
      // package name carries none: a rollup / servicing stack package, or the session's only update.
      const kb = it.kb ?? (it.package === undefined || ROLLUP_RE.test(it.package) || s.items.size === 1 ? onlyKb : undefined);
      if (kb) e.kb = kb;
      if (code) e.code = code;
      if (it.phase) e.phase = it.phase;
      if (reboot) e.rebootRequired = true;
      out.push(e);
      emitted++;
    }
    if (s.repair) {
      const r = s.repair;
      const code = r.code ?? failed ?? final?.code;
      const e = base(final?.line ?? r.line, final?.ts ?? r.time, final?.message ?? r.message);
      e.kind = 'component-repair';
      e.client = s.client ?? 'DISM';
      e.session = s.id;
      e.corruptionFound = r.corruptionFound;
      if (r.unrepaired.length) e.unrepaired = r.unrepaired;
      if (code && code !== '0x00000000') e.code = code;
      const bad = code !== undefined && code !== '0x00000000';
      if (isRebootCode(code)) {
        e.result = 'reboot-pending';
        e.rebootRequired = true;
      } else if (bad || (r.op === 'repair' && r.unrepaired.length > 0)) e.result = 'failed';
      else e.result = final || r.code !== undefined ? 'succeeded' : 'in-progress';
      if (final?.reboot) e.rebootRequired = true;
      out.push(e);
      emitted++;
    }
    // A session that failed with nothing named: one event for it, with its KB / package if any line had one.
    if (emitted === 0 && failed) {
      const e = base(final?.line ?? s.failLine ?? s.line, final?.ts ?? s.time, final?.message ?? s.failMessage ?? '');
      e.kind = feature ? 'feature' : 'install';
      e.result = isRebootCode(failed) ? 'reboot-pending' : 'failed';
      e.code = failed;
      e.session = s.id;
      if (s.client) e.client = s.client;
      if (s.package) e.package = s.package;
      const kb = (s.package && extractKb(s.package)) ?? onlyKb;
      if (kb) e.kb = kb;
      if (s.startup) e.phase = 'Startup';
      out.push(e);
    }
  };

  const open = (id: string, line: number, ts: string, client?: string): Session => {
    const key = ascii(id, 100);
    let s = sessions.get(key);
    if (!s) {
      if (sessions.size >= MAX_OPEN_SESSIONS) {
        const oldest = sessions.values().next().value as Session;
        flushSession(oldest);
      }
      s = { id: key, line, time: detach(ts), items: new Map(), kbs: [] };
      sessions.set(s.id, s);
    }
    if (client && !s.client) s.client = oneLine(client);
    return s;
  };

  const item = (s: Session, kind: ItemKind, pkg: string | undefined, line: number, ts: string, msg: string, kbIn?: string): Item | undefined => {
    const kb = kbIn ?? (pkg ? extractKb(pkg) : undefined);
    const key = `${kind === 'applicability' ? 'a' : 'i'}|${kb ?? pkg ?? ''}`;
    let it = s.items.get(key);
    if (!it) {
      if (s.items.size >= MAX_SESSION_ITEMS) return undefined;
      it = { kind, line, time: detach(ts), message: oneLine(msg) };
      if (pkg) it.package = ascii(pkg, 260);
      if (kb) it.kb = kb;
      s.items.set(key, it);
    } else {
      if (kind === 'uninstall' && it.kind === 'install' && it.result === undefined) it.kind = 'uninstall';
      // Prefer the top-level name: Package_for_KB... over Package_3_for_KB...
      if (pkg && it.package && /^Package_\d+_for_/.test(it.package) && !/^Package_\d+_for_/.test(pkg)) it.package = ascii(pkg, 260);
    }
    if (pkg && !s.package) s.package = it.package;
    return it;
  };

  const decide = (it: Item | undefined, result: AttemptResult, code: string | undefined, line: number, ts: string, msg: string): void => {
    if (!it) return;
    // A failure is never overwritten by a later success line of the same update in the session.
    if (it.result === 'failed' && result !== 'failed') return;
    it.result = result;
    if (code) it.code = code;
    it.line = line;
    it.time = detach(ts);
    it.message = oneLine(msg);
  };

  const addKb = (s: Session | undefined, text: string): void => {
    if (!s || s.kbs.length >= MAX_SESSION_KBS || (text.indexOf('KB') < 0 && text.indexOf('kb') < 0)) return;
    const kb = extractKb(text);
    if (kb && !s.kbs.includes(kb)) s.kbs.push(kb);
  };

  const closeSfc = (): void => {
    const r = sfc;
    sfc = undefined;
    if (!r || (r.repairing === undefined && r.unrepaired.length === 0 && !r.pending && r.repaired === 0)) return;
    const e = base(r.line, r.time, r.message);
    e.kind = 'component-repair';
    e.client = 'SFC';
    e.phase = 'Verify and Repair';
    e.corruptionFound = r.unrepaired.length > 0 || r.repaired > 0 || (r.repairing ?? 0) > 0;
    if (r.unrepaired.length > 0) {
      e.result = 'failed';
      e.unrepaired = r.unrepaired;
    } else if (r.pending) {
      e.result = 'reboot-pending';
      e.rebootRequired = true;
      e.code = '0x80070bc9';
    } else e.result = r.completed || r.repairing !== undefined ? 'succeeded' : 'in-progress';
    if (r.pending) e.rebootRequired = true;
    const t = cbsTime(r.lastTime);
    if (t && e.time && t.getTime() !== e.time.getTime()) e.message = oneLine(`${r.message} (run ended ${r.lastTime.slice(0, 19)}, line ${r.lastLine})`);
    out.push(e);
  };

  const onSr = (msg: string, line: number, ts: string): void => {
    const t = cbsTime(ts)?.getTime() ?? 0;
    if (sfc && (sfc.completed || t - sfc.lastMs > SFC_GAP_MS)) closeSfc();
    if (!sfc) {
      if (!/\[SR\] (Verifying|Beginning|Repairing|Cannot|Could not)/.test(msg)) return;
      sfc = {
        line,
        time: detach(ts),
        lastMs: t,
        lastLine: line,
        lastTime: detach(ts),
        unrepaired: [],
        repaired: 0,
        pending: false,
        completed: false,
        message: oneLine(msg),
      };
    }
    sfc.lastMs = t;
    sfc.lastLine = line;
    sfc.lastTime = detach(ts);
    const rep = SR_REPAIRING_RE.exec(msg);
    if (rep) {
      sfc.repairing = Number(rep[1]);
      return;
    }
    const f = SR_FILE_RE.exec(msg);
    if (f) {
      const name = ascii(f[1]!, 260);
      if (!sfc.unrepaired.includes(name) && sfc.unrepaired.length < MAX_UNREPAIRED) sfc.unrepaired.push(name);
      return;
    }
    if (/\[SR\] Repairing (?:corrupted )?file|\[SR\] Repaired file/.test(msg)) sfc.repaired++;
    else if (/pending repair|reboot required|0x80070bc9|ERROR_FAIL_REBOOT_REQUIRED/i.test(msg)) sfc.pending = true;
    else if (/\[SR\] Verify and Repair Transaction completed/.test(msg) && sfc.repairing !== undefined) sfc.completed = true;
  };

  const onCheckSur = (text: string): void => {
    const r = checkSur!;
    const t = text.trim();
    if (t.length === 0) return;
    const p = CHECKSUR_ITEM_RE.exec(t);
    if (p) {
      r.corruptionFound = true;
      r.lastItem = undefined;
      if (!p[2]) r.lastItem = ascii(p[3]!, 260);
      if (r.lastItem && (r.op === 'scan' || !/Fixed/.test(t)) && r.unrepaired.length < MAX_UNREPAIRED && !r.unrepaired.includes(r.lastItem))
        r.unrepaired.push(r.lastItem);
      return;
    }
    if (/^Repair failed/i.test(t)) return; // lastItem is already in unrepaired
    let m = /^Operation:\s*(.+)$/.exec(t);
    if (m) {
      r.op = /repair/i.test(m[1]!) ? 'repair' : 'scan';
      if (r.op === 'scan') return;
      // a repair: items without "(Fixed)" stay unrepaired (already listed)
      return;
    }
    m = /^Operation result:\s*(0x[0-9a-f]+)/i.exec(t);
    if (m) {
      r.code = hexField(m[1]!);
      return;
    }
    m = /^Total Detected Corruption:\s*(\d+)/i.exec(t);
    if (m && Number(m[1]) > 0) r.corruptionFound = true;
    m = /^Total Repaired Corruption:\s*(\d+)/i.exec(t);
    if (m && r.op === 'repair' && !r.corruptionFound) r.unrepaired.length = 0;
  };

  // One timestamped CBS/CSI line.
  // long: the dispatch over the CBS line kinds (sessions, Exec, Plan, WER, Startup, SR, errors)
  const onLine = (text: string, line: number): void => {
    const ts = text.slice(0, 20);
    let p = 21;
    while (p < text.length && text.charCodeAt(p) === 32) p++;
    const levelStart = p;
    while (p < text.length && text.charCodeAt(p) !== 32) p++;
    const level = text.slice(levelStart, p);
    while (p < text.length && text.charCodeAt(p) === 32) p++;
    const compStart = p;
    while (p < text.length && text.charCodeAt(p) !== 32) p++;
    const comp = text.slice(compStart, p);
    while (p < text.length && text.charCodeAt(p) === 32) p++;
    const msg = text.slice(p);
    if (stats) {
      stats.recognized++;
      stats.format ??= 'cbs';
    }
    checkSur = undefined;
    if (comp === 'CSI') {
      // "0000000e [SR] ..." : only the SFC run reads CSI lines.
      const sr = msg.indexOf('[SR]');
      if (sr >= 0 && sr < 24) onSr(msg.slice(sr), line, ts);
      return;
    }
    if (comp !== 'CBS') return;
    // SFC's repair left for the next boot: CBS says so with ERROR_FAIL_REBOOT_REQUIRED during the run.
    if (sfc && !sfc.completed && msg.indexOf('0x80070bc9') >= 0) sfc.pending = true;
    if (msg.startsWith('Session: ')) {
      let m = SESSION_INIT_RE.exec(msg);
      if (m) {
        current = open(m[1]!, line, ts, m[2]);
        return;
      }
      m = SESSION_FINAL_RE.exec(msg);
      if (m) {
        const s = open(m[1]!, line, ts);
        flushSession(s, { code: extractCbsHresult(msg), reboot: m[2]!.toLowerCase() === 'yes', line, ts, message: oneLine(msg) });
        return;
      }
      m = SESSION_REPAIR_FAIL_RE.exec(msg);
      if (m) {
        const s = open(m[1]!, line, ts);
        s.repair ??= { op: 'repair', line, time: detach(ts), message: oneLine(msg), corruptionFound: false, unrepaired: [] };
        s.repair.code ??= codeOf(msg);
        return;
      }
    }
    if (msg.startsWith('Startup: ') || msg.startsWith('Startup processing')) {
      const m = STARTUP_PKG_RE.exec(msg);
      startup ??= { id: `startup@${ts.slice(0, 19)}`, client: 'TrustedInstaller', line, time: detach(ts), items: new Map(), kbs: [], startup: true };
      const s = startup;
      if (m) {
        const kind = stateKind(m[4]!, m[3]);
        const hr = hexField(m[5]!);
        const bad = hr !== undefined && hr !== '0x00000000';
        if (!kind && !bad) return;
        const it = item(s, kind ?? 'install', m[1], line, ts, msg);
        if (it) it.phase = 'Startup';
        const ok = m[2]!.toLowerCase() === m[4]!.toLowerCase();
        decide(it, bad ? 'failed' : ok ? 'succeeded' : 'unknown', hr, line, ts, msg);
        return;
      }
      if (/^Startup processing completed|^Startup: Processing complete/.test(msg)) {
        const code = extractCbsHresult(msg);
        flushSession(s, { code, reboot: false, line, ts, message: oneLine(msg) });
        return;
      }
      if (level === 'Error') {
        const code = codeOf(msg);
        if (code && !PROBE_CODES.has(code)) {
          s.failCode ??= code;
          s.opFailed = true;
          s.failMessage ??= oneLine(msg);
          s.failLine ??= line;
        }
      }
      return;
    }
    // Startup processing and client sessions can overlap: the one that began last owns the line.
    const s = startup && (!current || startup.line > current.line) ? startup : current;
    addKb(s, msg);
    if (msg.startsWith('Exec: ')) {
      let m = EXEC_START_RE.exec(msg);
      if (m) {
        const ss = open(m[2]!, line, ts, m[1]);
        item(ss, 'install', m[3], line, ts, msg);
        return;
      }
      m = EXEC_DONE_RE.exec(msg);
      if (m) {
        const ss = open(m[1]!, line, ts);
        const code = codeOf(msg);
        const it = item(ss, 'install', m[2], line, ts, msg);
        if (code && code !== '0x00000000') decide(it, isRebootCode(code) ? 'reboot-pending' : 'failed', code, line, ts, msg);
        return;
      }
      m = EXEC_REPAIR_RE.exec(msg);
      if (m) {
        const ss = open(m[1]!, line, ts);
        ss.repair ??= { op: /Repairing/.test(msg) ? 'repair' : 'scan', line, time: detach(ts), message: oneLine(msg), corruptionFound: false, unrepaired: [] };
        const code = codeOf(msg);
        if (code) ss.repair.code ??= code;
        return;
      }
      m = EXEC_OP_RE.exec(msg);
      if (m && s) item(s, m[1] === 'Uninstalling' ? 'uninstall' : 'install', m[2], line, ts, msg);
      return;
    }
    if (!s) return;
    if (msg.startsWith('Plan: ')) {
      const m = PLAN_RE.exec(msg);
      const kind = m ? stateKind(m[3]!, m[2]) : undefined;
      if (m && kind) item(s, kind, m[1], line, ts, msg);
      return;
    }
    if (msg.startsWith('Reporting package change')) {
      const m = REPORT_RE.exec(msg);
      if (!m) return;
      const kind = stateKind(m[3]!) ?? 'install';
      const code = hexField(m[4]!);
      const cur = m[2]!.trim();
      const reboot = /reboot required: True/i.test(msg) || /Pending$/i.test(cur);
      const it = item(s, kind, m[1], line, ts, msg);
      if (code && code !== '0x00000000') decide(it, isRebootCode(code) ? 'reboot-pending' : 'failed', code, line, ts, msg);
      else if (cur.toLowerCase() === m[3]!.toLowerCase()) decide(it, reboot ? 'reboot-pending' : 'succeeded', code, line, ts, msg);
      else if (reboot) decide(it, 'reboot-pending', code, line, ts, msg);
      if (it && reboot) it.rebootRequired = true;
      return;
    }
    if (msg.startsWith('WER: Generating failure report')) {
      const m = WER_RE.exec(msg);
      if (!m) return;
      const code = hexField(m[2]!);
      const src = m[3]!.trim();
      const kind: ItemKind = /applicab|detect/i.test(src) ? 'applicability' : (stateKind(m[4]!) ?? 'install');
      if (m[5] && !s.client) s.client = oneLine(m[5]);
      const it = item(s, kind, m[1], line, ts, msg);
      if (it) it.phase = oneLine(src);
      decide(it, isRebootCode(code) ? 'reboot-pending' : 'failed', code, line, ts, msg);
      return;
    }
    if (level === 'Error' || msg.startsWith('Failed to perform operation')) {
      const code = codeOf(msg);
      if (!code || code === '0x00000000' || PROBE_CODES.has(code) || msg.startsWith('SQM:')) {
        // ERROR_NOT_FOUND is a probe code, except on the applicability errors below.
        if (!(code === '0x80070490' && APPL_FAIL_RE.test(msg))) return;
      }
      if (APPL_FAIL_RE.test(msg)) {
        const pm = PKG_IN_RE.exec(msg);
        if (pm) {
          const it = item(s, 'applicability', pm[1], line, ts, msg);
          decide(it, 'failed', code, line, ts, msg);
          return;
        }
      }
      const cap = CAPABILITY_RE.exec(msg);
      if (cap) {
        decide(item(s, 'feature', cap[1], line, ts, msg, undefined), isRebootCode(code) ? 'reboot-pending' : 'failed', code, line, ts, msg);
        return;
      }
      if (s.failCode === undefined) {
        s.failCode = code;
        s.failMessage = oneLine(msg);
        s.failLine = line;
      }
      if (/^Failed to (?:perform operation|process single phase execution)/.test(msg)) s.opFailed = true;
      return;
    }
    const cap = CAPABILITY_RE.exec(msg);
    if (cap && CAP_ACTION_RE.test(msg)) {
      const it = item(s, 'feature', cap[1], line, ts, msg);
      const code = codeOf(msg);
      if (it && code && code !== '0x00000000' && !PROBE_CODES.has(code) && /fail/i.test(msg)) decide(it, 'failed', code, line, ts, msg);
    }
  };

  // Continuation lines: the CheckSUR report of a DISM store check/repair; KBs for the session.
  const onContinuation = (text: string): void => {
    if (checkSur) {
      onCheckSur(text);
      return;
    }
    if (text.indexOf('Checking System Update Readiness') >= 0) {
      const s = current ?? startup;
      const sid = s ?? open(`checksur@${lastTs.slice(0, 19)}`, lastLine, lastTs, 'DISM');
      sid.repair ??= { op: 'scan', line: lastLine, time: detach(lastTs), message: 'Checking System Update Readiness.', corruptionFound: false, unrepaired: [] };
      checkSur = sid.repair;
      return;
    }
    addKb(current, text);
  };

  let pendingHead: string | undefined;
  let pendingLine = 0;
  let lastTs = '';
  let lastLine = 0;
  for await (const b of readLineBatches(chunks, opts)) {
    for (let i = 0; i < b.lines.length; i++) {
      const text = b.lines[i]!;
      const ln = b.first + i;
      if (stats) stats.lines++;
      if (isCbsTimestamped(text)) {
        if (pendingHead !== undefined) onLine(pendingHead, pendingLine);
        pendingHead = undefined;
        lastTs = text.slice(0, 20);
        lastLine = ln;
        // "[HRESULT =" wrapped onto the next line: join the two.
        if (/\[HRESULT\s*=\s*$/.test(text)) {
          pendingHead = detach(text);
          pendingLine = ln;
        } else onLine(text, ln);
      } else if (pendingHead !== undefined) {
        onLine(pendingHead + ' ' + text.trim(), pendingLine);
        pendingHead = undefined;
      } else if (lastLine > 0 && text.length > 0) onContinuation(text);
    }
    if (lastTs) lastTs = detach(lastTs);
    if (out.length) {
      const o = out;
      out = [];
      yield* o;
    }
  }
  if (pendingHead !== undefined) onLine(pendingHead, pendingLine);
  closeSfc();
  for (const s of [...sessions.values()]) flushSession(s);
  if (startup) flushSession(startup);
  yield* out;
}
