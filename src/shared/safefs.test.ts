// The confined file-access layer (src/shared/safefs.ts) on a host tree: links on the way or in place,
// special files, size caps, writes that would go through a link. Needs no root (FIFOs and symlinks
// are made by any user; /dev/null and /dev/zero stand for device nodes through a link).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readFileSync, rmSync, existsSync, lstatSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import {
  confine,
  checkPath,
  readFileSafe,
  openReadHandle,
  truncateSafe,
  renameSafe,
  removeFileSafe,
  mkdirSafe,
  appendSafe,
  sha256Safe,
  isPlainRelative,
  noteUnsafe,
  unsafeNotesUnder,
  UnsafePathError,
  TooLargeError,
} from './safefs.js';
import { atomicWrite } from './atomic.js';
import { resolveCaseInsensitive } from '../windows/paths.js';
import { termSafe, termSafeBlock, termSafeDeep } from './termsafe.js';

let tmp: string;
let root: string;
let outside: string;
const secret = 'SECRET-OUTSIDE-THE-TARGET';

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-safefs-'));
  root = path.join(tmp, 'vol');
  outside = path.join(tmp, 'host');
  mkdirSync(path.join(root, 'Windows', 'Logs'), { recursive: true });
  mkdirSync(path.join(outside, 'dir'), { recursive: true });
  writeFileSync(path.join(outside, 'secret.txt'), secret);
  writeFileSync(path.join(outside, 'dir', 'NTUSER.DAT'), secret);
  writeFileSync(path.join(root, 'Windows', 'Logs', 'ok.log'), 'hello');
  symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'Windows', 'Logs', 'link.log'));
  symlinkSync(path.join(outside, 'dir'), path.join(root, 'Users'));
  symlinkSync('/dev/zero', path.join(root, 'Windows', 'Logs', 'zero.log'));
  execFileSync('mkfifo', [path.join(root, 'Windows', 'Logs', 'fifo.log')]);
  confine(root);
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const refusal = (fn: () => unknown): UnsafePathError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsafePathError);
    return e as UnsafePathError;
  }
  throw new Error('expected an UnsafePathError');
};

describe('safefs: reads', () => {
  it('reads a regular file below the root', () => {
    expect(Buffer.from(readFileSafe(path.join(root, 'Windows', 'Logs', 'ok.log'), 100)).toString()).toBe('hello');
  });
  it('refuses a link in place of the file, naming it (volume-relative) and its target', () => {
    const e = refusal(() => readFileSafe(path.join(root, 'Windows', 'Logs', 'link.log'), 1 << 20));
    expect(e.rel).toBe('Windows\\Logs\\link.log');
    expect(e.kind).toBe('link');
    expect(e.problemLine()).toBe(`Windows\\Logs\\link.log: a symbolic link (or junction) to ${path.join(outside, 'secret.txt')}; not followed`);
    expect(e.exitCode).toBe(3);
  });
  it('refuses a folder on the way that is a link (the file behind it exists)', () => {
    const e = refusal(() => readFileSafe(path.join(root, 'Users', 'NTUSER.DAT'), 1 << 20));
    expect(e.rel).toBe('Users');
  });
  it('never opens a FIFO or a device (it would block or never end)', async () => {
    expect(refusal(() => readFileSafe(path.join(root, 'Windows', 'Logs', 'fifo.log'), 1 << 20)).kind).toBe('special-file');
    expect(refusal(() => readFileSafe(path.join(root, 'Windows', 'Logs', 'zero.log'), 1 << 20)).kind).toBe('link');
    await expect(openReadHandle(path.join(root, 'Windows', 'Logs', 'fifo.log'), 1 << 20)).rejects.toBeInstanceOf(UnsafePathError);
    // Outside any registered root the last component is still checked.
    expect(refusal(() => readFileSafe('/dev/zero', 1 << 20)).kind).toBe('special-file');
  });
  it('refuses a file above its cap before reading it', () => {
    expect(() => readFileSafe(path.join(root, 'Windows', 'Logs', 'ok.log'), 4)).toThrow(TooLargeError);
  });
  it('sha256Safe hashes regular files only', async () => {
    expect(await sha256Safe(path.join(root, 'Windows', 'Logs', 'ok.log'))).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    await expect(sha256Safe(path.join(root, 'Windows', 'Logs', 'link.log'))).rejects.toBeInstanceOf(UnsafePathError);
  });
});

