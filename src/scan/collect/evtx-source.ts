// The Windows Update client's events in System.evtx as update events: 19 installed, 20 failed,
// 43 install started, 44 download started. EVTX times are UTC; evidence quotes the record number.
import type { UpdateEvent } from '../../model/attempts.js';
import { resolveCI } from '../../windows/paths.js';
import { fileSize, winRel } from '../../windows/files.js';
import { problemText } from '../../shared/safefs.js';
import { readWindowsUpdateEvents, type WuEvent } from './evtx-file.js';
import type { EventSink } from './sink.js';

export function systemEvent(w: WuEvent, file: string): UpdateEvent | undefined {
  const base = {
    source: 'System.evtx' as const,
    file,
    recordId: w.recordId.toString(),
    eventId: w.eventId,
    timeIsLocal: false,
    message: (w.title ?? '').slice(0, 500),
  };
  let e: UpdateEvent;
  if (w.eventId === 19) e = { ...base, kind: 'install', result: 'succeeded', message: `Installation Successful: ${base.message}`.slice(0, 500) };
  else if (w.eventId === 20)
    e = { ...base, kind: 'install', result: 'failed', message: `Installation Failure: ${w.errorCode ?? ''} ${base.message}`.trim().slice(0, 500) };
  else if (w.eventId === 43) e = { ...base, kind: 'install', result: 'in-progress', message: `Installation Started: ${base.message}`.slice(0, 500) };
  else if (w.eventId === 44) e = { ...base, kind: 'download', result: 'in-progress', message: `Download Started: ${base.message}`.slice(0, 500) };
  else return undefined;
  if (!Number.isNaN(w.time.getTime())) e.time = w.time;
  if (w.kb) e.kb = w.kb;
  if (w.title) e.title = w.title.slice(0, 300);
  if (w.updateGuid) e.updateId = w.updateGuid.replace(/[{}]/g, '').toLowerCase();
  if (w.eventId === 20 && w.errorCode) e.code = w.errorCode;
  return e;
}

export async function collectEventLogs(root: string, sink: EventSink): Promise<void> {
  const abs = resolveCI(root, 'Windows\\System32\\winevt\\Logs\\System.evtx');
  if (!abs) return;
  const file = winRel(root, abs);
  sink.progress('reading System.evtx');
  let events = 0;
  try {
    const { events: wu, problems } = await readWindowsUpdateEvents(abs);
    for (const w of wu) {
      const e = systemEvent(w, file);
      if (e) {
        events++;
        sink.event(e);
      }
    }
    if (problems.length) sink.problem(`${file}: ${problems.length} damaged part(s) skipped (first: ${problems[0]!.message})`);
    sink.file({ source: 'System.evtx', file, bytes: fileSize(abs), events, understood: true, format: 'evtx' });
  } catch (err) {
    sink.problem(`${file}: ${problemText(err, file)}`);
    sink.file({ source: 'System.evtx', file, bytes: fileSize(abs), events, understood: false, format: 'evtx', note: 'not an event log' });
  }
}
