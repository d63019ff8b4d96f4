// `wufix hive` with regedit habits (issue #17 item 8): HKLM\SYSTEM / HKEY_CURRENT_USER roots,
// forward slashes, CurrentControlSet, .reg files of another hive refused without --force, strings
// shown as stored. Real Windows-written hives, read back with libhivex (hivexget, hivexsh).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { hivexDump, hivexsh, expectAcceptedByReaders, run } from '../helpers/hive-tools.js';
import { openHiveFile } from '../../src/hive/hivefile.js';
import { identifyHive, splitTyped, splitRoot, mapOntoHive, mapRegKeyPath } from '../../src/hive/keypath.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'reglookup', 'regfinfo', 'hivexml', 'hivexsh', 'hivexget'));
let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-habits-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A private copy of a fixture hive, keeping its file name (the kind is also told from it). */
function copyHive(fixture: string, logs: string[] = []): string {
  const dir = mkdtempSync(path.join(tmp, 'h-'));
  const dest = path.join(dir, path.basename(fixture));
  copyFileSync(hiveFixture(fixture), dest);
  for (const l of logs) copyFileSync(hiveFixture(path.join(path.dirname(fixture), l)), path.join(dir, l));
  return dest;
}

/** The regipy SYSTEM hive with Select\Current = 2 (written by hivexsh, not by wufix), so CurrentControlSet is not the obvious ControlSet001. */
function systemOnControlSet2(): string {
  const file = copyHive('regipy/SYSTEM');
  const r = hivexsh(
    file,
    'cd \\Select\nsetval 4\nCurrent\ndword:0x00000002\nDefault\ndword:0x00000002\nFailed\ndword:0x00000000\nLastKnownGood\ndword:0x00000001\ncommit\n',
    true,
  );
  expect(r.status, r.stderr).toBe(0);
  expect(hivexget(file, '\\Select', 'Current')).toBe('2');
  return file;
}

/** hivexget's rendering of one value (strings as stored, dwords in decimal). */
function hivexget(file: string, key: string, name: string): string {
  const r = run('hivexget', [file, key, name]);
  expect(r.status, `hivexget ${key} ${name}: ${r.stderr}`).toBe(0);
  return r.stdout.replace(/\n$/, '');
}

/** hivexsh's `ls` of a key (subkey names), or undefined when hivexsh cannot cd there. */
function hivexLs(file: string, key: string): string[] | undefined {
  const r = hivexsh(file, `cd ${key}\nls\n`);
  if (r.status !== 0) return undefined;
  return r.stdout.split('\n').filter((l) => l !== '');
}

function reg(name: string, body: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, 'Windows Registry Editor Version 5.00\r\n\r\n' + body.replace(/\n/g, '\r\n'));
  return f;
}

