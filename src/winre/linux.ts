// The WinRE rebuild on Linux (root; a disk image or a whole-disk block device), with the Windows
// volume unmounted. Order (docs/winre-design.md): preflight -> journal (the partition-table sectors
// the disk engine will write, the raw bytes of every region the rebuild writes into, the BCD store)
// -> ntfsresize the OS volume -> the table, through the disk engine -> mkntfs -> copy Winre.wim and
// boot.sdi (hashes checked) -> the BCD store -> verify. Any failure or Ctrl-C rolls back what was
// done, newest first; `undo` runs the same restore later. The journal lives in <run>/disk/.
import { createHash } from 'node:crypto';
import { promises as fsp, existsSync, mkdirSync, readFileSync, statfsSync, openSync, readSync, writeSync, closeSync, fsyncSync, lstatSync } from 'node:fs';
import path from 'node:path';
import type { WinreRebuild } from '../model/plan.js';
import { openBlockDevice, readDiskLayout } from '../disk/blockdev.js';
import { applyPlan as applyDiskPlan, planWrites } from '../disk/apply.js';
import { WINRE_ATTRIBUTES } from '../disk/roles.js';
import { type Layout } from '../model/disk.js';
import { isDirty, parseBaseBlock } from '../hive/baseblock.js';
import { atomicWrite } from '../shared/atomic.js';
import { confine, readFileSafe } from '../shared/safefs.js';
import { MAX_BCD_BYTES } from '../formats/bcd.js';
import { WINRE_UPDATE_FREE } from '../windows/winre.js';
import { describeBytes } from '../shared/units.js';
import { WINRE_LABEL } from '../platform/diskpart.js';
import { attachLoop, detachLoop, mountPartition, requireRoot, requireTools, parseMountinfo, backingDisk, Cleanup, type MountEntry } from '../platform/linux.js';
import { mcopyIn, mcopyOut } from '../platform/mtools.js';
import { ntfsInfo, ntfsResize, mkntfs, ntfsCheck, ntfsCopyIn } from '../platform/ntfs.js';
import { BadInputError, InterruptedError, RefusedError, VerificationError, WufixError } from '../shared/errors.js';
import { checkJournalSpace, sha256File } from '../engine/journal.js';
import {
  CHUNK,
  STOP_BEFORE_CHANGE,
  STOP_DURING_CHANGE,
  stageTimer,
  checkBcdPointsAt,
  checkUnchanged,
  copyProgress,
  layoutLines,
  openPlannedFile,
  plannedFile,
  extractedFile,
  readDiskState,
  repointedBcd,
  saveState,
  sha256,
  sha256Fd,
  type DiskRunOptions,
  type DiskState,
  type DiskStep,
  saveSectors,
} from './common.js';
export { readDiskState, type DiskState } from './common.js';
import { faultPoint } from '../shared/faults.js';
import { interruptedBy, signalWords, watchInterrupts, type InterruptWatch } from '../shared/interrupt.js';

function mergeRegions(rs: { start: number; size: number }[]): { start: number; size: number }[] {
  const sorted = rs.filter((r) => r.size > 0).sort((a, b) => a.start - b.start);
  const out: { start: number; size: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.start + last.size) last.size = Math.max(last.size, r.start + r.size - last.start);
    else out.push({ ...r });
  }
  return out;
}

const ZEROS = Buffer.alloc(CHUNK);
/** The first n bytes are all zero (memcmp against a zero chunk, not a JS loop: 1 GiB regions). */
const isZero = (b: Buffer, n: number) => b.compare(ZEROS, 0, n, 0, n) === 0;

/**
 * The digest of a saved region: SHA-256 over its CHUNK-sized pieces in order, each as 'D' + its bytes, or
 * 'Z' + its length (8 bytes LE) when all zero. Unambiguous (piece sizes follow from the region size) and it
 * does not hash the zeros: most of a region is free space, and hashing 1 GiB costs ~0.6 s.
 */
class RegionHash {
  private readonly h = createHash('sha256');
  private readonly tag = Buffer.alloc(9);
  add(b: Buffer, n: number): boolean {
    const zero = isZero(b, n);
    if (zero) {
      this.tag[0] = 0x5a;
      this.tag.writeBigUInt64LE(BigInt(n), 1);
      this.h.update(this.tag);
    } else {
      this.h.update('D');
      this.h.update(b.subarray(0, n));
    }
    return zero;
  }
  digest(): string {
    return this.h.digest('hex');
  }
}

/**
 * Copy [start, start+size) of `src` into a sparse file (zero chunks become holes). Returns the RegionHash of
 * the range. Pipelined over three buffers: chunk k is hashed on this thread while chunk k+1 is read and chunk
 * k-1 written in the I/O pool, so the copy costs about the slowest of read, hash and write, not their sum.
 */
