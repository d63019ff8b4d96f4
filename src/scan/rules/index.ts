// Findings: what is wrong with an offline Windows, explained with evidence, derived from the data a
// scan collected. Pure: TargetScan in, Finding[] out. One rule per finding family, run in this order
// (the order of the findings in every report).
import type { Finding, TargetScan } from '../../model/scan.js';
import { bitlockerRule } from './bitlocker.js';
import { cachesRule } from './caches.js';
import { historyRule } from './history.js';
import { hostsRule } from './hosts.js';
import { tasksRule } from './tasks.js';
import { hivesRule } from './hives.js';
import { pendingRule } from './pending.js';
import { policyRule } from './policy.js';
import type { Rule } from './rule.js';
import { servicesRule } from './services.js';
import { winreRule } from './winre.js';
import { wintrustRule } from './wintrust.js';
import { wsusRule } from './wsus.js';

export type { Rule } from './rule.js';

export const RULES: readonly Rule[] = [
  hivesRule,
  bitlockerRule,
  winreRule,
  wintrustRule,
  servicesRule,
  pendingRule,
  historyRule,
  cachesRule,
  wsusRule,
  hostsRule,
  tasksRule,
  policyRule,
];

export function deriveFindings(t: TargetScan): Finding[] {
  return RULES.flatMap((r) => r.derive(t));
}

/** Exit code of a scan: 10 when anything but info findings exist. */
export function hasActionableFindings(findings: Finding[]): boolean {
  return findings.some((f) => f.severity !== 'info');
}
