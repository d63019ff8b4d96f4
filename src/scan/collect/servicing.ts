// Servicing state of a scan: the CBS markers and packages (SOFTWARE), COMPONENTS' pending values
// and a queued WinSxS\pending.xml.
import { problemText as describeError } from '../../shared/safefs.js';
import type { Hive } from '../../hive/hive.js';
import type { TargetScan } from '../../model/scan.js';
import { readServicingMarkers, componentsPending, summarizeCbsPackages, COMPONENTS_TRANSACTION_VALUES } from '../../windows/servicing.js';
import { realFile, winRel } from '../../windows/files.js';
import { PENDING_XML } from '../../windows/locations.js';

export function collectServicing(software: Hive, t: TargetScan): void {
  try {
    const m = readServicingMarkers(software);
    const sp = m.sessionsPending;
    t.servicing.rebootPending = m.rebootPending || m.rebootInProgress;
    t.servicing.packagesPending = m.packagesPending;
    t.servicing.sessionsPending = sp.pending
      ? [
          ...(sp.exclusive ? [`Exclusive=${sp.exclusive}`] : []),
          ...(sp.totalSessionPhases ? [`TotalSessionPhases=${sp.totalSessionPhases}`] : []),
          ...sp.incompleteSessions,
        ]
      : [];
    t.servicing.rebootRequired = m.wuRebootRequired;
    const sum = summarizeCbsPackages(software);
    t.servicing.packageStates = sum.counts;
    t.servicing.pendingPackages = sum.pending.map((p) => ({ name: p.name, state: p.stateName, kb: p.kb }));
  } catch (e) {
    t.problems.push(`servicing state: ${describeError(e)}`);
  }
}

export function collectComponents(components: Hive, t: TargetScan): void {
  try {
    const c = componentsPending(components);
    for (const name of COMPONENTS_TRANSACTION_VALUES) if (c.values[name]) t.servicing.componentsPending.push(name);
  } catch (e) {
    t.problems.push(`COMPONENTS hive: ${describeError(e)}`);
  }
}

export function collectPendingXml(root: string, t: TargetScan): void {
  const pendingXml = realFile(root, PENDING_XML);
  if (pendingXml) t.servicing.pendingXml = winRel(root, pendingXml);
}
