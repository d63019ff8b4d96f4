// `wufix journal list` and `wufix journal prune`: the repair runs recorded for a target, each shown
// by what its authenticated journal says (src/engine/journal.ts listRuns); a journal this machine did
// not seal is listed as such and never followed.
import { Command } from 'commander';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { checkJournalFolder, listRuns, pruneRuns, type PruneResult, type RunSummary } from '../engine/journal.js';
import type { AuthOptions } from '../engine/journal.js';
import { BadInputError, UsageError } from '../shared/errors.js';
import { describeBytes } from '../shared/units.js';
import { consoleWidth } from '../shared/style.js';
import { asciiSafe, writeJson, writeOut } from './output.js';
import { checkTargetOptions } from './targets.js';
import { imageJournalRoot, journalRootFor, STATE_DIR_HELP, useStateDir } from './repair.js';

interface TargetOptions {
  root?: string;
  image?: string;
  journal?: string;
  stateDir?: string;
  json?: boolean;
}

interface Target {
  /** The journal folder. */
  jr: string;
  /** What authenticates a run for this target (as undo checks it). */
  auth: AuthOptions;
  /** The target options for an undo command line. */
  where: string;
}

/** The journal folder and target, from the same options as repair and undo. */
function targetOf(o: TargetOptions, cmd: string): Target {
  useStateDir(o.stateDir);
  checkTargetOptions(o);
  const j = o.journal ? ` --journal "${o.journal}"` : '';
  if (o.image) {
    if (!existsSync(o.image)) throw new BadInputError('no such file', { file: o.image });
    return { jr: imageJournalRoot(o.image, o.journal), auth: { disk: o.image }, where: `--image "${o.image}"${j}` };
  }
  if (!o.root && !o.journal) throw new UsageError(`journal ${cmd} needs --root <volume>, --image <disk image> or --journal <dir>`);
  return {
    jr: path.resolve(o.journal ? o.journal : journalRootFor(o.root!)),
    auth: { root: o.root },
    where: o.root ? `--root "${o.root}"${j}` : j.trim(),
  };
}

const WIDTH = consoleWidth();

/** Words wrapped to `WIDTH` columns, each line after the first indented like the first. */
function wrap(text: string, indent: string): string[] {
  const out: string[] = [];
  let line = indent;
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line.trim() && line.length + 1 + w.length > WIDTH) {
      out.push(line);
      line = `${indent}  ${w}`;
    } else line += (line.trim() ? ' ' : '') + w;
  }
  if (line.trim()) out.push(line);
  return out;
}

/** "2026-12-03 07:01:02" from an ISO 8601 UTC time ("?" when it is not one: a journal's text is not trusted). */
function utc(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : '?';
}

const STATUS_TEXT: Record<RunSummary['status'], string> = {
  applied: 'applied',
  unfinished: 'unfinished',
  undone: 'undone',
  'rolled-back': 'rolled-back',
  interrupted: 'interrupted',
  refused: 'refused',
  stopped: 'stopped',
  'not-authenticated': 'UNTRUSTED',
};

/** The detail lines under a run: what its status means, when it last changed, what to do. */
function details(r: RunSummary, t: Target): string[] {
  const when = r.updatedAt ? ` ${utc(r.updatedAt)} UTC` : '';
  const undo = undoLine(r, t);
  const lines: string[] = [];
  switch (r.status) {
    case 'applied':
      lines.push(`applied and verified${when}; it can be undone:`);
      break;
    case 'unfinished':
      lines.push(`stopped half-way (phase ${r.phase}${r.diskPhase ? `, disk part ${r.diskPhase}` : ''})${when}: the target is not in a known state; undo it:`);
      break;
    case 'undone':
      lines.push(`undone${when}: every byte restored; nothing left to undo`);
      break;
    case 'rolled-back':
      lines.push(`rolled back${when}: nothing changed${r.error ? `; why: ${r.error}` : ''}`);
      break;
    case 'interrupted':
      lines.push(`interrupted before its first change${when}: nothing changed${r.error ? `; ${r.error}` : ''}`);
      break;
    case 'refused':
      lines.push(`refused before its first change${when}: nothing changed; why: ${r.error}`);
      break;
    case 'stopped':
      lines.push(`ended before its first change${when} (killed, or a power cut): nothing changed`);
      break;
    case 'not-authenticated':
      lines.push(`NOT AUTHENTICATED: ${r.problem}; nothing in it is trusted or followed (undo refuses it)`);
      break;
  }
  // The command on a line of its own, never wrapped (it is copied as it is).
  return [...lines.flatMap((l) => wrap(l, '    ')), ...(r.undoable ? [`      ${undo}`] : [])];
}

/** The undo command for a run, with the same target options. */
const undoLine = (r: RunSummary, t: Target) => `wufix undo ${r.runId} ${t.where}`.trim();

