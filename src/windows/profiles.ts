// The user hives of an offline Windows: .DEFAULT (LocalSystem), systemprofile, LocalService,
// NetworkService and every ProfileList user (windows-update.md §1 "Hives to normalise").
// Pure except resolveCaseInsensitive, the one function here that reads directories.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { Hive } from '../hive/hive.js';
import { upcase } from '../hive/names.js';
import { describeNode, noteUnsafe } from '../shared/safefs.js';
import { regString } from './version.js';

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

/** Expand %SystemRoot%, %windir%, %SystemDrive% (case-insensitive); other variables are left as they are. */
export function expandWindowsPath(p: string, systemRoot = 'C:\\Windows'): string {
  const drive = /^[A-Za-z]:/.test(systemRoot) ? systemRoot.slice(0, 2) : 'C:';
  return p.replace(/%(SystemRoot|windir|SystemDrive)%/gi, (_m, v: string) =>
    v.toLowerCase() === 'systemdrive' ? drive : systemRoot,
  );
}

/**
 * A Windows path to a path relative to the system volume root ("Users\x\NTUSER.DAT"), or undefined
 * when it names another drive or a UNC share. Paths without a drive are taken as on the system drive.
 */
export function relativeToSystemDrive(winPath: string, systemDrive = 'C:'): string | undefined {
  let p = winPath.replace(/\//g, '\\');
  if (p.startsWith('\\\\?\\') || p.startsWith('\\??\\')) p = p.slice(4);
  if (p.startsWith('\\\\')) return undefined;
  const m = /^([A-Za-z]):/.exec(p);
  if (m) {
    if (m[1]!.toUpperCase() !== systemDrive[0]!.toUpperCase()) return undefined;
    p = p.slice(2);
  }
  return p.replace(/^\\+/, '').replace(/\\+$/, '');
}

/** Directory listings for a batch of lookups: upcased name -> names as stored (sorted). */
export type DirCache = Map<string, Map<string, string[]> | null>;

function listing(dir: string, cache: DirCache | undefined): Map<string, string[]> | null {
  const hit = cache?.get(dir);
  if (hit !== undefined) return hit;
  let m: Map<string, string[]> | null = null;
  try {
    m = new Map();
    for (const e of readdirSync(dir).sort()) {
      const k = upcase(e);
      const l = m.get(k);
      if (l) l.push(e);
      else m.set(k, [e]);
    }
  } catch {
    m = null;
  }
  cache?.set(dir, m);
  return m;
}

function lstatMaybe(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Find `winPath` (relative to `root`, backslash or slash separated; a leading drive is dropped) on a
 * case-sensitive filesystem, matching each component case-insensitively (Windows collation).
 * Returns the host path, or undefined when some component does not exist. Nothing is followed: a
 * folder on the way that is a symbolic link, junction or special file ends the lookup (undefined)
 * and is noted as evidence (src/shared/safefs.ts noteUnsafe); the last component is returned as it
 * is (lstat), and every reader or writer checks it again through the confined layer. `cache` keeps
 * directory listings for a batch of lookups (thousands of ProfileList entries: linear, not quadratic).
 */
export function resolveCaseInsensitive(root: string, winPath: string, cache?: DirCache): string | undefined {
  const parts = winPath
    .replace(/^[A-Za-z]:/, '')
    .split(/[\\/]+/)
    .filter((c) => c !== '' && c !== '.');
  let cur = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '..' || part.includes('\0')) return undefined;
    let found: string | undefined = path.join(cur, part);
    let st = lstatMaybe(found);
    if (!st) {
      const names = listing(cur, cache)?.get(upcase(part));
      found = names ? path.join(cur, names[0]!) : undefined;
      st = found === undefined ? undefined : lstatMaybe(found);
    }
    if (found === undefined || !st) return undefined;
    if (i < parts.length - 1 && !st.isDirectory()) {
      if (!st.isFile()) noteUnsafe(found, describeNode(st, found));
      return undefined;
    }
    cur = found;
  }
  return cur;
}

function lastComponent(winPath: string): string {
  const parts = winPath.split(/[\\/]+/).filter((c) => c !== '');
  return parts[parts.length - 1] ?? winPath;
}

/**
 * Every user hive an offline installation has, for the WinTrust State check and repair.
 * `root` is the mounted system volume (a host path). `resolve` is injectable for tests.
 */
export function userHives(
  software: Hive,
  root: string,
  resolve?: (root: string, winPath: string) => string | undefined,
): UserHive[] {
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
