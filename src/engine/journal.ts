// The journal of a repair run: <journal>/<run-id>/ with plan.json, files.json (sha256 of every
// backed-up file before and after), backup.tar (node-tar: the files as they were), state.json (how
// far the run got), seal.json (its integrity record) and log.txt. It is what `wufix undo` restores
// from, byte for byte.
//
// Journals may lie on the target (issue #14: a hostile image), so a run is trusted only when it is
// authenticated: seal.json holds a digest of plan.json, files.json, state.json, backup.tar and every
// file of the disk part (<run>/disk/), the run id and the target, with an HMAC-SHA256 over all of it
// keyed by journal.key in the state directory (src/engine/keyring.ts, outside any target). The state
// directory's ledger (runs/<run-id>.json) holds the latest seal's MAC and where the journal was: an
// older authentic state copied back, or a journal copied to another folder or target, is refused.
// Every sealed write goes: ledger "pending" = the new MAC -> the file -> seal.json -> ledger commit,
// so a power cut at any point leaves a state the ledger accepts (the old one or the new one).
import { createHash, randomBytes } from 'node:crypto';
import {
  promises as fsp,
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  statfsSync,
  constants as fsc,
  type BigIntStats,
} from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { atomicWrite } from '../shared/atomic.js';
import { appendSafe, checkPath, confine, mkdirSafe, removeFileSafe, sha256Safe, statSafe } from '../shared/safefs.js';
import { BadInputError, RefusedError } from '../shared/errors.js';
import type { Change, Plan } from '../model/plan.js';
import { fmtBytes, MiB } from '../shared/units.js';
import {
  RUN_ID_RE,
  findStateDir,
  hmac,
  isInside,
  openStateDir,
  readLedger,
  realish,
  sameDevice,
  sameMac,
  stateDirPath,
  writeLedger,
  type LedgerEntry,
  type StateDir,
} from './keyring.js';

export interface JournalFile {
  /** Volume-relative path (backslashes). */
  path: string;
  /** Path inside backup.tar (forward slashes). */
  entry: string;
  existed: boolean;
  sha256Before: string | null;
  size: number;
  sha256After?: string | null;
}

/** 'interrupted': a stop signal ended the run before its first change (nothing was written). */
export type Phase = 'planned' | 'backed-up' | 'applying' | 'applied' | 'verified' | 'rolled-back' | 'interrupted' | 'failed' | 'undone';

export interface JournalState {
  phase: Phase;
  /** Indexes of plan steps applied (in order). */
  done: number[];
  /** Renames performed, in order (volume-relative). */
  renames: { from: string; to: string }[];
  error?: string;
  updatedAt: string;
}

export function newRunId(now = new Date()): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

/** SHA-256 of a file, read in 1 MiB pieces (64 KiB reads through ntfs-3g take twice as long). */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Seals

/** The files of a run the seal covers (besides every file under disk/). */
export const SEALED_FILES = ['plan.json', 'files.json', 'state.json', 'backup.tar'] as const;
export const SEAL_FILE = 'seal.json';
const SEAL_FORMAT = 'wufix-seal-1';
const DIGEST_CHUNK = 4 * MiB;
/** A sealed file that changed size and is larger than this is refused without reading it. */
const REHASH_LIMIT = 64 * MiB;
/** A journal JSON file read without authentication (journal list of a planted run) larger than this is not read:
 * wufix's own plan.json and state.json are a few KB (400 planted 60 MiB files took minutes). */
const JSON_LIMIT = MiB;

export interface SealedFile {
  size: number;
  /** "sha256:<hex>" for files up to 4 MiB; "sha256z:<hex>" above (SHA-256 over 4 MiB pieces, 'D' + bytes or 'Z' + length when all zero). */
  digest: string;
}

export interface Seal {
  format: typeof SEAL_FORMAT;
  runId: string;
  target: string;
  files: Record<string, SealedFile>;
  mac: string;
}

type SealBody = Omit<Seal, 'mac'>;

const canon = (b: SealBody) =>
  JSON.stringify([
    b.format,
    b.runId,
    b.target,
    Object.keys(b.files)
      .sort()
      .map((k) => [k, b.files[k]!.size, b.files[k]!.digest]),
  ]);

const ZEROS = Buffer.alloc(DIGEST_CHUNK);

function digestBytes(b: Uint8Array): SealedFile {
  if (b.length <= DIGEST_CHUNK) return { size: b.length, digest: `sha256:${createHash('sha256').update(b).digest('hex')}` };
  const h = createHash('sha256');
  for (let at = 0; at < b.length; at += DIGEST_CHUNK) addPiece(h, Buffer.from(b.buffer, b.byteOffset + at, Math.min(DIGEST_CHUNK, b.length - at)));
  return { size: b.length, digest: `sha256z:${h.digest('hex')}` };
}

function addPiece(h: ReturnType<typeof createHash>, piece: Buffer): void {
  if (piece.compare(ZEROS, 0, piece.length, 0, piece.length) === 0) {
    const tag = Buffer.alloc(9);
    tag[0] = 0x5a;
    tag.writeBigUInt64LE(BigInt(piece.length), 1);
    h.update(tag);
  } else {
    h.update('D');
    h.update(piece);
  }
}

