// Policy: the QualityCompat value an old build lacks, and automatic updates paused (a reminder).
import type { Finding, TargetScan } from '../../model/scan.js';
import { AU_POLICY_KEY, QUALITYCOMPAT_KEY, QUALITYCOMPAT_VALUE } from '../../windows/policy.js';
import { SOFTWARE_HIVE, type Rule } from './rule.js';

function qualityCompatMissing(t: TargetScan): Finding[] {
  if (!t.policy.qualityCompatApplies || t.policy.qualityCompat !== undefined) return [];
  return [
    {
      id: 'qualitycompat-missing',
      severity: 'warning',
      explanation:
        'This Windows build predates April 2018 and has no QualityCompat value, so security updates since January 2018 are withheld; the qualitycompat repair sets it.',
      evidence: [{ file: SOFTWARE_HIVE, key: QUALITYCOMPAT_KEY, value: QUALITYCOMPAT_VALUE, data: 'not set' }],
      repair: 'qualitycompat',
    },
  ];
}

function auPaused(t: TargetScan): Finding[] {
  if (t.policy.noAutoUpdate !== 1) return [];
  return [
    {
      id: 'au-paused',
      severity: 'info',
      explanation: 'Automatic updates are paused by policy (NoAutoUpdate=1); resume them once the failing update is fixed (wufix repair --only au-resume).',
      evidence: [{ file: SOFTWARE_HIVE, key: AU_POLICY_KEY, value: 'NoAutoUpdate', data: '1' }],
      repair: 'au-resume',
    },
  ];
}

export const policyRule: Rule = {
  id: 'policy',
  derive: (t) => [...qualityCompatMissing(t), ...auPaused(t)],
};
