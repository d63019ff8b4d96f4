// The WinRE rebuild on Windows/WinPE, through diskpart (issue #6, docs/winre-design.md). The Windows
// volume stays mounted (diskpart shrinks it online); the table, the format and the drive letters are
// diskpart's. Order: preflight (layout unchanged, the old recovery partition recreatable, the BCD
// store readable and clean, journal space) -> journal (table sectors, every file of the old recovery
// partition, the BCD store) -> the diskpart script (src/platform/diskpart.ts) -> the layout re-read
// from \\.\PhysicalDriveN and compared with the plan by offset BEFORE anything else is written ->
// Winre.wim and boot.sdi copied (hashes checked through a re-read) -> the BCD re-pointed at the GUID
// diskpart gave the partition (decoded back) -> verify. A failure after diskpart ran is rolled back
// by a second diskpart script (delete the new partition, extend Windows back, recreate and refill the
// old partition) and the BCD store; `undo` runs the same. diskpart cannot set a partition's unique
// GUID, so a recreated partition has a new one and the restored BCD is re-pointed at it (stated in the
// journal); everything else (files, ReAgent.xml via the file part) comes back byte for byte.
import { lstatSync, mkdirSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { confine, readFileSafe } from '../shared/safefs.js';
import { MAX_BCD_BYTES } from '../formats/bcd.js';
import path from 'node:path';
import type { WinreRebuild } from '../model/plan.js';
import { openBlockDevice, readDiskLayout } from '../disk/blockdev.js';
import { planWrites } from '../disk/apply.js';
import { WINRE_ATTRIBUTES } from '../disk/roles.js';
import { type Layout, type Partition } from '../model/disk.js';
import { MiB } from '../shared/units.js';
import { isDirty, parseBaseBlock } from '../hive/baseblock.js';
import { atomicWrite } from '../shared/atomic.js';
import type { BcdTarget } from '../model/winre.js';
import { resolveCI } from '../windows/paths.js';
import { recoveryFactsAt } from '../windows/recovery.js';
import { toDiskInfo } from '../disk/info.js';
import { type BcdLocation, type DiskFacts } from '../model/target.js';
import { windowsPartitionNumber } from './plan.js';
import { WINRE_UPDATE_FREE } from '../windows/winre.js';
import { describeBytes } from '../shared/units.js';
import { InterruptedError, RefusedError, VerificationError } from '../shared/errors.js';
import { interruptedBy, signalWords, watchInterrupts, type InterruptWatch } from '../shared/interrupt.js';
import { checkJournalSpace, sha256File } from '../engine/journal.js';
import { faultPoint } from '../shared/faults.js';
import { diskpartItemNumber, diskpartScript, parseDiskpartListTable, WINRE_LABEL } from '../platform/diskpart.js';
import { freeLetter, type CommandResult, type WinHost } from '../platform/winhost.js';
import {
  STOP_BEFORE_CHANGE,
  STOP_DURING_CHANGE,
  stageTimer,
  checkBcdPointsAt,
  checkUnchanged,
  copyWithProgress,
  layoutLines,
  plannedFile,
  extractedFile,
  readDiskState,
  repointedBcd,
  saveState,
  sha256,
  type DiskRunOptions,
  type DiskState,
  type DiskStep,
  saveSectors,
} from './common.js';

const CRLF = (lines: string[]) => lines.map((l) => l + '\r\n').join('');

/** Run a diskpart script; a non-zero exit is an error carrying diskpart's last words. */
async function diskpart(host: WinHost, script: string, what: string, log?: (r: CommandResult) => Promise<void>): Promise<CommandResult> {
  const r = await host.diskpart(script);
  await log?.(r);
  if (r.exitCode !== 0) {
    const last = r.output
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-2)
      .join(' ');
    throw new VerificationError(`diskpart failed while ${what} (exit ${r.exitCode}): ${last}`, 'diskpart-failed');
  }
  return r;
}

/** The disk number of the disk a volume letter lives on (`select volume L` + `detail volume`). */
export async function diskOfLetter(host: WinHost, letter: string): Promise<number> {
  const r = await diskpart(host, CRLF([`select volume ${letter}`, 'detail volume']), `looking up volume ${letter}:`);
  const t = parseDiskpartListTable(r.output);
  const n = t?.rows[0] ? diskpartItemNumber(t.rows[0].cells[0] ?? '') : undefined;
  if (n === undefined) throw new RefusedError(`diskpart did not say which disk volume ${letter}: is on; pass --disk \\\\.\\PhysicalDriveN`, 'no-disk');
  return n;
}

/**
 * The byte offset of the partition behind a volume letter: `detail partition` after `select volume`
 * prints it ("Offset in Bytes: 122683392", localized words), so the number on the output that is the
 * start of a partition of the disk is taken, whatever the display language.
 */