async function copyRegionOut(
  src: string,
  start: number,
  size: number,
  dest: string,
  progress: (m: string) => void,
  label: string,
  stop: () => void = () => {},
): Promise<string> {
  const fi = await fsp.open(src, 'r');
  const fo = await fsp.open(dest, 'w');
  const h = new RegionHash();
  const bufs = [Buffer.alloc(CHUNK), Buffer.alloc(CHUNK), Buffer.alloc(CHUNK)];
  const ring = (k: number): Buffer => bufs[k % 3]!; // k % 3 is always 0..2
  const writes: (Promise<unknown> | undefined)[] = [undefined, undefined, undefined];
  const readChunk = async (buf: Buffer, at: number, n: number): Promise<void> => {
    for (let got = 0; got < n;) {
      const { bytesRead } = await fi.read(buf, got, n - got, start + at + got);
      if (bytesRead === 0) throw new BadInputError(`short read at byte ${start + at + got}`, { file: src });
      got += bytesRead;
    }
  };
  const writeChunk = async (buf: Buffer, at: number, n: number): Promise<void> => {
    for (let put = 0; put < n;) put += (await fo.write(buf, put, n - put, at + put)).bytesWritten;
  };
  let lastPct = -1;
  let reading: Promise<void> | undefined;
  try {
    reading = size > 0 ? readChunk(ring(0), 0, Math.min(CHUNK, size)) : undefined;
    for (let k = 0, done = 0; done < size; k++) {
      stop(); // a stop signal ends the copy between two pieces (it may throw)
      const n = Math.min(CHUNK, size - done);
      const buf = ring(k);
      await reading;
      const next = done + n;
      const slot = (k + 1) % 3;
      await writes[slot];
      reading = next < size ? readChunk(ring(slot), next, Math.min(CHUNK, size - next)) : undefined;
      if (!h.add(buf, n)) writes[k % 3] = writeChunk(buf, done, n);
      else writes[k % 3] = undefined;
      done = next;
      const pct = Math.floor((done / size) * 100);
      if (pct >= lastPct + 10) {
        progress(`${label}: ${pct}%`);
        lastPct = pct;
      }
    }
    await Promise.all(writes.filter((w) => w !== undefined));
    await fo.truncate(size);
    await fo.sync();
  } finally {
    // A failed read or write must not leave another one pending on a closed handle.
    await Promise.allSettled([reading, ...writes]);
    await fi.close();
    await fo.close();
  }
  return h.digest();
}

/**
 * Write a saved region back to the disk (holes as zeros); checks the RegionHash of what was written.
 * With `only` (disk byte range), just the part of the region inside it is written again, unhashed:
 * for a region already restored (and checked) whole, of which a later step overwrote a part.
 */
function copyRegionIn(file: string, disk: string, start: number, size: number, digest: string, only?: { start: number; end: number }): void {
  const from = only ? Math.max(0, only.start - start) : 0;
  const to = only ? Math.min(size, only.end - start) : size;
  if (to <= from) return;
  const fi = openSync(file, 'r');
  const fo = openSync(disk, 'r+');
  const h = new RegionHash();
  const buf = Buffer.alloc(CHUNK);
  try {
    for (let done = from; done < to;) {
      const n = Math.min(CHUNK, to - done);
      let got = 0;
      while (got < n) {
        const r = readSync(fi, buf, got, n - got, done + got);
        if (r === 0) break;
        got += r;
      }
      buf.fill(0, got, n);
      if (!only) h.add(buf, n);
      writeSync(fo, buf, 0, n, start + done);
      done += n;
    }
    fsyncSync(fo);
  } finally {
    closeSync(fi);
    closeSync(fo);
  }
  if (!only && h.digest() !== digest)
    throw new VerificationError(`the journal copy of bytes ${start}..${start + size} does not match its hash; it was not restored intact`);
}

/** Read or write the BCD store where the scan found it (FAT ESP with mtools, NTFS with ntfs-3g). */
class BcdFile {
  constructor(
    private disk: string,
    private loc: NonNullable<WinreRebuild['bcd']>['location'],
  ) {}
  read(): Uint8Array {
    const c = new Cleanup({ signals: false });
    try {
      const tmp = path.join(c.tempDir('wufix-bcd-'), 'BCD');
      if (this.loc.fs === 'fat') {
        mcopyOut(this.disk, this.loc.start, this.loc.path, tmp);
        return readFileSafe(tmp, MAX_BCD_BYTES, 'the BCD store'); // our temp copy; FAT has no links
      }
      // \Boot\BCD on an NTFS system partition: read through the confined layer (no link followed).
      const mnt = confine(mountPartition(this.disk, this.loc.start, this.loc.size, c, true));
      return readFileSafe(path.join(mnt, ...this.loc.path.split('/')), MAX_BCD_BYTES, 'the BCD store');
    } finally {
      c.release();
    }
  }
  async write(bytes: Uint8Array): Promise<void> {
    const c = new Cleanup({ signals: false });
    try {
      if (this.loc.fs === 'fat') {
        const tmp = path.join(c.tempDir('wufix-bcd-'), 'BCD');
        await fsp.writeFile(tmp, bytes);
        mcopyIn(this.disk, this.loc.start, tmp, this.loc.path);
        return;
      }
      const mnt = confine(mountPartition(this.disk, this.loc.start, this.loc.size, c, false));
      await atomicWrite(path.join(mnt, ...this.loc.path.split('/')), bytes); // refuses a link in its place
    } finally {
      c.release();
    }
  }
}

