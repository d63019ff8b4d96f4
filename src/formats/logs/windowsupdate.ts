// WindowsUpdate.log: the classic text format (through Windows 8.1; records, REPORT EVENT lines
// parsed) and the Windows 10+ one decoded by Get-WindowsUpdateLog, read as UpdateEvents (issue #16).
import type { AttemptKind, AttemptResult, LogReadStats, UpdateEvent } from '../../model/attempts.js';
import { detach, extractKb, hexField, parseLogTime } from './fields.js';
import { type ReportingEvent, eventText, guidField, parseReportEventText, reportEventToUpdateEvent, wuCodeResult } from './reporting-events.js';
import { type ByteChunks, type ParseOptions, readLineBatches } from './lines.js';

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
// UpdateEvents (issue #16)

export interface WuEventOptions extends ParseOptions {
  stats?: LogReadStats;
}

/** Get-WindowsUpdateLog output: "yyyy/mm/dd hh:mm:ss.fffffff PID TID Component Text". */
const DECODED_RE = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,7}) +(\d{1,10}) +(\d{1,10}) +(\S{1,64}) ?(.*)$/;
const G = '\\{?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\\}?(?:\\.(\\d{1,6}))?';
const LOGHISTORY_RE = new RegExp(
  `^LogHistory called(?: for Caller=([^,]{0,200}))?[.,] ?idUpdate=${G}(?:, ?operation = (\\w{1,20}))?, ?resultMapped=([0-9A-Fa-f]{1,8}), ?resultUnMapped=([0-9A-Fa-f]{1,8})\\b`,
);
const CMDLINE_RE = /^Command line install completed\. Return code = (0x[0-9A-Fa-f]{1,8})\b/;
const CMD_RESULT_RE = /\bResult = (\w{1,20})/;
const CMD_REBOOT_RE = /\bReboot required = (\w{1,8})/i;
const INSTALL_COMPLETE_RE = new RegExp(`^Install complete for update ID: ${G} Return code is (0x[0-9A-Fa-f]{1,8})\\.? ?Requires Reboot: ?(\\w{1,8})`);
const DEPLOY_RESULT_RE = new RegExp(
  `^Deployment job Id ${G} : NotifyClient \\([^)]{0,20}\\)\\([^)]{0,20}\\) called for update id ${G}, code = Update (success|failed)\\b`,
);
const SCAN_END_RE = /^\* END \* Finding updates CallerId = ([^,]{0,200}), Id = (\d{1,10}), Exit code = (0x[0-9A-Fa-f]{1,8})\b/;
const DO_RESULT_RE = new RegExp(`^DO job ${G} ([^,]{1,80}), updateId = ${G}, hr = (0x[0-9A-Fa-f]{1,8})\\b`);
const TITLE_RE = /^Title = (.{1,400})$/;
const UPDATEID_RE = new RegExp(`^UpdateId = ${G}\\s*$`);
const DESERIALIZED_RE = new RegExp(`^Deserialized installable update (.{1,400}), UpdateID = ${G}`);
/** The decoded lines worth a closer look start like this. */
const INTERESTING_RE =
  /^(?:LogHistory called|Command line install|Install complete for|Deployment job Id|\* END \* Finding|DO job|Title = |UpdateId = |Deserialized installable)/;
/** Classic format: a search's start, its "Exit code" line, its end (one thread). */
const CLASSIC_SCAN_START_RE = /^\*\* START \*\* {1,4}Agent: Finding updates \[CallerId = ([^\]]{0,200})\]/;
const CLASSIC_SCAN_END_RE = /^\*\* {1,4}END {1,4}\*\* {1,4}Agent: Finding updates/;
const CLASSIC_EXIT_RE = /^\s*\*?\s*(?:WARNING: )?Exit code = (0x[0-9A-Fa-f]{1,8})\s*$/;

/** Titles remembered per update id (bounded; the oldest is forgotten first). */
const MAX_TITLES = 4096;
/** Handler / Deployment lines waiting for the LogHistory line of their update. */
const MAX_PENDING = 64;
/** How long (log time) a Handler / Deployment line waits for its LogHistory line. */
const PENDING_MS = 10 * 60_000;
const MAX_THREADS = 256;