/** Digests by file identity: a file is hashed once after it was written (regions of 1 GiB), not at every seal. */
const digestCache = new Map<string, { id: string; d: SealedFile }>();
const identity = (st: BigIntStats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

/** Digest of a regular file, opened without following links; `keep` returns its bytes (small files). */
function digestFile(file: string, keep = false): { d: SealedFile; bytes?: Buffer } {
  const fd = openSync(file, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0));
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw new RefusedError(`${file} is not a regular file`, 'journal-unauthenticated');
    const id = identity(st);
    const hit = digestCache.get(file);
    if (hit && hit.id === id && !keep) return { d: hit.d };
    const size = Number(st.size);
    let d: SealedFile;
    let bytes: Buffer | undefined;
    if (size <= DIGEST_CHUNK) {
      bytes = Buffer.alloc(size);
      for (let got = 0; got < size;) {
        const n = readSync(fd, bytes, got, size - got, got);
        if (n === 0) throw new BadInputError('short read', { file });
        got += n;
      }
      d = digestBytes(bytes);
    } else {
      const h = createHash('sha256');
      const buf = Buffer.alloc(DIGEST_CHUNK);
      for (let at = 0; at < size;) {
        const want = Math.min(DIGEST_CHUNK, size - at);
        let got = 0;
        while (got < want) {
          const n = readSync(fd, buf, got, want - got, at + got);
          if (n === 0) throw new BadInputError('short read', { file });
          got += n;
        }
        addPiece(h, buf.subarray(0, want));
        at += want;
      }
      d = { size, digest: `sha256z:${h.digest('hex')}` };
    }
    digestCache.set(file, { id, d });
    return { d, bytes };
  } finally {
    closeSync(fd);
  }
}

/** Temp files of atomicWrite (".<name>.wufix-<pid>-<time>.tmp") are not part of a run. */
const isTempName = (n: string) => n.startsWith('.') && n.includes('.wufix-') && n.endsWith('.tmp');

/** The files a seal covers as they are now: name (relative, forward slashes) -> absolute path. Links and special files are problems. */
function runFiles(runDir: string): { files: Map<string, string>; problems: string[] } {
  const files = new Map<string, string>();
  const problems: string[] = [];
  for (const n of SEALED_FILES) {
    const f = path.join(runDir, n);
    let st;
    try {
      st = lstatSync(f);
    } catch {
      continue;
    }
    if (!st.isFile()) problems.push(`${n} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`);
    else files.set(n, f);
  }
  const walk = (dir: string, rel: string) => {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      return;
    }
    if (!st.isDirectory()) {
      problems.push(`${rel} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`);
      return;
    }
    for (const n of readdirSync(dir).sort()) {
      const p = path.join(dir, n);
      const r = `${rel}/${n}`;
      const s = lstatSync(p);
      if (s.isDirectory()) walk(p, r);
      else if (s.isFile()) {
        if (!isTempName(n)) files.set(r, p);
      } else problems.push(`${r} is ${s.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`);
    }
  };
  walk(path.join(runDir, 'disk'), 'disk');
  return { files, problems };
}

interface SealCtx {
  sd: StateDir;
  runId: string;
  runDir: string;
  target: string;
  /** Root of the volume the run repaired (plan.root), to record where the journal lies on it. */
  root?: string;
}

/** The seal body of the run as it is now, with `next` standing for files about to be written. */
function currentBody(ctx: SealCtx, next: Map<string, SealedFile>): SealBody {
  const { files, problems } = runFiles(ctx.runDir);
  if (problems.length)
    throw new RefusedError(`the journal ${ctx.runDir} holds ${problems[0]}; wufix does not seal or trust links or special files in a journal`, 'journal-link');
  const out: Record<string, SealedFile> = {};
  for (const [name, abs] of files) out[name] = digestFile(abs).d;
  for (const [name, d] of next) out[name] = d;
  return { format: SEAL_FORMAT, runId: ctx.runId, target: ctx.target, files: out };
}

function ledgerBase(ctx: SealCtx, prev: LedgerEntry | undefined): Omit<LedgerEntry, 'mac' | 'pending'> {
  const journalDir = realish(ctx.runDir);
  // Where the run lies on its volume: from the root when known, else as recorded before (the disk part's writes).
  let journalRel = prev?.journalRel;
  if (ctx.root) {
    const r = realish(ctx.root);
    journalRel = isInside(journalDir, r) && journalDir !== r ? path.relative(r, journalDir) : undefined;
  }
  const sdReal = realish(ctx.sd.dir);
  const journalRelState = sameDevice(journalDir, sdReal) ? path.relative(sdReal, journalDir) : undefined;
  return {
    runId: ctx.runId,
    journalDir,
    ...(journalRel ? { journalRel } : {}),
    ...(journalRelState ? { journalRelState } : {}),
    target: ctx.target,
    updatedAt: new Date().toISOString(),
  };
}

/**
 * Write one file of a sealed run (name relative to the run dir, forward slashes): the ledger learns
 * the new MAC first (pending), then the file is replaced atomically (or `from`, a finished temp file,
 * renamed into place), then seal.json, then the ledger commits.
 */
async function sealedWrite(ctx: SealCtx, name: string, data: Uint8Array | { from: string }): Promise<void> {
  const file = path.join(ctx.runDir, ...name.split('/'));
  const d = data instanceof Uint8Array ? digestBytes(data) : digestFile(data.from).d;
  const body = currentBody(ctx, new Map([[name, d]]));
  const mac = hmac(ctx.sd.key, canon(body));
  const prev = readLedger(ctx.sd, ctx.runId);
  const base = ledgerBase(ctx, prev);
  // Until the new seal is written, the committed state stays acceptable (a power cut before the file changes).
  await writeLedger(ctx.sd, { ...base, mac: prev?.mac ?? '', pending: mac });
  if (data instanceof Uint8Array) await atomicWrite(file, data);
  else {
    await fsp.rename(data.from, file);
    // Our own finished temp file, digested above: known under its new name (a rename changes ctime).
    digestCache.set(file, { id: identity(lstatSync(file, { bigint: true })), d });
  }
  const seal: Seal = { ...body, mac };
  await atomicWrite(path.join(ctx.runDir, SEAL_FILE), new TextEncoder().encode(JSON.stringify(seal, null, 2) + '\n'));
  await writeLedger(ctx.sd, { ...base, mac });
}

