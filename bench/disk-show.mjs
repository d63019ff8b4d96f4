// Measures reading the layout of a 2 TB sparse GPT image (Windows 10 22H2 layout with NTFS/FAT
// volumes made by the real tools) in-process, and `wufix disk show --json` end to end. Prints the
// numbers; asserts nothing (the target: layout read < 50 ms). Needs sgdisk, mkntfs,
// mkfs.fat and root (loop devices). Usage: node bench/disk-show.mjs [runs]
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 20);
const MiB = 1024 * 1024;
const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bench-'));
const sh = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function mkfs(img, start, size, args) {
  const dev = sh('losetup', ['--find', '--show', '--offset', String(start), '--sizelimit', String(size), img]).trim();
  try {
    sh(args[0], [...args.slice(1), dev]);
  } finally {
    sh('losetup', ['--detach', dev]);
  }
}

if (!existsSync(path.join(root, 'dist', 'wufix.js'))) throw new Error('run `npm run build` first (make bench does)');
try {
  const img = path.join(dir, 'win10-2tb.img');
  const size = 2 * 1000 ** 4; // 2 TB
  truncateSync((writeFileSync(img, ''), img), size - (size % 512));
  const lastAligned = Math.floor((size - 34 * 512) / MiB) * MiB;
  const rec = lastAligned - 570 * MiB;
  sh('sgdisk', [
    '-o',
    '-n1:2048:206847',
    '-t1:ef00',
    '-n2:206848:239615',
    '-t2:0c01',
    `-n3:239616:${rec / 512 - 1}`,
    '-t3:0700',
    `-n4:${rec / 512}:${lastAligned / 512 - 1}`,
    '-t4:de94bba4-06d1-4d40-a16a-bfd50179d6ac',
    '-A4:set:0',
    '-A4:set:63',
    img,
  ]);
  mkfs(img, MiB, 100 * MiB, ['mkfs.fat', '-F', '32', '-n', 'SYSTEM']);
  mkfs(img, 117 * MiB, 4096 * MiB, ['mkntfs', '-Q', '-F', '-q', '-L', 'Windows']);
  mkfs(img, rec, 570 * MiB, ['mkntfs', '-Q', '-F', '-q', '-L', 'Windows RE tools']);

  const out = path.join(dir, 'disk.mjs');
  await build({
    stdin: {
      contents: "export { readLayout } from './src/disk/layout.ts'; export { openBlockDevice } from './src/disk/blockdev.ts';",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'error',
  });
  const { readLayout, openBlockDevice } = await import(pathToFileURL(out).href);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const dev = openBlockDevice(img);
    const layout = readLayout(dev);
    dev.close();
    times.push(performance.now() - t0);
    if (i === 0) console.log(`layout: ${layout.scheme}, ${layout.partitions.length} partitions, ${layout.partitions.map((p) => p.volume?.fs).join(',')}`);
  }
  times.sort((a, b) => a - b);
  const cli = path.join(root, 'dist', 'wufix.js');
  // End to end, side by side with the reference reader in the same run (medians of 5).
  const med = (f) => {
    const t = [];
    for (let i = 0; i < 5; i++) {
      const c0 = performance.now();
      f();
      t.push(performance.now() - c0);
    }
    return t.sort((a, b) => a - b)[2];
  };
  const cliMs = med(() => sh(process.execPath, [cli, 'disk', 'show', '--json', img]));
  const sfdiskMs = med(() => sh('sfdisk', ['--json', img]));
  console.log(
    `readLayout (open + GPT + probes) of a 2 TB sparse image, ${runs} runs: worst ${times.at(-1).toFixed(2)} ms, median ${times[Math.floor(runs / 2)].toFixed(2)} ms, best ${times[0].toFixed(2)} ms (target < 50 ms)`,
  );
  console.log(
    `end to end: wufix disk show --json ${cliMs.toFixed(1)} ms (node startup included, volumes probed); sfdisk --json ${sfdiskMs.toFixed(1)} ms (table only); ratio ${(cliMs / sfdiskMs).toFixed(2)}x`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
