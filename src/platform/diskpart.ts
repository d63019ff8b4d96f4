// diskpart for the Windows/WinPE backend of the WinRE rebuild (issue #6): the script that carries
// out a WinrePlan (KB5028997's procedure with explicit sizes and offsets), and a parser for
// diskpart's `list disk` / `list volume` / `list partition` tables that does not depend on the
// display language: columns are cut at the offsets of the `---` ruler under the header. Pure; the
// runner (diskpart /s, OEM code page via chcp) belongs to the Windows adapter.
import { RefusedError, UsageError } from '../shared/errors.js';
import { MiB } from '../shared/units.js';
import type { WinrePlan } from '../model/winre.js';
import { decodeOem } from './windows.js';

/** The volume label Windows gives the WinRE partition (KB5028997). */
export const WINRE_LABEL = 'Windows RE tools';

// --- the script ----------------------------------------------------------------------------------

function wholeMiB(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n <= 0 || n % MiB !== 0) {
    throw new RefusedError(`${what} ${n} bytes is not a whole number of MiB: diskpart cannot express it exactly`, 'diskpart-unaligned');
  }
  return n / MiB;
}

/**
 * The diskpart script (CRLF line ends) that turns the disk into the plan's layout:
 *
 *   select disk N / select partition <OS> / shrink desired=<MB> minimum=<MB>   (when shrinking)
 *   select partition <old> / delete partition override                          (when deleting)
 *   create partition primary size=<MB> offset=<KB> id=<type>                    (GPT / MBR primary)
 *   create partition logical size=<MB> offset=<KB> + set id=27                  (MBR logical)
 *   gpt attributes=0x8000000000000001                                           (GPT)
 *   format quick fs=ntfs label="Windows RE tools" / assign letter=<L>
 *
 * Partitions are selected by the number diskpart shows (plan.os.windowsNumber), all selections
 * happen before the delete, so no number has shifted yet. `osPartition` is the engine number of
 * the OS partition and must be the plan's (a plan for another partition is refused). diskpart
 * cannot set a partition's unique GUID, so after it runs the BCD must be re-pointed (REM line).
 */
export function diskpartScript(plan: WinrePlan, disk: { number: number }, osPartition: number, opts: { letter: string }): string {
  if (!Number.isSafeInteger(disk.number) || disk.number < 0) throw new UsageError(`disk number must be a whole number >= 0, got ${String(disk.number)}`);
  const m = /^([A-Za-z]):?$/.exec(opts.letter ?? '');
  if (!m) throw new UsageError(`drive letter must be one letter A-Z, got "${String(opts.letter)}"`);
  const letter = m[1]!.toUpperCase();
  if (osPartition !== plan.os.number) {
    throw new RefusedError(`the plan is for OS partition ${plan.os.number}, not ${osPartition}: script not generated`, 'diskpart-plan-mismatch');
  }
  const np = plan.newPartition;
  const gpt = plan.scheme === 'gpt';
  const sizeMb = wholeMiB(np.size, 'new partition size');
  if (np.start % 1024 !== 0) throw new RefusedError(`new partition start ${np.start} is not a whole number of KiB`, 'diskpart-unaligned');
  const offsetKb = np.start / 1024;
  const L: string[] = [];
  L.push(`REM wufix: rebuild the WinRE partition (case ${plan.case}, ${plan.scheme.toUpperCase()}, ${plan.sectorSize}-byte sectors)`);
  L.push(`REM OS partition ${plan.os.number} (diskpart ${plan.os.windowsNumber}): offset ${plan.os.start} bytes, size ${plan.os.size} bytes`);
  if (plan.shrinkOsBy > 0) L.push(`REM shrink it by ${plan.shrinkOsBy} bytes`);
  if (plan.old)
    L.push(
      `REM old WinRE partition ${plan.old.number} (diskpart ${plan.old.windowsNumber}): offset ${plan.old.start} bytes, size ${plan.old.size} bytes, deleted`,
    );
  L.push(`REM new WinRE partition: offset ${np.start} bytes, size ${np.size} bytes${np.logical ? ', logical' : ''}`);
  if (gpt) L.push('REM diskpart gives it a new unique GUID: re-point the BCD WinRE devices afterwards');
  L.push(`select disk ${disk.number}`);
  if (plan.shrinkOsBy > 0) {
    const by = wholeMiB(plan.shrinkOsBy, 'shrink');
    L.push(`select partition ${plan.os.windowsNumber}`);
    L.push(`shrink desired=${by} minimum=${by}`);
  }
  if (plan.old) {
    L.push(`select partition ${plan.old.windowsNumber}`);
    L.push('delete partition override');
  }
  if (gpt) {
    L.push(`create partition primary size=${sizeMb} offset=${offsetKb} id=${np.type}`);
    L.push('gpt attributes=0x8000000000000001');
  } else if (np.logical) {
    // create partition logical has no id= parameter: set the type before anything else.
    L.push(`create partition logical size=${sizeMb} offset=${offsetKb}`);
    L.push(`set id=${mbrId(np.type)}`);
  } else {
    L.push(`create partition primary size=${sizeMb} offset=${offsetKb} id=${mbrId(np.type)}`);
  }
  L.push(`format quick fs=ntfs label="${WINRE_LABEL}"`);
  L.push(`assign letter=${letter}`);
  return L.map((l) => l + '\r\n').join('');
}