/** Refuse when any partition of `disk` is mounted (the running system, or a mount left behind). */
function checkNotMounted(disk: string, layout: Layout): void {
  const real = path.resolve(disk);
  let mounts: MountEntry[];
  try {
    mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return;
  }
  for (const m of mounts) {
    const back = backingDisk(m.source);
    if (!back || path.resolve(back.disk) !== real) continue;
    const p = layout.partitions.find((q) => back.offset >= q.start && back.offset < q.start + q.size);
    throw new RefusedError(
      `partition ${p?.number ?? '?'} of ${disk} is mounted at ${m.mountPoint}; the partition table cannot change under a mounted volume: unmount it (umount ${m.mountPoint}) and retry`,
      'mounted',
    );
  }
}

/** Apply the disk part of a WinRE rebuild. `dir` is the run's journal directory for the disk (<run>/disk). */
export async function applyWinreLinux(c: WinreRebuild, dir: string, opts: DiskRunOptions = {}): Promise<DiskState> {
  const progress = opts.progress ?? (() => {});
  // Stop signals are recorded from the first check on (the caller's watch, or one of our own).
  const own = opts.stop ? undefined : watchInterrupts(progress, STOP_BEFORE_CHANGE);
  const stop = opts.stop ?? own!;
  try {
    return await applyWatched(c, dir, progress, stop, opts.ready);
  } finally {
    own?.release();
  }
}

/** One rebuild in progress: the rebuild, its journal directory, and the stop-signal helpers. */
interface Run {
  c: WinreRebuild;
  dir: string;
  progress: (m: string) => void;
  stop: InterruptWatch;
  /** Size of the OS partition after the shrink. */
  newOsSize: number;
  bcdFile: BcdFile | undefined;
  lap: (name: string) => void;
  /** Between two pieces of work before the first change: a stop signal ends the run here, nothing written. */
  notYet: () => void;
  /** A piece that failed because of the signal (a tool killed by the terminal's Ctrl-C) reports the signal. */
  orStop: (e: unknown) => never;
}

/** What the preflight read and planned; nothing was written to get it. */
interface Preflight {
  before: Layout;
  writes: { offset: number; bytes: Uint8Array }[];
  osVolumeBytes: number | undefined;
  bcdBefore: Uint8Array | undefined;
  bcdAfter: Uint8Array | undefined;
  /** Regions the rebuild writes into (the new partition, and the old one it deletes). */
  regions: { start: number; size: number }[];
}

type RunState = Omit<DiskState, 'updatedAt'>;

async function applyWatched(
  c: WinreRebuild,
  dir: string,
  progress: (m: string) => void,
  stop: InterruptWatch,
  ready?: () => Promise<void>,
): Promise<DiskState> {
  const w = c.winre;
  stop.status(STOP_BEFORE_CHANGE, 'checking the disk; nothing has been changed yet');
  const notYet = () => stop.check('nothing was written (the disk is as it was)');
  const orStop = (e: unknown): never => {
    notYet();
    throw e;
  };
  checkHost(c);
  // --- 1. Preflight: every check that can refuse, read-only (read-only loop devices and mounts); nothing is written before all of these pass.
  const { timings, lap } = stageTimer();
  const bcdFile = c.bcd ? new BcdFile(c.disk, c.bcd.location) : undefined;
  const run: Run = { c, dir, progress, stop, newOsSize: w.os.size - w.shrinkOsBy, bcdFile, lap, notYet, orStop };
  progress('checking the disk before any change');
  const pre = await preflight(run, ready).catch(orStop);
  // --- 2. Journal. A stop signal here ends the run at the next piece: the disk is not touched yet.
  mkdirSync(dir, { recursive: true });
  lap('preflight');
  const state: RunState = {
    phase: 'planned',
    done: [],
    sectors: [],
    regions: [],
    layoutBefore: layoutLines(pre.before),
    osVolumeBytes: pre.osVolumeBytes,
    timings,
  };
  await saveState(dir, state);
  stop.status(STOP_BEFORE_CHANGE, 'saving the journal; nothing has been changed yet');
  try {
    await saveJournal(run, pre, state);
  } catch (e) {
    // Nothing was changed: the state says so (interrupted, or the journal could not be written).
    state.error = (e as Error).message;
    await saveState(dir, { ...state, phase: stop.signal ? 'interrupted' : 'planned' });
    orStop(e);
  }
  lap('journal');
  state.done.push('backed-up');
  state.phase = 'applying';
  await saveState(dir, state);
  faultPoint('winre-after-backup');
  return await applyWithRollback(run, pre, state);
}

