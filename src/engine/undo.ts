// `wufix undo`: put back every byte a run changed, from its journal. Refuses a journal it cannot
// authenticate (its seal and this machine's ledger, src/engine/journal.ts), one whose files or
// backup entries reach outside what its plan named, and (unless forced) a file changed since the run.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RefusedError, VerificationError } from '../shared/errors.js';
import { confine, sha256Safe, statSafe } from '../shared/safefs.js';
import { Journal, validateBackupTar, validateJournal, type AuthOptions } from './journal.js';
import { hostPath, rollback } from './apply.js';
import { watchInterrupts } from '../shared/interrupt.js';

export interface UndoResult {
  runId: string;
  restored: number;
  renamesReversed: number;
  /** What the run did that no journal can put back (DISM /RestoreHealth, SFC), said by undo. */
  notUndone?: string[];
}

export interface UndoOptions {
  force?: boolean;
  /** The volume as mounted now (default: the plan's root). */
  root?: string;
  /** The disk named on the command line (--image): the run must have been made for it. */
  disk?: string;
  progress?: (m: string) => void;
}

export async function undoRun(journalRoot: string, runId: string, opts: UndoOptions = {}): Promise<UndoResult> {
  // Not interrupted half-way: stop signals wait until it is done.
  const stop = watchInterrupts(opts.progress ?? (() => {}), 'finishing the undo first');
  try {
    return await undoFiles(journalRoot, runId, opts);
  } finally {
    stop.release();
  }
}

async function undoFiles(journalRoot: string, runId: string, opts: UndoOptions): Promise<UndoResult> {
  const auth: AuthOptions = { root: opts.root, disk: opts.disk };
  const journal = Journal.authenticated(journalRoot, runId, auth);
  const plan = journal.plan();
  const state = journal.state();
  // Renames: those recorded in state, then every other rename step of the plan. A run killed between
  // a rename and the state write that records it has done one more than its state says; reversing
  // is idempotent (only where the new name exists and the old one does not), so all are tried.
  const planned = plan.steps.flatMap((s) => (s.change.kind === 'rename' ? [{ from: s.change.from, to: s.change.to }] : []));
  const renames = [...state.renames, ...planned.filter((p) => !state.renames.some((r) => r.from === p.from && r.to === p.to))];
  const files = journal.files();
  // Even an authentic journal writes only where its plan said, and only regular files from its tar.
  validateJournal(plan, files, renames);
  if (files.some((f) => f.existed)) await validateBackupTar(journal.tarPath, files);
  // The volume may be mounted elsewhere now (WinPE drive letters change between boots).
  const root = confine(opts.root ?? plan.root);
  if (state.phase === 'undone') throw new RefusedError(`run ${runId} was already undone`, 'already-undone');
  if (state.phase === 'rolled-back') throw new RefusedError(`run ${runId} was rolled back when it failed; there is nothing to undo`, 'nothing-to-undo');
  if (state.phase === 'interrupted')
    throw new RefusedError(`run ${runId} was interrupted before it changed anything; there is nothing to undo`, 'nothing-to-undo');
  if (state.phase === 'planned') {
    // Stopped before its backup was complete, so before any change (changes start after 'backed-up').
    throw new RefusedError(`run ${runId} stopped before changing anything; there is nothing to undo`, 'nothing-to-undo');
  }
  if (!opts.force) {
    for (const f of files) {
      const host = path.join(root, ...f.entry.split('/'));
      const now = statSafe(host) ? await sha256Safe(host) : null; // no link followed
      // A finished run knows the after-hashes; an interrupted one accepts before or after.
      const ok = f.sha256After !== undefined ? now === f.sha256After : now === f.sha256Before || state.phase !== 'verified';
      if (!ok) {
        throw new RefusedError(
          `${f.path} changed after run ${runId} (its sha256 is not the one the run left); undoing would lose that change. Check it, then use --force to restore it anyway`,
          'changed-since',
        );
      }
    }
  }
  await journal.log(`undo: restoring ${files.length} file(s), reversing ${renames.length} rename(s)`);
  await rollback(root, journal, files, renames);
  // Check the result byte for byte.
  for (const f of files) {
    const host = path.join(root, ...f.entry.split('/'));
    const now = statSafe(host) ? await sha256Safe(host) : null; // no link followed
    if (now !== f.sha256Before) throw new VerificationError(`undo verification failed: ${f.path} does not match its backup`);
  }
  for (const r of renames) {
    if (!existsSync(hostPath(root, r.from))) throw new VerificationError(`undo verification failed: ${r.from} was not restored`);
  }
  await journal.setState({ phase: 'undone', done: [], renames: [] });
  await journal.log('undone');
  const notUndone = plan.steps.flatMap((s) =>
    s.change.kind === 'dism-restore-health'
      ? ['DISM /RestoreHealth']
      : s.change.kind === 'sfc-offline'
        ? ['SFC /scannow']
        : s.change.kind === 'dism-remove-package'
          ? [`DISM /Remove-Package ${s.change.package}`]
          : [],
  );
  return { runId, restored: files.length, renamesReversed: renames.length, ...(notUndone.length ? { notUndone } : {}) };
}
