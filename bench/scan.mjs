// `wufix scan --root` on an installation with a ~100 MB SOFTWARE hive and a ~200 MB CBS.log.
// Goal (issue #4): < 3 s, peak memory < 400 MB. Reference in the same run: the independent readers
// doing the least comparable work on the same files (hivexml over SOFTWARE + grep over CBS.log).
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ROOT, CLI, requireBuilt, measure, repeat, fmtMs, fmtMb, writeSystemAndDefault } from './lib.mjs';

requireBuilt();
const require = createRequire(import.meta.url);
const { Hive } = require(path.join(ROOT, 'bench/out/hive-lib.cjs'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bench-scan-'));
const u16 = (s) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
const dw = (n) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
try {
  const cfg = path.join(dir, 'Windows', 'System32', 'config');
  mkdirSync(cfg, { recursive: true });
  // SOFTWARE: the keys the scan reads, plus ~100 MB of realistic bulk (Classes-like keys and values).
  const sw = Hive.create({ minor: 5 });
  const cv = sw.ensureKey('Microsoft\\Windows NT\\CurrentVersion');
  sw.setValue(cv, 'ProductName', 1, u16('Windows 10 Pro'));
  sw.setValue(cv, 'EditionID', 1, u16('Professional'));
  sw.setValue(cv, 'InstallationType', 1, u16('Client'));
  sw.setValue(cv, 'CurrentBuild', 1, u16('19045'));
  sw.setValue(cv, 'UBR', 4, dw(3930));
  sw.setValue(
    sw.ensureKey('Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\S-1-5-18'),
    'ProfileImagePath',
    2,
    u16('%systemroot%\\system32\\config\\systemprofile'),
  );
  const blob = new Uint8Array(1500).fill(0x41);
  for (let i = 0; i < 510; i++) {
    const g = sw.createKey(sw.rootCell, `Classes${i}`);
    for (let j = 0; j < 100; j++) {
      const k = sw.createKey(g, `{${(i * 1000 + j).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000}`);
      sw.setValue(k, '', 1, u16(`Component ${i}.${j}`));
      sw.setValue(k, 'Data', 3, blob);
    }
  }
  writeFileSync(path.join(cfg, 'SOFTWARE'), sw.serialize());
  writeSystemAndDefault(Hive, cfg);
  // CBS.log: ~200 MB of Info lines with an error every 50,000 lines.
  const cbsDir = path.join(dir, 'Windows', 'Logs', 'CBS');
  mkdirSync(cbsDir, { recursive: true });
  const cbs = path.join(cbsDir, 'CBS.log');
  const fd = openSync(cbs, 'w');
  const info =
    '2024-01-10 03:12:40, Info                  CBS    Exec: Processing started.  Client: UpdateAgentLCU, Session: 31076848_1409547231, Package: Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3930.1.7\r\n';
  const block = info.repeat(1000);
  let n = 0;
  while (n < 200 * 1024 * 1024) {
    writeSync(fd, block);
    n += block.length;
    if ((n / block.length) % 50 === 0)
      writeSync(
        fd,
        '2024-01-10 03:12:41, Error                 CBS    Failed to execute execution package: Package_for_KB5034441~31bf3856ad364e35~amd64~~10.0.1.0 [HRESULT = 0x80070643]\r\n',
      );
  }
  closeSync(fd);
  const swSize = statSync(path.join(cfg, 'SOFTWARE')).size;
  const cbsSize = statSync(cbs).size;
  const N = Number(process.env.BENCH_RUNS ?? 3);
  const ours = repeat(N, () => measure(process.execPath, [CLI, 'scan', '--root', dir, '--json', '--quiet'], {}, [0, 10]));
  const ref = repeat(N, () => {
    const a = measure('hivexml', [path.join(cfg, 'SOFTWARE')]);
    const b = measure('grep', ['-c', ', Error ', cbs], {}, [0, 1]);
    return { ms: a.ms + b.ms, rssKb: Math.max(a.rssKb, b.rssKb) };
  });
  console.log(`scan: SOFTWARE ${(swSize / 1048576).toFixed(1)} MB, CBS.log ${(cbsSize / 1048576).toFixed(1)} MB, median of ${N}`);
  console.log(`  hivexml SOFTWARE + grep CBS.log: ${fmtMs(ref.ms)}  peak ${fmtMb(ref.rssKb)}`);
  console.log(`  wufix scan --root --json:        ${fmtMs(ours.ms)}  peak ${fmtMb(ours.rssKb)}`);
  console.log(`  ratio wufix/reference: ${(ours.ms / ref.ms).toFixed(2)}x`);
  console.log(`  goals: < 3 s ${ours.ms < 3000 ? 'MET' : 'NOT MET'}; peak < 400 MB ${ours.rssKb < 400 * 1024 ? 'MET' : 'NOT MET'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