/** Refuse before any disk access when this host cannot run the rebuild (platform, root, tools). */
function checkHost(c: WinreRebuild): void {
  if (process.platform !== 'linux')
    throw new RefusedError('the WinRE rebuild runs on Linux here; the Windows (diskpart) backend is not available in this build', 'platform');
  requireRoot('the WinRE rebuild');
  // Every tool of the rebuild, before anything is written (a missing one would otherwise show half-way, and roll back).
  requireTools('the WinRE rebuild', [
    'losetup',
    'ntfs-3g',
    'umount',
    'ntfsresize',
    'mkntfs',
    'ntfscp',
    'ntfsfix',
    ...(c.bcd?.location.fs === 'fat' ? ['mcopy'] : []),
  ]);
}

/** 1. Every check that can refuse, read-only; the caller's `ready` runs last. */
async function preflight(r: Run, ready: (() => Promise<void>) | undefined): Promise<Preflight> {
  const { c, notYet } = r;
  const w = c.winre;
  const before = readDiskLayout(c.disk);
  checkUnchanged(c, before);
  checkNotMounted(c.disk, before);
  const dev0 = openBlockDevice(c.disk);
  let writes: Preflight['writes'];
  try {
    writes = planWrites(dev0, w.diskPlan).writes;
  } finally {
    dev0.close();
  }
  notYet();
  const osVolumeBytes = checkOsShrinkable(r);
  notYet();
  // The WinRE files the plan lists, where the copy will read them: regular files of the planned sizes, reached through real folders.
  checkSourceFiles(c);
  notYet();
  const bcd = r.bcdFile ? preflightBcd(c, r.bcdFile) : undefined;
  const regions = mergeRegions([{ start: w.newPartition.start, size: w.newPartition.size }, ...(w.old ? [{ start: w.old.start, size: w.old.size }] : [])]);
  checkJournalSpace(r.dir, regions.reduce((a, x) => a + x.size, 0) + (bcd?.before.length ?? 0));
  notYet();
  // The caller's checks (the file part's) and its journal, still before anything is written here.
  await ready?.();
  notYet();
  return { before, writes, osVolumeBytes, bcdBefore: bcd?.before, bcdAfter: bcd?.after, regions };
}

/** The Windows volume's size, refusing when ntfsresize cannot shrink it as planned. */
function checkOsShrinkable(r: Run): number {
  const w = r.c.winre;
  const loop = attachLoop(r.c.disk, w.os.start, w.os.size, true);
  try {
    const info = ntfsInfo(loop);
    if (w.shrinkOsBy > 0 && info.minBytes > r.newOsSize) {
      throw new RefusedError(
        `the Windows volume (partition ${w.os.number}) cannot shrink to ${describeBytes(r.newOsSize)}: ntfsresize says its minimum is ${describeBytes(info.minBytes)} (files near its end, or too full). Free space in Windows or defragment, then retry. Nothing was written`,
        'winre-os-full',
      );
    }
    return info.volumeBytes;
  } finally {
    detachLoop(loop);
  }
}

/** The BCD store now and re-pointed; refuses a store not closed cleanly or without a WinRE chain. */
function preflightBcd(c: WinreRebuild, bcdFile: BcdFile): { before: Uint8Array; after: Uint8Array } {
  const before = bcdFile.read();
  if (isDirty(parseBaseBlock(before))) {
    const loc = c.bcd?.location;
    throw new RefusedError(
      `the BCD store (partition ${loc?.partition}, ${loc?.path}) was not closed cleanly; boot Windows once (or run "bcdedit /enum" in WinPE) and retry. Nothing was written`,
      'bcd-dirty',
    );
  }
  return { before, after: repointedBcd(c, before) }; // throws (refusal) before any write when the store has no WinRE chain
}

/** 2. The journal: the table sectors the engine will write, the regions, the OS boot sector, the BCD. */
async function saveJournal(r: Run, pre: Preflight, state: RunState): Promise<void> {
  const { c, dir, notYet } = r;
  const w = c.winre;
  const dev = openBlockDevice(c.disk);
  try {
    await saveSectors(dev, pre.writes, state.sectors, dir);
  } finally {
    dev.close();
  }
  for (const x of pre.regions) {
    notYet();
    const file = `region-${x.start}.img`;
    const sum = await copyRegionOut(
      c.disk,
      x.start,
      x.size,
      path.join(dir, file),
      r.progress,
      `saving bytes ${x.start}..${x.start + x.size} to the journal`,
      notYet,
    );
    state.regions.push({ ...x, file, digest: sum });
  }
  // The Windows volume's boot sector: ntfsresize rewrites its sector count, undo puts it back.
  const fd = openSync(c.disk, 'r');
  try {
    const b = Buffer.alloc(w.sectorSize);
    readSync(fd, b, 0, w.sectorSize, w.os.start);
    await atomicWrite(path.join(dir, 'os-boot.bin'), new Uint8Array(b));
  } finally {
    closeSync(fd);
  }
  if (pre.bcdBefore && pre.bcdAfter) {
    await atomicWrite(path.join(dir, 'BCD.before'), pre.bcdBefore);
    state.bcd = { file: 'BCD.before', sha256Before: sha256(pre.bcdBefore), sha256After: sha256(pre.bcdAfter) };
  }
  faultPoint('winre-journal-saved');
  notYet();
}

