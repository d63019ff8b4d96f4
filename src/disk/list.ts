// `disk list` as data (diskpart's "list disk"): one entry per disk with its size, partition scheme
// and which partitions hold Windows, and the readable table. Pure: a Layout (or the reason there is
// none) in, entries and text out.
import { BadInputError } from '../shared/errors.js';
import type { Layout } from '../model/disk.js';
import { humanSize } from './show.js';

export interface DiskListEntry {
  /** diskpart's number for \\.\PhysicalDriveN, otherwise the position in the list (0-based). */
  number: number;
  path: string;
  sizeBytes?: number;
  sectorSize?: number;
  /** 'none': readable, but no MBR or GPT (blank, or one file system over the whole disk). */
  scheme?: 'gpt' | 'mbr' | 'none';
  diskGuid?: string;
  signature?: string;
  partitions?: number;
  model?: string;
  /** Loop devices: the attached file. */
  backingFile?: string;
  readOnly?: boolean;
  /** Partitions holding Windows\System32\config\SYSTEM (0: the whole disk is that volume); undefined when not looked for (see notes). */
  windows?: { partition: number; start: number; size: number }[];
  /** Why something was not read or looked into. */
  notes: string[];
  /** The disk could not be read at all (e.g. "EACCES: permission denied"). */
  error?: string;
}

/** The entry for a disk whose layout was read. */
export function listEntry(number: number, path: string, layout: Layout): DiskListEntry {
  const e: DiskListEntry = { number, path, sizeBytes: layout.sizeBytes, sectorSize: layout.sectorSize, scheme: layout.scheme, notes: [] };
  if (layout.scheme === 'gpt') e.diskGuid = layout.diskGuid;
  else e.signature = '0x' + (layout.signature ?? 0).toString(16).padStart(8, '0');
  e.partitions = layout.partitions.filter((p) => p.role !== 'extended').length;
  return e;
}

/**
 * The entry for a disk whose layout could not be read: a disk without a partition table is
 * scheme 'none' (its reason a note), any other error (permission, corrupt table) is its `error`.
 */
export function unreadableEntry(number: number, path: string, err: unknown, sizeBytes?: number): DiskListEntry {
  const e: DiskListEntry = { number, path, notes: [] };
  if (sizeBytes !== undefined) e.sizeBytes = sizeBytes;
  const msg = errorText(err);
  if (err instanceof BadInputError && /^no partition table/.test(err.message)) {
    e.scheme = 'none';
    e.partitions = 0;
    e.notes.push(err.message);
    if (/no MBR boot signature/.test(err.message)) e.windows = []; // blank: nothing on it
  } else e.error = msg;
  return e;
}

/** "EACCES: permission denied" for a system error, the message otherwise; one line. */
export function errorText(err: unknown, privileged = isPrivileged()): string {
  const e = err as NodeJS.ErrnoException;
  const text = e?.code && /^E[A-Z]+$/.test(e.code) ? `${e.code}: ${describeCode(e.code, e.message, privileged)}` : String(e?.message ?? err);
  return text.split('\n')[0]!;
}

/** Root on Linux (on Windows the open itself says: access denied means not elevated). */
function isPrivileged(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function describeCode(code: string, message: string, privileged: boolean): string {
  // Already root and still refused: a container or sandbox without the device, not a missing sudo.
  const advice = privileged ? 'refused even to root: a container or sandbox without access to the device' : 'run as root / as administrator';
  const known: Record<string, string> = {
    EACCES: `permission denied (${advice})`,
    EPERM: `operation not permitted (${advice})`,
    ENOMEDIUM: 'no medium in the drive',
    ENOENT: 'no such file or device',
    EBUSY: 'device busy',
    EIO: 'I/O error reading the disk',
  };
  return known[code] ?? message.replace(new RegExp(`^${code}: `), '');
}

function windowsText(e: DiskListEntry): string {
  if (e.error) return '';
  if (!e.windows) return '?';
  if (e.windows.length === 0) return 'no';
  if (e.windows.length === 1 && e.windows[0]!.partition === 0) return 'whole disk';
  return `partition ${e.windows.map((w) => w.partition).join(', ')}`;
}

function pad(s: string, n: number, left = false): string {
  if (s.length >= n) return s;
  return left ? ' '.repeat(n - s.length) + s : s + ' '.repeat(n - s.length);
}

/** `text` in lines of at most 80 columns after `indent` (a word longer than that stays whole). */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur && indent.length + cur.length + 1 + word.length > 80) {
      lines.push(indent + cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(indent + cur);
  return lines;
}

/** Paths longer than this get a line of their own, so the table stays within 80 columns. */
const PATH_COLUMN = 24;

/** The readable table, one line per disk and indented lines for its notes. Callers pass it through asciiSafe. */
export function listText(entries: readonly DiskListEntry[]): string {
  if (entries.length === 0) return 'No disks found.\n';
  const head = ['Disk', 'Path', 'Size', 'Scheme', 'Parts', 'Windows'];
  const long = (e: DiskListEntry) => e.path.length > PATH_COLUMN;
  const rows = entries.map((e) => [
    String(e.number),
    long(e) ? '' : e.path,
    e.sizeBytes !== undefined ? humanSize(e.sizeBytes) : '?',
    e.error ? 'unreadable' : (e.scheme ?? '?').toUpperCase(),
    e.partitions !== undefined ? String(e.partitions) : '',
    windowsText(e),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => pad(c, w[i]!, i === 0 || i === 2 || i === 4))
      .join('  ')
      .trimEnd();
  const out = [line(head)];
  entries.forEach((e, k) => {
    const indent = ' '.repeat(w[0]! + 2);
    if (long(e)) out.push(`${pad(String(e.number), w[0]!, true)}  ${e.path}`);
    out.push(long(e) ? line(['', ...rows[k]!.slice(1)]) : line(rows[k]!));
    const details: string[] = [];
    if (e.model) details.push(`model ${e.model}`);
    if (e.backingFile) details.push(`loop device of ${e.backingFile}`);
    if (e.readOnly) details.push('read-only');
    if (details.length) out.push(...wrap(details.join(', '), indent));
    if (e.error) out.push(...wrap(`not readable: ${e.error}`, indent));
    for (const n of e.notes) out.push(...wrap(n, indent));
  });
  return out.join('\n') + '\n';
}
