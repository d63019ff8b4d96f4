// Windows Update's own records as update events: SoftwareDistribution\ReportingEvents.log and the
// REPORT EVENT lines of the classic (Windows 7 / 8.1) WindowsUpdate.log. Each record carries its
// UTC offset, so times are UTC. Detection (147/148), download (161/162/163) and install (182/183,
// uninstall 184/185?) records become scan, download and install events; the rest are not attempts.
import type { AttemptKind, AttemptResult, LogSource, UpdateEvent } from '../../model/attempts.js';
import type { ReportingEvent } from '../../formats/logs/index.js';
import { resolveCI } from '../../windows/paths.js';
import { fileSize, winRel } from '../../windows/files.js';
import { problemText } from '../../shared/safefs.js';
import { readReportingEventsFile, readWindowsUpdateLogFile } from './logs-file.js';
import type { EventSink } from './sink.js';

/** WU_E_CALL_CANCELLED / download cancelled: reported as Success, it is a cancel. */
const CANCEL_CODES = new Set(['0x8024000b', '0x800704c7']);
/** WU_E_UH_POSTREBOOTSTILLPENDING: installed, the next boot finishes it. */
const REBOOT_CODES = new Set(['0x80242014', '0x80070bc9']);
const NOT_APPLICABLE = new Set(['0x80240017']);

function kindOf(r: ReportingEvent): AttemptKind | undefined {
  const cat = r.category.toLowerCase();
  if (r.eventId === 182 || r.eventId === 183 || cat.includes('install')) return /uninstall/i.test(r.eventName ?? r.message) ? 'uninstall' : 'install';
  if (r.eventId === 161 || r.eventId === 162 || r.eventId === 163 || cat.includes('download')) return 'download';
  if (r.eventId === 147 || r.eventId === 148 || cat.includes('detection') || cat.includes('synchronization')) return 'scan';
  return undefined;
}

function resultOf(r: ReportingEvent, code: string | undefined): AttemptResult {
  if (code && CANCEL_CODES.has(code)) return 'cancelled';
  if (code && REBOOT_CODES.has(code)) return 'reboot-pending';
  if (code && NOT_APPLICABLE.has(code)) return 'not-applicable';
  return r.status === 'Failure' ? 'failed' : 'succeeded';
}

/** One ReportingEvents record as an event, or undefined when it states no attempt's result. */
export function reportEvent(r: ReportingEvent, source: LogSource, file: string, line = r.line): UpdateEvent | undefined {
  const kind = kindOf(r);
  if (!kind) return undefined;
  const raw = r.hresult?.toLowerCase();
  const code = raw && /^0x[0-9a-f]{8}$/.test(raw) && raw !== '0x00000000' ? raw : undefined;
  // A successful detection is routine (one per scan): only its failures and cancels are kept.
  const result = resultOf(r, code);
  if (kind === 'scan' && result === 'succeeded') return undefined;
  const e: UpdateEvent = {
    source,
    file,
    line,
    timeIsLocal: false,
    kind,
    result,
    message: r.message.replace(/\s+/g, ' ').trim().slice(0, 500),
    client: r.client || undefined,
  };
  if (!Number.isNaN(r.time.getTime())) e.time = r.time;
  if (r.kb) e.kb = r.kb;
  const id = r.updateId.replace(/[{}]/g, '').toLowerCase();
  if (id && !/^0{8}-/.test(id)) e.updateId = id;
  if (code) e.code = code;
  if (result === 'reboot-pending') e.rebootRequired = true;
  return e;
}

async function readOne(
  root: string,
  rel: string,
  source: LogSource,
  sink: EventSink,
  read: (abs: string, file: string) => AsyncIterable<UpdateEvent | undefined>,
  lines: () => number,
): Promise<void> {
  const abs = resolveCI(root, rel);
  if (!abs) return;
  const file = winRel(root, abs);
  let events = 0;
  try {
    for await (const e of read(abs, file)) {
      if (!e) continue;
      events++;
      sink.event(e);
    }
  } catch (err) {
    sink.problem(`${file}: ${problemText(err, file)}`);
  }
  const n = lines();
  const understood = n > 0 || events > 0 || (fileSize(abs) ?? 0) === 0;
  sink.file({ source, file, bytes: fileSize(abs), events, understood, format: source === 'ReportingEvents.log' ? 'reportingevents' : 'windowsupdate-classic' });
  if (!understood) sink.problem(`${file}: present but not understood: no ${source} record recognized (format not supported)`);
}

export async function collectWindowsUpdateLogs(root: string, sink: EventSink): Promise<void> {
  let records = 0;
  await readOne(
    root,
    'Windows\\SoftwareDistribution\\ReportingEvents.log',
    'ReportingEvents.log',
    sink,
    async function* (abs, file) {
      for await (const r of readReportingEventsFile(abs)) {
        records++;
        yield reportEvent(r, 'ReportingEvents.log', file);
      }
    },
    () => records,
  );
  let lines = 0;
  await readOne(
    root,
    'Windows\\WindowsUpdate.log',
    'WindowsUpdate.log',
    sink,
    async function* (abs, file) {
      for await (const r of readWindowsUpdateLogFile(abs)) {
        lines++;
        if (r.report) yield reportEvent(r.report, 'WindowsUpdate.log', file, r.line);
      }
    },
    () => lines,
  );
}
