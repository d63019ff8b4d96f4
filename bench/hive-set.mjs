// One value set + atomic save on a generated ~100 MB hive: wufix vs hivexsh (libhivex) on the same
// file in the same run. Goals (issue #2): < 1 s, peak memory <= 3x the file size.
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync, statSync, copyFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ROOT, CLI, requireBuilt, measure, repeat, fmtMs, fmtMb } from './lib.mjs';

requireBuilt();
const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bench-'));
try {
  const big = path.join(dir, 'big.hive');
  // Generate with the engine: 25,000 keys x 2 values of ~2 KB, about 100 MB.
  const gen = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
    const { Hive } = await import(${JSON.stringify(path.join(ROOT, 'bench/out/hive-lib.cjs'))}).then(m => m.default ?? m);
    const { writeFileSync } = await import('node:fs');
    const h = Hive.create({ minor: 5 });
    const data = new Uint8Array(2000).fill(7);
    for (let i = 0; i < 250; i++) {
      const a = h.createKey(h.rootCell, 'Group' + i);
      for (let j = 0; j < 100; j++) {
        const k = h.createKey(a, 'Key' + j);
        h.setValue(k, 'A', 3, data);
        h.setValue(k, 'B', 3, data);
      }
    }
    writeFileSync(${JSON.stringify(big)}, h.serialize());
  `,
    ],
    { stdio: 'inherit' },
  );
  if (gen.status !== 0) throw new Error('generating the hive failed');
  const size = statSync(big).size;
  const N = Number(process.env.BENCH_RUNS ?? 5);
  const work = path.join(dir, 'work.hive');
  const ours = repeat(N, (i) => {
    copyFileSync(big, work);
    return measure(process.execPath, [CLI, 'hive', 'set', work, 'Group7\\Key42', 'State', '--type', 'REG_DWORD', '--data', String(0x23c00 + i)]);
  });
  const script = path.join(dir, 'hivexsh.txt');
  writeFileSync(script, 'cd Group7\\Key42\nsetval 1\nState\ndword:0x23c00\ncommit\n');
  const ref = repeat(N, () => {
    copyFileSync(big, work);
    return measure('hivexsh', ['-w', '-f', script, work]);
  });
  console.log(`hive set + save: generated hive ${(size / 1048576).toFixed(1)} MB, median of ${N}`);
  console.log(`  hivexsh -w setval+commit: ${fmtMs(ref.ms)}  peak ${fmtMb(ref.rssKb)}`);
  console.log(`  wufix hive set:           ${fmtMs(ours.ms)}  peak ${fmtMb(ours.rssKb)} (${((ours.rssKb * 1024) / size).toFixed(2)}x file size)`);
  console.log(`  ratio wufix/hivexsh: ${(ours.ms / ref.ms).toFixed(2)}x`);
  console.log(`  goals: < 1 s ${ours.ms < 1000 ? 'MET' : 'NOT MET'}; peak <= 3x file ${ours.rssKb * 1024 <= 3 * size ? 'MET' : 'NOT MET'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
