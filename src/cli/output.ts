// Output helpers shared by every command: the top-level error handler, ASCII-safe text, JSON.
import { BadInputError, EXIT, WufixError, type ExitCode } from '../shared/errors.js';
import { asciiSafe } from '../shared/style.js';

// Anything outside printable ASCII as \uXXXX (src/shared/style.ts): the WinPE console shows it.
export { asciiSafe };

/** The error as --json prints it on stdout: `{"error": {"code", "exitCode", "message", ...}}`. */
export interface JsonError {
  code: string;
  exitCode: ExitCode;
  message: string;
  /** Bad input: the file, and the offset in it when one applies. */
  file?: string;
  offset?: number;
  /** An operating-system error on the user's paths: its errno name (ENOENT, EACCES, ...). */
  errno?: string;
}

/** --json among the options (before any `--`): errors are then also printed as JSON on stdout. */
export function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * Map any error to an exit code, printing one line on stderr (stack traces only for real bugs,
 * EXIT.INTERNAL) and, with --json, the error object on stdout.
 */
export function handleError(err: unknown, json = jsonRequested(process.argv.slice(2))): number {
  const { line, error } = describeError(err);
  process.stderr.write(line + '\n');
  if (json) writeJsonAscii({ error });
  return error.exitCode;
}

/** One plain-words cause per errno wufix meets on the user's paths (the path is printed before it). */
export function errnoWords(
  code: string,
  platform: NodeJS.Platform = process.platform,
  root = platform !== 'win32' && typeof process.getuid === 'function' && process.getuid() === 0,
): string | undefined {
  // Already root and still refused: a container, sandbox or security module, not a missing sudo.
  const admin = platform === 'win32' ? 'run as Administrator' : root ? 'refused even to root (a container, sandbox or security module)' : 'run as root (sudo)';
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
      return `permission denied: ${admin}`;
    case 'EPERM':
      return `operation not permitted: ${admin}`;
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'EROFS':
      return 'read-only file system: mount it read-write';
    case 'EBUSY':
      return 'busy: in use by another program (mounted?)';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return undefined;
  }
}

/** The one line (and the --json error object) for any error: see handleError. */
export function describeError(err: unknown): { line: string; error: JsonError } {
  if (err instanceof BadInputError) {
    const where = { ...(err.file !== undefined ? { file: err.file } : {}), ...(err.offset !== undefined ? { offset: err.offset } : {}) };
    return { line: oneLine(`wufix: error: ${err.describe()}`), error: { code: err.code, exitCode: err.exitCode, message: err.message, ...where } };
  }
  if (err instanceof WufixError) {
    const what =
      err.exitCode === EXIT.REFUSED
        ? 'refused'
        : err.exitCode === EXIT.VERIFY_FAILED
          ? 'verification failed'
          : err.exitCode === EXIT.INTERRUPTED
            ? 'interrupted'
            : 'error';
    return { line: oneLine(`wufix: ${what}: ${err.message}`), error: { code: err.code, exitCode: err.exitCode, message: err.message } };
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.syscall === 'string') {
    // Operating-system errors on the user's paths are bad input, not bugs: the path and the cause in plain words.
    const words = errnoWords(e.code);
    const message = words ?? e.message;
    const line = oneLine(`wufix: error: ${e.path ?? ''}${e.path ? ': ' : ''}${message}${words ? ` (${e.code})` : ''}`);
    return { line, error: { code: 'bad-input', exitCode: EXIT.BAD_INPUT, message, errno: e.code, ...(e.path ? { file: e.path } : {}) } };
  }
  const message = e?.message ?? String(err);
  return { line: `wufix: internal error (please report): ${e?.stack ?? String(err)}`, error: { code: 'internal', exitCode: EXIT.INTERNAL, message } };
}

/** ASCII-safe and on one line: a newline inside a message (from a tool or the image) is shown as a space. */
function oneLine(s: string): string {
  return asciiSafe(s.replace(/\s*[\r\n]+\s*/g, ' '));
}

export function writeOut(s: string): void {
  process.stdout.write(s);
}

export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** JSON with everything outside printable ASCII escaped (\uXXXX is valid JSON inside strings). */
function writeJsonAscii(value: unknown): void {
  process.stdout.write(asciiSafe(JSON.stringify(value, null, 2)) + '\n');
}

/** Collects output and writes it to stdout in large chunks, respecting back-pressure. */
export class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;
  private pending: Promise<void> = Promise.resolve();
  constructor(
    private readonly stream: NodeJS.WritableStream = process.stdout,
    private readonly chunk = 1 << 20,
  ) {}
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.chunk) this.flushSome();
  }
  private flushSome(): void {
    const data = this.parts.join('');
    this.parts = [];
    this.size = 0;
    const stream = this.stream;
    this.pending = this.pending.then(
      () =>
        new Promise<void>((resolve) => {
          if (stream.write(data)) resolve();
          else stream.once('drain', () => resolve());
        }),
    );
  }
  async end(): Promise<void> {
    if (this.size > 0 || this.parts.length) this.flushSome();
    await this.pending;
  }
}

/**
 * Stream byte chunks produced synchronously by `produce` to stdout. On Linux, stdout to a file or
 * pipe is synchronous; where it is not (Windows pipes), chunks queue in the stream and we wait for
 * them to drain at the end.
 */
export async function writeChunks(produce: (sink: (chunk: Uint8Array) => boolean) => void): Promise<void> {
  let ok = true;
  produce((chunk) => {
    ok = process.stdout.write(chunk) && ok;
    // Nothing left buffered: the write was synchronous and the chunk may be reused.
    return process.stdout.writableLength === 0;
  });
  if (!ok) await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
}