export async function partitionOfLetter(host: WinHost, letter: string, layout: Layout): Promise<Partition> {
  const r = await diskpart(host, CRLF([`select volume ${letter}`, 'detail partition']), `looking up the partition of ${letter}:`);
  const starts = new Set(layout.partitions.map((p) => p.start));
  const hits = new Set<number>();
  for (const m of r.output.matchAll(/\b\d{5,}\b/g)) if (starts.has(Number(m[0]))) hits.add(Number(m[0]));
  if (hits.size !== 1)
    throw new RefusedError(
      `diskpart's "detail partition" for ${letter}: names no single partition offset of the disk; pass --disk and check the layout`,
      'no-partition',
    );
  return atOffset(layout, [...hits][0]!)!;
}

/**
 * Read-only facts for the winre repair on Windows/WinPE: the disk of the volume at `root`, its layout
 * (\\.\PhysicalDriveN), the recovery partition's free space and WinRE files and the BCD store, both
 * read through a temporary drive letter. `disk` overrides the disk (\\.\PhysicalDriveN).
 */
export async function windowsDiskFacts(host: WinHost, root: string, opts: { disk?: string; progress?: (m: string) => void } = {}): Promise<DiskFacts> {
  const progress = opts.progress ?? (() => {});
  const letter = host.letterOf(root);
  if (!letter) throw new RefusedError(`${root} is not a drive letter; on Windows/WinPE give --root as the letter of the Windows volume (W:)`, 'no-letter');
  const n = opts.disk ? diskNumberOf(host, opts.disk) : await diskOfLetter(host, letter);
  const diskPath = host.diskPath(n);
  const layout = readDiskLayout(diskPath);
  const os = await partitionOfLetter(host, letter, layout);
  const info = toDiskInfo(diskPath, layout, os.start);
  const bitlocker = info.partitions.filter((p) => p.fs === 'bitlocker').map((p) => ({ partition: p.number, start: p.start }));
  const facts: DiskFacts = { info, layout, bitlocker, via: 'diskpart' };
  const rec = info.partitions.find((p) => p.number === info.recoveryPartition);
  if (rec && rec.fs === 'ntfs') {
    progress(`measuring free space in recovery partition ${rec.number}`);
    await withLetter(host, n, layout, rec.number, async (r) => recoveryFactsAt(r, rec));
  }
  const esp = info.partitions.find((p) => p.role === 'esp' && p.fs.startsWith('fat'));
  const sys =
    layout.scheme === 'mbr' ? info.partitions.find((p) => p.fs === 'ntfs' && layout.partitions.find((q) => q.number === p.number)?.active) : undefined;
  const holder = esp ?? sys;
  if (holder) {
    const rel = esp ? 'EFI\\Microsoft\\Boot\\BCD' : 'Boot\\BCD';
    await withLetter(host, n, layout, holder.number, async (r) => {
      const f = resolveCI(r, rel);
      if (!f) return;
      const location: BcdLocation = {
        partition: holder.number,
        start: holder.start,
        size: holder.size,
        fs: esp ? 'fat' : 'ntfs',
        path: '/' + path.relative(r, f).split(path.sep).join('/'),
      };
      confine(r);
      facts.bcd = { file: `partition ${holder.number}: \\${rel}`, bytes: readFileSafe(f, MAX_BCD_BYTES, 'the BCD store'), location };
    });
  }
  return facts;
}

/** The number N such that host.diskPath(N) is `disk` ("\\.\PhysicalDrive0" -> 0). */
export function diskNumberOf(host: WinHost, disk: string): number {
  for (let n = 0; n < 64; n++) if (host.diskPath(n).toLowerCase() === disk.toLowerCase()) return n;
  throw new RefusedError(`${disk} is not a physical drive path (\\\\.\\PhysicalDriveN)`, 'no-disk');
}

/**
 * A partition's volume reachable at a temporary drive letter while `fn` runs (diskpart assign,
 * then remove). Recovery and EFI partitions have no letter of their own.
 */
export async function withLetter<T>(
  host: WinHost,
  disk: number,
  layout: Layout,
  number: number,
  fn: (root: string, letter: string) => Promise<T>,
  log?: (r: CommandResult) => Promise<void>,
): Promise<T> {
  const letter = freeLetter(host.lettersInUse(), ['T', 'S', 'Q', 'P', 'O']);
  const wn = windowsPartitionNumber(layout, number);
  if (wn === undefined) throw new RefusedError(`partition ${number} has no diskpart number`, 'no-partition');
  await diskpart(
    host,
    CRLF([`select disk ${disk}`, `select partition ${wn}`, `assign letter=${letter}`]),
    `giving partition ${number} the letter ${letter}:`,
    log,
  );
  try {
    return await fn(host.letterRoot(letter), letter);
  } finally {
    await host.diskpart(CRLF([`select disk ${disk}`, `select partition ${wn}`, `remove letter=${letter}`])).then(log);
  }
}

