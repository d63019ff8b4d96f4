// Runs whose plan changes the disk as well as files (the WinRE rebuild): the disk part first, with
// the Windows volume unmounted, then the file part on the mounted volume. One run id, one journal
// directory (<run>/ for files as usual, <run>/disk/ for the disk). A failing file part restores the
// disk too; `undo` reverses the file part, then the disk part.
import path from 'node:path';
import { lstatSync } from 'node:fs';
import { Journal, authenticateRun } from '../engine/journal.js';
import { realish } from '../engine/keyring.js';
import type { DiskState } from './common.js';
import { applyPlan, preflight, type ApplyOptions, type ApplyResult } from '../engine/apply.js';
import { undoRun, type UndoResult } from '../engine/undo.js';
import type { Plan, WinreRebuild } from '../model/plan.js';
import { InterruptedError, RefusedError } from '../shared/errors.js';
import { interruptedBy, signalWords, watchInterrupts } from '../shared/interrupt.js';
import { saveState, STOP_BEFORE_CHANGE, STOP_DURING_CHANGE, type DiskRunOptions } from './common.js';
import { applyWinreLinux, restoreWinreLinux, undoWinreLinux, readDiskState } from './linux.js';
import { applyWinreWindows, restoreWinreWindows, undoWinreWindows } from './windows.js';
import type { WinHost } from '../platform/winhost.js';

/** Who carries out the disk part: Linux (loop devices, ntfsresize, the disk engine) or Windows/WinPE (diskpart). */
export interface DiskBackend {
  name: 'linux' | 'windows';
  /** Checks (every refusal, read-only), then `o.ready()`, then the journal, then the changes; rolls back itself on failure or a stop signal. */
  apply(c: WinreRebuild, dir: string, o: DiskRunOptions & { progress: (m: string) => void }): Promise<unknown>;
  restore(c: WinreRebuild, dir: string, progress: (m: string) => void): Promise<void>;
  /** Returns what could not be restored byte for byte. */
  undo(c: WinreRebuild, dir: string, o: { force?: boolean; progress: (m: string) => void }): Promise<string[]>;
}

export const linuxBackend: DiskBackend = {
  name: 'linux',
  apply: (c, dir, o) => applyWinreLinux(c, dir, o),
  restore: (c, dir, progress) => restoreWinreLinux(c, dir, progress),
  undo: async (c, dir, o) => {
    await undoWinreLinux(c, dir, o);
    return [];
  },
};

/** diskpart on a running Windows/WinPE (`host`); `root` is the mounted Windows volume ("W:\"). */
export function windowsBackend(host: WinHost, root: string): DiskBackend {
  return {
    name: 'windows',
    apply: (c, dir, o) => applyWinreWindows(c, dir, { host, root, ...o }),
    restore: (c, dir, progress) => restoreWinreWindows(c, dir, { host, root, progress }),
    undo: (c, dir, o) => undoWinreWindows(c, dir, { host, root, ...o }),
  };
}

/** Runs `fn` with the Windows volume mounted read-write at some path, unmounted afterwards. */
export type MountRoot = <T>(fn: (root: string) => Promise<T>) => Promise<T>;

export const diskStepOf = (plan: Plan): WinreRebuild | undefined => {
  const s = plan.steps.find((x) => x.change.kind === 'winre-rebuild');
  return s?.change.kind === 'winre-rebuild' ? s.change : undefined;
};

export const diskJournalDir = (journalRoot: string, runId: string) => path.join(journalRoot, runId, 'disk');

/**
 * A run in this journal root that died while changing the disk (phase 'applying': a power cut or
 * SIGKILL; Ctrl-C and errors roll back). Another rebuild on top of it would record a half-changed
 * disk as "before", so repairs refuse until it is undone. Only authenticated runs count (a journal
 * planted beside an image must not steer the user): an unauthenticated one is mentioned through
 * `note`, not acted on.
 */
export function unfinishedDiskRun(journalRoot: string, note: (m: string) => void = () => {}): { runId: string; done: string[] } | undefined {
  for (const runId of Journal.list(journalRoot)) {
    const dir = diskJournalDir(journalRoot, runId);
    let s: DiskState | undefined;
    try {
      const st = lstatSync(path.join(dir, 'state.json'));
      s = st.isFile() && st.size <= 16 * 1024 * 1024 ? readDiskState(dir) : undefined;
    } catch {
      s = undefined; // unreadable: not a state this run can be continued from
    }
    if (s?.phase !== 'applying') continue;
    const a = authenticateRun(journalRoot, runId);
    if (!a.ok) {
      note(
        `run ${runId} in ${journalRoot} says it stopped half-way through rebuilding the WinRE partition, but it is not authenticated (${a.why}); it is ignored`,
      );
      continue;
    }
    const sealed = a.bytes.get('disk/state.json');
    const st = sealed ? (JSON.parse(sealed.toString('utf8')) as DiskState) : s;
    if (st.phase === 'applying') return { runId, done: st.done };
  }
  return undefined;
}

