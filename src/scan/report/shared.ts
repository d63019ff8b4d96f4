// What the text and HTML reports share: sizes, evidence and system lines, pasteable arguments.
import type { Evidence, ScanResult, DiskInfo, RepairRun, TargetScan } from '../../model/scan.js';
import type { UpdateAttempt } from '../../model/attempts.js';
import { before, lastRepair } from '../rules/rule.js';
import { fmtSize } from '../../shared/units.js';

/** "3.9 GiB", "525 MiB" (rounded down; src/shared/units.ts). */
export const size = fmtSize;

export function ascii(s: string): string {
  return s.replace(/[^\x20-\x7e\n]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function evidenceLine(e: Evidence): string {
  let where = e.file ?? '';
  if (e.line !== undefined) where += `:${e.line}`;
  if (e.offset !== undefined) where += ` @ byte ${e.offset}`;
  if (e.key) where += `${where ? ' ' : ''}[${e.key}${e.value !== undefined ? ` -> ${e.value === '' ? '(default)' : e.value}` : ''}]`;
  else if (e.value !== undefined) where += `${where ? ' ' : ''}[value ${e.value === '' ? '(default)' : e.value}]`;
  const parts = [where, e.time, e.data, e.note].filter((x) => x !== undefined && x !== '');
  return parts.join('  ');
}

export function systemLine(t: ScanResult): string {
  const s = t.system;
  const build = s.currentBuild !== undefined ? `build ${s.currentBuild}${s.ubr !== undefined ? `.${s.ubr}` : ''}` : 'build unknown';
  return `${s.productName ?? 'Windows (version unknown)'}${s.installationType ? ` (${s.installationType})` : ''}, ${build}${s.displayVersion ? ` (${s.displayVersion})` : ''}`;
}

const CONTAINER_NAMES: Record<NonNullable<DiskInfo['container']>['format'], string> = { vhd: 'VHD', vhdx: 'VHDX', vmdk: 'VMDK', qcow2: 'qcow2', vdi: 'VDI' };

export function diskLine(d: DiskInfo): string {
  const os = d.partitions.find((p) => p.number === d.osPartition);
  const rec = d.partitions.find((p) => p.number === d.recoveryPartition);
  const c = d.container ? `${CONTAINER_NAMES[d.container.format]}${d.container.variant ? ` ${d.container.variant}` : ''} virtual disk, ` : '';
  let s = `${d.path}: ${c}${d.scheme.toUpperCase()}, ${size(d.sizeBytes)}, ${d.partitions.length} partitions`;
  if (os) s += `; Windows on ${os.number} (${size(os.size)})`;
  if (rec) s += `; recovery ${rec.number} (${size(rec.size)}${rec.freeBytes !== undefined ? `, ${size(rec.freeBytes)} free` : ''})`;
  return s;
}

/**
 * A path as a command-line argument the technician can paste: unquoted when it has no spaces, and
 * never ending in \" (cmd.exe and the C runtime read "W:\" as W:" with the quote escaped).
 */
export function shellArg(p: string): string {
  if (!/[\s"&|<>^]/.test(p)) return p;
  return `"${p.replace(/\\+$/, (m) => m + m)}"`;
}

/** What a partition is, in words ("EFI system", "Windows", "Recovery", ...), for people who do not know the role codes. */
export function partitionName(p: { number: number; role: string }, d: Pick<DiskInfo, 'osPartition'>): string {
  if (p.number === d.osPartition) return 'Windows';
  return PARTITION_NAMES[p.role] ?? 'unknown';
}

const PARTITION_NAMES: Record<string, string> = {
  esp: 'EFI system',
  msr: 'Microsoft reserved (MSR)',
  basic: 'basic data',
  recovery: 'Recovery',
  'windows-ldm': 'dynamic disk (LDM)',
  linux: 'Linux',
  extended: 'extended',
};

/**
 * The one-line verdict of a target: "2 problems need repair: winre-too-small, wu-cache",
 * "1 problem found, no automatic repair: bitlocker-locked", "No problems found".
 */
export function verdictLine(t: Pick<ScanResult, 'findings'>): string {
  const act = t.findings.filter((f) => f.severity !== 'info');
  const notes = t.findings.length - act.length;
  if (!act.length) return `No problems found${notes ? ` (${notes} note${notes === 1 ? '' : 's'} for information)` : ''}`;
  const ids = [...new Set(act.map((f) => f.id))];
  const repairable = act.filter((f) => f.repair).length;
  const n = act.length;
  const problems = `${n} problem${n === 1 ? '' : 's'}`;
  let head: string;
  if (repairable === n) head = `${problems} need${n === 1 ? 's' : ''} repair`;
  else if (repairable === 0) head = `${problems} found, no automatic repair`;
  else head = `${problems} found, ${repairable} with an automatic repair`;
  return `${head}: ${ids.join(', ')}`;
}

const UPDATE_KINDS = new Set(['install', 'uninstall', 'feature-update']);

/**
 * The failed update attempts split at the last verified repair run (the journal): those before it
 * are history, with the sentence that says so; undefined when no run is recorded.
 */
export function repairHistory(t: TargetScan): { run: RepairRun; past: UpdateAttempt[]; current: UpdateAttempt[]; note: string } | undefined {
  const run = lastRepair(t);
  if (!run) return undefined;
  const failed = t.attempts.filter((a) => a.result === 'failed' && UPDATE_KINDS.has(a.kind));
  const past = failed.filter((a) => before(a, run));
  const current = failed.filter((a) => !before(a, run));
  const when = `${run.finishedAt.slice(0, 16).replace('T', ' ')} UTC`;
  const note = `These failed before the repair on ${when} (wufix run ${run.runId}: ${run.repairs.join(', ')})${current.length ? '' : '; retry Windows Update now'}.`;
  return { run, past, current, note };
}
