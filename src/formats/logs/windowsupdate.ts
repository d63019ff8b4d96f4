// WindowsUpdate.log (plain text through Windows 8.1): records, REPORT EVENT lines parsed.
import { detach, extractKb, hexField, parseLogTime } from './fields.js';
import { type ReportingEvent, parseReportEventText } from './reporting-events.js';
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
