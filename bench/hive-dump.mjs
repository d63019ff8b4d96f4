// Full dump of the largest hive fixture: `wufix hive dump --json` vs libhivex's `hivexml`, same file,
// same run. Goal (issues #2, #15): ratio <= 1.0. Node's own start-up and the bundle's (`--version`)
// are measured in the same run, so the log shows how much of the dump time is spent before it.
import path from 'node:path';
import { statSync } from 'node:fs';
import { SHARED, CLI, requireBuilt, measure, repeat, fmtMs, fmtMb } from './lib.mjs';

requireBuilt();
const file = path.join(SHARED, 'fixtures/hives/regipy/SYSTEM_B');
const size = statSync(file).size;
const N = Number(process.env.BENCH_RUNS ?? 5);
// Warm the page cache for both.
measure('hivexml', [file]);
measure(process.execPath, [CLI, 'hive', 'dump', file, '--json', '--no-logs']);
const ref = repeat(N, () => measure('hivexml', [file]));
const ours = repeat(N, () => measure(process.execPath, [CLI, 'hive', 'dump', file, '--json', '--no-logs']));
const node0 = repeat(N, () => measure(process.execPath, ['-e', '0']));
const version = repeat(N, () => measure(process.execPath, [CLI, '--version']));
const ratio = ours.ms / ref.ms;
console.log(`hive dump: regipy/SYSTEM_B (${(size / 1048576).toFixed(1)} MB, 33,123 keys), median of ${N}`);
console.log(`  hivexml:                 ${fmtMs(ref.ms)}  peak ${fmtMb(ref.rssKb)}`);
console.log(`  wufix hive dump --json:  ${fmtMs(ours.ms)}  peak ${fmtMb(ours.rssKb)}`);
console.log(`  of which start-up:       ${fmtMs(version.ms)} (node dist/wufix.js --version; node -e 0: ${fmtMs(node0.ms)})`);
console.log(`  ratio wufix/hivexml: ${ratio.toFixed(2)}x (goal <= 1.0x) ${ratio <= 1 ? 'MET' : 'NOT MET'}`);
