// SYSTEM hive knowledge: the current control set (Select), the Windows Update related services and
// PendingFileRenameOperations. windows-update.md §2 (Select), §3 (start types), §4 (pending renames).
import { Hive } from '../hive/hive.js';
import { BadInputError } from '../shared/errors.js';
import { regDword, regMultiSz, regRaw, regString } from '../hive/query.js';
import { daclGrants, decodeSecurityDescriptor, formatSddl, KEY_GENERIC, SERVICE_GENERIC, type SecurityDescriptor } from '../formats/sddl.js';

export interface ControlSetSelection {
  current: number;
  default: number;
  failed?: number;
  lastKnownGood?: number;
  /** Distinct `ControlSet%03d` names of Current and Default (Current first) that exist in the hive. */
  paths: string[];
  /** Control sets Select names that are not in the hive (a broken SYSTEM hive). */
  missing: string[];
  /** false when Select is absent and the lowest ControlSet00n was taken instead. */
  fromSelect: boolean;
}

export const controlSetName = (n: number) => `ControlSet${String(n).padStart(3, '0')}`;

/** SYSTEM\Select -> the control sets to read and patch (Current, and Default if it differs). */
export function currentControlSet(system: Hive): ControlSetSelection {
  const sel = system.lookup('Select');
  const exists = (n: number) => system.lookup(controlSetName(n)) !== undefined;
  if (sel === undefined || regDword(system, sel, 'Current') === undefined) {
    // No Select: take the lowest ControlSet00n present (what virt-win-reg-like tools do).
    const sets = system
      .subkeys(system.rootCell)
      .map((nk) => /^ControlSet(\d{3})$/i.exec(system.keyName(nk)))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    if (sets.length === 0) {
      throw new BadInputError('not a SYSTEM hive: no Select key and no ControlSet00n key', { code: 'not-system-hive' });
    }
    return { current: sets[0]!, default: sets[0]!, paths: [controlSetName(sets[0]!)], missing: [], fromSelect: false };
  }
  const current = regDword(system, sel, 'Current')!;
  const def = regDword(system, sel, 'Default') ?? current;
  const wanted = [...new Set([current, def])];
  return {
    current,
    default: def,
    failed: regDword(system, sel, 'Failed'),
    lastKnownGood: regDword(system, sel, 'LastKnownGood'),
    paths: wanted.filter(exists).map(controlSetName),
    missing: wanted.filter((n) => !exists(n)).map(controlSetName),
    fromSelect: true,
  };
}

export const WU_SERVICES = ['wuauserv', 'bits', 'cryptsvc', 'TrustedInstaller', 'msiserver', 'UsoSvc', 'EventLog'] as const;

/**
 * What Windows Update needs beneath its own services (issue #19, item 2): RPC (RpcSs, its endpoint
 * mapper RpcEptMapper, the DCOM launcher DcomLaunch), the Microsoft Account sign-in assistant
 * (wlidsvc: feature updates and Store-delivered components) and the Windows Update Medic service
 * (WaaSMedicSvc, Windows 10 1803 and later), whose Start=4 an "update disabler" also leaves.
 */
export const WU_DEPENDENCIES = ['RpcSs', 'RpcEptMapper', 'DcomLaunch', 'wlidsvc', 'WaaSMedicSvc'] as const;

/**
 * The ServiceDll each shared-process update service loads, as Windows writes it (REG_EXPAND_SZ in
 * Services\<name>\Parameters; read from real Windows 7 and 10 SYSTEM hives): a disabler that
 * points it elsewhere (a renamed or missing DLL) stops the service from starting at all.
 */
/** Other DLL names Windows itself has used for the service (older builds), accepted as they are. */
export const SERVICE_DLL_ALSO: Readonly<Record<string, readonly string[]>> = { usosvc: ['usosvc.dll'] };