/** Targets recorded per journal root by the CLI (the disk's real path for --image, the root for --root). */
const targets = new Map<string, string>();

/** The target runs created in `journalRoot` are sealed for (call before applying). */
export function setJournalTarget(journalRoot: string, target: string): void {
  targets.set(path.resolve(journalRoot), target);
}

/** Without a recorded target: the disk a WinRE rebuild changes (real path), else the plan's root. */
function targetOfPlan(plan: Plan): string {
  const disk = plan.steps.find((s) => s.change.kind === 'winre-rebuild')?.change;
  return disk?.kind === 'winre-rebuild' ? realish(disk.disk) : plan.root;
}

/**
 * For the disk part of a run (src/platform/winre-*.ts): write <run>/disk/<file> and re-seal the run.
 * A directory that is not the disk part of a sealed run (a bare test directory) gets a plain atomic write.
 */
export async function writeJournalFile(file: string, bytes: Uint8Array): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const runDir = path.dirname(dir);
  const runId = path.basename(runDir);
  const sd = path.basename(dir) === 'disk' && RUN_ID_RE.test(runId) ? findStateDir() : undefined;
  const led = sd ? readLedger(sd, runId) : undefined;
  if (!sd || !led || led.journalDir !== realish(runDir)) return atomicWrite(file, bytes);
  await sealedWrite({ sd, runId, runDir, target: led.target }, `disk/${path.basename(file)}`, bytes);
}

export interface AuthOptions {
  /** The volume root given on the command line (a journal on the volume may be found at another mount point). */
  root?: string;
  /** The disk given on the command line (--image): the run must have been made for it. */
  disk?: string;
}

export type AuthResult = { ok: true; ledger: LedgerEntry; sd: StateDir; bytes: Map<string, Buffer> } | { ok: false; why: string };

const HOW_TO = 'wufix undoes only journals it wrote and sealed with the key in its state directory';

/**
 * Is the run `runId` in `journalRoot` one this machine's wufix wrote, in this state, at this place,
 * for this target? Cheap checks (ledger, place, target, seal MAC) come before any file is hashed.
 */
export function authenticateRun(journalRoot: string, runId: string, opts: AuthOptions = {}): AuthResult {
  const no = (why: string): AuthResult => ({ ok: false, why });
  if (!RUN_ID_RE.test(runId)) return no(`"${runId}" is not a run id wufix makes`);
  const runDir = path.join(journalRoot, runId);
  try {
    const st = lstatSync(runDir);
    if (!st.isDirectory()) return no(`its directory is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`);
  } catch {
    return no('it does not exist');
  }
  let seal: Seal | undefined;
  const sealPath = path.join(runDir, SEAL_FILE);
  let sealProblem: string | undefined;
  try {
    const st = lstatSync(sealPath);
    if (!st.isFile() || st.size > MiB) sealProblem = 'its seal.json is not a small regular file';
    else seal = JSON.parse(readFileSync(sealPath, 'utf8')) as Seal;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') sealProblem = 'its seal.json cannot be read';
  }
  const sd = findStateDir();
  if (!seal && !sealProblem)
    return no(
      'it has no seal (seal.json): it was written before wufix sealed its journals (no migration: restore by hand from its backup.tar only if you trust it), or not by wufix',
    );
  if (!sd)
    return no(
      `there is no wufix state directory with a journal key at ${stateDirPath()}, so nothing sealed it here (set WUFIX_STATE_DIR or --state-dir to the one used for the repair)`,
    );
  const ledger = readLedger(sd, runId);
  if (!ledger)
    return no(
      `it is not in the ledger of this machine's state directory (${sd.dir}): it was not made here (planted on the target, or made with another state directory: set WUFIX_STATE_DIR or --state-dir)`,
    );
  const real = realish(runDir);
  const atRel = ledger.journalRel && opts.root ? path.join(realish(opts.root), ledger.journalRel) : undefined;
  // The journal and the state directory on one volume (a stick) that is mounted elsewhere now.
  const atState = ledger.journalRelState && sameDevice(real, sd.dir) ? path.resolve(realish(sd.dir), ledger.journalRelState) : undefined;
  if (real !== ledger.journalDir && real !== atRel && real !== atState)
    return no(`it is not where wufix wrote it (${ledger.journalDir}): a copied journal is not trusted`);
  if (opts.disk !== undefined && realish(opts.disk) !== ledger.target) return no(`it was made for ${ledger.target}, not for ${realish(opts.disk)}`);
  if (sealProblem) return no(sealProblem);
  const sealOk =
    !!seal &&
    typeof seal.mac === 'string' &&
    seal.files &&
    typeof seal.files === 'object' &&
    sameMac(hmac(sd.key, canon({ format: SEAL_FORMAT, runId: String(seal.runId), target: String(seal.target), files: seal.files })), seal.mac);
  if (!sealOk) return no("its seal does not verify with this machine's journal key (forged, or damaged)");
  const known = sameMac(seal!.mac, ledger.mac) || sameMac(seal!.mac, ledger.pending);
  // A power cut between a file and its seal leaves seal.json one write behind: the files then match the pending MAC.
  const ctx: SealCtx = { sd, runId, runDir, target: ledger.target };
  const { files, problems } = runFiles(runDir);
  if (problems.length) return no(`it holds ${problems[0]}`);
  for (const [name, abs] of files) {
    const rec = seal!.files[name];
    if ((!rec || rec.size !== lstatSync(abs).size) && lstatSync(abs).size > REHASH_LIMIT) return no(`${name} changed after the run sealed it`);
  }
  const bytes = new Map<string, Buffer>();
  const body: SealBody = { format: SEAL_FORMAT, runId, target: ctx.target, files: {} };
  for (const [name, abs] of files) {
    const r = digestFile(abs, name.endsWith('.json'));
    body.files[name] = r.d;
    if (r.bytes) bytes.set(name, r.bytes);
  }
  const mac = hmac(sd.key, canon(body));
  if (sameMac(mac, ledger.mac) || sameMac(mac, ledger.pending)) return { ok: true, ledger, sd, bytes };
  if (!known) return no("its seal is not the latest one in this machine's ledger: an older state of the run was copied back (replayed)");
  const changed = [...new Set([...Object.keys(body.files), ...Object.keys(seal!.files)])].filter((n) => body.files[n]?.digest !== seal!.files[n]?.digest);
  return no(`${changed.join(', ') || 'its files'} changed after the run sealed ${changed.length === 1 ? 'it' : 'them'}`);
}