export interface DiskApplyOptions extends ApplyOptions {
  /** The Windows volume mounted read-write, for the file part. */
  mountRoot: MountRoot;
  /**
   * The same volume mounted READ-ONLY, when the caller mounts it itself (a disk image): the file
   * part's refusals are checked there first, since a read-write ntfs-3g mount alone changes the volume.
   */
  checkRoot?: MountRoot;
  backend?: DiskBackend;
}

/**
 * Apply a plan; with a disk step (the WinRE rebuild), the disk part first and then the file part.
 * Order: every check that can refuse (the disk's on read-only devices, then the file part's) ->
 * the journal -> the changes. A stop signal is recorded from the first check on: before the first
 * change the run stops at the next check (nothing written, exit 130); during the changes it rolls
 * back after the current step (exit 130). Both journal levels (<run>/state.json, <run>/disk/state.json)
 * end saying what happened: 'interrupted' (nothing written), 'rolled-back', or 'verified'.
 */
export async function applyWithDisk(plan: Plan, opts: DiskApplyOptions): Promise<ApplyResult> {
  const unfinished = unfinishedDiskRun(opts.journalRoot, opts.progress);
  if (unfinished) {
    throw new RefusedError(
      `run ${unfinished.runId} stopped half-way through rebuilding the WinRE partition (done: ${unfinished.done.join(', ') || 'nothing'}), so the disk is not in a known state; undo it first (wufix undo ${unfinished.runId}, with the same --image or --root), then scan again`,
      'unfinished-run',
    );
  }
  const disk = diskStepOf(plan);
  const progress = opts.progress ?? (() => {});
  // The file part's refusals, on a read-only mount when there is one (nothing is written yet).
  const checkFiles = () =>
    opts.checkRoot
      ? opts.checkRoot((root) => preflight({ ...plan, root }, opts.journalRoot, { writable: false, host: opts.host }))
      : opts.mountRoot((root) => preflight({ ...plan, root }, opts.journalRoot, { host: opts.host }));
  if (!disk) {
    if (opts.checkRoot) await checkFiles();
    return opts.mountRoot((root) => applyPlan({ ...plan, root }, opts));
  }
  const dir = diskJournalDir(opts.journalRoot, plan.runId);
  const backend = opts.backend ?? linuxBackend;
  // From the first check on, a stop signal is recorded and acted on at the next safe point.
  const stop = watchInterrupts(progress, STOP_BEFORE_CHANGE);
  let journal: Journal | undefined;
  try {
    try {
      await backend.apply(disk, dir, {
        progress,
        stop,
        // The disk's checks passed (read-only): the file part's, then the run's journal, before the disk's.
        ready: async () => {
          await checkFiles();
          stop.check('nothing was written (the disk is as it was)');
          journal = await Journal.create(opts.journalRoot, plan.runId);
          await journal.writeJson('plan.json', plan);
          await journal.setState({ phase: 'planned', done: [], renames: [] });
          await journal.log(`disk: rebuilding the WinRE partition on ${disk.disk} (${backend.name} backend)`);
        },
      });
    } catch (e) {
      // The disk part ended before its first change (interrupted, or its journal failed) or was rolled back.
      if (journal) {
        const ds = readDiskState(dir);
        const phase =
          ds?.phase === 'rolled-back' ? 'rolled-back' : ds?.phase === 'applying' ? 'failed' : e instanceof InterruptedError ? 'interrupted' : 'planned';
        await journal.setState({ phase, done: [], renames: [], error: (e as Error).message });
        await journal.log(`disk: ${phase}: ${(e as Error).message}`);
      }
      throw e;
    }
    const j = journal!;
    await j.log('disk: verified');
    // A stop signal between the disk part and the file part must not leave one done without the other.
    stop.status(STOP_DURING_CHANGE, 'changing the files; then everything is restored');
    try {
      stop.check('the disk was restored from the journal');
      return await opts.mountRoot((root) => applyPlan({ ...plan, root }, opts));
    } catch (e) {
      // Interrupted: the signal came before the file part failed or ended (one during the restore below only waits).
      const interrupted = stop.signal;
      const why = interrupted ? interruptedBy(interrupted) : 'the file changes did not complete';
      progress(`${why}: restoring the disk as well`);
      const rolling = (m: string) => {
        stop.status('finishing the rollback first (the disk is being restored from the journal)', `rolling back: ${m}`);
        progress(m);
      };
      rolling('restoring the disk');
      await backend.restore(disk, dir, rolling);
      const ds = readDiskState(dir);
      if (ds) await saveState(dir, { ...ds, phase: 'rolled-back' });
      if (j.state().phase !== 'rolled-back') await j.setState({ phase: 'rolled-back', done: [], renames: [], error: (e as Error).message });
      await j.log(`disk: restored after the file part failed: ${(e as Error).message}`);
      if (interrupted && !(e instanceof InterruptedError))
        throw new InterruptedError(`${signalWords(interrupted)}; the disk and the files were restored from the journal`);
      throw e;
    }
  } finally {
    stop.release();
  }
}

