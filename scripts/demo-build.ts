// Builds the demo machine, bundled and run by scripts/demo.sh:
// - `demo-build image <file>` (root): a 16 GiB sparse GPT disk image like a Windows 10 22H2 laptop
//   (ESP with a real BCD store, MSR, Windows, a 570 MB recovery partition with 82 MB free after a
//   wimcapture Winre.wim), whose KB5034441 fails with 0x80070643 and whose .NET updates fail on a
//   WinTrust State of 0xC9 in .DEFAULT and a user hive; real Windows hives from ../shared.
// - `demo-build tree <dir>` (no root needed): the .NET 4 KB2656368 failure as a volume tree only.
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { buildWindowsTree } from '../test/helpers/winbuilder.js';
import { buildWinreDisk, laptopParts } from '../test/helpers/winre-images.js';
import { dotnetWintrust, win10Winre } from '../test/scan/scenarios.js';

const [mode, out] = process.argv.slice(2);
if (!out || (mode !== 'image' && mode !== 'tree')) throw new Error('usage: demo-build image <file> | tree <dir>');
if (mode === 'tree') {
  await buildWindowsTree(out, dotnetWintrust);
} else {
  const MiB = 1024 * 1024;
  const size = 16 * 1024 * MiB;
  const tmp = mkdtempSync(path.join(path.dirname(out), 'tree-'));
  try {
    await buildWindowsTree(tmp, { ...win10Winre, wintrust: { default: 0xc9, user: 0xc9 } });
    buildWinreDisk(out, {
      scheme: 'gpt',
      size,
      tree: tmp,
      parts: laptopParts(size, 82 * MiB),
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