const STEP_LAP: Record<DiskStep, string> = {
  'backed-up': 'journal',
  'os-shrunk': 'ntfsresize',
  'table-written': 'table',
  formatted: 'mkntfs',
  copied: 'copy',
  'bcd-written': 'bcd',
  verified: 'verify',
};

/** 3..7 with rollback: from here a stop signal waits for the current step, then everything is undone. */
async function applyWithRollback(r: Run, pre: Preflight, state: RunState): Promise<DiskState> {
  const { stop } = r;
  let current = '';
  const doing = (what: string) => {
    current = what;
    stop.status(STOP_DURING_CHANGE, `${what}; then the disk is restored from the journal`);
  };
  const step = async (name: DiskStep) => {
    r.lap(STEP_LAP[name]);
    state.done.push(name);
    await saveState(r.dir, state);
    faultPoint(`winre-after-${name}`);
    stop.check('the disk was restored from the journal');
  };
  try {
    stop.check('the disk was restored from the journal');
    await changeDisk(r, pre, state, doing, step);
    return { ...state, updatedAt: new Date().toISOString() };
  } catch (e) {
    return await rollBack(r, state, e, current);
  }
}

/** The changing steps in order: shrink, table, format, copy, BCD, verify. */
async function changeDisk(r: Run, pre: Preflight, state: RunState, doing: (what: string) => void, step: (name: DiskStep) => Promise<void>): Promise<void> {
  const { c, progress } = r;
  const w = c.winre;
  if (w.shrinkOsBy > 0) {
    doing('shrinking the Windows volume (ntfsresize)');
    progress(`shrinking the Windows volume (partition ${w.os.number}) to ${describeBytes(r.newOsSize)}`);
    await shrinkOs(r);
    faultPoint('winre-shrunk-unrecorded');
    await step('os-shrunk');
  }
  doing('writing the partition table');
  progress('writing the partition table');
  writeTable(c);
  await step('table-written');

  doing(`formatting partition ${w.newPartition.number}`);
  progress(`formatting partition ${w.newPartition.number} NTFS "${WINRE_LABEL}"`);
  formatNew(c);
  await step('formatted');

  doing('copying the WinRE files');
  state.copied = await copyWinreFiles(c, r.dir, state, progress);
  await step('copied');

  if (r.bcdFile && pre.bcdAfter && c.bcd) {
    doing('re-pointing the BCD store');
    progress(`re-pointing the BCD store on partition ${c.bcd.location.partition}`);
    await repointBcd(r.bcdFile, pre.bcdAfter, state.bcd?.sha256After, c.bcd.target);
    await step('bcd-written');
  }

  doing('verifying the disk');
  progress('verifying the disk');
  state.layoutAfter = verifyDisk(r);
  state.phase = 'verified';
  await step('verified');
}

/** 3. ntfsresize the Windows volume down to its planned size. */
async function shrinkOs(r: Run): Promise<void> {
  const w = r.c.winre;
  const loop = attachLoop(r.c.disk, w.os.start, w.os.size, false);
  try {
    await ntfsResize(loop, r.newOsSize, r.progress);
  } finally {
    detachLoop(loop);
  }
}

/** 4. The partition table, through the disk engine. */
function writeTable(c: WinreRebuild): void {
  const dev = openBlockDevice(c.disk, { write: true });
  try {
    applyDiskPlan(dev, c.winre.diskPlan);
  } finally {
    dev.close();
  }
}

/** 5. mkntfs on the new partition. */
function formatNew(c: WinreRebuild): void {
  const w = c.winre;
  const loop = attachLoop(c.disk, w.newPartition.start, w.newPartition.size, false);
  try {
    mkntfs(loop, WINRE_LABEL, { startSector: w.newPartition.start / w.sectorSize, sectorSize: w.sectorSize });
  } finally {
    detachLoop(loop);
  }
}

/** 6. Write the re-pointed BCD store and check it reads back, pointing at the new partition. */
async function repointBcd(
  bcdFile: BcdFile,
  after: Uint8Array,
  sha256After: string | undefined,
  target: NonNullable<WinreRebuild['bcd']>['target'],
): Promise<void> {
  await bcdFile.write(after);
  const back = bcdFile.read();
  if (sha256(back) !== sha256After) throw new VerificationError('the BCD store does not read back as written');
  checkBcdPointsAt(target, back);
}

