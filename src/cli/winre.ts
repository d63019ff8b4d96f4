// `wufix winre info`: reagentc /info for an offline Windows, from what the scan reads (ReAgent.xml,
// the partition table, the recovery partition mounted read-only, Winre.wim's header and XML data,
// the BCD store). Changes nothing.
import { Command } from 'commander';
import { checkTargetOptions, scan } from './targets.js';
import { humanSize } from '../disk/show.js';
import { BadInputError } from '../shared/errors.js';
import { termSafeDeep } from '../shared/termsafe.js';
import { winreStatus, type WinreStatus } from '../windows/winre.js';
import { asciiSafe, writeOut } from './output.js';
import { versionString } from './version.js';

const ARCH: Record<number, string> = { 0: 'x86', 5: 'arm', 6: 'ia64', 9: 'x64', 12: 'arm64' };
const bytes = (n: number) => `${humanSize(n)} (${n} bytes)`;

/** The readable report of one Windows (within 80 columns but for long names from the image). */
export function winreText(s: WinreStatus): string {
  const out: string[] = [`Windows RE of ${s.root}`];
  const row = (label: string, value: string) => out.push(`  ${(label + ':').padEnd(20)} ${value}`);
  const more = (value: string) => out.push(`  ${' '.repeat(20)} ${value}`);
  row('Status', s.installState !== undefined ? `${s.status} (ReAgent.xml InstallState ${s.installState})` : `${s.status} (no readable ReAgent.xml)`);
  if (s.reagentXml) more(s.reagentXml);
  const l = s.location;
  if (!l || !l.path) row('Location', 'none (ReAgent.xml WinreLocation is empty)');
  else {
    const p = l.partition;
    if (p) row('Location', `partition ${p.number} at ${humanSize(p.start)}, ${humanSize(p.size)}, ${p.role}, ${p.fs}`);
    else row('Location', l.offset !== undefined ? `no partition of the disk starts at byte ${l.offset}` : 'offset not set');
    more(`${l.path}, WinreLocation offset ${l.offset ?? '?'}`);
    if (l.diskId) more(`disk ${/^\{/.test(l.diskId) ? 'GUID' : 'signature'} ${l.diskId}`);
    if (l.disk) more(`disk read: ${l.disk}`);
    else more('disk not read (give --image, or --disk with --root)');
  }
  const w = s.wim;
  if (!w) row('Winre.wim', 'not found');
  else {
    row('Winre.wim', w.path);
    more(bytes(w.bytes));
    if (w.where === 'os-volume') more('(staged on the Windows volume, where it waits while WinRE is disabled)');
    if (w.error) more(`header not read: ${w.error}`);
    if (w.summary) {
      more(`WIM GUID ${w.summary.guid}`);
      more(`${w.summary.imageCount} image(s), compression ${w.summary.compression}`);
    }
    for (const img of w.summary?.images ?? []) {
      more(`image ${img.index}${img.name ? `: "${img.name}"` : ''}`);
      const arch = img.arch !== undefined ? `, ${ARCH[img.arch] ?? `arch ${img.arch}`}` : '';
      more(img.version ? `  version ${img.version}${arch}` : `  no Windows version in its XML${arch}`);
    }
  }
  row('BCD identifier', s.bcdId ?? 'none (no WinreBCD in ReAgent.xml)');
  const b = s.bcd;
  if (!b) row('BCD recovery entry', 'BCD store not read (give --image, or --disk with --root, as root)');
  else {
    row('BCD recovery entry', b.recoverySequence ?? 'none');
    if (b.matchesReAgent === false) more('NOT the WinreBCD of ReAgent.xml');
    if (b.recoverySequence) more(b.entryExists === false ? 'that entry is missing from the store' : `"${b.description ?? ''}"`);
    if (b.recoveryEnabled !== undefined) more(`recoveryenabled ${b.recoveryEnabled ? 'Yes' : 'No'}`);
    more(`in ${b.store}`);
  }
  const r = s.recoveryPartition;
  if (!r) row('Recovery free', 'no recovery partition on the disk read');
  else if (r.freeBytes === undefined) row('Recovery free', `partition ${r.number}: not measured (it is mounted read-only to measure; Linux, root)`);
  else {
    row('Recovery free', `partition ${r.number}: ${humanSize(r.freeBytes)} free of ${humanSize(r.sizeBytes)}`);
    more(
      r.meetsNeed
        ? `meets the ${humanSize(r.neededBytes)} the WinRE update (KB5034441) needs`
        : `below the ${humanSize(r.neededBytes)} the WinRE update (KB5034441) needs`,
    );
    if (!r.meetsNeed) more('(it fails with 0x80070643; the winre repair makes room)');
  }
  for (const p of s.problems) out.push(`  problem: ${p}`);
  return out.join('\n') + '\n';
}

export function winreCommand(): Command {
  const winre = new Command('winre').description('the Windows Recovery Environment of an offline Windows (read-only)');
  winre
    .command('info')
    .description('reagentc /info, offline: WinRE status, location, Winre.wim, BCD entry and free space (changes nothing)')
    .option('--root <dir>', 'the root of one mounted Windows volume (e.g. /mnt/win or D:\\)')
    .option('--disk <image|device>', 'the disk holding it, for the partition layout (found automatically when possible)')
    .option(
      '--image <disk.img>',
      'a whole disk image: its partitions are attached read-only (Linux as root; Windows/WinPE: a VHD/VHDX, attached read-only with diskpart)',
    )
    .option('--json', 'print JSON (numbers in bytes)')
    .option('-q, --quiet', 'no progress messages')
    .addHelpText(
      'after',
      `
The target options are scan's. With none, every mounted Windows volume is read.
What is read: ReAgent.xml (InstallState, WinreLocation, WinreBCD), the
partition table, the recovery partition mounted read-only (free space,
\\Recovery\\WindowsRE), Winre.wim's header and XML data (what wimlib's wiminfo
prints; not its files), and the BCD store's recovery entry.

Examples:
  sudo wufix winre info --image disk.img
  wufix winre info --root /mnt/win --disk /dev/sda --json`,
    )
    .action(async (o: { root?: string; disk?: string; image?: string; json?: boolean; quiet?: boolean }) => {
      checkTargetOptions(o);
      const showProgress = !o.quiet && process.stderr.isTTY;
      const report = await scan({
        root: o.root,
        disk: o.disk,
        image: o.image,
        tool: versionString(),
        progress: showProgress ? (m) => process.stderr.write(asciiSafe(`  ... ${m}`) + '\n') : undefined,
      });
      if (report.targets.length === 0) {
        throw new BadInputError('no offline Windows found (no mounted volume holds Windows\\System32\\config\\SYSTEM); give --image or --root', {
          code: 'not-windows',
        });
      }
      const targets = report.targets.map(winreStatus);
      if (o.json) writeOut(asciiSafe(JSON.stringify({ tool: report.tool, targets }, null, 2)) + '\n');
      else writeOut(asciiSafe(termSafeDeep(targets).map(winreText).join('\n')));
    });
  return winre;
}
