// Finding, reading and truncating a hive's transaction logs (the only fs code for log recovery).
// Logs are "<hive>.LOG", ".LOG1", ".LOG2" beside the primary; names are matched case-insensitively
// on the whole file name (fixtures pair NTUSER.DAT with ntuser.dat.LOG1).
// Every access goes through the confined layer (src/shared/safefs.ts): a log that is a link, a device
// node or a FIFO is never read or truncated; it is reported instead (a hive beside it is not written).
import path from 'node:path';
import type { LogFile } from './recovery.js';
import { closeSync, readdirSync } from 'node:fs';
import { openReadSync, readFileSafe, truncateSafe, UnsafePathError } from '../shared/safefs.js';

/** The largest transaction log read (a hive is at most 2 GiB; its logs hold dirty pages of it). */
export const MAX_LOG_BYTES = 2 ** 31 - 1;

const SUFFIXES = ['.log', '.log1', '.log2'] as const;

/** Paths of the primary's .LOG, .LOG1 and .LOG2 files that exist, in that order. */
export async function findLogs(primaryPath: string): Promise<string[]> {
  const dir = path.dirname(primaryPath);
  const base = path.basename(primaryPath).toLowerCase();
  const entries = readdirSync(dir, { withFileTypes: true }); // one small directory: no event-loop round trip
  const found: string[] = [];
  for (const suffix of SUFFIXES) {
    const want = base + suffix;
    // Several names differing only in case can coexist on a case-sensitive file system; take them all
    // in a stable order so nothing is silently ignored.
    const matches = entries
      .filter((e) => !e.isDirectory() && e.name.toLowerCase() === want)
      .map((e) => e.name)
      .sort();
    for (const m of matches) found.push(path.join(dir, m));
  }
  return found;
}

/** Read every log found by findLogs; `name` is the file name (no directory). Unsafe ones throw. */
export async function readLogs(primaryPath: string): Promise<LogFile[]> {
  const { logs, refused } = await readLogsChecked(primaryPath);
  if (refused[0]) throw refused[0];
  return logs;
}

/**
 * Read the logs beside a primary that are regular files; a log that is a link or a special file is
 * not opened and comes back in `refused` (evidence for the scan, a refusal for a writer). With
 * `read` false each log is only checked and opened as it would be read (`logs` stays empty): a
 * read-only look at a hive that needs no log costs no log bytes.
 */
export async function readLogsChecked(primaryPath: string, read = true): Promise<{ logs: LogFile[]; paths: string[]; refused: UnsafePathError[] }> {
  const logs: LogFile[] = [];
  const paths: string[] = [];
  const refused: UnsafePathError[] = [];
  for (const p of await findLogs(primaryPath)) {
    try {
      if (read) logs.push({ name: path.basename(p), bytes: readFileSafe(p, MAX_LOG_BYTES, 'the transaction log') });
      else closeSync(openReadSync(p, MAX_LOG_BYTES, 'the transaction log').fd);
      paths.push(p);
    } catch (e) {
      if (!(e instanceof UnsafePathError)) throw e;
      refused.push(e);
    }
  }
  return { logs, paths, refused };
}

/** Truncate each log to 0 bytes and fsync it (registry-hives.md section 4, step 3). */
export async function truncateLogs(paths: string[]): Promise<void> {
  for (const p of paths) truncateSafe(p);
}
