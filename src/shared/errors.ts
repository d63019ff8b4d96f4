// Typed errors with a machine code; the CLI's one top-level handler maps them to exit codes.

/** Documented exit codes (README "Exit codes"). */
export const EXIT = {
  OK: 0,
  USAGE: 1,
  BAD_INPUT: 2,
  REFUSED: 3,
  /** Something was written and did not read back as planned (the journal is needed to undo it). */
  VERIFY_FAILED: 4,
  FINDINGS: 10,
  /** Stopped by Ctrl-C, SIGTERM or SIGHUP: before any change nothing was written, after one it was rolled back. */
  INTERRUPTED: 130,
} as const;

export class WufixError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(code: string, message: string, exitCode: number) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Input we cannot read or do not support. `offset` is a file offset when one applies. */
export class BadInputError extends WufixError {
  readonly file?: string;
  readonly offset?: number;
  constructor(message: string, opts: { file?: string; offset?: number; code?: string } = {}) {
    super(opts.code ?? 'bad-input', message, EXIT.BAD_INPUT);
    this.file = opts.file;
    this.offset = opts.offset;
  }
  /** One line: "<file>: at offset 0x...: <problem>". */
  describe(): string {
    const where = this.offset !== undefined ? `at offset 0x${this.offset.toString(16)}: ` : '';
    return `${this.file ? this.file + ': ' : ''}${where}${this.message}`;
  }
}

/** Something we will not do because it could lose data; the message says what, why and what to do. */
export class RefusedError extends WufixError {
  constructor(message: string, code = 'refused') {
    super(code, message, EXIT.REFUSED);
  }
}

/** Something written (or restored) does not read back as planned: exit 4. The message says what differs. */
export class VerificationError extends WufixError {
  constructor(message: string, code = 'verify-failed') {
    super(code, message, EXIT.VERIFY_FAILED);
  }
}

/** A stop signal ended the run (exit 130); the message says what state the target was left in. */
export class InterruptedError extends WufixError {
  constructor(message: string) {
    super('interrupted', message, EXIT.INTERRUPTED);
  }
}

export class UsageError extends WufixError {
  constructor(message: string) {
    super('usage', message, EXIT.USAGE);
  }
}

/** Raised by parsers on a structural problem; `offset` is relative to the buffer being parsed. */
export class FormatError extends BadInputError {
  constructor(message: string, offset?: number) {
    super(message, { offset, code: 'format' });
  }
}
