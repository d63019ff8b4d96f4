// User hives of an offline Windows: a temp "mounted volume" whose folders use other letter cases
// than the registry, a generated SOFTWARE hive with ProfileList, and real user hives copied in
// (to the temp dir only) to check the paths lead to readable hives.
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, mkdtempSync, rmSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import { userHives, PROFILE_LIST_KEY } from '../../src/windows/profiles.js';
import { resolveCaseInsensitive, expandWindowsPath, relativeToSystemDrive } from '../../src/windows/paths.js';
import { readState } from '../../src/windows/wintrust.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';

const expandSz = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));

const root = mkdtempSync(path.join(os.tmpdir(), 'wufix-profiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function touch(rel: string, content: Uint8Array | string = 'x') {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}

describe('path helpers', () => {
  it('expandWindowsPath expands SystemRoot, windir, SystemDrive case-insensitively', () => {
    expect(expandWindowsPath('%SystemDrive%\\Users\\a', 'D:\\WINDOWS')).toBe('D:\\Users\\a');
    expect(expandWindowsPath('%systemroot%\\System32\\config\\systemprofile')).toBe('C:\\Windows\\System32\\config\\systemprofile');
    expect(expandWindowsPath('%WINDIR%\\x;%TEMP%')).toBe('C:\\Windows\\x;%TEMP%');
  });
  it('relativeToSystemDrive keeps only paths on the system drive', () => {
    expect(relativeToSystemDrive('C:\\Users\\x\\NTUSER.DAT')).toBe('Users\\x\\NTUSER.DAT');
    expect(relativeToSystemDrive('c:/Users/x/')).toBe('Users\\x');
    expect(relativeToSystemDrive('\\??\\C:\\a')).toBe('a');
    expect(relativeToSystemDrive('D:\\Users\\x')).toBeUndefined();
    expect(relativeToSystemDrive('\\\\server\\share\\x')).toBeUndefined();
    expect(relativeToSystemDrive('D:\\Users\\x', 'D:')).toBe('Users\\x');
  });
  it('resolveCaseInsensitive walks the tree matching each component case-insensitively', () => {
    const real = touch('Windows/System32/config/SYSTEM');
    expect(resolveCaseInsensitive(root, 'windows\\SYSTEM32\\Config\\system')).toBe(real);
    expect(resolveCaseInsensitive(root, 'C:\\Windows\\System32\\config\\SYSTEM')).toBe(real);
    expect(resolveCaseInsensitive(root, 'Windows/System32')).toBe(path.join(root, 'Windows', 'System32'));
    expect(resolveCaseInsensitive(root, 'Windows\\System32\\nope')).toBeUndefined();
    expect(resolveCaseInsensitive(root, 'Windows\\..\\Windows')).toBeUndefined();
    expect(resolveCaseInsensitive(root, '')).toBe(root);
  });
});

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));

