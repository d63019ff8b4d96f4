// What a finding rule is, and the helpers the rules share. Pure: TargetScan in, Finding[] out.
import type { UpdateAttempt } from '../../model/attempts.js';
import type { Evidence, Finding, FindingId, RepairRun, TargetScan } from '../../model/scan.js';
import type { RepairId } from '../../model/ids.js';

/** One family of findings: `id` names the finding it emits, or the family when it emits several. */
export interface Rule {
  readonly id: FindingId | RuleFamily;
  derive(scan: TargetScan): Finding[];
}

/** Families whose rule emits more than one finding id. */
export type RuleFamily = 'winre' | 'pending' | 'wsus' | 'policy' | 'servicing-history';

/** Where the offline registry's machine hives are, as evidence names them. */
export { COMPONENTS_HIVE, SOFTWARE_HIVE, SYSTEM_HIVE } from '../../windows/locations.js';

export const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;

/** Every failed attempt of a scan (updates, scans, downloads, checks, repairs). */
export function failuresOf(t: TargetScan): UpdateAttempt[] {
  return t.attempts.filter((a) => a.result === 'failed');
}

/** One evidence line for an attempt: where its result was read, and what it was. */
export function attemptEvidence(a: UpdateAttempt): Evidence {
  const at = (a.code && a.evidence.find((e) => e.data?.includes(a.code!))) || a.evidence[a.evidence.length - 1] || {};
  const e: Evidence = { ...at };
  const code = a.code ? ` ${a.code}${a.extendedCode ? `-${a.extendedCode}` : ''}` : '';
  const more = a.events > 1 ? `; ${a.events} events in ${a.sources.join(', ')}` : '';
  e.data = `${a.kind} ${a.result}: ${a.name}${code}${a.phase ? ` (phase ${a.phase})` : ''}${more}`;
  if (a.time) e.time = a.time;
  return e;
}

export function codesOf(as: readonly UpdateAttempt[]): string[] {
  return [...new Set(as.map((a) => a.code).filter((c): c is string => !!c))].sort();
}

/** The attempt's update, upper-cased, for grouping (KB, else its name). */
export const updateKey = (a: UpdateAttempt) => (a.kb ?? a.name).toUpperCase();

/** The newest verified repair run the journal records (with `repair` in it, when given). */
export function lastRepair(t: TargetScan, repair?: RepairId): RepairRun | undefined {
  const rs = (t.repairRuns ?? []).filter((r) => !repair || r.repairs.includes(repair));
  return rs[rs.length - 1];
}

/** A time the attempt has (its last event's), or undefined when its log gave none. */
const attemptMs = (a: UpdateAttempt): number | undefined => {
  const ms = Date.parse(a.endTime ?? a.time ?? '');
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * Is the attempt from before that run finished, so the repair since may have fixed its cause? An
 * attempt without a time counts as before: it was in the logs, and nothing says it is newer.
 */
export const before = (a: UpdateAttempt, run: RepairRun | undefined): boolean => {
  if (!run) return false;
  const ms = attemptMs(a);
  return ms === undefined || ms < Date.parse(run.finishedAt);
};
