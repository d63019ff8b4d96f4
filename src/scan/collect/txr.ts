// The registry transaction logs: System32\config\TxR\*.blf and *.regtrans-ms (never the hives'
// .LOG1/.LOG2, which sit one level up in config and are not looked at here). Each entry is lstat'ed,
// never followed; a regular .blf has its first CLFS_HEAD_BYTES read (bounded) for the shape check.
import { closeSync, lstatSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { openReadSync, problemText } from '../../shared/safefs.js';
import { CLFS_HEAD_BYTES, clfsProblem, isTxrLogName } from '../../formats/clfs.js';
import type { TargetScan, TxrEntry } from '../../model/scan.js';
import { realDir, winRel } from '../../windows/files.js';

export const TXR_DIR = 'Windows\\System32\\config\\TxR';
/** At most this many entries are listed (a real TxR holds about ten). */
const MAX_ENTRIES = 1000;
/** A TxR log larger than this is not read (real containers are 512 KiB to a few MiB). */
const MAX_TXR_BYTES = 1 << 30;

function head(file: string): Uint8Array {
  const { fd } = openReadSync(file, MAX_TXR_BYTES, 'the transaction log');
  try {
    const buf = new Uint8Array(CLFS_HEAD_BYTES);
    const n = readSync(fd, buf, 0, CLFS_HEAD_BYTES, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function collectTxr(root: string, t: TargetScan): void {
  let dir: string | undefined;
  try {
    dir = realDir(root, TXR_DIR);
  } catch (e) {
    t.problems.push(`${TXR_DIR}: ${problemText(e)}`);
    return;
  }
  if (!dir) return;
  const entries: TxrEntry[] = [];
  try {
    const names = readdirSync(dir).filter(isTxrLogName).sort().slice(0, MAX_ENTRIES);
    for (const name of names) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      const rel = winRel(root, p);
      if (st.isSymbolicLink() || st.isDirectory() || !st.isFile()) {
        const kind = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'special';
        entries.push({ path: rel, kind });
        t.problems.push(
          `${rel} is a ${kind === 'dir' ? 'folder' : kind === 'link' ? 'symbolic link or junction' : 'special file'}, not a transaction log: not followed, never moved`,
        );
        continue;
      }
      const e: TxrEntry = { path: rel, kind: 'file', bytes: st.size };
      try {
        const damage = clfsProblem(name, st.size, st.size ? head(p) : new Uint8Array(0));
        if (damage) e.damage = damage;
      } catch (err) {
        e.damage = `cannot be read (${problemText(err)})`;
      }
      entries.push(e);
    }
  } catch (e) {
    t.problems.push(`${TXR_DIR}: ${problemText(e)}`);
  }
  t.txr = { folder: winRel(root, dir), entries };
}
