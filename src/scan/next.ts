// The repair commands a scan suggests ("Next:" in the text, "Repair:" in the HTML, nextCommand in
// --json), each with the target option it needs, so it runs as printed. Pure: the scan result and
// how it was made (which option, which host) in, commands out.
//
// - Scanned with --image: `repair --image <image>` (a block device also needs --journal elsewhere).
// - Scanned with --root on Linux: `repair --root <dir>` for the file repairs; the winre repair
//   changes the disk, which a mounted volume cannot give it, so it needs --image: the disk found
//   behind the mount (a loop device's backing file) when the scan knew it, unmounted first; else a
//   marked placeholder.
// - On Windows/WinPE, --root <letter> serves every repair (winre through diskpart).
import type { RepairId } from '../model/ids.js';
import type { NextCommand, ScanResult } from '../model/scan.js';
import { shellArg } from './report/shared.js';

export interface HowScanned {
  /** The disk image given with --image, when the scan was made so. */
  image?: string;
  platform: NodeJS.Platform;
  /** Is this host path a regular file (a disk image) rather than a block device? */
  isFile: (p: string) => boolean;
}

/** A placeholder in a suggested command: never a path, always in angle brackets. */
export const IMAGE_PLACEHOLDER = '<disk image of this volume>';
export const JOURNAL_PLACEHOLDER = '<folder on another disk>';

const repairsOf = (t: ScanResult): RepairId[] => [...new Set(t.findings.filter((f) => f.repair && f.severity !== 'info').map((f) => f.repair!))];

function cmd(target: string, repairs: RepairId[], extra = ''): string {
  return `wufix repair ${target}${extra} --only ${repairs.join(',')}`;
}

/** `--image <disk>`: a disk image as it is; a block device needs the journal elsewhere (it is the disk written). */
function imageCommand(disk: string, repairs: RepairId[], how: HowScanned, note?: string): NextCommand {
  if (how.isFile(disk)) return { command: cmd(`--image ${shellArg(disk)}`, repairs), runnable: true, ...(note ? { note } : {}), repairs };
  return {
    command: cmd(`--image ${shellArg(disk)}`, repairs, ` --journal ${JOURNAL_PLACEHOLDER}`),
    runnable: false,
    note: `${note ? `${note}; ` : ''}${JOURNAL_PLACEHOLDER}: a folder on another disk (e.g. the USB stick) for the backup, as ${disk} is a device`,
    repairs,
  };
}

export function nextCommands(t: ScanResult, how: HowScanned): NextCommand[] {
  const repairs = repairsOf(t);
  if (!repairs.length) return [];
  if (how.image) return [imageCommand(how.image, repairs, how)];
  const root = `--root ${shellArg(t.root)}`;
  if (how.platform === 'win32' || !repairs.includes('winre')) return [{ command: cmd(root, repairs), runnable: true, repairs }];
  const others = repairs.filter((r) => r !== 'winre');
  const unmount = `unmount ${t.root} first: the winre repair rewrites the partition table`;
  if (t.disk) {
    // One command on the whole disk: the file repairs run on its Windows partition too.
    return [imageCommand(t.disk.path, repairs, how, unmount)];
  }
  const out: NextCommand[] = [];
  if (others.length) out.push({ command: cmd(root, others), runnable: true, repairs: others });
  out.push({
    command: cmd(`--image ${IMAGE_PLACEHOLDER}`, ['winre']),
    runnable: false,
    note: `${IMAGE_PLACEHOLDER}: the disk image or /dev/sdX holding ${t.root} (the winre repair needs the disk, unmounted; the scan could not tell which it is)`,
    repairs: ['winre'],
  });
  return out;
}

/** Sets `nextCommands` on the target and `nextCommand` on each finding with a repair. */
export function addNextCommands(t: ScanResult, how: HowScanned): void {
  const next = nextCommands(t, how);
  if (next.length) t.nextCommands = next;
  else delete t.nextCommands;
  for (const f of t.findings) {
    if (!f.repair) continue;
    const n = next.find((c) => c.repairs.includes(f.repair!));
    f.nextCommand = n
      ? n.command.replace(/ --only \S+$/, ` --only ${f.repair}`)
      : nextCommands({ ...t, findings: [{ ...f, severity: 'warning' }] }, how)[0]?.command;
  }
}
