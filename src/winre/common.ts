// What both WinRE rebuild backends share (Linux: src/winre/linux.ts, Windows/WinPE:
// src/winre/windows.ts): the disk journal's state file, the layout check before any write,
// the copy with progress and hash, and the BCD re-pointing with its decode-back check.
import { createHash } from 'node:crypto';
import {
  existsSync,
  readFileSync,
  openSync,
  read,
  write,
  closeSync,
  fsync,
  createReadStream,
  fstatSync,
  lstatSync,
  readdirSync,
  readlinkSync,
  readSync,
  constants as fsc,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { WinreRebuild } from '../model/plan.js';
import { VerificationError } from '../shared/errors.js';
import { tableFields } from '../disk/plan.js';
import type { BlockDevice, Layout } from '../model/disk.js';
import { atomicWrite } from '../shared/atomic.js';
import { MiB } from '../shared/units.js';
import { Hive } from '../hive/hive.js';
import { writeJournalFile } from '../engine/journal.js';
import { repointWinre, applyBcdChanges } from '../formats/bcd-write.js';
import { type BcdTarget } from '../model/winre.js';
import { describeWinre, parseBcdStore } from '../formats/bcd.js';
import { BadInputError, RefusedError } from '../shared/errors.js';
import type { InterruptWatch } from '../shared/interrupt.js';
import { namesEqual } from '../hive/names.js';

export type DiskStep = 'backed-up' | 'os-shrunk' | 'table-written' | 'formatted' | 'copied' | 'bcd-written' | 'verified';

/** Copy the bytes `writes` will overwrite into <dir>/sectors.bin, recording each range in `sectors`. */
export async function saveSectors(
  dev: Pick<BlockDevice, 'read'>,
  writes: readonly { offset: number; bytes: Uint8Array }[],
  sectors: DiskState['sectors'],
  dir: string,
): Promise<void> {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const wr of writes) {
    chunks.push(Buffer.from(dev.read(wr.offset, wr.bytes.length)));
    sectors.push({ offset: wr.offset, length: wr.bytes.length, at });
    at += wr.bytes.length;
  }
  await atomicWrite(path.join(dir, 'sectors.bin'), new Uint8Array(Buffer.concat(chunks)));
}

export interface DiskState {
  /** 'interrupted': a stop signal ended the run before its first change (nothing was written). */
  phase: 'planned' | 'applying' | 'verified' | 'rolled-back' | 'interrupted' | 'failed' | 'undone';
  done: DiskStep[];
  /** Raw sector ranges saved before the table write (offsets on the disk). */
  sectors: { offset: number; length: number; at: number }[];
  /** Raw regions saved (sparse files in the journal); `digest` is their RegionHash. */
  regions: { start: number; size: number; file: string; digest: string }[];
  bcd?: { file: string; sha256Before: string; sha256After?: string };
  /** The OS file-system size before the shrink (bytes). */
  osVolumeBytes?: number;
  layoutBefore: string[];
  layoutAfter?: string[];
  copied?: { name: string; sha256: string; bytes: number }[];
  recoveryFreeAfter?: number;
  /** Milliseconds per stage (preflight, journal, ntfsresize, table, mkntfs, copy, bcd, verify). */
  timings?: Record<string, number>;
  error?: string;
  updatedAt: string;
}

export interface DiskRunOptions {
  progress?: (msg: string) => void;
  /**
   * The run's stop-signal watch (src/winre/run.ts starts it before any check); without one the
   * backend watches by itself. A signal before the first change stops at the next check (between
   * journal pieces) with nothing written; during changes, the run rolls back after the current step.
   */
  stop?: InterruptWatch;
  /**
   * Called once the backend's own checks passed, before it writes its journal: the caller's
   * remaining checks (the file part's) and the run's journal. A refusal there leaves the disk as it was.
   */
  ready?: () => Promise<void>;
}

/** What the first stop signal does before the first change. */
export const STOP_BEFORE_CHANGE = 'stopping now: nothing has been changed yet';
/** ... and during the changes. */
export const STOP_DURING_CHANGE = 'rolling back after the current step';

export const CHUNK = 4 * MiB;

/**
 * Milliseconds per stage: lap(name) adds the time since the previous lap to timings[prefix + name].
 * Pass an existing `timings` to record sub-stages into it (e.g. "copy.write").
 */
export function stageTimer(timings: Record<string, number> = {}, prefix = ''): { timings: Record<string, number>; lap: (name: string) => void } {
  let t0 = performance.now();
  return {
    timings,
    lap(name) {
      const t = performance.now();
      const key = prefix + name;
      timings[key] = Math.round((timings[key] ?? 0) + t - t0);
      t0 = t;
    },
  };
}

function stateFile(dir: string): string {
  return path.join(dir, 'state.json');
}

