// Builds the demo installation: the .NET 4 KB2656368 failure (WinTrust State 0xC9 in .DEFAULT and a
// user hive, 0x800B010B in the setup log) on real Windows hives. Bundled and run by scripts/demo.sh.
import { buildWindowsTree } from '../test/helpers/winbuilder.js';
import { dotnetWintrust } from '../test/scan/scenarios.js';

const root = process.argv[2];
if (!root) throw new Error('usage: demo-build <dir>');
await buildWindowsTree(root, dotnetWintrust);
