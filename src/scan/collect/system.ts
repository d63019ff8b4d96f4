// The Windows version (SOFTWARE), the computer name and the update services (SYSTEM) of a scan.
import { problemText as describeError } from '../../shared/safefs.js';
import type { Hive } from '../../hive/hive.js';
import type { TargetScan } from '../../model/scan.js';
import { readArchitecture, readComputerName, readVersion } from '../../windows/version.js';
import { currentControlSet, readServices, defaultStart, pendingFileRenames, SERVICE_DLLS, WU_DEPENDENCIES, WU_SERVICES } from '../../windows/services.js';

/** Fills t.system; returns the build number (0 when unknown) the service defaults depend on. */
export function collectVersion(software: Hive, t: TargetScan): number {
  try {
    const v = readVersion(software);
    t.system = {
      productName: v.productName,
      editionId: v.editionId,
      installationType: v.installationType,
      currentBuild: v.currentBuild,
      ubr: v.ubr,
      displayVersion: v.displayVersion,
    };
    return v.currentBuild;
  } catch (e) {
    t.problems.push(`Windows version: ${describeError(e)}`);
    return 0;
  }
}

/** Fills t.controlSets, t.services and the pending file renames count. */
export function collectServices(system: Hive, build: number, t: TargetScan): void {
  try {
    const cs = currentControlSet(system);
    t.controlSets = cs.paths;
    t.services = readServices(system, [...WU_SERVICES, ...WU_DEPENDENCIES]).map((s) => {
      const dll = SERVICE_DLLS[s.name.toLowerCase()];
      return {
        name: s.name,
        exists: s.exists,
        start: s.start,
        delayedAutostart: s.delayedAutostart ? 1 : 0,
        hasSecurity: s.hasSecurity,
        defaultStart: defaultStart(s.name, { currentBuild: build })?.start,
        ...(s.serviceDll !== undefined ? { serviceDll: s.serviceDll } : {}),
        ...(dll && s.exists ? { defaultServiceDll: dll } : {}),
        ...(s.lockedDown ? { lockedDown: s.lockedDown } : {}),
        ...(s.keyLocked ? { keyLocked: s.keyLocked } : {}),
      };
    });
    t.servicing.pendingFileRenames = pendingFileRenames(system, cs.paths).length;
  } catch (e) {
    t.problems.push(`services: ${describeError(e)}`);
  }
}

/** Fills t.system.computerName (the ticket report's heading) and t.system.architecture when SYSTEM has them. */
export function collectComputerName(system: Hive, t: TargetScan): void {
  try {
    const name = readComputerName(system);
    if (name !== undefined) t.system.computerName = name;
  } catch (e) {
    t.problems.push(`computer name: ${describeError(e)}`);
  }
  try {
    const arch = readArchitecture(system);
    if (arch !== undefined) t.system.architecture = arch;
  } catch (e) {
    t.problems.push(`processor architecture: ${describeError(e)}`);
  }
}
