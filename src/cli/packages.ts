// `wufix packages`: the update packages of an offline Windows, as `dism /Image /Get-Packages` lists
// them: CBS\Packages of the SOFTWARE hive with CurrentState decoded (Installed, Staged, Install
// Pending, Superseded, ...), the KB, LastError. Read-only; the names are what `repair --only
// remove-package --package <name>` takes (issue #19, item 5).
import { Command } from 'commander';
import { openHiveFile } from '../hive/hivefile.js';
import { resolveCI } from '../windows/paths.js';
import { readCbsPackages, type CbsPackage } from '../windows/servicing.js';
import { closeImageSessions } from '../platform/qemu.js';
import { BadInputError, UsageError } from '../shared/errors.js';
import { checkTargetOptions, withImageRoot } from './targets.js';
import { asciiSafe, writeJson, writeOut } from './output.js';
import { helpText } from '../shared/style.js';

/** What a technician removes or asks about: the update packages (KB, cumulative update, servicing stack), not every feature package. */
const isUpdate = (p: CbsPackage) => /^Package_for_(KB|RollupFix|ServicingStack|DotNetRollup)/i.test(p.name) || /^Package_\d+_for_KB/i.test(p.name);

async function packagesAt(root: string): Promise<CbsPackage[]> {
  const file = resolveCI(root, 'Windows\\System32\\config\\SOFTWARE');
  if (!file) throw new BadInputError('no Windows\\System32\\config\\SOFTWARE here (not the root of a Windows volume)', { file: root, code: 'not-windows' });
  const h = await openHiveFile(file, { inspectLogs: false });
  return readCbsPackages(h.hive);
}

export function packagesCommand(): Command {
  return new Command('packages')
    .description('the update packages of an offline Windows (CBS\\Packages, states decoded), as dism /Get-Packages lists them; changes nothing')
    .option('--root <dir>', 'the root of the mounted Windows volume')
    .option('--image <disk.img>', 'a disk image: its Windows partition is mounted read-only (Linux, root)')
    .option('--all', 'every package (features, language packs), not only the updates')
    .option('--json', 'print them as JSON')
    .addHelpText(
      'after',
      helpText(`
Each line: the state (Installed, Staged, Install Pending, Superseded, ...), the KB, the package name. The name is what "wufix repair --only remove-package --package <name>" takes (or the KB).

Examples:
  wufix packages --root D:\\
  sudo wufix packages --image win10.vhdx --json`),
    )
    .action(async (o: { root?: string; image?: string; all?: boolean; json?: boolean }) => {
      checkTargetOptions(o);
      if (!o.root && !o.image) throw new UsageError('packages needs --root <the mounted Windows volume> or --image <disk image>');
      let all: CbsPackage[];
      try {
        all = o.image ? await withImageRoot(o.image, (r) => packagesAt(r), true) : await packagesAt(o.root!);
      } finally {
        closeImageSessions();
      }
      const list = (o.all ? all : all.filter(isUpdate)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (o.json) {
        writeJson({ packages: list, total: all.length });
        return;
      }
      const lines = list.map(
        (p) => `${p.stateName.padEnd(19)} ${(p.kb ?? '').padEnd(10)} ${p.name}${p.lastError ? `  (LastError 0x${(p.lastError >>> 0).toString(16)})` : ''}`,
      );
      writeOut(
        asciiSafe(
          `${'STATE'.padEnd(19)} ${'KB'.padEnd(10)} PACKAGE\n${lines.join('\n')}${lines.length ? '\n' : ''}${list.length} of ${all.length} package(s)${o.all ? '' : ' (updates; --all for every package)'}\n`,
        ),
      );
    });
}