/**
 * Every regular file under `dir` (relative paths, forward slashes, with their lstat sizes), sorted;
 * folders are entered only when lstat says they are real folders. Links, junctions and special
 * files are listed in `skipped` and never followed or read.
 */
function walk(dir: string, rel = '', skipped: string[] = []): { files: { path: string; bytes: number }[]; skipped: string[] } {
  const files: { path: string; bytes: number }[] = [];
  for (const name of readdirSync(path.join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(path.join(dir, ...r.split('/')));
    if (st.isDirectory()) {
      if (!/^(System Volume Information|\$RECYCLE\.BIN)$/i.test(name)) files.push(...walk(dir, r, skipped).files);
    } else if (st.isFile()) files.push({ path: r, bytes: st.size });
    else skipped.push(r);
  }
  return { files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), skipped };
}

interface OldPartition {
  number: number;
  start: number;
  size: number;
  type: string;
  attributes?: string;
  guid?: string;
  label: string;
  /** MBR: a logical partition inside the extended one (recreated as one). */
  logical?: boolean;
  files: { path: string; sha256: string; bytes: number }[];
  /** Links, junctions and special files found there: not saved (never followed), so not recreated. */
  skipped?: string[];
}

interface WindowsDiskState extends DiskState {
  backend: 'windows';
  diskNumber: number;
  /** The old recovery partition as saved (files under old-recovery/ in the journal). */
  old?: OldPartition;
  /** The unique GUID diskpart gave the new partition (GPT). */
  newGuid?: string;
  diskpartLog: string[];
  /** What the rollback/undo could not bring back byte for byte. */
  restoreNotes?: string[];
}

const readWinState = (dir: string) => readDiskState(dir) as WindowsDiskState | undefined;

const bcdPathParts = (p: string) => p.split('/').filter(Boolean);

/** The partition at byte `start` (diskpart renumbers; offsets do not move). */
const atOffset = (l: Layout, start: number) => l.partitions.find((p) => p.start === start);

/** Whole MiB or refuse: diskpart takes sizes in MB (MiB). */
function mib(n: number, what: string): number {
  if (n % MiB !== 0)
    throw new RefusedError(
      `${what} (${n} bytes) is not a whole number of MiB, so diskpart could not put it back on undo; use the Linux backend (wufix repair --image) for this disk`,
      'diskpart-unaligned',
    );
  return n / MiB;
}

export interface WindowsRunOptions extends DiskRunOptions {
  host: WinHost;
  /** The Windows volume root ("W:\"): source of Winre.wim when it comes from System32\Recovery. */
  root: string;
}

/** Apply the disk part of a WinRE rebuild with diskpart. `dir` is the run's disk journal (<run>/disk). */
export async function applyWinreWindows(c: WinreRebuild, dir: string, opts: WindowsRunOptions): Promise<WindowsDiskState> {
  const progress = opts.progress ?? (() => {});
  // Stop signals are recorded from the first check on (the caller's watch, or one of our own).
  const own = opts.stop ? undefined : watchInterrupts(progress, STOP_BEFORE_CHANGE);
  const stop = opts.stop ?? own!;
  try {
    return await applyWatched(c, dir, opts, progress, stop);
  } catch (e) {
    // A piece that failed because of the signal before any change reports the signal.
    const phase = readWinState(dir)?.phase;
    if (stop.signal && !(e instanceof InterruptedError) && (phase === undefined || phase === 'planned' || phase === 'interrupted'))
      throw new InterruptedError(`${signalWords(stop.signal)}; nothing was written (the disk is as it was)`);
    throw e;
  } finally {
    own?.release();
  }
}

type WinState = Omit<WindowsDiskState, 'updatedAt'>;

/** One rebuild in progress: the rebuild, its journal, the host and disk, and the stop-signal helpers. */
interface Run {
  c: WinreRebuild;
  dir: string;
  opts: WindowsRunOptions;
  host: WinHost;
  progress: (m: string) => void;
  stop: InterruptWatch;
  diskNumber: number;
  /** The layout read at the start (unchanged from the plan). */
  before: Layout;
  newOsSize: number;
  /** The old recovery partition the plan deletes, as it is now. */
  oldPart: Partition | undefined;
  /** The drive letter diskpart gives the new partition. */
  newLetter: string;
  state: WinState;
  lap: (name: string) => void;
  /** Between two pieces of work before the first change: a stop signal ends the run here, nothing written. */
  notYet: () => void;
  /** Append a diskpart (or other tool) run to the journal's log. */
  logRun: (r: CommandResult) => Promise<void>;
}