export interface UndoWithDiskResult extends UndoResult {
  disk: boolean;
  /** What the disk undo could not put back byte for byte (diskpart cannot set a partition GUID). */
  diskNotes: string[];
}

export interface UndoWithDiskOptions {
  force?: boolean;
  mountRoot: MountRoot;
  progress?: (m: string) => void;
  backend?: DiskBackend;
  /**
   * The disk named on the command line (`undo --image`): the run must have been made for it (the
   * state directory's ledger says which disk), and it is the disk written, never one from the
   * journal. Without it, the ledger's target is the disk (Linux backend).
   */
  disk?: string;
  /** The volume root named on the command line (`undo --root`, Windows backend). */
  root?: string;
}

export async function undoWithDisk(journalRoot: string, runId: string, opts: UndoWithDiskOptions): Promise<UndoWithDiskResult> {
  // An undo is not interrupted half-way: stop signals wait until it is done.
  const stop = watchInterrupts(opts.progress ?? (() => {}), 'finishing the undo first');
  try {
    return await undoBoth(journalRoot, runId, opts);
  } finally {
    stop.release();
  }
}

async function undoBoth(journalRoot: string, runId: string, opts: UndoWithDiskOptions): Promise<UndoWithDiskResult> {
  // Nothing of the journal is used before it is authenticated (seal, ledger, place, and the disk).
  const journal = Journal.authenticated(journalRoot, runId, { disk: opts.disk, root: opts.root });
  const plan = journal.plan();
  const planned = diskStepOf(plan);
  const backend = opts.backend ?? linuxBackend;
  // The disk written is the command line's (or the one the ledger recorded at repair time), never the plan's path.
  const target = journal.target;
  const disk = planned && backend.name === 'linux' ? { ...planned, disk: opts.disk !== undefined ? realish(opts.disk) : target } : planned;
  const dir = diskJournalDir(journalRoot, runId);
  // The disk part's state as authenticated (not re-read from the journal).
  const diskState = disk && journal.has('disk/state.json') ? journal.readJson<DiskState>('disk/state.json') : undefined;
  // 'applying': the process died while changing the disk (a power cut, SIGKILL); its journal still
  // says which steps were done, and the restore checks the rest on the disk itself.
  const diskPending = !!diskState && (diskState.phase === 'verified' || diskState.phase === 'applying');
  let res: UndoResult = { runId, restored: 0, renamesReversed: 0 };
  const filePhase = journal.state().phase;
  // A run whose file part was undone but whose disk part was not (an undo that stopped half-way)
  // continues with the disk; so does one that died in its disk part, before the file part began.
  if (!diskPending || (filePhase !== 'undone' && filePhase !== 'planned')) {
    res = await opts.mountRoot((root) => undoRun(journalRoot, runId, { force: opts.force, root, disk: opts.disk }));
  }
  if (disk && diskPending) {
    const windows = (diskState as { backend?: string }).backend === 'windows';
    if (windows !== (backend.name === 'windows')) {
      throw new RefusedError(
        `run ${runId} changed the disk with the ${windows ? 'Windows (diskpart)' : 'Linux'} backend; undo it there (${windows ? 'WinPE: wufix undo --root <volume>' : 'Linux: wufix undo --image'})`,
        'undo-backend',
      );
    }
    const diskNotes = await backend.undo(disk, dir, { force: opts.force, progress: opts.progress ?? (() => {}) });
    await journal.log(`undo: disk restored${diskNotes.length ? ` (${diskNotes.join('; ')})` : ''}`);
    return { ...res, disk: true, diskNotes };
  }
  return { ...res, disk: false, diskNotes: [] };
}
