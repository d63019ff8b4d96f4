// Services: an update service (or one it needs) missing from the registry or disabled (Start=4), loading another DLL than Windows' own,
// or locked by its security descriptor.
import type { Finding, ServiceState, TargetScan } from '../../model/scan.js';
import { WU_DEPENDENCIES, WU_SERVICES, controlSetName, serviceDllOk } from '../../windows/services.js';
import { SYSTEM_HIVE, type Rule } from './rule.js';

/** Services whose Start=4 breaks updates: Windows Update's own and what it needs (RPC, DCOM, wlidsvc, WaaSMedicSvc). */
const UPDATE_SERVICES: readonly string[] = [...WU_SERVICES, ...WU_DEPENDENCIES];

/**
 * Services that must exist on every supported Windows (UsoSvc came with Windows 10). The
 * dependencies are judged only by Start: a Windows without RpcSs does not boot at all.
 */
const REQUIRED_SERVICES: ReadonlySet<string> = new Set(WU_SERVICES.filter((s) => s !== 'UsoSvc'));

/** A shared-process update service whose ServiceDll points elsewhere than Windows' own DLL: it cannot start. */
function serviceDllFinding(t: TargetScan, s: ServiceState): Finding | undefined {
  if (!s.exists || s.serviceDll === undefined || !s.defaultServiceDll || serviceDllOk(s.name, s.serviceDll)) return undefined;
  return {
    id: 'wu-service-dll',
    severity: 'error',
    subject: s.name,
    explanation: `The ${s.name} service loads ${s.serviceDll} instead of Windows' own ${s.defaultServiceDll} (an "update disabler" redirects it so the service cannot start); the services repair points it back.`,
    evidence: t.controlSets.map((cs) => ({ file: SYSTEM_HIVE, key: `${cs}\\Services\\${s.name}\\Parameters`, value: 'ServiceDll', data: s.serviceDll })),
    repair: 'services',
  };
}

/** Printable ASCII, at most `n` characters (an SDDL from the image in a finding). */
const clip = (x: string, n: number) => {
  const t = x.replace(/[^\x20-\x7e]/g, '?');
  return t.length > n ? `${t.slice(0, n - 3)}...` : t;
};

/** A service descriptor that keeps SYSTEM or Administrators from starting the service ("update disabler" tools' `sc sdset`). */
function lockdownFinding(t: TargetScan, s: ServiceState): Finding | undefined {
  if (!s.exists || !s.lockedDown) return undefined;
  return {
    id: 'wu-service-locked',
    severity: 'error',
    subject: s.name,
    explanation: `The ${s.name} service's security descriptor ${s.lockedDown.why} (an "update disabler" locks it this way, often with Start=4 as well), so Windows Update cannot run it even when it is enabled; the services repair writes Windows' default descriptor back (owner, group and audit kept).`,
    evidence: [
      {
        file: SYSTEM_HIVE,
        key: `${t.controlSets[0] ?? controlSetName(1)}\\Services\\${s.name}\\Security`,
        value: 'Security',
        data: clip(s.lockedDown.sddl, 240),
      },
    ],
    repair: 'services',
  };
}

/** What the services repair sets (src/repairs/services.ts targetStart: UsoSvc has no documented default, Windows installs it Automatic, Delayed Start). */
const restored = (s: ServiceState) =>
  s.defaultStart !== undefined
    ? `Start=${s.defaultStart}`
    : s.name === 'UsoSvc'
      ? 'Automatic (Delayed Start), as Windows installs it'
      : 'its default start type';

/** The service's registry key denies SYSTEM (WuMgr's block: a DENY FullControl for SYSTEM on Services\\<svc>). */
function keyLockFinding(t: TargetScan, s: ServiceState): Finding | undefined {
  if (!s.exists || !s.keyLocked) return undefined;
  return {
    id: 'wu-service-key-locked',
    severity: 'error',
    subject: s.name,
    explanation: `The permissions of the ${s.name} service's registry key ${s.keyLocked.why} (an "update blocker" such as WuMgr denies SYSTEM this way so Windows cannot undo its changes), so the service control manager and Windows Update Medic cannot use or repair it; the services repair gives the key the permissions the other service keys of this Windows have.`,
    evidence: [
      { file: SYSTEM_HIVE, key: `${t.controlSets[0] ?? controlSetName(1)}\\Services\\${s.name}`, data: `key permissions ${clip(s.keyLocked.sddl, 240)}` },
    ],
    repair: 'services',
  };
}

function serviceFinding(t: TargetScan, s: ServiceState): Finding | undefined {
  const errorCodes = s.name === 'wuauserv' ? ['0x80070422'] : undefined;
  if (!s.exists && REQUIRED_SERVICES.has(s.name)) {
    return {
      id: 'wu-service-disabled',
      severity: 'error',
      subject: s.name,
      explanation: `The ${s.name} service is missing from the registry, so Windows Update cannot run it.`,
      evidence: [{ file: SYSTEM_HIVE, key: `${t.controlSets[0] ?? controlSetName(1)}\\Services\\${s.name}`, data: 'key not found' }],
      errorCodes,
    };
  }
  if (!s.exists || s.start !== 4) return undefined;
  return {
    id: 'wu-service-disabled',
    severity: 'error',
    subject: s.name,
    explanation: `The ${s.name} service is disabled (Start=4), which makes updates fail${s.name === 'wuauserv' ? ' with 0x80070422' : ''}; the services repair restores ${restored(s)}.`,
    evidence: t.controlSets.map((cs) => ({ file: SYSTEM_HIVE, key: `${cs}\\Services\\${s.name}`, value: 'Start', data: '4 (Disabled)' })),
    repair: 'services',
    errorCodes,
  };
}

export const servicesRule: Rule = {
  id: 'wu-service-disabled',
  derive: (t) =>
    t.services
      .filter((s) => UPDATE_SERVICES.includes(s.name))
      .flatMap((s) => [serviceFinding(t, s), serviceDllFinding(t, s), lockdownFinding(t, s), keyLockFinding(t, s)].filter((f): f is Finding => !!f)),
};