// ---------------------------------------------------------------------------------------------
// What an authentic journal may write: only the paths its plan named

/** Volume-relative files a change backs up (as src/engine/apply.ts filesOf), before hive logs. */
export function planFilePaths(c: Change): string[] {
  switch (c.kind) {
    case 'reg-set':
    case 'reg-delete-value':
    case 'reg-delete-key':
    case 'reg-set-key-security':
      return [c.hive];
    case 'write-file':
    case 'keep-copy':
      return [c.path];
    case 'dism-revert-pending':
      return ['Windows\\System32\\config\\COMPONENTS', 'Windows\\System32\\config\\SOFTWARE', 'Windows\\WinSxS\\pending.xml'];
    case 'rename':
    case 'winre-rebuild':
    case 'dism-restore-health': // WinSxS is not copied (gigabytes): the journal says it is not undone
    case 'sfc-offline':
    case 'dism-remove-package':
      return [];
  }
}

/** A relative path with `sep` separators: no empty, `.` or `..` component, nothing absolute or drive-qualified, no NUL. */
export function isSafeRelative(p: unknown, sep: '/' | '\\'): p is string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096) return false;
  if (p.includes('\0') || p.includes(sep === '/' ? '\\' : '/') || p.includes(':')) return false;
  return p.split(sep).every((c) => c !== '' && c !== '.' && c !== '..' && !/[\u0000-\u001f]/.test(c));
}

const HEX64 = /^[0-9a-f]{64}$/;
const up = (p: string) => p.toUpperCase();

function refuseJournal(what: string): never {
  throw new RefusedError(
    `the journal lists ${what}, which its plan does not name; it was altered or not written by wufix, so nothing was restored from it`,
    'journal-outside-plan',
  );
}

/**
 * Even an authentic journal writes only where its plan said: every files.json entry must be a path
 * the plan's steps name (hives of reg-* changes and their .LOG/.LOG1/.LOG2, write-file / keep-copy
 * paths, the DISM file list), relative, without `..`, drive letters or NUL, its tar name the same
 * path; renames must be the plan's rename steps. Throws RefusedError (exit 3).
 */
export function validateJournal(plan: Plan, files: JournalFile[], renames: { from: string; to: string }[] = []): void {
  const allowed = new Set<string>();
  for (const s of plan.steps) {
    for (const p of planFilePaths(s.change)) {
      if (!isSafeRelative(p, '\\')) refuseJournal(`a plan path "${String(p)}"`);
      allowed.add(up(p));
      if (s.change.kind.startsWith('reg-')) for (const ext of ['.LOG', '.LOG1', '.LOG2']) allowed.add(up(p + ext));
    }
  }
  if (!Array.isArray(files)) refuseJournal('files that are not a list');
  const seen = new Set<string>();
  for (const f of files) {
    if (!f || typeof f !== 'object') refuseJournal('an entry that is not a file record');
    if (!isSafeRelative(f.path, '\\')) refuseJournal(`the path "${String(f.path)}"`);
    if (!isSafeRelative(f.entry, '/')) refuseJournal(`the backup entry "${String(f.entry)}"`);
    if (up(f.entry.split('/').join('\\')) !== up(f.path)) refuseJournal(`the backup entry "${f.entry}" for ${f.path}`);
    if (!allowed.has(up(f.path))) refuseJournal(`"${f.path}"`);
    // Names differing only in case may coexist on a case-sensitive file system (findLogs takes them all).
    if (seen.has(f.entry)) refuseJournal(`"${f.path}" twice`);
    seen.add(f.entry);
    const hashOk = (h: unknown) => h === null || (typeof h === 'string' && HEX64.test(h));
    if (
      typeof f.existed !== 'boolean' ||
      !Number.isSafeInteger(f.size) ||
      f.size < 0 ||
      !hashOk(f.sha256Before) ||
      (f.existed && f.sha256Before === null) ||
      (f.sha256After !== undefined && !hashOk(f.sha256After))
    ) {
      refuseJournal(`a malformed record for "${f.path}"`);
    }
  }
  const planned = new Set(plan.steps.flatMap((s) => (s.change.kind === 'rename' ? [`${s.change.from}\0${s.change.to}`] : [])));
  for (const r of renames) {
    if (!r || !isSafeRelative(r.from, '\\') || !isSafeRelative(r.to, '\\') || !planned.has(`${r.from}\0${r.to}`))
      refuseJournal(`a rename ${String(r?.from)} -> ${String(r?.to)}`);
  }
  for (const s of plan.steps) {
    if (s.change.kind === 'rename' && (!isSafeRelative(s.change.from, '\\') || !isSafeRelative(s.change.to, '\\')))
      refuseJournal(`a plan rename "${s.change.from}" -> "${s.change.to}"`);
  }
}

