// Issue #19 item 3, stuck transactions complete: the pending repair on (1) a Windows 10 22H2 tree whose
// COMPONENTS hive holds ExecutionState / StoreDirty / NextQueueEntryIndex, whose SOFTWARE has an
// incomplete SessionsPending session next to a complete one, and whose CBS.log reports 0x800719e4
// ERROR_LOG_FULL with TxR logs in System32\config\TxR; (2) a tree with one truncated and one zeroed
// TxR log and no CBS evidence; (3) TxR entries that are a symbolic link and a folder.
// Through the built CLI: scan --json finds it (evidence), repair --yes fixes it, the rescan is clean,
// undo --last restores every file byte for byte (sha256 of the whole tree: hives, their .LOG1/.LOG2,
// CBS.log, TxR). Registry values checked with libhivex (python3-hivex).
// The hives are built by test/helpers/winbuilder.ts (real DEFAULT / NTUSER.DAT from ../shared) and
// edited here with our hive engine. The TxR files are modelled on CLFS (src/formats/clfs.ts): no
// licensed real .blf was available. The CBS lines follow the real column layout of the logs in
// ../shared/fixtures/logs/cbs, with the HRESULT text CBS prints for 0x800719e4.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, cpSync, mkdirSync, writeFileSync, symlinkSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, type InstallSpec } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { hivexDump, type DumpRow } from '../helpers/hive-tools.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { runCli } from '../helpers/cli.js';
import { WIN10_22H2 } from '../scan/scenarios.js';
import { openHiveFile, saveHiveFile } from '../../src/hive/hivefile.js';
import type { ScanResult } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const CFG = 'Windows/System32/config';
const TXR = `${CFG}/TxR`;
const CBS = 'Microsoft\\Windows\\CurrentVersion\\Component Based Servicing';
const SP = `${CBS}\\SessionsPending`;
const GUID = '{53b39e88-18c4-11ea-a811-000d3aa4692b}';
const INCOMPLETE = '31076840_1409547230';
const COMPLETE = '31076839_1177254613';

const dword = (n: number) => new Uint8Array([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff]);

/** A .blf modelled on CLFS: 64 KiB, control record block header (version 0x15, 2/2 sectors, record at 0x70). */
function blf(): Buffer {
  const b = Buffer.alloc(65536);
  b[0] = 0x15;
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(2, 6);
  b.writeUInt32LE(0x70, 0x28);
  b.write('CLFS control record (test model)', 0x70, 'latin1');
  return b;
}
/** A .regtrans-ms container: whole sectors (512 KiB) of log blocks. */
function container(seed: number): Buffer {
  const b = Buffer.alloc(512 * 1024);
  b[0] = 0x15;
  b.writeUInt32LE(seed, 0x10);
  return b;
}
const TXR_FILES: Record<string, () => Buffer> = {
  [`${GUID}.TM.blf`]: blf,
  [`${GUID}.TMContainer00000000000000000001.regtrans-ms`]: () => container(1),
  [`${GUID}.TxR.blf`]: blf,
  [`${GUID}.TxR.0.regtrans-ms`]: () => container(2),
  [`${GUID}.TxR.1.regtrans-ms`]: () => container(3),
};

const cbsLine = (ts: string, level: string, comp: string, msg: string) => `${ts}, ${level.padEnd(22)}${comp.padEnd(7)}${msg}\r\n`;
const PKG = 'Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3930.1.6';
const LOG_FULL_CBS =
  cbsLine(
    '2024-01-09 08:00:01',
    'Info',
    'CBS',
    'Loaded Servicing Stack v10.0.19041.3920 with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3920_none_7c1b0a1c0f5d6e3a\\cbscore.dll',
  ) +
  cbsLine(
    '2024-01-09 08:02:10',
    'Info',
    'CBS',
    `Session: ${INCOMPLETE} initialized by client WindowsUpdateAgent, external staging directory: (null), external registry directory: (null)`,
  ) +
  cbsLine('2024-01-09 08:02:11', 'Info', 'CBS', `Exec: Processing started.  Client: WindowsUpdateAgent, Session: ${INCOMPLETE}, Package: ${PKG}`) +
  cbsLine(
    '2024-01-09 08:05:40',
    'Error',
    'CSI',
    '00000012 (F) Logged @2024/1/9:08:05:40.512 : [ml:166{83},l:164{82}]"Failed to create registry transaction"[gle=0x800719e4]',
  ) +
  cbsLine('2024-01-09 08:05:40', 'Error', 'CBS', `Failed to execute execution package: ${PKG} [HRESULT = 0x800719e4 - ERROR_LOG_FULL]`) +
  cbsLine(
    '2024-01-09 08:05:41',
    'Info',
    'CBS',
    `WER: Generating failure report for package: ${PKG}, status: 0x800719e4, failure source: Execute, start state: Staged, target state: Installed, client id: WindowsUpdateAgent`,
  ) +
  cbsLine('2024-01-09 08:05:42', 'Info', 'CBS', `Session: ${INCOMPLETE} finalized. Reboot required: no [HRESULT = 0x800719e4 - ERROR_LOG_FULL]`);