interface Pending {
  e: UpdateEvent;
  t: number;
  /** "Command line install completed" names no update: it takes the next LogHistory's. */
  anonymous: boolean;
}

function remember<K, V>(m: Map<K, V>, k: K, v: V, max: number): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > max) m.delete(m.keys().next().value as K);
}

function decodedTime(m: RegExpExecArray): Date | undefined {
  return parseLogTime(`${m[1]}-${m[2]}-${m[3]}`, `${m[4]}:${m[5]}:${m[6]}.${m[7]!.slice(0, 3)}`)?.time;
}

const isFailure = (code: string) => ((parseInt(code.slice(2), 16) >>> 0) & 0x80000000) !== 0;

/**
 * Stream a WindowsUpdate.log as UpdateEvents, detecting its format per line (stats.format is the
 * first one recognized): 'windowsupdate-decoded' (Windows 10+, Get-WindowsUpdateLog) or
 * 'windowsupdate-classic' (tab-separated, through Windows 8.1). Times are wall-clock
 * (timeIsLocal true) except REPORT EVENT records, which carry a UTC offset.
 *
 * Decoded: the LogHistory line is the result of an install (or uninstall) and decides it. Its
 * code is resultUnMapped when that is non-zero and differs from resultMapped (the real cause:
 * 0x800f0828 behind the generic 0x80070643, which goes into the message), else resultMapped.
 * Handler ("Command line install completed. Return code = ...", "Install complete for update
 * ID: ...") and Deployment ("NotifyClient ... code = Update failed") lines are evidence of the same
 * result: they wait (at most 10 minutes of log time) for their update's LogHistory line and then
 * take its result and update id, so the correlation merges them into one attempt; one that never
 * sees its LogHistory line is emitted with its own result (an anonymous command-line line only
 * when it failed). Searches ("* END * Finding updates ... Exit code = ...") are 'scan' events,
 * Delivery Optimization job failures ("DO job {..} 403'd, updateId = .., hr = 0x80190193")
 * 'download' events. WIL "*FAILED* [hr]" lines are never results.
 * Classic: REPORT EVENT lines (as ReportingEvents.log) and searches ("Exit code = 0x8024000B"
 * inside "Agent: Finding updates").
 */
