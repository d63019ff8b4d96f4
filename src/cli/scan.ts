// `wufix scan`: find the offline Windows, read it, explain every failure with evidence.
import path from 'node:path';
import { Command } from 'commander';
import { atomicWrite } from '../shared/atomic.js';
import { checkOutputFolder, checkTargetOptions, noWindowsError, scan } from './targets.js';
import { renderText } from '../scan/report/text.js';
import { renderHtml } from '../scan/report/html.js';
import { hasActionableFindings } from '../scan/rules/index.js';
import { BadInputError, EXIT } from '../shared/errors.js';
import { SCAN_SCHEMA_VERSION, type ScanReport } from '../model/scan.js';
import { asciiSafe, describeError, writeOut } from './output.js';
import { termSafeDeep } from '../shared/termsafe.js';
import { versionString } from './version.js';
import { consoleStyle, helpText } from '../shared/style.js';

export function scanCommand(): Command {
  return new Command('scan')
    .description('diagnose an offline Windows: why updates fail, with the evidence, and which repair fixes it (changes nothing)')
    .option('--root <dir>', 'the root of one mounted Windows volume (e.g. /mnt/win or D:\\)')
    .option('--disk <image|device>', 'the disk holding it, for the partition layout (found automatically when possible)')
    .option('--image <disk.img>', 'a whole disk image: every partition is attached read-only and scanned (Linux, root)')
    .option('--json', 'machine-readable report (schema: docs/scan-json.md)')
    .option('--html <file>', 'also write a self-contained HTML report for a ticket (disk to scale, timeline)')
    .option('--include-x', 'WinPE: also look at X: (the RAM disk)')
    .option('-q, --quiet', 'no progress messages')
    .addHelpText(
      'after',
      helpText(`
With no option, every mounted volume holding Windows\\System32\\config\\SYSTEM is scanned (WinPE/Windows: drive letters except X:; Linux: mounted NTFS volumes).

Nothing in the target is followed: links and special files are named in the problems, never read.

Colour: only on a terminal; --no-color or NO_COLOR=1 turns it off. The report wraps to the terminal's width (80 columns in a pipe or file).

Examples:
  wufix scan                     # WinPE: every Windows on the drive letters
  sudo wufix scan --image disk.img --html report.html
  wufix scan --root /mnt/win --disk /dev/sda --json > scan.json`),
    )
    .action(async (o: { root?: string; disk?: string; image?: string; json?: boolean; html?: string; color: boolean; includeX?: boolean; quiet?: boolean }) => {
      checkTargetOptions(o);
      // The folder of --html is checked before the scan, not after minutes of reading an image.
      if (o.html) checkOutputFolder(o.html, '--html');
      const showProgress = !o.quiet && process.stderr.isTTY;
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
