// Update policy, QualityCompat and the machine certificate stores (SOFTWARE) of a scan.
import { problemText as describeError } from '../../shared/safefs.js';
import type { Hive } from '../../hive/hive.js';
import type { TargetScan } from '../../model/scan.js';
import { readWuPolicy, readQualityCompat, qualityCompatApplies, readWsusClient } from '../../windows/policy.js';
import { readAllStores } from '../../formats/certstore.js';

export function collectPolicy(software: Hive, t: TargetScan): void {
  try {
    const p = readWuPolicy(software);
    const q = readQualityCompat(software);
    const id = readWsusClient(software);
    t.policy = {
      wuServer: p.wuServer,
      wuStatusServer: p.wuStatusServer,
      targetGroup: p.targetGroup,
      targetGroupEnabled: p.targetGroupEnabled,
      useWUServer: p.useWuServer,
      noAutoUpdate: p.noAutoUpdate,
      auOptions: p.auOptions,
      acceptTrustedPublisherCerts: p.acceptTrustedPublisherCerts,
      qualityCompat: q.present ? (q.value ?? 0) : undefined,
      qualityCompatApplies: t.system.currentBuild !== undefined ? qualityCompatApplies({ currentBuild: t.system.currentBuild, ubr: t.system.ubr }) : undefined,
    };
    if (id.present.length) t.policy.wsusClient = id;
  } catch (e) {
    t.problems.push(`update policy: ${describeError(e)}`);
  }
}

export function collectCertificates(software: Hive, t: TargetScan): void {
  try {
    for (const [store, certs] of Object.entries(readAllStores(software))) {
      for (const c of certs) t.certificates.push({ store, thumbprint: c.thumbprint ?? c.keyName, subject: c.subject ?? '', notAfter: c.notAfter });
    }
  } catch (e) {
    t.problems.push(`certificate stores: ${describeError(e)}`);
  }
}
