// Pure planner test: wsus-policy from an in-memory volume holding a SOFTWARE hive made by the hive
// engine; no file system. Which values it deletes, with what they were, and what it never touches.
import { describe, expect, it } from 'vitest';
import { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { memoryVolume } from '../engine/volume.js';
import type { ScanResult } from '../model/scan.js';
import { AU_POLICY_KEY, WU_CLIENT_KEY, WU_POLICY_KEY } from '../windows/policy.js';
import { wsusPolicy } from './wsuspolicy.js';

const SOFTWARE_REL = 'Windows\\System32\\config\\SOFTWARE';
const sz = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

function software(p: { wuServer?: string; useWuServer?: number; targetGroup?: string; identity?: boolean; other?: boolean }): Uint8Array {
  const h = Hive.create({ rootName: 'ROOT' });
  const wu = h.ensureKey(WU_POLICY_KEY);
  if (p.wuServer !== undefined) h.setValue(wu, 'WUServer', REG.SZ, sz(p.wuServer));
  if (p.targetGroup !== undefined) h.setValue(wu, 'TargetGroup', REG.SZ, sz(p.targetGroup));
  // A policy value the repair has no business with.
  if (p.other) h.setValue(wu, 'DisableWindowsUpdateAccess', REG.DWORD, new Uint8Array([1, 0, 0, 0]));
  if (p.useWuServer !== undefined) h.setValue(h.ensureKey(AU_POLICY_KEY), 'UseWUServer', REG.DWORD, new Uint8Array([p.useWuServer, 0, 0, 0]));
  if (p.identity) {
    const c = h.ensureKey(WU_CLIENT_KEY);
    h.setValue(c, 'SusClientId', REG.SZ, sz('{6A7C1D2E-0B3F-4C5D-9E8F-112233445566}'));
    h.setValue(c, 'SusClientIDValidation', REG.BINARY, new Uint8Array([6, 2, 0, 0]));
    h.setValue(c, 'LastWaitTimeout', REG.SZ, sz('2024-01-01 00:00:00'));
  }
  return h.serialize();
}

const ctx = (bytes: Uint8Array | undefined, opts: { reset?: boolean } = {}) => ({
  root: '/nowhere',
  scan: { policy: {}, findings: [] } as unknown as ScanResult,
  options: { runId: 'r', wsusResetPolicy: opts.reset },
  volume: memoryVolume(bytes ? { [SOFTWARE_REL]: bytes } : {}),
});
const names = (steps: Awaited<ReturnType<typeof wsusPolicy.plan>>) =>
  steps.map((s) => (s.change.kind === 'reg-delete-value' ? `${s.change.key}|${s.change.name}` : s.change.kind));

describe('wsus-policy plan through the volume port', () => {
  it('a WUServer that is not a URL goes with UseWUServer and the target group; the identity with them; nothing else', async () => {
    const steps = await wsusPolicy.plan(ctx(software({ wuServer: 'wsus01', useWuServer: 1, targetGroup: 'Lab', identity: true, other: true })));
    expect(names(steps)).toEqual([
      `${WU_POLICY_KEY}|WUServer`,
      `${WU_POLICY_KEY}|TargetGroup`,
      `${AU_POLICY_KEY}|UseWUServer`,
      `${WU_CLIENT_KEY}|SusClientId`,
      `${WU_CLIENT_KEY}|SusClientIDValidation`,
    ]);
    expect(steps[0]!.change).toEqual({
      kind: 'reg-delete-value',
      hive: SOFTWARE_REL,
      key: WU_POLICY_KEY,
      name: 'WUServer',
      old: { type: REG.SZ, data: hexOf(sz('wsus01')) },
    });
    expect(steps[0]!.reason).toBe('stale-wsus-policy (WUServer "wsus01": not an http:// or https:// server URL)');
    expect(steps[4]!.change).toMatchObject({ old: { type: REG.BINARY, data: '06020000' } });
  });

  it('a well-formed server stays: only the identity is planned; --wsus-reset-policy adds the server values once each', async () => {
    const bytes = software({ wuServer: 'http://wsus.corp.example:8530', useWuServer: 1, targetGroup: 'Lab', identity: true, other: true });
    expect(names(await wsusPolicy.plan(ctx(bytes)))).toEqual([`${WU_CLIENT_KEY}|SusClientId`, `${WU_CLIENT_KEY}|SusClientIDValidation`]);
    const reset = await wsusPolicy.plan(ctx(bytes, { reset: true }));
    expect(names(reset)).toEqual([
      `${WU_POLICY_KEY}|WUServer`,
      `${WU_POLICY_KEY}|TargetGroup`,
      `${AU_POLICY_KEY}|UseWUServer`,
      `${WU_CLIENT_KEY}|SusClientId`,
      `${WU_CLIENT_KEY}|SusClientIDValidation`,
    ]);
    expect(reset[0]!.reason).toBe('--wsus-reset-policy (WUServer)');
    // Broken values are not planned twice when --wsus-reset-policy is given too.
    expect(names(await wsusPolicy.plan(ctx(software({ useWuServer: 1 }), { reset: true })))).toEqual([`${AU_POLICY_KEY}|UseWUServer`]);
  });

  it('nothing to do, or no SOFTWARE hive: no steps', async () => {
    expect(await wsusPolicy.plan(ctx(software({})))).toEqual([]);
    expect(await wsusPolicy.plan(ctx(undefined))).toEqual([]);
  });

  it('a hostile value is shown in the reason as printable ASCII, cut', async () => {
    const [s] = await wsusPolicy.plan(ctx(software({ wuServer: `\u001b[2J${'\u00e9'.repeat(300)}` })));
    expect(s!.reason).toMatch(/^stale-wsus-policy \(WUServer "\?\[2J\?+\.\.\.": not an http/);
    expect(s!.reason).not.toMatch(/[^\x20-\x7e]/);
  });
});
