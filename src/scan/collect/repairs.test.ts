// The repair runs a scan reads from a journal (untrusted): only runs whose state says "verified",
// finished after they started and not in the future, with known repair ids; links not followed.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectRepairRuns, readRepairRuns } from './repairs.js';

let tmp = '';
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-runs-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function run(jr: string, id: string, state: unknown, steps: unknown = [{ repair: 'wintrust' }], planId = id): void {
  const d = path.join(jr, id);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'plan.json'), JSON.stringify({ runId: planId, steps }));
  writeFileSync(path.join(d, 'state.json'), typeof state === 'string' ? state : JSON.stringify(state));
}

describe('repair runs from a journal', () => {
  it('counts verified runs only, oldest first, and refuses what does not add up', () => {
    const root = path.join(tmp, 'vol');
    const jr = path.join(root, 'wufix', 'journal');
    run(jr, '20240201T100000Z-abcdef', { phase: 'verified', updatedAt: '2024-02-01T10:00:05.000Z' }, [
      { repair: 'winre' },
      { repair: 'winre' },
      { repair: 'nope' },
    ]);
    run(jr, '20240101T100000Z-abcdef', { phase: 'verified', updatedAt: '2024-01-01T10:00:05.000Z' });
    run(jr, '20240301T100000Z-abcdef', { phase: 'undone', updatedAt: '2024-03-01T10:00:05.000Z' });
    run(jr, '20240302T100000Z-abcdef', { phase: 'rolled-back', updatedAt: '2024-03-02T10:00:05.000Z' });
    run(jr, '20240303T100000Z-abcdef', { phase: 'verified', updatedAt: '2999-01-01T00:00:00.000Z' }); // in the future
    run(jr, '20240304T100000Z-abcdef', { phase: 'verified', updatedAt: '2024-03-01T00:00:00.000Z' }); // before it started
    run(jr, '20240305T100000Z-abcdef', { phase: 'verified', updatedAt: '2024-03-05T10:00:05.000Z' }, [{ repair: 'nope' }]); // no known repair
    run(jr, '20240306T100000Z-abcdef', { phase: 'verified', updatedAt: '2024-03-06T10:00:05.000Z' }, undefined, '20240101T100000Z-abcdef'); // another run's plan
    run(jr, '20240307T100000Z-abcdef', '{"phase": "verif'); // not JSON
    run(jr, 'not-a-run', { phase: 'verified', updatedAt: '2024-03-08T10:00:05.000Z' });
    expect(collectRepairRuns(root)).toEqual([
      { runId: '20240101T100000Z-abcdef', finishedAt: '2024-01-01T10:00:05.000Z', repairs: ['wintrust'], journal: jr },
      { runId: '20240201T100000Z-abcdef', finishedAt: '2024-02-01T10:00:05.000Z', repairs: ['winre'], journal: jr },
    ]);
  });

  it('follows no link: a journal folder or run that is a link is not read', () => {
    const elsewhere = path.join(tmp, 'elsewhere');
    run(elsewhere, '20240101T100000Z-abcdef', { phase: 'verified', updatedAt: '2024-01-01T10:00:05.000Z' });
    const root = path.join(tmp, 'vol');
    mkdirSync(path.join(root, 'wufix'), { recursive: true });
    symlinkSync(elsewhere, path.join(root, 'wufix', 'journal'));
    expect(collectRepairRuns(root)).toEqual([]);
    const jr = path.join(tmp, 'jr');
    mkdirSync(jr);
    symlinkSync(path.join(elsewhere, '20240101T100000Z-abcdef'), path.join(jr, '20240101T100000Z-abcdef'));
    expect(readRepairRuns(jr)).toEqual([]);
    expect(readRepairRuns(path.join(tmp, 'absent'))).toEqual([]);
  });
});
