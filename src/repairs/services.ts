// services: re-enable the Windows Update services, and those they need (RpcSs, RpcEptMapper,
// DcomLaunch, wlidsvc, WaaSMedicSvc), that are Disabled (Start=4), and point a redirected
// ServiceDll (wuauserv, BITS, CryptSvc, UsoSvc) back at Windows' own DLL, in every control set
// the scan names (Select's Current and Default), with the default start type of the detected
// Windows version (windows-update.md §3); write Windows' default DACL back into the descriptor of
// wuauserv, bits, UsoSvc or WaaSMedicSvc when it locks the service (wu-service-locked: SYSTEM may
// not start it, or Administrators not start/reconfigure it, as "update disabler" tools leave it);
// optionally (--reset-security) reset the DACL of bits and wuauserv to Microsoft's documented
// default (windows-update.md §2, `sc sdset`) whatever it is.
//
// Choices (not in the table of §3):
// - UsoSvc (Windows 10+): the doc only says "must not be 4"; it is restored to Automatic (Delayed
//   Start), Start=2 + DelayedAutostart=1, which is how Windows 10/11 install it.
// - EventLog: Automatic (Start=2), its default on every Windows version.
// - Windows 8 / 8.1, or an unknown build: §3 has no column; the Windows 10 values are used (3 for
//   wuauserv, bits, TrustedInstaller and msiserver, 2 for CryptSvc), marked "inferred" in the note.
// - A default "2 + delayed" also sets DelayedAutostart=1 when it is not already 1; a default without
//   delay leaves DelayedAutostart alone (it only matters with Start=2).
// - --reset-security writes what `sc sdset <svc> <SDDL>` would leave behind: the DACL becomes the
//   documented one and the owner, group and SACL of the current descriptor are kept. When there is
//   no readable descriptor, owner and group are SYSTEM and the SACL is the one Windows' SCM gives
//   services, (AU;FA;CCDCLCSWRPWPDTLOSDRCWDWO;;;WD) (read from a real SYSTEM hive, regipy/SYSTEM).
import type { PlanStep, RegData } from '../model/plan.js';
import type { PlanContext, Repair } from '../engine/volume.js';
import type { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { readServices, defaultStart, serviceDllOk, usualServiceKeySecurity, LOCKABLE_SERVICES, SERVICE_DLLS, START_NAMES } from '../windows/services.js';
import { decodeSecurityDescriptor, encodeSecurityDescriptor, parseSddl, securityDescriptorToSddl, SE, type SecurityDescriptor } from '../formats/sddl.js';
import { dwordHex } from './wintrust.js';

/** The services this repair re-enables (names as in the scan's findings). */
export const REPAIRED_SERVICES = [
  'wuauserv',
  'bits',
  'cryptsvc',
  'TrustedInstaller',
  'msiserver',
  'UsoSvc',
  'EventLog',
  'RpcSs',
  'RpcEptMapper',
  'DcomLaunch',
  'wlidsvc',
  'WaaSMedicSvc',
] as const;

const WUAUSERV_DACL = 'D:(A;;CCLCSWRPLORC;;;AU)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)';
/**
 * The default service DACLs. bits and wuauserv: Microsoft's ("Reset Windows Update components
 * manually"; windows-update.md §2). UsoSvc and WaaSMedicSvc: not documented; the DACL Windows 10
 * itself stores for them, byte-identical to wuauserv's, in a real Windows 10 1809+ SYSTEM hive
 * (regipy SYSTEM_WIN_10_1709, MIT; the values are test/fixtures/service-sd).
 */
export const DEFAULT_SDDL: Readonly<Record<(typeof LOCKABLE_SERVICES)[number], string>> = {
  bits: 'D:(A;CI;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;CCLCSWLOCRRC;;;IU)(A;;CCLCSWLOCRRC;;;SU)',
  wuauserv: WUAUSERV_DACL,
  UsoSvc: WUAUSERV_DACL,
  WaaSMedicSvc: WUAUSERV_DACL,
};
/** Owner, group and SACL of a service descriptor created by the SCM (used only when none is readable). */
export const SCM_DEFAULT_OWNER_GROUP_SACL = 'O:SYG:SYS:(AU;FA;CCDCLCSWRPWPDTLOSDRCWDWO;;;WD)';

export interface StartTarget {
  start: number;
  delayed: boolean;
  source: string;
}

/** The start type to restore for a disabled service on this build (see the choices above). */
export function targetStart(name: string, build: number): StartTarget {
  const n = name.toLowerCase();
  if (n === 'usosvc')
    return {
      start: 2,
      delayed: true,
      source: 'UsoSvc: Automatic (Delayed Start) as Windows 10/11 install it (windows-update.md section 3 only says "must not be 4")',
    };
  if (n === 'eventlog') return { start: 2, delayed: false, source: 'EventLog: Automatic on every Windows version' };
  const d = defaultStart(name, { currentBuild: build });
  if (d) return { start: d.start, delayed: d.delayedAutostart, source: d.source };
  const w10 = defaultStart(name, { currentBuild: 10240 });
  if (w10) return { start: w10.start, delayed: w10.delayedAutostart, source: `no table for build ${build || 'unknown'}: the Windows 10 default (inferred)` };
  return { start: 3, delayed: false, source: 'Manual (inferred)' };
}

const SYSTEM_REL = 'Windows\\System32\\config\\SYSTEM';
const startText = (start: number, delayed: boolean) => `${START_NAMES[start] ?? start}${start === 2 && delayed ? ' (Delayed Start)' : ''}`;

function rawValue(h: Hive, key: string, name: string): RegData | null {
  const nk = h.lookup(key);
  const vk = nk === undefined ? undefined : h.findValue(nk, name);
  if (vk === undefined) return null;
  return { type: h.valueType(vk), data: Buffer.from(h.valueData(vk)).toString('hex') };
}

/**
 * The descriptor `sc sdset` would leave: DACL (and its P/AI/AR flags) from `dacl` (SDDL or a
 * decoded descriptor), owner, group and SACL (with its flags) from `current` when it is a readable
 * descriptor, else from `fallback` (the SCM defaults for services).
 */
export function resetDacl(
  current: Uint8Array | undefined,
  dacl: string | SecurityDescriptor,
  fallback: SecurityDescriptor = parseSddl(SCM_DEFAULT_OWNER_GROUP_SACL),
): Uint8Array {
  const want = typeof dacl === 'string' ? parseSddl(dacl) : dacl;
  let base: SecurityDescriptor | undefined;
  if (current) {
    try {
      base = decodeSecurityDescriptor(current);
    } catch {
      base = undefined;
    }
  }
  const daclBits = SE.DACL_PRESENT | SE.DACL_DEFAULTED | SE.DACL_PROTECTED | SE.DACL_AUTO_INHERITED | SE.DACL_AUTO_INHERIT_REQ;
  const src = base ?? fallback;
  const sd: SecurityDescriptor = {
    control: (src.control & ~daclBits & ~SE.OWNER_DEFAULTED & ~SE.GROUP_DEFAULTED) | (want.control & daclBits),
    owner: base?.owner ?? fallback.owner,
    group: base?.group ?? fallback.group,
    dacl: want.dacl,
    sacl: src.sacl,
  };
  return encodeSecurityDescriptor(sd);
}

/**
 * Parameters\\ServiceDll of the shared-process update services pointed back at Windows' own DLL
 * (REG_EXPAND_SZ, as Windows writes it), when it points elsewhere and that DLL is on the volume (a
 * disabler that also renamed the DLL itself leaves nothing to point at: not planned, the finding stays).
 */
function serviceDllSteps(system: Hive, hiveRel: string, cs: string, scan: PlanContext['scan'], volume: PlanContext['volume']): PlanStep[] {
  const steps: PlanStep[] = [];
  for (const s of readServices(system, Object.keys(SERVICE_DLLS), cs)) {
    if (!s.exists || s.serviceDll === undefined || serviceDllOk(s.name, s.serviceDll)) continue;
    const key = `${s.keyPath}\\Parameters`;
    const old = rawValue(system, key, 'ServiceDll');
    if (!old) continue; // the value is at the service key itself (pre-Vista layouts): not rewritten
    const want = SERVICE_DLLS[s.name.toLowerCase()]!;
    const file = `Windows\\System32\\${want.split('\\').pop()!}`;
    if (volume.kind(file) !== 'file') continue;
    const finding = scan.findings.find(
      (f: PlanContext['scan']['findings'][number]) => f.id === 'wu-service-dll' && f.subject?.toLowerCase() === s.name.toLowerCase(),
    );
    steps.push({
      repair: 'services',
      reason: finding ? `wu-service-dll (${s.name}, ${cs})` : `${s.name} loads ${s.serviceDll} (${cs})`,
      change: {
        kind: 'reg-set',
        hive: hiveRel,
        key,
        name: 'ServiceDll',
        value: { type: REG.EXPAND_SZ, data: Buffer.from(`${want}\0`, 'utf16le').toString('hex') },
        old,
      },
      note: `${s.serviceDll} -> ${want} (${file} is on the volume)`,
    });
  }
  return steps;
}

/**
 * Service descriptors written back to Windows' default DACL (owner, group and SACL kept, as `sc
 * sdset` keeps them): every LOCKABLE service whose descriptor locks it (wu-service-locked), and with
 * --reset-security bits and wuauserv whatever their descriptor.
 */
function securitySteps(system: Hive, hiveRel: string, cs: string, resetSecurity: boolean): PlanStep[] {
  const steps: PlanStep[] = [];
  for (const s of readServices(system, LOCKABLE_SERVICES, cs)) {
    if (!s.exists) continue;
    const forced = resetSecurity && (s.name === 'bits' || s.name === 'wuauserv');
    if (!s.lockedDown && !forced) continue;
    const key = `${s.keyPath}\\Security`;
    const old = rawValue(system, key, 'Security');
    const current = old ? new Uint8Array(Buffer.from(old.data, 'hex')) : undefined;
    const target = resetDacl(current, DEFAULT_SDDL[s.name as (typeof LOCKABLE_SERVICES)[number]]);
    const hex = Buffer.from(target).toString('hex');
    if (old && old.type === REG.BINARY && old.data === hex) continue;
    let before = 'absent';
    if (current) {
      try {
        before = securityDescriptorToSddl(current);
      } catch (e) {
        before = `unreadable (${(e as Error).message})`;
      }
    }
    steps.push({
      repair: 'services',
      reason: s.lockedDown ? `wu-service-locked (${s.name}, ${cs})` : `--reset-security (${s.name}, ${cs})`,
      change: { kind: 'reg-set', hive: hiveRel, key, name: 'Security', value: { type: REG.BINARY, data: hex }, old },
      note: `DACL reset to Windows' default (sc sdset ${s.name}); was ${before}; now ${securityDescriptorToSddl(target)}`,
    });
  }
  return [...keySecuritySteps(system, hiveRel, cs), ...steps];
}

/**
 * A LOCKABLE service's registry key whose permissions lock SYSTEM out gets the DACL of the
 * descriptor most Services keys of this very hive share (usualServiceKeySecurity), its owner, group
 * and SACL kept; none planned when there is none to copy (the finding stays). Only the service's
 * own key: its subkeys keep their permissions.
 */
function keySecuritySteps(system: Hive, hiveRel: string, cs: string): PlanStep[] {
  const steps: PlanStep[] = [];
  const locked = readServices(system, LOCKABLE_SERVICES, cs).filter((s) => s.exists && s.keyLocked);
  const usual = locked.length ? usualServiceKeySecurity(system, `${cs}\\Services`) : undefined;
  if (!usual) return steps;
  for (const s of locked) {
    const nk = system.lookup(s.keyPath);
    const old = nk === undefined ? undefined : system.keySecurity(nk);
    if (!old) continue;
    const from = decodeSecurityDescriptor(usual);
    const sd = resetDacl(old, from, from); // an unreadable old descriptor: the usual one whole
    steps.push({
      repair: 'services',
      reason: `wu-service-key-locked (${s.name}, ${cs})`,
      change: { kind: 'reg-set-key-security', hive: hiveRel, key: s.keyPath, sd: Buffer.from(sd).toString('hex'), old: Buffer.from(old).toString('hex') },
      note: `key DACL back to the one the other service keys have (owner, group and audit kept); was ${s.keyLocked!.sddl}; now ${securityDescriptorToSddl(sd)}`,
    });
  }
  return steps;
}

export const services: Repair = {
  id: 'services',
  title: 'set disabled Windows Update services back to their default start type',
  fixes: ['wu-service-disabled', 'wu-service-dll', 'wu-service-locked', 'wu-service-key-locked'],
  uses: () => [SYSTEM_REL],
  async plan({ scan, options, volume }) {
    const hiveRel = volume.resolve(SYSTEM_REL);
    if (!hiveRel || scan.controlSets.length === 0) return [];
    const system = await volume.openHive(hiveRel);
    if (!system) return [];
    const build = scan.system.currentBuild ?? 0;
    const steps: PlanStep[] = [];
    for (const cs of scan.controlSets) {
      for (const s of readServices(system, REPAIRED_SERVICES, cs)) {
        if (!s.exists || s.start !== 4) continue;
        const t = targetStart(s.name, build);
        const finding = scan.findings.find((f) => f.id === 'wu-service-disabled' && f.subject === s.name);
        const reason = finding ? `wu-service-disabled (${s.name}, ${cs})` : `${s.name} is disabled (Start=4) in ${cs}`;
        steps.push({
          repair: 'services',
          reason,
          change: {
            kind: 'reg-set',
            hive: hiveRel,
            key: s.keyPath,
            name: 'Start',
            value: { type: REG.DWORD, data: dwordHex(t.start) },
            old: rawValue(system, s.keyPath, 'Start'),
          },
          note: `Disabled -> ${startText(t.start, t.delayed)}; ${t.source}`,
        });
        if (t.delayed && !s.delayedAutostart) {
          steps.push({
            repair: 'services',
            reason,
            change: {
              kind: 'reg-set',
              hive: hiveRel,
              key: s.keyPath,
              name: 'DelayedAutostart',
              value: { type: REG.DWORD, data: dwordHex(1) },
              old: rawValue(system, s.keyPath, 'DelayedAutostart'),
            },
            note: 'delayed automatic start, with Start=2',
          });
        }
      }
      steps.push(...serviceDllSteps(system, hiveRel, cs, scan, volume));
      steps.push(...securitySteps(system, hiveRel, cs, !!options.resetSecurity));
    }
    return steps;
  },
};
