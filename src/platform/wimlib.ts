// wimlib's `wimextract` (Debian: wimtools): files out of one image of a WIM or ESD (install.wim,
// install.esd of the install media) into a folder of wufix's own, without ACLs, matched without
// regard to case (WIMLIB_IMAGEX_IGNORE_CASE=1: Windows paths are case-insensitive, wimlib's are not
// by default). Members that are not in the image are left out (--nullglob); the caller checks
// what arrived.
import { spawnSync } from 'node:child_process';
import { RefusedError } from '../shared/errors.js';
import { requireTools } from './linux.js';

/** The longest an extraction is given (a 600 MB Winre.wim out of an LZX or LZMS image takes seconds). */
const EXTRACT_MS = 20 * 60_000;

/** Extract `members` (absolute paths inside the image, "/" separated) of image `index` of `wim` flat into `destDir`. */
export function wimExtract(wim: string, index: number, members: string[], destDir: string): void {
  requireTools('extracting Winre.wim from the install media', ['wimextract']);
  const r = spawnSync('wimextract', [wim, String(index), ...members, `--dest-dir=${destDir}`, '--no-acls', '--nullglob'], {
    encoding: 'utf8',
    env: { ...process.env, WIMLIB_IMAGEX_IGNORE_CASE: '1', LC_ALL: 'C' },
    timeout: EXTRACT_MS,
    maxBuffer: 1 << 22,
  });
  if (r.error || r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.status}`;
    throw new RefusedError(`wimextract could not read image ${index} of ${wim}: ${why}`, 'winre-source-bad');
  }
}

/**
 * The names directly under `dir` (e.g. /Windows/WinSxS) in image `index` of `wim` (`wimdir`), or
 * undefined when wimlib is not there or cannot list it. Bounded: at most 400,000 names.
 */
export function wimDirNames(wim: string, index: number, dir: string): string[] | undefined {
  const r = spawnSync('wimdir', [wim, String(index), `--path=${dir}`], {
    encoding: 'utf8',
    env: { ...process.env, WIMLIB_IMAGEX_IGNORE_CASE: '1', LC_ALL: 'C' },
    timeout: 5 * 60_000,
    maxBuffer: 1 << 27,
  });
  if (r.error || r.status !== 0) return undefined;
  const prefix = dir.replace(/\/+$/, '').toLowerCase() + '/';
  const names = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    if (!line.toLowerCase().startsWith(prefix)) continue;
    const name = line.slice(prefix.length).split('/')[0];
    if (name) names.add(name);
    if (names.size >= 400_000) break;
  }
  return [...names];
}
