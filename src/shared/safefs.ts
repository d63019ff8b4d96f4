// The confined file-access layer: every read, write, rename, truncate and delete of a target (a
// mounted Windows volume or a volume tree) goes through here. The target is hostile input (issue #14,
// docs/security.md): a name in it may be a symbolic link, a junction, an Interix link shown by
// ntfs-3g, a device node, a FIFO or a socket, and none of them is ever followed or opened.
//
// - Target roots are registered once per run (`confine(root)`). For a path below a registered root,
//   every component from the root down is checked with lstat: a link or a special file anywhere on
//   the way refuses the access (UnsafePathError, exit 3, naming the volume-relative path and, for a
//   link, where it points). Outside any registered root (e.g. `wufix hive dump <file>`), the last
//   component is checked the same way.
// - Files are opened with O_NOFOLLOW | O_NONBLOCK | O_NOCTTY (Linux), then fstat'ed: only a regular
//   file with the inode lstat saw is read. On Linux the opened descriptor's real path is compared
//   with the expected one (a component swapped for a link between check and open is caught).
// - Reads are bounded: every reader states a size cap; a larger file is refused before reading.
import {
  closeSync,
  constants as fsc,
  fstatSync,
  readFileSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { BadInputError, RefusedError, WufixError } from './errors.js';
import { termSafe } from './termsafe.js';

const NOFOLLOW = fsc.O_NOFOLLOW ?? 0;
const NONBLOCK = fsc.O_NONBLOCK ?? 0;
const NOCTTY = fsc.O_NOCTTY ?? 0;
const READ_FLAGS = fsc.O_RDONLY | NOFOLLOW | NONBLOCK | NOCTTY;

export type UnsafeKind = 'link' | 'special-file' | 'outside' | 'not-a-directory';

/** A path in the target that wufix will not follow or open. Exit 3; `rel` is volume-relative. */
export class UnsafePathError extends RefusedError {
  readonly rel: string;
  readonly kind: UnsafeKind;
  /** One phrase for a problem line: "a symbolic link to /etc/passwd; not followed". */
  readonly what: string;
  constructor(rel: string, kind: UnsafeKind, what: string) {
    super(
      `${termSafe(rel)} is ${what}; wufix never follows links or opens special files in the target: look at it (it may have been planted), remove or replace it by hand, then retry`,
      kind === 'link' ? 'link' : kind === 'special-file' ? 'special-file' : 'unsafe-path',
    );
    this.rel = rel;
    this.kind = kind;
    this.what = what;
  }
  /** "Users\Alice\NTUSER.DAT.LOG1: a symbolic link to /x; not followed" (terminal-safe). */
  problemLine(): string {
    return `${termSafe(this.rel)}: ${this.what}`;
  }
}

/** A file larger than its reader's stated cap: refused before any byte is read (exit 2). */
export class TooLargeError extends BadInputError {
  constructor(file: string, size: number, cap: number, what: string) {
    super(`${what} is ${size} bytes, more than the ${cap} bytes wufix reads; not read`, { file, code: 'too-large' });
  }
}

interface Root {
  /** As given (the prefix callers build paths from). */
  given: string;
  /** realpath of it (what /proc/self/fd shows). */
  real: string;
}

const roots: Root[] = [];

/** Register a target root for the rest of the process (idempotent). Returns its resolved path. */
export function confine(root: string): string {
  const given = path.resolve(root);
  if (!roots.some((r) => r.given === given)) {
    let real = given;
    try {
      real = realpathSync(given); // the root itself is the user's choice (a mount point, a tree)
    } catch {
      /* not there yet: checks below report it */
    }
    roots.push({ given, real });
    roots.sort((a, b) => b.given.length - a.given.length); // the deepest root first
  }
  return given;
}

/** Forget registered roots (tests). */
export function unconfineAll(): void {
  roots.length = 0;
}

function rootOf(abs: string): Root | undefined {
  return roots.find((r) => abs === r.given || abs.startsWith(r.given.endsWith(path.sep) ? r.given : r.given + path.sep));
}

/** Volume-relative Windows form of a host path (for messages), or the path itself outside roots. */
export function relName(p: string): string {
  const abs = path.resolve(p);
  const r = rootOf(abs);
  if (!r) return p;
  return path.relative(r.given, abs).split(path.sep).join('\\') || '.';
}

/** What a non-regular, non-directory node is, in words. */
export function describeNode(st: Stats, p: string): string {
  if (st.isSymbolicLink()) {
    let target = '?';
    try {
      target = readlinkSync(p);
    } catch {
      /* unreadable target */
    }
    return `a symbolic link (or junction) to ${termSafe(target)}; not followed`;
  }
  if (st.isBlockDevice()) return 'a block device node, not a regular file; not opened';
  if (st.isCharacterDevice()) return 'a character device node, not a regular file; not opened';
  if (st.isFIFO()) return 'a FIFO (named pipe), not a regular file; not opened';
  if (st.isSocket()) return 'a socket, not a regular file; not opened';
  return 'not a regular file; not opened';
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

export type Want = 'file' | 'dir' | 'file-or-dir';

/**
 * Check `p` (and, below a registered root, every directory on the way) without following anything.
 * Returns the lstat of `p`, or undefined when it does not exist (and `mayBeAbsent`).
 */
export function checkPath(p: string, want: Want, mayBeAbsent = false): Stats | undefined {
  const abs = path.resolve(p);
  const r = rootOf(abs);
  if (r) {
    const parts = path.relative(r.given, abs).split(path.sep).filter(Boolean);
    let cur = r.given;
    for (let i = 0; i < parts.length - 1; i++) {
      cur = path.join(cur, parts[i]!);
      const st = lstatOrUndefined(cur);
      if (!st) {
        if (mayBeAbsent) return undefined;
        throw notFound(p);
      }
      if (!st.isDirectory())
        throw new UnsafePathError(
          relName(cur),
          st.isSymbolicLink() ? 'link' : 'not-a-directory',
          st.isSymbolicLink() || !st.isFile() ? describeNode(st, cur) : 'a file where a folder was expected; not used',
        );
    }
  }
  const st = lstatOrUndefined(abs);
  if (!st) {
    if (mayBeAbsent) return undefined;
    throw notFound(p);
  }
  const ok = want === 'file' ? st.isFile() : want === 'dir' ? st.isDirectory() : st.isFile() || st.isDirectory();
  if (!ok) {
    if (st.isSymbolicLink()) throw new UnsafePathError(relName(abs), 'link', describeNode(st, abs));
    if (!st.isFile() && !st.isDirectory()) throw new UnsafePathError(relName(abs), 'special-file', describeNode(st, abs));
    throw new UnsafePathError(
      relName(abs),
      'not-a-directory',
      want === 'file' ? 'a folder where a file was expected; not used' : 'a file where a folder was expected; not used',
    );
  }
  return st;
}

function notFound(p: string): BadInputError {
  return new BadInputError('no such file', { file: p, code: 'not-found' });
}

/** The opened descriptor is the file we checked: same inode, and (Linux) the same real path. */
function checkOpened(fd: number, abs: string, before: Stats): Stats {
  const st = fstatSync(fd);
  if (!st.isFile() || st.ino !== before.ino || st.dev !== before.dev) {
    throw new UnsafePathError(relName(abs), 'link', 'replaced while it was being opened; not read');
  }
  if (process.platform === 'linux') {
    const r = rootOf(abs);
    if (r) {
      let real: string | undefined;
      try {
        real = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        /* no /proc: the lstat walk above stands */
      }
      const want = path.join(r.real, path.relative(r.given, abs));
      if (real !== undefined && real !== want) throw new UnsafePathError(relName(abs), 'link', `reached through a link (it opens ${termSafe(real)}); not read`);
    }
  }
  return st;
}

/** Open a regular file of the target for reading (synchronous fd). The caller closes it. */
export function openReadSync(p: string, cap: number, what = 'the file'): { fd: number; size: number } {
  const abs = path.resolve(p);
  const before = checkPath(abs, 'file')!;
  if (before.size > cap) throw new TooLargeError(p, before.size, cap, what);
  const fd = openSync(abs, READ_FLAGS);
  try {
    const st = checkOpened(fd, abs, before);
    if (st.size > cap) throw new TooLargeError(p, st.size, cap, what);
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Read a whole regular file of at most `cap` bytes (never more than its size at open). */
export function readFileSafe(p: string, cap: number, what = 'the file'): Uint8Array {
  const { fd, size } = openReadSync(p, cap, what);
  try {
    const buf = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, done, size - done, done);
      if (n === 0) break; // shrank while reading: what was there
      done += n;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, done);
  } finally {
    closeSync(fd);
  }
}

/** Open a regular file for streaming reads (FileHandle); its size is capped too. */
export async function openReadHandle(p: string, cap: number, what = 'the file'): Promise<{ fh: fsp.FileHandle; size: number }> {
  const abs = path.resolve(p);
  const before = checkPath(abs, 'file')!;
  if (before.size > cap) throw new TooLargeError(p, before.size, cap, what);
  const fh = await fsp.open(abs, READ_FLAGS);
  try {
    const st = checkOpened(fh.fd, abs, before);
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** lstat of a path in the target, or undefined when absent; the directories on the way are checked. */
export function statSafe(p: string): Stats | undefined {
  return checkPath(p, 'file-or-dir', true);
}

/** Does a regular file or directory exist there (links and special files do not count)? */
export function existsSafe(p: string): boolean {
  try {
    return statSafe(p) !== undefined;
  } catch (e) {
    if (e instanceof UnsafePathError) return false;
    throw e;
  }
}

/**
 * In-place writes (truncate, append) refuse a file with more than one name: a hard link made on the
 * host's file system could share its inode with a host file. (Replacing writes are atomic renames and
 * leave any other name's inode as it was.)
 */
function refuseHardLink(abs: string, st: Stats): void {
  if (st.nlink > 1)
    throw new UnsafePathError(relName(abs), 'link', `a hard link (the file has ${st.nlink} names; one may be outside the target); not written in place`);
}

/** Truncate a regular file of the target to 0 bytes and fsync it (a hive's transaction log). */
export function truncateSafe(p: string): void {
  const abs = path.resolve(p);
  const before = checkPath(abs, 'file')!;
  refuseHardLink(abs, before);
  const fd = openSync(abs, fsc.O_WRONLY | NOFOLLOW | NONBLOCK | NOCTTY);
  try {
    checkOpened(fd, abs, before);
    ftruncateSync(fd, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Create a directory and its missing parents; each component must be a real directory. */
export function mkdirSafe(dir: string): void {
  const abs = path.resolve(dir);
  const r = rootOf(abs);
  const base = r ? r.given : path.parse(abs).root;
  const parts = path.relative(base, abs).split(path.sep).filter(Boolean);
  let cur = base;
  for (const part of parts) {
    cur = path.join(cur, part);
    let st = lstatOrUndefined(cur);
    if (!st) {
      try {
        mkdirSync(cur);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      st = lstatSync(cur);
    }
    if (!st.isDirectory())
      throw new UnsafePathError(
        relName(cur),
        st.isSymbolicLink() ? 'link' : 'not-a-directory',
        st.isSymbolicLink() || !st.isFile() ? describeNode(st, cur) : 'a file where a folder was expected; not used',
      );
  }
}

/** Rename within the target: the source must be a real file or folder, the destination absent. */
export function renameSafe(from: string, to: string): void {
  checkPath(from, 'file-or-dir');
  checkPath(path.dirname(path.resolve(to)), 'dir');
  if (lstatOrUndefined(to)) throw new RefusedError(`${termSafe(relName(to))} already exists; move it away first`, 'exists');
  renameSync(from, to);
}

/** Delete a regular file of the target (absent is fine); links and special files are refused. */
export function removeFileSafe(p: string): void {
  const st = checkPath(p, 'file', true);
  if (st) rmSync(p, { force: true });
}

/** The directory's entries (no link followed: Dirent types are those of the entries themselves). */
export async function readdirSafe(dir: string): Promise<import('node:fs').Dirent[]> {
  checkPath(dir, 'dir');
  return fsp.readdir(dir, { withFileTypes: true });
}

/** Append text to a regular file (created when absent; a link or special file is refused). */
export function appendSafe(p: string, text: string): void {
  const abs = path.resolve(p);
  checkPath(path.dirname(abs), 'dir');
  const before = checkPath(abs, 'file', true);
  const fd = openSync(abs, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | NOFOLLOW | NONBLOCK | NOCTTY, 0o644);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || (before && st.ino !== before.ino)) throw new UnsafePathError(relName(abs), 'link', 'replaced while it was being opened; not written');
    refuseHardLink(abs, st);
    const b = Buffer.from(text);
    let done = 0;
    while (done < b.length) done += writeSync(fd, b, done, b.length - done);
  } finally {
    closeSync(fd);
  }
}

// Evidence: what the lookups of a run passed over (a link or special file where a folder was
// expected). The scan turns these into problem lines; they are never followed.
const notes = new Map<string, string>();

/** Record that `p` was not followed (`what` from describeNode). */
export function noteUnsafe(p: string, what: string): void {
  const abs = path.resolve(p);
  if (!notes.has(abs)) notes.set(abs, what);
}

/** Problem lines for what was passed over below `root` ("Users\Alice: a symbolic link to ..."). */
export function unsafeNotesUnder(root: string): string[] {
  const r = path.resolve(root);
  const out: string[] = [];
  for (const [abs, what] of notes) {
    const rel = path.relative(r, abs);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) out.push(`${termSafe(rel.split(path.sep).join('\\'))}: ${what}`);
  }
  return out.sort();
}

/** The text of a problem line for an error met while reading the target. */
export function problemText(e: unknown, label?: string): string {
  if (e instanceof UnsafePathError) return label === e.rel ? e.what : `${termSafe(e.rel)} is ${e.what}`;
  if (e instanceof WufixError) return termSafe(e.message);
  return termSafe((e as Error)?.message ?? String(e));
}

/** SHA-256 of a regular file of the target, read in 1 MiB pieces (no link followed). */
export async function sha256Safe(p: string, cap = Number.MAX_SAFE_INTEGER): Promise<string> {
  const h = createHash('sha256');
  const { fh } = await openReadHandle(p, cap);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/** A relative path from a journal or plan ("Users/Alice/NTUSER.DAT"): no `..`, root, drive or NUL. */
export function isPlainRelative(rel: string): boolean {
  if (rel === '' || rel.includes('\0') || /^[A-Za-z]:/.test(rel) || /^[\\/]/.test(rel)) return false;
  return rel.split(/[\\/]/).every((c) => c !== '..' && c !== '.' && c !== '');
}

/**
 * The mount point (Linux: the longest entry of /proc/self/mountinfo above it) or drive root holding
 * `file`: what a command given a bare file path confines itself to.
 */
export function mountRootOf(file: string): string {
  const abs = path.resolve(file);
  if (process.platform !== 'linux') return path.parse(abs).root;
  let best = '/';
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const mp = line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
      if (mp && mp.length > best.length && (abs === mp || abs.startsWith(mp + '/'))) best = mp;
    }
  } catch {
    /* no /proc: the file system root */
  }
  return best;
}

/**
 * Pin a checked directory for a sequence of operations (Linux): it is opened O_DIRECTORY|O_NOFOLLOW,
 * the descriptor's real path is compared with the expected one, and the operations use
 * /proc/self/fd/<n>/<name>, which resolves through the opened directory itself: a folder on the way
 * swapped for a link after the check (a concurrent process) cannot redirect them. Elsewhere the
 * directory path itself is returned (the lstat walk stands).
 */
export function pinDir(dir: string): { base: string; close(): void } {
  const abs = path.resolve(dir);
  checkPath(abs, 'dir');
  if (process.platform !== 'linux') return { base: abs, close() {} };
  const r = rootOf(abs);
  const want = r ? path.join(r.real, path.relative(r.given, abs)) : realpathSync(abs);
  const fd = openSync(abs, fsc.O_RDONLY | (fsc.O_DIRECTORY ?? 0) | NOFOLLOW);
  let real: string | undefined;
  try {
    real = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    /* no /proc */
  }
  if (real === undefined) {
    closeSync(fd);
    return { base: abs, close() {} };
  }
  if (real !== want) {
    closeSync(fd);
    throw new UnsafePathError(relName(abs), 'link', `reached through a link (it opens ${termSafe(real)}); not written`);
  }
  return { base: `/proc/self/fd/${fd}`, close: () => closeSync(fd) };
}
