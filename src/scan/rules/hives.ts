// hive-damaged: SYSTEM or SOFTWARE cannot be read at all, so this Windows will not boot. The first
// finding of a report, with the way back: a RegBack copy (checked: present and not empty), the
// hive's transaction logs (what they can and cannot do), restore points, Windows.old.
import type { Evidence, Finding, HiveDamage } from '../../model/scan.js';
import type { Rule } from './rule.js';

function route(d: HiveDamage): string {
  const usable = d.recovery.filter((r) => r.usable);
  const regback = d.recovery.find((r) => /\\RegBack\\/i.test(r.file));
  const steps: string[] = [];
  if (regback?.usable) steps.push(`copy ${regback.file} (${regback.bytes} bytes) over it from WinPE, keeping the damaged file as ${d.hive}.damaged`);
  else steps.push(`RegBack has no usable copy (${regback?.note ?? 'none'})`);
  if (d.recovery.some((r) => /\.LOG\d?$/i.test(r.file)))
    steps.push(`the ${d.hive}.LOG1/.LOG2 transaction logs only complete a hive that was not closed cleanly; they cannot rebuild it`);
  const svi = d.recovery.find((r) => /^System Volume Information$/i.test(r.file));
  steps.push(
    svi?.usable
      ? `System Volume Information holds shadow copies: restore a restore point from Windows RE (System Restore), or copy ${d.hive} out of a shadow copy`
      : 'no restore point was found in System Volume Information',
  );
  const old = d.recovery.find((r) => /^Windows\.old\\/i.test(r.file));
  if (old) steps.push(`${old.file} is the previous installation's copy (a last resort: older settings)`);
  if (!usable.length) steps.push('otherwise back up the user files and reinstall Windows');
  return steps.join('; ');
}

function finding(d: HiveDamage): Finding {
  const evidence: Evidence[] = [{ file: d.file, data: `${d.hive} hive ${d.problem}` }, ...d.recovery.map((r) => ({ file: r.file, data: r.note }))];
  return {
    id: 'hive-damaged',
    severity: 'error',
    subject: d.hive,
    explanation: `This Windows will not boot: the ${d.hive} hive (${d.file}) ${d.problem}. Recover it first: ${route(d)}. The rest of this scan reads what it can without it.`,
    evidence,
  };
}

export const hivesRule: Rule = {
  id: 'hive-damaged',
  derive: (t) => (t.hiveDamage ?? []).map(finding),
};
