// `wufix scan --root --json` of an installation whose ProfileList names 0, 4,000 and 16,000 profiles
// whose folders are missing, beside as many other folders in Users (a hostile or neglected image: a
// per-entry listing of Users would make the scan quadratic). Goal (issue #17's hostile-image work):
// the cost beyond the baseline grows linearly (16,000 vs 4,000 entries: about 4x, well under 8x;
// quadratic would be 16x) and peak memory stays < 512 MB. Reference in the same run: hivexml over
// the same SOFTWARE hive (it reads every entry once), whose growth is linear by construction.
// Moved here from test/security/profiles.test.ts: time and memory are measured in benchmarks only.
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ROOT, CLI, requireBuilt, measure, repeat, fmtMs, fmtMb, writeSystemAndDefault } from './lib.mjs';

requireBuilt();
const require = createRequire(import.meta.url);
const { Hive } = require(path.join(ROOT, 'bench/out/hive-lib.cjs'));
const u16 = (s) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
const dw = (n) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const PL = 'Microsoft\\Windows NT\\CurrentVersion\\ProfileList';

function installation(dir, n) {
  const cfg = path.join(dir, 'Windows', 'System32', 'config');
  mkdirSync(cfg, { recursive: true });
  const sw = Hive.create({ minor: 5 });
  const cv = sw.ensureKey('Microsoft\\Windows NT\\CurrentVersion');
  for (const [k, v] of [
    ['ProductName', 'Windows 10 Pro'],
    ['EditionID', 'Professional'],
    ['InstallationType', 'Client'],
    ['CurrentBuild', '19045'],
  ])
    sw.setValue(cv, k, 1, u16(v));
  sw.setValue(cv, 'UBR', 4, dw(3930));
  sw.setValue(sw.ensureKey(`${PL}\\S-1-5-18`), 'ProfileImagePath', 2, u16('%systemroot%\\system32\\config\\systemprofile'));
  for (let i = 0; i < n; i++) {
    sw.setValue(sw.ensureKey(`${PL}\\S-1-5-21-1111111111-2222222222-3333333333-${10000 + i}`), 'ProfileImagePath', 2, u16(`C:\\Users\\missing-user-${i}`));
    mkdirSync(path.join(dir, 'Users', `Old-Profile-${i}`), { recursive: true });
  }
  writeFileSync(path.join(cfg, 'SOFTWARE'), sw.serialize());
  writeSystemAndDefault(Hive, cfg);
  return path.join(cfg, 'SOFTWARE');
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bench-profiles-'));
try {
  const N = Number(process.env.BENCH_RUNS ?? 3);
  const rows = [];
  for (const n of [0, 4000, 16000]) {
    const root = path.join(dir, `p${n}`);
    const software = installation(root, n);
    const ours = repeat(N, () => measure(process.execPath, [CLI, 'scan', '--root', root, '--json', '--quiet'], {}, [0, 10]));
    const ref = repeat(N, () => measure('hivexml', [software]));
    rows.push({ n, ours, ref });
    console.log(`  ${String(n).padStart(6)} entries: wufix ${fmtMs(ours.ms)} peak ${fmtMb(ours.rssKb)}; hivexml ${fmtMs(ref.ms)} peak ${fmtMb(ref.rssKb)}`);
  }
  const [r0, r4, r16] = rows;
  const ours4 = Math.max(r4.ours.ms - r0.ours.ms, 1);
  const ours16 = Math.max(r16.ours.ms - r0.ours.ms, 1);
  const ref4 = Math.max(r4.ref.ms - r0.ref.ms, 1);
  const ref16 = Math.max(r16.ref.ms - r0.ref.ms, 1);
  console.log(`profiles: scan of 0 / 4,000 / 16,000 ProfileList entries to missing folders, median of ${N}`);
  console.log(
    `  growth 4,000 -> 16,000 beyond the baseline: wufix ${(ours16 / ours4).toFixed(2)}x, hivexml ${(ref16 / ref4).toFixed(2)}x (linear 4x, quadratic 16x)`,
  );
  console.log(`  ratio wufix/hivexml at 16,000: ${(r16.ours.ms / r16.ref.ms).toFixed(2)}x`);
  console.log(`  goals: growth < 8x ${ours16 / ours4 < 8 ? 'MET' : 'NOT MET'}; peak < 512 MB ${r16.ours.rssKb < 512 * 1024 ? 'MET' : 'NOT MET'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
