// The only part of the hive engine that touches files: open a hive with its transaction logs,
// recover in memory, and save atomically (temp file beside it, fsync, rename, fsync the directory,
// then truncate the logs).
import { promises as fsp, constants as fsc } from 'node:fs';
import path from 'node:path';
import { BadInputError, FormatError, RefusedError } from '../shared/errors.js';
import { Hive } from './hive.js';
import { parseBaseBlock, isDirty, type BaseBlock } from './baseblock.js';
import { recoverHive, inspectLogs, DirtyHiveError, type LogInfo, type RecoveryResult } from './recovery.js';
import { readLogsChecked, truncateLogs } from './logfiles.js';
import { readFileSafe, UnsafePathError } from '../shared/safefs.js';
import { atomicWrite } from '../shared/atomic.js';

/** Windows refuses to load a hive of 2 GiB or more; wufix reads no larger file as a hive. */
export const MAX_HIVE_BYTES = 2 ** 31 - 1;
import { faultPoint } from '../shared/faults.js';

export interface OpenedHive {
  path: string;
  hive: Hive;
  /** Base block of the primary as it is on disk. */
  primary: BaseBlock;
  dirty: boolean;
  /** Log paths found beside the primary (regular files only). */
  logPaths: string[];
  /** Logs beside it that are links or special files: not read, and the hive is not written. */
  refusedLogs: UnsafePathError[];
  logs: LogInfo[];
  /** Set when the logs were replayed in memory. */
  recovery?: RecoveryResult;
  /** Dirty, and the logs could not bring it up to date: reading shows the primary as it is. */
  unrecoverable: boolean;
  logsInspected: boolean;
}

export interface OpenOptions {
  /** Replay transaction logs of a dirty primary (default true). false shows the primary as it is. */
  useLogs?: boolean;
  /**
   * Parse and hash the logs of a clean primary too (default true): needed before writing (the saved
   * sequence number must be above every entry in them) and for `hive info`. Read-only walks of a
   * clean hive (dump, get, export) skip it. A dirty primary's logs are always read.
   */
  inspectLogs?: boolean;
}

async function readFileChecked(file: string): Promise<Uint8Array> {
  try {
    return readFileSafe(file, MAX_HIVE_BYTES, 'the hive file'); // one synchronous read, no copy
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof UnsafePathError || e instanceof BadInputError) {
      if (e instanceof BadInputError && e.code === 'too-large') throw new BadInputError('hive files of 2 GiB or more are not supported', { file });
      throw e;
    }
    throw new BadInputError(err.code === 'ENOENT' ? 'no such file' : err.message, { file });
  }
}

/** Attach the file name to format errors raised while parsing. */
function withFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FormatError && !e.file) {
      throw Object.assign(new BadInputError(e.message, { file, offset: e.offset, code: e.code }), { cause: e });
    }
    throw e;
  }
}

export async function openHiveFile(file: string, opts: OpenOptions = {}): Promise<OpenedHive> {
  const bytes = await readFileChecked(file);
  const primary = withFile(file, () => parseBaseBlock(bytes));
  const dirty = isDirty(primary);
  const useLogs = opts.useLogs ?? true;
  // The logs' bytes are needed to inspect them (which replaying a dirty hive implies).
  const inspect = opts.inspectLogs !== false || (dirty && useLogs);
  const { logs: logFiles, paths: logPaths, refused: refusedLogs } = await readLogsChecked(file, inspect);
  let recovery: RecoveryResult | undefined;
  let unrecoverable = false;
  let image = bytes;
  let logs: LogInfo[] = inspect ? withFile(file, () => inspectLogs(bytes, logFiles)) : [];
  if (dirty && useLogs) {
    try {
      recovery = withFile(file, () => recoverHive(bytes, logFiles));
      image = recovery.bytes;
      logs = recovery.logs;
    } catch (e) {
      if (!(e instanceof DirtyHiveError) && !(e instanceof BadInputError && e.cause instanceof DirtyHiveError)) throw e;
      unrecoverable = true;
    }
  }
  const maxSeqSeen = Math.max(recovery?.maxSeqSeen ?? 0, ...logs.map((l) => Math.max(l.maxValidSeq ?? 0, l.baseSeq1 ?? 0, l.baseSeq2 ?? 0)));
  const hive = withFile(file, () => Hive.open(image, { maxSeqSeen }));
  return { path: file, hive, primary, dirty, logPaths, refusedLogs, logs, recovery, unrecoverable, logsInspected: inspect };
}

export interface SaveOptions {
  /** Write even though the primary is dirty and its logs could not be replayed (data in them is lost). */
  acceptDirty?: boolean;
}

/** Refuse to write a hive whose state we could not bring up to date, unless told to. */
export function checkWritable(h: OpenedHive, opts: SaveOptions = {}): void {
  if (!h.logsInspected) throw new Error('internal: hive opened with inspectLogs: false cannot be saved');
  // A log that is a link or a device: saving truncates the logs, and that must never reach outside.
  if (h.refusedLogs[0]) throw h.refusedLogs[0];
  if (h.dirty && !h.recovery && !opts.acceptDirty) {
    const why = h.unrecoverable ? 'its transaction logs are missing or unusable' : 'it was opened without its logs';
    throw new RefusedError(
      `${h.path}: the hive is dirty (not cleanly closed) and ${why}; writing it would lose the unflushed changes. ` +
        'Copy the .LOG1/.LOG2 files beside it, or pass --accept-dirty to write it anyway.',
      'dirty-hive',
    );
  }
}

/** Atomically replace the hive file with the hive's clean image, then empty its logs. */
export async function saveHiveFile(h: OpenedHive, opts: SaveOptions = {}): Promise<void> {
  checkWritable(h, opts);
  h.hive.verify();
  const data = h.hive.serialize();
  await atomicWrite(h.path, data);
  faultPoint('after-rename');
  for (const log of h.logPaths) {
    await truncateLogs([log]);
    faultPoint('after-truncate-' + path.basename(log));
  }
  h.hive.markSaved();
  h.dirty = false;
}

/** Write a new hive file (refuses to overwrite an existing one unless `overwrite`). */
export async function writeNewHiveFile(file: string, hive: Hive, overwrite = false): Promise<void> {
  if (!overwrite) {
    try {
      await fsp.access(file, fsc.F_OK);
      throw new RefusedError(`${file} already exists; choose another output path`, 'exists');
    } catch (e) {
      if (e instanceof RefusedError) throw e;
    }
  }
  hive.verify();
  await atomicWrite(file, hive.serialize());
  hive.markSaved();
}
