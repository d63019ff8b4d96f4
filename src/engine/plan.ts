// Building a plan from a scan (which modules run, with which options) and rendering it for a
// technician: one line per change, grouped by repair, with the reason beside it.
import type { ScanResult } from '../model/scan.js';
import type { DiskFacts } from '../model/target.js';
import { describeBytes } from '../shared/units.js';
import { planFilePaths } from './journal.js';
import { hang } from '../shared/style.js';
import { RefusedError, UsageError } from '../shared/errors.js';
import { lstatSync } from 'node:fs';
import { describeNode, UnsafePathError } from '../shared/safefs.js';
import { resolveCI } from '../windows/paths.js';
import { winRel } from '../windows/files.js';
import { isRepairId, type Plan, type PlanStep, type RepairModule, type RepairOptions, type Change, type WinreRebuild } from '../model/plan.js';
import { hostVolume, type PlanContext, type Repair, type Volume } from './volume.js';
import { typeName } from '../hive/regtext.js';

export interface Selection {
  only?: string[];
  skip?: string[];
}

/** --only / --skip name repairs that exist (a usage error names the known ones). */
function checkSelection(sel: Selection, modules: readonly Repair[]): void {
  const known = new Set<string>(modules.map((m) => m.id));
  for (const id of [...(sel.only ?? []), ...(sel.skip ?? [])]) {
    if (!isRepairId(id) || !known.has(id)) throw new UsageError(`unknown repair "${id}" (repairs: ${[...known].join(', ')})`);
  }
}

/** Why each finding the plan does not fix stays (no module, not selected, planned nothing). */
function notFixedBy(scan: ScanResult, modules: readonly Repair[], chosen: readonly Repair[], produced: ReadonlySet<string>): Plan['notFixed'] {
  // A finding is fixed by the plan when the repair named in it planned changes.
  const byId = new Map<string, Repair>(modules.map((m) => [m.id, m]));
  return scan.findings
    .filter((f) => f.severity !== 'info' && !(f.repair && produced.has(f.repair)))
    .map((f) => {
      const m = f.repair ? byId.get(f.repair) : undefined;
      const why = !f.repair
        ? 'no automatic repair'
        : !m
          ? `repair "${f.repair}" is not available yet`
          : chosen.includes(m)
            ? `repair "${m.id}" planned nothing${m.needs ? ` (it needs ${m.needs})` : ''}`
            : `repair "${m.id}" not selected`;
      return { id: f.id, subject: f.subject, why };
    });
}

/**
 * The plan for a scan: the selected modules (by --only, else those fixing a finding, less --skip)
 * plan in registry order, each reading the volume only through `meta.volume` (default: the host
 * directory scan.root).
 */
export async function buildPlan(
  scan: ScanResult,
  modules: readonly Repair[],
  sel: Selection,
  options: RepairOptions,
  meta: { tool: string; createdAt?: string; disk?: DiskFacts; volume?: Volume },
): Promise<Plan> {
  checkSelection(sel, modules);
  // A finding without a repair ("boot once to finish") selects nothing; --only still can.
  const findingIds = new Set(scan.findings.filter((f) => f.severity !== 'info' && f.repair !== undefined).map((f) => f.id));
  const chosen = modules.filter((m) =>
    sel.only?.length ? sel.only.includes(m.id) : m.fixes.some((f) => findingIds.has(f)) && !(sel.skip ?? []).includes(m.id),
  );
  const steps: PlanStep[] = [];
  const produced = new Set<string>();
  const ctx: PlanContext = { root: scan.root, scan, options, disk: meta.disk, volume: meta.volume ?? hostVolume(scan.root) };
  for (const m of chosen) {
    for (const rel of m.uses?.(ctx) ?? []) checkUsed(scan.root, rel, m.id);
    const s = await m.plan(ctx);
    steps.push(...s);
    if (s.length) produced.add(m.id);
  }
  const notFixed = notFixedBy(scan, modules, chosen, produced);
  return { runId: options.runId, root: scan.root, createdAt: meta.createdAt ?? new Date().toISOString(), tool: meta.tool, steps, notFixed };
}

/**
 * Refuse (exit 3) when `rel`, or a folder on the way to it, is a link or a special file: the repair
 * `repair` needs it and wufix never follows one. Each prefix is found case-insensitively and lstat'ed.
 */