export async function saveState<S extends Omit<DiskState, 'updatedAt'>>(dir: string, s: S): Promise<void> {
  await writeJournalFile(stateFile(dir), new TextEncoder().encode(JSON.stringify({ ...s, updatedAt: new Date().toISOString() }, null, 2) + '\n')); // re-seals the run (src/engine/journal.ts)
}

export function readDiskState(dir: string): DiskState | undefined {
  return existsSync(stateFile(dir)) ? (JSON.parse(readFileSync(stateFile(dir), 'utf8')) as DiskState) : undefined;
}

export const layoutLines = (l: Layout) => l.partitions.map((p) => `${p.number}: ${tableFields(p)}`);

/** Merge byte ranges that overlap or touch. */
/** Refuse when the table is not the one the plan was made from (same partitions at the same places). */
export function checkUnchanged(c: WinreRebuild, before: Layout): void {
  const changed = c.expect.filter((e) => !before.partitions.some((p) => p.number === e.number && p.start === e.start && p.size === e.size));
  if (changed.length || before.partitions.length !== c.expect.length) {
    throw new RefusedError(
      `the partition table of ${c.disk} changed since the plan was made (partition ${changed.map((e) => e.number).join(', ') || 'count'}); run the repair again to plan afresh. Nothing was written`,
      'layout-changed',
    );
  }
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A progress line every 10% of a copy of `total` bytes: call it with the bytes done so far. */
export function copyProgress(label: string, total: number, progress: (m: string) => void): (done: number) => void {
  let lastPct = -1;
  return (done) => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    if (pct < lastPct + 10) return;
    lastPct = pct;
    progress(`copying ${label}: ${pct}% (${Math.round(done / MiB)} of ${Math.round(total / MiB)} MiB)`);
  };
}

/** What a node that is not a regular file or a directory is, in words (for a refusal). */
function nodeWords(st: Stats, p: string): string {
  if (st.isSymbolicLink()) {
    let to = '?';
    try {
      to = readlinkSync(p);
    } catch {
      /* unreadable */
    }
    return `a symbolic link (or junction) to ${JSON.stringify(to)}`;
  }
  if (st.isDirectory()) return 'a folder';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device node';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The host path of the plan-listed file `rel` (backslash separated) under `root` (a volume the run
 * mounted, a drive letter, or the journal's copy of a partition), matched case-insensitively one
 * component at a time and checked with lstat on the way: every folder a real folder (no link,
 * junction or Interix link), the file a regular file of exactly `bytes` bytes. Anything else refuses
 * (exit 3) and names it; nothing is followed. `where` names the volume in the message.
 */
export function plannedFile(root: string, rel: string, bytes: number, where: string): string {
  const parts = rel.split(/[\\/]+/).filter((c) => c !== '' && c !== '.');
  if (!parts.length || parts.some((c) => c === '..'))
    throw new RefusedError(`the plan names ${JSON.stringify(rel)} on ${where}, which is not a path inside the volume; plan the repair again`, 'winre-source');
  let cur = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    let hit: string | undefined;
    try {
      const names = readdirSync(cur);
      hit = names.find((e) => e === part) ?? names.find((e) => namesEqual(e, part));
    } catch {
      hit = undefined;
    }
    if (hit === undefined)
      throw new BadInputError(`${parts.slice(0, i + 1).join('\\')} is missing on ${where} (the plan lists ${rel})`, { code: 'winre-source-missing' });
    cur = path.join(cur, hit);
    const st = lstatSync(cur);
    const last = i === parts.length - 1;
    const shown = parts.slice(0, i + 1).join('\\');
    if (!last && !st.isDirectory()) {
      throw new RefusedError(
        `${shown} on ${where} is ${nodeWords(st, cur)}, not a folder; the WinRE copy never follows links: look at it (it may have been planted), fix it by hand, then plan the repair again`,
        st.isSymbolicLink() ? 'link' : 'special-file',
      );
    }
    if (last && !st.isFile()) {
      throw new RefusedError(
        `${shown} on ${where} is ${nodeWords(st, cur)}, not a regular file; the WinRE copy never follows links or reads special files: look at it (it may have been planted), replace it by the real file, then retry`,
        st.isSymbolicLink() ? 'link' : 'special-file',
      );
    }
    if (last && st.size !== bytes) {
      throw new RefusedError(
        `${shown} on ${where} is ${st.size} bytes, but the plan was made for ${bytes}; it changed since: run the repair again to plan afresh`,
        'winre-source-changed',
      );
    }
  }
  return cur;
}

/**
 * A WinRE file wufix extracted from an install.wim into its own temp folder (--winre-source): a
 * regular file (no link) of the planned size and hash, else refused before anything is written.
 */
