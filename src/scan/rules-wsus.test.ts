// The WSUS policy rules on their own (pure): which values cannot work, which are left alone, and the
// client identity finding (issue #19 item 1).
import { targetScan } from '../../test/helpers/target-scan.js';
import { describe, it, expect } from 'vitest';
import { deriveFindings } from './rules/index.js';
import { brokenWsusValues, isServerUrl, normalClientId } from '../windows/policy.js';
import type { PolicyInfo, TargetScan } from '../model/scan.js';

const withPolicy = (policy: PolicyInfo): TargetScan => targetScan({ policy });

const ID = { susClientId: '{6A7C1D2E-0B3F-4C5D-9E8F-112233445566}', present: ['SusClientId', 'SusClientIDValidation'] };

describe('WSUS policy values that cannot work', () => {
  it('server URLs: http(s) with a host is one; a bare name, a UNC path, blanks, other schemes are not', () => {
    for (const ok of ['http://wsus:8530', 'https://wsus.corp.example:8531', 'http://10.0.0.5', 'http://[fd00::5]:8530', 'http://wsus.corp.example/path?x=1'])
      expect(isServerUrl(ok), ok).toBe(true);
    for (const bad of [
      undefined,
      '',
      ' ',
      'wsus01',
      'wsus01:8530',
      '\\\\wsus01\\share',
      'ftp://wsus',
      'http://',
      'http:// wsus',
      'http://wsus 8530',
      'http://user:pw@wsus',
      'http:wsus',
    ])
      expect(isServerUrl(bad), String(bad)).toBe(false);
  });

  it('a well-formed WUServer (and its status server, targeting, UseWUServer) is never judged', () => {
    expect(
      brokenWsusValues({
        wuServer: 'http://wsus.oldcorp.example:8530',
        wuStatusServer: 'http://wsus.oldcorp.example:8530',
        useWuServer: 1,
        targetGroup: 'Lab',
        targetGroupEnabled: 1,
      }),
    ).toEqual([]);
  });

  it('UseWUServer=1 without a WUServer; a status server and targeting left without one', () => {
    expect(brokenWsusValues({ useWuServer: 1 }).map((b) => [b.name, b.why])).toEqual([['UseWUServer', 'WSUS use without a WUServer']]);
    expect(brokenWsusValues({ useWuServer: 0, targetGroup: 'Old lab', targetGroupEnabled: 1, wuStatusServer: 'http://wsus:8530' }).map((b) => b.name)).toEqual([
      'WUStatusServer',
      'TargetGroup',
      'TargetGroupEnabled',
    ]);
    // UseWUServer=0 is not "WSUS use": it stays.
    expect(brokenWsusValues({ useWuServer: 0 })).toEqual([]);
  });

  it('a WUServer that is not a URL takes UseWUServer with it; a bad status server beside a good server goes alone', () => {
    expect(brokenWsusValues({ wuServer: 'wsus01', wuStatusServer: 'wsus01', useWuServer: 1 }).map((b) => [b.key.endsWith('\\AU'), b.name])).toEqual([
      [false, 'WUServer'],
      [false, 'WUStatusServer'],
      [true, 'UseWUServer'],
    ]);
    expect(brokenWsusValues({ wuServer: 'http://wsus:8530', wuStatusServer: 'wsus', useWuServer: 1 }).map((b) => b.name)).toEqual(['WUStatusServer']);
  });

  it('a long hostile value is shown cut at 64 characters', () => {
    const [b] = brokenWsusValues({ wuServer: 'x'.repeat(5000) });
    expect(b!.data).toHaveLength(67);
  });

  it('stale-wsus-policy names each broken value as evidence and offers wsus-policy; a good but unreachable server offers nothing', () => {
    const [f, ...rest] = deriveFindings(withPolicy({ useWUServer: 1, targetGroup: 'Lab' }));
    expect(rest).toEqual([]);
    expect(f!.id).toBe('stale-wsus-policy');
    expect(f!.repair).toBe('wsus-policy');
    expect(f!.evidence.map((e) => [e.key, e.value, e.data])).toEqual([
      ['Policies\\Microsoft\\Windows\\WindowsUpdate', 'TargetGroup', 'Lab (a target group without a usable WUServer)'],
      ['Policies\\Microsoft\\Windows\\WindowsUpdate\\AU', 'UseWUServer', '1 (WSUS use without a WUServer)'],
    ]);
    expect(deriveFindings(withPolicy({ useWUServer: 1, wuServer: 'http://wsus:8530', wuStatusServer: 'http://wsus:8530' }))).toEqual([]);
  });

  it('wsus-client-identity: info, only where a WSUS policy is set (every agent writes a SusClientId)', () => {
    expect(deriveFindings(withPolicy({ wsusClient: ID }))).toEqual([]);
    const fs = deriveFindings(withPolicy({ wsusClient: ID, useWUServer: 1, wuServer: 'http://wsus:8530' }));
    expect(fs.map((f) => [f.id, f.severity, f.repair])).toEqual([['wsus-client-identity', 'info', 'wsus-policy']]);
    expect(fs[0]!.evidence.map((e) => [e.value, e.data])).toEqual([
      ['SusClientId', ID.susClientId],
      ['SusClientIDValidation', undefined],
    ]);
  });

  it('client ids compare without braces and case; anything else is no id', () => {
    expect(normalClientId('{6A7C1D2E-0B3F-4C5D-9E8F-112233445566}')).toBe('6a7c1d2e-0b3f-4c5d-9e8f-112233445566');
    expect(normalClientId('6a7c1d2e-0b3f-4c5d-9e8f-112233445566')).toBe('6a7c1d2e-0b3f-4c5d-9e8f-112233445566');
    expect(normalClientId('not-a-guid')).toBeUndefined();
    expect(normalClientId(undefined)).toBeUndefined();
  });
});
