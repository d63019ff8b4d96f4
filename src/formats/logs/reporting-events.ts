// ReportingEvents.log records (and the REPORT EVENT lines of WindowsUpdate.log).
import { detach, extractKb, hexField, parseLogTime } from './fields.js';
import { type ByteChunks, type ParseOptions, readLineBatches } from './lines.js';

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
