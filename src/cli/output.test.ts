// Pure test of the one error handler: exit codes from the EXIT table, the stderr line, and with
// --json the error object (code, exitCode, message) on stdout, escaped to ASCII.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BAD_INPUT_CODES, BadInputError, EXIT, RefusedError, REFUSAL_CODES, UsageError, VERIFICATION_CODES, VerificationError } from '../shared/errors.js';
import { describeError, errnoWords, handleError, jsonRequested } from './output.js';

function run(err: unknown, json: boolean): { code: number; out: string; errText: string } {
  let out = '';
  let errText = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((errText += String(s)), true));
  const code = handleError(err, json);
  vi.restoreAllMocks();
  return { code, out, errText };
}

describe('handleError', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a refusal: exit 3, one stderr line, and with --json its code on stdout', () => {
    const e = new RefusedError('Windows\\x\u001b[31m is a symbolic link', 'link');
    const text = run(e, false);
    expect(text).toEqual({ code: EXIT.REFUSED, out: '', errText: 'wufix: refused: Windows\\x\\u001b[31m is a symbolic link\n' });
    const json = run(e, true);
    expect(json.errText).toBe(text.errText);
    expect(JSON.parse(json.out)).toEqual({ error: { code: 'link', exitCode: 3, message: 'Windows\\x\u001b[31m is a symbolic link' } });
    expect(json.out).toMatch(/^[\x20-\x7e\n]*$/);
  });

  it('bad input carries file and offset; usage, verification and OS errors their codes', () => {
    expect(JSON.parse(run(new BadInputError('no "hbin" signature', { file: 'SYSTEM', offset: 0x1a000, code: 'format' }), true).out)).toEqual({
      error: { code: 'format', exitCode: 2, message: 'no "hbin" signature', file: 'SYSTEM', offset: 0x1a000 },
    });
    expect(JSON.parse(run(new UsageError('give a run id'), true).out).error).toEqual({ code: 'usage', exitCode: 1, message: 'give a run id' });
    expect(JSON.parse(run(new VerificationError('x differs'), true).out).error).toMatchObject({ code: 'verify-failed', exitCode: 4 });
    const os = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT', syscall: 'open', path: '/x' });
    expect(JSON.parse(run(os, true).out).error).toMatchObject({ code: 'bad-input', exitCode: 2, errno: 'ENOENT', file: '/x' });
  });

  it('a bug: EXIT.INTERNAL (70), the stack on stderr', () => {
    const r = run(new TypeError('x is undefined'), true);
    expect(r.code).toBe(EXIT.INTERNAL);
    expect(r.code).toBe(70);
    expect(r.errText).toMatch(/^wufix: internal error \(please report\): TypeError: x is undefined\n\s+at /);
    expect(JSON.parse(r.out).error).toEqual({ code: 'internal', exitCode: 70, message: 'x is undefined' });
  });

  it('--json counts only among the options, not after --', () => {
    expect(jsonRequested(['repair', '--root', 'r', '--json'])).toBe(true);
    expect(jsonRequested(['hive', 'get', '--', '--json'])).toBe(false);
    expect(jsonRequested(['scan', '--root', 'r'])).toBe(false);
  });

  it('every refusal code has a one-line ASCII meaning', () => {
    for (const [code, meaning] of Object.entries(REFUSAL_CODES)) {
      expect(code).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(meaning, code).toMatch(/^[\x20-\x7e]{10,100}$/);
    }
  });
});

describe('README error-code table', () => {
  it('lists every code of REFUSAL_CODES, BAD_INPUT_CODES and VERIFICATION_CODES with its exit code and meaning, and no other', () => {
    const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z0-9-]+)` \| (\d+) \| (.*) \|$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    const want = [
      ...Object.entries(REFUSAL_CODES).map(([c, m]) => `${c} 3 ${m}`),
      ...Object.entries(BAD_INPUT_CODES).map(([c, m]) => `${c} 2 ${m}`),
      ...Object.entries(VERIFICATION_CODES).map(([c, m]) => `${c} 4 ${m}`),
    ];
    expect(rows).toEqual(want);
  });
});

describe('operating-system errors in plain words (describeError)', () => {
  const osError = (code: string, p: string) => Object.assign(new Error(`${code}: raw message, open '${p}'`), { code, syscall: 'open', path: p });

  it('each errno wufix meets: the path, the cause in words, the errno; exit 2', () => {
    // The advice depends on who runs the tests: root is not told to use sudo.
    const root = process.platform !== 'win32' && process.getuid?.() === 0;
    const advice =
      process.platform === 'win32' ? 'run as Administrator' : root ? 'refused even to root (a container, sandbox or security module)' : 'run as root (sudo)';
    const want: Record<string, string> = {
      ENOENT: 'does not exist',
      EACCES: `permission denied: ${advice}`,
      EPERM: `operation not permitted: ${advice}`,
      ENOTDIR: 'a part of the path is not a folder',
      EISDIR: 'is a folder, not a file',
      EROFS: 'read-only file system: mount it read-write',
    };
    for (const [code, words] of Object.entries(want)) {
      const { line, error } = describeError(osError(code, '/dev/sdb'));
      expect(line).toBe(`wufix: error: /dev/sdb: ${words} (${code})`);
      expect(error).toEqual({ code: 'bad-input', exitCode: EXIT.BAD_INPUT, message: words, errno: code, file: '/dev/sdb' });
    }
  });

  it('the advice follows the host: Administrator on Windows, root elsewhere', () => {
    expect(errnoWords('EACCES', 'win32')).toBe('permission denied: run as Administrator');
    expect(errnoWords('EACCES', 'linux', false)).toBe('permission denied: run as root (sudo)');
    // Root already, and still refused: sudo would not help, so it is not advised.
    expect(errnoWords('EPERM', 'linux', true)).toBe('operation not permitted: refused even to root (a container, sandbox or security module)');
    expect(errnoWords('EPERM', 'win32')).toBe('operation not permitted: run as Administrator');
    expect(errnoWords('EWHATEVER', 'linux')).toBeUndefined();
  });

  it('an errno without words keeps the system message; a message with a newline stays one line', () => {
    expect(describeError(osError('EXDEV', '/x')).line).toBe("wufix: error: /x: EXDEV: raw message, open '/x'");
    expect(describeError(new BadInputError('first\nsecond', { file: 'f' })).line).toBe('wufix: error: f: first second');
  });
});
