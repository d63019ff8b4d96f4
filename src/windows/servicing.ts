// Pending servicing state of an offline Windows (windows-update.md §4): CBS reboot markers, pending
// sessions (by content, not existence), WU reboot markers, CBS package states and the COMPONENTS
// hive's queued-transaction values. Whether Windows\WinSxS\pending.xml exists is the caller's check.
import { Hive } from '../hive/hive.js';
import { keyAt, regDword, regRaw, utf16le } from '../hive/query.js';

export const CBS_KEY = 'Microsoft\\Windows\\CurrentVersion\\Component Based Servicing';
export const WU_AU_KEY = 'Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update';

import { CBS_STATES } from '../formats/evtx-events.js';
export { CBS_STATES };
/** States that mean a transaction has not finished. */
export const PENDING_STATES = new Set([0x5, 0x60, 0x65]);

export function cbsStateName(state: number): string {
  return CBS_STATES[state] ?? `Unknown (0x${(state >>> 0).toString(16)})`;
}

export interface SessionsPending {
  exists: boolean;
  exclusive?: number;
  totalSessionPhases?: number;
  /** Subkeys (sessions) without Complete = 1. */
  incompleteSessions: string[];
  /** Exclusive != 0, TotalSessionPhases > 0 or an incomplete session. */
  pending: boolean;
}

export interface ServicingMarkers {
  rebootPending: boolean;
  rebootInProgress: boolean;
  /** PackagesPending entries (value names and subkey names); empty = nothing pending. */
  packagesPending: string[];
  sessionsPending: SessionsPending;
  /** WU `Auto Update\RebootRequired` key present; `rebootRequiredUpdates` = its value names (update ids). */
  wuRebootRequired: boolean;
  rebootRequiredUpdates: string[];
  wuPostRebootReporting: boolean;
  /** Any of the above says a reboot/transaction is pending. */
  anyPending: boolean;
}

function names(h: Hive, nk: number): string[] {
  return [...h.values(nk).map((v) => h.valueName(v)), ...h.subkeys(nk).map((k) => h.keyName(k))];
}

export function readSessionsPending(software: Hive): SessionsPending {
  const nk = keyAt(software, `${CBS_KEY}\\SessionsPending`);
  if (nk === undefined) return { exists: false, incompleteSessions: [], pending: false };
  const exclusive = regDword(software, nk, 'Exclusive');
  const totalSessionPhases = regDword(software, nk, 'TotalSessionPhases');
  const incompleteSessions = software
    .subkeys(nk)
    .filter((k) => regDword(software, k, 'Complete') !== 1)
    .map((k) => software.keyName(k));
  return {
    exists: true,
    exclusive,
    totalSessionPhases,
    incompleteSessions,
    pending: (exclusive ?? 0) !== 0 || (totalSessionPhases ?? 0) > 0 || incompleteSessions.length > 0,
  };
}

export function readServicingMarkers(software: Hive): ServicingMarkers {
  const has = (p: string) => keyAt(software, p) !== undefined;
  const pp = keyAt(software, `${CBS_KEY}\\PackagesPending`);
  const rr = keyAt(software, `${WU_AU_KEY}\\RebootRequired`);
  const m: ServicingMarkers = {
    rebootPending: has(`${CBS_KEY}\\RebootPending`),
    rebootInProgress: has(`${CBS_KEY}\\RebootInProgress`),
    packagesPending: pp === undefined ? [] : names(software, pp),
    sessionsPending: readSessionsPending(software),
    wuRebootRequired: rr !== undefined,
    rebootRequiredUpdates: rr === undefined ? [] : software.values(rr).map((v) => software.valueName(v)),
    wuPostRebootReporting: has(`${WU_AU_KEY}\\PostRebootReporting`),
    anyPending: false,
  };
  m.anyPending =
    m.rebootPending || m.rebootInProgress || m.packagesPending.length > 0 || m.sessionsPending.pending || m.wuRebootRequired || m.wuPostRebootReporting;
  return m;
}

export interface CbsPackage {
  name: string;
  state?: number;
  stateName: string;
  /** "KB4056894" when the package name carries a KB number. */
  kb?: string;
  lastError?: number;
}

