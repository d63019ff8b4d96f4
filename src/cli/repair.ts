// `wufix repair`, `wufix undo`, `wufix journal list`: thin layers over src/engine.
import { Command } from 'commander';
import path from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { scan, withImageTarget } from '../windows/targets.js';
import type { ScanResult } from '../windows/scan-types.js';
import { REPAIRS } from '../repairs/index.js';
import { buildPlan, renderPlan } from '../engine/plan.js';
import { applyPlan } from '../engine/apply.js';
import { undoRun } from '../engine/undo.js';
import { Journal, newRunId } from '../engine/journal.js';
import { BadInputError, RefusedError, UsageError } from '../errors.js';
import { asciiSafe, writeJson, writeOut } from './output.js';
import { versionString } from './version.js';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function parseDword(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`"${v}" is not a DWORD (decimal or 0x hex)`);
  return n;
}

/** The journal lives on the target volume (or where --journal says), never only in WinPE's RAM disk. */
export function journalRootFor(root: string, given?: string): string {
  const dir = given ? path.resolve(given) : path.join(root, 'wufix', 'journal');
  if (process.platform === 'win32' && /^x:/i.test(dir) && (process.env.SystemDrive ?? '').toUpperCase() === 'X:') {
    throw new RefusedError(`the journal would live only in the WinPE RAM disk (${dir}) and vanish at reboot; pass --journal on the target volume or the USB stick`, 'journal-ramdisk');
  }
  return dir;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function repairCommand(): Command {
  return new Command('repair')
    .description('fix what scan found: shows the plan, backs up what will change, applies all or nothing, verifies')
    .option('--root <dir>', 'the root of the mounted Windows volume (read-write)')
    .option('--image <disk.img>', 'a disk image: its Windows partition is mounted read-write for the repair (Linux, root)')
    .option('--disk <image|device>', 'its disk (for the layout)')
    .option('--only <ids>', 'run only these repairs (comma-separated)', list)
    .option('--skip <ids>', 'skip these repairs (comma-separated)', list)
    .option('--yes', 'apply without asking')
    .option('--dry-run', 'show the plan, change nothing')
    .option('--json', 'print the plan (and the result) as JSON')
    .option('--journal <dir>', 'where the journal goes (default: <root>\\wufix\\journal); e.g. the USB stick')
    .option('--wintrust-value <dword>', 'wintrust: the State to write (default 0x23C00; 0x22849 is the alternative)', parseDword)
    .option('--reset-security', "services: also write Microsoft's default service security descriptors")
    .option('--clear-pending-renames', 'pending: also clear PendingFileRenameOperations')
    .option('--use-dism', 'pending: run DISM /RevertPendingActions instead of the offline edits (Windows/WinPE)')
    .option('--cert <file>', 'trust-cert: a signing certificate (PEM or DER); repeatable', (v: string, p: string[] = []) => [...p, v])
    .addHelpText(
      'after',
      `
Repairs: ${REPAIRS.map((r) => `${r.id} (${r.title})`).join('; ')}.
Without --only, the repairs for the scan's findings run. Nothing is written without --yes or a "y"
at the prompt; every changed file is first copied into the journal (plan.json, backup.tar, hashes),
and \`wufix undo --last --root <dir>\` puts every byte back.

Examples:
  wufix repair --root D:\\                    # WinPE: show the plan, ask, apply
  wufix repair --root /mnt/win --only wintrust --yes --journal /media/usb/wufix-journal`,
    )
    .action(async (o: RepairCliOptions & { root?: string; disk?: string }) => {
      if (!o.root && !o.image) throw new UsageError('repair needs --root <the mounted Windows volume> or --image <disk image>');
      if (o.image) {
        await withImageTarget(o.image, { tool: versionString() }, (root, target) => runRepair(root, target, o));
        return;
      }
      const report = await scan({ root: o.root, disk: o.disk, tool: versionString() });
      await runRepair(o.root!, report.targets[0]!, o);
    });
}

interface RepairCliOptions {
  only?: string[];
  skip?: string[];
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  journal?: string;
  wintrustValue?: number;
  resetSecurity?: boolean;
  clearPendingRenames?: boolean;
  useDism?: boolean;
  cert?: string[];
  image?: string;
}

async function runRepair(root: string, target: ScanResult, o: RepairCliOptions): Promise<void> {
  if (target.bitlocker.length) {
    throw new RefusedError(`partition ${target.bitlocker.map((b) => b.partition).join(', ')} is BitLocker-encrypted and locked; unlock it first (WinPE: manage-bde -unlock <drive>: -RecoveryPassword <key>)`, 'bitlocker');
  }
  const runId = newRunId();
  const certs = (o.cert ?? []).map((p) => {
    if (!existsSync(p)) throw new BadInputError('no such file', { file: p });
    return { path: p, bytes: new Uint8Array(readFileSync(p)) };
  });
  const plan = await buildPlan(
    target,
    REPAIRS,
    { only: o.only, skip: o.skip },
    { runId, wintrustValue: o.wintrustValue, resetSecurity: o.resetSecurity, clearPendingRenames: o.clearPendingRenames, useDism: o.useDism, certs },
    { tool: versionString() },
  );
  if (!o.json) writeOut(asciiSafe(renderPlan(plan, REPAIRS)));
  let apply = !!o.yes && !o.dryRun;
  if (!o.yes && !o.dryRun && plan.steps.length) {
    if (process.stdin.isTTY && process.stderr.isTTY) apply = await confirm('Apply these changes? (a backup goes to the journal first) [y/N] ');
    else if (!o.json) writeOut('\nDry run: nothing changed. Add --yes to apply.\n');
  }
  if (!apply || plan.steps.length === 0) {
    if (o.json) writeJson({ plan, applied: false });
    return;
  }
  const journalRoot = journalRootFor(root, o.journal);
  const res = await applyPlan(plan, { journalRoot, progress: (m) => process.stderr.write(`  ... ${m}\n`) });
  if (o.json) writeJson({ plan, applied: true, journal: res.journal });
  else {
    const where = o.image ? `--journal "${o.journal ?? '<the Windows partition mounted>\\wufix\\journal'}"` : `--root "${root}"${o.journal ? ` --journal "${o.journal}"` : ''}`;
    writeOut(asciiSafe(`\nApplied ${res.applied} change(s) and verified them. Journal: ${res.journal}\nUndo with: wufix undo ${runId} ${where}\n`));
  }
}

export function undoCommand(): Command {
  return new Command('undo')
    .description('restore every byte a repair run changed, from its journal')
    .argument('[run-id]', 'the run to undo (see wufix journal list)')
    .option('--last', 'the most recent run')
    .option('--root <dir>', 'the Windows volume the run repaired (its drive letter may have changed since)')
    .option('--image <disk.img>', 'the disk image the run repaired (Linux, root)')
    .option('--journal <dir>', 'the journal directory, if not <root>\\wufix\\journal')
    .option('--force', 'restore even files that changed after the run')
    .action(async (runId: string | undefined, o: { last?: boolean; root?: string; image?: string; journal?: string; force?: boolean }) => {
      const undoAt = async (root: string | undefined) => {
        if (!root && !o.journal) throw new UsageError('undo needs --root <volume>, --image <disk image> or --journal <dir>');
        const jr = o.journal ? path.resolve(o.journal) : journalRootFor(root!);
        const runs = Journal.list(jr);
        const id = runId ?? (o.last ? runs[runs.length - 1] : undefined);
        if (!id) throw new UsageError(runs.length ? 'give a run id or --last' : `no runs in ${jr}`);
        const r = await undoRun(jr, id, { force: o.force, root });
        writeOut(`Undone run ${r.runId}: ${r.restored} file(s) restored byte for byte, ${r.renamesReversed} rename(s) reversed.\n`);
      };
      if (o.image) await withImageTarget(o.image, { tool: versionString() }, (root) => undoAt(root));
      else await undoAt(o.root);
    });
}

export function journalCommand(): Command {
  const cmd = new Command('journal').description('repair runs recorded on a volume');
  cmd
    .command('list')
    .description('list the runs, newest last')
    .option('--root <dir>', 'the Windows volume')
    .option('--journal <dir>', 'the journal directory')
    .option('--json', 'machine-readable output')
    .action((o: { root?: string; journal?: string; json?: boolean }) => {
      if (!o.root && !o.journal) throw new UsageError('journal list needs --root <volume> or --journal <dir>');
      const jr = o.journal ? path.resolve(o.journal) : journalRootFor(o.root!);
      const rows = Journal.list(jr).map((id) => {
        const j = Journal.open(jr, id);
        const p = j.plan();
        const s = j.state();
        return { runId: id, createdAt: p.createdAt, phase: s.phase, steps: p.steps.length, repairs: [...new Set(p.steps.map((x) => x.repair))] };
      });
      if (o.json) writeJson(rows);
      else writeOut(rows.length ? rows.map((r) => `${r.runId}  ${r.phase.padEnd(11)} ${String(r.steps).padStart(3)} change(s)  ${r.repairs.join(',')}`).join('\n') + '\n' : `no runs in ${jr}\n`);
    });
  return cmd;
}
