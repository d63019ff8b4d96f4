// Shared benchmark helpers: run a command several times, report the median wall time and peak RSS
// (from GNU time), so that wufix and the reference tool are measured side by side in one run.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = process.env.WUFIX_SHARED ?? path.resolve(ROOT, '../shared');
/** The CLI under test: dist/wufix.js, or WUFIX_BENCH_CLI (another build, e.g. the one before a change, for a before/after run). */
export const CLI = process.env.WUFIX_BENCH_CLI ? path.resolve(process.env.WUFIX_BENCH_CLI) : path.join(ROOT, 'dist', 'wufix.js');

export function requireBuilt() {
  if (!existsSync(CLI)) throw new Error('dist/wufix.js is missing: run `npm run build` (make bench does)');
}

/** Run `cmd args` with stdout to /dev/null; returns { ms, rssKb, status }. */
export function measure(cmd, args, env = {}, okStatus = [0]) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '--', 'sh', '-c', 'exec "$0" "$@" > /dev/null', cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const lines = (r.stderr || '').trim().split('\n');
  const rssKb = Number(lines[lines.length - 1]);
  if (!okStatus.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, rssKb };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function repeat(n, fn) {
  const ms = [];
  const rss = [];
  for (let i = 0; i < n; i++) {
    const r = fn(i);
    ms.push(r.ms);
    rss.push(r.rssKb);
  }
  return { ms: median(ms), rssKb: Math.max(...rss) };
}

export const fmtMs = (ms) => `${ms.toFixed(0)} ms`;
export const fmtMb = (kb) => `${(kb / 1024).toFixed(1)} MB`;

/**
 * The SYSTEM hive (Select, the update services at Start=3) and the real Win11 DEFAULT hive a scan
 * bench's installation needs beside its SOFTWARE, written into `cfg` (Windows\System32\config).
 * `Hive` is the engine from bench/out/hive-lib.cjs.
 */
export function writeSystemAndDefault(Hive, cfg) {
  const dw = (n) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    return b;
  };
  const sy = Hive.create({ minor: 5 });
  const sel = sy.ensureKey('Select');
  sy.setValue(sel, 'Current', 4, dw(1));
  sy.setValue(sel, 'Default', 4, dw(1));
  for (const s of ['wuauserv', 'BITS', 'CryptSvc', 'TrustedInstaller', 'msiserver', 'UsoSvc', 'EventLog'])
    sy.setValue(sy.ensureKey(`ControlSet001\\Services\\${s}`), 'Start', 4, dw(3));
  writeFileSync(path.join(cfg, 'SYSTEM'), sy.serialize());
  copyFileSync(path.join(SHARED, 'fixtures/hives/DFIRArtifactMuseum/Win11/DEFAULT'), path.join(cfg, 'DEFAULT'));
}