async function applyWatched(
  c: WinreRebuild,
  dir: string,
  opts: WindowsRunOptions,
  progress: (m: string) => void,
  stop: InterruptWatch,
): Promise<WindowsDiskState> {
  const { timings, lap } = stageTimer();
  stop.status(STOP_BEFORE_CHANGE, 'checking the disk; nothing has been changed yet');
  // --- 1. Preflight: every check that can refuse; nothing is written before all of these pass.
  progress('checking the disk before any change');
  const r = startRun(c, dir, opts, progress, stop, timings, lap);
  const bcdBefore = await preflight(r);
  lap('preflight');

  // --- 2. Journal. A stop signal here ends the run at the next piece: the disk is not touched yet.
  const { state } = r;
  mkdirSync(dir, { recursive: true });
  await saveState(dir, state);
  stop.status(STOP_BEFORE_CHANGE, 'saving the journal; nothing has been changed yet');
  try {
    await saveJournal(r, bcdBefore);
  } catch (e) {
    // Nothing was changed: the state says so (interrupted, or the journal could not be written).
    state.error = (e as Error).message;
    await saveState(dir, { ...state, phase: stop.signal ? 'interrupted' : 'planned' });
    if (stop.signal && !(e instanceof InterruptedError)) r.notYet();
    throw e;
  }
  lap('journal');
  state.done.push('backed-up');
  state.phase = 'applying';
  await saveState(dir, state);
  faultPoint('winre-after-backup');

  try {
    stop.check('the disk was restored from the journal');
    await changeDisk(r, bcdBefore);
    return { ...state, updatedAt: new Date().toISOString() };
  } catch (e) {
    return await rollBack(r, e);
  }
}

/** The run's fixed facts, checked: the disk number, the layout unchanged, every size a whole MiB. */
function startRun(
  c: WinreRebuild,
  dir: string,
  opts: WindowsRunOptions,
  progress: (m: string) => void,
  stop: InterruptWatch,
  timings: Record<string, number>,
  lap: (name: string) => void,
): Run {
  const { host } = opts;
  const w = c.winre;
  const diskNumber = diskNumberOf(host, c.disk);
  const before = readDiskLayout(c.disk);
  checkUnchanged(c, before);
  if (w.shrinkOsBy) mib(w.shrinkOsBy, 'the shrink');
  mib(w.newPartition.size, 'the new partition');
  const old = w.old;
  const oldPart = old ? before.partitions.find((p) => p.number === old.number) : undefined;
  if (oldPart) mib(oldPart.size, `the old recovery partition ${oldPart.number}`);
  const newLetter = freeLetter(host.lettersInUse());
  const state: WinState = {
    backend: 'windows',
    diskNumber,
    phase: 'planned',
    done: [],
    sectors: [],
    regions: [],
    layoutBefore: layoutLines(before),
    timings,
    diskpartLog: [],
  };
  const logRun = async (x: CommandResult) => {
    state.diskpartLog.push(`> ${x.commandLine} (exit ${x.exitCode})`, ...x.output.split('\n').filter((l) => l.trim()));
  };
  const notYet = () => stop.check('nothing was written (the disk is as it was)');
  return { c, dir, opts, host, progress, stop, diskNumber, before, newOsSize: w.os.size - w.shrinkOsBy, oldPart, newLetter, state, lap, notYet, logRun };
}

/** 1. The BCD store readable, clean and re-pointable; the WinRE files where planned; journal space. */
async function preflight(r: Run): Promise<Uint8Array | undefined> {
  const { c, host, diskNumber, before, logRun, notYet } = r;
  let bcdBefore: Uint8Array | undefined;
  const bcd = c.bcd;
  if (bcd) {
    bcdBefore = await withLetter(
      host,
      diskNumber,
      before,
      bcd.location.partition,
      async (root) => readFileSafe(path.join(confine(root), ...bcdPathParts(bcd.location.path)), MAX_BCD_BYTES, 'the BCD store'),
      logRun,
    );
    if (isDirty(parseBaseBlock(bcdBefore))) {
      throw new RefusedError(
        `the BCD store (partition ${bcd.location.partition}, ${bcd.location.path}) was not closed cleanly; run "bcdedit /enum" once and retry. Nothing was written`,
        'bcd-dirty',
      );
    }
    repointedBcd(c, bcdBefore); // a store without a WinRE chain is refused here, before any write
  }
  notYet();
  // The WinRE files the plan lists, where they are now: regular files of the planned sizes, reached through real folders.
  if (c.source.where === 'partition') {
    const s = c.source;
    if (s.partition !== r.oldPart?.number)
      throw new RefusedError(
        `Winre.wim is on partition ${s.partition}, which this plan does not replace; the Windows backend copies it from the journal only`,
        'winre-source',
      );
    await withLetter(
      host,
      diskNumber,
      before,
      s.partition,
      async (root) => {
        for (const f of s.files) plannedFile(root, `${s.dir}\\${f.name}`, f.bytes, `partition ${s.partition}`);
      },
      logRun,
    );
  } else if (c.source.where === 'install-wim') {
    for (const f of c.source.files) extractedFile(f);
  } else {
    for (const f of c.source.files) plannedFile(r.opts.root, f.path, f.bytes, 'the Windows volume');
  }
  checkJournalSpace(r.dir, (r.oldPart?.size ?? 0) + (bcdBefore?.length ?? 0));
  notYet();
  // The caller's checks (the file part's) and its journal, still before anything is written here.
  await r.opts.ready?.();
  notYet();
  return bcdBefore;
}