const spec: InstallSpec = { ...WIN10_22H2, ubr: 3930, cbsText: LOG_FULL_CBS };
const quiet: InstallSpec = { ...WIN10_22H2, ubr: 3930 };

function writeTxr(root: string, files = TXR_FILES): void {
  mkdirSync(path.join(root, TXR), { recursive: true });
  for (const [name, make] of Object.entries(files)) writeFileSync(path.join(root, TXR, name), make());
}

/** ExecutionState, StoreDirty, NextQueueEntryIndex in COMPONENTS; an incomplete and a complete session in SessionsPending. */
async function stuckTransaction(root: string): Promise<void> {
  const c = await openHiveFile(path.join(root, CFG, 'COMPONENTS'));
  c.hive.setValue(c.hive.rootCell, 'ExecutionState', 4, dword(1));
  c.hive.setValue(c.hive.rootCell, 'StoreDirty', 4, dword(1));
  c.hive.setValue(c.hive.rootCell, 'NextQueueEntryIndex', 3, dword(2));
  c.hive.setValue(c.hive.rootCell, 'NextQueueEntryIndexBCDB', 4, dword(0)); // 0: settled, kept
  await saveHiveFile(c);
  const s = await openHiveFile(path.join(root, CFG, 'SOFTWARE'));
  const inc = s.hive.ensureKey(`${SP}\\${INCOMPLETE}`);
  s.hive.setValue(inc, 'Complete', 4, dword(0));
  s.hive.setValue(inc, 'LastCommittedPhase', 4, dword(1));
  s.hive.setValue(s.hive.ensureKey(`${SP}\\${COMPLETE}`), 'Complete', 4, dword(1));
  await saveHiveFile(s);
}

const scanJson = (root: string): ScanResult => {
  const r = runCli(['scan', '--root', root, '--json']);
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as { targets: ScanResult[] }).targets[0]!;
};
const rootValues = (rows: DumpRow[], p: string) =>
  rows
    .find((r) => r.path === p)!
    .values.map((v) => `${v.name}=${v.data}`)
    .sort();