export function checkUsed(root: string, rel: string, repair: string): void {
  const parts = rel.split(/[\\/]+/).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const host = resolveCI(root, parts.slice(0, i).join('\\'));
    if (host === undefined) return; // absent from here on
    let st;
    try {
      st = lstatSync(host);
    } catch {
      return;
    }
    if (st.isSymbolicLink() || (!st.isFile() && !st.isDirectory())) {
      const e = new UnsafePathError(winRel(root, host), st.isSymbolicLink() ? 'link' : 'special-file', describeNode(st, host));
      throw new RefusedError(
        `${repair}: ${e.message}${repair === 'wu-cache' ? ' (a junction that moved the folder on purpose: leave this repair out with --skip wu-cache)' : ''}`,
        e.code,
      );
    }
  }
}

function regData(type: number, hex: string): string {
  const b = Buffer.from(hex, 'hex');
  if ((type === 4 && b.length === 4) || (type === 11 && b.length === 8)) {
    const v = type === 4 ? b.readUInt32LE(0) : Number(b.readBigUInt64LE(0));
    return `0x${v
      .toString(16)
      .toUpperCase()
      .padStart(type === 4 ? 8 : 16, '0')}`;
  }
  if ((type === 1 || type === 2) && b.length % 2 === 0) {
    // A string from the image (a hostile WUServer...) is cut like binary data: the plan stays readable.
    const t = b.toString('utf16le').replace(/\u0000+$/, '');
    return t.length > 120 ? `${JSON.stringify(t.slice(0, 120))}... (${t.length} characters)` : JSON.stringify(t);
  }
  return b.length > 24 ? `${b.subarray(0, 24).toString('hex')}... (${b.length} bytes)` : b.toString('hex') || '(empty)';
}

/** The disk rebuild, one line per action, in the order they happen. */
export function describeWinreRebuild(c: WinreRebuild): string {
  const w = c.winre;
  const mib = (n: number) => describeBytes(n);
  const lines = [`rebuild the WinRE partition on ${c.disk} (${w.scheme.toUpperCase()}, case ${w.case}):`];
  if (w.shrinkOsBy > 0) lines.push(`  shrink the Windows partition ${w.os.number} by ${mib(w.shrinkOsBy)} (ntfsresize, then the table)`);
  if (w.old) lines.push(`  delete the old recovery partition ${w.old.number} (${mib(w.old.size)} at byte ${w.old.start}; its raw bytes go to the journal)`);
  const np = w.newPartition;
  lines.push(
    `  create partition ${np.number}: ${mib(np.size)} at byte ${np.start}, ${w.scheme === 'gpt' ? `type ${np.type}, attributes 0x8000000000000001, GUID ${np.guid}` : `type ${np.type}${np.logical ? ', logical' : ''}`}`,
    `  format it NTFS "Windows RE tools" and copy ${c.source.files.map((f) => `${f.name} (${mib(f.bytes)})`).join(', ')} into \\Recovery\\WindowsRE from ${c.source.where === 'os' ? 'the Windows volume' : c.source.where === 'install-wim' ? `${c.source.wim} (image ${c.source.index}${c.source.version ? `, ${c.source.version}` : ''}), extracted with wimlib` : `partition ${c.source.partition}`}`,
  );
  if (c.bcd) lines.push(`  re-point the BCD store (partition ${c.bcd.location.partition}, ${c.bcd.location.path}): ${c.bcd.changes} element change(s)`);
  for (const n of w.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'reg-set':
      return `${c.hive}  [${c.key || '(root)'}] ${c.name === '' ? '(default)' : c.name} ${typeName(c.value.type)}: ${c.old ? regData(c.old.type, c.old.data) : '(absent)'} -> ${regData(c.value.type, c.value.data)}`;
    case 'reg-delete-value':
      return `${c.hive}  [${c.key || '(root)'}] delete value ${c.name === '' ? '(default)' : c.name} (was ${regData(c.old.type, c.old.data)})`;
    case 'reg-delete-key':
      return `${c.hive}  delete key [${c.key}]`;
    case 'reg-set-key-security':
      return `${c.hive}  [${c.key}] key permissions: ${c.old.length / 2} -> ${c.sd.length / 2} bytes (descriptors in the note)`;
    case 'rename':
      return `rename ${c.from} -> ${c.to}`;
    case 'keep-copy':
      return `keep a copy of ${c.path} in the journal`;
    case 'dism-revert-pending':
      return 'run dism /Image:<volume> /Cleanup-Image /RevertPendingActions (COMPONENTS, SOFTWARE and pending.xml backed up first)';
    case 'dism-restore-health':
      return `run dism /Image:<volume> /Cleanup-Image /RestoreHealth /Source:wim:${c.source.wim}:${c.source.index} /LimitAccess /ScratchDir:<volume>\\${c.scratchDir} (Windows/WinPE; not undoable byte for byte)`;
    case 'dism-remove-package':
      return `run dism /Image:<volume> /Remove-Package /PackageName:${c.package} (now ${c.state}; Windows/WinPE; not undoable: install the update again to undo)`;
    case 'sfc-offline':
      return 'run sfc /scannow /offbootdir=<volume> /offwindir=<volume>\\Windows (Windows/WinPE; not undoable byte for byte)';
    case 'write-file':
      return `write ${c.path} (${Buffer.from(c.base64, 'base64').length} bytes${c.oldSha256 ? ', replacing the current file' : ''})`;
    case 'winre-rebuild':
      return describeWinreRebuild(c);
  }
}

