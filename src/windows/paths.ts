// Windows paths on a host file system: %SystemRoot% expansion, drive-relative paths, and the
// case-insensitive lookup Windows does (an NTFS volume mounted on Linux keeps case). The lookup is
// the one function here that reads directories; it never enters a linked or special folder.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { upcase } from '../hive/names.js';
import { describeNode, noteUnsafe } from '../shared/safefs.js';

/** Expand %SystemRoot%, %windir%, %SystemDrive% (case-insensitive); other variables are left as they are. */
export function expandWindowsPath(p: string, systemRoot = 'C:\\Windows'): string {
  const drive = /^[A-Za-z]:/.test(systemRoot) ? systemRoot.slice(0, 2) : 'C:';
  return p.replace(/%(SystemRoot|windir|SystemDrive)%/gi, (_m, v: string) => (v.toLowerCase() === 'systemdrive' ? drive : systemRoot));
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

/** Short name for resolveCaseInsensitive, as the repairs and the scan call it. */
export const resolveCI = resolveCaseInsensitive;
