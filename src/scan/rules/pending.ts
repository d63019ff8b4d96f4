// Servicing left half done: an update failing over and over (install -> reboot -> rollback loop),
// and the operations queued for the next boot. The queue is read from the registry and WinSxS
// (state), never from log codes; whether reverting it is offered follows the attempts: work that
// an SFC/DISM repair or a finished install left for the next boot is never offered for revert.
import type { UpdateAttempt } from '../../model/attempts.js';
import type { Evidence, Finding, TargetScan } from '../../model/scan.js';
import { WINRE_KBS } from '../../windows/winre.js';
import { CBS_KEY, WU_AU_KEY } from '../../windows/servicing.js';
import { COMPONENTS_HIVE, SOFTWARE_HIVE, attemptEvidence, codesOf, updateKey, type Rule } from './rule.js';

/** Install failures typical of a rollback at boot (ERROR_FAIL_REBOOT_REQUIRED 0x80070bc9 is not one: it asks for a boot). */
const LOOP_CODES = new Set(['0x80073aa2', '0x80242016', '0x800f0922', '0x80070002']);

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) || 0 : 0);
const isServicing = (a: UpdateAttempt) => a.kind === 'install' || a.kind === 'uninstall' || a.kind === 'component-repair';

function stillQueued(t: TargetScan): boolean {
  const sv = t.servicing;
  return sv.rebootPending || sv.packagesPending.length > 0 || sv.sessionsPending.length > 0 || !!sv.pendingXml || sv.componentsPending.length > 0;
}

/** reboot-loop: the same update failed at least three times and nothing says the loop is over. */
function rebootLoops(t: TargetScan): Finding[] {
  const byUpdate = new Map<string, UpdateAttempt[]>();
  for (const a of t.attempts) {
    if (a.kind !== 'install' || a.result !== 'failed') continue;
    const k = updateKey(a);
    byUpdate.set(k, [...(byUpdate.get(k) ?? []), a]);
  }
  const out: Finding[] = [];
  for (const [kb, fails] of byUpdate) {
    if (fails.length < 3 || WINRE_KBS.has(kb)) continue;
    // Over once the update installed later, or once nothing is queued and automatic installs are
    // paused (what the pending + au-pause repairs leave).
    const lastFail = Math.max(...fails.map((a) => ms(a.endTime ?? a.time)));
    const laterSuccess = t.attempts.some((a) => a.kind === 'install' && a.result === 'succeeded' && updateKey(a) === kb && ms(a.time) > lastFail);
    if (laterSuccess || (!stillQueued(t) && t.policy.noAutoUpdate === 1)) continue;
    out.push({
      id: 'reboot-loop',
      severity: 'error',
      subject: kb,
      explanation: `${kb} failed ${fails.length} times (${codesOf(fails).join(', ') || 'no code'}): Windows is stuck installing, rolling back and retrying it; the pending repair reverts the queued operations and au-pause stops the retries until it is fixed.`,
      evidence: fails.map(attemptEvidence),
      repair: 'pending',
      errorCodes: codesOf(fails),
    });
  }
  return out;
}

function pendingEvidence(t: TargetScan): Evidence[] {
  const sv = t.servicing;
  const ev: Evidence[] = [];
  if (sv.rebootPending) ev.push({ file: SOFTWARE_HIVE, key: `${CBS_KEY}\\RebootPending`, data: 'present' });
  for (const p of sv.packagesPending) ev.push({ file: SOFTWARE_HIVE, key: `${CBS_KEY}\\PackagesPending`, data: p });
  for (const p of sv.sessionsPending) ev.push({ file: SOFTWARE_HIVE, key: `${CBS_KEY}\\SessionsPending`, data: p });
  if (sv.rebootRequired) ev.push({ file: SOFTWARE_HIVE, key: `${WU_AU_KEY}\\RebootRequired`, data: 'present' });
  if (sv.pendingXml) ev.push({ file: sv.pendingXml, data: 'queued component transaction' });
  for (const c of sv.componentsPending) ev.push({ file: COMPONENTS_HIVE, value: c, data: 'present' });
  return ev;
}

/**
 * The attempt the queued work belongs to when it is finished work waiting for a boot: the latest
 * servicing attempt ended reboot-pending (an SFC/DISM repair transaction, an install waiting to be
 * completed) and no install failed after it.
 */
function waitingForBoot(t: TargetScan, looping: ReadonlySet<string>): UpdateAttempt | undefined {
  const servicing = t.attempts.filter(isServicing);
  const last = servicing.reduce<UpdateAttempt | undefined>((a, b) => (!a || ms(b.endTime ?? b.time) >= ms(a.endTime ?? a.time) ? b : a), undefined);
  // The next try of a looping update is not finished work: it is the loop.
  if (!last || last.result !== 'reboot-pending' || (last.kind === 'install' && looping.has(updateKey(last)))) return undefined;
  return last;
}

