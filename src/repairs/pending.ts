// pending: revert pending servicing offline (windows-update.md §4, Microsoft's fallback for a stuck
// post-reboot transaction): rename Windows\WinSxS\pending.xml, delete the transaction values
// (ExecutionState, PendingXmlIdentifier, NextQueueEntryIndex(BCDB), AdvancedInstallersNeedResolving,
// StoreDirty) that are set at the root of the COMPONENTS hive,
// delete the CBS RebootPending (and RebootInProgress) and WU Auto Update\RebootRequired keys, and
// empty the CBS session queue (PackagesPending, SessionsPending values and incomplete sessions).
// PendingFileRenameOperations(2) is shown in a note and cleared only with --clear-pending-renames.
// On transaction-log-full, the registry transaction logs in System32\config\TxR are renamed away.
// (`--use-dism` runs DISM /RevertPendingActions instead: src/platform/windows.ts.)
import type { PlanStep, RegData } from '../model/plan.js';
import type { PlanContext, Repair, Volume } from '../engine/volume.js';
import type { Hive } from '../hive/hive.js';
import { CBS_KEY, WU_AU_KEY, COMPONENTS_TRANSACTION_VALUES, componentsValueSet } from '../windows/servicing.js';
import { isTxrLogName } from '../formats/clfs.js';
import { pendingFileRenames, type PendingRename } from '../windows/services.js';
import { keyAt, regRaw } from '../hive/query.js';
import { renamedTo } from './wucache.js';

export const SOFTWARE_HIVE = 'Windows\\System32\\config\\SOFTWARE';
export const SYSTEM_HIVE = 'Windows\\System32\\config\\SYSTEM';
export const COMPONENTS_HIVE = 'Windows\\System32\\config\\COMPONENTS';
export const PENDING_XML = 'Windows\\WinSxS\\pending.xml';
/**
 * The COMPONENTS root values cleared when set (not absent, 0 or empty): the six Azure's pending-servicing
 * script clears (Azure/repair-script-library src/windows/win-fix-pending-servicing.ps1), ExecutionState,
 * StoreDirty and NextQueueEntryIndex among them.
 */
export const COMPONENTS_VALUES = COMPONENTS_TRANSACTION_VALUES;
export const TXR_FOLDER = 'Windows\\System32\\config\\TxR';
/** SOFTWARE keys whose presence means "reboot pending" (RebootInProgress counts as RebootPending in the scan). */
export const REBOOT_KEYS = [`${CBS_KEY}\\RebootPending`, `${CBS_KEY}\\RebootInProgress`, `${WU_AU_KEY}\\RebootRequired`] as const;
export const RENAME_VALUES = ['PendingFileRenameOperations', 'PendingFileRenameOperations2'] as const;

const raw = (h: Hive, key: string, name: string): RegData | undefined => {
  const nk = keyAt(h, key);
  const v = nk === undefined ? undefined : regRaw(h, nk, name);
  return v ? { type: v.type, data: Buffer.from(v.data).toString('hex') } : undefined;
};

async function openReadOnly(volume: Volume, rel: string): Promise<{ hive: Hive; rel: string } | undefined> {
  const stored = volume.resolve(rel);
  const hive = stored === undefined ? undefined : await volume.openHive(stored);
  return stored === undefined || !hive ? undefined : { hive, rel: stored };
}

/** One line per pending rename for the plan ("delete X" / "X -> Y"), the first `max` of them. */
export function describeRenames(renames: PendingRename[], max = 3): string {
  const shown = renames.slice(0, max).map((r) => (r.delete ? `delete ${r.source}` : `${r.source} -> ${r.target}`));
  const more = renames.length > max ? `, and ${renames.length - max} more` : '';
  return `${shown.join('; ')}${more}`;
}

type Reason = (what: string) => string;

/** 1. The queued CSI transaction: pending.xml and the COMPONENTS values that point to it. */
async function queuedTransaction(ctx: PlanContext, reason: Reason): Promise<PlanStep[]> {
  const { scan, options, volume } = ctx;
  const steps: PlanStep[] = [];
  const rel = volume.resolve(scan.servicing.pendingXml ?? PENDING_XML);
  if (rel)
    steps.push({ repair: 'pending', reason: reason('queued component transaction'), change: { kind: 'rename', from: rel, to: renamedTo(rel, options.runId) } });
  const comp = await openReadOnly(volume, COMPONENTS_HIVE);
  if (comp) {
    for (const name of COMPONENTS_VALUES) {
      const old = raw(comp.hive, '', name);
      if (old && componentsValueSet(old.type, Buffer.from(old.data, 'hex')))
        steps.push({
          repair: 'pending',
          reason: reason(`COMPONENTS ${name} set`),
          change: { kind: 'reg-delete-value', hive: comp.rel, key: '', name, old },
        });
    }
  }
  return steps;
}

