// WSUS: an untrusted third-party signing certificate, and a policy pointing at a server out of reach.
import type { UpdateAttempt } from '../../model/attempts.js';
import type { Evidence, Finding, TargetScan } from '../../model/scan.js';
import { WU_POLICY_KEY } from '../../windows/policy.js';
import { SOFTWARE_HIVE, codesOf, attemptEvidence, failuresOf, type Rule } from './rule.js';

const WSUS_UNREACHABLE = new Set(['0x8024402c', '0x80244022', '0x80072ee2', '0x80072efd', '0x8024401c']);

const usesWsus = (t: TargetScan) => t.policy.useWUServer === 1 && !!t.policy.wuServer;

function certUntrusted(t: TargetScan, failures: UpdateAttempt[]): Finding[] {
  const wsus = usesWsus(t);
  const untrusted = failures.filter((f) => f.code === '0x800b0109');
  // Once a publisher certificate is trusted and the policy accepts it, the failures are history.
  const trusted = t.policy.acceptTrustedPublisherCerts === 1 && t.certificates.some((c) => c.store.toLowerCase().includes('trustedpublisher'));
  if (!untrusted.length || trusted) return [];
  const ev: Evidence[] = untrusted.map(attemptEvidence);
  if (t.policy.acceptTrustedPublisherCerts !== 1) {
    ev.push({
      file: SOFTWARE_HIVE,
      key: WU_POLICY_KEY,
      value: 'AcceptTrustedPublisherCerts',
      data: t.policy.acceptTrustedPublisherCerts === undefined ? 'not set' : String(t.policy.acceptTrustedPublisherCerts),
    });
  }
  if (wsus) ev.push({ file: SOFTWARE_HIVE, key: WU_POLICY_KEY, value: 'WUServer', data: t.policy.wuServer });
  return [
    {
      id: 'wsus-cert-untrusted',
      severity: 'error',
      explanation: `Updates published through ${wsus ? 'WSUS' : 'the update server'} fail with 0x800B0109 because their signing certificate is not trusted on this machine; trust-cert --cert <file> imports it into TrustedPublisher (and Root when self-signed).`,
      evidence: ev,
      repair: 'trust-cert',
      errorCodes: ['0x800b0109'],
    },
  ];
}

function stalePolicy(t: TargetScan, failures: UpdateAttempt[]): Finding[] {
  const unreachable = failures.filter((f) => f.code && WSUS_UNREACHABLE.has(f.code));
  if (!usesWsus(t) || !unreachable.length) return [];
  return [
    {
      id: 'stale-wsus-policy',
      severity: 'warning',
      explanation: `Windows Update is pointed at ${t.policy.wuServer} (UseWUServer=1) and cannot reach it (${codesOf(unreachable).join(', ')}); if the machine left that network, remove the WindowsUpdate policy.`,
      evidence: [{ file: SOFTWARE_HIVE, key: WU_POLICY_KEY, value: 'WUServer', data: t.policy.wuServer }, ...unreachable.slice(0, 5).map(attemptEvidence)],
      errorCodes: codesOf(unreachable),
    },
  ];
}

export const wsusRule: Rule = {
  id: 'wsus',
  derive(t) {
    const failures = failuresOf(t);
    return [...certUntrusted(t, failures), ...stalePolicy(t, failures)];
  },
};
