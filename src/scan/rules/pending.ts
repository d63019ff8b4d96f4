// Servicing left half done: an update failing over and over (install -> reboot -> rollback loop),
// and the operations queued for the next boot.
import type { Evidence, Finding, TargetScan, UpdateFailure } from '../../model/scan.js';
import { WINRE_KBS } from '../../windows/winre.js';
import { CBS_KEY, WU_AU_KEY } from '../../windows/servicing.js';
import { COMPONENTS_HIVE, SOFTWARE_HIVE, codesOf, distinctAttempts, failureEvidence, failuresOf, type Rule } from './rule.js';

const LOOP_CODES = new Set(['0x80073aa2', '0x80070bc9', '0x80242016', '0x800f0922']);

function stillQueued(t: TargetScan): boolean {
  const sv = t.servicing;
  return sv.rebootPending || sv.packagesPending.length > 0 || sv.sessionsPending.length > 0 || !!sv.pendingXml || sv.componentsPending.length > 0;
}

/** reboot-loop: the same update failed at least three times and nothing says the loop is over. */
function rebootLoops(t: TargetScan, failures: UpdateFailure[]): Finding[] {
  const byKb = new Map<string, UpdateFailure[]>();
  for (const f of failures) if (f.kb) byKb.set(f.kb.toUpperCase(), [...(byKb.get(f.kb.toUpperCase()) ?? []), f]);
  const out: Finding[] = [];
  for (const [kb, fs] of byKb) {
    // The same failed attempt is often logged in several files at slightly different times: count
    // attempts within each source and take the source that saw the most.
    const bySource = new Map<string, UpdateFailure[]>();
    for (const f of fs) bySource.set(f.source, [...(bySource.get(f.source) ?? []), f]);
    const attempts = [...bySource.values()].map(distinctAttempts).sort((a, b) => b.length - a.length)[0] ?? [];
    if (attempts.length < 3 || WINRE_KBS.has(kb)) continue;
    // The loop is over once the update installed later, or once nothing is queued and automatic
    // installs are paused (what the pending + au-pause repairs leave).
    const lastFail = Math.max(...fs.map((f) => Date.parse(f.time ?? '') || 0));
    const laterSuccess = t.updates.some((u) => u.status === 'success' && u.kb?.toUpperCase() === kb && (Date.parse(u.time ?? '') || 0) > lastFail);
    if (laterSuccess || (!stillQueued(t) && t.policy.noAutoUpdate === 1)) continue;
    out.push({
      id: 'reboot-loop',
      severity: 'error',
      subject: kb,
      explanation: `${kb} failed ${attempts.length} times (${codesOf(fs).join(', ') || 'no code'}): Windows is stuck installing, rolling back and retrying it; the pending repair reverts the queued operations and au-pause stops the retries until it is fixed.`,
      evidence: attempts.map(failureEvidence),
      repair: 'pending',
      errorCodes: codesOf(fs),
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

/** pending-servicing: anything queued; an error when it comes with a loop or loop-typical codes. */
function pendingServicing(t: TargetScan, failures: UpdateFailure[], loops: number): Finding[] {
  const ev = pendingEvidence(t);
  if (!ev.length) return [];
  const loopFailures = failures.filter((f) => f.code && LOOP_CODES.has(f.code));
  return [
    {
      id: 'pending-servicing',
      severity: loops || loopFailures.length ? 'error' : 'warning',
      explanation:
        'Servicing operations are queued for the next boot; if that boot keeps failing they are replayed and rolled back each time, and the pending repair reverts them.',
      evidence: [...ev, ...loopFailures.slice(0, 5).map(failureEvidence)],
      repair: 'pending',
      errorCodes: codesOf(loopFailures).length ? codesOf(loopFailures) : undefined,
    },
  ];
}

export const pendingRule: Rule = {
  id: 'pending',
  derive(t) {
    const failures = failuresOf(t);
    const loops = rebootLoops(t, failures);
    return [...loops, ...pendingServicing(t, failures, loops.length)];
  },
};
