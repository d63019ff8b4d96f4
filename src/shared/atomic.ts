// Replacing a file so that a crash leaves the old or the new bytes, never a mix, and never through
// a link: temp file beside it -> fsync -> rename -> fsync the directory (src/shared/safefs.ts pins
// the directory). Hives, journals, ledgers, ReAgent.xml, the --html report and .reg exports use it.
import { promises as fsp, lstatSync, type Stats } from 'node:fs';
import path from 'node:path';
import { describeNode, pinDir, relName, UnsafePathError } from './safefs.js';
import { faultPoint } from './faults.js';

/**
 * temp file in the same directory -> fsync -> rename -> fsync the directory. The directory (and, in
 * a target, every one above it) must be a real directory and `file` a regular file or absent: a
 * link is never written through or replaced (src/shared/safefs.ts).
 */
export async function atomicWrite(file: string, data: Uint8Array): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const name = path.basename(file);
  // Everything below goes through the pinned directory: a folder swapped for a link meanwhile
  // (a concurrent process in a shared tree) cannot make the temp file or the rename land elsewhere.
  const pin = pinDir(dir);
  try {
    const existing = lstatEntry(path.join(pin.base, name), file); // the entry itself, in the pinned directory
    const prefix = `.${name}.wufix-`;
    // Temp files left by an earlier save that was killed are ours (by name): clear them first.
    try {
      for (const n of await fsp.readdir(pin.base)) if (n.startsWith(prefix) && n.endsWith('.tmp')) await fsp.rm(path.join(pin.base, n), { force: true });
    } catch {
      /* directory not listable: the write below reports the real problem */
    }
    const tmp = path.join(pin.base, `${prefix}${process.pid}-${Date.now()}.tmp`);
    const mode = existing ? existing.mode & 0o7777 : 0o644;
    const fh = await fsp.open(tmp, 'wx', mode);
    try {
      const half = data.length >>> 1;
      await writeAll(fh, data.subarray(0, half), 0);
      faultPoint('mid-write');
      await writeAll(fh, data.subarray(half), half);
      faultPoint('before-fsync');
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => {});
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    faultPoint('before-rename');
    try {
      await fsp.rename(tmp, path.join(pin.base, name));
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    await fsyncDir(pin.base);
  } finally {
    pin.close();
  }
}

/** lstat of a directory entry (undefined when absent); a link or special file there refuses. */
function lstatEntry(p: string, shown: string): Stats | undefined {
  let st: Stats;
  try {
    st = lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!st.isFile())
    throw new UnsafePathError(
      relName(shown),
      st.isSymbolicLink() ? 'link' : 'special-file',
      st.isDirectory() ? 'a folder where a file was expected; not replaced' : describeNode(st, p),
    );
  return st;
}

async function writeAll(fh: fsp.FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync on Windows
  let dh;
  try {
    dh = await fsp.open(dir, 'r');
    await dh.sync();
  } catch {
    /* some filesystems (e.g. FUSE ntfs-3g) do not support fsync on directories */
  } finally {
    await dh?.close();
  }
}
