// `--image <x.vhdx>` on Windows/WinPE (issue #18): the VHD/VHDX attached with diskpart
// (src/platform/vdisk-windows.ts), read-only for the scan and the planning, writable for repair
// and undo; its Windows volume found by drive letter, and from there the Windows backend as for
// `--root W:\ --disk \\.\PhysicalDriveN` (disk facts through diskpart, the WinRE rebuild by
// diskpart on the attached disk). The journal lives beside the image, as on Linux.
import path from 'node:path';
import { windowsDirOf } from '../windows/install.js';
import { scanTarget } from '../scan/scan.js';
import { windowsDiskFacts } from '../winre/windows.js';
import { windowsBackend, type DiskBackend } from '../winre/run.js';
import { withVdisk, type AttachedVdisk } from '../platform/vdisk-windows.js';
import type { WinHost } from '../platform/winhost.js';
import type { DiskFacts } from '../model/target.js';
import type { ScanResult } from '../model/scan.js';
import { noWindowsError } from './no-windows.js';

/**
 * Attach `image`, find the NTFS volume that holds Windows (volumes without a letter get one for the
 * look), run `fn` on its root; detached afterwards whatever happens.
 */
export function withVdiskWindows<T>(
  host: WinHost,
  image: string,
  readOnly: boolean,
  progress: (m: string) => void,
  fn: (root: string, a: AttachedVdisk) => Promise<T>,
): Promise<T> {
  return withVdisk(host, image, { readOnly, progress }, async (a) => {
    for (const v of await a.volumes()) {
      if (v.fs !== 'NTFS') continue;
      const root = host.letterRoot(await a.letterFor(v));
      if (!windowsDirOf(root)) continue;
      progress(`Windows found on volume ${v.number} (${root}) of disk ${a.disk}`);
      return fn(root, a);
    }
    throw noWindowsError({ image });
  });
}

/**
 * The Windows volume of an attached VHD/VHDX scanned with its disk facts (layout, recovery
 * partition, BCD store: diskpart and \\.\PhysicalDriveN). Disk facts that cannot be read are a
 * problem of the scan, not its end (as for --root on Windows).
 */
export async function vdiskTarget(
  host: WinHost,
  image: string,
  root: string,
  a: AttachedVdisk,
  progress: (m: string) => void,
): Promise<{ target: ScanResult; facts?: DiskFacts }> {
  const problems: string[] = [];
  let facts: DiskFacts | undefined;
  try {
    facts = await windowsDiskFacts(host, root, { disk: a.diskPath, progress });
    facts.info.path = image;
    facts.info.container = { format: a.format, ...(a.variant ? { variant: a.variant } : {}), virtualSize: a.virtualSize };
  } catch (e) {
    problems.push(`disk ${a.diskPath}: ${(e as Error).message}`);
  }
  const target = await scanTarget({
    root,
    disk: facts?.info,
    bitlocker: facts?.bitlocker,
    bcd: facts?.bcd,
    progress,
    journals: [path.resolve(`${image}.wufix-journal`)],
  });
  target.problems.unshift(...problems);
  return { target, ...(facts ? { facts } : {}) };
}

/** `scan --image` on Windows: attached read-only, scanned, detached; the report names the image and partition, not the drive letter. */
export function scanVdiskWindows(host: WinHost, image: string, progress: (m: string) => void = () => {}): Promise<ScanResult> {
  return withVdiskWindows(host, image, true, progress, async (root, a) => {
    const { target, facts } = await vdiskTarget(host, image, root, a, progress);
    target.root = facts?.info.osPartition !== undefined ? `${image} partition ${facts.info.osPartition}` : image;
    return target;
  });
}

/**
 * The Windows disk backend on the disk the image is attached as now: the plan names the image, and
 * its disk number may differ between the read-only attach of the planning and the writable one.
 */
export function vdiskBackend(host: WinHost, root: string, a: AttachedVdisk): DiskBackend {
  const b = windowsBackend(host, root);
  return {
    name: 'windows',
    apply: (c, dir, o) => b.apply({ ...c, disk: a.diskPath }, dir, o),
    restore: (c, dir, progress) => b.restore({ ...c, disk: a.diskPath }, dir, progress),
    undo: (c, dir, o) => b.undo({ ...c, disk: a.diskPath }, dir, o),
  };
}
