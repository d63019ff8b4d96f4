// File-level facts of an offline Windows: update caches, the BITS queue, pending.xml, the staged
// WinRE image. Sizes are summed without reading file contents.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { resolveCI } from './install.js';
import type { CacheInfo } from './scan-types.js';

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

export function readCaches(root: string): CacheInfo {
  const out: CacheInfo = { bitsQueue: [] };
  const sd = resolveCI(root, 'Windows\\SoftwareDistribution');
  if (sd) out.softwareDistribution = { path: winRel(root, sd), ...treeSize(sd) };
  const c2 = resolveCI(root, 'Windows\\System32\\catroot2');
  if (c2) out.catroot2 = { path: winRel(root, c2), ...treeSize(c2) };
  const dl = resolveCI(root, 'ProgramData\\Microsoft\\Network\\Downloader');
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
        out.bitsQueue.push({ path: winRel(root, path.join(dl, n)), bytes: lstatSync(path.join(dl, n)).size });
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
