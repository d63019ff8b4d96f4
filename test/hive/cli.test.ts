// The `wufix hive` command-line contract (issue #2 section 4), checked with libhivex where it writes.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, copyFileSync, readFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { hivexDump, expectAcceptedByReaders, hivexsh } from '../helpers/hive-tools.js';
import { openHiveFile } from '../../src/hive/hivefile.js';
import { dumpJsonLines } from '../../src/hive/dump.js';
import { parseBaseBlock } from '../../src/hive/baseblock.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'reglookup', 'regfinfo', 'hivexml', 'hivexsh'));
let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-cli-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function copyWithLogs(dest: string, names: string[]): string {
  const dir = mkdtempSync(path.join(tmp, 'h-'));
  for (const n of names) copyFileSync(hiveFixture(`${dest}/${n}`), path.join(dir, n));
  return path.join(dir, names[0]!);
}

describe.skipIf(!!reason)('wufix hive info', () => {
  it('reports version, sequence numbers, dirty state, logs and counts (--json)', () => {
    const file = copyWithLogs('regipy', ['SYSTEM_B', 'SYSTEM_B.LOG1', 'SYSTEM_B.LOG2']);
    const r = runCli(['hive', 'info', file, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.version).toBe('1.5');
    expect(j.sequence).toEqual({ primary: 1622, secondary: 1621 });
    expect(j.dirty).toBe(true);
    expect(j.logs.map((l: { usable: boolean }) => l.usable)).toEqual([true, true]);
    expect(j.keys).toBe(35_595); // after replaying the logs in memory
    const plain = runCli(['hive', 'info', file, '--json', '--no-logs']);
    expect(JSON.parse(plain.stdout).keys).toBe(hivexDump(file).length); // 33,123 as libhivex sees the primary
    const text = runCli(['hive', 'info', file]);
    expect(text.stdout).toMatch(/DIRTY/);
    expect(text.stdout).toMatch(/SYSTEM_B\.LOG1 \(new, usable, entries 2107-2110/);
  });

  it('a clean hive: counts equal libhivex, no logs', () => {
    const file = hiveFixture('regipy/NTUSER.DAT');
    const j = JSON.parse(runCli(['hive', 'info', file, '--json']).stdout);
    const ref = hivexDump(file);
    expect(j.dirty).toBe(false);
    expect(j.keys).toBe(ref.length);
    expect(j.values).toBe(ref.reduce((n, k) => n + k.values.length, 0));
    expect(j.logs).toEqual([]);
  });
});

describe.skipIf(!!reason)('wufix hive set / get / delete', () => {
  it('sets every type, creating missing keys, read back by libhivex', () => {
    const file = path.join(tmp, 'set-ntuser');
    copyFileSync(hiveFixture('regipy/NTUSER.DAT'), file);
    const key = 'Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust\\Trust Providers\\Software Publishing';
    const sets: [string, string, string[], string][] = [
      ['State', 'REG_DWORD', ['0x23c00'], '003c0200'],
      ['Dec', 'REG_DWORD', ['146432'], '003c0200'],
      ['Q', 'REG_QWORD', ['0x0102030405060708'], '0807060504030201'],
      ['S', 'REG_SZ', ['caf\u00e9'], '630061006600e9000000'],
      ['E', 'REG_EXPAND_SZ', ['%SystemRoot%'], Buffer.from('%SystemRoot%\u0000', 'utf16le').toString('hex')],
      ['M', 'REG_MULTI_SZ', ['a', 'bc'], '61000000620063000000' + '0000'],
      ['B', 'REG_BINARY', ['01 02 ff'], '0102ff'],
      ['N', 'REG_NONE', [''], ''],
      ['', 'REG_SZ', ['default'], Buffer.from('default\u0000', 'utf16le').toString('hex')],
    ];
    for (const [name, type, data] of sets) {
      const r = runCli(['hive', 'set', file, key, name, '--type', type, ...data.flatMap((d) => ['--data', d])]);
      expect(r.status, r.stderr).toBe(0);
    }
    const k = hivexDump(file).find((x) => x.path === key)!;
    expect(k).toBeDefined();
    for (const [name, , , hex] of sets) expect(k.values.find((v) => v.name === name)?.data, name).toBe(hex);
    expect(expectAcceptedByReaders(file)).toEqual([]);
    // get
    const g = runCli(['hive', 'get', file, key.toUpperCase(), 'state']);
    expect(g.status).toBe(0);
    expect(g.stdout.trim()).toBe('REG_DWORD  0x00023c00 (146432)');
    const gj = JSON.parse(runCli(['hive', 'get', file, key, 'M', '--json']).stdout);
    expect(gj).toEqual({ name: 'M', type: 7, typeName: 'REG_MULTI_SZ', data: '61000000620063000000' + '0000' });
    // delete a value, then the key
    expect(runCli(['hive', 'delete', file, key, 'Q']).status).toBe(0);
    expect(
      hivexDump(file)
        .find((x) => x.path === key)!
        .values.some((v) => v.name === 'Q'),
    ).toBe(false);
    expect(runCli(['hive', 'delete', file, 'Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust']).status).toBe(0);
    expect(hivexDump(file).some((x) => x.path.startsWith('Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust'))).toBe(false);
    expect(expectAcceptedByReaders(file)).toEqual([]);
  });

  it('usage errors exit 1; missing keys and values exit 2; a dirty hive without logs is refused (3)', () => {
    const file = path.join(tmp, 'usage-ntuser');
    copyFileSync(hiveFixture('regipy/NTUSER.DAT'), file);
    expect(runCli(['hive', 'set', file, 'K', 'v', '--type', 'REG_BOGUS', '--data', '1']).status).toBe(1);
    expect(runCli(['hive', 'set', file, 'K', 'v']).status).toBe(1); // --type is required
    expect(runCli(['hive']).status).toBe(1);
    const nokey = runCli(['hive', 'get', file, 'No\\Such\\Key']);
    expect(nokey.status).toBe(2);
    expect(nokey.stderr).toMatch(/key not found: No\\Such\\Key/);
    expect(runCli(['hive', 'get', file, 'Software', 'NoSuchValue']).status).toBe(2);
    expect(runCli(['hive', 'set', file, 'K', 'v', '--type', 'REG_DWORD', '--data', 'zz']).status).toBe(2);

    const dirty = path.join(tmp, 'SYSTEM_2');
    copyFileSync(hiveFixture('regipy/SYSTEM_2'), dirty);
    const before = readFileSync(dirty);
    const r = runCli(['hive', 'set', dirty, 'K', 'v', '--type', 'REG_DWORD', '--data', '1']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^wufix: refused: .*dirty.*--accept-dirty/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(dirty).equals(before)).toBe(true);
    const forced = runCli(['hive', 'set', dirty, 'K', 'v', '--type', 'REG_DWORD', '--data', '1', '--accept-dirty']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(expectAcceptedByReaders(dirty)).toEqual([]);
  });
});

describe.skipIf(!!reason)('wufix hive recover', () => {
  const sets: [string, string[]][] = [
    ['regipy', ['SYSTEM_B', 'SYSTEM_B.LOG1', 'SYSTEM_B.LOG2']],
    ['regipy', ['transactions_NTUSER.DAT', 'transactions_ntuser.dat.log1', 'transactions_ntuser.dat.log2']],
    ['regipy', ['UsrClass.dat', 'UsrClass.dat.LOG1', 'UsrClass.dat.LOG2']],
    ['DFIRArtifactMuseum/Win11', ['DEFAULT', 'DEFAULT.LOG1', 'DEFAULT.LOG2']],
    ['DFIRArtifactMuseum/Win11', ['NTUSER.DAT', 'ntuser.dat.LOG1', 'ntuser.dat.LOG2']],
    ['DFIRArtifactMuseum/Win11', ['BBI', 'BBI.LOG1', 'BBI.LOG2']],
    ['DFIRArtifactMuseum/Win11/LocalService', ['NTUSER.DAT', 'NTUSER.DAT.LOG1', 'NTUSER.DAT.LOG2']],
    ['DFIRArtifactMuseum/Win11/NetworkService', ['NTUSER.DAT', 'NTUSER.DAT.LOG1', 'NTUSER.DAT.LOG2']],
    ['DFIRArtifactMuseum/Win11', ['UsrClass.dat', 'UsrClass.dat.LOG1', 'UsrClass.dat.LOG2']],
  ];
  for (const [dir, names] of sets) {
    it(`${dir}/${names[0]}: clean output that every reader opens and that dumps as the in-memory recovery`, async () => {
      const file = copyWithLogs(dir, names);
      const logsBefore = names.slice(1).map((n) => readFileSync(path.join(path.dirname(file), n)));
      const out = path.join(tmp, `recovered-${dir.replace(/\W/g, '_')}-${names[0]}`);
      const r = runCli(['hive', 'recover', file, '-o', out]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/recovered: applied/);
      const bb = parseBaseBlock(readFileSync(out));
      expect(bb.seq1).toBe(bb.seq2);
      expect(bb.type).toBe(0);
      expect(bb.checksumOk).toBe(true);
      expect(expectAcceptedByReaders(out)).toEqual([]);
      expect(hivexsh(out, 'cd \\\nlsval\n').status).toBe(0);
      // Same content as the in-memory recovery of the untouched original.
      const mem = await openHiveFile(file);
      const rows: unknown[] = [];
      dumpJsonLines(mem.hive, '', (l) => rows.push(JSON.parse(l)));
      expect(hivexDump(out)).toEqual(rows);
      // The original and its logs are untouched.
      names.slice(1).forEach((n, i) => expect(readFileSync(path.join(path.dirname(file), n)).equals(logsBefore[i]!)).toBe(true));
      // recover never overwrites.
      const again = runCli(['hive', 'recover', file, '-o', out]);
      expect(again.status).toBe(3);
    });
  }
});

describe.skipIf(!!reason)('wufix hive export / import (.reg)', () => {
  it('export of a subtree imports into a new hive with identical keys and values', () => {
    const src = hiveFixture('regipy/NTUSER.DAT');
    const reg = path.join(tmp, 'env.reg');
    const e = runCli(['hive', 'export', src, 'Software\\Microsoft', '-o', reg]);
    expect(e.status, e.stderr).toBe(0);
    const bytes = readFileSync(reg);
    expect(bytes.subarray(0, 2).toString('hex')).toBe('fffe'); // UTF-16LE BOM, as regedit writes
    expect(bytes.toString('utf16le')).toMatch(/^\ufeffWindows Registry Editor Version 5\.00\r\n\r\n\[HKEY_LOCAL_MACHINE\\OFFLINE\\Software\\Microsoft\]/);
    const dst = path.join(tmp, 'imported');
    expect(runCli(['hive', 'new', dst, '--minor', '3']).status).toBe(0);
    const i = runCli(['hive', 'import', dst, reg]);
    expect(i.status, i.stderr).toBe(0);
    const want = hivexDump(src).filter((k) => k.path === 'Software\\Microsoft' || k.path.startsWith('Software\\Microsoft\\'));
    const got = hivexDump(dst).filter((k) => k.path === 'Software\\Microsoft' || k.path.startsWith('Software\\Microsoft\\'));
    expect(got).toEqual(want);
    expect(expectAcceptedByReaders(dst)).toEqual([]);
    // stdout export is text
    const t = runCli(['hive', 'export', src, 'Environment']);
    expect(t.stdout).toMatch(/^Windows Registry Editor Version 5\.00\r\n\r\n\[HKEY_LOCAL_MACHINE\\OFFLINE\\Environment\]\r\n/);
  });

  it('import applies deletions and refuses a path outside the hive', () => {
    const dst = path.join(tmp, 'del-target');
    copyFileSync(hiveFixture('regipy/NTUSER.DAT'), dst);
    const reg = path.join(tmp, 'del.reg');
    writeFileSync(
      reg,
      'Windows Registry Editor Version 5.00\r\n\r\n[-HKEY_USERS\\S-1-5-21-1\\Environment]\r\n\r\n[HKEY_USERS\\S-1-5-21-1\\Software\\Wufix]\r\n"State"=dword:00023c00\r\n@="x"\r\n',
    );
    expect(runCli(['hive', 'import', dst, reg]).status).toBe(0);
    const d = hivexDump(dst);
    expect(d.some((k) => k.path === 'Environment')).toBe(false);
    expect(d.find((k) => k.path === 'Software\\Wufix')!.values[0]).toEqual({ name: 'State', type: 4, data: '003c0200' });
    const bad = path.join(tmp, 'bad.reg');
    writeFileSync(bad, 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CLASSES_ROOT\\.txt]\r\n@="x"\r\n');
    const before = statSync(dst).mtimeMs;
    const r = runCli(['hive', 'import', dst, bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--prefix/);
    expect(statSync(dst).mtimeMs).toBe(before);
    expect(existsSync(dst)).toBe(true);
  });
});