const HEADER = `${'RUN ID'.padEnd(23)}  ${'STATUS'.padEnd(11)}  ${'STARTED (UTC)'.padEnd(19)}  CHANGES  REPAIRS`;

function renderList(rows: RunSummary[], t: Target): string {
  if (!rows.length) return `No runs in ${t.jr}.\n`;
  const lines = [`Runs in ${t.jr}, oldest first (times in UTC):`, HEADER];
  for (const r of rows) {
    const head = `${r.runId.padEnd(23)}  ${STATUS_TEXT[r.status].padEnd(11)}  ${utc(r.createdAt).padEnd(19)}  ${String(r.steps).padStart(7)}`;
    const repairs = r.repairs.join(',');
    if (head.length + 2 + repairs.length <= WIDTH) lines.push(`${head}  ${repairs}`);
    else lines.push(head, ...wrap(`repairs: ${r.repairs.join(', ')}`, '    '));
    lines.push(...details(r, t));
  }
  return lines.join('\n') + '\n';
}

function renderPrune(p: PruneResult, all: boolean, t: Target): string {
  const lines = [`Journal folder: ${p.journal}`];
  const verb = p.dryRun ? 'Would remove' : 'Removed';
  if (p.removed.length) {
    lines.push(`${verb} ${p.removed.length} run(s), freeing ${describeBytes(p.bytes)}:`);
    for (const r of p.removed) lines.push(`  ${r.runId.padEnd(23)}  ${STATUS_TEXT[r.status].padEnd(11)}  ${describeBytes(r.bytes)}`);
    const undoable = p.removed.filter((r) => r.undoable || !r.authenticated).length;
    if (all && undoable)
      lines.push(
        ...wrap(
          `Warning: ${undoable} of them can still be undone or are not authenticated: removing their journal loses the only way back to the files as they were.`,
          '',
        ),
      );
  } else lines.push(`${p.dryRun ? 'Nothing to remove' : 'Nothing removed'}: no finished run (undone, rolled back, interrupted, refused).`);
  if (p.kept.length) {
    lines.push(`Kept ${p.kept.length} run(s):`);
    for (const r of p.kept) {
      lines.push(`  ${r.runId.padEnd(23)}  ${STATUS_TEXT[r.status]}`, ...wrap(r.why, '    '));
      if (r.undoable) lines.push('    undo it with:', `      ${undoLine(r, t)}`);
    }
  }
  if (p.dryRun && p.removed.length) lines.push('Dry run: nothing was removed. Add --yes to remove them.');
  return lines.join('\n') + '\n';
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

const targetOptions = (c: Command) =>
  c
    .option('--root <dir>', 'the Windows volume the runs repaired (journal in <root>\\wufix\\journal)')
    .option('--image <disk.img>', 'the disk image the runs repaired (journal beside it: <disk.img>.wufix-journal)')
    .option('--journal <dir>', 'the journal directory, if not the default for --root or --image')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--json', 'machine-readable output');

export function journalCommand(): Command {
  const cmd = new Command('journal').description('the repair runs recorded for a target: list them, remove finished ones');
  targetOptions(
    cmd
      .command('list')
      .description(
        'list the runs, oldest first: status (applied, unfinished, undone, rolled-back, interrupted, refused, stopped; UNTRUSTED when this machine cannot authenticate it), start time (UTC), changes, repairs',
      ),
  ).action((o: TargetOptions) => {
    const t = targetOf(o, 'list');
    const rows = listRuns(t.jr, t.auth);
    if (o.json) writeJson(rows);
    else writeOut(asciiSafe(renderList(rows, t)));
  });
  targetOptions(
    cmd
      .command('prune')
      .description(
        'remove the journal folders of finished runs (undone, rolled back, interrupted, refused): a dry run unless --yes; a run that can still be undone is kept unless --all',
      ),
  )
    .option('--yes', 'remove them (without it: show what would be removed, change nothing)')
    .option('--all', 'also runs that can still be undone and runs not authenticated (their only way back is lost)')
    .action(async (o: TargetOptions & { yes?: boolean; all?: boolean }) => {
      const t = targetOf(o, 'prune');
      checkJournalFolder(t.jr);
      let yes = !!o.yes;
      if (!yes && !o.json && process.stdin.isTTY && process.stderr.isTTY) {
        const preview = pruneRuns(t.jr, { all: o.all, dryRun: true, auth: t.auth });
        writeOut(asciiSafe(renderPrune(preview, !!o.all, t)));
        if (!preview.removed.length) return;
        yes = await confirm(`Remove these ${preview.removed.length} journal folder(s)? [y/N] `);
        if (!yes) return;
      }
      const r = pruneRuns(t.jr, { all: o.all, dryRun: !yes, auth: t.auth });
      if (o.json) writeJson(r);
      else writeOut(asciiSafe(renderPrune(r, !!o.all, t)));
    });
  return cmd;
}