/** "0x27" -> "27" (diskpart's id= takes the byte in hex without a prefix). */
function mbrId(type: string): string {
  const t = /^(?:0x)?([0-9a-f]{1,2})$/i.exec(type);
  if (!t) throw new RefusedError(`MBR type "${type}" is not a byte`, 'diskpart-type');
  return t[1]!.toLowerCase().padStart(2, '0');
}

// --- list tables ---------------------------------------------------------------------------------

export interface DiskpartColumn {
  /** Header text as printed (localized). */
  header: string;
  /** Column start offset (the ruler's dash run); the cell runs to the next column's start. */
  start: number;
  /** Width of the dash run. */
  width: number;
}

export interface DiskpartRow {
  /** Cell texts, trimmed, in column order. */
  cells: string[];
  /** The row diskpart marks with "*" (the object in focus). */
  selected: boolean;
}

export interface DiskpartTable {
  columns: DiskpartColumn[];
  rows: DiskpartRow[];
}

const RULER = /^\s*-+(?: +-+)+\s*$/;

/**
 * Every list table in diskpart output (one per `list` command). A table is a header line, a ruler
 * of dash runs separated by spaces, and the rows up to the next blank line. Cells are cut at the
 * ruler's column starts, so labels with spaces and any display language work; a cell that
 * overflows its dashes (diskpart pads with two spaces) still ends before the next column.
 */
export function parseDiskpartListTables(output: string): DiskpartTable[] {
  const lines = output.replace(/\r\n?/g, '\n').split('\n');
  const tables: DiskpartTable[] = [];
  for (let i = 1; i < lines.length; i++) {
    const ruler = lines[i]!;
    if (!RULER.test(ruler)) continue;
    const header = lines[i - 1]!;
    const runs: { start: number; width: number }[] = [];
    for (const m of ruler.matchAll(/-+/g)) runs.push({ start: m.index, width: m[0].length });
    const cut = (line: string, k: number) => line.slice(runs[k]!.start, k + 1 < runs.length ? runs[k + 1]!.start : undefined).trim();
    const columns = runs.map((r, k) => ({ header: cut(header, k), start: r.start, width: r.width }));
    const rows: DiskpartRow[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim() === '' || RULER.test(line) || /^\s*DISKPART>/i.test(line)) break;
      rows.push({ cells: runs.map((_, k) => cut(line, k)), selected: line.slice(0, runs[0]!.start).includes('*') });
    }
    tables.push({ columns, rows });
    i = j;
  }
  return tables;
}

/** The first list table in diskpart output, or undefined when there is none. */
export function parseDiskpartListTable(output: string): DiskpartTable | undefined {
  return parseDiskpartListTables(output)[0];
}

/** Raw diskpart output bytes in the console's OEM code page (`chcp`) -> its list tables. */
export function parseDiskpartOutput(bytes: Uint8Array, codePage: number | undefined): DiskpartTable[] {
  return parseDiskpartListTables(decodeOem(bytes, codePage));
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: MiB, GB: 1024 * MiB, TB: 1024 * 1024 * MiB, PB: 1024 * 1024 * 1024 * MiB };

/**
 * A diskpart size or offset cell ("570 MB", "1024 KB", "0 B"; French "63 Go", "0 o") in bytes.
 * diskpart rounds to the unit shown, so this is approximate above KB. undefined when unreadable.
 */