/** 2. The journal: the table sectors diskpart will rewrite, the old partition's files, the BCD store. */
async function saveJournal(r: Run, bcdBefore: Uint8Array | undefined): Promise<void> {
  const { c, dir, state } = r;
  const dev = openBlockDevice(c.disk);
  try {
    await saveSectors(dev, planWrites(dev, c.winre.diskPlan).writes, state.sectors, dir);
  } finally {
    dev.close();
  }
  if (r.oldPart) state.old = await saveOldPartition(r, r.oldPart);
  if (bcdBefore) {
    await atomicWrite(path.join(dir, 'BCD.before'), bcdBefore);
    state.bcd = { file: 'BCD.before', sha256Before: sha256(bcdBefore) };
  }
  faultPoint('winre-journal-saved');
  r.notYet();
}

/** Every regular file of the old recovery partition, copied into <dir>/old-recovery. */
async function saveOldPartition(r: Run, oldPart: Partition): Promise<OldPartition> {
  const { dir, progress, notYet } = r;
  progress(`saving the files of recovery partition ${oldPart.number} to the journal`);
  const saved: OldPartition = {
    number: oldPart.number,
    start: oldPart.start,
    size: oldPart.size,
    type: oldPart.type,
    ...(oldPart.attributes !== undefined ? { attributes: `0x${oldPart.attributes.toString(16).padStart(16, '0')}` } : {}),
    ...(oldPart.guid ? { guid: oldPart.guid } : {}),
    label: oldPart.volume?.label ?? '',
    ...(oldPart.logical ? { logical: true } : {}),
    files: [],
  };
  await withLetter(
    r.host,
    r.diskNumber,
    r.before,
    oldPart.number,
    async (root) => {
      // Regular files only, each read through a descriptor that did not follow a link (copyWithProgress).
      const found = walk(root);
      for (const f of found.files) {
        notYet();
        const to = path.join(dir, 'old-recovery', ...f.path.split('/'));
        mkdirSync(path.dirname(to), { recursive: true });
        const sum = await copyWithProgress(path.join(root, ...f.path.split('/')), to, f.path, progress, f.bytes, notYet);
        saved.files.push({ path: f.path, sha256: sum, bytes: f.bytes });
      }
      if (found.skipped.length) {
        saved.skipped = found.skipped;
        progress(`not saved (links or special files, never followed): ${found.skipped.map((x) => JSON.stringify(x)).join(', ')}`);
      }
    },
    r.logRun,
  );
  return saved;
}

/** 3..7, each step recorded in the journal: diskpart, the layout check, copy, BCD, verify. */
async function changeDisk(r: Run, bcdBefore: Uint8Array | undefined): Promise<void> {
  const { c, host, diskNumber, newLetter, state, logRun } = r;
  const w = c.winre;
  const doing = (what: string) => r.stop.status(STOP_DURING_CHANGE, `${what}; then the disk is restored from the journal`);
  const step = async (name: DiskStep, timing: string) => {
    r.lap(timing);
    state.done.push(name);
    await saveState(r.dir, state);
    faultPoint(`winre-after-${name}`);
    r.stop.check('the disk was restored from the journal');
  };
  doing('running diskpart');
  // --- 3. diskpart: shrink, delete, create, attributes, format, assign.
  r.progress(`running diskpart on disk ${diskNumber} (shrink, delete, create, format)`);
  await diskpart(host, diskpartScript(w, { number: diskNumber }, w.os.number, { letter: newLetter }), 'rebuilding the WinRE partition', logRun);
  await step('formatted', 'diskpart');

  // --- 4. The layout as Windows now has it, against the plan, before anything else is written.
  const after = readDiskLayout(c.disk);
  const np = checkAgainstPlan(c, after, r.newOsSize);
  state.newGuid = np.guid;
  state.layoutAfter = layoutLines(after);
  await saveState(r.dir, state);

  // --- 5. Winre.wim and boot.sdi.
  const files = sourceFiles(r);
  doing('copying the WinRE files');
  state.copied = await copyFiles(r, files);
  await step('copied', 'copy');

  // --- 6. The BCD, re-pointed at the partition as it now is.
  if (c.bcd && bcdBefore) {
    doing('re-pointing the BCD store');
    await repointBcd(r, c.bcd, bcdBefore, after, np);
    await step('bcd-written', 'bcd');
  }

  // --- 7. Verify, and take the letter away again (a recovery partition has none).
  await diskpart(
    host,
    CRLF([`select disk ${diskNumber}`, `select volume ${newLetter}`, `remove letter=${newLetter}`]),
    `removing the letter ${newLetter}:`,
    logRun,
  );
  checkAgainstPlan(c, readDiskLayout(c.disk), r.newOsSize);
  state.phase = 'verified';
  await step('verified', 'verify');
}

