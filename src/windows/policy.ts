// Windows Update policy (WSUS / AU, windows-update.md §6) and the QualityCompat value (§5).
import { Hive } from '../hive/hive.js';
import { keyAt, regDword, regRaw, regString } from '../hive/query.js';

export const WU_POLICY_KEY = 'Policies\\Microsoft\\Windows\\WindowsUpdate';
export const AU_POLICY_KEY = 'Policies\\Microsoft\\Windows\\WindowsUpdate\\AU';

export interface WuPolicy {
  /** The policy key exists at all. */
  present: boolean;
  wuServer?: string;
  wuStatusServer?: string;
  targetGroup?: string;
  targetGroupEnabled?: number;
  elevateNonAdmins?: number;
  disableWindowsUpdateAccess?: number;
  acceptTrustedPublisherCerts?: number;
  useWuServer?: number;
  noAutoUpdate?: number;
  /** 2 notify, 3 auto download + notify, 4 auto + schedule, 5 local admin chooses. */
  auOptions?: number;
  scheduledInstallDay?: number;
  scheduledInstallTime?: number;
  /** UseWUServer = 1 and a WUServer URL: updates come from WSUS. */
  usesWsus: boolean;
}

export function readWuPolicy(software: Hive): WuPolicy {
  const wu = keyAt(software, WU_POLICY_KEY);
  const au = keyAt(software, AU_POLICY_KEY);
  const s = (nk: number | undefined, n: string) => (nk === undefined ? undefined : regString(software, nk, n));
  const d = (nk: number | undefined, n: string) => (nk === undefined ? undefined : regDword(software, nk, n));
  const p: WuPolicy = {
    present: wu !== undefined,
    wuServer: s(wu, 'WUServer'),
    wuStatusServer: s(wu, 'WUStatusServer'),
    targetGroup: s(wu, 'TargetGroup'),
    targetGroupEnabled: d(wu, 'TargetGroupEnabled'),
    elevateNonAdmins: d(wu, 'ElevateNonAdmins'),
    disableWindowsUpdateAccess: d(wu, 'DisableWindowsUpdateAccess'),
    acceptTrustedPublisherCerts: d(wu, 'AcceptTrustedPublisherCerts'),
    useWuServer: d(au, 'UseWUServer'),
    noAutoUpdate: d(au, 'NoAutoUpdate'),
    auOptions: d(au, 'AUOptions'),
    scheduledInstallDay: d(au, 'ScheduledInstallDay'),
    scheduledInstallTime: d(au, 'ScheduledInstallTime'),
    usesWsus: false,
  };
  p.usesWsus = p.useWuServer === 1 && !!p.wuServer;
  return p;
}

// ---------------------------------------------------------------------------------------------
// The WSUS client identity and the WSUS policy values that cannot work (issue #19 item 1)

/** Where the Windows Update agent keeps its WSUS client identity (SOFTWARE). */
export const WU_CLIENT_KEY = 'Microsoft\\Windows\\CurrentVersion\\WindowsUpdate';

/**
 * The values that identify this machine to a WSUS server. Microsoft's WSUS 3.0 client guide ("Special
 * considerations for client computers set up by using an image", technet dd939898) says to delete
 * SusClientId and SusClientIDValidation (wuauserv stopped) so a cloned client registers anew; the
 * "Reset WSUS authorization" scripts Microsoft's script center carried also delete PingID and
 * AccountDomainSid, which the agent writes again on its next contact.
 */
export const WSUS_IDENTITY_VALUES = ['SusClientId', 'SusClientIDValidation', 'PingID', 'AccountDomainSid'] as const;

export interface WsusClientIdentity {
  /** The GUID as stored (braces and case as found), when it is a REG_SZ. */
  susClientId?: string;
  /** The identity values present, by name as stored. */
  present: string[];
}

const MAX_ID = 128;

export function readWsusClient(software: Hive): WsusClientIdentity {
  const nk = keyAt(software, WU_CLIENT_KEY);
  const present: string[] = [];
  if (nk === undefined) return { present };
  for (const n of WSUS_IDENTITY_VALUES) if (software.findValue(nk, n) !== undefined) present.push(n);
  const id = regString(software, nk, 'SusClientId');
  return { present, susClientId: id === undefined ? undefined : id.slice(0, MAX_ID) };
}

