// WinTrust "Software Publishing" State per user hive: states that make revocation failures fatal.
import type { UpdateAttempt } from '../../model/attempts.js';
import type { Evidence, Finding, HiveWinTrust } from '../../model/scan.js';
import { DEFAULT_STATE, WINTRUST_KEY, WINTRUST_VALUE } from '../../windows/wintrust.js';
import { attemptEvidence, failuresOf, hex, type Rule } from './rule.js';

const TRUST_CODES = new Set(['0x800b010b', '0x800b010e']);

/** Why state `s` breaks signed updates, or undefined when it does not. */
function whyBroken(s: number): string | undefined {
  const revocationChecked = (s & 0x200) === 0 || (s & 0x20000) === 0;
  const offlineOk = (s & 0x400) !== 0 && (s & 0x800) !== 0;
  const onlyTrustDb = (s & 0x40000) !== 0;
  if (onlyTrustDb) return 'only trusts items in the trust database (0x40000)';
  if (revocationChecked && !offlineOk) return 'checks revocation but treats an unreachable revocation server as fatal';
  return undefined;
}

/** A failure's trust lines (each 0x800B010B/0x800B010E line of it), else its summary. */
function failureEvidence(a: UpdateAttempt): Evidence[] {
  const lines = a.evidence.filter((e) => [...TRUST_CODES].some((c) => (e.data ?? '').toLowerCase().includes(c)));
  return lines.length ? [...lines, attemptEvidence(a)] : [attemptEvidence(a)];
}

const hasTrustCode = (a: UpdateAttempt) => (a.code !== undefined && TRUST_CODES.has(a.code)) || failureEvidence(a).length > 1;

function finding(h: HiveWinTrust, s: number, why: string, trustFailures: UpdateAttempt[]): Finding {
  return {
    id: 'wintrust-state',
    severity: 'error',
    subject: h.hive,
    explanation: `The WinTrust "Software Publishing" State of ${h.kind}${h.sid ? ` (${h.sid})` : ''} is ${hex(s)}, which ${why}, so signed updates fail with 0x800B010B/0x800B010E and installers with 0x80070643; the wintrust repair resets it to the Windows default ${hex(DEFAULT_STATE)}.`,
    evidence: [
      {
        file: h.hive,
        key: WINTRUST_KEY,
        value: WINTRUST_VALUE,
        data: `${hex(s)} (setreg options on: ${(h.enabledOptions ?? []).join(', ') || 'none'}; default ${hex(DEFAULT_STATE)} = 2, 3, 4, 5, 6, 7)`,
      },
      ...trustFailures.flatMap(failureEvidence),
    ],
    repair: 'wintrust',
    errorCodes: ['0x80070643', '0x800b010b', '0x800b010e'],
  };
}

export const wintrustRule: Rule = {
  id: 'wintrust-state',
  derive(t) {
    const failures = failuresOf(t);
    // Trust failures, and the 0x80070643 failures of the same updates (the installer's view of them).
    const trustKbs = new Set(failures.filter((f) => hasTrustCode(f) && f.kb).map((f) => (f.kb ?? '').toUpperCase()));
    const trustFailures = failures.filter((f) => hasTrustCode(f) || (f.code === '0x80070643' && f.kb && trustKbs.has(f.kb.toUpperCase())));
    const out: Finding[] = [];
    for (const h of t.wintrust) {
      if (h.state === undefined) continue;
      const why = whyBroken(h.state);
      if (why) out.push(finding(h, h.state, why, trustFailures));
    }
    return out;
  },
};