describe.skipIf(!!reason)('userHives', () => {
  it('DEFAULT, the three service accounts and every ProfileList user, paths resolved on disk', async () => {
    // The volume: real hives (copied into the temp dir) where Windows keeps them, in other cases.
    copyFileSync(hiveFixture('DFIRArtifactMuseum/Win11/DEFAULT'), touch('Windows/System32/config/DEFAULT'));
    copyFileSync(hiveFixture('DFIRArtifactMuseum/Win11/LocalService/NTUSER.DAT'), touch('Windows/ServiceProfiles/LocalService/NTUSER.DAT'));
    copyFileSync(hiveFixture('DFIRArtifactMuseum/Win11/NetworkService/NTUSER.DAT'), touch('Windows/ServiceProfiles/NetworkService/ntuser.dat'));
    copyFileSync(hiveFixture('DFIRArtifactMuseum/Win11/NTUSER.DAT'), touch('Users/Alice/NTUSER.DAT'));
    touch('Users/bob.CONTOSO/NTUSER.DAT');
    // systemprofile exists as a folder without NTUSER.DAT.
    mkdirSync(path.join(root, 'Windows/System32/config/systemprofile'), { recursive: true });

    const sw = Hive.create({ rootName: 'SOFTWARE' });
    sw.setValue(sw.ensureKey('Microsoft\\Windows NT\\CurrentVersion'), 'SystemRoot', REG.SZ, expandSz('C:\\WINDOWS'));
    const add = (sid: string, p: string) => sw.setValue(sw.ensureKey(`${PROFILE_LIST_KEY}\\${sid}`), 'ProfileImagePath', REG.EXPAND_SZ, expandSz(p));
    add('S-1-5-18', '%systemroot%\\system32\\config\\systemprofile');
    add('S-1-5-19', '%systemroot%\\ServiceProfiles\\LocalService');
    add('S-1-5-20', '%systemroot%\\ServiceProfiles\\NetworkService');
    add('S-1-5-21-1-2-3-1001', 'C:\\Users\\alice');
    add('S-1-5-21-1-2-3-1001.bak', 'C:\\Users\\alice');
    add('S-1-5-21-4-5-6-1104', '%SystemDrive%\\Users\\bob.contoso');
    add('S-1-5-21-1-2-3-1002', 'D:\\Users\\carol');
    const f = path.join(root, 'SOFTWARE.gen');
    await writeNewHiveFile(f, sw);
    // libhivex reads the REG_EXPAND_SZ values as written.
    const rows = hivexDump(f).filter((r) => r.path.startsWith(PROFILE_LIST_KEY + '\\'));
    expect(rows).toHaveLength(7);
    expect(rows.every((r) => r.values[0]!.type === REG.EXPAND_SZ)).toBe(true);

    const list = userHives(Hive.open(new Uint8Array(readFileSync(f))), root);
    const by = Object.fromEntries(list.map((u) => [u.sid, u]));
    expect(list.map((u) => u.kind)).toEqual(['default', 'system', 'localservice', 'networkservice', 'user', 'user', 'user']);
    expect(by['.DEFAULT']).toMatchObject({
      kind: 'default',
      exists: true,
      hivePath: path.join(root, 'Windows/System32/config/DEFAULT'),
      profilePath: 'C:\\WINDOWS\\System32\\config',
    });
    expect(by['S-1-5-18']).toMatchObject({ kind: 'system', account: 'SYSTEM', exists: false, profilePath: 'C:\\WINDOWS\\system32\\config\\systemprofile' });
    expect(by['S-1-5-18']!.profileImagePath).toBe('%systemroot%\\system32\\config\\systemprofile');
    expect(by['S-1-5-19']).toMatchObject({ kind: 'localservice', exists: true, hivePath: path.join(root, 'Windows/ServiceProfiles/LocalService/NTUSER.DAT') });
    expect(by['S-1-5-20']).toMatchObject({
      kind: 'networkservice',
      exists: true,
      hivePath: path.join(root, 'Windows/ServiceProfiles/NetworkService/ntuser.dat'),
    });
    expect(by['S-1-5-21-1-2-3-1001']).toMatchObject({ account: 'alice', exists: true, hivePath: path.join(root, 'Users/Alice/NTUSER.DAT') });
    expect(by['S-1-5-21-1-2-3-1001.bak']).toBeUndefined(); // same hive as the live entry
    expect(by['S-1-5-21-4-5-6-1104']).toMatchObject({ account: 'bob.contoso', exists: true, hivePath: path.join(root, 'Users/bob.CONTOSO/NTUSER.DAT') });
    expect(by['S-1-5-21-1-2-3-1002']).toMatchObject({ exists: false, hivePath: undefined, profilePath: 'D:\\Users\\carol' });

    // The resolved files are the real hives: their WinTrust State reads (0x23C00 in all of them).
    for (const u of list.filter((x) => x.exists && x.sid !== 'S-1-5-21-4-5-6-1104')) {
      expect(readState(Hive.open(new Uint8Array(readFileSync(u.hivePath!))))).toBe(0x23c00);
    }
  });

  it('without ProfileList the service accounts still get their standard folders', () => {
    const sw = Hive.create();
    const list = userHives(sw, '/nonexistent-root', () => undefined);
    expect(list.map((u) => [u.sid, u.profilePath])).toEqual([
      ['.DEFAULT', 'C:\\Windows\\System32\\config'],
      ['S-1-5-18', 'C:\\Windows\\System32\\config\\systemprofile'],
      ['S-1-5-19', 'C:\\Windows\\ServiceProfiles\\LocalService'],
      ['S-1-5-20', 'C:\\Windows\\ServiceProfiles\\NetworkService'],
    ]);
    expect(list.every((u) => !u.exists)).toBe(true);
    expect(list[0]!.hivePath).toBe(path.join('/nonexistent-root', 'Windows', 'System32', 'config', 'DEFAULT'));
  });
});
