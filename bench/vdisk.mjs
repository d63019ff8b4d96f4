// Virtual-disk containers (issue #18) on the demo's 16 GiB laptop image: `wufix scan --image` of the
// raw image against its qcow2 and VHDX copies (qemu-img convert), side by side in one run; goal:
// the container's scan <= 1.3x the raw image's. Then a batch of 8 images (4 raw, 2 qcow2, 2 VHDX):
// `scan --image <8> -j 2` against the 8 single runs one after the other; goal: close to what the
// machine allows (the ideal on 2 cores is half the sequential time when the scans are CPU bound).
// The page cache is warm for every run (each image is scanned once before it is measured).
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync, copyFileSync, statSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { ROOT, CLI, requireBuilt, measure, repeat, fmtMs, fmtMb } from './lib.mjs';

requireBuilt();
const need = ['qemu-img', 'qemu-storage-daemon', 'ntfs-3g', 'wimcapture'];
const missing = need.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
if (process.getuid?.() !== 0 || missing.length) {
  console.log(`vdisk: skipped (needs root and ${missing.join(', ') || 'loop devices'})`);
  process.exit(0);
}
const { buildWinreDisk, buildWindowsTree, win10Winre, laptopParts } = await import(path.join(ROOT, 'bench/out/winre-image.mjs'));
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const N = Number(process.env.BENCH_RUNS ?? 5);
const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bench-vdisk-'));
const env = { TMPDIR: dir, WUFIX_STATE_DIR: path.join(dir, 'state') };
const scan = (img) => measure(process.execPath, [CLI, 'scan', '--image', img, '--json', '--quiet'], env, [10]);
const timed = (fn) => {
  const s = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - s) / 1e6;
};
const alloc = (f) => Number(execFileSync('du', ['-k', f], { encoding: 'utf8' }).split('\t')[0]) * 1024;
try {
  const tree = path.join(dir, 'tree');
  await buildWindowsTree(tree, { ...win10Winre, wintrust: { default: 0xc9, user: 0xc9 } });
  const raw = path.join(dir, 'laptop.img');
  const size = 16 * GiB;
  buildWinreDisk(raw, { scheme: 'gpt', size, tree, parts: laptopParts(size, 82 * MiB) });
  rmSync(tree, { recursive: true, force: true });
  const qcow2 = path.join(dir, 'laptop.qcow2');
  const vhdx = path.join(dir, 'laptop.vhdx');
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', raw, vhdx]);
  console.log(
    `The demo laptop: ${size / GiB} GiB virtual, ${(alloc(raw) / MiB).toFixed(0)} MiB allocated (raw), ${fmtMb(statSync(qcow2).size / 1024)} qcow2, ${fmtMb(statSync(vhdx).size / 1024)} VHDX; median of ${N} runs each, warm cache`,
  );
  for (const f of [raw, qcow2, vhdx]) scan(f);
  const r = repeat(N, () => scan(raw));
  const q = repeat(N, () => scan(qcow2));
  const v = repeat(N, () => scan(vhdx));
  console.log(`  scan --image laptop.img   (raw)   ${fmtMs(r.ms).padStart(8)}  peak ${fmtMb(r.rssKb)}`);
  console.log(`  scan --image laptop.qcow2         ${fmtMs(q.ms).padStart(8)}  peak ${fmtMb(q.rssKb)}   ratio ${(q.ms / r.ms).toFixed(2)}x (goal <= 1.3x)`);
  console.log(`  scan --image laptop.vhdx          ${fmtMs(v.ms).padStart(8)}  peak ${fmtMb(v.rssKb)}   ratio ${(v.ms / r.ms).toFixed(2)}x (goal <= 1.3x)`);
  // Where the container time goes: qemu-img check + info before the attach, and the attach itself.
  const chk = repeat(N, () => measure('qemu-img', ['check', '-f', 'qcow2', qcow2]));
  console.log(`  of which qemu-img check of the qcow2 (run before every attach): ${fmtMs(chk.ms)}`);

  // The batch: 4 raw copies (sparse), 2 qcow2, 2 VHDX.
  const batch = [];
  for (let i = 0; i < 4; i++) {
    const f = path.join(dir, `lab-${i}.img`);
    execFileSync('cp', ['--sparse=always', raw, f]);
    batch.push(f);
  }
  for (let i = 0; i < 2; i++) {
    const a = path.join(dir, `lab-${i}.qcow2`);
    copyFileSync(qcow2, a);
    const b = path.join(dir, `lab-${i}.vhdx`);
    copyFileSync(vhdx, b);
    batch.push(a, b);
  }
  for (const f of batch) scan(f);
  const seqMs = [];
  const parMs = [];
  const M = Math.max(1, Math.min(3, N));
  for (let k = 0; k < M; k++) {
    seqMs.push(timed(() => batch.forEach((f) => scan(f))));
    parMs.push(
      timed(() => {
        const out = path.join(dir, `out-${k}`);
        const x = spawnSync(process.execPath, [CLI, 'scan', '--image', ...batch, '-j', '2', '--out-dir', out, '--quiet'], {
          env: { ...process.env, ...env },
          encoding: 'utf8',
        });
        if (x.status !== 10) throw new Error(`batch scan exited ${x.status}: ${x.stderr}`);
        rmSync(out, { recursive: true, force: true });
      }),
    );
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const seq = med(seqMs);
  const par = med(parMs);
  console.log(`Batch of 8 images (4 raw, 2 qcow2, 2 VHDX), median of ${M}, ${os.cpus().length} CPUs:`);
  console.log(`  8 single scans one after the other ${fmtMs(seq).padStart(8)}`);
  console.log(`  scan --image <8> -j 2              ${fmtMs(par).padStart(8)}   ratio ${(par / seq).toFixed(2)}x of sequential (ideal on 2 cores: 0.50x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