/** 7. The table as planned and the shrunk Windows volume clean; returns the layout lines after. */
function verifyDisk(r: Run): string[] {
  const { c } = r;
  const w = c.winre;
  const after = readDiskLayout(c.disk);
  verifyLayout(c, after, r.newOsSize);
  const loop = attachLoop(c.disk, w.os.start, r.newOsSize, true);
  try {
    const chk = ntfsCheck(loop);
    if (!chk.ok)
      throw new VerificationError(`ntfsfix --no-action reports a problem on the Windows volume after the shrink: ${chk.output.trim().split('\n').pop()}`);
  } finally {
    detachLoop(loop);
  }
  return layoutLines(after);
}

/** A step failed or a stop signal came: restore the disk from the journal, then throw what happened. */
async function rollBack(r: Run, state: RunState, e: unknown, current: string): Promise<never> {
  const { stop, progress, dir } = r;
  // Interrupted: the signal came before this step failed or ended (a tool killed by the terminal's Ctrl-C counts too).
  const interrupted = stop.signal;
  const why = interrupted ? interruptedBy(interrupted) : (e as Error).message;
  progress(`${interrupted ? why : `failed: ${why}`}; restoring the disk from the journal${current && !interrupted ? ` (failed while ${current})` : ''}`);
  state.error = (e as Error).message;
  await saveState(dir, state);
  // A further signal now says what the rollback is doing.
  stop.status('finishing the rollback first (the disk is being restored from the journal)', 'rolling back');
  await restoreWinreLinux(r.c, dir, (m) => {
    stop.status('finishing the rollback first (the disk is being restored from the journal)', `rolling back: ${m}`);
    progress(m);
  });
  const s = readDiskState(dir);
  if (s) await saveState(dir, { ...s, phase: 'rolled-back' });
  if (interrupted) throw new InterruptedError(`${signalWords(interrupted)}; the disk was restored from the journal`);
  if (e instanceof WufixError) throw e;
  throw new RefusedError(`the WinRE rebuild failed and the disk was restored (nothing changed): ${(e as Error).message}`, 'apply-failed');
}

/** The plan's WinRE files, where the copy step will read them (see plannedFile); refuses before any write. */
function checkSourceFiles(c: WinreRebuild): void {
  const w = c.winre;
  const cl = new Cleanup({ signals: false });
  try {
    if (c.source.where === 'partition') {
      const s = c.source;
      const mnt = mountPartition(c.disk, s.start, s.size, cl, true);
      for (const f of s.files) plannedFile(mnt, `${s.dir}\\${f.name}`, f.bytes, `partition ${s.partition}`);
    } else if (c.source.where === 'install-wim') {
      for (const f of c.source.files) extractedFile(f);
    } else {
      const mnt = mountPartition(c.disk, w.os.start, w.os.size, cl, true);
      for (const f of c.source.files) plannedFile(mnt, f.path, f.bytes, `the Windows volume (partition ${w.os.number})`);
    }
  } finally {
    cl.release();
  }
}

/**
 * Copy the WinRE files the plan lists (and nothing else in the folder) from their source into
 * \Recovery\WindowsRE of the new partition; each must be a regular file of its planned size, reached
 * without following a link, and is read through a descriptor opened with O_NOFOLLOW (ntfscp gets
 * that descriptor, not a path). Checks hashes and free space.
 */