/** A SusClientId in one form for comparing across images: lower case, no braces; undefined when not a GUID. */
export function normalClientId(id: string | undefined): string | undefined {
  const m = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i.exec((id ?? '').trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * Whether a WUServer / WUStatusServer value can name a server at all: http:// or https://, then a
 * host (a name, an IPv4 or a bracketed IPv6 address), an optional port and path, nothing blank. A
 * well-formed URL is never judged here (a server out of reach is the logs' business).
 */
export function isServerUrl(s: string | undefined): boolean {
  if (s === undefined || s.length > 2048) return false;
  if (!/^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/i.test(s)) return false;
  try {
    const u = new URL(s);
    if (u.username || u.password) return false;
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}

/** The WSUS server policy values --wsus-reset-policy removes (key, name), in plan order. */
export const WSUS_SERVER_VALUES: readonly { key: string; name: BrokenWsusValue['name'] }[] = [
  { key: WU_POLICY_KEY, name: 'WUServer' },
  { key: WU_POLICY_KEY, name: 'WUStatusServer' },
  { key: WU_POLICY_KEY, name: 'TargetGroup' },
  { key: WU_POLICY_KEY, name: 'TargetGroupEnabled' },
  { key: AU_POLICY_KEY, name: 'UseWUServer' },
];

/** One WSUS policy value that cannot work, with why. */
export interface BrokenWsusValue {
  /** WU_POLICY_KEY or AU_POLICY_KEY. */
  key: string;
  name: 'WUServer' | 'WUStatusServer' | 'UseWUServer' | 'TargetGroup' | 'TargetGroupEnabled';
  /** The value as read (strings escaped by the caller where shown). */
  data: string;
  why: string;
}

const shown = (s: string) => (s.length > 64 ? `${s.slice(0, 64)}...` : s);

/**
 * The WSUS policy values that cannot work, in the order a plan removes them. Only these, never a
 * well-formed server URL:
 * - WUServer that is not an http(s) URL (with it UseWUServer, which would then point at nothing);
 * - UseWUServer=1 without any WUServer (0x80244011-style "no server" failures);
 * - WUStatusServer that is not a URL, or left without a usable WUServer;
 * - TargetGroup / TargetGroupEnabled left without a usable WUServer (client-side targeting needs one).
 */
export function brokenWsusValues(p: Pick<WuPolicy, 'wuServer' | 'wuStatusServer' | 'useWuServer' | 'targetGroup' | 'targetGroupEnabled'>): BrokenWsusValue[] {
  const out: BrokenWsusValue[] = [];
  const serverOk = isServerUrl(p.wuServer);
  if (p.wuServer !== undefined && !serverOk)
    out.push({ key: WU_POLICY_KEY, name: 'WUServer', data: shown(p.wuServer), why: 'not an http:// or https:// server URL' });
  if (p.wuStatusServer !== undefined && !isServerUrl(p.wuStatusServer))
    out.push({ key: WU_POLICY_KEY, name: 'WUStatusServer', data: shown(p.wuStatusServer), why: 'not an http:// or https:// server URL' });
  else if (p.wuStatusServer !== undefined && !serverOk)
    out.push({ key: WU_POLICY_KEY, name: 'WUStatusServer', data: shown(p.wuStatusServer), why: 'a status server without a usable WUServer' });
  if (!serverOk && p.targetGroup !== undefined)
    out.push({ key: WU_POLICY_KEY, name: 'TargetGroup', data: shown(p.targetGroup), why: 'a target group without a usable WUServer' });
  if (!serverOk && p.targetGroupEnabled !== undefined)
    out.push({ key: WU_POLICY_KEY, name: 'TargetGroupEnabled', data: String(p.targetGroupEnabled), why: 'client-side targeting without a usable WUServer' });
  if (!serverOk && p.useWuServer === 1)
    out.push({
      key: AU_POLICY_KEY,
      name: 'UseWUServer',
      data: '1',
      why: p.wuServer === undefined ? 'WSUS use without a WUServer' : 'WSUS use with a WUServer that is not a URL',
    });
  return out;
}

export const AU_OPTIONS: Record<number, string> = {
  2: 'Notify for download and install',
  3: 'Auto download and notify for install',
  4: 'Auto download and schedule the install',
  5: 'Allow local admin to choose setting',
};

// ---------------------------------------------------------------------------------------------
// QualityCompat (windows-update.md §5)

export const QUALITYCOMPAT_KEY = 'Microsoft\\Windows\\CurrentVersion\\QualityCompat';
export const QUALITYCOMPAT_VALUE = 'cadca5fe-87d3-4b96-b7fb-a231484277cc';

export interface QualityCompat {
  present: boolean;
  type?: number;
  /** The DWORD (0 is what AV vendors write); undefined when absent or not a DWORD. */
  value?: number;
}

export function readQualityCompat(software: Hive): QualityCompat {
  const r = regRaw(software, QUALITYCOMPAT_KEY, QUALITYCOMPAT_VALUE);
  if (!r) return { present: false };
  return { present: true, type: r.type, value: regDword(software, QUALITYCOMPAT_KEY, QUALITYCOMPAT_VALUE) };
}

/**
 * The March 13, 2018 ("2018-03 B") cumulative update of each Windows 10 release before 1803; from
 * that UBR on, WU no longer required the QualityCompat value. Sources: Tenable smb_check_rollup.nasl
 * rollup table, March 2018 entry (10240.17797 KB4088786, 10586.1478 KB4088779, 14393.2125
 * KB4088787, 15063.966 KB4088782, 16299.309 KB4088776); 14393.2125 = KB4088787 of 2018-03-13 also in
 * Microsoft's "Windows Server release information" history table. 1803 (17134) and later shipped
 * after the check was dropped.
 */
export const MARCH_2018_CU_UBR: Readonly<Record<number, { ubr: number; kb: string; release: string }>> = {
  10240: { ubr: 17797, kb: 'KB4088786', release: '1507' },
  10586: { ubr: 1478, kb: 'KB4088779', release: '1511' },
  14393: { ubr: 2125, kb: 'KB4088787', release: '1607' },
  15063: { ubr: 966, kb: 'KB4088782', release: '1703' },
  16299: { ubr: 309, kb: 'KB4088776', release: '1709' },
};

/**
 * Whether WU may still withhold updates without QualityCompat on this build: Windows 7 / 8.1 /
 * 2008 R2 / 2012 that have not installed the April 2018 rollup (KB4093118 / KB4093114 and their
 * successors; pass `hasApril2018Update` when the caller knows, else it is assumed missing), and the
 * Windows 10 releases 1507-1709 below the March 2018 cumulative update. Never for 1803 and later.
 */
export function qualityCompatApplies(version: { currentBuild: number; ubr?: number }, opts: { hasApril2018Update?: boolean } = {}): boolean {
  const b = version.currentBuild;
  if (b <= 0) return false;
  if (b < 10240) return b >= 7600 && !opts.hasApril2018Update;
  const cut = MARCH_2018_CU_UBR[b];
  if (!cut) return false;
  return (version.ubr ?? 0) < cut.ubr;
}