// long: one streaming state machine over the line kinds of both formats; its parts share the state
export async function* windowsUpdateLogEvents(chunks: ByteChunks, file: string, opts: WuEventOptions = {}): AsyncGenerator<UpdateEvent> {
  const stats = opts.stats;
  const titles = new Map<string, { title: string; kb?: string }>();
  /** The last "Title = ..." line per process:thread (its "UpdateId = ..." line follows). */
  const lastTitle = new Map<string, string>();
  /** Recent LogHistory results per update id: a Deployment line written after it takes it too. */
  const decided = new Map<string, { result: AttemptResult; kind: AttemptKind; code: string; t: number }>();
  /** Classic: the open search per process:thread, with its caller. */
  const classicScans = new Map<string, string>();
  let pending: Pending[] = [];
  const out: UpdateEvent[] = [];

  const named = (e: UpdateEvent, id: string | undefined): UpdateEvent => {
    if (!id) return e;
    e.updateId = id;
    const t = titles.get(id);
    if (t) {
      e.title = t.title;
      if (t.kb) e.kb = t.kb;
    }
    return e;
  };
  const base = (line: number, time: Date | undefined, kind: AttemptKind, result: AttemptResult, message: string): UpdateEvent => {
    const e: UpdateEvent = { source: 'WindowsUpdate.log', file, line, timeIsLocal: true, kind, result, message: eventText(message) };
    if (time) e.time = time;
    return e;
  };
  /** Pending lines that waited too long (or all of them): emitted on their own. */
  const expire = (now: number, all: boolean) => {
    if (pending.length === 0) return;
    const keep: Pending[] = [];
    const emit = (p: Pending) => {
      if (!p.anonymous || p.e.result === 'failed') out.push(p.e);
    };
    for (const p of pending) {
      if (!all && now - p.t <= PENDING_MS && now >= p.t) keep.push(p);
      else emit(p);
    }
    while (keep.length > MAX_PENDING) emit(keep.shift()!);
    pending = keep;
  };
  const hold = (e: UpdateEvent, t: number, anonymous: boolean) => {
    const d = e.updateId ? decided.get(e.updateId) : undefined;
    if (d && t - d.t <= PENDING_MS && t >= d.t) {
      e.result = d.result;
      e.kind = d.kind;
      e.code ??= d.code;
      out.push(e);
      return;
    }
    pending.push({ e, t, anonymous });
  };

  // long: one branch per decoded line kind (LogHistory, Handler, Deployment, search, DO, titles)
  const decodedLine = (m: RegExpExecArray, lineNo: number) => {
    const body = m[11]!.trim();
    // Fast exit: only lines that start like one of the kinds below are looked at (most are not).
    if (!INTERESTING_RE.test(body)) return;
    const time = decodedTime(m);
    const t = time ? time.getTime() : NaN;
    const thread = `${m[8]}:${m[9]}`;
    if (!Number.isNaN(t)) expire(t, false);
    let x: RegExpExecArray | null;
    if (body.startsWith('LogHistory called')) {
      if (!(x = LOGHISTORY_RE.exec(body))) return;
      const id = guidField(x[2]);
      const mapped = hexField(x[5]!)!;
      const unmapped = hexField(x[6]!)!;
      // The unmapped code is the real cause when it is set and differs (0x800f0828 behind 0x80070643).
      const code = unmapped !== '0x00000000' && unmapped !== mapped ? unmapped : mapped;
      let result = wuCodeResult(mapped);
      if (result === 'succeeded' && code !== mapped) result = wuCodeResult(code);
      const kind: AttemptKind = /^uninstall/i.test(x[4] ?? '') ? 'uninstall' : 'install';
      const msg = code !== mapped ? `${body} (mapped ${mapped})` : body;
      const e = named(base(lineNo, time, kind, result, msg), id);
      e.code = code;
      if (x[1]) e.client = eventText(x[1], 100);
      if (result === 'reboot-pending') e.rebootRequired = true;
      // The Handler / Deployment lines of this update (and the nameless command-line one) take its result.
      const keep: Pending[] = [];
      let anonymousTaken = false;
      for (const p of pending) {
        const mine = id !== undefined && p.e.updateId === id;
        const anon = p.anonymous && !anonymousTaken && (p.e.code === '0x00000000' ? result !== 'failed' : p.e.code === code || p.e.code === mapped);
        if (!mine && !anon) {
          keep.push(p);
          continue;
        }
        if (anon) anonymousTaken = true;
        named(p.e, id);
        p.e.kind = kind;
        p.e.result = result;
        if (result === 'reboot-pending') p.e.rebootRequired = true;
        if (!p.e.code || p.e.code === '0x00000000') p.e.code = code;
        out.push(p.e);
      }
      pending = keep;
      out.push(e);
      if (id && !Number.isNaN(t)) remember(decided, id, { result, kind, code, t }, MAX_TITLES);
      return;
    }
    if (body.startsWith('Command line') && (x = CMDLINE_RE.exec(body))) {
      const code = hexField(x[1]!)!;
      const r = CMD_RESULT_RE.exec(body)?.[1]?.toLowerCase();
      const reboot = CMD_REBOOT_RE.exec(body)?.[1]?.toLowerCase() === 'true';
      let result: AttemptResult = r === 'failed' ? 'failed' : r === 'succeeded' ? 'succeeded' : wuCodeResult(code);
      if (result === 'succeeded' && reboot) result = 'reboot-pending';
      const e = base(lineNo, time, 'install', result, body);
      e.code = code;
      if (reboot) e.rebootRequired = true;
      hold(e, t, true);
      return;
    }
    if (body.startsWith('Install complete') && (x = INSTALL_COMPLETE_RE.exec(body))) {
      const code = hexField(x[3]!)!;
      const reboot = /^yes|^true/i.test(x[4]!);
      let result = wuCodeResult(code);
      if (result === 'succeeded' && reboot) result = 'reboot-pending';
      const e = named(base(lineNo, time, 'install', result, body), guidField(x[1]));
      e.code = code;
      if (reboot) e.rebootRequired = true;
      hold(e, t, false);
      return;
    }
    if (body.startsWith('Deployment job') && body.includes('code = Update ') && (x = DEPLOY_RESULT_RE.exec(body))) {
      const id = guidField(x[3]);
      if (!id) return;
      hold(named(base(lineNo, time, 'install', x[5] === 'failed' ? 'failed' : 'succeeded', body), id), t, false);
      return;
    }
    if (body.startsWith('* END * Finding') && (x = SCAN_END_RE.exec(body))) {
      const code = hexField(x[3]!)!;
      const e = base(lineNo, time, 'scan', wuCodeResult(code), body);
      e.code = code;
      e.client = eventText(x[1]!.trim(), 100);
      e.session = `${m[8]}:${x[2]}`;
      out.push(e);
      return;
    }
    if (body.startsWith('DO job') && (x = DO_RESULT_RE.exec(body))) {
      // Groups: job id (1, 2), what happened (3), update id (4, 5), hr (6).
      const code = hexField(x[6]!)!;
      if (!isFailure(code) || /success/i.test(x[3]!)) return;
      const e = named(base(lineNo, time, 'download', 'failed', body), guidField(x[4]));
      e.code = code;
      e.session = guidField(x[1]) ?? '';
      if (!e.session) delete e.session;
      out.push(e);
      return;
    }
    if (body.startsWith('Title = ') && (x = TITLE_RE.exec(body))) {
      remember(lastTitle, thread, x[1]!.trim(), MAX_THREADS);
      return;
    }
    if (body.startsWith('UpdateId = ') && (x = UPDATEID_RE.exec(body))) {
      const title = lastTitle.get(thread);
      const id = guidField(x[1]);
      if (title && id) {
        const kb = extractKb(title);
        remember(titles, id, kb ? { title: eventText(title, 300), kb } : { title: eventText(title, 300) }, MAX_TITLES);
      }
      lastTitle.delete(thread);
      return;
    }
    if (body.startsWith('Deserialized installable') && (x = DESERIALIZED_RE.exec(body))) {
      const id = guidField(x[2]);
      const title = x[1]!.trim();
      if (id && !titles.has(id)) {
        const kb = extractKb(title);
        remember(titles, id, kb ? { title: eventText(title, 300), kb } : { title: eventText(title, 300) }, MAX_TITLES);
      }
    }
  };

  const classicLine = (r: WindowsUpdateLogRecord) => {
    if (r.report) {
      const e = reportEventToUpdateEvent(r.report, 'WindowsUpdate.log', file);
      if (e) out.push(e);
      return;
    }
    if (r.component !== 'Agent') return;
    const thread = `${r.pid}:${r.tid}`;
    const text = r.text.trim();
    let x: RegExpExecArray | null;
    if ((x = CLASSIC_SCAN_START_RE.exec(text))) {
      remember(classicScans, thread, x[1]!.trim(), MAX_THREADS);
      return;
    }
    if (CLASSIC_SCAN_END_RE.test(text)) {
      classicScans.delete(thread);
      return;
    }
    const caller = classicScans.get(thread);
    if (caller !== undefined && (x = CLASSIC_EXIT_RE.exec(text))) {
      const code = hexField(x[1]!)!;
      const e = base(r.line, r.time, 'scan', wuCodeResult(code), text);
      e.code = code;
      if (caller) e.client = eventText(caller, 100);
      e.session = thread;
      out.push(e);
    }
  };

  for await (const b of readLineBatches(chunks, { maxLineLength: 64 * 1024, ...opts })) {
    if (stats) stats.lines += b.lines.length;
    for (let i = 0; i < b.lines.length; i++) {
      const text = b.lines[i]!;
      const lineNo = b.first + i;
      if (text.length < 20 || text.charCodeAt(0) < 48 || text.charCodeAt(0) > 57) continue;
      if (text.charCodeAt(4) === 0x2f /* / */) {
        const m = DECODED_RE.exec(text);
        if (!m) continue;
        if (stats) {
          stats.recognized++;
          stats.format ??= 'windowsupdate-decoded';
        }
        decodedLine(m, lineNo);
      } else {
        const r = parseWindowsUpdateLogLine(text, file, lineNo);
        if (!r) continue;
        if (stats) {
          stats.recognized++;
          stats.format ??= 'windowsupdate-classic';
        }
        classicLine(r);
      }
    }
    if (out.length > 0) {
      yield* out;
      out.length = 0;
    }
  }
  expire(0, true);
  yield* out;
}
