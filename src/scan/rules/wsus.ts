// WSUS: an untrusted third-party signing certificate, a policy pointing at a server out of reach or
// at no server at all (values that cannot work: the wsus-policy repair), and the WSUS client identity
// a cloned image carries (issue #19 item 1; duplicates across images: src/scan/report/fleet.ts).
import type { UpdateAttempt } from '../../model/attempts.js';
import type { Evidence, Finding, TargetScan } from '../../model/scan.js';
import { WU_CLIENT_KEY, WU_POLICY_KEY, brokenWsusValues } from '../../windows/policy.js';
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

/** The WSUS policy values of the scan that cannot work (windows/policy.ts brokenWsusValues). */
export function brokenPolicyOf(t: TargetScan) {
  const p = t.policy;
  return brokenWsusValues({
    wuServer: p.wuServer,
    wuStatusServer: p.wuStatusServer,
    useWuServer: p.useWUServer,
    targetGroup: p.targetGroup,
    targetGroupEnabled: p.targetGroupEnabled,
  });
}

function brokenPolicy(t: TargetScan, failures: UpdateAttempt[]): Finding[] {
  const broken = brokenPolicyOf(t);
  if (!broken.length) return [];
  const unreachable = failures.filter((f) => f.code && WSUS_UNREACHABLE.has(f.code));
  const names = broken.map((b) => b.name).join(', ');
  return [
    {
      id: 'stale-wsus-policy',
      severity: 'warning',
      explanation: `The WSUS policy has values that cannot work (${names}; each below with why); the wsus-policy repair removes only those values and the WSUS client identity, so the client registers anew, never a well-formed server URL.`,
      evidence: [
        ...broken.map((b) => ({ file: SOFTWARE_HIVE, key: b.key, value: b.name, data: `${b.data} (${b.why})` })),
        ...unreachable.slice(0, 5).map(attemptEvidence),
      ],
      repair: 'wsus-policy',
      ...(unreachable.length ? { errorCodes: codesOf(unreachable) } : {}),
    },
  ];
}

function clientIdentity(t: TargetScan): Finding[] {
  const id = t.policy.wsusClient;
  const p = t.policy;
  // Every Windows Update agent writes a SusClientId; it matters where a WSUS policy is set.
  if (!id?.present.length || (p.wuServer === undefined && p.useWUServer !== 1 && p.targetGroup === undefined)) return [];
  return [
    {
      id: 'wsus-client-identity',
      severity: 'info',
      explanation: `This Windows carries a WSUS client identity (${id.present.join(', ')}); every image cloned from it reports to WSUS as the same computer. On a master or cloned image, wufix repair --only wsus-policy clears it so the client registers anew.`,
      evidence: id.present.map((n) => ({
        file: SOFTWARE_HIVE,
        key: WU_CLIENT_KEY,
        value: n,
        ...(n === 'SusClientId' && id.susClientId !== undefined ? { data: id.susClientId } : {}),
      })),
      repair: 'wsus-policy',
    },
  ];
}

function stalePolicy(t: TargetScan, failures: UpdateAttempt[]): Finding[] {
  const unreachable = failures.filter((f) => f.code && WSUS_UNREACHABLE.has(f.code));
  if (!usesWsus(t) || !unreachable.length || brokenPolicyOf(t).length) return [];
  return [
    {
      id: 'stale-wsus-policy',
      severity: 'warning',
      explanation: `Windows Update is pointed at ${t.policy.wuServer} (UseWUServer=1) and cannot reach it (${codesOf(unreachable).join(', ')}); if the machine left that network, wufix repair --only wsus-policy --wsus-reset-policy removes the server policy.`,
      evidence: [{ file: SOFTWARE_HIVE, key: WU_POLICY_KEY, value: 'WUServer', data: t.policy.wuServer }, ...unreachable.slice(0, 5).map(attemptEvidence)],
      errorCodes: codesOf(unreachable),
    },
  ];
}

export const wsusRule: Rule = {
  id: 'wsus',
  derive(t) {
    const failures = failuresOf(t);
    return [...certUntrusted(t, failures), ...brokenPolicy(t, failures), ...stalePolicy(t, failures), ...clientIdentity(t)];
  },
};
