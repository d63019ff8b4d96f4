// Finding, reading and truncating a hive's transaction logs (the only fs code for log recovery).
// Logs are "<hive>.LOG", ".LOG1", ".LOG2" beside the primary; names are matched case-insensitively
// on the whole file name (fixtures pair NTUSER.DAT with ntuser.dat.LOG1).
import { readdir, readFile, open } from 'node:fs/promises';
import path from 'node:path';
import type { LogFile } from './recovery.js';

const SUFFIXES = ['.log', '.log1', '.log2'] as const;

/** Paths of the primary's .LOG, .LOG1 and .LOG2 files that exist, in that order. */
export async function findLogs(primaryPath: string): Promise<string[]> {
  const dir = path.dirname(primaryPath);
  const base = path.basename(primaryPath).toLowerCase();
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const suffix of SUFFIXES) {
    const want = base + suffix;
    // Several names differing only in case can coexist on a case-sensitive file system; take them all
    // in a stable order so nothing is silently ignored.
    const matches = entries
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.toLowerCase() === want)
      .map((e) => e.name)
      .sort();
    for (const m of matches) found.push(path.join(dir, m));
  }
  return found;
}

/** Read every log found by findLogs; `name` is the file name (no directory). */
export async function readLogs(primaryPath: string): Promise<LogFile[]> {
  const paths = await findLogs(primaryPath);
  const logs: LogFile[] = [];
  for (const p of paths) {
    const buf = await readFile(p);
    logs.push({ name: path.basename(p), bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) });
  }
  return logs;
}

/** Truncate each log to 0 bytes and fsync it (registry-hives.md section 4, step 3). */
export async function truncateLogs(paths: string[]): Promise<void> {
  for (const p of paths) {
    const fh = await open(p, 'r+');
    try {
      await fh.truncate(0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
