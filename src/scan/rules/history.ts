// What the servicing history says beyond single codes: a component store SFC/DISM could not
// repair, a feature update that rolled back, and updates failing for want of disk space. Each is
// grounded in the attempts (src/scan/attempts.ts), with the store, setup or space facts as evidence.
import type { UpdateAttempt } from '../../model/attempts.js';
import type { Evidence, Finding, TargetScan } from '../../model/scan.js';
import { lookupError } from '../../formats/errorcodes.js';
import { GiB, describeBytes, fmtSize } from '../../shared/units.js';
import { attemptEvidence, codesOf, type Rule } from './rule.js';

/** Install/repair results that mean the component store is damaged (windows-update.md §7). */
const STORE_CODES = new Set(['0x800f081f', '0x80073712', '0x800f0831', '0x800f0984', '0x80070570', '0x800f0830']);
/** ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL: the volume was full. */
const DISK_FULL = new Set(['0x80070070', '0x80070027']);
/** WU_E_SERVICE_STOP: counted as a space problem only with little space measured. */
const SPACE_MAYBE = new Set(['0x8024001e']);
/** Below this, a cumulative update's staging (several GB in WinSxS and SoftwareDistribution) fails. */
export const LOW_FREE = 10 * GiB;
/** Below this, say so even without a failure on record. */
export const VERY_LOW_FREE = 2 * GiB;

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) || 0 : 0);
const meaning = (code: string | undefined) => {
  if (!code) return '';
  try {
    const e = lookupError(code);
    return e.symbol ? ` ${e.symbol}` : '';
  } catch {
    return '';
  }
};

/** Store damage that is still there: nothing repaired it later. */
function storeDamage(t: TargetScan): UpdateAttempt[] {
  const damaged = t.attempts.filter(
    (a) =>
      (a.kind === 'component-repair' && (a.result === 'failed' || (a.unrepaired?.length ?? 0) > 0)) ||
      ((a.kind === 'install' || a.kind === 'uninstall') && a.result === 'failed' && !!a.code && STORE_CODES.has(a.code)),
  );
  const lastRepair = t.attempts
    .filter((a) => a.kind === 'component-repair' && a.result === 'succeeded' && !a.unrepaired?.length)
    .map((a) => ms(a.endTime ?? a.time));
  const repairedAt = lastRepair.length ? Math.max(...lastRepair) : 0;
  return damaged.filter((a) => ms(a.endTime ?? a.time) > repairedAt);
}

function componentStore(t: TargetScan): Finding[] {
  const damage = storeDamage(t);
  if (!damage.length) return [];
  const files = [...new Set(damage.flatMap((a) => a.unrepaired ?? []))];
  const named = files.length ? ` (not repaired: ${files.slice(0, 5).join(', ')}${files.length > 5 ? `, ${files.length - 5} more` : ''})` : '';
  return [
    {
      id: 'component-store-corrupt',
      severity: 'error',
      explanation: `The component store (WinSxS) is damaged${named}: ${damage.length} servicing attempt(s) failed on it (${codesOf(damage).join(', ') || 'unrepaired files'}). Repair it from install media of the same build.UBR and edition, in WinPE: wufix repair --root <W:> --only component-store --store-source <D:>\\sources\\install.wim (DISM /RestoreHealth /LimitAccess, then SFC offline); updates fail until then.`,
      evidence: damage.slice(0, 10).map(attemptEvidence),
      errorCodes: codesOf(damage),
      repair: 'component-store',
    },
  ];
}

/**
 * Whether a failed setup run rolled back (learn.microsoft.com "Upgrade error codes"): 0xC1900101
 * means a rollback occurred; past the first restart (extend-code phase 2 SAFE_OS, 3 FIRST_BOOT,
 * 4 OOBE_BOOT) a failure rolls back; or a source says rollback. A downlevel failure (phase 1) stops
 * before the restart and changes nothing. Phase 5 (UNINSTALL) and unknown phases: not said.
 */
function rolledBack(a: UpdateAttempt): boolean | undefined {
  if (a.code === '0xc1900101') return true;
  if (/rollback|roll back|rolled back/i.test(`${a.phase ?? ''} ${a.evidence.map((e) => e.data ?? '').join(' ')}`)) return true;
  const digit = a.extendedCode ? /^0x([0-9a-f])[0-9a-f]{4}$/i.exec(a.extendedCode)?.[1] : undefined;
  if (digit === '2' || digit === '3' || digit === '4') return true;
  if (digit === '1' || /downlevel/i.test(a.phase ?? '')) return false;
  return undefined;
}

function featureUpdate(t: TargetScan): Finding[] {
  const setups = t.attempts.filter((a) => a.kind === 'feature-update' && a.result !== 'in-progress');
  const last = setups[setups.length - 1];
  const failed = setups.filter((a) => a.result === 'failed');
  if (!failed.length) return [];
  const f = failed[failed.length - 1]!;
  const still = last === f;
  const code = f.code ? `${f.code}${f.extendedCode ? ` - ${f.extendedCode}` : ''}${meaning(f.code)}` : 'an error';
  const back = rolledBack(f);
  const how = back === true ? ' and rolled back' : back === false ? ' before restarting, so nothing was changed' : '';
  return [
    {
      id: 'feature-update-rollback',
      severity: still ? 'error' : 'info',
      subject: f.name,
      explanation: `Windows setup (${f.title ?? f.name}) failed${f.phase ? ` in phase ${f.phase}` : ''} with ${code}${how}${still ? '' : '; a later setup run did not fail'}. Read the cause in the evidence (setuperr.log, SetupDiag); drivers, disk space and security software are the usual ones. wufix has no automatic repair for it.`,
      evidence: failed.slice(-5).map(attemptEvidence),
      errorCodes: codesOf(failed),
    },
  ];
}

function lowDiskSpace(t: TargetScan): Finding[] {
  const free = t.osFreeBytes;
  const low = free !== undefined && free < LOW_FREE;
  const fails = t.attempts.filter((a) => a.result === 'failed' && a.kind !== 'scan' && !!a.code && (DISK_FULL.has(a.code) || (low && SPACE_MAYBE.has(a.code))));
  const veryLow = free !== undefined && free < VERY_LOW_FREE;
  if (!fails.length && !veryLow) return [];
  const ev: Evidence[] = [];
  if (free !== undefined) ev.push({ file: t.root, data: `${describeBytes(free)} free on the Windows volume now` });
  ev.push(...fails.slice(-5).map(attemptEvidence));
  const measured = free === undefined ? 'the free space could not be measured' : `${fmtSize(free)} is free now`;
  return [
    {
      id: 'low-disk-space',
      severity: fails.length && (free === undefined || low) ? 'error' : 'warning',
      explanation: fails.length
        ? `${fails.length} update attempt(s) failed for lack of disk space (${codesOf(fails).join(', ')}); ${measured}. Updates need about ${fmtSize(LOW_FREE)} free: free space on the Windows volume (the wu-cache repair only renames the cache; delete old user files or extend the volume).`
        : `Only ${fmtSize(free ?? 0)} is free on the Windows volume; updates need about ${fmtSize(LOW_FREE)} and will fail until space is freed.`,
      evidence: ev,
      errorCodes: fails.length ? codesOf(fails) : undefined,
    },
  ];
}

export const historyRule: Rule = {
  id: 'servicing-history',
  derive: (t) => [...componentStore(t), ...featureUpdate(t), ...lowDiskSpace(t)],
};