/** 2. The reboot markers (keys of SOFTWARE). */
function rebootMarkers(sw: { hive: Hive; rel: string }, reason: Reason): PlanStep[] {
  const steps: PlanStep[] = [];
  for (const key of REBOOT_KEYS) {
    const nk = keyAt(sw.hive, key);
    if (nk === undefined) continue;
    const entries = sw.hive.values(nk).length + sw.hive.subkeys(nk).length;
    steps.push({
      repair: 'pending',
      reason: reason(`${key.split('\\').pop()} present`),
      change: { kind: 'reg-delete-key', hive: sw.rel, key: sw.hive.pathOf(nk) },
      ...(entries ? { note: `${entries} entr${entries === 1 ? 'y' : 'ies'} below it` } : {}),
    });
  }
  return steps;
}

/**
 * 2b. The CBS session queue, back to what a healthy system has: no PackagesPending key and an
 * empty SessionsPending key (windows-update.md section 4: "the empty key exists on healthy
 * systems"). Without pending.xml a queued session would make TrustedInstaller wait for it.
 */
function sessionQueue(sw: { hive: Hive; rel: string }, reason: Reason): PlanStep[] {
  const steps: PlanStep[] = [];
  const pp = keyAt(sw.hive, `${CBS_KEY}\\PackagesPending`);
  if (pp !== undefined) {
    const n = sw.hive.values(pp).length + sw.hive.subkeys(pp).length;
    steps.push({
      repair: 'pending',
      reason: reason('PackagesPending present'),
      change: { kind: 'reg-delete-key', hive: sw.rel, key: sw.hive.pathOf(pp) },
      note: `${n} pending package entr${n === 1 ? 'y' : 'ies'}`,
    });
  }
  const spKey = `${CBS_KEY}\\SessionsPending`;
  const sp = keyAt(sw.hive, spKey);
  if (sp === undefined) return steps;
  for (const name of ['Exclusive', 'TotalSessionPhases']) {
    const old = raw(sw.hive, spKey, name);
    if (old && /[^0]/.test(old.data))
      steps.push({
        repair: 'pending',
        reason: reason(`SessionsPending ${name} set`),
        change: { kind: 'reg-delete-value', hive: sw.rel, key: sw.hive.pathOf(sp), name, old },
      });
  }
  for (const s2 of sw.hive.subkeys(sp)) {
    const done = regRaw(sw.hive, s2, 'Complete');
    if (done && done.data.length >= 4 && new DataView(done.data.buffer, done.data.byteOffset, 4).getUint32(0, true) === 1) continue;
    steps.push({
      repair: 'pending',
      reason: reason('incomplete servicing session'),
      change: { kind: 'reg-delete-key', hive: sw.rel, key: sw.hive.pathOf(s2) },
    });
  }
  return steps;
}

/** 3. PendingFileRenameOperations: steps when --clear-pending-renames, else the notes that say what is kept. */
function pendingRenames(ctx: PlanContext, sys: { hive: Hive; rel: string }, reason: Reason): { steps: PlanStep[]; notes: string[] } {
  const { scan, options } = ctx;
  const sets = scan.controlSets.length ? scan.controlSets : undefined;
  const renames = pendingFileRenames(sys.hive, sets);
  const steps: PlanStep[] = [];
  const notes: string[] = [];
  for (const cs of [...new Set(renames.map((r) => r.controlSet))]) {
    for (const value of RENAME_VALUES) {
      const mine = renames.filter((r) => r.controlSet === cs && r.value === value);
      const key = `${cs}\\Control\\Session Manager`;
      const old = raw(sys.hive, key, value);
      if (!old || !mine.length) continue;
      const what = `${value} in ${cs}: ${mine.length} operation${mine.length === 1 ? '' : 's'} (${describeRenames(mine)})`;
      if (options.clearPendingRenames) {
        steps.push({
          repair: 'pending',
          reason: reason(`${value} (--clear-pending-renames)`),
          change: { kind: 'reg-delete-value', hive: sys.rel, key, name: value, old },
          note: what,
        });
      } else notes.push(what);
    }
  }
  return { steps, notes };
}

/**
 * 4. The registry transaction logs (System32\\config\\TxR\\*.blf, *.regtrans-ms), only on the
 * transaction-log-full finding (CBS ERROR_LOG_FULL 0x800719e4, or a damaged log): each renamed
 * away in its folder (`<name>.wufix-<run>`: no longer a log name, so Windows starts new logs at the
 * next boot), journaled, renamed back by undo. As Azure/repair-script-library
 * src/windows/win-fix-transaction-logs.ps1 (scope TxR) and win-fix-pending-servicing.ps1 do: only
 * inside config\\TxR, by extension; the hives' .LOG1/.LOG2 in config itself are never touched.
 * Anything there that is not a regular file (link, junction, folder, device) is skipped with a note.
 */
