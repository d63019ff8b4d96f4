// The event logs of the offline system as update events (issue #16): System.evtx (Windows Update
// client 19/20/43/44), Setup.evtx (Servicing 1/2/3/4 and the selectable-update events) and
// Microsoft-Windows-WindowsUpdateClient%4Operational.evtx (scans 25/26, downloads, installs).
// Each file is streamed chunk by chunk (evtx-file.ts readEvtx) and each record mapped by the pure
// formats/evtx-events.ts. Nothing is followed (resolveCI stops at a link on the way; the file itself
// is opened through safefs). A damaged file is read as far as it goes, with one problem line per
// file; a file that is not EVTX is a problem line and a LogFileRead with understood: false.
import { evtxUpdateEvent, type EvtxLogSource } from '../../formats/evtx-events.js';
import type { LogFileRead } from '../../model/attempts.js';
import { problemText } from '../../shared/safefs.js';
import { fileSize, winRel } from '../../windows/files.js';
import { resolveCI } from '../../windows/paths.js';
import { readEvtx } from './evtx-file.js';
import type { EventSink } from './sink.js';

export const EVTX_LOG_DIR = 'Windows\\System32\\winevt\\Logs';

/** The event logs read, by file name in winevt\Logs. */
export const EVENT_LOGS: readonly { name: string; source: EvtxLogSource }[] = [
  { name: 'System.evtx', source: 'System.evtx' },
  { name: 'Setup.evtx', source: 'Setup.evtx' },
  { name: 'Microsoft-Windows-WindowsUpdateClient%4Operational.evtx', source: 'WindowsUpdateClient.evtx' },
];

/** Reads one event log (host path `abs`, volume path `file`) into the sink. */
export async function readEventLog(abs: string, file: string, source: EvtxLogSource, sink: EventSink): Promise<LogFileRead> {
  const read: LogFileRead = { source, file, format: 'evtx', events: 0, lines: 0, understood: false };
  const bytes = fileSize(abs);
  if (bytes !== undefined) read.bytes = bytes;
  try {
    const it = readEvtx(abs);
    let r = await it.next();
    while (!r.done) {
      read.lines!++;
      const e = evtxUpdateEvent(r.value, file, source);
      if (e) {
        sink.event(e);
        read.events++;
      }
      r = await it.next();
    }
    // The file header was EVTX (readEvtx throws otherwise): understood, even when it holds no update event.
    read.understood = true;
    const { problems, chunks } = r.value;
    if (problems.length) {
      read.note = `${problems.length} damaged part(s) skipped`;
      sink.problem(
        `${file}: ${problems.length} damaged part(s) skipped, ${read.lines} record(s) read from ${chunks} chunk(s) (first: ${problems[0]!.message})`,
      );
    }
  } catch (err) {
    read.note = problemText(err, file);
    sink.problem(`${file}: not read: ${read.note}`);
  }
  sink.file(read);
  return read;
}

/** System, Setup and WindowsUpdateClient/Operational event logs of the volume at `root`. */
export async function collectEventLogs(root: string, sink: EventSink): Promise<void> {
  for (const { name, source } of EVENT_LOGS) {
    const abs = resolveCI(root, `${EVTX_LOG_DIR}\\${name}`);
    if (!abs) continue;
    const file = winRel(root, abs);
    sink.progress(`reading ${name}`);
    await readEventLog(abs, file, source, sink);
  }
}
