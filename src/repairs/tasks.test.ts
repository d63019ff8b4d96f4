// Pure planner test: wu-tasks from an in-memory volume (a SOFTWARE hive built in memory with a real
// Triggers blob, winreg-tasks MIT, its enabled bit cleared here as the modelled disabled blob).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { memoryVolume, type MemoryNode } from '../engine/volume.js';
import type { ScanResult } from '../model/scan.js';
import { RefusedError } from '../shared/errors.js';
import { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { TASKCACHE_KEY } from '../windows/taskcache.js';
import { wuTasks } from './tasks.js';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/taskcache');
const REAL = new Uint8Array(readFileSync(path.join(FIX, 'triggers-session-based-trigger-1.bin')));
const OFF = (() => {
  const b = new Uint8Array(REAL);
  b[0x2a] = b[0x2a]! & ~0x40;
  return b;
})();
const SOFTWARE = 'Windows\\System32\\config\\SOFTWARE';
const REL = 'Windows\\System32\\Tasks\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan';
const TASK = '\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan';
const GUID = '{11111111-2222-4333-8444-555555555555}';
const xml = (en: string) =>
  new Uint8Array(
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`<Task>\r\n<Settings>\r\n<Enabled>${en}</Enabled>\r\n</Settings>\r\n</Task>\r\n`, 'utf16le')]),
  );
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
const sz = (s: string) => new Uint8Array(Buffer.from(`${s}\0`, 'utf16le'));

function software(withHash: boolean): Uint8Array {
  const h = Hive.create({ minor: 5, rootName: 'ROOT' });
  h.setValue(h.ensureKey(`${TASKCACHE_KEY}\\Tree${TASK}`), 'Id', REG.SZ, sz(GUID));
  const k = h.ensureKey(`${TASKCACHE_KEY}\\Tasks\\${GUID}`);
  h.setValue(k, 'Path', REG.SZ, sz(TASK));
  h.setValue(k, 'Triggers', REG.BINARY, OFF);
  if (withHash) h.setValue(k, 'Hash', REG.BINARY, new Uint8Array(sha(xml('false').subarray(2))));
  return h.serialize();
}
const ctx = (task: MemoryNode, withHash = true) => ({
  root: '/nowhere',
  scan: { findings: [], wuTasks: [{ path: REL, uri: TASK, enabled: false }] } as unknown as ScanResult,
  options: { runId: 'r' },
  volume: memoryVolume({ [SOFTWARE]: software(withHash), [REL]: task }),
});

describe('wu-tasks plan through the volume port', () => {
  it('Triggers (only the enabled bit), Hash (of the new file), then the file (only false -> true), each with its old value', async () => {
    const steps = await wuTasks.plan(ctx(xml('false')));
    expect(steps.map((s) => (s.change.kind === 'reg-set' ? s.change.name : s.change.kind))).toEqual(['Triggers', 'Hash', 'write-file']);
    const [t, h, f] = steps.map((s) => s.change);
    expect(t).toMatchObject({ hive: SOFTWARE, key: `${TASKCACHE_KEY}\\Tasks\\${GUID}`, value: { type: REG.BINARY, data: Buffer.from(REAL).toString('hex') } });
    expect(t).toMatchObject({ old: { type: REG.BINARY, data: Buffer.from(OFF).toString('hex') } });
    expect(h).toMatchObject({ value: { type: REG.BINARY, data: sha(xml('true').subarray(2)).toString('hex') } });
    expect(h).toMatchObject({ old: { data: sha(xml('false').subarray(2)).toString('hex') } });
    expect(f).toEqual({ kind: 'write-file', path: REL, base64: Buffer.from(xml('true')).toString('base64'), oldSha256: sha(xml('false')).toString('hex') });
    expect(steps[0]!.reason).toBe(`wu-tasks-disabled (${TASK})`);
  });

  it('no Hash value: none written', async () => {
    const steps = await wuTasks.plan(ctx(xml('false'), false));
    expect(steps.map((s) => (s.change.kind === 'reg-set' ? s.change.name : s.change.kind))).toEqual(['Triggers', 'write-file']);
  });

  it('a task file enabled since the scan: nothing planned', async () => {
    expect(await wuTasks.plan(ctx(xml('true')))).toEqual([]);
  });

  it('a task file that is now a link or a special file refuses the repair', async () => {
    await expect(wuTasks.plan(ctx('link'))).rejects.toThrow(RefusedError);
    await expect(wuTasks.plan(ctx('link'))).rejects.toMatchObject({ code: 'link' });
    await expect(wuTasks.plan(ctx('special'))).rejects.toMatchObject({ code: 'special-file' });
  });

  it('uses: SOFTWARE and the disabled task files (checked for links before planning)', () => {
    expect(wuTasks.uses!(ctx(xml('false')))).toEqual([SOFTWARE, REL]);
  });
});
