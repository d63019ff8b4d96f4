// Issue #17 item 7: after a successful repair the old failures are history ("These failed before
// the repair on <date>; retry Windows Update now"), not listed beside "No problems found" as if
// current. Real targets: scanned, repaired with `repair --yes` (the journal it writes is what the
// scan reads back), scanned again; undone, scanned again (an undone run is no repair).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, MiB, GiB } from '../helpers/disk-images.js';
import { runCli } from '../helpers/cli.js';
import * as S from './scenarios.js';
import type { ScanReport, ScanResult } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const diskReason = skipReason(reason, toolsReason('ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'ntfsresize'), diskToolsReason());

function scan(args: string[]): { text: string; status: number | null; t: ScanResult } {
  const text = runCli(['scan', ...args, '--quiet']);
  const json = runCli(['scan', ...args, '--json']);
  expect(json.status, json.stderr).toBe(text.status);
  return { text: text.stdout, status: text.status, t: (JSON.parse(json.stdout) as ScanReport).targets[0]! };
}

describe.skipIf(!!reason)('scan after a repair: the earlier failures are history', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-afterrepair-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('--root: wintrust repaired with --yes, scanned again: "No problems found", the failure as history with the repair date; undone: current again', async () => {
    const root = path.join(tmp, 'dotnet');
    await buildWindowsTree(root, S.dotnetWintrust);
    const first = scan(['--root', root]);
    expect(first.status).toBe(10);
    // KB2656368 twice: WindowsUpdate.log (dated) and the .NET setup log (no time).
    expect(first.text).toContain('Updates: 2 failed update attempts in the logs (times UTC):');
    expect(first.text).not.toContain('History:');

    const r = runCli(['repair', '--root', root, '--yes']);
    expect(r.status, r.stderr).toBe(0);
    const runs = readdirSync(path.join(root, 'wufix', 'journal'));
    expect(runs).toHaveLength(1);
    const runId = runs[0]!;
    expect(r.stdout).toContain(runId);

    const after = scan(['--root', root]);
    expect(after.status).toBe(0);
    expect(after.t.repairRuns).toEqual([expect.objectContaining({ runId, repairs: ['wintrust'], journal: path.join(root, 'wufix', 'journal') })]);
    const at = after.t.repairRuns![0]!.finishedAt;
    // The run finished after the repair command started and before this scan.
    expect(Date.parse(at)).toBeGreaterThan(Date.parse(first.t.attempts[0]!.time!));
    expect(Date.parse(at)).toBeLessThanOrEqual(Date.now());
    const when = at.slice(0, 16).replace('T', ' ');
    expect(after.text).toContain(`Updates: 0 failed update attempts since the repair on ${when} UTC`);
    expect(after.text.replace(/\n {4}/g, ' ')).toContain('History: 2 failed update attempts before the repair (times UTC; undated ones with them):');
    expect(after.text).toMatch(/^ {4}2012-06-13 \d\d:04 {2}KB2656368 {2}0x80070643 {2}WindowsUpdate\.log$/m);
    expect(after.text).toMatch(/^ {4}\(no time\) {9}KB2656368 {2}0x80070643 {2}setup log$/m);
    expect(after.text.replace(/\n {4}/g, ' ')).toContain(
      `These failed before the repair on ${when} UTC (wufix run ${runId}: wintrust); retry Windows Update now.`,
    );
    expect(after.text).toContain('No problems found that wufix repairs.');
    const html = path.join(tmp, 'after.html');
    expect(runCli(['scan', '--root', root, '--html', html, '--quiet']).status).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain(
      `2 failed update attempt(s) in the table below. These failed before the repair on ${when} UTC (wufix run ${runId}: wintrust); retry Windows Update now.`,
    );
    // The failed attempt is listed only under History.
    const historyAt = after.text.indexOf('History:');
    expect(after.text.indexOf('KB2656368')).toBeGreaterThan(historyAt);

    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(0);
    const undone = scan(['--root', root]);
    expect(undone.status).toBe(10);
    expect(undone.t.repairRuns).toBeUndefined();
    expect(undone.text).toContain('Updates: 2 failed update attempts in the logs (times UTC):');
    expect(undone.text).not.toContain('History:');
  });

  it.skipIf(!!diskReason)(
    '--image: winre repaired with --yes (journal beside the image), scanned again: no finding, KB5034439 as history',
    async () => {
      const tree = path.join(tmp, 'tree');
      await buildWindowsTree(tree, S.server2022Winre);
      const img = path.join(tmp, 'server2022.img');
      buildDisk(img, tree, { size: 4 * GiB, recoverySize: 525 * MiB, recoveryFree: 82 * MiB, guid: '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9' });
      const first = scan(['--image', img]);
      expect(first.t.findings.map((f) => f.id)).toEqual(['winre-too-small']);
      const r = runCli(['repair', '--image', img, '--only', 'winre', '--yes']);
      expect(r.status, r.stderr).toBe(0);
      const after = scan(['--image', img]);
      expect(after.status).toBe(0);
      expect(after.t.findings).toEqual([]);
      expect(after.t.repairRuns).toEqual([expect.objectContaining({ repairs: ['winre'], journal: `${img}.wufix-journal` })]);
      const failed = first.t.attempts.filter((a) => a.result === 'failed' && a.kind === 'install');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((a) => a.kb === 'KB5034439')).toBe(true);
      expect(after.text.replace(/\n {4}/g, ' ')).toContain(
        `History: ${failed.length} failed update attempt${failed.length === 1 ? '' : 's'} before the repair (times UTC):`,
      );
      expect(after.text).toMatch(/^ {4}2024-01-10 \d\d:12 {2}KB5034439 {2}0x80070643/m);
      expect(after.text.replace(/\n {4}/g, ' ')).toMatch(
        /These failed before the repair on [0-9: -]+ UTC \(wufix run \S+: winre\); retry Windows Update now\./,
      );
      expect(after.text).toContain('No problems found that wufix repairs.');
    },
    600_000,
  );
});