describe.skipIf(!!reason)('pending repair: stuck transactions, complete (issue #19)', () => {
  let tmp = '';
  const pristine: Record<string, string> = {};
  let n = 0;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-txr-'));
    pristine.full = path.join(tmp, 'full');
    await buildWindowsTree(pristine.full, spec);
    await stuckTransaction(pristine.full);
    writeTxr(pristine.full);
    pristine.quiet = path.join(tmp, 'quiet');
    await buildWindowsTree(pristine.quiet, quiet);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const fresh = (name: string) => {
    const d = path.join(tmp, `t${n++}`);
    cpSync(pristine[name]!, d, { recursive: true });
    return d;
  };

  it('ERROR_LOG_FULL + COMPONENTS values + an incomplete session: scan evidence, repair --yes, clean rescan, undo --last byte for byte', () => {
    const root = fresh('full');
    const before = treeHashes(root);
    const compBefore = hivexDump(path.join(root, CFG, 'COMPONENTS'));
    const swBefore = hivexDump(path.join(root, CFG, 'SOFTWARE'));
    expect(rootValues(compBefore, '')).toEqual([
      'ExecutionState=01000000',
      'NextQueueEntryIndex=02000000',
      'NextQueueEntryIndexBCDB=00000000',
      'StoreDirty=01000000',
    ]);

    const t = scanJson(root);
    expect(t.servicing.componentsPending).toEqual(['ExecutionState', 'NextQueueEntryIndex', 'StoreDirty']);
    expect(t.servicing.sessionsPending).toEqual([INCOMPLETE]);
    expect(t.txr!.folder).toBe('Windows\\System32\\config\\TxR');
    expect(t.txr!.entries.map((e) => [e.path.split('\\').pop(), e.kind, e.damage])).toEqual(
      Object.keys(TXR_FILES)
        .sort()
        .map((k) => [k, 'file', undefined]),
    );
    const ids = t.findings.map((f) => f.id);
    expect(ids).toContain('pending-servicing');
    expect(ids).toContain('transaction-log-full');
    const full = t.findings.find((f) => f.id === 'transaction-log-full')!;
    expect(full).toMatchObject({ severity: 'error', repair: 'pending', errorCodes: ['0x800719e4'] });
    expect(full.explanation).toMatch(/^CBS reports 0x800719e4 \(ERROR_LOG_FULL\) 1 time: /);
    expect(full.evidence[0]).toMatchObject({ file: 'Windows\\Logs\\CBS\\CBS.log' });
    expect(full.evidence[0]!.data).toContain('0x800719e4');
    expect(full.evidence.slice(1).map((e) => e.file)).toEqual(t.txr!.entries.map((e) => e.path));
    const ps = t.findings.find((f) => f.id === 'pending-servicing')!;
    expect(ps.evidence).toEqual(
      expect.arrayContaining([
        { file: 'Windows\\System32\\config\\COMPONENTS', value: 'ExecutionState', data: 'present' },
        { file: 'Windows\\System32\\config\\COMPONENTS', value: 'StoreDirty', data: 'present' },
        { file: 'Windows\\System32\\config\\SOFTWARE', key: SP, data: INCOMPLETE },
      ]),
    );

    // The text report and the HTML report show the finding with its evidence.
    const html = path.join(tmp, `report${n++}.html`);
    const text = runCli(['scan', '--root', root, '--html', html]);
    expect(text.stdout).toContain('transaction-log-full');
    expect(text.stdout).toMatch(/^[\x00-\x7f]*$/);
    for (const line of text.stdout.split('\n')) expect(line.replaceAll(root, '<root>').length, line).toBeLessThanOrEqual(80);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('transaction-log-full');
    expect(page).toContain(`Windows\\System32\\config\\TxR\\${GUID}.TxR.blf`);
    expect(page).toContain('0x800719e4');

    const dry = runCli(['repair', '--root', root, '--only', 'pending']);
    expect(dry.stdout).toContain('TxR');
    expect(dry.stdout).toMatch(/^[\x00-\x7f]*$/);

    const r = runCli(['repair', '--root', root, '--only', 'pending', '--yes', '--json']);
    expect(r.status).toBe(0);
    // libhivex: the three set values gone, the 0 one kept; the incomplete session gone, the complete one kept.
    const compAfter = hivexDump(path.join(root, CFG, 'COMPONENTS'));
    expect(rootValues(compAfter, '')).toEqual(['NextQueueEntryIndexBCDB=00000000']);
    const swAfter = hivexDump(path.join(root, CFG, 'SOFTWARE'));
    expect(swAfter.some((x) => x.path === `${SP}\\${INCOMPLETE}`)).toBe(false);
    expect(rootValues(swAfter, `${SP}\\${COMPLETE}`)).toEqual(['Complete=01000000']);
    expect(swAfter.filter((x) => !x.path.startsWith(`${SP}\\${INCOMPLETE}`))).toEqual(swBefore.filter((x) => !x.path.startsWith(`${SP}\\${INCOMPLETE}`)));
    // Files: the TxR logs renamed away with the same bytes; nothing else but the two hives (and their logs).
    const after = treeHashes(root);
    const diff = treeDiff(before, after);
    const txrNames = Object.keys(TXR_FILES).sort();
    const moved = diff.filter((d) => d.startsWith(`${TXR}/`));
    expect(moved.filter((d) => !d.includes('.wufix-')).sort()).toEqual(txrNames.map((k) => `${TXR}/${k}`));
    for (const k of txrNames) {
      const to = moved.find((d) => d.startsWith(`${TXR}/${k}.wufix-`))!;
      expect(after.get(to)).toBe(before.get(`${TXR}/${k}`));
    }
    expect(diff.filter((d) => !d.startsWith(`${TXR}/`) && !/^Windows\/System32\/config\/(SOFTWARE|COMPONENTS)(\.LOG\d)?$/.test(d))).toEqual([]);
    for (const f of ['DEFAULT', 'DEFAULT.LOG1', 'DEFAULT.LOG2', 'SYSTEM']) expect(after.get(`${CFG}/${f}`)).toBe(before.get(`${CFG}/${f}`));

    const again = scanJson(root);
    expect(again.findings.map((f) => f.id)).toEqual([]);
    expect(again.servicing.componentsPending).toEqual([]);
    expect(again.servicing.sessionsPending).toEqual([]);
    expect(again.txr!.entries).toEqual([]);

    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status).toBe(0);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
    expect(scanJson(root).findings.map((f) => f.id)).toEqual(expect.arrayContaining(['pending-servicing', 'transaction-log-full']));
  });

  it('damaged TxR logs (one truncated, one zeroed) and no CBS evidence: found, moved, rescan clean, undo byte for byte', () => {
    const root = fresh('quiet');
    writeTxr(root, {
      [`${GUID}.TxR.blf`]: () => Buffer.alloc(65536),
      [`${GUID}.TxR.0.regtrans-ms`]: () => container(2).subarray(0, 300000),
      [`${GUID}.TxR.1.regtrans-ms`]: () => container(3),
    });
    const before = treeHashes(root);
    const t = scanJson(root);
    expect(t.findings.map((f) => f.id)).toEqual(['transaction-log-full']);
    const f = t.findings[0]!;
    expect(f.errorCodes).toBeUndefined();
    expect(f.explanation).toMatch(/^2 transaction logs are damaged: /);
    expect(f.evidence.map((e) => e.data)).toEqual([
      'damaged: is 300000 bytes, not a whole number of 512-byte sectors (truncated)',
      `${512 * 1024} bytes`,
      'damaged: starts with zeros, not a CLFS log block (overwritten)',
    ]);
    const r = runCli(['repair', '--root', root, '--yes']);
    expect(r.status).toBe(0);
    const diff = treeDiff(before, treeHashes(root));
    expect(diff.every((d) => d.startsWith(`${TXR}/`))).toBe(true);
    expect(diff).toHaveLength(6);
    expect(scanJson(root).findings).toEqual([]);
    expect(runCli(['undo', '--last', '--root', root]).status).toBe(0);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('healthy TxR logs and no CBS evidence: no finding, nothing planned (their presence is never evidence)', () => {
    const root = fresh('quiet');
    writeTxr(root);
    const t = scanJson(root);
    expect(t.txr!.entries).toHaveLength(5);
    expect(t.findings).toEqual([]);
    const r = runCli(['repair', '--root', root, '--only', 'pending', '--yes']);
    expect(readdirNames(path.join(root, TXR))).toEqual(Object.keys(TXR_FILES).sort());
    expect(r.status).not.toBeNull();
  });

  it('a link and a folder named like TxR logs: reported, never followed or moved; the real logs are', () => {
    const root = fresh('full');
    const outside = path.join(tmp, `outside${n++}.blf`);
    writeFileSync(outside, blf());
    symlinkSync(outside, path.join(root, TXR, 'evil.blf'));
    mkdirSync(path.join(root, TXR, 'folder.regtrans-ms'));
    writeFileSync(path.join(root, TXR, 'folder.regtrans-ms', 'inside.blf'), blf());
    const before = treeHashes(root);
    const outsideBefore = readFileSync(outside);
    const t = scanJson(root);
    expect(t.txr!.entries.filter((e) => e.kind !== 'file').map((e) => [e.path.split('\\').pop(), e.kind])).toEqual([
      ['evil.blf', 'link'],
      ['folder.regtrans-ms', 'dir'],
    ]);
    expect(t.problems).toEqual(
      expect.arrayContaining([
        'Windows\\System32\\config\\TxR\\evil.blf is a symbolic link or junction, not a transaction log: not followed, never moved',
        'Windows\\System32\\config\\TxR\\folder.regtrans-ms is a folder, not a transaction log: not followed, never moved',
      ]),
    );
    const r = runCli(['repair', '--root', root, '--only', 'pending', '--yes']);
    expect(r.status).toBe(0);
    const after = treeHashes(root);
    for (const k of ['evil.blf', 'folder.regtrans-ms/', 'folder.regtrans-ms/inside.blf']) expect(after.get(`${TXR}/${k}`)).toBe(before.get(`${TXR}/${k}`));
    expect(readFileSync(outside)).toEqual(outsideBefore);
    for (const k of Object.keys(TXR_FILES)) expect(after.has(`${TXR}/${k}`)).toBe(false);
    expect(runCli(['undo', '--last', '--root', root]).status).toBe(0);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });
});

function readdirNames(dir: string): string[] {
  return execFileSync('ls', ['-1', dir], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}