/** The plan's WinRE files where the copy reads them: the journal copy of the old partition, or the Windows volume. */
function sourceFiles(r: Run): { name: string; from: string; bytes: number }[] {
  const { c, dir, state } = r;
  const files: { name: string; from: string; bytes: number }[] = [];
  if (c.source.where === 'partition') {
    const sdir = c.source.dir.replace(/^\\+/, '').split('\\');
    const base = c.source.partition === state.old?.number ? path.join(dir, 'old-recovery') : undefined;
    if (!base)
      throw new RefusedError(
        `Winre.wim is on partition ${c.source.partition}, which this plan does not replace; the Windows backend copies it from the journal only`,
        'winre-source',
      );
    // Exactly the files the plan lists, from the journal copy (regular files of the planned sizes).
    for (const f of c.source.files)
      files.push({
        name: f.name,
        from: plannedFile(base, `${sdir.join('\\')}\\${f.name}`, f.bytes, `the journal copy of partition ${c.source.partition}`),
        bytes: f.bytes,
      });
  } else if (c.source.where === 'install-wim') {
    for (const f of c.source.files) files.push({ name: f.name, from: extractedFile(f), bytes: f.bytes });
  } else {
    for (const f of c.source.files) files.push({ name: f.name, from: plannedFile(r.opts.root, f.path, f.bytes, 'the Windows volume'), bytes: f.bytes });
  }
  return files;
}

/** 5. Copy into \Recovery\WindowsRE of the new partition, re-read every hash, check the free space. */
async function copyFiles(r: Run, files: { name: string; from: string; bytes: number }[]): Promise<{ name: string; sha256: string; bytes: number }[]> {
  const { state } = r;
  const dest = r.host.letterRoot(r.newLetter);
  const to = path.join(dest, 'Recovery', 'WindowsRE');
  mkdirSync(to, { recursive: true });
  const copied: { name: string; sha256: string; bytes: number }[] = [];
  for (const f of files) {
    const sum = await copyWithProgress(f.from, path.join(to, f.name), f.name, r.progress, f.bytes);
    copied.push({ name: f.name, sha256: sum, bytes: f.bytes });
  }
  for (const f of copied) {
    if ((await sha256File(path.join(to, f.name))) !== f.sha256) throw new VerificationError(`${f.name} does not read back from the new partition`);
  }
  const st = statfsSync(dest);
  state.recoveryFreeAfter = st.bsize * st.bavail;
  if (state.recoveryFreeAfter < WINRE_UPDATE_FREE) {
    throw new VerificationError(
      `the new recovery partition has only ${describeBytes(state.recoveryFreeAfter)} free after the copy; the update needs ${describeBytes(WINRE_UPDATE_FREE)}`,
    );
  }
  return copied;
}

/** 6. Write the BCD store re-pointed at the GUID diskpart gave the new partition `np`, and read it back. */
async function repointBcd(r: Run, bcd: NonNullable<WinreRebuild['bcd']>, bcdBefore: Uint8Array, after: Layout, np: Partition): Promise<void> {
  const { state } = r;
  const target: BcdTarget = bcd.target.scheme === 'gpt' ? { ...bcd.target, partitionGuid: np.guid! } : bcd.target; // a GPT entry read back always has its unique GUID
  const bytes = repointedBcd(r.c, bcdBefore, target);
  const sha256After = sha256(bytes);
  state.bcd = { file: 'BCD.before', sha256Before: sha256(bcdBefore), ...state.bcd, sha256After };
  r.progress(`re-pointing the BCD store on partition ${bcd.location.partition}`);
  await withLetter(
    r.host,
    r.diskNumber,
    after,
    bcd.location.partition,
    async (root) => {
      const file = path.join(confine(root), ...bcdPathParts(bcd.location.path));
      await atomicWrite(file, bytes); // refuses a link in its place
      const back = readFileSafe(file, MAX_BCD_BYTES, 'the BCD store');
      if (sha256(back) !== sha256After) throw new VerificationError('the BCD store does not read back as written');
      checkBcdPointsAt(target, back);
    },
    r.logRun,
  );
}

