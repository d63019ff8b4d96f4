// Windows Update's own logs of the offline system (issue #16): Windows\SoftwareDistribution\
// ReportingEvents.log, Windows\WindowsUpdate.log (the classic text log through Windows 8.1; on
// Windows 10+ a stub pointing at Get-WindowsUpdateLog) and the decoded WindowsUpdate.log a
// technician left on a profile's Desktop (Users\<profile>\Desktop, or OneDrive\Desktop). Windows 10+
// writes Windows\Logs\WindowsUpdate\*.etl (binary ETW, not decoded offline): when no decoded log is
// found they are one "not understood" file with a problem line telling how to get one.
// Nothing is followed: every folder must be a real one (realDir), each file a regular file (fileChunks).
import path from 'node:path';
import type { Dirent } from 'node:fs';
import { readLines } from '../../formats/logs/lines.js';
import { reportingEventsEvents } from '../../formats/logs/reporting-events.js';
import { windowsUpdateLogEvents } from '../../formats/logs/windowsupdate.js';
import type { LogFileRead, LogReadStats, LogSource, UpdateEvent } from '../../model/attempts.js';
import { readdirSafe } from '../../shared/safefs.js';
import { realDir, winRel } from '../../windows/files.js';
import { fileChunks } from './logs-file.js';
import { newStats, type EventSink } from './sink.js';

/** A decoded WindowsUpdate.log runs to a few hundred MB at most; a larger one is not read. */
export const MAX_WU_LOG_BYTES = 2 * 2 ** 30;
/** Profiles looked at under Users (a hostile image may hold millions of folders). */
const MAX_PROFILES = 1000;
/** The Windows 10+ stub is a few hundred bytes. */
const STUB_MAX_BYTES = 4096;

type Parser = (chunks: AsyncIterable<Uint8Array>, file: string, opts: { stats: LogReadStats }) => AsyncGenerator<UpdateEvent>;

export interface WuLogFile {
  host: string;
  source: LogSource;
  parse: Parser;
}

/** One ASCII line for an error (dism-source.ts uses it too). */
export function why(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}

/** Count the bytes going through. */
export async function* counted(chunks: AsyncIterable<Uint8Array>, n: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    n.bytes += c.length;
    yield c;
  }
}

/**
 * The entries of `dir` whose name matches (any case), as host paths. A link or special file under
 * such a name is kept: fileChunks refuses to open it, which is a problem line, not a silent drop.
 */
