// What a log collector hands its results to: events for the correlation, a record of each log file
// read, problem lines (present but not understood, damaged, too large) and progress messages.
import type { LogFileRead, UpdateEvent } from '../../model/attempts.js';
export { newStats, type LogReadStats } from '../../model/attempts.js';

export interface EventSink {
  event(e: UpdateEvent): void;
  /** Once per log file found (also when it was not understood: then a problem line too). */
  file(f: LogFileRead): void;
  /** One line: "<file>: <what and why>". */
  problem(line: string): void;
  progress(msg: string): void;
}

/** The most events a scan keeps (each at most ~1 KB): a hostile log cannot grow memory without bound. */
export const MAX_EVENTS = 200_000;
/** The most files and problem lines recorded. */
export const MAX_FILES = 5_000;

/** A sink that keeps everything in arrays (tests and the scan), bounded. */
export function arraySink(
  progress: (m: string) => void = () => {},
  limits: { events?: number; files?: number } = {},
): EventSink & { events: UpdateEvent[]; files: LogFileRead[]; problems: string[] } {
  const maxEvents = limits.events ?? MAX_EVENTS;
  const maxFiles = limits.files ?? MAX_FILES;
  const events: UpdateEvent[] = [];
  const files: LogFileRead[] = [];
  const problems: string[] = [];
  let dropped = 0;
  let droppedAt = -1;
  const sink = {
    events,
    files,
    problems,
    event: (e: UpdateEvent) => {
      if (events.length < maxEvents) return void events.push(e);
      // One line, updated in place: the count and where the first dropped event came from.
      dropped++;
      const line = `update history: more than ${maxEvents} events in the logs; ${dropped} later one(s) not kept (first: ${e.file}${e.line ? ` line ${e.line}` : ''})`;
      if (droppedAt < 0) droppedAt = problems.push(line) - 1;
      else problems[droppedAt] = line.replace(/\(first: .*\)$/, problems[droppedAt]!.slice(problems[droppedAt]!.lastIndexOf('(first:')));
    },
    file: (f: LogFileRead) => void (files.length < maxFiles && files.push(f)),
    problem: (l: string) => void (problems.length < maxFiles && !problems.includes(l) && problems.push(l)),
    progress,
  };
  return sink;
}