/** A step failed or a stop signal came: restore the disk from the journal, then throw what happened. */
async function rollBack(r: Run, e: unknown): Promise<never> {
  const { stop, progress, dir, state } = r;
  const interrupted = stop.signal;
  progress(`${interrupted ? interruptedBy(interrupted) : `failed: ${(e as Error).message}`}; restoring the disk from the journal`);
  state.error = (e as Error).message;
  await saveState(dir, state);
  const rollingBack = 'finishing the rollback first (the disk is being restored from the journal)';
  stop.status(rollingBack, 'rolling back');
  await restoreWinreWindows(r.c, dir, {
    ...r.opts,
    progress: (m) => {
      stop.status(rollingBack, `rolling back: ${m}`);
      progress(m);
    },
  });
  const s = readWinState(dir);
  if (s) await saveState(dir, { ...s, phase: 'rolled-back' });
  if (interrupted) throw new InterruptedError(`${signalWords(interrupted)}; the disk was restored from the journal`);
  throw e;
}

/** After diskpart: the plan's partitions at the plan's offsets (numbers and the GUID are diskpart's). */
function checkAgainstPlan(c: WinreRebuild, after: Layout, newOsSize: number): Partition {
  const w = c.winre;
  const problems: string[] = [];
  const np = atOffset(after, w.newPartition.start);
  if (!np || np.size !== w.newPartition.size) problems.push(`no partition of ${w.newPartition.size} bytes at byte ${w.newPartition.start}`);
  else {
    if (np.type !== w.newPartition.type) problems.push(`the new partition has type ${np.type}, not ${w.newPartition.type}`);
    if (after.scheme === 'gpt' && np.attributes !== WINRE_ATTRIBUTES) problems.push(`the new partition has attributes 0x${(np.attributes ?? 0n).toString(16)}`);
    if (np.volume?.fs !== 'ntfs' || np.volume.label !== WINRE_LABEL) problems.push(`the new partition is not NTFS "${WINRE_LABEL}"`);
  }
  const os = atOffset(after, w.os.start);
  if (!os || os.size !== newOsSize) problems.push(`the Windows partition at byte ${w.os.start} is not ${newOsSize} bytes`);
  if (w.old && w.old.start !== w.newPartition.start) {
    const stale = atOffset(after, w.old.start);
    if (stale) problems.push(`the old recovery partition at byte ${w.old.start} is still there`);
  }
  const untouched = c.expect.filter((e) => e.number !== w.os.number && e.number !== w.old?.number);
  for (const e of untouched) {
    const p = atOffset(after, e.start);
    if (!p || p.size !== e.size) problems.push(`partition ${e.number} (byte ${e.start}, ${e.size} bytes) moved or changed`);
  }
  if (problems.length) throw new VerificationError(`after diskpart the disk is not what the plan says: ${problems.join('; ')}`);
  return np!;
}

/**
 * Put the disk back as far as diskpart can: the new partition deleted, Windows extended back, the old
 * recovery partition recreated at its offset with its type, attributes and label and its files copied
 * back, and the BCD store restored (re-pointed at the recreated partition's new GUID on GPT).
 */
