// Runs whose plan changes the disk as well as files (the WinRE rebuild): the disk part first, with
// the Windows volume unmounted, then the file part on the mounted volume. One run id, one journal
// directory (<run>/ for files as usual, <run>/disk/ for the disk). A failing file part restores the
// disk too; `undo` reverses the file part, then the disk part.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { Journal } from './journal.js';
import { applyPlan, preflight, type ApplyOptions, type ApplyResult } from './apply.js';
import { undoRun, type UndoResult } from './undo.js';
import type { Plan, WinreRebuild } from './types.js';
import { applyWinreLinux, restoreWinreLinux, undoWinreLinux, readDiskState } from '../platform/winre-linux.js';

/** Runs `fn` with the Windows volume mounted read-write at some path, unmounted afterwards. */
export type MountRoot = <T>(fn: (root: string) => Promise<T>) => Promise<T>;

export const diskStepOf = (plan: Plan): WinreRebuild | undefined => {
  const s = plan.steps.find((x) => x.change.kind === 'winre-rebuild');
  return s?.change.kind === 'winre-rebuild' ? s.change : undefined;
};

export const diskJournalDir = (journalRoot: string, runId: string) => path.join(journalRoot, runId, 'disk');

export async function applyWithDisk(plan: Plan, opts: ApplyOptions & { mountRoot: MountRoot }): Promise<ApplyResult> {
  const disk = diskStepOf(plan);
  if (!disk) return opts.mountRoot((root) => applyPlan({ ...plan, root }, opts));
  const progress = opts.progress ?? (() => {});
  // The file part's refusals first (read-only volume, dirty hives, journal space): nothing is written yet.
  await opts.mountRoot((root) => preflight({ ...plan, root }, opts.journalRoot));
  const journal = await Journal.create(opts.journalRoot, plan.runId);
  await journal.writeJson('plan.json', plan);
  const dir = diskJournalDir(opts.journalRoot, plan.runId);
  await journal.log(`disk: rebuilding the WinRE partition on ${disk.disk}`);
  await applyWinreLinux(disk, dir, { progress });
  await journal.log('disk: verified');
  try {
    return await opts.mountRoot((root) => applyPlan({ ...plan, root }, opts));
  } catch (e) {
    progress('the file changes failed: restoring the disk as well');
    await restoreWinreLinux(disk, dir, progress);
    await journal.log(`disk: restored after the file part failed: ${(e as Error).message}`);
    throw e;
  }
}

export interface UndoWithDiskResult extends UndoResult {
  disk: boolean;
}

export async function undoWithDisk(journalRoot: string, runId: string, opts: { force?: boolean; mountRoot: MountRoot; progress?: (m: string) => void }): Promise<UndoWithDiskResult> {
  const journal = Journal.open(journalRoot, runId);
  const plan = journal.plan();
  const disk = diskStepOf(plan);
  const dir = diskJournalDir(journalRoot, runId);
  const diskState = disk && existsSync(dir) ? readDiskState(dir) : undefined;
  const diskPending = !!diskState && diskState.phase === 'verified';
  let res: UndoResult = { runId, restored: 0, renamesReversed: 0 };
  // A run whose file part was undone but whose disk part was not (an undo that stopped half-way) continues with the disk.
  if (journal.state().phase !== 'undone' || !diskPending) {
    res = await opts.mountRoot((root) => undoRun(journalRoot, runId, { force: opts.force, root }));
  }
  if (disk && diskPending) {
    await undoWinreLinux(disk, dir, { force: opts.force, progress: opts.progress });
    await journal.log('undo: disk restored');
    return { ...res, disk: true };
  }
  return { ...res, disk: false };
}
