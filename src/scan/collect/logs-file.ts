// The only fs code of the log readers: open a log and stream it in 1 MiB chunks (never read whole),
// plus one-call wrappers around the pure parsers of formats/logs/.
import type { FileHandle } from 'node:fs/promises';
import { BadInputError } from '../../shared/errors.js';
import { openReadHandle, UnsafePathError } from '../../shared/safefs.js';
import {
  parseCbsLog,
  parseReportingEvents,
  parseSetupLog,
  parseWindowsUpdateLog,
  type CbsRecord,
  type ParseOptions,
  type ReportingEvent,
  type SetupLogRecord,
  type SetupParseOptions,
  type WindowsUpdateLogRecord,
} from '../../formats/logs/index.js';

export const LOG_CHUNK_SIZE = 1 << 20;
/** Logs are streamed (memory: one chunk); a larger one than this is not read at all (time bound). */
export const MAX_LOG_FILE_BYTES = 4 * 2 ** 30;
/**
 * .NET/MSI setup logs are many small files (a few MB each): each is read up to 256 MiB, and all of
 * them together up to SETUP_LOG_BUDGET (sparse files cost an attacker nothing but read time).
 */
export const MAX_SETUP_LOG_BYTES = 256 * 2 ** 20;
export const SETUP_LOG_BUDGET = 2 * 2 ** 30;

export interface FileChunkOptions {
  /** Bytes per read (default 1 MiB). */
  chunkSize?: number;
  /** Start reading at this byte offset (default 0). */
  start?: number;
  /** A larger file is not read at all (default MAX_LOG_FILE_BYTES). */
  cap?: number;
}

function ioError(path: string, e: unknown, what: string, offset?: number): BadInputError {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code === 'ENOENT' ? 'log-missing' : 'log-read';
  return new BadInputError(`${what}: ${err?.message ?? String(e)}`, offset === undefined ? { file: path, code } : { file: path, offset, code });
}

/**
 * Read a file as a sequence of chunks (each a fresh buffer the consumer may keep). The file is
 * opened read-only and closed when the iteration ends, also on early exit. Open/read failures are
 * BadInputError with code 'log-missing' (ENOENT) or 'log-read'.
 */
export async function* fileChunks(path: string, opts: FileChunkOptions = {}): AsyncGenerator<Uint8Array> {
  const size = Math.max(1, Math.floor(opts.chunkSize ?? LOG_CHUNK_SIZE));
  let fh: FileHandle;
  let sizeAtOpen: number;
  try {
    // No link followed, no device or FIFO opened (a FIFO or /dev/zero would never end).
    ({ fh, size: sizeAtOpen } = await openReadHandle(path, opts.cap ?? MAX_LOG_FILE_BYTES, 'the log'));
  } catch (e) {
    if (e instanceof UnsafePathError || (e instanceof BadInputError && e.code === 'too-large')) throw e;
    if (e instanceof BadInputError && e.code === 'not-found') throw new BadInputError(`cannot open log: ${e.message}`, { file: path, code: 'log-missing' });
    throw ioError(path, e, 'cannot open log');
  }
  try {
    let pos = Math.max(0, opts.start ?? 0);
    // Never past the size seen at open: a file growing while it is read does not extend the work.
    while (pos < sizeAtOpen) {
      const buf = Buffer.allocUnsafe(size);
      let n: number;
      try {
        n = (await fh.read(buf, 0, size, pos)).bytesRead;
      } catch (e) {
        throw ioError(path, e, 'cannot read log', pos);
      }
      if (n === 0) break;
      pos += n;
      yield n === size ? buf : buf.subarray(0, n);
    }
  } finally {
    await fh.close();
  }
}

/** Windows\SoftwareDistribution\ReportingEvents.log */
export function readReportingEventsFile(path: string, opts: ParseOptions = {}): AsyncGenerator<ReportingEvent> {
  return parseReportingEvents(fileChunks(path), path, opts);
}

/** Windows\Logs\CBS\CBS.log */
export function readCbsLogFile(path: string, opts: ParseOptions = {}): AsyncGenerator<CbsRecord> {
  return parseCbsLog(fileChunks(path), path, opts);
}

/** Windows\WindowsUpdate.log (pre-Windows 10 text format) */
export function readWindowsUpdateLogFile(path: string, opts: ParseOptions = {}): AsyncGenerator<WindowsUpdateLogRecord> {
  return parseWindowsUpdateLog(fileChunks(path), path, opts);
}

/** dd_dotnet*.txt, *_MSP0.txt, .NET 4 HTML logs, verbose MSI logs */
export function readSetupLogFile(path: string, opts: SetupParseOptions = {}): AsyncGenerator<SetupLogRecord> {
  return parseSetupLog(fileChunks(path, { cap: MAX_SETUP_LOG_BYTES }), path, opts);
}
