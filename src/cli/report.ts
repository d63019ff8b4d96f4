// `wufix report merge <results...>` (issue #18 item 6): per-image results from any runner (the files
// of `scan --out-dir`, `scan --jsonl` streams, `scan --json` documents with "image" and "exitCode")
// merged into one fleet summary: the table on stdout, --csv, --html, --json. The merge itself is
// pure (src/scan/report/fleet.ts); this file reads the files (no link followed, a size cap each) and
// lists the ones it cannot use without stopping.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { atomicWrite } from '../shared/atomic.js';
import { BadInputError, EXIT } from '../shared/errors.js';
import { readFileSafe } from '../shared/safefs.js';
import { consoleWidth } from '../shared/style.js';
import {
  duplicateClientLines,
  fleetCsv,
  mergeFleet,
  parseImageResult,
  renderFleetHtml,
  summaryRow,
  summaryTable,
  type BadResult,
  type FleetImage,
} from '../scan/report/fleet.js';
import { asciiSafe, writeOut } from './output.js';
import { checkOutputFolder } from './targets.js';
import { versionString } from './version.js';

/** The most one result file (or JSON Lines file) may hold. */
export const MAX_RESULT_FILE = 256 * 1024 * 1024;
/** The most files one folder argument may contribute. */
const MAX_FILES_PER_DIR = 100_000;

interface Read {
  results: FleetImage[];
  bad: BadResult[];
}

/** One file: a JSON document (one image), or JSON Lines (one image a line). */
function readResultFile(file: string, into: Read): void {
  let textContent: string;
  try {
    textContent = new TextDecoder('utf-8', { fatal: true }).decode(readFileSafe(file, MAX_RESULT_FILE, 'the result file'));
  } catch (e) {
    into.bad.push({ file, problem: (e as Error).message });
    return;
  }
  const trimmed = textContent.trim();
  if (!trimmed) {
    into.bad.push({ file, problem: 'is empty' });
    return;
  }
  try {
    push(file, JSON.parse(trimmed), into);
    return;
  } catch {
    /* not one document: JSON Lines */
  }
  const lines = textContent.split('\n');
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      into.bad.push({ file: `${file}:${i + 1}`, problem: 'not JSON (neither one JSON document nor JSON Lines)' });
      continue;
    }
    push(`${file}:${i + 1}`, doc, into);
  }
}

function push(where: string, doc: unknown, into: Read): void {
  // A `scan --json` of a batch: {"images": [...]}.
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && Array.isArray((doc as { images?: unknown }).images)) {
    for (const [i, d] of (doc as { images: unknown[] }).images.entries()) push(`${where} images[${i}]`, d, into);
    return;
  }
  const r = parseImageResult(doc);
  if (typeof r === 'string') into.bad.push({ file: where, problem: r });
  else into.results.push(r);
}

/** Files and folders (their *.json and *.jsonl files, not recursive); links are not followed. */
export function readResults(args: readonly string[]): Read {
  const into: Read = { results: [], bad: [] };
  for (const a of args) {
    let st;
    try {
      st = lstatSync(a);
    } catch {
      throw new BadInputError('does not exist (report merge takes result files or folders of them)', { file: a, code: 'not-found' });
    }
    if (st.isSymbolicLink()) into.bad.push({ file: a, problem: 'is a link: not followed' });
    else if (st.isFile()) readResultFile(a, into);
    else if (st.isDirectory()) {
      const names = readdirSync(a)
        .filter((n) => /\.jsonl?$/i.test(n) && !n.startsWith('.'))
        .sort();
      if (names.length > MAX_FILES_PER_DIR) throw new BadInputError(`holds more than ${MAX_FILES_PER_DIR} result files`, { file: a, code: 'too-large' });
      for (const n of names) {
        const f = path.join(a, n);
        const s = lstatSync(f);
        if (s.isFile()) readResultFile(f, into);
        else into.bad.push({ file: f, problem: s.isSymbolicLink() ? 'is a link: not followed' : 'not a regular file' });
      }
    } else into.bad.push({ file: a, problem: 'not a regular file or folder' });
  }
  return into;
}

export function reportCommand(): Command {
  const report = new Command('report').description('summaries over many scans: merge per-image results into one fleet report');
  report
    .command('merge')
    .description('merge per-image scan results (scan --out-dir files, --jsonl streams) into one fleet summary: a table, CSV, HTML')
    .argument('<results...>', 'result files (.json, .jsonl) or folders of them')
    .option('--csv <file>', 'write one row per image: image, computer name, Windows, build, findings, worst severity, exit code')
    .option('--html <file>', 'write a self-contained page: images worst first, findings by kind, by Windows build')
    .option('--json', 'the merged fleet as JSON on stdout')
    .action(async (args: string[], o: { csv?: string; html?: string; json?: boolean }) => {
      if (o.csv) checkOutputFolder(o.csv, '--csv');
      if (o.html) checkOutputFolder(o.html, '--html');
      const { results, bad } = readResults(args);
      for (const b of bad) process.stderr.write(asciiSafe(`wufix: warning: ${b.file}: not used: ${b.problem}`.replace(/[\r\n]+/g, ' ')) + '\n');
      if (!results.length) throw new BadInputError('no per-image scan result found in the files given (see the warnings above)', { code: 'not-found' });
      const fleet = mergeFleet(results, bad);
      const enc = new TextEncoder();
      if (o.csv) await atomicWrite(o.csv, enc.encode(fleetCsv(fleet)));
      if (o.html) await atomicWrite(o.html, enc.encode(renderFleetHtml(fleet, { tool: versionString(), generatedAt: new Date().toISOString() })));
      for (const [flag, f] of [
        ['CSV', o.csv],
        ['HTML', o.html],
      ] as const)
        if (f) process.stderr.write(asciiSafe(`wufix: ${flag} written to ${path.resolve(f)}`) + '\n');
      if (o.json) writeOut(JSON.stringify(fleet, null, 2) + '\n');
      else {
        const n = fleet.images.length;
        writeOut(
          summaryTable(
            fleet.images.map((r) => summaryRow(r)),
            consoleWidth(),
          ),
        );
        writeOut(duplicateClientLines(fleet.duplicateClientIds));
        writeOut(
          `${n} image${n === 1 ? '' : 's'}${bad.length ? `, ${bad.length} result file${bad.length === 1 ? '' : 's'} not used` : ''}; worst exit code ${fleet.exitCode}\n`,
        );
      }
      process.exitCode = EXIT.OK;
    });
  return report;
}
