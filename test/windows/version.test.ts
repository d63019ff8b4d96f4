// Version from generated SOFTWARE hives (values as real installations store them), read back by us
// and by libhivex.
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import { BadInputError } from '../../src/shared/errors.js';
import { readVersion, readComputerName, readArchitecture, wimArchFits, windowsFamily, formatBuild, CURRENT_VERSION_KEY } from '../../src/windows/version.js';
import { regDword, regString, regMultiSz } from '../../src/hive/query.js';
import { toolsReason, skipReason, sharedReason, fixture } from '../helpers/env.js';
import { run } from '../helpers/hive-tools.js';
import { hivexDump } from '../helpers/hive-tools.js';

const dword = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
const sz = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));

function software(values: Record<string, string | number>): Hive {
  const h = Hive.create({ rootName: 'SOFTWARE' });
  const nk = h.ensureKey(CURRENT_VERSION_KEY);
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === 'number') h.setValue(nk, k, REG.DWORD, dword(v));
    else h.setValue(nk, k, REG.SZ, sz(v));
  }
  return h;
}

const WIN10_22H2 = {
  ProductName: 'Windows 10 Pro',
  EditionID: 'Professional',
  InstallationType: 'Client',
  CurrentBuild: '19045',
  CurrentBuildNumber: '19045',
  UBR: 3803,
  DisplayVersion: '22H2',
  ReleaseId: '2009',
  CurrentMajorVersionNumber: 10,
  CurrentMinorVersionNumber: 0,
  CurrentVersion: '6.3',
  SystemRoot: 'C:\\Windows',
};

const reason = skipReason(toolsReason('python3-hivex'));

describe('readVersion', () => {
  it.skipIf(!!reason)('Windows 10 22H2 written by the engine: libhivex and readVersion agree', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-version-'));
    try {
      const f = path.join(dir, 'SOFTWARE');
      await writeNewHiveFile(f, software(WIN10_22H2));
      const r = hivexDump(f).find((x) => x.path === CURRENT_VERSION_KEY)!;
      const hv = (n: string) => r.values.find((v) => v.name === n)!;
      expect(Buffer.from(hv('UBR').data, 'hex').readUInt32LE(0)).toBe(3803);
      expect(Buffer.from(hv('CurrentBuild').data, 'hex').toString('utf16le')).toBe('19045\0');
      const v = readVersion(Hive.open(new Uint8Array(readFileSync(f))));
      expect(v).toMatchObject({
        productName: 'Windows 10 Pro',
        editionId: 'Professional',
        installationType: 'Client',
        currentBuild: 19045,
        ubr: 3803,
        displayVersion: '22H2',
        releaseId: '2009',
        major: 10,
        minor: 0,
        currentVersion: '6.3',
        systemRoot: 'C:\\Windows',
        isServer: false,
        family: 'Windows 10',
      });
      expect(formatBuild(v)).toBe('10.0.19045.3803');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Windows 11 still says "Windows 10" in ProductName: family from the build', () => {
    const v = readVersion(software({ ...WIN10_22H2, CurrentBuild: '22631', UBR: 2861, DisplayVersion: '23H2' }));
    expect(v.productName).toBe('Windows 10 Pro');
    expect(v.family).toBe('Windows 11');
  });

  it('Server 2022 (Server Core counts as server)', () => {
    const v = readVersion(
      software({
        ProductName: 'Windows Server 2022 Datacenter',
        EditionID: 'ServerDatacenter',
        InstallationType: 'Server Core',
        CurrentBuild: '20348',
        UBR: 2227,
      }),
    );
    expect(v).toMatchObject({ installationType: 'Server Core', isServer: true, family: 'Windows Server 2022', currentBuild: 20348, ubr: 2227 });
  });

  it('Windows 7 SP1: no InstallationType, UBR or major; CSDVersion', () => {
    const v = readVersion(
      software({
        ProductName: 'Windows 7 Professional',
        EditionID: 'Professional',
        CurrentVersion: '6.1',
        CurrentBuild: '7601',
        CurrentBuildNumber: '7601',
        CSDVersion: 'Service Pack 1',
      }),
    );
    expect(v).toMatchObject({ installationType: 'Client', currentBuild: 7601, family: 'Windows 7', csdVersion: 'Service Pack 1', isServer: false });
    expect(v.ubr).toBeUndefined();
    expect(v.major).toBeUndefined();
    expect(formatBuild(v)).toBe('6.1.7601');
  });

  it('2008 R2 without InstallationType is recognised as a server from ProductName', () => {
    const v = readVersion(software({ ProductName: 'Windows Server 2008 R2 Standard', CurrentBuildNumber: '7601' }));
    expect(v).toMatchObject({ installationType: 'Server', isServer: true, family: 'Windows Server 2008 R2', currentBuild: 7601 });
  });

  it('a hive without CurrentVersion is bad input, not a crash', () => {
    expect(() => readVersion(Hive.create())).toThrow(BadInputError);
  });

  it('families by build', () => {
    expect(windowsFamily({ currentBuild: 9600, isServer: false })).toBe('Windows 8.1');
    expect(windowsFamily({ currentBuild: 9200, isServer: true })).toBe('Windows Server 2012');
    expect(windowsFamily({ currentBuild: 14393, isServer: true })).toBe('Windows Server 2016');
    expect(windowsFamily({ currentBuild: 17763, isServer: true })).toBe('Windows Server 2019');
    expect(windowsFamily({ currentBuild: 26100, isServer: true })).toBe('Windows Server 2025');
    expect(windowsFamily({ currentBuild: 10240, isServer: false })).toBe('Windows 10');
  });

  it('value readers: wrong type or size reads as absent; strings cut at the first NUL', () => {
    const h = Hive.create();
    const nk = h.ensureKey('K');
    h.setValue(nk, 'short', REG.DWORD, new Uint8Array([1, 2]));
    h.setValue(nk, 'text', REG.SZ, new Uint8Array(Buffer.from('ab\0cd\0', 'utf16le')));
    h.setValue(nk, 'odd', REG.SZ, new Uint8Array([0x41, 0, 0x42]));
    h.setValue(nk, 'bin4', REG.BINARY, dword(7));
    h.setValue(nk, 'multi', REG.MULTI_SZ, new Uint8Array(Buffer.from('a\0\0b\0\0', 'utf16le')));
    expect(regDword(h, nk, 'short')).toBeUndefined();
    expect(regDword(h, nk, 'text')).toBeUndefined();
    expect(regDword(h, nk, 'bin4')).toBe(7);
    expect(regString(h, nk, 'text')).toBe('ab');
    expect(regString(h, nk, 'odd')).toBe('A');
    expect(regString(h, 'K', 'bin4')).toBeUndefined();
    expect(regString(h, 'Missing', 'x')).toBeUndefined();
    expect(regMultiSz(h, nk, 'multi')).toEqual(['a', '', 'b']);
  });
});