export async function restoreWinreWindows(c: WinreRebuild, dir: string, opts: WindowsRunOptions): Promise<void> {
  const { host } = opts;
  const progress = opts.progress ?? (() => {});
  const s = readWinState(dir);
  if (!s || !s.done.includes('backed-up')) return;
  const w = c.winre;
  const notes: string[] = [];
  const logRun = async (r: CommandResult) => {
    s.diskpartLog.push(`> ${r.commandLine} (exit ${r.exitCode})`, ...r.output.split('\n').filter((l) => l.trim()));
  };
  let now = readDiskLayout(c.disk);
  // The disk as the host numbers it now (an attached VHD/VHDX may have another number than at repair time).
  const diskNumber = diskNumberOf(host, c.disk);
  const script = [`select disk ${diskNumber}`];
  // The partition this run created: at the planned place, the WinRE type, and not one the disk had before.
  const np = atOffset(now, w.newPartition.start);
  if (np && np.size === w.newPartition.size && np.type === w.newPartition.type && !c.expect.some((e) => e.start === np.start && e.size === np.size)) {
    script.push(`select partition ${windowsPartitionNumber(now, np.number)}`, 'delete partition override');
  }
  const os = atOffset(now, w.os.start);
  if (os && os.size < w.os.size)
    script.push(`select partition ${windowsPartitionNumber(now, os.number)}`, `extend size=${mib(w.os.size - os.size, 'the shrink')}`);
  const old = s.old;
  const oldGone = old && !now.partitions.some((p) => p.start === old.start && p.size === old.size && p.type === old.type);
  const letter = freeLetter(host.lettersInUse());
  if (old && oldGone) {
    const gpt = now.scheme === 'gpt';
    const id = gpt ? old.type : old.type.replace(/^0x/i, '');
    // As the rebuild's own script: `create partition logical` takes no id=, so the type is set next.
    if (old.logical) script.push(`create partition logical size=${mib(old.size, 'the old partition')} offset=${old.start / 1024}`, `set id=${id}`);
    else script.push(`create partition primary size=${mib(old.size, 'the old partition')} offset=${old.start / 1024} id=${id}`);
    if (gpt && old.attributes) script.push(`gpt attributes=${old.attributes}`);
    script.push(`format quick fs=ntfs label="${old.label.replace(/"/g, '')}"`, `assign letter=${letter}`);
  }
  if (script.length > 1) {
    progress('diskpart: putting the partitions back');
    await diskpart(host, CRLF(script), 'putting the partitions back', logRun);
  }
  if (old && oldGone) {
    progress(`copying the files of the old recovery partition back from the journal`);
    const root = host.letterRoot(letter);
    for (const f of old.files) {
      const to = path.join(root, ...f.path.split('/'));
      mkdirSync(path.dirname(to), { recursive: true });
      const sum = await copyWithProgress(path.join(dir, 'old-recovery', ...f.path.split('/')), to, f.path, progress, f.bytes);
      if (sum !== f.sha256 || (await sha256File(to)) !== f.sha256) throw new VerificationError(`${f.path} did not come back intact from the journal`);
    }
    await diskpart(host, CRLF([`select disk ${diskNumber}`, `select volume ${letter}`, `remove letter=${letter}`]), `removing the letter ${letter}:`, logRun);
    notes.push(`partition at byte ${old.start} recreated by diskpart: same offset, size, type, attributes, label and files; new unique GUID and a fresh NTFS`);
  }
  now = readDiskLayout(c.disk);
  // The BCD goes back when this run wrote it, and also when the old partition came back with a new
  // GUID (GPT): the store as it was would point at a partition that no longer exists.
  const rec = old ? atOffset(now, old.start) : undefined;
  const guidChanged = !!(c.bcd?.target.scheme === 'gpt' && rec?.guid && old?.guid && rec.guid !== old.guid);
  if (c.bcd && s.bcd && (s.done.includes('bcd-written') || guidChanged)) {
    const before = new Uint8Array(readFileSync(path.join(dir, s.bcd.file)));
    if (sha256(before) !== s.bcd.sha256Before) throw new VerificationError('the journal copy of the BCD store does not match its hash');
    let bytes: Uint8Array = before;
    const t = c.bcd.target;
    if (guidChanged && t.scheme === 'gpt') {
      bytes = repointedBcd(c, before, { ...t, partitionGuid: rec.guid! });
      notes.push(`the BCD store is the saved one re-pointed at the recreated partition's GUID ${rec.guid}`);
    }
    progress('restoring the BCD store');
    await withLetter(
      host,
      diskNumber,
      now,
      c.bcd.location.partition,
      async (r) => {
        const file = path.join(r, ...bcdPathParts(c.bcd!.location.path));
        await atomicWrite(file, bytes);
        if (sha256(new Uint8Array(readFileSync(file))) !== sha256(bytes)) throw new VerificationError('the BCD store does not read back as restored');
      },
      logRun,
    );
  }
  const lost = c.expect.filter((e) => !now.partitions.some((p) => p.start === e.start && p.size === e.size));
  if (lost.length)
    throw new VerificationError(
      `after the restore, partition(s) ${lost.map((e) => e.number).join(', ')} are not back at their offsets; see ${dir}/sectors.bin for the original table`,
    );
  await saveState(dir, { ...s, restoreNotes: notes });
}

export async function undoWinreWindows(c: WinreRebuild, dir: string, opts: WindowsRunOptions & { force?: boolean }): Promise<string[]> {
  const s = readWinState(dir);
  // 'applying': the process died during the rebuild; the restore works from what the disk shows.
  if (!s || (s.phase !== 'verified' && s.phase !== 'applying')) return [];
  if (!opts.force && s.phase === 'verified') {
    const now = readDiskLayout(c.disk);
    const np = atOffset(now, c.winre.newPartition.start);
    if (!np || (s.newGuid && np.guid !== s.newGuid)) {
      throw new RefusedError(
        `the WinRE partition this run created is no longer at byte ${c.winre.newPartition.start}; the disk changed since, so undo stops (--force to try anyway)`,
        'undo-changed',
      );
    }
  }
  await restoreWinreWindows(c, dir, opts);
  const after = readWinState(dir)!;
  await saveState(dir, { ...after, phase: 'undone' });
  return after.restoreNotes ?? [];
}