/**
 * backup.tar holds exactly the files.json entries that existed, each once, as regular files ('File'
 * entries) with their recorded size; links, devices, FIFOs, directories, absolute or `..` names are
 * refused (exit 3) before anything is extracted.
 */
export async function validateBackupTar(tarPath: string, files: JournalFile[]): Promise<void> {
  const want = new Map(files.filter((f) => f.existed).map((f) => [f.entry, f]));
  const seen = new Set<string>();
  const problems: string[] = [];
  const fail = (m: string) =>
    new RefusedError(`the journal's backup.tar ${m}; it was altered or not written by wufix, so nothing was restored from it`, 'journal-tar');
  try {
    await tar.t({
      file: tarPath,
      strict: true,
      onReadEntry: (e) => {
        const name = e.path;
        if (e.type !== 'File' && e.type !== 'OldFile')
          problems.push(`holds a ${e.type} entry "${name}"${e.linkpath ? ` -> "${e.linkpath}"` : ''} (only regular files are restored)`);
        else if (!isSafeRelative(name, '/')) problems.push(`holds an entry with an unsafe name "${String(name)}"`);
        else if (!want.has(name)) problems.push(`holds "${name}", which files.json does not list`);
        else if (seen.has(name)) problems.push(`holds "${name}" twice`);
        else if (e.size !== want.get(name)!.size) problems.push(`holds "${name}" with ${e.size} bytes, not the ${want.get(name)!.size} recorded`);
        seen.add(name);
        e.resume();
      },
    });
  } catch (e) {
    if (e instanceof RefusedError) throw e;
    throw fail(`cannot be read (${(e as Error).message})`);
  }
  if (problems.length) throw fail(problems[0]! + (problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : ''));
  const missing = [...want.keys()].filter((n) => !seen.has(n));
  if (missing.length) throw fail(`lacks "${missing[0]}"`);
}

// ---------------------------------------------------------------------------------------------

export class Journal {
  readonly dir: string;
  readonly runId: string;
  /** Set when this process may write the run (a new run, or an authenticated one). */
  private ctx?: SealCtx;
  /** Bytes of the JSON files as authenticated (read once: what was checked is what is used). */
  private verified?: Map<string, Buffer>;
  private constructor(dir: string, runId: string) {
    this.dir = dir;
    this.runId = runId;
  }

  /** A new run (or the same run again from the file part of a disk run): sealed in this machine's state directory. */
  static async create(journalRoot: string, runId: string, opts: { target?: string } = {}): Promise<Journal> {
    if (!RUN_ID_RE.test(runId)) throw new RefusedError(`"${runId}" is not a run id wufix makes`, 'bad-run-id');
    const sd = openStateDir();
    const dir = path.join(journalRoot, runId);
    mkdirSafe(dir); // each folder on the way a real one (a `wufix` link in the target never leads out)
    const st = lstatSync(dir);
    if (!st.isDirectory())
      throw new RefusedError(`the journal directory ${dir} is a link or not a folder; wufix does not write its journal through links`, 'journal-link');
    const j = new Journal(dir, runId);
    const prev = readLedger(sd, runId);
    const target = opts.target ?? targets.get(path.resolve(journalRoot)) ?? (prev && prev.journalDir === realish(dir) ? prev.target : undefined);
    j.ctx = { sd, runId, runDir: dir, target: target ?? '' };
    return j;
  }

  /** A run for reading only (journal list, tests); nothing read through it is trusted. See `authenticated`. */
  static open(journalRoot: string, runId: string): Journal {
    const dir = path.join(journalRoot, runId);
    if (!existsSync(path.join(dir, 'plan.json'))) throw new BadInputError(`no journal for run ${runId}`, { file: dir, code: 'no-run' });
    return new Journal(dir, runId);
  }

  /** The run, authenticated (exit 3 when it is not: one line, what, why, what to do); it may then be written (undo). */
  static authenticated(journalRoot: string, runId: string, opts: AuthOptions = {}): Journal {
    const a = authenticateRun(journalRoot, runId, opts);
    const j = a.ok || !RUN_ID_RE.test(runId) ? new Journal(path.join(journalRoot, runId), runId) : Journal.open(journalRoot, runId);
    if (!a.ok)
      throw new RefusedError(
        `run ${runId} in ${journalRoot} is not authenticated: ${a.why}; ${HOW_TO}, so it was not used (nothing changed)`,
        'journal-unauthenticated',
      );
    j.verified = a.bytes;
    j.ctx = { sd: a.sd, runId, runDir: j.dir, target: a.ledger.target, root: opts.root };
    return j;
  }

