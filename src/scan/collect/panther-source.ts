// Windows setup logs of the offline system (issue #16): setupact.log / setuperr.log of a feature
// update in progress or rolled back ($WINDOWS.~BT\Sources\Panther and \Rollback) and of the last
// finished setup (Windows\Panther, Windows\Panther\NewOS), and SetupDiag's results
// (Windows\Logs\SetupDiag\SetupDiagResults.xml/.log, $WINDOWS.~BT\Sources\SetupDiag). Read by the
// pure parsers formats/logs/panther.ts and setupdiag.ts. Nothing is followed: each folder must be a
// real one (realDir), each file a regular file (fileChunks opens it through safefs), at most
// MAX_SETUP_FILE_BYTES each. A file present but not understood, or unreadable, is a problem line.
import path from 'node:path';
import { pantherEvents, setupDiagEvents, type PantherOptions } from '../../formats/logs/index.js';
import type { LogFileRead, LogSource, UpdateEvent } from '../../model/attempts.js';
import { problemText, readdirSafe } from '../../shared/safefs.js';
import { realDir, winRel } from '../../windows/files.js';
import { fileChunks } from './logs-file.js';
import { newStats, type EventSink, type LogReadStats } from './sink.js';

/** A setup log larger than this is not read (real ones are a few MB). */
export const MAX_SETUP_FILE_BYTES = 256 * 2 ** 20;

/** Where setup writes its logs; `session` ties the files of one installation together. */
export const SETUP_LOG_DIRS: readonly { dir: string; session: string; setupDiag?: boolean }[] = [
  { dir: '$WINDOWS.~BT\\Sources\\Panther', session: '$WINDOWS.~BT' },
  { dir: '$WINDOWS.~BT\\Sources\\Rollback', session: '$WINDOWS.~BT' },
  { dir: '$WINDOWS.~BT\\Sources\\SetupDiag', session: '$WINDOWS.~BT', setupDiag: true },
  { dir: 'Windows\\Panther', session: 'Windows\\Panther' },
  { dir: 'Windows\\Panther\\NewOS', session: 'Windows\\Panther' },
  { dir: 'Windows\\Logs\\SetupDiag', session: 'Windows\\Logs\\SetupDiag', setupDiag: true },
];

const PANTHER_RE = /^setup(act|err)\.log$/i;
const SETUPDIAG_RE = /^SetupDiagResults.*\.(log|xml)$/i;

interface SetupFile {
  host: string;
  source: LogSource;
  session: string;
}

async function filesIn(root: string, d: (typeof SETUP_LOG_DIRS)[number]): Promise<SetupFile[]> {
  const dir = realDir(root, d.dir);
  if (!dir) return [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdirSafe(dir);
  } catch {
    return [];
  }
  const out: SetupFile[] = [];
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const m = PANTHER_RE.exec(e.name);
    if (m && !d.setupDiag)
      out.push({ host: path.join(dir, e.name), source: m[1]!.toLowerCase() === 'act' ? 'setupact.log' : 'setuperr.log', session: d.session });
    else if (d.setupDiag && SETUPDIAG_RE.test(e.name)) out.push({ host: path.join(dir, e.name), source: 'SetupDiag', session: d.session });
  }
  return out;
}

async function* counted(chunks: AsyncIterable<Uint8Array>, n: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    n.bytes += c.length;
    yield c;
  }
}

/** Reads one setup log or SetupDiag result into the sink. */
export async function readSetupFile(root: string, f: SetupFile, sink: EventSink): Promise<LogFileRead> {
  const file = winRel(root, f.host);
  const stats: LogReadStats = newStats();
  const n = { bytes: 0 };
  const read: LogFileRead = { source: f.source, file, events: 0, understood: false };
  try {
    const chunks = counted(fileChunks(f.host, { cap: MAX_SETUP_FILE_BYTES }), n);
    const events: AsyncGenerator<UpdateEvent> =
      f.source === 'SetupDiag'
        ? setupDiagEvents(chunks, file, { stats, session: f.session })
        : pantherEvents(chunks, file, { stats, session: f.session, source: f.source as PantherOptions['source'] });
    for await (const e of events) {
      sink.event(e);
      read.events++;
    }
    read.bytes = n.bytes;
    read.lines = stats.lines;
    read.format = stats.format ?? (f.source === 'SetupDiag' ? 'setupdiag' : 'panther');
    // An empty setuperr.log is what setup leaves when nothing failed.
    read.understood = stats.recognized > 0 || n.bytes === 0 || stats.lines === 0;
    if (n.bytes === 0) read.note = 'empty';
    if (!read.understood) {
      read.note = f.source === 'SetupDiag' ? 'no SetupDiag result recognized' : 'no setup log line recognized';
      sink.problem(`${file}: present but not understood: ${read.note} (${stats.lines} lines)`);
    }
  } catch (e) {
    read.note = problemText(e, file);
    sink.problem(`${file}: not read: ${read.note}`);
  }
  sink.file(read);
  return read;
}

/** Panther setupact/setuperr logs and SetupDiag results of the volume at `root`. */
export async function collectSetupLogs(root: string, sink: EventSink): Promise<void> {
  for (const d of SETUP_LOG_DIRS) {
    const files = await filesIn(root, d);
    if (files.length) sink.progress(`reading setup logs in ${d.dir}`);
    for (const f of files) await readSetupFile(root, f, sink);
  }
}
