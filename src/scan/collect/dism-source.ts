// DISM's log of the offline system (issue #16): Windows\Logs\DISM\dism.log and the rotated
// dism.log.bak beside it (older, read first), as DISM runs (formats/logs/dism.ts dismLogEvents).
// Nothing is followed: the folder must be a real one, each file a regular file (fileChunks).
import path from 'node:path';
import { dismLogEvents } from '../../formats/logs/dism.js';
import type { LogFileRead } from '../../model/attempts.js';
import { readdirSafe } from '../../shared/safefs.js';
import { realDir, winRel } from '../../windows/files.js';
import { fileChunks } from './logs-file.js';
import { newStats, type EventSink } from './sink.js';
import { counted, why } from './wu-source.js';

const DISM_DIR = 'Windows\\Logs\\DISM';
/** dism.log grows without rotation on some systems; a larger one than this is not read. */
export const MAX_DISM_LOG_BYTES = 2 * 2 ** 30;

async function readOne(root: string, host: string, sink: EventSink): Promise<void> {
  const rel = winRel(root, host);
  const stats = newStats();
  const n = { bytes: 0 };
  let events = 0;
  try {
    for await (const e of dismLogEvents(counted(fileChunks(host, { cap: MAX_DISM_LOG_BYTES }), n), rel, { stats })) {
      sink.event(e);
      events++;
    }
  } catch (e) {
    sink.file({ source: 'DISM.log', file: rel, bytes: n.bytes, lines: stats.lines, events, understood: false, note: why(e) });
    sink.problem(`${rel}: not read: ${why(e)}`);
    return;
  }
  const read: LogFileRead = {
    source: 'DISM.log',
    file: rel,
    format: stats.format ?? 'unknown',
    bytes: n.bytes,
    lines: stats.lines,
    events,
    understood: stats.recognized > 0,
  };
  if (!read.understood) {
    read.note = read.lines === 0 ? 'empty' : 'no DISM line recognized';
    sink.problem(`${rel}: present but not understood: ${read.note} (${read.lines} lines)`);
  }
  sink.file(read);
}

/** Read dism.log.bak (if present) then dism.log of Windows\Logs\DISM under `root` into `sink`. */
export async function collectDismLogs(root: string, sink: EventSink): Promise<void> {
  const dir = realDir(root, DISM_DIR);
  if (!dir) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdirSafe(dir);
  } catch {
    return;
  }
  const bak = entries.filter((e) => /^dism\.log\.bak$/i.test(e.name));
  const main = entries.filter((e) => /^dism\.log$/i.test(e.name));
  // A link or special file under these names is read too: fileChunks refuses it (a problem line).
  const files = [...bak, ...main].filter((e) => !e.isDirectory()).map((e) => path.join(dir, e.name));
  if (files.length === 0) return;
  sink.progress('reading dism.log');
  for (const f of files) await readOne(root, f, sink);
}