  /** Run ids in a journal root, oldest first. */
  static list(journalRoot: string): string[] {
    if (!existsSync(journalRoot)) return [];
    return readdirSync(journalRoot)
      .filter((d) => existsSync(path.join(journalRoot, d, 'plan.json')))
      .sort();
  }

  /** The target the run was sealed for (the disk's real path for --image, the root for --root). */
  get target(): string {
    return this.ctx?.target ?? '';
  }

  /** The run holds `name` (relative, forward slashes): as authenticated, or on disk for a read-only open. */
  has(name: string): boolean {
    if (this.verified && name.endsWith('.json')) return this.verified.has(name);
    return existsSync(this.file(name));
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  private sealCtx(name: string, bytes: Uint8Array): SealCtx {
    if (!this.ctx) throw new Error(`internal: run ${this.runId} was opened for reading only; authenticate it before writing`);
    if (name === 'plan.json') {
      const plan = JSON.parse(new TextDecoder().decode(bytes)) as Plan;
      this.ctx.root = plan.root;
      if (isInside(realish(this.ctx.sd.dir), realish(plan.root))) {
        throw new RefusedError(
          `the wufix state directory ${this.ctx.sd.dir} lies inside the target ${plan.root}, which must not hold the key that authenticates its journals; set WUFIX_STATE_DIR (or pass --state-dir <dir>) to a folder outside the target`,
          'state-dir',
        );
      }
      if (!this.ctx.target) this.ctx.target = targetOfPlan(plan);
    } else if (!this.ctx.root && existsSync(this.file('plan.json'))) this.ctx.root = this.plan().root;
    if (!this.ctx.target) this.ctx.target = targetOfPlan(this.plan());
    return this.ctx;
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    const bytes = new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');
    await sealedWrite(this.sealCtx(name, bytes), name, bytes);
    this.verified?.set(name, Buffer.from(bytes));
  }

  readJson<T>(name: string): T {
    const b = this.verified?.get(name);
    if (b) return JSON.parse(b.toString('utf8')) as T;
    // Not authenticated (journal list, a planted run): read only a bounded regular file.
    const st = lstatSync(this.file(name));
    if (!st.isFile() || st.size > JSON_LIMIT)
      throw new BadInputError(`${st.isFile() ? `larger than ${JSON_LIMIT / MiB} MiB` : 'not a regular file'}`, { file: this.file(name) });
    return JSON.parse(readFileSync(this.file(name), 'utf8')) as T;
  }

  async log(line: string): Promise<void> {
    appendSafe(this.file('log.txt'), `${new Date().toISOString()} ${line}\n`);
  }

  async setState(s: Omit<JournalState, 'updatedAt'>): Promise<void> {
    await this.writeJson('state.json', { ...s, updatedAt: new Date().toISOString() });
  }

  state(): JournalState {
    // A run killed right after writing plan.json has no state yet: nothing was changed.
    if (!this.verified?.has('state.json') && !existsSync(this.file('state.json'))) return { phase: 'planned', done: [], renames: [], updatedAt: '' };
    return this.readJson<JournalState>('state.json');
  }

  plan(): Plan {
    return this.readJson<Plan>('plan.json');
  }

  files(): JournalFile[] {
    return this.verified?.has('files.json') || existsSync(this.file('files.json')) ? this.readJson<JournalFile[]>('files.json') : [];
  }

  get tarPath(): string {
    return this.file('backup.tar');
  }

  /**
   * Back up `files` (host path -> volume-relative path) into backup.tar and record their hashes.
   * Files that do not exist are recorded as absent (undo deletes them).
   */
  async backup(root: string, files: { host: string; rel: string }[]): Promise<JournalFile[]> {
    const out: JournalFile[] = [];
    const present: string[] = [];
    for (const f of files) {
      // Tar names are the host paths relative to the root (their real case on disk).
      const entry = path.relative(root, f.host).split(path.sep).join('/');
      // Through the confined layer: a link or special file in the target is refused, never archived.
      const st = statSafe(f.host);
      if (st) {
        out.push({ path: f.rel, entry, existed: true, sha256Before: await sha256Safe(f.host), size: st.size });
        present.push(entry);
      } else {
        out.push({ path: f.rel, entry, existed: false, sha256Before: null, size: 0 });
      }
    }
    // Written beside, then renamed into place by the sealed write (a power cut leaves the old seal valid).
    const tmp = this.file(`.backup.tar.wufix-${process.pid}-${Date.now()}.tmp`);
    if (present.length) await tar.c({ file: tmp, cwd: root, portable: true, noDirRecurse: true }, present);
    else await fsp.writeFile(tmp, Buffer.alloc(1024)); // an empty tar archive
    const fh = await fsp.open(tmp, 'r+');
    await fh.sync();
    await fh.close();
    await sealedWrite(this.sealCtx('backup.tar', new Uint8Array()), 'backup.tar', { from: tmp });
    await this.writeJson('files.json', out);
    return out;
  }

  /** Extract the backup into a directory (for restore): only the regular files files.json names, checked first. */
  async extract(to: string): Promise<void> {
    const files = this.files();
    await validateBackupTar(this.tarPath, files);
    const names = new Set(files.filter((f) => f.existed).map((f) => f.entry));
    await fsp.mkdir(to, { recursive: true });
    await tar.x({
      file: this.tarPath,
      cwd: to,
      preserveOwner: false,
      strict: true,
      filter: (p, e) => names.has(p) && 'type' in e && (e.type === 'File' || e.type === 'OldFile'),
    });
  }
}

/** What a backup of `backupBytes` needs free where the journal goes: the backup, 10 % and 16 MiB (tar headers, the JSON files, the log). */
export const journalNeedBytes = (backupBytes: number): number => Math.ceil(backupBytes * 1.1) + 16 * MiB;

/** Bytes free for an unprivileged writer where `journalRoot` is (or would be created); undefined when it cannot be told. */
export function journalFreeBytes(journalRoot: string): number | undefined {
  let dir = journalRoot;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    const s = statfsSync(dir);
    return s.bsize * s.bavail;
  } catch {
    return undefined;
  }
}