function fileIn(dir: string, entries: Dirent[], re: RegExp): string[] {
  return entries
    .filter((e) => !e.isDirectory() && re.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

async function entriesOf(dir: string | undefined): Promise<Dirent[]> {
  if (!dir) return [];
  try {
    return await readdirSafe(dir);
  } catch {
    return [];
  }
}

/** The Windows 10+ WindowsUpdate.log: a few lines pointing at Get-WindowsUpdateLog. */
async function isEtwStub(host: string): Promise<boolean> {
  try {
    for await (const l of readLines(fileChunks(host, { cap: STUB_MAX_BYTES }), { maxLineLength: 1024 })) if (/Get-WindowsUpdateLog/i.test(l.text)) return true;
  } catch {
    /* too large or unreadable: not the stub */
  }
  return false;
}

/**
 * Read one log into the sink. Returns how it was read (also given to sink.file); a present file
 * with no recognized line is a problem line, except the Windows 10+ stub when `quietStub`.
 */
export async function readWuLog(root: string, f: WuLogFile, sink: EventSink, quietStub = false): Promise<LogFileRead> {
  const rel = winRel(root, f.host);
  const stats = newStats();
  const n = { bytes: 0 };
  let events = 0;
  let read: LogFileRead;
  try {
    for await (const e of f.parse(counted(fileChunks(f.host, { cap: MAX_WU_LOG_BYTES }), n), rel, { stats })) {
      sink.event(e);
      events++;
    }
    read = { source: f.source, file: rel, format: stats.format ?? 'unknown', bytes: n.bytes, lines: stats.lines, events, understood: stats.recognized > 0 };
  } catch (e) {
    read = { source: f.source, file: rel, bytes: n.bytes, lines: stats.lines, events, understood: false, note: why(e) };
    sink.file(read);
    sink.problem(`${rel}: not read: ${why(e)}`);
    return read;
  }
  if (!read.understood) {
    const stub = f.source === 'WindowsUpdate.log' && n.bytes <= STUB_MAX_BYTES && n.bytes > 0 && (await isEtwStub(f.host));
    if (stub) {
      read.format = 'windowsupdate-etw-stub';
      read.note = 'Windows 10+ stub: the log is kept as ETW traces (Windows\\Logs\\WindowsUpdate\\*.etl)';
      if (!quietStub) sink.problem(`${rel}: present but not understood: ${read.note}; run Get-WindowsUpdateLog to decode them`);
    } else {
      read.note = read.lines === 0 ? 'empty' : `no ${f.source} record recognized`;
      sink.problem(`${rel}: present but not understood: ${read.note} (${read.lines} lines)`);
    }
  }
  sink.file(read);
  return read;
}

/** Decoded logs a technician left: Users\<profile>\Desktop\WindowsUpdate.log (and OneDrive\Desktop). */
async function desktopLogs(root: string): Promise<string[]> {
  const users = realDir(root, 'Users');
  if (!users) return [];
  const out: string[] = [];
  // A name with a path separator in it (possible on the host filesystem) would alias another folder: skipped.
  const profiles = (await entriesOf(users)).filter((e) => e.isDirectory() && !/[\\/]/.test(e.name)).slice(0, MAX_PROFILES);
  profiles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const p of profiles) {
    // Each level checked on its own: a profile or Desktop that is a link is never entered.
    if (!realDir(root, `Users\\${p.name}`)) continue;
    for (const sub of ['Desktop', 'OneDrive\\Desktop']) {
      if (sub.startsWith('OneDrive') && !realDir(root, `Users\\${p.name}\\OneDrive`)) continue;
      const dir = realDir(root, `Users\\${p.name}\\${sub}`);
      if (dir) out.push(...fileIn(dir, await entriesOf(dir), /^windowsupdate\.log$/i));
    }
  }
  return out;
}

/**
 * Read ReportingEvents.log, WindowsUpdate.log and the decoded WindowsUpdate.logs on the profiles'
 * desktops under `root` into `sink`; report the ETW traces when no decoded log was found.
 */
export async function collectWindowsUpdateLogs(root: string, sink: EventSink): Promise<void> {
  const files: WuLogFile[] = [];
  const sd = realDir(root, 'Windows\\SoftwareDistribution');
  for (const host of fileIn(sd ?? '', sd ? await entriesOf(sd) : [], /^reportingevents\.log$/i))
    files.push({ host, source: 'ReportingEvents.log', parse: reportingEventsEvents });
  const win = realDir(root, 'Windows');
  const main = fileIn(win ?? '', win ? await entriesOf(win) : [], /^windowsupdate\.log$/i);
  const desktop = await desktopLogs(root);
  for (const host of [...main, ...desktop]) files.push({ host, source: 'WindowsUpdate.log', parse: windowsUpdateLogEvents });
  const etlDir = realDir(root, 'Windows\\Logs\\WindowsUpdate');
  const etls = etlDir ? (await entriesOf(etlDir)).filter((e) => e.isFile() && /\.etl$/i.test(e.name)) : [];
  if (files.length === 0 && etls.length === 0) return;
  sink.progress('reading WindowsUpdate.log');
  let decoded = false;
  for (const f of files) {
    // The stub's problem line is left to the ETW line below when traces are there.
    const read = await readWuLog(root, f, sink, etls.length > 0);
    if (read.format === 'windowsupdate-decoded') decoded = true;
  }
  if (etls.length > 0 && !decoded) {
    const rel = winRel(root, etlDir!);
    const note = `${etls.length} ETW trace file(s) (*.etl) not decoded offline`;
    sink.file({ source: 'WindowsUpdate.log', file: rel, format: 'etl', events: 0, understood: false, note });
    sink.problem(
      `${rel}: ETW traces are not decoded offline (${etls.length} .etl file(s)); run Get-WindowsUpdateLog on this Windows (or on any Windows 10+ PC with a copy of these .etl files) and save the WindowsUpdate.log it writes on a profile's Desktop, then scan again`,
    );
  }
}