/** The ServiceDll is what Windows writes (or an older Windows' own name), by file name, case-insensitively, in System32. */
export function serviceDllOk(name: string, dll: string): boolean {
  const want = SERVICE_DLLS[name.toLowerCase()];
  if (!want) return true;
  const norm = (p: string) =>
    p
      .trim()
      .toLowerCase()
      .replace(/^%systemroot%|^c:\\windows/, '%systemroot%')
      .replace(/\//g, '\\');
  const ok = [want, ...(SERVICE_DLL_ALSO[name.toLowerCase()] ?? []).map((f) => `%systemroot%\\system32\\${f}`)];
  return ok.some((o) => norm(o) === norm(dll));
}

export const SERVICE_DLLS: Readonly<Record<string, string>> = {
  wuauserv: '%systemroot%\\system32\\wuaueng.dll',
  bits: '%SystemRoot%\\System32\\qmgr.dll',
  cryptsvc: '%SystemRoot%\\system32\\cryptsvc.dll',
  usosvc: '%systemroot%\\system32\\usocore.dll',
};

export const START_NAMES: Record<number, string> = { 0: 'Boot', 1: 'System', 2: 'Automatic', 3: 'Manual', 4: 'Disabled' };

export interface ServiceInfo {
  /** The name asked for. */
  name: string;
  /** The key name as stored (services keys are case-insensitive: "BITS", "CryptSvc", "eventlog"). */
  keyName?: string;
  controlSet: string;
  /** Registry path relative to the SYSTEM root. */
  keyPath: string;
  exists: boolean;
  start?: number;
  /** DelayedAutoStart = 1 (only meaningful with Start = 2). */
  delayedAutostart: boolean;
  /** `Security\Security` value present: a custom service SD (absent = the SCM default). */
  hasSecurity: boolean;
  /** That value starts like a self-relative SECURITY_DESCRIPTOR (revision 1, >= 20 bytes). */
  securityValid?: boolean;
  /** Why that descriptor locks the service (serviceLockdown), for the LOCKABLE_SERVICES only. */
  lockedDown?: { why: string; sddl: string };
  /** Why the permissions of the service's registry key lock it (keyLockdown), for the LOCKABLE_SERVICES only. */
  keyLocked?: { why: string; sddl: string };
  imagePath?: string;
  serviceDll?: string;
  objectName?: string;
  type?: number;
}

// ---------------------------------------------------------------------------------------------
// Locked-down service descriptors ("update disabler" tools: `sc sdset wuauserv D:(D;;...;;;SY)...`)

/**
 * The services whose descriptor (Services\<name>\Security\Security) is judged: Windows Update's
 * own, whose default descriptor wufix knows (src/repairs/services.ts DEFAULT_SDDL). EventLog is not
 * one: its Security subkey is the Security event log, not a descriptor of the service.
 */
export const LOCKABLE_SERVICES = ['wuauserv', 'bits', 'UsoSvc', 'WaaSMedicSvc'] as const;

const SERVICE_START = 0x10;
const SERVICE_QUERY_STATUS = 0x04;
const SERVICE_CHANGE_CONFIG = 0x02;
/** The groups in a LocalSystem token / an elevated administrator's token that service DACLs name. */
const SYSTEM_TOKEN = ['S-1-5-18', 'S-1-5-32-544', 'S-1-1-0', 'S-1-5-11'];
const ADMIN_TOKEN = ['S-1-5-32-544', 'S-1-1-0', 'S-1-5-11', 'S-1-5-4'];

/**
 * Why a service descriptor keeps Windows Update from running the service, or undefined when it does
 * not: SYSTEM (the update orchestrator, the SCM's triggers) must be able to start it and query its
 * status, and Administrators to start and reconfigure it, as every default descriptor allows. An
 * unreadable descriptor is one too: the SCM cannot use it either.
 */
export function serviceLockdown(bytes: Uint8Array): { why: string; sddl: string } | undefined {
  return judge(bytes, 'is', (sd) =>
    !daclGrants(sd, SYSTEM_TOKEN, SERVICE_START | SERVICE_QUERY_STATUS, SERVICE_GENERIC)
      ? 'does not let SYSTEM start it'
      : !daclGrants(sd, ADMIN_TOKEN, SERVICE_START | SERVICE_CHANGE_CONFIG, SERVICE_GENERIC)
        ? 'does not let Administrators start or reconfigure it'
        : undefined,
  );
}

/** A descriptor decoded and judged by `why`; an unreadable one is judged locked ("<is|are> not a readable ..."). */
function judge(bytes: Uint8Array, verb: string, why: (sd: SecurityDescriptor) => string | undefined): { why: string; sddl: string } | undefined {
  let sd: SecurityDescriptor;
  try {
    sd = decodeSecurityDescriptor(bytes);
  } catch (e) {
    return { why: `${verb} not a readable security descriptor (${(e as Error).message})`, sddl: 'unreadable' };
  }
  const w = why(sd);
  return w === undefined ? undefined : { why: w, sddl: formatSddl(sd) };
}

const KEY_QUERY_VALUE = 0x1;
const KEY_SET_VALUE = 0x2;
const KEY_ENUMERATE_SUB_KEYS = 0x8;

/**
 * Why the permissions of a service's registry key (its sk cell) keep Windows from reading or
 * repairing the service's configuration - SYSTEM (the SCM, WaaSMedicSvc) denied reading or setting
 * its values, as WuMgr's "block" leaves it (a DENY FullControl for SYSTEM) - or undefined.
 */
export function keyLockdown(bytes: Uint8Array): { why: string; sddl: string } | undefined {
  return judge(bytes, 'are', (sd) =>
    daclGrants(sd, SYSTEM_TOKEN, KEY_QUERY_VALUE | KEY_SET_VALUE | KEY_ENUMERATE_SUB_KEYS, KEY_GENERIC)
      ? undefined
      : 'do not let SYSTEM read or set its values',
  );
}

/** The key's own descriptor judged by keyLockdown (an sk cell that cannot be read is left to the hive checks). */
function keyLockedOf(system: Hive, nk: number): { why: string; sddl: string } | undefined {
  try {
    const sd = system.keySecurity(nk);
    return sd ? keyLockdown(sd) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key descriptor Windows gives the keys under Services on this machine: the one most of the
 * Services subkeys share (their sk cell), among those that do not lock SYSTEM out; undefined when
 * there is none. What the services repair puts back on a locked service key.
 */
export function usualServiceKeySecurity(system: Hive, servicesPath: string): Uint8Array | undefined {
  const svc = system.lookup(servicesPath);
  if (svc === undefined) return undefined;
  const count = new Map<number, { n: number; key: number }>();
  for (const nk of system.subkeys(svc).slice(0, 20_000)) {
    const sk = system.skOffset(nk);
    const c = count.get(sk);
    if (c) c.n++;
    else count.set(sk, { n: 1, key: nk });
  }
  for (const { n, key } of [...count.values()].sort((a, b) => b.n - a.n)) {
    if (n < 2) break;
    try {
      const sd = system.keySecurity(key);
      if (sd && !keyLockdown(sd)) return new Uint8Array(sd);
    } catch {
      /* an unreadable sk cell is not the usual one */
    }
  }
  return undefined;
}

function lockFields(lockedDown: ServiceInfo['lockedDown'], keyLocked: ServiceInfo['keyLocked']): Pick<ServiceInfo, 'lockedDown' | 'keyLocked'> {
  return { ...(lockedDown ? { lockedDown } : {}), ...(keyLocked ? { keyLocked } : {}) };
}

/** A self-relative SD: revision 1, Sbz1, control word with SE_SELF_RELATIVE (0x8000), 4 offsets. */
function looksLikeSd(b: Uint8Array): boolean {
  if (b.length < 20 || b[0] !== 1) return false;
  const control = b[2]! | (b[3]! << 8);
  if ((control & 0x8000) === 0) return false;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 4; i < 20; i += 4) {
    const off = dv.getUint32(i, true);
    if (off !== 0 && (off < 20 || off >= b.length)) return false;
  }
  return true;
}

/**
 * Start type and friends of each named service in one control set (default: Select's Current).
 * Note: the EventLog service has a `Security` subkey that is the Security *event log* (with a
 * `Security` value holding that log's SD), so `hasSecurity` is true there on healthy systems.
 */
export function readServices(system: Hive, names: readonly string[] = WU_SERVICES, controlSet?: string): ServiceInfo[] {
  const cs = controlSet ?? currentControlSet(system).paths[0] ?? controlSetName(currentControlSet(system).current);
  const servicesNk = system.lookup(`${cs}\\Services`);
  return names.map((name): ServiceInfo => {
    const keyPath = `${cs}\\Services\\${name}`;
    const nk = servicesNk === undefined ? undefined : system.findSubkey(servicesNk, name);
    if (nk === undefined) return { name, controlSet: cs, keyPath, exists: false, delayedAutostart: false, hasSecurity: false };
    const sec = system.findSubkey(nk, 'Security');
    const sd = sec === undefined ? undefined : regRaw(system, sec, 'Security');
    const params = system.findSubkey(nk, 'Parameters');
    const lockable = LOCKABLE_SERVICES.some((l) => l.toLowerCase() === name.toLowerCase());
    return {
      name,
      keyName: system.keyName(nk),
      controlSet: cs,
      keyPath: `${cs}\\Services\\${system.keyName(nk)}`,
      exists: true,
      start: regDword(system, nk, 'Start'),
      delayedAutostart: regDword(system, nk, 'DelayedAutostart') === 1,
      hasSecurity: sd !== undefined,
      securityValid: sd === undefined ? undefined : looksLikeSd(sd.data),
      ...(lockable ? lockFields(sd === undefined ? undefined : serviceLockdown(sd.data), keyLockedOf(system, nk)) : {}),
      imagePath: regString(system, nk, 'ImagePath'),
      serviceDll: (params !== undefined ? regString(system, params, 'ServiceDll') : undefined) ?? regString(system, nk, 'ServiceDll'),
      objectName: regString(system, nk, 'ObjectName'),
      type: regDword(system, nk, 'Type'),
    };
  });
}

export interface DefaultStart {
  start: number;
  delayedAutostart: boolean;
  /** Where the value comes from (windows-update.md §3) and how sure it is. */
  source: string;
}

/**
 * The default start type of a service for a Windows version (windows-update.md §3).
 * Windows 10 / Server 2016 and later (build >= 10240): WS2016 service guidance (verified).
 * Windows 7 / 2008 R2 (build < 9200): wuauserv verified, the rest inferred.
 * Windows 8 / 8.1 and UsoSvc: undefined (not in the table; UsoSvc only "must not be 4").
 */
export function defaultStart(name: string, version: { currentBuild: number }): DefaultStart | undefined {
  const n = name.toLowerCase();
  const b = version.currentBuild;
  if (b >= 10240) {
    const t: Record<string, number> = { wuauserv: 3, bits: 3, cryptsvc: 2, trustedinstaller: 3, msiserver: 3 };
    if (t[n] !== undefined) return { start: t[n], delayedAutostart: false, source: 'Win10/Server 2016+ default (verified: WS2016 service guidance)' };
    const deps: Record<string, [number, string]> = {
      rpcss: [2, 'Automatic on every Windows (verified: WS2016 service guidance, real Windows 10 SYSTEM hives)'],
      rpceptmapper: [2, 'Automatic on every Windows (verified: WS2016 service guidance, real Windows 10 SYSTEM hives)'],
      dcomlaunch: [2, 'Automatic on every Windows (verified: WS2016 service guidance, real Windows 10 SYSTEM hives)'],
      wlidsvc: [3, 'Manual (verified: WS2016 service guidance, real Windows 10 SYSTEM hives)'],
      waasmedicsvc: [3, 'Manual, as Windows 10 1803+ installs it (inferred: no real hive with it here)'],
    };
    const d = deps[n];
    return d ? { start: d[0], delayedAutostart: false, source: d[1] } : undefined;
  }
  if (b > 0 && b < 9200) {
    const t: Record<string, [number, boolean, string]> = {
      wuauserv: [2, true, 'Win7 default (verified: revertservice.com)'],
      bits: [2, true, 'Win7 default (inferred)'],
      cryptsvc: [2, false, 'Win7 default (inferred)'],
      trustedinstaller: [3, false, 'Win7 default (inferred)'],
      msiserver: [3, false, 'Win7 default (inferred)'],
      rpcss: [2, false, 'Automatic (verified: a real Windows 7 SYSTEM hive)'],
      rpceptmapper: [2, false, 'Automatic (verified: a real Windows 7 SYSTEM hive)'],
      dcomlaunch: [2, false, 'Automatic (verified: a real Windows 7 SYSTEM hive)'],
    };
    const e = t[n];
    return e ? { start: e[0], delayedAutostart: e[1], source: e[2] } : undefined;
  }
  return undefined;
}

export interface PendingRename {
  /** As stored, usually "\??\C:\path". */
  source: string;
  /** Empty = delete the source at boot. */
  target: string;
  delete: boolean;
  value: 'PendingFileRenameOperations' | 'PendingFileRenameOperations2';
  controlSet: string;
}

/**
 * Session Manager PendingFileRenameOperations(+2): REG_MULTI_SZ (source, target) pairs; an empty
 * target means delete (Sysinternals PendMoves). Read from each control set Select names.
 */
export function pendingFileRenames(system: Hive, controlSets?: string[]): PendingRename[] {
  const out: PendingRename[] = [];
  for (const cs of controlSets ?? currentControlSet(system).paths) {
    const sm = system.lookup(`${cs}\\Control\\Session Manager`);
    if (sm === undefined) continue;
    for (const value of ['PendingFileRenameOperations', 'PendingFileRenameOperations2'] as const) {
      const parts = regMultiSz(system, sm, value);
      if (!parts) continue;
      for (let i = 0; i < parts.length; i += 2) {
        const source = parts[i]!;
        if (source === '') break; // the double-NUL end (a pair never starts with an empty source)
        const target = parts[i + 1] ?? '';
        out.push({ source, target, delete: target === '', value, controlSet: cs });
      }
    }
  }
  return out;
}
