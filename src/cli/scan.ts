// `wufix scan`: find the offline Windows, read it, explain every failure with evidence.
import path from 'node:path';
import { Command, Option } from 'commander';
import { atomicWrite } from '../shared/atomic.js';
import { checkOutputFolder, checkTargetOptions, noWindowsError, scan } from './targets.js';
import { renderText } from '../scan/report/text.js';
import { renderHtml } from '../scan/report/html.js';
import { hasActionableFindings } from '../scan/rules/index.js';
import { BadInputError, EXIT, UsageError } from '../shared/errors.js';
import { SCAN_SCHEMA_VERSION, type ScanReport } from '../model/scan.js';
import { asciiSafe, describeError, writeOut } from './output.js';
import { termSafeDeep } from '../shared/termsafe.js';
import { versionString } from './version.js';
import { consoleStyle, helpText } from '../shared/style.js';
import { expandImages, runBatch } from './scan-batch.js';

export function scanCommand(): Command {
  return new Command('scan')
    .description('diagnose an offline Windows: why updates fail, with the evidence, and which repair fixes it (changes nothing)')
    .option('--root <dir>', 'the root of one mounted Windows volume (e.g. /mnt/win or D:\\)')
    .option('--disk <image|device>', 'the disk holding it, for the partition layout (found automatically when possible)')
    .option(
      '--image <disk.img...>',
      'whole disk images: every partition is attached read-only and scanned (Linux as root: raw, VHD, VHDX, VMDK, qcow2, VDI; Windows/WinPE: VHD and VHDX, attached read-only with diskpart); several (or a quoted glob, lab/*.img) make a batch',
    )
    .option('--json', 'machine-readable report (schema: docs/scan-json.md); a batch: one document with every image')
    .option('-j, --jobs <n>', 'a batch: scan N images at once, each in a worker process (default 1)')
    .option('--jsonl', 'a batch: one JSON line per image on stdout (the scan JSON plus "image" and "exitCode")')
    .option('--out-dir <dir>', 'a batch: write <dir>/<image name>.json per image (atomically)')
    .option('--skip-done <dir>', 'a batch: skip the images whose finished result is already in <dir> (resume)')
    .option('--timeout <seconds>', 'a batch: stop the worker of an image that takes longer (that image: exit 70)')
    .option('--html <file>', 'also write a self-contained HTML report for a ticket (disk to scale, timeline)')
    .option('--include-x', 'WinPE: also look at X: (the RAM disk)')
    .option('-q, --quiet', 'no progress messages')
    .addOption(new Option('--batch-worker').hideHelp())
    .addHelpText(
      'after',
      helpText(`
With no option, every mounted volume holding Windows\\System32\\config\\SYSTEM is scanned (WinPE/Windows: drive letters except X:; Linux: mounted NTFS volumes).

Nothing in the target is followed: links and special files are named in the problems, never read.

Many images: wufix scan --image a.img b.img 'lab/*.img' -j 2 --out-dir results. Each image is scanned by a worker process of its own; one progress line per image on stderr (updated in place on a terminal); a summary table at the end (image, Windows version, findings, worst severity, exit code). The exit code is the worst of the images, in this order: 130 > 70 > 4 > 3 > 2 > 1 > 10 > 0. --skip-done <dir> skips the images whose result in <dir> has exit 0, 10, 2 or 3 (70 and 130 are scanned again). Merge results from any runner: wufix report merge.

Colour: only on a terminal; --no-color or NO_COLOR=1 turns it off. The report wraps to the terminal's width (80 columns in a pipe or file).

Examples:
  wufix scan                     # WinPE: every Windows on the drive letters
  sudo wufix scan --image disk.img --html report.html
  sudo wufix scan --image 'lab/*.img' -j 2 --out-dir results --skip-done results
  wufix scan --root /mnt/win --disk /dev/sda --json > scan.json`),
    )
    .action(async (opts: ScanCliOptions) => {
      const images = opts.image ? expandImages(opts.image) : [];
      if (images.length > 1 || opts.jsonl || opts.outDir || opts.skipDone) {
        process.exitCode = await batchScan(opts, images);
        return;
      }
      const o = { ...opts, image: images[0] };
      checkTargetOptions(o);
      // The folder of --html is checked before the scan, not after minutes of reading an image.
      if (o.html) checkOutputFolder(o.html, '--html');
      // A batch's worker prints its progress into the pipe its parent reads (one progress line per image).
      const showProgress = !o.quiet && (process.stderr.isTTY || !!o.batchWorker);
      const tool = versionString();
      let report: ScanReport;
      try {
        report = await scan({
          root: o.root,
          disk: o.disk,
          image: o.image,
          includeX: o.includeX,
          tool,
          progress: showProgress ? (m) => process.stderr.write(asciiSafe(`  ... ${m}`) + '\n') : undefined,
        });
      } catch (e) {
        // --root without Windows below it: the same answer as any scan that found none.
        if (!(e instanceof BadInputError && e.code === 'not-windows')) throw e;
        report = { schemaVersion: SCAN_SCHEMA_VERSION, tool, scannedAt: new Date().toISOString(), targets: [] };
      }
      if (report.targets.length === 0) {
        // Nothing scanned is not "nothing to fix": exit 2 with the reason (with --json, the empty scan carries the error).
        const err = noWindowsError(o);
        const { line, error } = describeError(err);
        process.stderr.write(line + '\n');
        if (o.json) writeOut(JSON.stringify({ ...report, error }, null, 2) + '\n');
        process.exitCode = err.exitCode;
        return;
      }
      if (o.html) {
        await atomicWrite(o.html, new TextEncoder().encode(renderHtml(report))); // a planted link in its place is refused
        process.stderr.write(asciiSafe(`wufix: report written to ${path.resolve(o.html)}`) + '\n');
      }
      if (o.json) writeOut(JSON.stringify(report, null, 2) + '\n');
      // Names from the image are escaped before they reach the terminal; colour and width: src/shared/style.ts.
      else writeOut(renderText(termSafeDeep(report), consoleStyle()));
      const findings = report.targets.some((t) => hasActionableFindings(t.findings));
      process.exitCode = findings ? EXIT.FINDINGS : EXIT.OK;
    });
}

interface ScanCliOptions {
  root?: string;
  disk?: string;
  image?: string[];
  json?: boolean;
  html?: string;
  color: boolean;
  includeX?: boolean;
  quiet?: boolean;
  jobs?: string;
  jsonl?: boolean;
  outDir?: string;
  skipDone?: string;
  timeout?: string;
  batchWorker?: boolean;
}

function timeoutOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError('--timeout takes a number of seconds greater than 0');
  return n;
}

/** Many images (or one with --jsonl, --out-dir, --skip-done): src/cli/scan-batch.ts. */
function batchScan(opts: ScanCliOptions, images: string[]): Promise<number> {
  if (opts.root || opts.disk) throw new UsageError('--root and --disk name one mounted volume: a batch takes --image only');
  if (!images.length) throw new UsageError('--jsonl, --out-dir and --skip-done go with --image (the disk images to scan)');
  if (opts.html) throw new UsageError('--html writes one report: in a batch use --out-dir, then wufix report merge <dir> --html <file>');
  return runBatch({
    images,
    jobs: opts.jobs === undefined ? 1 : Number(opts.jobs),
    jsonl: opts.jsonl,
    json: opts.json,
    outDir: opts.outDir,
    skipDone: opts.skipDone,
    quiet: opts.quiet,
    timeout: timeoutOption(opts.timeout),
    tool: versionString(),
  });
}