describe('safefs: writes never go through a link', () => {
  it('atomicWrite refuses to replace a link, and to write below a linked folder', async () => {
    await expect(atomicWrite(path.join(root, 'Windows', 'Logs', 'link.log'), new Uint8Array([1]))).rejects.toBeInstanceOf(UnsafePathError);
    await expect(atomicWrite(path.join(root, 'Users', 'NTUSER.DAT'), new Uint8Array([1]))).rejects.toBeInstanceOf(UnsafePathError);
    expect(readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe(secret);
    expect(readFileSync(path.join(outside, 'dir', 'NTUSER.DAT'), 'utf8')).toBe(secret);
    expect(lstatSync(path.join(root, 'Windows', 'Logs', 'link.log')).isSymbolicLink()).toBe(true);
  });
  it('truncate, append, rename, remove and mkdir refuse links', () => {
    refusal(() => truncateSafe(path.join(root, 'Windows', 'Logs', 'link.log')));
    refusal(() => appendSafe(path.join(root, 'Windows', 'Logs', 'link.log'), 'x'));
    refusal(() => appendSafe(path.join(root, 'Users', 'log.txt'), 'x'));
    refusal(() => renameSafe(path.join(root, 'Windows', 'Logs', 'link.log'), path.join(root, 'Windows', 'Logs', 'moved')));
    refusal(() => renameSafe(path.join(root, 'Windows', 'Logs', 'ok.log'), path.join(root, 'Users', 'ok.log')));
    refusal(() => removeFileSafe(path.join(root, 'Windows', 'Logs', 'link.log')));
    refusal(() => mkdirSafe(path.join(root, 'Users', 'wufix', 'journal')));
    expect(readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe(secret);
    expect(existsSync(path.join(outside, 'dir', 'wufix'))).toBe(false);
    expect(existsSync(path.join(outside, 'dir', 'ok.log'))).toBe(false);
    expect(statSync(path.join(outside, 'secret.txt')).size).toBe(secret.length);
  });
  it('still writes, renames and truncates regular files', async () => {
    const f = path.join(root, 'Windows', 'new.txt');
    await atomicWrite(f, new TextEncoder().encode('abc'));
    appendSafe(f, 'def');
    expect(readFileSync(f, 'utf8')).toBe('abcdef');
    truncateSafe(f);
    expect(statSync(f).size).toBe(0);
    renameSafe(f, path.join(root, 'Windows', 'new2.txt'));
    removeFileSafe(path.join(root, 'Windows', 'new2.txt'));
    expect(existsSync(path.join(root, 'Windows', 'new2.txt'))).toBe(false);
    mkdirSafe(path.join(root, 'wufix', 'journal', 'run'));
    expect(checkPath(path.join(root, 'wufix', 'journal', 'run'), 'dir')!.isDirectory()).toBe(true);
  });
});

describe('resolveCaseInsensitive never enters a link', () => {
  it('stops at a linked folder (noted as evidence), returns a final link as it is', () => {
    expect(resolveCaseInsensitive(root, 'users\\ntuser.dat')).toBeUndefined();
    expect(unsafeNotesUnder(root)).toContain(`Users: a symbolic link (or junction) to ${path.join(outside, 'dir')}; not followed`);
    expect(resolveCaseInsensitive(root, 'WINDOWS\\logs\\LINK.LOG')).toBe(path.join(root, 'Windows', 'Logs', 'link.log'));
    expect(resolveCaseInsensitive(root, 'Windows\\..\\..\\host\\secret.txt')).toBeUndefined();
    expect(resolveCaseInsensitive(root, 'Windows\\Logs\\ok.log\0')).toBeUndefined();
  });
  it('notes are escaped and kept per root', () => {
    noteUnsafe(path.join(root, 'x\x1b[2J'), 'a FIFO (named pipe), not a regular file; not opened');
    expect(unsafeNotesUnder(root)).toContain('x\\x1b[2J: a FIFO (named pipe), not a regular file; not opened');
    expect(unsafeNotesUnder(outside)).toEqual([]);
  });
});

describe('isPlainRelative and termSafe', () => {
  it('accepts plain relative paths only', () => {
    expect(isPlainRelative('Users/Alice/NTUSER.DAT')).toBe(true);
    expect(isPlainRelative('Windows\\System32\\config\\SYSTEM')).toBe(true);
    for (const bad of ['', '../x', 'a/../b', '/etc/passwd', '\\\\host\\share', 'C:\\x', 'a//b', './a', 'a\0b']) expect(isPlainRelative(bad), bad).toBe(false);
  });
  it('escapes control characters, C1 and bidi overrides', () => {
    expect(termSafe('a\x1b[2Jb\x07\x9b\u202e\nz')).toBe('a\\x1b[2Jb\\x07\\x9b\\u202e\\nz');
    expect(termSafeBlock('one\x1b]0;x\x07\ntwo')).toBe('one\\x1b]0;x\\x07\ntwo');
    expect(termSafeDeep({ a: ['\x1b'], b: { c: '\x07' }, n: 5 })).toEqual({ a: ['\\x1b'], b: { c: '\\x07' }, n: 5 });
  });
});

describe('hard links', () => {
  it('truncate and append refuse a file with another name (a host file sharing its inode is untouched)', async () => {
    const { linkSync } = await import('node:fs');
    const hostFile = path.join(outside, 'hardlinked.txt');
    writeFileSync(hostFile, secret);
    const inTarget = path.join(root, 'Windows', 'Logs', 'hard.LOG1');
    linkSync(hostFile, inTarget);
    const e = refusal(() => truncateSafe(inTarget));
    expect(e.problemLine()).toMatch(/^Windows\\Logs\\hard\.LOG1: a hard link \(the file has 2 names/);
    refusal(() => appendSafe(inTarget, 'x'));
    expect(readFileSync(hostFile, 'utf8')).toBe(secret);
    // A replacing write gives the target's name a new inode and leaves the host's as it was.
    await atomicWrite(inTarget, new TextEncoder().encode('new'));
    expect(readFileSync(hostFile, 'utf8')).toBe(secret);
    expect(readFileSync(inTarget, 'utf8')).toBe('new');
  });
});