async function copyWinreFiles(c: WinreRebuild, dir: string, state: Omit<DiskState, 'updatedAt'>, progress: (m: string) => void) {
  const w = c.winre;
  const cl = new Cleanup({ signals: false });
  // Where the copy step spends its time (state.json "timings": copy.write, copy.verify).
  const { lap: part } = stageTimer((state.timings ??= {}), 'copy.');
  const fds: number[] = [];
  try {
    const files: { name: string; from: string; bytes: number; fd: number }[] = [];
    const add = (name: string, from: string, bytes: number) => {
      const fd = openPlannedFile(from, bytes);
      fds.push(fd);
      files.push({ name, from, bytes, fd });
    };
    if (c.source.where === 'partition') {
      const s = c.source;
      // A deleted (or overwritten) source partition is read from its copy in the journal.
      const saved = state.regions.find((r) => s.start >= r.start && s.start + s.size <= r.start + r.size);
      const mnt = saved
        ? mountPartition(path.join(dir, saved.file), s.start - saved.start, s.size, cl, true)
        : mountPartition(c.disk, s.start, s.size, cl, true);
      const where = saved ? `the journal copy of partition ${s.partition}` : `partition ${s.partition}`;
      for (const f of s.files) add(f.name, plannedFile(mnt, `${s.dir}\\${f.name}`, f.bytes, where), f.bytes);
    } else if (c.source.where === 'install-wim') {
      for (const f of c.source.files) add(f.name, extractedFile(f), f.bytes);
    } else {
      const mnt = mountPartition(c.disk, w.os.start, w.os.size - w.shrinkOsBy, cl, true);
      for (const f of c.source.files) add(f.name, plannedFile(mnt, f.path, f.bytes, `the Windows volume (partition ${w.os.number})`), f.bytes);
    }
    // The directory through ntfs-3g; the bytes with ntfscp reading the checked descriptor (see
    // ntfsCopyIn), while this process hashes the same (read-only) file beside it: the copy is then
    // checked against that hash by reading it back through a fresh mount.
    {
      const mk = new Cleanup({ signals: false });
      try {
        mkdirSync(path.join(mountPartition(c.disk, w.newPartition.start, w.newPartition.size, mk, false), 'Recovery', 'WindowsRE'), { recursive: true });
      } finally {
        mk.release();
      }
    }
    const copied: { name: string; sha256: string; bytes: number }[] = [];
    const loop = attachLoop(c.disk, w.newPartition.start, w.newPartition.size, false);
    try {
      for (const f of files) {
        const report = copyProgress(f.name, f.bytes, progress);
        report(0);
        // Both settle before going on: the source mount is released only once nothing reads it.
        const [copy, hash] = await Promise.allSettled([ntfsCopyIn(loop, f.from, `/Recovery/WindowsRE/${f.name}`, report, f.fd), sha256Fd(f.fd, f.bytes)]);
        if (copy.status === 'rejected') throw copy.reason;
        if (hash.status === 'rejected') throw hash.reason;
        report(f.bytes);
        copied.push({ name: f.name, sha256: hash.value, bytes: f.bytes });
      }
    } finally {
      detachLoop(loop);
    }
    part('write');
    // Re-read every copied file through a fresh mount before calling it done, and measure the free space there.
    for (const fd of fds.splice(0)) closeSync(fd);
    cl.release();
    const c2 = new Cleanup({ signals: false });
    try {
      const m2 = mountPartition(c.disk, w.newPartition.start, w.newPartition.size, c2, true);
      for (const f of copied) {
        const p = path.join(m2, 'Recovery', 'WindowsRE', f.name);
        const st = existsSync(p) ? lstatSync(p) : undefined;
        if (!st?.isFile() || st.size !== f.bytes || (await sha256File(p)) !== f.sha256)
          throw new VerificationError(`${f.name} does not read back from the new partition`);
      }
      const st = statfsSync(m2);
      state.recoveryFreeAfter = st.bsize * st.bavail;
      if (state.recoveryFreeAfter < WINRE_UPDATE_FREE) {
        throw new VerificationError(
          `the new recovery partition has only ${describeBytes(state.recoveryFreeAfter)} free after the copy; the update needs ${describeBytes(WINRE_UPDATE_FREE)}`,
        );
      }
    } finally {
      c2.release();
    }
    part('verify');
    return copied;
  } finally {
    for (const fd of fds) closeSync(fd);
    cl.release();
  }
}

function verifyLayout(c: WinreRebuild, after: Layout, newOsSize: number): void {
  const w = c.winre;
  const np = after.partitions.find((p) => p.number === w.newPartition.number);
  const problems: string[] = [];
  if (!np || np.start !== w.newPartition.start || np.size !== w.newPartition.size)
    problems.push(`partition ${w.newPartition.number} is not at byte ${w.newPartition.start} with ${w.newPartition.size} bytes`);
  else {
    if (np.type !== w.newPartition.type) problems.push(`partition ${np.number} has type ${np.type}`);
    if (after.scheme === 'gpt' && np.attributes !== WINRE_ATTRIBUTES)
      problems.push(`partition ${np.number} has attributes 0x${(np.attributes ?? 0n).toString(16)}`);
    if (after.scheme === 'gpt' && w.newPartition.guid && np.guid !== w.newPartition.guid) problems.push(`partition ${np.number} has GUID ${np.guid}`);
    if (np.volume?.fs !== 'ntfs' || np.volume.label !== WINRE_LABEL) problems.push(`partition ${np.number} is not NTFS "${WINRE_LABEL}"`);
  }
  const os = after.partitions.find((p) => p.number === w.os.number);
  if (!os || os.start !== w.os.start || os.size !== newOsSize)
    problems.push(`the Windows partition ${w.os.number} is not ${newOsSize} bytes at byte ${w.os.start}`);
  if (problems.length) throw new VerificationError(`after the rebuild: ${problems.join('; ')}`);
}

/**
 * Put the disk back as the journal recorded it, newest change first: the BCD store, the table
 * sectors, the raw regions, then the Windows volume grown back to its size. Used by rollback and undo.
 */
