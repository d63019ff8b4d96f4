// `wufix scan --root` over the largest real logs of ../shared/fixtures/logs, repeated until the text
// logs total ~300 MB (CBS.log the bulk; decoded WindowsUpdate.log, dism.log, ReportingEvents.log,
// and the real System/Setup/WindowsUpdateClient Operational .evtx once). Goal (issue #16): < 3 s,
// < 400 MB peak. Reference in the same run: grep -a -c -E "Error|FAILED|0x8" over the same files (-a: CBS.log holds NUL bytes, and grep stops at the first match in a "binary" file)
// (the least a technician's search does).
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync, copyFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ROOT, SHARED, CLI, requireBuilt, measure, repeat, fmtMs, fmtMb } from './lib.mjs';

requireBuilt();
const require = createRequire(import.meta.url);
const { Hive } = require(path.join(ROOT, 'bench/out/hive-lib.cjs'));
const L = path.join(SHARED, 'fixtures/logs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bench-logs-'));
const dw = (n) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const u16 = (s) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));

/** Writes `srcs` concatenated, again and again, until `bytes`. */
function repeatTo(dest, srcs, bytes) {
  mkdirSync(path.dirname(dest), { recursive: true });
  const parts = srcs.map((s) => readFileSync(path.join(L, s)));
  const fd = openSync(dest, 'w');
  let n = 0;
  try {
    while (n < bytes) for (const p of parts) n += writeSync(fd, p);
  } finally {
    closeSync(fd);
  }
  return n;
}

try {
  const cfg = path.join(dir, 'Windows', 'System32', 'config');
  mkdirSync(cfg, { recursive: true });
  const sw = Hive.create({ minor: 5 });
  const cv = sw.ensureKey('Microsoft\\Windows NT\\CurrentVersion');
  sw.setValue(cv, 'ProductName', 1, u16('Windows 10 Pro'));
  sw.setValue(cv, 'CurrentBuild', 1, u16('19045'));
  writeFileSync(path.join(cfg, 'SOFTWARE'), sw.serialize());
  const sy = Hive.create({ minor: 5 });
  const sel = sy.ensureKey('Select');
  sy.setValue(sel, 'Current', 4, dw(1));
  sy.setValue(sel, 'Default', 4, dw(1));
  sy.setValue(sy.ensureKey('ControlSet001\\Services\\wuauserv'), 'Start', 4, dw(3));
  writeFileSync(path.join(cfg, 'SYSTEM'), sy.serialize());

  const W = path.join(dir, 'Windows');
  const text = [];
  const cbsSrc = readdirCbs();
  text.push(path.join(W, 'Logs/CBS/CBS.log'));
  let total = repeatTo(text[0], cbsSrc, 240 * 2 ** 20);
  text.push(path.join(W, 'WindowsUpdate.log'));
  total += repeatTo(
    text[1],
    ['windowsupdate/win10-22h2-kb5034441-0x80070643-0x800f0828-ReeceKetley.log', 'windowsupdate/win10-21h2-store-download-http403-0x80190193-josemct.log'],
    40 * 2 ** 20,
  );
  text.push(path.join(W, 'Logs/DISM/dism.log'));
  total += repeatTo(text[2], ['dism/win10-21h2-netfx3-enable-0x800f081f-iideerii.log'], 20 * 2 ** 20);
  mkdirSync(path.join(W, 'SoftwareDistribution'), { recursive: true });
  text.push(path.join(W, 'SoftwareDistribution/ReportingEvents.log'));
  copyFileSync(path.join(L, 'reportingevents/win10-11-ReportingEvents-utf16-detect-fail-0x80072ee2-dcheva.log'), text[3]);
  total += statSync(text[3]).size;
  const ev = path.join(W, 'System32/winevt/Logs');
  mkdirSync(ev, { recursive: true });
  copyFileSync(path.join(L, 'evtx/win11-21h2-System-wuclient-19-20-43-44-five-failures-DFIRArtifactMuseum.evtx'), path.join(ev, 'System.evtx'));
  copyFileSync(path.join(L, 'evtx/win10-21h1-Setup-servicing-lcu-reboot-required-DFIRArtifactMuseum.evtx'), path.join(ev, 'Setup.evtx'));
  copyFileSync(
    path.join(L, 'evtx/win10-ltsc2019-WindowsUpdateClient%4Operational-scan-failures-0x800b0101-DFIRArtifactMuseum.evtx'),
    path.join(ev, 'Microsoft-Windows-WindowsUpdateClient%4Operational.evtx'),
  );
  console.log(`volume: ${(total / 2 ** 20).toFixed(0)} MB of text logs (CBS.log ${(statSync(text[0]).size / 2 ** 20).toFixed(0)} MB) + 3 real .evtx`);

  const wufix = repeat(3, () => measure(process.execPath, [CLI, 'scan', '--root', dir, '--json', '-q'], {}, [0, 10]));
  // Through a pipe: GNU grep notices a stdout of /dev/null (what measure() gives) and stops at the first match.
  const grep = repeat(3, () => measure('sh', ['-c', 'grep -a -c -E "$0" "$@" | cat', 'Error|FAILED|0x8', ...text], {}, [0, 1]));
  console.log(`wufix scan --json : ${fmtMs(wufix.ms)}, peak ${fmtMb(wufix.rssKb)}`);
  console.log(`grep -a -c -E     : ${fmtMs(grep.ms)}, peak ${fmtMb(grep.rssKb)}`);
  console.log(`ratio (wufix/grep): time ${(wufix.ms / grep.ms).toFixed(2)}x, memory ${(wufix.rssKb / grep.rssKb).toFixed(1)}x`);
  console.log(`goal < 3000 ms and < 400 MB: ${wufix.ms < 3000 && wufix.rssKb < 400 * 1024 ? 'met' : 'NOT met'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function readdirCbs() {
  return [
    'cbs/win7sp1-x86-sfc-scannow-unrepairable-plus-sp1-0x80070490-Infinito1977.log',
    'cbs/win10-1903-1909-clean-wu-sessions-0x800f0805-noise-JoseMorenoSater.log',
    'cbs/win10-19041-dismpp-and-fod-sessions-no-failure-HowardZHY.log',
    'cbs/win11-24h2-clean-wu-sessions-glsureshkumar.log',
  ];
}
