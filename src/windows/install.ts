// Finding offline Windows installations: a volume root holds Windows\System32\config\SYSTEM.
// Paths inside an NTFS volume mounted on Linux keep their case, so lookups are case-insensitive.
import { lstatSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { resolveCI } from './paths.js';
import { SYSTEM_HIVE } from './locations.js';

export interface VolumeSpace {
  sizeBytes: number;
  freeBytes: number;
}

export function volumeSpace(root: string): VolumeSpace | undefined {
  try {
    const s = statfsSync(root);
    return { sizeBytes: s.bsize * s.blocks, freeBytes: s.bsize * s.bavail };
  } catch {
    return undefined;
  }
}

/**
 * Whether `root` is the top of a volume (a mount point, or a drive root on Windows): only then is
 * its free space the Windows volume's. A folder copied out of an image sits on the host's disk.
 */
export function isVolumeRoot(root: string): boolean {
  const abs = path.resolve(root);
  const parent = path.dirname(abs);
  if (parent === abs) return true;
  try {
    return lstatSync(abs).dev !== lstatSync(parent).dev;
  } catch {
    return false;
  }
}

/**
 * The host path of <root>\Windows when the volume holds an offline Windows, else undefined. SYSTEM
 * (or the config folder) may be a link or special file: the volume is still a Windows one, and the
 * scan reports what stands there instead of following it.
 */
export function windowsDirOf(root: string): string | undefined {
  const config = resolveCI(root, 'Windows\\System32\\config');
  if (!config) return undefined;
  try {
    const st = lstatSync(config);
    if (st.isDirectory() && !resolveCI(root, SYSTEM_HIVE)) return undefined;
  } catch {
    return undefined;
  }
  return path.dirname(path.dirname(config));
}

/** Drive letters to probe on Windows/WinPE; X: (the WinPE RAM disk) only when asked. */
export function driveLetters(includeX: boolean): string[] {
  const out: string[] = [];
  for (let c = 65; c <= 90; c++) {
    const l = String.fromCharCode(c);
    if (l === 'X' && !includeX) continue;
    out.push(`${l}:\\`);
  }
  return out;
}
