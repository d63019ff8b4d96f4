// Output helpers shared by every command: the top-level error handler, ASCII-safe text, JSON.
import { BadInputError, EXIT, WufixError } from '../shared/errors.js';

/** Map any error to an exit code, printing one line on stderr; stack traces only for real bugs. */
export function handleError(err: unknown): number {
  if (err instanceof BadInputError) {
    process.stderr.write(asciiSafe(`wufix: error: ${err.describe()}`) + '\n');
    return err.exitCode;
  }
  if (err instanceof WufixError) {
    const what = err.exitCode === EXIT.REFUSED ? 'refused' : err.exitCode === EXIT.VERIFY_FAILED ? 'verification failed' : err.exitCode === EXIT.INTERRUPTED ? 'interrupted' : 'error';
    process.stderr.write(asciiSafe(`wufix: ${what}: ${err.message}`) + '\n');
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.syscall === 'string') {
    // Operating-system errors on the user's paths are bad input, not bugs.
    process.stderr.write(asciiSafe(`wufix: error: ${e.path ?? ''}${e.path ? ': ' : ''}${e.message}`) + '\n');
    return EXIT.BAD_INPUT;
  }
  process.stderr.write(`wufix: internal error (please report): ${e?.stack ?? String(err)}\n`);
  return 70;
}

/**
 * Replace anything outside printable ASCII so the WinPE console shows it (\uXXXX escapes): control
 * characters from names in the image (ESC sequences, C1) never reach the terminal raw.
 */
export function asciiSafe(s: string): string {
  return s.replace(/[^\x20-\x7e\t\n]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function writeOut(s: string): void {
  process.stdout.write(s);
}

export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Collects output and writes it to stdout in large chunks, respecting back-pressure. */
export class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;
  private pending: Promise<void> = Promise.resolve();
  constructor(private readonly stream: NodeJS.WritableStream = process.stdout, private readonly chunk = 1 << 20) {}
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