export function extractedFile(f: { name: string; host: string; bytes: number; sha256: string }): string {
  let st;
  try {
    st = lstatSync(f.host);
  } catch {
    throw new BadInputError(`${f.name} extracted from the install.wim is gone (${f.host}); run the repair again`, { code: 'winre-source-missing' });
  }
  if (!st.isFile() || st.size !== f.bytes) {
    throw new RefusedError(
      `${f.host} (${f.name} extracted from the install.wim) is no longer the ${f.bytes}-byte file extracted; run the repair again`,
      'winre-source-changed',
    );
  }
  const h = createHash('sha256');
  const fd = openPlannedFile(f.host, f.bytes);
  try {
    const buf = Buffer.alloc(4 * MiB);
    for (let pos = 0; pos < f.bytes;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, f.bytes - pos), pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  if (h.digest('hex') !== f.sha256)
    throw new RefusedError(`${f.host} (${f.name}) no longer has the sha256 it was extracted with; run the repair again`, 'winre-source-changed');
  return f.host;
}

/**
 * Open a file plannedFile() checked, without following a link at the last component (O_NOFOLLOW
 * where the platform has it), and make sure the descriptor is that regular file of `bytes` bytes.
 * The caller closes the descriptor.
 */
export function openPlannedFile(file: string, bytes: number): number {
  const before = lstatSync(file);
  const fd = openSync(file, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0) | (fsc.O_NOCTTY ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.ino !== before.ino || st.dev !== before.dev || st.size !== bytes) {
      throw new RefusedError(`${file} changed while it was being opened (now ${nodeWords(st, file)}, ${st.size} bytes); not copied`, 'winre-source-changed');
    }
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** SHA-256 of the first `bytes` bytes of an open descriptor (positional reads: the descriptor's offset is left alone). */
export async function sha256Fd(fd: number, bytes: number): Promise<string> {
  const h = createHash('sha256');
  if (bytes > 0)
    for await (const chunk of createReadStream('', { fd, start: 0, end: bytes - 1, autoClose: false, highWaterMark: MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

const readAt = promisify(read);
const writeAt = promisify(write);
const fsyncFd = promisify(fsync);

/**
 * Copy one checked file (see plannedFile: a regular file of `bytes` bytes, opened without following
 * links) with a progress line every 10%; returns its sha256. Exactly `bytes` bytes are copied, with
 * asynchronous reads, so a stop signal is seen between pieces: `stop` (when given) is called before
 * each and may throw to end the copy.
 */
export async function copyWithProgress(
  from: string,
  to: string,
  label: string,
  progress: (m: string) => void,
  bytes?: number,
  stop?: () => void,
): Promise<string> {
  const total = bytes ?? lstatSync(from).size;
  const fi = openPlannedFile(from, total);
  let fo: number;
  try {
    fo = openSync(to, 'w');
  } catch (e) {
    closeSync(fi);
    throw e;
  }
  const h = createHash('sha256');
  const buf = Buffer.alloc(CHUNK);
  let done = 0;
  const report = copyProgress(label, total, progress);
  try {
    while (done < total) {
      stop?.();
      const { bytesRead: n } = await readAt(fi, buf, 0, Math.min(CHUNK, total - done), done);
      if (n === 0) throw new BadInputError(`${label}: short read at byte ${done} of ${total}`, { file: from });
      h.update(buf.subarray(0, n));
      let w = 0;
      while (w < n) w += (await writeAt(fo, buf, w, n - w, done + w)).bytesWritten;
      done += n;
      report(done);
    }
    await fsyncFd(fo);
  } finally {
    closeSync(fi);
    closeSync(fo);
  }
  return h.digest('hex');
}

/** The BCD bytes after re-pointing `before` as planned (to `target`: the plan's, or the GUID diskpart gave). */
export function repointedBcd(c: WinreRebuild, before: Uint8Array, target: BcdTarget = c.bcd!.target): Uint8Array {
  const hive = Hive.open(before.slice());
  const r = repointWinre(hive, target, c.bcd!.osLoader ? { osLoader: c.bcd!.osLoader } : {});
  applyBcdChanges(hive, r.changes);
  hive.verify();
  return hive.serialize().slice();
}

/** The decoded store's WinRE loader ramdisk device is the target partition. */
export function checkBcdPointsAt(t: BcdTarget, bytes: Uint8Array): void {
  const d = describeWinre(parseBcdStore(Hive.open(bytes.slice())));
  const dev = d.winreLoader?.ramdisk?.device;
  const ok =
    dev?.kind === 'partition' &&
    (t.scheme === 'gpt'
      ? dev.partitionGuid === t.partitionGuid && dev.diskGuid === t.diskGuid
      : dev.partitionOffset === t.offset && dev.diskSignature === t.diskSignature);
  if (!ok)
    throw new VerificationError(
      `the BCD WinRE loader does not point at the new partition after the write (it reads ${d.winreLoader?.deviceText ?? 'nothing'})`,
    );
}
