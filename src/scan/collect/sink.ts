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

/** A sink that keeps everything in arrays (tests and the scan). */
export function arraySink(progress: (m: string) => void = () => {}): EventSink & { events: UpdateEvent[]; files: LogFileRead[]; problems: string[] } {
  const events: UpdateEvent[] = [];
  const files: LogFileRead[] = [];
  const problems: string[] = [];
  return {
    events,
    files,
    problems,
    event: (e) => void events.push(e),
    file: (f) => void files.push(f),
    problem: (l) => void problems.push(l),
    progress,
  };
}