describe.skipIf(!!skipReason(sharedReason(), toolsReason('hivexget')))('readComputerName on real SYSTEM hives, against hivexget', () => {
  for (const name of ['SYSTEM', 'SYSTEM_2', 'SYSTEM_B']) {
    it(`regipy/${name}`, () => {
      const file = fixture('hives', `regipy/${name}`);
      const current = Number(run('hivexget', [file, 'Select', 'Current']).stdout.trim());
      const cs = `ControlSet${String(current).padStart(3, '0')}`;
      const want = run('hivexget', [file, `${cs}\\Control\\ComputerName\\ComputerName`, 'ComputerName']).stdout.trim();
      expect(want).toMatch(/^[A-Z0-9-]{3,15}$/);
      expect(readComputerName(Hive.open(new Uint8Array(readFileSync(file))))).toBe(want);
      // The architecture, against hivexget: regipy's SYSTEM is a 32-bit Windows, SYSTEM_2/SYSTEM_B 64-bit.
      const env = run('hivexget', [file, `${cs}\\Control\\Session Manager\\Environment`, 'PROCESSOR_ARCHITECTURE']).stdout.trim();
      expect(env).toBe(name === 'SYSTEM' ? 'x86' : 'AMD64');
      expect(readArchitecture(Hive.open(new Uint8Array(readFileSync(file))))).toBe(name === 'SYSTEM' ? 'x86' : 'x64');
    });
  }

  it('architecture: PROCESSOR_ARCHITECTURE mapped to the WIM names; anything else unknown', () => {
    const h = Hive.create({ rootName: 'SYSTEM' });
    h.setValue(h.ensureKey('Select'), 'Current', REG.DWORD, dword(1));
    const k = h.ensureKey('ControlSet001\\Control\\Session Manager\\Environment');
    expect(readArchitecture(h)).toBeUndefined();
    for (const [env, want] of [
      ['ARM64', 'arm64'],
      ['amd64 ', 'x64'],
      ['x86', 'x86'],
      ['MIPS', undefined],
      ['', undefined],
    ] as const) {
      h.setValue(k, 'PROCESSOR_ARCHITECTURE', REG.SZ, sz(env));
      expect(readArchitecture(h)).toBe(want);
    }
    expect(wimArchFits(9, 'x64') && wimArchFits(12, 'arm64') && wimArchFits(undefined, 'x64') && wimArchFits(0, undefined)).toBe(true);
    expect(wimArchFits(9, 'arm64') || wimArchFits(0, 'x64') || wimArchFits(5, 'arm64')).toBe(false);
  });

  it('absent, empty, too long or with control characters: no name', () => {
    const h = Hive.create({ rootName: 'SYSTEM' });
    h.setValue(h.ensureKey('Select'), 'Current', REG.DWORD, dword(1));
    const k = h.ensureKey('ControlSet001\\Control\\ComputerName\\ComputerName');
    expect(readComputerName(h)).toBeUndefined();
    for (const bad of ['', '   ', 'x'.repeat(64), 'PC\x1b[31m']) {
      h.setValue(k, 'ComputerName', REG.SZ, sz(bad));
      expect(readComputerName(h)).toBeUndefined();
    }
    h.setValue(k, 'ComputerName', REG.DWORD, dword(5));
    expect(readComputerName(h)).toBeUndefined();
    h.setValue(k, 'ComputerName', REG.SZ, sz('WKS-042'));
    expect(readComputerName(h)).toBe('WKS-042');
  });
});
