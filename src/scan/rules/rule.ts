// What a finding rule is, and the helpers the rules share. Pure: TargetScan in, Finding[] out.
import type { Evidence, Finding, FindingId, TargetScan, UpdateFailure } from '../../model/scan.js';

/** One family of findings: `id` names the finding it emits, or the family when it emits several. */
export interface Rule {
  readonly id: FindingId | RuleFamily;
  derive(scan: TargetScan): Finding[];
}

/** Families whose rule emits more than one finding id. */
export type RuleFamily = 'winre' | 'pending' | 'wsus' | 'policy';

/** Where the offline registry's machine hives are, as evidence names them. */
export { COMPONENTS_HIVE, SOFTWARE_HIVE, SYSTEM_HIVE } from '../../windows/locations.js';

export const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;

/** The failed update attempts of a scan. */
export function failuresOf(t: TargetScan): UpdateFailure[] {
  return t.updates.filter((u) => u.status === 'failure');
}

export function failureEvidence(f: UpdateFailure): Evidence {
  const e: Evidence = { file: f.file };
  if (f.line !== undefined) e.line = f.line;
  if (f.recordId !== undefined) e.note = `event record ${f.recordId}`;
  if (f.time) e.time = f.time;
  const what = [f.kb, f.code, f.title && f.title !== f.kb ? f.title : undefined, f.message].filter(Boolean).join(' ');
  e.data = `${f.status === 'failure' ? 'install failed' : 'installed'}: ${what}`.trim();
  return e;
}

export function codesOf(fs: UpdateFailure[]): string[] {
  return [...new Set(fs.map((f) => f.code).filter((c): c is string => !!c))].sort();
}

/** One failure per (kb, code, minute) so the same event seen in several logs counts once. */
export function distinctAttempts(fs: UpdateFailure[]): UpdateFailure[] {
  const seen = new Set<string>();
  const out: UpdateFailure[] = [];
  for (const f of fs) {
    const k = `${f.kb}|${f.code}|${(f.time ?? '').slice(0, 16)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}
