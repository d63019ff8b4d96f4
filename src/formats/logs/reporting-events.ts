// ReportingEvents.log records (and the REPORT EVENT lines of WindowsUpdate.log), and the typed
// UpdateEvents they stand for (issue #16): detection -> 'scan', download, install, uninstall.
import type { AttemptKind, AttemptResult, LogReadStats, LogSource, UpdateEvent } from '../../model/attempts.js';
import { detach, extractKb, hexField, parseLogTime } from './fields.js';
import { type ByteChunks, type ParseOptions, readLineBatches } from './lines.js';

export interface ReportingEvent {
  file: string;
  line: number;
  /** {EventInstanceGUID} */
  instanceId: string;
  time: Date;
  /** The time had no UTC offset (wall-clock time held as if UTC). */
  local?: boolean;
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
    ...(t.local ? { local: true } : {}),
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

const KNOWN_CATEGORIES = ['Content Download', 'Content Install', 'Content Uninstall', 'Software Synchronization', 'Pre-Deployment Check', 'Software Update'];
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
// UpdateEvents (issue #16)

/** Longest event message (model/attempts.ts: one line, at most 500 characters). */
export const MAX_EVENT_MESSAGE = 500;

/** One line, trimmed, ASCII-safe (anything else becomes '?'), at most `max` characters, detached. */
export function eventText(s: string, max = MAX_EVENT_MESSAGE): string {
  let t = s.length > max * 4 ? s.slice(0, max * 4) : s;
  t = t.replace(/[\r\n\t]+/g, ' ').trim();
  if (t.length > max) t = t.slice(0, max);
  return /^[\x20-\x7e]*$/.test(t) ? detach(t) : t.replace(/[^\x20-\x7e]/g, '?');
}

/** Lower-case GUID without braces, or undefined (the all-zero GUID is no update id). */
export function guidField(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const m = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i.exec(s.trim());
  if (!m) return undefined;
  const g = m[1]!.toLowerCase();
  return g === '00000000-0000-0000-0000-000000000000' ? undefined : g;
}

/**
 * What a Windows Update result code says about the attempt: 0x80242014
 * WU_E_UH_POSTREBOOTSTILLPENDING -> 'reboot-pending' (the install finished, the next boot completes
 * it); 0x80240017 WU_E_NOT_APPLICABLE -> 'not-applicable'; 0x8024000B WU_E_CALL_CANCELLED and
 * 0x800704C7 ERROR_CANCELLED -> 'cancelled'; any code with the severity bit clear (0, 0x00240006
 * WU_S_..., 0x00240010) -> 'succeeded'; anything else -> 'failed'.
 */
export function wuCodeResult(code: string): AttemptResult {
  switch (code) {
    case '0x80242014':
      return 'reboot-pending';
    case '0x80240017':
      return 'not-applicable';
    case '0x8024000b':
    case '0x800704c7':
      return 'cancelled';
  }
  return (parseInt(code.slice(2), 16) >>> 0) & 0x80000000 ? 'failed' : 'succeeded';
}

/** "... the following update: <title>", "... the following update with error 0x80070643: <title>." */
const TITLE_IN_MESSAGE_RE = /following updates?(?: with error (?:0x)?[0-9a-f]{1,8})?:\s*(.+?)\.?$/i;

/** What a record is about: kind and whether it is a start, by event name (Windows 8+) or number. */
function reportKind(r: ReportingEvent): { kind: AttemptKind; phase: 'start' | 'end' | 'cancel' | 'queued' } | undefined {
  const name = (r.eventName ?? '').toUpperCase();
  if (name && name !== '(NULL)') {
    const m = /^AGENT_(DETECTION|DOWNLOAD|INSTALLING|UNINSTALLING)_([A-Z_]+)$/.exec(name);
    if (!m) return undefined;
    const kind: AttemptKind = m[1] === 'DETECTION' ? 'scan' : m[1] === 'DOWNLOAD' ? 'download' : m[1] === 'INSTALLING' ? 'install' : 'uninstall';
    const what = m[2]!;
    if (what === 'STARTED') return { kind, phase: 'start' };
    if (what === 'CANCELED' || what === 'CANCELLED') return { kind, phase: 'cancel' };
    if (what === 'FINISHED' || what === 'SUCCEEDED' || what === 'FAILED' || what === 'COMPLETED') return { kind, phase: 'end' };
    return undefined;
  }
  if (/uninstall/i.test(r.category)) return { kind: 'uninstall', phase: 'end' };
  switch (r.eventId) {
    case 147:
    case 148:
      return { kind: 'scan', phase: 'end' };
    case 161:
    case 162:
      return { kind: 'download', phase: 'end' };
    case 163:
      return { kind: 'download', phase: 'cancel' };
    case 167:
      return { kind: 'download', phase: 'start' };
    case 181:
      return { kind: 'install', phase: 'start' };
    case 182:
    case 183:
      return { kind: 'install', phase: 'end' };
  }
  return undefined;
}

/**
 * The UpdateEvent a ReportingEvents record stands for, or undefined (status reports, "Download
 * queued" and other records that say nothing about an attempt's start or result). A record marked
 * Success is a success whatever its code, except a cancel (163 DOWNLOAD_CANCELED with 8024000b) and
 * "Restart Required" records (reboot-pending); a Failure takes its result from the code
 * (wuCodeResult: 80242014 is reboot-pending, 8024000b cancelled, ...).
 */
export function reportEventToUpdateEvent(r: ReportingEvent, source: LogSource, file: string): UpdateEvent | undefined {
  const k = reportKind(r);
  if (!k) return undefined;
  let result: AttemptResult;
  if (k.phase === 'start') result = 'in-progress';
  else if (k.phase === 'cancel') result = 'cancelled';
  else if (r.status === 'Failure') {
    result = wuCodeResult(r.hresult);
    if (result === 'succeeded') result = 'failed';
  } else result = /restart required|must be restarted/i.test(r.message) || r.hresult === '0x80242014' ? 'reboot-pending' : 'succeeded';
  const e: UpdateEvent = {
    source,
    file,
    line: r.line,
    time: r.time,
    timeIsLocal: r.local === true,
    kind: k.kind,
    result,
    code: r.hresult,
    message: eventText(`${r.eventId}${r.eventName ? ` [${r.eventName}]` : ''} ${r.status} ${r.hresult}: ${r.message}`),
  };
  if (r.client) e.client = eventText(r.client, 100);
  // Detection records carry the service id in the update id field: a scan names no update.
  if (k.kind !== 'scan') {
    const id = guidField(r.updateId);
    if (id) e.updateId = id;
    const t = TITLE_IN_MESSAGE_RE.exec(r.message);
    if (t) e.title = eventText(t[1]!, 300);
    if (r.kb) e.kb = r.kb;
  }
  if (result === 'reboot-pending') e.rebootRequired = true;
  return e;
}

export interface EventParseOptions extends ParseOptions {
  stats?: LogReadStats;
}

/**
 * Stream ReportingEvents.log as UpdateEvents: 147/148 detection -> 'scan', 161/162/163/167
 * download, 181/182/183 install, uninstall records; updateId, KB and title from the record. Times
 * carry a UTC offset (timeIsLocal false). `stats` counts lines and recognized records (format
 * 'reportingevents').
 */
export async function* reportingEventsEvents(chunks: ByteChunks, file: string, opts: EventParseOptions = {}): AsyncGenerator<UpdateEvent> {
  const stats = opts.stats;
  for await (const b of readLineBatches(chunks, { maxLineLength: 64 * 1024, ...opts })) {
    if (stats) stats.lines += b.lines.length;
    for (let i = 0; i < b.lines.length; i++) {
      const r = parseReportingEventsLine(b.lines[i]!, file, b.first + i);
      if (!r) continue;
      if (stats) {
        stats.recognized++;
        stats.format ??= 'reportingevents';
      }
      const e = reportEventToUpdateEvent(r, 'ReportingEvents.log', file);
      if (e) yield e;
    }
  }
}