export interface CbsSummary {
  total: number;
  /** Count per state name ("Installed": 812, ...). */
  counts: Record<string, number>;
  /** Packages in Uninstall Pending / Install Pending / Partially Installed. */
  pending: CbsPackage[];
}

export function kbOf(packageName: string): string | undefined {
  const m = /KB(\d{6,8})/i.exec(packageName);
  return m ? `KB${m[1]}` : undefined;
}

/** Every CBS package with its CurrentState (`...\Component Based Servicing\Packages\<pkg>`). */
export function readCbsPackages(software: Hive): CbsPackage[] {
  const nk = keyAt(software, `${CBS_KEY}\\Packages`);
  if (nk === undefined) return [];
  return software.subkeys(nk).map((k) => {
    const name = software.keyName(k);
    const state = regDword(software, k, 'CurrentState');
    return {
      name,
      state,
      stateName: state === undefined ? 'No CurrentState' : cbsStateName(state),
      kb: kbOf(name),
      lastError: regDword(software, k, 'LastError'),
    };
  });
}

export function summarizeCbsPackages(software: Hive): CbsSummary {
  const all = readCbsPackages(software);
  const counts: Record<string, number> = {};
  for (const p of all) counts[p.stateName] = (counts[p.stateName] ?? 0) + 1;
  return { total: all.length, counts, pending: all.filter((p) => p.state !== undefined && PENDING_STATES.has(p.state)) };
}

export interface ComponentsValue {
  type: number;
  /** Data as hex. */
  hex: string;
  /** UTF-16 text when the data looks like a string, a number for 4/8-byte values. */
  text?: string;
  number?: number;
}

/**
 * The values at the root of COMPONENTS that record an interrupted component transaction: the six
 * Azure's pending-servicing script clears (Azure/repair-script-library
 * src/windows/win-fix-pending-servicing.ps1, $PendingComponentValue). Order = the script's.
 */
export const COMPONENTS_TRANSACTION_VALUES = [
  'ExecutionState',
  'PendingXmlIdentifier',
  'NextQueueEntryIndex',
  'NextQueueEntryIndexBCDB',
  'AdvancedInstallersNeedResolving',
  'StoreDirty',
] as const;
export type ComponentsTransactionValue = (typeof COMPONENTS_TRANSACTION_VALUES)[number];

/**
 * Whether a COMPONENTS value is evidence of an unfinished transaction, by the script's rule
 * (Test-PendingComponentValue): absent, 0 or empty is a settled store. A number (REG_DWORD /
 * REG_QWORD) counts when not 0, a string when not blank, any other data when not empty.
 */
export function componentsValueSet(type: number, data: Uint8Array): boolean {
  if (type === 4 || type === 5 || type === 11) return data.some((b) => b !== 0);
  if (type === 1 || type === 2 || type === 7)
    return (
      utf16le(data)
        .replace(/\u0000/g, '')
        .trim() !== ''
    );
  return data.length > 0;
}

export interface ComponentsPending {
  /** Each transaction value that is set (componentsValueSet), by name. */
  values: Partial<Record<ComponentsTransactionValue, ComponentsValue>>;
  /** Any of them set (a queued CSI transaction, with or without pending.xml). */
  pending: boolean;
}

function describeValue(type: number, data: Uint8Array): ComponentsValue {
  const v: ComponentsValue = { type, hex: Buffer.from(data).toString('hex') };
  if (data.length === 4 || data.length === 8) {
    const dv = new DataView(data.buffer, data.byteOffset, data.length);
    v.number = data.length === 4 ? dv.getUint32(0, true) : Number(dv.getBigUint64(0, true));
  }
  if (data.length >= 4 && data.length % 2 === 0) {
    const s = utf16le(data).replace(/\u0000+$/, '');
    if (s.length > 0 && /^[\x20-\x7e]+$/.test(s)) v.text = s;
  }
  return v;
}

/** The transaction values at the root of the COMPONENTS hive that are set (componentsValueSet). */
export function componentsPending(components: Hive): ComponentsPending {
  const values: ComponentsPending['values'] = {};
  for (const name of COMPONENTS_TRANSACTION_VALUES) {
    const r = regRaw(components, components.rootCell, name);
    if (r && componentsValueSet(r.type, r.data)) values[name] = describeValue(r.type, r.data);
  }
  return { values, pending: Object.keys(values).length > 0 };
}
