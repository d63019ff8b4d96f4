// WU policy and QualityCompat (windows-update.md §5, §6) on generated SOFTWARE hives checked with
// libhivex; the QualityCompat cut-offs are the March 2018 cumulative updates cited in policy.ts.
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import {
  WU_POLICY_KEY,
  AU_POLICY_KEY,
  QUALITYCOMPAT_KEY,
  QUALITYCOMPAT_VALUE,
  readWuPolicy,
  readQualityCompat,
  qualityCompatApplies,
} from '../../src/windows/policy.js';
import { toolsReason, skipReason } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';

const dword = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
const sz = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
const reason = skipReason(toolsReason('python3-hivex'));

describe('WU policy', () => {
  it('no policy key: nothing set, no WSUS', () => {
    expect(readWuPolicy(Hive.create())).toMatchObject({ present: false, usesWsus: false, wuServer: undefined, auOptions: undefined });
  });

  it.skipIf(!!reason)('a stale WSUS policy with AU options, as libhivex reads it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-policy-'));
    try {
      const h = Hive.create({ rootName: 'SOFTWARE' });
      const wu = h.ensureKey(WU_POLICY_KEY);
      h.setValue(wu, 'WUServer', REG.SZ, sz('http://wsus.corp.example:8530'));
      h.setValue(wu, 'WUStatusServer', REG.SZ, sz('http://wsus.corp.example:8530'));
      h.setValue(wu, 'AcceptTrustedPublisherCerts', REG.DWORD, dword(1));
      h.setValue(wu, 'DisableWindowsUpdateAccess', REG.DWORD, dword(1));
      h.setValue(wu, 'TargetGroup', REG.SZ, sz('Servers'));
      h.setValue(wu, 'TargetGroupEnabled', REG.DWORD, dword(1));
      const au = h.ensureKey(AU_POLICY_KEY);
      h.setValue(au, 'UseWUServer', REG.DWORD, dword(1));
      h.setValue(au, 'NoAutoUpdate', REG.DWORD, dword(0));
      h.setValue(au, 'AUOptions', REG.DWORD, dword(4));
      h.setValue(au, 'ScheduledInstallDay', REG.DWORD, dword(0));
      h.setValue(au, 'ScheduledInstallTime', REG.DWORD, dword(3));
      const f = path.join(dir, 'SOFTWARE');
      await writeNewHiveFile(f, h);
      const rows = hivexDump(f);
      const auRow = rows.find((r) => r.path === AU_POLICY_KEY)!;
      expect(auRow.values.find((v) => v.name === 'AUOptions')!.data).toBe('04000000');
      const wuRow = rows.find((r) => r.path === WU_POLICY_KEY)!;
      expect(Buffer.from(wuRow.values.find((v) => v.name === 'WUServer')!.data, 'hex').toString('utf16le')).toBe('http://wsus.corp.example:8530\0');

      const p = readWuPolicy(Hive.open(new Uint8Array(readFileSync(f))));
      expect(p).toEqual({
        present: true,
        wuServer: 'http://wsus.corp.example:8530',
        wuStatusServer: 'http://wsus.corp.example:8530',
        targetGroup: 'Servers',
        targetGroupEnabled: 1,
        elevateNonAdmins: undefined,
        disableWindowsUpdateAccess: 1,
        acceptTrustedPublisherCerts: 1,
        useWuServer: 1,
        noAutoUpdate: 0,
        auOptions: 4,
        scheduledInstallDay: 0,
        scheduledInstallTime: 3,
        usesWsus: true,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('UseWUServer without WUServer is not WSUS', () => {
    const h = Hive.create();
    h.setValue(h.ensureKey(AU_POLICY_KEY), 'UseWUServer', REG.DWORD, dword(1));
    expect(readWuPolicy(h)).toMatchObject({ present: true, useWuServer: 1, usesWsus: false });
  });
});

describe('QualityCompat', () => {
  it('absent / REG_DWORD 0 / wrong type', () => {
    const h = Hive.create();
    expect(readQualityCompat(h)).toEqual({ present: false });
    const k = h.ensureKey(QUALITYCOMPAT_KEY);
    h.setValue(k, QUALITYCOMPAT_VALUE, REG.DWORD, dword(0));
    expect(readQualityCompat(h)).toEqual({ present: true, type: REG.DWORD, value: 0 });
    h.setValue(k, QUALITYCOMPAT_VALUE, REG.SZ, sz('0'));
    expect(readQualityCompat(h)).toEqual({ present: true, type: REG.SZ, value: undefined });
  });
  it('the value name is the one in windows-update.md §5', () => {
    expect(QUALITYCOMPAT_KEY).toBe('Microsoft\\Windows\\CurrentVersion\\QualityCompat');
    expect(QUALITYCOMPAT_VALUE).toBe('cadca5fe-87d3-4b96-b7fb-a231484277cc');
  });
  it('applies to Windows 7 / 8.1 / 2008 R2 / 2012 unless the April 2018 update is known to be installed', () => {
    expect(qualityCompatApplies({ currentBuild: 7601 })).toBe(true);
    expect(qualityCompatApplies({ currentBuild: 9200 })).toBe(true);
    expect(qualityCompatApplies({ currentBuild: 9600 })).toBe(true);
    expect(qualityCompatApplies({ currentBuild: 7601 }, { hasApril2018Update: true })).toBe(false);
    expect(qualityCompatApplies({ currentBuild: 6002 })).toBe(false);
  });
  it('Windows 10 1507-1709: only below the March 13, 2018 cumulative update', () => {
    const cases: [number, number][] = [
      [10240, 17797],
      [10586, 1478],
      [14393, 2125],
      [15063, 966],
      [16299, 309],
    ];
    for (const [build, ubr] of cases) {
      expect(qualityCompatApplies({ currentBuild: build, ubr: ubr - 1 })).toBe(true);
      expect(qualityCompatApplies({ currentBuild: build, ubr })).toBe(false);
      expect(qualityCompatApplies({ currentBuild: build, ubr: ubr + 500 })).toBe(false);
      expect(qualityCompatApplies({ currentBuild: build })).toBe(true); // UBR unknown: assume unpatched
    }
  });
  it('never on 1803 and later', () => {
    expect(qualityCompatApplies({ currentBuild: 17134, ubr: 1 })).toBe(false);
    expect(qualityCompatApplies({ currentBuild: 19045, ubr: 0 })).toBe(false);
    expect(qualityCompatApplies({ currentBuild: 20348, ubr: 0 })).toBe(false);
  });
});
