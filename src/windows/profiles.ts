// The user hives of an offline Windows: .DEFAULT (LocalSystem), systemprofile, LocalService,
// NetworkService and every ProfileList user (windows-update.md §1 "Hives to normalise").
// Pure but for the path lookup (src/windows/paths.ts).
import path from 'node:path';
import { Hive } from '../hive/hive.js';
import { expandWindowsPath, relativeToSystemDrive, resolveCaseInsensitive, type DirCache } from './paths.js';
import { regString } from '../hive/query.js';

export const PROFILE_LIST_KEY = 'Microsoft\\Windows NT\\CurrentVersion\\ProfileList';

export type HiveKind = 'default' | 'system' | 'localservice' | 'networkservice' | 'user';

export interface UserHive {
  /** '.DEFAULT' for the DEFAULT hive, else the ProfileList SID (a ".bak" suffix kept as stored). */
  sid: string;
  account: string;
  kind: HiveKind;
  /** Host path of the hive file (case resolved when it exists); undefined when on another drive. */
  hivePath?: string;
  /** Windows path of the profile folder (expanded), or of System32\config for DEFAULT. */
  profilePath: string;
  /** The hive file exists under `root`. */
  exists: boolean;
  /** ProfileImagePath as stored (REG_EXPAND_SZ, unexpanded); undefined for DEFAULT / defaults. */
  profileImagePath?: string;
}

const WELL_KNOWN: Record<string, { kind: HiveKind; account: string; dflt: string }> = {
  'S-1-5-18': { kind: 'system', account: 'SYSTEM', dflt: '%SystemRoot%\\System32\\config\\systemprofile' },
  'S-1-5-19': { kind: 'localservice', account: 'LOCAL SERVICE', dflt: '%SystemRoot%\\ServiceProfiles\\LocalService' },
  'S-1-5-20': { kind: 'networkservice', account: 'NETWORK SERVICE', dflt: '%SystemRoot%\\ServiceProfiles\\NetworkService' },
};

function lastComponent(winPath: string): string {
  const parts = winPath.split(/[\\/]+/).filter((c) => c !== '');
  return parts[parts.length - 1] ?? winPath;
}

/**
 * Every user hive an offline installation has, for the WinTrust State check and repair.
 * `root` is the mounted system volume (a host path). `resolve` is injectable for tests.
 */
export function userHives(software: Hive, root: string, resolve?: (root: string, winPath: string) => string | undefined): UserHive[] {
  const cache: DirCache = new Map();
  resolve ??= (r, w) => resolveCaseInsensitive(r, w, cache);
  const systemRoot = regString(software, 'Microsoft\\Windows NT\\CurrentVersion', 'SystemRoot') || 'C:\\Windows';
  const systemDrive = /^[A-Za-z]:/.test(systemRoot) ? systemRoot.slice(0, 2) : 'C:';
  const out: UserHive[] = [];
  const seen = new Set<string>();

  const add = (sid: string, account: string, kind: HiveKind, profileWin: string, hiveWin: string, stored?: string) => {
    const rel = relativeToSystemDrive(hiveWin, systemDrive);
    const resolved = rel === undefined ? undefined : resolve(root, rel);
    const hivePath = rel === undefined ? undefined : (resolved ?? path.join(root, ...rel.split('\\')));
    const dedupe = (hivePath ?? `${sid}|${hiveWin}`).toLowerCase();
    if (seen.has(dedupe)) return;
    seen.add(dedupe);
    out.push({ sid, account, kind, hivePath, profilePath: profileWin, exists: resolved !== undefined, profileImagePath: stored });
  };

  const configDir = `${systemRoot}\\System32\\config`;
  add('.DEFAULT', 'LocalSystem (.DEFAULT)', 'default', configDir, `${configDir}\\DEFAULT`);

  const list = software.lookup(PROFILE_LIST_KEY);
  const entries = new Map<string, { stored?: string; expanded?: string }>();
  if (list !== undefined) {
    for (const nk of software.subkeys(list)) {
      const sid = software.keyName(nk);
      const stored = regString(software, nk, 'ProfileImagePath');
      entries.set(sid, { stored, expanded: stored === undefined || stored === '' ? undefined : expandWindowsPath(stored, systemRoot) });
    }
  }
  // The three service accounts first, from ProfileList when present, else their standard folders.
  for (const [sid, wk] of Object.entries(WELL_KNOWN)) {
    const e = entries.get(sid);
    const profile = e?.expanded ?? expandWindowsPath(wk.dflt, systemRoot);
    add(sid, wk.account, wk.kind, profile, `${profile}\\NTUSER.DAT`, e?.stored);
  }
  // Live entries before their ".bak" twins (a temp-profile leftover pointing at the same folder).
  const users = [...entries].sort((a, b) => Number(/\.bak$/i.test(a[0])) - Number(/\.bak$/i.test(b[0])));
  for (const [sid, e] of users) {
    if (WELL_KNOWN[sid] || e.expanded === undefined) continue;
    add(sid, lastComponent(e.expanded), 'user', e.expanded, `${e.expanded}\\NTUSER.DAT`, e.stored);
  }
  return out;
}
