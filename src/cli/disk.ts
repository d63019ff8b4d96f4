// `wufix disk ...`: thin command layer over src/disk (options in, text or JSON out).
import { Command, Option } from 'commander';
import { openBlockDevice, checkSectorSize } from '../disk/blockdev.js';
import { readLayout } from '../disk/layout.js';
import { showJson, showText } from '../disk/show.js';
import { UsageError } from '../shared/errors.js';
import { asciiSafe, writeOut } from './output.js';
import { consoleWidth } from '../shared/style.js';

function sectorSizeOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--sector-size must be 512 or 4096, not "${v}"`);
  return checkSectorSize(n);
}

export function diskCommand(): Command {
  const disk = new Command('disk').description('read disk partition layouts (GPT and MBR) of images and devices');
  disk
    .command('show')
    .description('show the partition table, volumes and free space of a disk image or device (read-only)')
    .argument('<image|device>', 'disk image file, /dev/... block device, or \\\\.\\PhysicalDriveN')
    .option('--json', 'print JSON (numbers in bytes)')
    .addOption(new Option('--sector-size <bytes>', 'logical sector size: 512 or 4096 (default: detect)').argParser(sectorSizeOption))
    .action((target: string, opts: { json?: boolean; sectorSize?: number }) => {
      const dev = openBlockDevice(target, { sectorSize: opts.sectorSize });
      try {
        const layout = readLayout(dev);
        // JSON with non-ASCII characters as \uXXXX escapes: still valid JSON, safe on the WinPE console.
        if (opts.json) writeOut(asciiSafe(JSON.stringify(showJson(layout), null, 2)) + '\n');
        else writeOut(asciiSafe(showText(layout, target, consoleWidth())));
      } finally {
        dev.close();
      }
    });
  return disk;
}