export async function restoreWinreLinux(c: WinreRebuild, dir: string, progress: (m: string) => void = () => {}): Promise<void> {
  const s = readDiskState(dir);
  if (!s) return;
  const done = new Set(s.done);
  if (!done.has('backed-up')) return;
  const w = c.winre;
  // 'os-shrunk' is recorded after ntfsresize returns; a process that died in between leaves a smaller
  // volume than the journal knows about, so the boot sector decides.
  const shrunk = done.has('os-shrunk') || (w.shrinkOsBy > 0 && osVolumeShrunk(c, dir));
  if (done.has('bcd-written') && s.bcd) {
    progress('restoring the BCD store');
    const bytes = new Uint8Array(readFileSync(path.join(dir, s.bcd.file)));
    if (sha256(bytes) !== s.bcd.sha256Before) throw new VerificationError('the journal copy of the BCD store does not match its hash');
    const f = new BcdFile(c.disk, c.bcd!.location);
    await f.write(bytes);
    if (sha256(f.read()) !== s.bcd.sha256Before) throw new VerificationError('the BCD store does not read back as restored');
  }
  if (done.has('table-written') || done.has('formatted') || shrunk) {
    progress('restoring the partition table and the saved regions');
    const raw = readFileSync(path.join(dir, 'sectors.bin'));
    const fd = openSync(c.disk, 'r+');
    try {
      for (const sec of s.sectors) writeSync(fd, raw, sec.at, sec.length, sec.offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    for (const r of s.regions) copyRegionIn(path.join(dir, r.file), c.disk, r.start, r.size, r.digest);
  }
  if (shrunk && s.osVolumeBytes) {
    progress(`growing the Windows volume back to ${describeBytes(s.osVolumeBytes)}`);
    const loop = attachLoop(c.disk, w.os.start, w.os.size, false);
    try {
      await ntfsResize(loop, s.osVolumeBytes, progress);
    } finally {
      detachLoop(loop);
    }
    restoreOsBootSector(c, dir);
    // The grow wrote a backup boot sector at its new end; the tail of the partition (free clusters
    // and the original backup boot sector) goes back to its saved bytes.
    const tail = { start: w.os.start + w.os.size - w.shrinkOsBy, end: w.os.start + w.os.size };
    for (const r of s.regions) copyRegionIn(path.join(dir, r.file), c.disk, r.start, r.size, r.digest, tail);
  }
  const now = readDiskLayout(c.disk);
  const lines = layoutLines(now);
  if (lines.join('\n') !== s.layoutBefore.join('\n')) {
    throw new VerificationError(`the partition table was restored but reads back different: ${lines.filter((l) => !s.layoutBefore.includes(l)).join('; ')}`);
  }
}

/** The Windows volume's boot sector counts fewer clusters than the one saved in the journal. */
function osVolumeShrunk(c: WinreRebuild, dir: string): boolean {
  const file = path.join(dir, 'os-boot.bin');
  if (!existsSync(file)) return false;
  const saved = readFileSync(file);
  const cur = Buffer.alloc(saved.length);
  const fd = openSync(c.disk, 'r');
  try {
    readSync(fd, cur, 0, cur.length, c.winre.os.start);
  } finally {
    closeSync(fd);
  }
  const spc = saved[0x0d]!;
  if (!spc || cur[0x0d] !== spc) return false;
  return cur.readBigUInt64LE(0x28) / BigInt(spc) < saved.readBigUInt64LE(0x28) / BigInt(spc);
}

/**
 * ntfsresize grows a volume to a whole number of clusters, so the sector count in the boot sector
 * can end a few sectors short of the original. When that field (0x28, 8 bytes) is the only
 * difference and the cluster count is the same, the saved boot sector is written back.
 */
function restoreOsBootSector(c: WinreRebuild, dir: string): void {
  const file = path.join(dir, 'os-boot.bin');
  if (!existsSync(file)) return;
  const saved = readFileSync(file);
  const fd = openSync(c.disk, 'r+');
  try {
    const cur = Buffer.alloc(saved.length);
    readSync(fd, cur, 0, cur.length, c.winre.os.start);
    if (cur.equals(saved)) return;
    for (let i = 0; i < saved.length; i++) if (cur[i] !== saved[i] && (i < 0x28 || i >= 0x30)) return;
    const spc = saved[0x0d]!;
    const clusters = (b: Buffer) => (spc ? b.readBigUInt64LE(0x28) / BigInt(spc) : 0n);
    if (clusters(cur) !== clusters(saved)) return;
    writeSync(fd, saved, 0, saved.length, c.winre.os.start);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `wufix undo` of a verified rebuild (refuses when the table changed since the run). */
export async function undoWinreLinux(c: WinreRebuild, dir: string, opts: DiskRunOptions & { force?: boolean } = {}): Promise<void> {
  const progress = opts.progress ?? (() => {});
  requireRoot('undoing the WinRE rebuild');
  const s = readDiskState(dir);
  if (!s || s.phase === 'rolled-back' || s.phase === 'undone') return;
  const now = layoutLines(readDiskLayout(c.disk));
  if (!opts.force && s.layoutAfter && now.join('\n') !== s.layoutAfter.join('\n')) {
    throw new RefusedError(
      `the partition table of ${c.disk} changed after the run; undoing would overwrite that change. Check it, then use --force to restore anyway`,
      'changed-since',
    );
  }
  checkNotMounted(c.disk, readDiskLayout(c.disk));
  await restoreWinreLinux(c, dir, progress);
  await saveState(dir, { ...s, phase: 'undone' });
}
