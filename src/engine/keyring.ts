// Where wufix keeps what must not live on a target (issue #14): the state directory, outside any
// volume or image it repairs, with the key that seals journals (journal.key, 32 random bytes) and the
// ledger of runs (runs/<run-id>.json: the latest seal's MAC, the journal's real path, the target).
// A journal is trusted only when its seal verifies with this key AND is the ledger's latest entry.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  chmodSync,
  writeSync,
  constants as fsc,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atomicWrite } from '../shared/atomic.js';
import { RefusedError } from '../shared/errors.js';

export const KEY_FILE = 'journal.key';
export const KEY_BYTES = 32;

/** A run id as wufix makes them (newRunId); anything else is not a name wufix gave. */
export const RUN_ID_RE = /^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/;

const HOW = 'set WUFIX_STATE_DIR (or pass --state-dir <dir>) to a folder outside the target, e.g. on the USB stick';

/**
 * The state directory: WUFIX_STATE_DIR; else Linux $XDG_STATE_HOME/wufix or ~/.local/state/wufix;
 * Windows: in WinPE (SystemDrive X:, a RAM disk) `wufix-state` beside the running executable (the
 * USB stick), else %LOCALAPPDATA%\wufix.
 */
export function stateDirPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, execPath = process.execPath): string {
  if (env.WUFIX_STATE_DIR) return path.resolve(env.WUFIX_STATE_DIR);
  if (platform === 'win32') {
    const w = path.win32;
    if ((env.SystemDrive ?? '').toUpperCase() === 'X:') return w.join(w.dirname(execPath), 'wufix-state');
    if (env.LOCALAPPDATA) return w.join(env.LOCALAPPDATA, 'wufix');
    return w.join(env.USERPROFILE ?? os.homedir(), 'AppData', 'Local', 'wufix');
  }
  const xdg = env.XDG_STATE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'wufix');
  return path.join(env.HOME || os.homedir(), '.local', 'state', 'wufix');
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended (p need not exist). */
export function realish(p: string): string {
  let cur = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync.native(cur), ...rest.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return path.resolve(p);
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

const fold = (p: string) => (process.platform === 'win32' ? p.toLowerCase() : p);

/** `inner` is `outer` or lies below it (real paths). */
/** Both paths exist on one device (volume). */
export function sameDevice(a: string, b: string): boolean {
  try {
    return lstatSync(a).dev === lstatSync(b).dev;
  } catch {
    return false;
  }
}

export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(fold(outer), fold(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface StateDir {
  dir: string;
  key: Buffer;
}

export interface LedgerEntry {
  runId: string;
  /** MAC of the latest seal (committed). */
  mac: string;
  /** MAC of a seal being written (set before the journal file changes, cleared once the seal is written). */
  pending?: string;
  /** Real path of the run's journal directory when it was sealed. */
  journalDir: string;
  /** The run directory relative to the target volume's root, when the journal lies on it (it may be mounted elsewhere later). */
  journalRel?: string;
  /**
   * The run directory relative to the state directory, when both lie on one volume (a USB stick
   * holding both: its drive letter or mount point may change between boots).
   */
  journalRelState?: string;
  /** For --image: the disk's real path; for --root: the root as given. */
  target: string;
  updatedAt: string;
}

const cache = new Map<string, StateDir>();

function refuse(msg: string): never {
  throw new RefusedError(`${msg}; ${HOW}`, 'state-dir');
}

/** Checks the state directory (and creates it with its key when `create`); refuses a dir inside a target or a link. */
function checkDir(dir: string, targets: string[]): void {
  const real = realish(dir);
  for (const t of targets) {
    if (!t) continue;
    const rt = realish(t);
    if (isInside(real, rt))
      refuse(`the wufix state directory ${dir} lies inside the target ${t}, which may be hostile and must not hold the key that authenticates its journals`);
  }
  if (process.platform === 'win32' && (process.env.SystemDrive ?? '').toUpperCase() === 'X:' && /^x:/i.test(real)) {
    refuse(`the wufix state directory ${dir} would live only in the WinPE RAM disk and vanish at reboot (with it every journal's key)`);
  }
}

function ensureDir(dir: string, mode: number): void {
  let st = existsSync(dir) || isLink(dir) ? lstatSync(dir) : undefined;
  if (!st) {
    mkdirSync(path.dirname(dir), { recursive: true });
    try {
      mkdirSync(dir, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    st = lstatSync(dir);
  }
  if (st.isSymbolicLink() || !st.isDirectory())
    refuse(`${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; the wufix state directory must be a real folder`);
  if (process.platform !== 'win32') {
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) refuse(`the wufix state directory ${dir} belongs to user ${st.uid}, not to this user (${uid})`);
    if ((st.mode & 0o077) !== 0) chmodSync(dir, mode);
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function readKey(file: string): Buffer {
  const st = lstatSync(file);
  if (st.isSymbolicLink() || !st.isFile()) refuse(`${file} is not a regular file`);
  if (st.size !== KEY_BYTES)
    refuse(
      `${file} is ${st.size} bytes, not ${KEY_BYTES}: the journal key is damaged (journals sealed with it cannot be undone by wufix; move it away only if no journal needs it)`,
    );
  const fd = openSync(file, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0));
  try {
    const b = Buffer.alloc(KEY_BYTES);
    if (readSync(fd, b, 0, KEY_BYTES, 0) !== KEY_BYTES) refuse(`${file} could not be read whole`);
    return b;
  } finally {
    closeSync(fd);
  }
}

/**
 * The state directory with its key, created (0700, key 0600 with O_EXCL) when missing. Refuses (exit 3)
 * when it lies inside one of `targets` (roots of volumes being repaired), is a link, or belongs to
 * another user.
 */
export function openStateDir(opts: { targets?: string[] } = {}): StateDir {
  const dir = stateDirPath();
  checkDir(dir, opts.targets ?? []);
  const hit = cache.get(dir);
  if (hit && existsSync(path.join(dir, KEY_FILE))) return hit;
  ensureDir(dir, 0o700);
  ensureDir(path.join(dir, 'runs'), 0o700);
  const file = path.join(dir, KEY_FILE);
  let key: Buffer | undefined;
  try {
    const fd = openSync(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | (fsc.O_NOFOLLOW ?? 0), 0o600);
    try {
      const k = randomBytes(KEY_BYTES);
      writeSync(fd, k, 0, KEY_BYTES, 0);
      fsyncSync(fd);
      key = k;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  key ??= readKey(file);
  const sd = { dir, key };
  cache.set(dir, sd);
  return sd;
}

/** The state directory if it exists with its key; never creates anything (journal list, checks). */
export function findStateDir(): StateDir | undefined {
  const dir = stateDirPath();
  const hit = cache.get(dir);
  if (hit && existsSync(path.join(dir, KEY_FILE))) return hit;
  try {
    const st = lstatSync(dir);
    if (st.isSymbolicLink() || !st.isDirectory()) return undefined;
    if (!existsSync(path.join(dir, KEY_FILE))) return undefined;
    const sd = { dir, key: readKey(path.join(dir, KEY_FILE)) };
    cache.set(dir, sd);
    return sd;
  } catch {
    return undefined;
  }
}

export function hmac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** Constant-time comparison of two hex MACs. */
export function sameMac(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length || !/^[0-9a-f]+$/.test(a) || !/^[0-9a-f]+$/.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

const ledgerFile = (sd: StateDir, runId: string) => {
  if (!RUN_ID_RE.test(runId)) throw new RefusedError(`"${runId}" is not a run id wufix makes; refusing to look it up`, 'bad-run-id');
  return path.join(sd.dir, 'runs', `${runId}.json`);
};

export function readLedger(sd: StateDir, runId: string): LedgerEntry | undefined {
  const f = ledgerFile(sd, runId);
  try {
    const st = lstatSync(f);
    if (!st.isFile() || st.size > 64 * 1024) return undefined;
    const e = JSON.parse(readFileSync(f, 'utf8')) as LedgerEntry;
    return e && e.runId === runId && typeof e.mac === 'string' && typeof e.journalDir === 'string' && typeof e.target === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

export async function writeLedger(sd: StateDir, e: LedgerEntry): Promise<void> {
  const { pending, ...rest } = e;
  const out: LedgerEntry = pending ? { ...rest, pending } : rest;
  await atomicWrite(ledgerFile(sd, e.runId), new TextEncoder().encode(JSON.stringify(out, null, 2) + '\n'));
}