/** pending-servicing: anything queued. Revert is offered for a loop or rollback failures, never for work waiting for a boot. */
function pendingServicing(t: TargetScan, loopFindings: readonly Finding[]): Finding[] {
  const loops = loopFindings.length;
  const ev = pendingEvidence(t);
  if (!ev.length) return [];
  const waiting = waitingForBoot(t, new Set(loopFindings.map((f) => f.subject ?? '')));
  if (waiting) {
    const what = waiting.kind === 'component-repair' ? `a component-store repair (${waiting.name})` : `${waiting.name}, installed`;
    return [
      {
        id: 'pending-servicing',
        severity: 'warning',
        explanation: `Servicing is queued for the next boot and it belongs to ${what} waiting for a reboot: boot once to finish it; do not revert it${loops ? ', and scan again if the failures go on' : ''}.`,
        evidence: [...ev, attemptEvidence(waiting)],
      },
    ];
  }
  const loopFailures = t.attempts.filter((a) => a.kind === 'install' && a.result === 'failed' && a.code && LOOP_CODES.has(a.code));
  return [
    {
      id: 'pending-servicing',
      severity: loops || loopFailures.length ? 'error' : 'warning',
      explanation:
        'Servicing operations are queued for the next boot; if that boot keeps failing they are replayed and rolled back each time, and the pending repair reverts them.',
      evidence: [...ev, ...loopFailures.slice(0, 5).map(attemptEvidence)],
      repair: 'pending',
      errorCodes: codesOf(loopFailures).length ? codesOf(loopFailures) : undefined,
    },
  ];
}

/** ERROR_LOG_FULL as CBS prints it (winerror.h: 6628 = 0x19E4, "The log space is exhausted"). */
export const LOG_FULL = '0x800719e4';

/**
 * transaction-log-full: the registry transaction logs (System32\config\TxR) to move away, when CBS
 * reports ERROR_LOG_FULL and nothing succeeded since, or when a TxR log is damaged. TxR logs are on
 * every healthy Windows, so their presence alone is never evidence (Azure/repair-script-library
 * src/windows/win-fix-transaction-logs.ps1; Microsoft's "Error 0x800719e4 (ERROR_LOG_FULL) when
 * Windows update fails", MicrosoftDocs/SupportArticles-docs). Only regular files are offered;
 * links, folders and special files named like a log are evidence, never moved.
 */
function transactionLogFull(t: TargetScan): Finding[] {
  const files = (t.txr?.entries ?? []).filter((e) => e.kind === 'file');
  if (!files.length) return [];
  const full = t.attempts.filter((a) => a.result === 'failed' && a.code === LOG_FULL && (a.sources.includes('CBS.log') || a.sources.includes('CbsPersist')));
  const lastFull = Math.max(0, ...full.map((a) => ms(a.endTime ?? a.time)));
  const since = full.length > 0 && t.attempts.some((a) => isServicing(a) && a.result === 'succeeded' && ms(a.time) > lastFull);
  const logFull = since ? [] : full;
  const damaged = files.filter((e) => e.damage);
  if (!logFull.length && !damaged.length) return [];
  const why = [
    logFull.length ? `CBS reports ${LOG_FULL} (ERROR_LOG_FULL) ${logFull.length} time${logFull.length === 1 ? '' : 's'}` : undefined,
    damaged.length ? `${damaged.length} transaction log${damaged.length === 1 ? ' is' : 's are'} damaged` : undefined,
  ]
    .filter(Boolean)
    .join(' and ');
  return [
    {
      id: 'transaction-log-full',
      severity: 'error',
      explanation: `${why}: the registry transaction logs in ${t.txr!.folder} stop servicing; the pending repair moves them away (Windows creates new ones at the next boot) and undo puts them back.`,
      evidence: [
        ...logFull.slice(0, 5).map(attemptEvidence),
        ...files.map((e) => ({ file: e.path, data: e.damage ? `damaged: ${e.damage}` : `${e.bytes ?? 0} bytes` })),
      ],
      repair: 'pending',
      errorCodes: logFull.length ? [LOG_FULL] : undefined,
    },
  ];
}

export const pendingRule: Rule = {
  id: 'pending',
  derive(t) {
    const loops = rebootLoops(t);
    return [...loops, ...pendingServicing(t, loops), ...transactionLogFull(t)];
  },
};