describe.skipIf(!!reason)('hive kind, told from real hives', () => {
  const cases: [string, string | undefined][] = [
    ['regipy/SYSTEM', 'system'],
    ['regipy/SYSTEM_B', 'system'],
    ['regipy/SYSTEM_2', 'system'],
    ['regipy/NTUSER.DAT', 'user'],
    ['regipy/UsrClass.dat', 'usrclass'],
    ['regipy/BCD', 'bcd'],
    ['DFIRArtifactMuseum/Win11/DEFAULT', 'user'],
    ['DFIRArtifactMuseum/Win11/LocalService/NTUSER.DAT', 'user'],
    ['DFIRArtifactMuseum/Win11/BCD-Template', 'bcd'],
    ['DFIRArtifactMuseum/Win11/ELAM', 'elam'], // from its name: its only root key is "Windows Defender"
    ['DFIRArtifactMuseum/Win7/UsrClassDeletedBags.dat', 'usrclass'],
    ['DFIRArtifactMuseum/Win11/BBI', undefined],
    ['regipy/amcache.hve', undefined],
  ];
  for (const [fixture, kind] of cases) {
    it(`${fixture} is ${kind ?? 'not told'}`, async () => {
      const h = await openHiveFile(hiveFixture(fixture));
      expect(identifyHive(h.hive, [h.path, h.primary.fileName]).kind).toBe(kind);
    });
  }

  it('an empty hive is told by its file name only', async () => {
    const empty = path.join(tmp, 'SOFTWARE');
    expect(runCli(['hive', 'new', empty]).status).toBe(0);
    const h = await openHiveFile(empty);
    expect(identifyHive(h.hive, [h.path]).kind).toBe('software');
    expect(identifyHive(h.hive, ['/x/new-hive']).kind).toBeUndefined();
  });

  it('maps roots the way regedit names them', () => {
    expect(splitTyped('HKLM/SYSTEM/Select')).toEqual(['HKLM', 'SYSTEM', 'Select']);
    // With a backslash in it, a slash is part of a name (MIME\Database\Content Type\text/plain).
    expect(splitTyped('MIME\\Database\\Content Type\\text/plain')).toEqual(['MIME', 'Database', 'Content Type', 'text/plain']);
    const m = (p: string, t: Parameters<typeof mapOntoHive>[1]) => mapOntoHive(splitRoot(splitTyped(p))!, t);
    expect(m('Computer\\HKEY_LOCAL_MACHINE\\SYSTEM\\Select', 'system')).toMatchObject({ path: 'Select', mismatch: false });
    expect(m('HKLM\\SOFTWARE\\Microsoft', 'system')).toMatchObject({ names: 'software', mismatch: true });
    expect(m('HKU\\S-1-5-21-1-2-3-1001\\Environment', 'user')).toMatchObject({ path: 'Environment', mismatch: false });
    expect(m('HKU\\S-1-5-21-1-2-3-1001_Classes\\.txt', 'usrclass')).toMatchObject({ path: '.txt', mismatch: false });
    expect(m('HKCU\\Software\\Classes\\.txt', 'usrclass')).toMatchObject({ path: '.txt', mismatch: false });
    expect(m('HKCU\\Software\\Classes\\.txt', 'user')).toMatchObject({ names: 'usrclass', mismatch: true });
    expect(m('HKLM\\OFFLINE\\Software', 'user')).toMatchObject({ path: 'Software', mismatch: false }); // a hive loaded by hand
    expect(mapRegKeyPath('HKEY_LOCAL_MACHINE\\SYSTEM\\Setup', 'user').mismatch).toBe(true);
    expect(() => mapRegKeyPath('HKEY_CLASSES_ROOT\\.txt', 'user')).toThrow(/--prefix/);
  });
});