export function parseDiskpartSize(cell: string): number | undefined {
  const m = /^(\d+)\s*([KMGTP]?)(B|o)$/i.exec(cell.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toUpperCase() + 'B'];
  if (unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The number in a "Disk 0" / "Datentr\u00e4ger 0" / "Partition 4" / "Volume 3" cell. */
export function diskpartItemNumber(cell: string): number | undefined {
  const m = /(\d+)\s*$/.exec(cell);
  return m ? Number(m[1]) : undefined;
}

// --- virtual disks (VHD, VHDX) -------------------------------------------------------------------

/**
 * A VHD/VHDX path as diskpart's `file=` takes it, quoted: an absolute path with a drive letter
 * ("C:\lab\win10.vhdx") or a UNC share ("\\server\lab\win10.vhdx"); the caller resolves it first. A path diskpart could not take
 * whole (a quote, a control character or a line break, which would end the command and start
 * another) is refused, never escaped.
 */
export function vdiskFileArg(file: string): string {
  if (/["\u0000-\u001f\u007f]/.test(file))
    throw new RefusedError(
      `the path ${JSON.stringify(file)} holds a quote or a control character, which diskpart cannot take; rename or move the file`,
      'vdisk-path',
    );
  // (A POSIX absolute path is what path.resolve gives on the Linux host the tests drive this from.)
  if (!/^(?:[A-Za-z]:\\|\\\\[^\\]+\\[^\\]+\\|\/)/.test(file))
    throw new UsageError(`diskpart needs the full path of the virtual disk (C:\\lab\\win10.vhdx or \\\\server\\share\\win10.vhdx), not ${file}`);
  return `file="${file}"`;
}

/**
 * The script that attaches a VHD/VHDX: `attach vdisk readonly` for the scan and the planning (the
 * volumes are mounted read-only, so nothing Windows does on mount reaches the image), writable for
 * repair and undo; then `list disk`, whose new row is the attached disk.
 */
export function vdiskAttachScript(file: string, readOnly: boolean): string {
  return [
    `REM wufix: attach ${readOnly ? 'read-only' : 'writable'}`,
    `select vdisk ${vdiskFileArg(file)}`,
    readOnly ? 'attach vdisk readonly' : 'attach vdisk',
    'list disk',
  ]
    .map((l) => l + '\r\n')
    .join('');
}

/** The script that detaches it again (its drive letters go with it). */
export function vdiskDetachScript(file: string): string {
  return ['REM wufix: detach', `select vdisk ${vdiskFileArg(file)}`, 'detach vdisk'].map((l) => l + '\r\n').join('');
}

/**
 * The disk numbers in `list disk` output: its table has six columns (Disk ###, Status, Size, Free,
 * Dyn, Gpt in any display language) and a number at the end of each row's first cell.
 */
export function diskNumbersOf(output: string): number[] {
  const t = parseDiskpartListTables(output).find((x) => x.columns.length === 6);
  if (!t) return [];
  return t.rows.map((r) => diskpartItemNumber(r.cells[0] ?? '')).filter((n): n is number => n !== undefined);
}

export interface DiskpartVolume {
  /** diskpart's volume number (`select volume N`). */
  number: number;
  /** Its drive letter (upper case), when it has one. */
  letter?: string;
  label: string;
  /** As diskpart prints it: NTFS, FAT32, RAW, ... */
  fs: string;
  size?: number;
}

/**
 * The volumes in `detail disk` (or `list volume`) output: the table with eight columns (Volume ###,
 * Ltr, Label, Fs, Type, Size, Status, Info in any display language), read by position.
 */
export function diskVolumesOf(output: string): DiskpartVolume[] {
  const t = parseDiskpartListTables(output).find((x) => x.columns.length === 8);
  if (!t) return [];
  const out: DiskpartVolume[] = [];
  for (const r of t.rows) {
    const number = diskpartItemNumber(r.cells[0] ?? '');
    if (number === undefined) continue;
    const ltr = /^[A-Za-z]$/.test(r.cells[1] ?? '') ? r.cells[1]!.toUpperCase() : undefined;
    const size = parseDiskpartSize(r.cells[5] ?? '');
    out.push({
      number,
      ...(ltr ? { letter: ltr } : {}),
      label: r.cells[2] ?? '',
      fs: (r.cells[3] ?? '').toUpperCase(),
      ...(size !== undefined ? { size } : {}),
    });
  }
  return out;
}