function transactionLogs(ctx: PlanContext): { steps: PlanStep[]; skipped: string[] } {
  const { scan, options, volume } = ctx;
  const steps: PlanStep[] = [];
  const skipped: string[] = [];
  const finding = scan.findings.find((f) => f.id === 'transaction-log-full');
  if (!finding) return { steps, skipped };
  const folder = volume.resolve(TXR_FOLDER);
  if (!folder || volume.kind(folder) !== 'dir') {
    if (volume.kind(TXR_FOLDER) !== undefined) skipped.push(`${TXR_FOLDER} is not a folder (a link or special file): not followed`);
    return { steps, skipped };
  }
  const why = finding.errorCodes?.length ? 'transaction-log-full (CBS ERROR_LOG_FULL 0x800719e4)' : 'transaction-log-full (damaged transaction log)';
  for (const e of scan.txr?.entries ?? []) {
    const name = e.path.split('\\').pop() ?? '';
    // Only a plain name directly in TxR, with a transaction log's extension.
    if (e.path.toLowerCase() !== `${TXR_FOLDER}\\${name}`.toLowerCase() || !isTxrLogName(name) || /\.log\d?$/i.test(name)) continue;
    const rel = volume.resolve(`${folder}\\${name}`);
    const kind = rel === undefined ? undefined : volume.kind(rel);
    if (rel === undefined || kind === undefined) continue; // gone since the scan
    if (kind !== 'file') {
      skipped.push(`${rel} (${kind === 'dir' ? 'a folder' : kind === 'link' ? 'a link' : 'a special file'})`);
      continue;
    }
    steps.push({
      repair: 'pending',
      reason: `${why}: registry transaction log${e.damage ? ` (damaged: ${e.damage})` : ''}`,
      change: { kind: 'rename', from: rel, to: renamedTo(rel, options.runId) },
    });
  }
  const first = steps[0];
  if (first) first.note = 'Windows creates new transaction logs at the next boot; the hive logs (.LOG1/.LOG2) are not touched';
  return { steps, skipped };
}

export async function planPending(ctx: PlanContext): Promise<PlanStep[]> {
  const { scan, options, volume } = ctx;
  if (options.useDism) {
    const queued = scan.findings.some((f) => f.id === 'pending-servicing' || f.id === 'reboot-loop');
    return queued
      ? [{ repair: 'pending', reason: 'pending-servicing / reboot-loop: revert with DISM (--use-dism)', change: { kind: 'dism-revert-pending' } }]
      : [];
  }
  const pendingFinding = scan.findings.find((f) => f.id === 'pending-servicing');
  const loops = scan.findings.filter((f) => f.id === 'reboot-loop').map((f) => f.subject ?? '');
  const why = [pendingFinding ? 'pending-servicing' : undefined, loops.length ? `reboot-loop (${loops.join(', ')})` : undefined].filter(Boolean).join(' / ');
  const reason: Reason = (what) => `${why || 'requested with --only pending'}: ${what}`;

  const steps = await queuedTransaction(ctx, reason);
  const sw = await openReadOnly(volume, SOFTWARE_HIVE);
  if (sw) steps.push(...rebootMarkers(sw, reason), ...sessionQueue(sw, reason));
  const sys = await openReadOnly(volume, SYSTEM_HIVE);
  if (sys) {
    const r = pendingRenames(ctx, sys, reason);
    steps.push(...r.steps);
    const first = steps[0];
    if (r.notes.length && first) first.note = [first.note, `kept (add --clear-pending-renames to clear): ${r.notes.join('; ')}`].filter(Boolean).join('; ');
  }
  const txr = transactionLogs(ctx);
  steps.push(...txr.steps);
  const head = steps[0];
  if (txr.skipped.length && head) head.note = [head.note, `skipped, never followed or moved: ${txr.skipped.join('; ')}`].filter(Boolean).join('; ');
  return steps;
}

export const pending: Repair = {
  id: 'pending',
  title: 'revert pending servicing: rename pending.xml, clear the COMPONENTS transaction values and the reboot markers; move full or damaged TxR logs away',
  fixes: ['pending-servicing', 'reboot-loop', 'transaction-log-full'],
  uses: () => [SOFTWARE_HIVE, SYSTEM_HIVE, COMPONENTS_HIVE, PENDING_XML],
  plan: planPending,
};