/** Bytes free where the journal goes; refuse when the backup would not fit with a margin. */
export function checkJournalSpace(journalRoot: string, needBytes: number): void {
  const free = journalFreeBytes(journalRoot);
  if (free === undefined) return;
  const need = journalNeedBytes(needBytes);
  if (free < need) {
    throw new RefusedError(
      `not enough free space for the journal in ${journalRoot}: ${fmtBytes(free)} free, ${fmtBytes(need)} needed; free some space or pass --journal <dir> on another volume (e.g. the USB stick)`,
      'journal-space',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// `wufix journal list` and `wufix journal prune`: what each run is, from its authenticated files only

/**
 * What a run is, in the words `journal list` prints:
 * - applied: finished and verified; `wufix undo` puts every byte back
 * - unfinished: stopped half-way (a power cut, a kill) or its disk part failed: undo it
 * - undone: undone; nothing left to do
 * - rolled-back: failed or interrupted during its changes and rolled back: nothing changed
 * - interrupted: a stop signal ended it before its first change: nothing changed
 * - refused: it stopped before its first change with a reason (recorded in its state): nothing changed
 * - stopped: it ended before its first change (killed, a power cut) without a reason: nothing changed
 * - not-authenticated: this machine did not seal it (planted, altered, copied, or another state
 *   directory); nothing in it is trusted or followed, and undo refuses it
 */
export type RunStatus = 'applied' | 'unfinished' | 'undone' | 'rolled-back' | 'interrupted' | 'refused' | 'stopped' | 'not-authenticated';

export interface RunSummary {
  runId: string;
  status: RunStatus;
  /** The phase its state.json records ('?' when it cannot be read). For a run not authenticated: what its files claim. */
  phase: string;
  /** The phase of its disk part (<run>/disk/state.json), for a WinRE rebuild. */
  diskPhase?: string;
  authenticated: boolean;
  /** Why it is not authenticated. */
  problem?: string;
  /** When the run started (its plan, ISO 8601 UTC), '' when unknown. */
  createdAt: string;
  /** When its state was last written (ISO 8601 UTC), '' when unknown. */
  updatedAt: string;
  steps: number;
  repairs: string[];
  /** The error its state records (a refusal, the failure that was rolled back). */
  error?: string;
  /** `wufix undo` can still act on it. */
  undoable: boolean;
  /** Nothing of it is left to undo: `journal prune` removes it. */
  finished: boolean;
  /** Bytes of its journal folder (regular files, as lstat counts them). */
  bytes: number;
  dir: string;
}

const FINISHED: ReadonlySet<RunStatus> = new Set(['undone', 'rolled-back', 'interrupted', 'refused', 'stopped']);

/** The status of an authenticated run from its phases (a disk part that changed the disk overrides a file part that did not start). */
export function runStatusOf(phase: string, diskPhase: string | undefined, error: string | undefined): RunStatus {
  const diskChanged = diskPhase !== undefined && !['planned', 'interrupted', 'rolled-back', 'undone'].includes(diskPhase);
  switch (phase) {
    case 'verified':
      return 'applied';
    case 'undone':
      return 'undone';
    case 'rolled-back':
      return diskChanged && diskPhase !== 'verified' ? 'unfinished' : 'rolled-back';
    case 'interrupted':
      return diskChanged ? 'unfinished' : 'interrupted';
    case 'planned':
      return diskChanged ? 'unfinished' : error ? 'refused' : 'stopped';
    case 'backed-up':
      // The backup is complete and 'applying' is recorded before the first change (src/engine/apply.ts).
      return diskChanged ? 'unfinished' : 'stopped';
    default:
      // applying, applied (not verified), failed, or a phase this version does not know
      return 'unfinished';
  }
}

/** The regular files and folders of a run folder, never through a link; a link or special file inside is a problem. */
function runTree(dir: string): { files: string[]; dirs: string[]; bytes: number; problem?: string } {
  const files: string[] = [];
  const dirs: string[] = [];
  let bytes = 0;
  let problem: string | undefined;
  const walk = (d: string) => {
    dirs.push(d);
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        files.push(p);
        bytes += st.size;
      } else problem ??= `${path.relative(dir, p)} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`;
    }
  };
  const st = lstatSync(dir);
  if (!st.isDirectory()) return { files, dirs, bytes, problem: `the run folder is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}` };
  walk(dir);
  return { files, dirs, bytes, problem };
}

function summarize(journalRoot: string, runId: string, auth: AuthOptions): RunSummary {
  const dir = path.join(journalRoot, runId);
  const a = authenticateRun(journalRoot, runId, auth);
  let tree: ReturnType<typeof runTree>;
  try {
    tree = runTree(dir);
  } catch (e) {
    tree = { files: [], dirs: [], bytes: 0, problem: `it cannot be read (${(e as Error).message})` };
  }
  // A run not authenticated is shown from its own (bounded) files, marked: nothing of it is trusted.
  const j = a.ok ? Journal.authenticated(journalRoot, runId, auth) : Journal.open(journalRoot, runId);
  let p: Partial<Plan> = {};
  let st: Partial<JournalState> = {};
  let disk: { phase?: unknown } | undefined;
  try {
    p = j.plan() ?? {};
  } catch {
    /* unreadable: shown as such */
  }
  try {
    st = j.state() ?? {};
  } catch {
    /* unreadable */
  }
  try {
    if (j.has('disk/state.json')) disk = j.readJson<{ phase?: unknown }>('disk/state.json');
  } catch {
    disk = { phase: '?' };
  }
  const steps = Array.isArray(p.steps) ? p.steps : [];
  const phase = typeof st.phase === 'string' ? st.phase : '?';
  const diskPhase = disk ? (typeof disk.phase === 'string' ? disk.phase : '?') : undefined;
  const error = typeof st.error === 'string' && st.error ? st.error : undefined;
  const status: RunStatus = a.ok ? runStatusOf(phase, diskPhase, error) : 'not-authenticated';
  return {
    runId,
    status,
    phase,
    ...(diskPhase !== undefined ? { diskPhase } : {}),
    authenticated: a.ok,
    ...(a.ok ? {} : { problem: a.why }),
    createdAt: typeof p.createdAt === 'string' ? p.createdAt : '',
    updatedAt: typeof st.updatedAt === 'string' ? st.updatedAt : '',
    steps: steps.length,
    repairs: [...new Set(steps.map((x) => String((x as { repair?: unknown } | null)?.repair)))],
    ...(error ? { error } : {}),
    undoable: status === 'applied' || status === 'unfinished',
    finished: FINISHED.has(status),
    bytes: tree.bytes,
    dir,
  };
}

/** Every run in a journal root, oldest first; `auth` as for undo (the --root or --image given). */
export function listRuns(journalRoot: string, auth: AuthOptions = {}): RunSummary[] {
  // Run ids sort by their second; two runs in one second by their start time (milliseconds).
  return Journal.list(journalRoot)
    .map((id) => summarize(journalRoot, id, auth))
    .sort((a, b) => {
      const ka = [a.runId.slice(0, 16), a.createdAt, a.runId];
      const kb = [b.runId.slice(0, 16), b.createdAt, b.runId];
      for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
      return 0;
    });
}

/** A journal folder that is a link (or not a folder) is never used for deleting: it could lead anywhere. */
export function checkJournalFolder(journalRoot: string): void {
  let st;
  try {
    st = lstatSync(journalRoot);
  } catch {
    return; // absent: nothing in it
  }
  if (!st.isDirectory())
    throw new RefusedError(
      `the journal folder ${journalRoot} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; wufix does not follow it to delete anything (it may have been planted): look at it, or pass --journal <the real folder>`,
      'journal-link',
    );
}

export interface PruneResult {
  journal: string;
  dryRun: boolean;
  /** The runs removed (or, in a dry run, that would be). */
  removed: RunSummary[];
  /** The runs kept, with why. */
  kept: (RunSummary & { why: string })[];
  /** Bytes freed (or that would be). */
  bytes: number;
}

/**
 * Remove the journal folders of finished runs (undone, rolled back, interrupted, refused, stopped: nothing
 * of them left to undo); `all` also those that can still be undone and those not authenticated. Deleting
 * is confined to the journal folder: no link is followed (a run folder holding a link or special file is
 * kept, named), each file goes through the confined layer. `dryRun`: nothing is removed.
 */
export function pruneRuns(journalRoot: string, opts: { all?: boolean; dryRun: boolean; auth?: AuthOptions }): PruneResult {
  const root = path.resolve(journalRoot);
  checkJournalFolder(root);
  const removed: RunSummary[] = [];
  const kept: (RunSummary & { why: string })[] = [];
  for (const r of listRuns(root, opts.auth ?? {})) {
    let why: string | undefined;
    if (!opts.all && r.status === 'not-authenticated') why = `not authenticated (${r.problem}): its state is not trusted; --all removes it`;
    else if (!opts.all && !r.finished) why = 'it can still be undone; --all removes it';
    let tree: ReturnType<typeof runTree> | undefined;
    if (!why) {
      try {
        tree = runTree(r.dir);
        if (tree.problem) why = `${tree.problem}; wufix does not follow or delete links in a journal: look at it and remove it by hand`;
      } catch (e) {
        why = `it cannot be read (${(e as Error).message})`;
      }
    }
    if (why) {
      kept.push({ ...r, why });
      continue;
    }
    if (!opts.dryRun) {
      try {
        removeTree(root, tree!);
      } catch (e) {
        // Something changed in it meanwhile (a file appeared, a link was put in place): what is left stays.
        kept.push({ ...r, why: `it was only partly removed (${(e as Error).message}); look at it` });
        continue;
      }
    }
    removed.push({ ...r, bytes: tree!.bytes });
  }
  return { journal: root, dryRun: opts.dryRun, removed, kept, bytes: removed.reduce((a, r) => a + r.bytes, 0) };
}

/** Delete a run folder walked by runTree: files through the confined layer (every folder on the way checked, no link followed), then the folders, deepest first. */
function removeTree(journalRoot: string, tree: ReturnType<typeof runTree>): void {
  confine(journalRoot);
  for (const f of tree.files) removeFileSafe(f);
  for (const d of [...tree.dirs].reverse()) {
    checkPath(d, 'dir');
    rmdirSync(d); // fails (ENOTEMPTY) if something appeared meanwhile: kept, never deleted unseen
  }
}