describe.skipIf(!!reason)('wufix hive import: the .reg root and the hive', () => {
  it('refuses a .reg of another hive without --force (exit 3, one line, file untouched); --force writes it at the root', () => {
    const system = copyHive('regipy/SYSTEM');
    const before = readFileSync(system);
    const sw = reg('software.reg', '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate]\n"WUServer"="http://wsus:8530"\n');
    const r = runCli(['hive', 'import', system, sw]);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^wufix: refused: .*software\.reg writes under HKEY_LOCAL_MACHINE\\SOFTWARE \(the SOFTWARE hive\) but .*SYSTEM is a SYSTEM hive/);
    expect(lines[0]).toMatch(/root keys .*Select/); // why it is told a SYSTEM hive
    expect(lines[0]).toMatch(/nothing written; import it into Windows\\System32\\config\\SOFTWARE, or add --force/);
    expect(readFileSync(system).equals(before)).toBe(true);
    // --json: the refusal as an object too
    const j = runCli(['hive', 'import', system, sw, '--json']);
    expect(j.status).toBe(3);
    expect(JSON.parse(j.stdout).error).toMatchObject({ exitCode: 3, code: 'refused' });

    const f = runCli(['hive', 'import', system, sw, '--force']);
    expect(f.status, f.stderr).toBe(0);
    expect(f.stderr).toMatch(/^wufix: warning: .*SOFTWARE.*writing anyway \(--force\)/);
    expect(f.stdout).toBe(`imported ${sw} into ${system}: 4 keys created, 1 value set, 0 values deleted, 0 keys deleted\n`);
    expect(hivexget(system, '\\Policies\\Microsoft\\Windows\\WindowsUpdate', 'WUServer')).toBe('http://wsus:8530');
    expect(expectAcceptedByReaders(system)).toEqual([]);
  });

  it('refuses HKLM\\SYSTEM into NTUSER.DAT, HKCU into SYSTEM and HKCU\\Software\\Classes into NTUSER.DAT', () => {
    const ntuser = copyHive('regipy/NTUSER.DAT');
    const system = copyHive('regipy/SYSTEM');
    const sys = reg('sys.reg', '[HKLM\\SYSTEM\\Setup]\n"X"=dword:00000001\n');
    const hkcu = reg('hkcu.reg', '[HKEY_CURRENT_USER\\Environment]\n"X"="y"\n');
    const classes = reg('classes.reg', '[HKEY_CURRENT_USER\\Software\\Classes\\.wufix]\n@="txtfile"\n');
    for (const [hive, file, names, is] of [
      [ntuser, sys, 'SYSTEM', 'an NTUSER.DAT'],
      [system, hkcu, 'NTUSER.DAT', 'a SYSTEM'],
      [ntuser, classes, 'UsrClass.dat', 'an NTUSER.DAT'],
    ] as const) {
      const before = readFileSync(hive);
      const r = runCli(['hive', 'import', hive, file]);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`(the ${names} hive) but ${hive} is ${is} hive`);
      expect(readFileSync(hive).equals(before)).toBe(true);
    }
  });

  it('HKCU\\Software\\Classes and HKU\\<sid>_Classes map onto the root of UsrClass.dat', () => {
    const usrclass = copyHive('regipy/UsrClass.dat', ['UsrClass.dat.LOG1', 'UsrClass.dat.LOG2']); // dirty: its logs are replayed first
    const file = reg(
      'usrclass.reg',
      '[HKEY_CURRENT_USER\\Software\\Classes\\.wufix]\n@="txtfile"\n\n[HKEY_USERS\\S-1-5-21-2734969515-1644526556-1039763013-1001_Classes\\.wufix2]\n"A"="b"\n',
    );
    const r = runCli(['hive', 'import', usrclass, file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(hivexget(usrclass, '\\.wufix', '@')).toBe('txtfile');
    expect(hivexget(usrclass, '\\.wufix2', 'A')).toBe('b');
    expect(hivexLs(usrclass, '\\Software')).toBeUndefined(); // not written under Software\Classes
  });

  it('HKLM\\SYSTEM\\CurrentControlSet imports into the ControlSet Select\\Current names, read back by hivexget', () => {
    const system = systemOnControlSet2();
    // Something to delete, written with hivexsh: a key with a subkey, and a value.
    const prep = hivexsh(system, 'cd \\Setup\nadd WufixOld\ncd WufixOld\nadd Sub\ncd \\Setup\nsetval 1\nWufixGone\nstring:x\ncommit\n', true);
    expect(prep.status, prep.stderr).toBe(0);
    const setupValues = hivexDump(system).find((k) => k.path === 'Setup')!.values.length;
    const file = reg(
      'system.reg',
      [
        '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\WufixTest]',
        '"ImagePath"=hex(2):43,00,3a,00,5c,00,57,00,69,00,6e,00,64,00,6f,00,77,00,73,00,00,00',
        '"Start"=dword:00000004',
        '"Description"="C:\\\\Program Files\\\\Wufix"',
        '',
        '[HKLM\\SYSTEM\\Setup]',
        '"WufixGone"=-',
        '',
        '[-HKEY_LOCAL_MACHINE\\SYSTEM\\Setup\\WufixOld]',
        '',
        '[-HKEY_LOCAL_MACHINE\\SYSTEM\\Setup\\NotThere]',
        '',
      ].join('\n'),
    );
    const r = runCli(['hive', 'import', system, file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('wufix: note: CurrentControlSet is ControlSet002 (Select\\Current=2)\n');
    expect(r.stdout).toBe(`imported ${file} into ${system}: 1 key created, 3 values set, 1 value deleted, 2 keys deleted, 1 deletion of something not there\n`);
    expect(hivexget(system, '\\ControlSet002\\Services\\WufixTest', 'Start')).toBe('4');
    expect(hivexget(system, '\\ControlSet002\\Services\\WufixTest', 'ImagePath')).toBe('C:\\Windows');
    expect(hivexget(system, '\\ControlSet002\\Services\\WufixTest', 'Description')).toBe('C:\\Program Files\\Wufix');
    expect(hivexLs(system, '\\ControlSet001\\Services\\WufixTest')).toBeUndefined();
    expect(hivexLs(system, '\\CurrentControlSet')).toBeUndefined(); // never written as a key
    expect(hivexLs(system, '\\Setup\\WufixOld')).toBeUndefined();
    expect(hivexDump(system).find((k) => k.path === 'Setup')!.values.length).toBe(setupValues - 1);
    expect(expectAcceptedByReaders(system)).toEqual([]);

    const j = runCli(['hive', 'import', system, file, '--json']);
    expect(j.status, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      hiveKind: 'system',
      forced: false,
      keysCreated: 0,
      valuesSet: 3,
      notes: ['CurrentControlSet is ControlSet002 (Select\\Current=2)'],
    });
  });
});

describe.skipIf(!!reason)('wufix hive get / set: regedit key paths', () => {
  it('set with HKLM/SYSTEM/CurrentControlSet and slashes writes the Select\\Current control set; get reads it back any way it is spelt', () => {
    const system = systemOnControlSet2();
    const s = runCli(['hive', 'set', system, 'HKLM/SYSTEM/CurrentControlSet/Services/WufixSet', 'Start', '--type', 'REG_DWORD', '--data', '3']);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toBe('wufix: note: CurrentControlSet is ControlSet002 (Select\\Current=2)\n');
    expect(hivexget(system, '\\ControlSet002\\Services\\WufixSet', 'Start')).toBe('3');
    expect(hivexLs(system, '\\ControlSet001\\Services\\WufixSet')).toBeUndefined();
    expect(hivexLs(system, '\\CurrentControlSet')).toBeUndefined();
    for (const spelt of [
      'HKEY_LOCAL_MACHINE\\SYSTEM\\currentcontrolset\\services\\wufixset',
      'Computer\\HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\WufixSet',
      'hklm/system/CURRENTCONTROLSET/Services/WUFIXSET',
      'CurrentControlSet\\Services\\WufixSet',
      'ControlSet002/Services/WufixSet',
    ]) {
      const g = runCli(['hive', 'get', system, spelt, 'START']);
      expect(g.status, `${spelt}: ${g.stderr}`).toBe(0);
      expect(g.stdout, spelt).toBe('REG_DWORD  0x00000003 (3)\n');
      expect(g.stderr, spelt).toBe(/currentcontrolset/i.test(spelt) ? 'wufix: note: CurrentControlSet is ControlSet002 (Select\\Current=2)\n' : '');
    }
    // --json stays JSON on stdout; the note is on stderr.
    const j = runCli(['hive', 'get', system, 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\WufixSet', 'Start', '--json']);
    expect(JSON.parse(j.stdout)).toEqual({ name: 'Start', type: 4, typeName: 'REG_DWORD', data: '03000000' });
    expect(j.stderr).toMatch(/ControlSet002/);
    expect(expectAcceptedByReaders(system)).toEqual([]);
  });

  it('a root naming another hive is a usage error (exit 1) and nothing is written', () => {
    const system = copyHive('regipy/SYSTEM');
    const ntuser = copyHive('regipy/NTUSER.DAT');
    const g = runCli(['hive', 'get', system, 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion']);
    expect(g.status).toBe(1);
    expect(g.stdout).toBe('');
    expect(g.stderr.trim().split('\n')).toHaveLength(1);
    expect(g.stderr).toMatch(/is in the SOFTWARE hive but .*SYSTEM is a SYSTEM hive .*open Windows\\System32\\config\\SOFTWARE/);
    const before = readFileSync(ntuser);
    const s = runCli(['hive', 'set', ntuser, 'HKEY_LOCAL_MACHINE\\SYSTEM\\Setup', 'X', '--type', 'REG_DWORD', '--data', '1']);
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/is in the SYSTEM hive but .* is an NTUSER.DAT hive/);
    expect(readFileSync(ntuser).equals(before)).toBe(true);
    expect(runCli(['hive', 'get', ntuser, 'HKCR\\.txt']).status).toBe(1);
    // CurrentControlSet in a hive without Select: said so, not "key not found".
    const c = runCli(['hive', 'get', ntuser, 'CurrentControlSet\\Services']);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/CurrentControlSet cannot be resolved: the hive has no Select\\Current/);
    // HKCU / HKU\<sid> prefixes are stripped on a user hive.
    const e = runCli(['hive', 'get', ntuser, 'HKCU/Environment', 'TEMP']);
    expect(e.status, e.stderr).toBe(0);
    expect(runCli(['hive', 'get', ntuser, 'HKEY_USERS\\S-1-5-21-1-2-3-1001\\Environment', 'TEMP']).stdout).toBe(e.stdout);
  });
});

describe.skipIf(!!reason)('wufix hive get: strings as stored', () => {
  it('REG_SZ / REG_EXPAND_SZ print with single backslashes, as hivexget shows them; --json is still JSON', () => {
    const system = hiveFixture('regipy/SYSTEM');
    const key = 'ControlSet001\\Control\\Windows';
    const want = hivexget(system, `\\${key}`, 'SystemDirectory');
    expect(want).toBe('%SystemRoot%\\system32');
    const g = runCli(['hive', 'get', system, key, 'SystemDirectory']);
    expect(g.stdout).toBe(`REG_EXPAND_SZ  ${want}\n`);
    expect(g.stdout).not.toContain('\\\\');
    const all = runCli(['hive', 'get', system, key]);
    expect(all.stdout).toContain(`SystemDirectory  REG_EXPAND_SZ  ${want}\n`);
    const j = JSON.parse(runCli(['hive', 'get', system, key, 'SystemDirectory', '--json']).stdout);
    expect(Buffer.from(j.data, 'hex').toString('utf16le')).toBe(`${want}\u0000`);

    const ntuser = copyHive('regipy/NTUSER.DAT');
    const set = (name: string, type: string, ...data: string[]) => {
      const r = runCli(['hive', 'set', ntuser, 'Software\\Wufix', name, '--type', type, ...data.flatMap((d) => ['--data', d])]);
      expect(r.status, r.stderr).toBe(0);
    };
    set('Path', 'REG_SZ', 'C:\\Windows');
    set('Esc', 'REG_SZ', 'a\u001b[2Jb');
    set('Empty', 'REG_SZ', '');
    set('Multi', 'REG_MULTI_SZ', 'C:\\A', 'D:\\B');
    expect(hivexget(ntuser, '\\Software\\Wufix', 'Path')).toBe('C:\\Windows');
    expect(runCli(['hive', 'get', ntuser, 'Software/Wufix', 'Path']).stdout).toBe('REG_SZ  C:\\Windows\n');
    expect(runCli(['hive', 'get', ntuser, 'Software/Wufix', 'Esc']).stdout).toBe('REG_SZ  a\\x1b[2Jb\n'); // no raw ESC reaches the terminal
    expect(runCli(['hive', 'get', ntuser, 'Software/Wufix', 'Empty']).stdout).toBe('REG_SZ  ""\n');
    expect(runCli(['hive', 'get', ntuser, 'Software/Wufix', 'Multi']).stdout).toBe('REG_MULTI_SZ  C:\\A\\0D:\\B\n');
    const dump = runCli(['hive', 'dump', ntuser, '--key', 'HKCU\\Software\\Wufix']);
    expect(dump.stdout).toContain('  Path  REG_SZ  C:\\Windows\n');
  });
});