/**
 * The plan as text. With `width` (the console's), the prose - the repair's title, each step's
 * "because", what is not fixed - wraps to it; the change lines stay one line each: they are the
 * record of what is written, compared with regedit and grepped as they are.
 */
export function renderPlan(plan: Plan, modules: readonly Pick<RepairModule, 'id' | 'title'>[], width = Infinity): string {
  const prose = (s: string, indent: number) => (Number.isFinite(width) ? hang(s, width, indent) : [s]);
  const lines: string[] = [...prose(`Plan for ${plan.root} (run ${plan.runId}): ${plan.steps.length} change(s)`, 2)];
  if (plan.steps.length === 0) lines.push('', 'Nothing to change.');
  for (const m of modules) {
    const steps = plan.steps.filter((s) => s.repair === m.id);
    if (!steps.length) continue;
    lines.push('', ...prose(`${m.id}: ${m.title}`, 2));
    for (const s of steps)
      lines.push(`  - ${describeChange(s.change).split('\n').join('\n      ')}`, ...prose(`      because: ${s.reason}${s.note ? `; ${s.note}` : ''}`, 8));
  }
  if (plan.notFixed.length) {
    lines.push('', 'Not fixed by this plan:');
    for (const n of plan.notFixed) lines.push(...prose(`  - ${n.id}${n.subject ? ` (${n.subject})` : ''}: ${n.why}`, 4));
  }
  return lines.join('\n') + '\n';
}

/**
 * The bytes the journal of `plan` takes before its first change: every file it changes (hives with
 * their .LOG/.LOG1/.LOG2), as apply's preflight counts them, and for a WinRE rebuild the raw regions
 * of the new and the old recovery partition. Read from the volume at `root` by lstat (no link followed;
 * a link or special file counts 0 bytes, and the repair refuses it anyway).
 */
export function journalBytes(plan: Plan, root: string): number {
  const seen = new Set<string>();
  let bytes = 0;
  const add = (rel: string) => {
    const host = resolveCI(root, rel);
    if (!host || seen.has(host)) return;
    seen.add(host);
    try {
      const st = lstatSync(host);
      if (st.isFile()) bytes += st.size;
    } catch {
      /* absent: recorded as absent, 0 bytes */
    }
  };
  for (const s of plan.steps) {
    const c = s.change;
    for (const rel of planFilePaths(c)) {
      add(rel);
      if (c.kind.startsWith('reg-')) for (const ext of ['.LOG', '.LOG1', '.LOG2']) add(rel + ext);
    }
    if (c.kind === 'winre-rebuild') bytes += c.winre.newPartition.size + (c.winre.old?.size ?? 0);
  }
  return bytes;
}

export interface JournalSpace {
  /** The run's journal folder. */
  dir: string;
  /** What the backup takes (journalBytes). */
  bytes: number;
  /** What the journal-space check requires free there (the backup and its margin). */
  needed: number;
  /** Bytes free there now; undefined when it cannot be told. */
  free?: number;
  /** Why the journal folder cannot be used (a link on the target), when it cannot. */
  problem?: string;
}

/** The plan's journal line: how much, where, and whether it fits (else the repair refuses, REFUSAL_CODES 'journal-space'). */
export function renderJournalSpace(j: JournalSpace): string {
  const free = j.free === undefined ? 'unknown' : describeBytes(j.free);
  const lines = [`Journal: ${describeBytes(j.bytes)} in`, `  ${j.dir}`, `  (free there: ${free})`];
  if (j.problem) lines.push(`  not usable: ${j.problem}`);
  else if (j.free !== undefined && j.free < j.needed)
    lines.push(
      `  not enough free space: with its margin the journal needs ${describeBytes(j.needed)},`,
      '  so the repair will refuse; pass --journal <dir> on another volume (e.g. the USB stick)',
    );
  return lines.join('\n') + '\n';
}
