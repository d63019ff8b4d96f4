// CBS logs of the offline system (issue #16): Windows\Logs\CBS\CBS.log and the rotated
// CbsPersist_<yyyyMMddHHmmss>.log / .cab beside it (oldest first, CBS.log last), read as CBS
// sessions (formats/logs/cbs.ts cbsEvents). Cabinets are MSZIP (formats/cab.ts); another
// compression, a damaged cabinet or a file with no CBS line is a problem line, never a silent drop.
// Nothing is followed: the folder must be a real one, each file a regular file (fileChunks).
import path from 'node:path';
import { CabError, cabMembers } from '../../formats/cab.js';
import { cbsEvents } from '../../formats/logs/cbs.js';
import type { LogFileRead, LogSource } from '../../model/attempts.js';
import { readdirSafe } from '../../shared/safefs.js';
import { realDir, winRel } from '../../windows/files.js';
import { fileChunks } from './logs-file.js';
import { newStats, type EventSink } from './sink.js';

const CBS_DIR = 'Windows\\Logs\\CBS';
/** A cabinet larger than this is not read (its members are capped by the reader too). */
export const MAX_CBS_CAB_BYTES = 512 * 2 ** 20;
/** Uncompressed bytes read out of one cabinet. */
export const MAX_CBS_CAB_OUTPUT = 2 ** 30;

const PERSIST_RE = /^CbsPersist_(\d{14})?.*\.(log|cab)$/i;

export interface CbsFile {
  host: string;
  name: string;
  /** Sort key: the timestamp in the name ('' sorts first), then the name. */
  stamp: string;
  cab: boolean;
  source: LogSource;
}

/** The CBS logs of the folder in reading order: CbsPersist oldest first, then CBS.log. */
export async function cbsLogFiles(dir: string): Promise<CbsFile[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdirSafe(dir);
  } catch {
    return [];
  }
  const persist: CbsFile[] = [];
  let main: CbsFile | undefined;
  for (const e of entries) {
    const name = e.name;
    if (/^cbs\.log$/i.test(name)) {
      main = { host: path.join(dir, name), name, stamp: '~', cab: false, source: 'CBS.log' };
      continue;
    }
    const m = PERSIST_RE.exec(name);
    if (m) persist.push({ host: path.join(dir, name), name, stamp: m[1] ?? '', cab: m[2]!.toLowerCase() === 'cab', source: 'CbsPersist' });
  }
  persist.sort((a, b) => (a.stamp === b.stamp ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.stamp < b.stamp ? -1 : 1));
  return main ? [...persist, main] : persist;
}

function why(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}

async function readLog(sink: EventSink, chunks: AsyncIterable<Uint8Array>, file: string, source: LogSource, bytes: number | undefined): Promise<LogFileRead> {
  const stats = newStats();
  let events = 0;
  for await (const e of cbsEvents(chunks, file, { stats, source: source === 'CbsPersist' ? 'CbsPersist' : 'CBS.log' })) {
    sink.event(e);
    events++;
  }
  const f: LogFileRead = { source, file, format: stats.format ?? 'unknown', lines: stats.lines, events, understood: stats.recognized > 0 };
  if (bytes !== undefined) f.bytes = bytes;
  return f;
}

/** Count the bytes going through (the size of a cabinet member as read). */
async function* counted(chunks: AsyncIterable<Uint8Array>, n: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    n.bytes += c.length;
    yield c;
  }
}

async function readOne(root: string, f: CbsFile, sink: EventSink): Promise<void> {
  const rel = winRel(root, f.host);
  if (!f.cab) {
    try {
      const n = { bytes: 0 };
      const read = await readLog(sink, counted(fileChunks(f.host), n), rel, f.source, undefined);
      read.bytes = n.bytes;
      if (!read.understood) {
        read.note = read.lines === 0 ? 'empty' : 'no CBS line recognized';
        sink.problem(`${rel}: present but not understood: ${read.note} (${read.lines} lines)`);
      }
      sink.file(read);
    } catch (e) {
      sink.file({ source: f.source, file: rel, events: 0, understood: false, note: why(e) });
      sink.problem(`${rel}: not read: ${why(e)}`);
    }
    return;
  }
  // A cabinet: every .log member, read as it is inflated.
  let members = 0;
  let events = 0;
  let lines = 0;
  const n = { bytes: 0 };
  try {
    for await (const m of cabMembers(counted(fileChunks(f.host, { cap: MAX_CBS_CAB_BYTES }), n), { maxOutput: MAX_CBS_CAB_OUTPUT })) {
      if (!/\.log$/i.test(m.entry.name)) continue;
      members++;
      const file = `${rel}\\${m.entry.name.replace(/[/\\]+/g, '_')}`;
      const read = await readLog(sink, m.chunks, file, 'CbsPersist', m.entry.size);
      events += read.events;
      lines += read.lines ?? 0;
      if (!read.understood) {
        read.note = 'no CBS line recognized';
        sink.problem(`${file}: present but not understood: no CBS line recognized (${read.lines} lines)`);
      }
      sink.file(read);
    }
    if (members === 0) {
      sink.file({ source: 'CbsPersist', file: rel, format: 'cab', bytes: n.bytes, events: 0, understood: false, note: 'no .log member' });
      sink.problem(`${rel}: present but not understood: the cabinet holds no .log member`);
    }
  } catch (e) {
    const reason = e instanceof CabError ? e.message : why(e);
    sink.file({ source: 'CbsPersist', file: rel, format: 'cab', bytes: n.bytes, lines, events, understood: false, note: reason });
    sink.problem(`${rel}: ${e instanceof CabError && e.reason === 'unsupported-compression' ? reason : `not read: ${reason}`}`);
  }
}

/**
 * Read CBS.log and every CbsPersist_*.log / .cab of Windows\Logs\CBS under `root` into `sink`:
 * events for the correlation, one sink.file per log (per cabinet member), problem lines.
 */
export async function collectCbsLogs(root: string, sink: EventSink): Promise<void> {
  const dir = realDir(root, CBS_DIR);
  if (!dir) return;
  const files = await cbsLogFiles(dir);
  if (files.length === 0) return;
  sink.progress('reading CBS.log');
  for (const f of files) await readOne(root, f, sink);
}
