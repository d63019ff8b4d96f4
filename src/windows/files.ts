// File-level facts of an offline Windows: update caches, the BITS queue, pending.xml, the staged
// WinRE image. Sizes are summed without reading file contents.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { resolveCI } from './paths.js';
import { describeNode, noteUnsafe } from '../shared/safefs.js';
import type { CacheInfo } from '../model/scan.js';

/** Total size and file count below a directory (symlinks and junctions are not followed). */
export function treeSize(dir: string, limit = 2_000_000): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const stack = [dir];
  while (stack.length && files < limit) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = path.join(d, n);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) stack.push(p);
      else {
        bytes += st.size;
        files++;
      }
    }
  }
  return { bytes, files };
}

/** Volume-relative Windows path of a host path under root ("Windows\\SoftwareDistribution"). */
export function winRel(root: string, hostPath: string): string {
  return path.relative(root, hostPath).split(path.sep).join('\\');
}

/** The folder at `rel`, when it is a real one; a link or special file there is noted, not entered. */
export function realDir(root: string, rel: string): string | undefined {
  const p = resolveCI(root, rel);
  if (!p) return undefined;
  const st = lstatSync(p);
  if (st.isDirectory()) return p;
  if (!st.isFile()) noteUnsafe(p, describeNode(st, p));
  return undefined;
}

/** The regular file at `rel`; a link or special file there is noted (evidence), not used. */
export function realFile(root: string, rel: string): string | undefined {
  const p = resolveCI(root, rel);
  if (!p) return undefined;
  const st = lstatSync(p);
  if (st.isFile()) return p;
  if (!st.isDirectory()) noteUnsafe(p, describeNode(st, p));
  return undefined;
}

export function readCaches(root: string): CacheInfo {
  const out: CacheInfo = { bitsQueue: [] };
  const sd = realDir(root, 'Windows\\SoftwareDistribution');
  if (sd) out.softwareDistribution = { path: winRel(root, sd), ...treeSize(sd) };
  const c2 = realDir(root, 'Windows\\System32\\catroot2');
  if (c2) out.catroot2 = { path: winRel(root, c2), ...treeSize(c2) };
  const dl = realDir(root, 'ProgramData\\Microsoft\\Network\\Downloader');
  if (dl) {
    let names: string[] = [];
    try {
      names = readdirSync(dl);
    } catch {
      /* unreadable */
    }
    for (const n of names) {
      if (!/^(qmgr\d*\.dat|qmgr\.db|qmgr\.jfm|edb.*\.(log|chk|jrs))$/i.test(n)) continue;
      try {
        const st = lstatSync(path.join(dl, n));
        if (!st.isFile()) noteUnsafe(path.join(dl, n), describeNode(st, path.join(dl, n)));
        out.bitsQueue.push({ path: winRel(root, path.join(dl, n)), bytes: st.size });
      } catch {
        /* vanished */
      }
    }
  }
  return out;
}

export function fileSize(p: string | undefined): number | undefined {
  if (!p) return undefined;
  try {
    const st = lstatSync(p);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}
