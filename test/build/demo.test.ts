// `make demo` (the README's first set-up command) end to end: builds the broken laptop disk image,
// scan -> repair -> scan; green only when the final scan has nothing left to fix. Run with KEEP=1:
// the image stays, and the commands it prints (disk list, winre info) work on it.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ownDevices } from '../helpers/own.js';
import { PROJECT_ROOT, sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason } from '../helpers/disk-images.js';
import { runCli } from '../helpers/cli.js';

const reason = skipReason(sharedReason(), toolsReason('ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'wimcapture', 'ntfsresize'), diskToolsReason());

describe.skipIf(!!reason)('make demo', () => {
  it('scan finds the WinRE and WinTrust failures, repair fixes them, the final scan is clean', () => {
    // Its images (and wufix's own mount dirs) under this test's temp dir: only those loop devices and mounts are checked.
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-demo-'));
    const before = ownDevices(tmp);
    const r = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'demo.sh')], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      env: { ...process.env, TMPDIR: tmp, KEEP: '1' },
    });
    expect(r.status, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const [first, rest] = r.stdout.split('== 2.');
    expect(first).toMatch(/winre-too-small|recovery partition has/i);
    expect(first).toMatch(/\(exit code 10: 10 = findings\)/);
    expect(rest).toMatch(/Applied \d+ change\(s\) and verified them/);
    const final = r.stdout.split('== 3.')[1]!;
    expect(final).toMatch(/No problems found that wufix repairs/);
    expect(final).toMatch(/\(exit code 0: 0 = nothing left to fix\)/);
    expect(final).toMatch(/recovery\s+ntfs\s+"Windows RE tools"/);
    expect(ownDevices(tmp)).toEqual(before);
    // KEEP=1: the repaired image is left with its journal, and the next commands are printed.
    const kept = /== KEEP=1: the demo image stays at (\S+) /.exec(r.stdout)?.[1];
    expect(kept, r.stdout.slice(-2000)).toBeTruthy();
    expect(existsSync(kept!) && existsSync(`${kept}.wufix-journal`)).toBe(true);
    expect(r.stdout).toContain(`winre info --image ${kept}`);
    const list = runCli(['disk', 'list', '--json', kept!]);
    expect(list.status).toBe(0);
    expect((JSON.parse(list.stdout) as { disks: { scheme: string; windows: { partition: number }[] }[] }).disks[0]).toMatchObject({
      scheme: 'gpt',
      windows: [{ partition: 3 }],
    });
    const info = runCli(['winre', 'info', '--image', kept!, '--json', '-q']);
    expect(info.status).toBe(0);
    const w = (JSON.parse(info.stdout) as { targets: { status: string; recoveryPartition: { sizeBytes: number; meetsNeed: boolean } }[] }).targets[0]!;
    expect(w.status).toBe('Enabled');
    expect(w.recoveryPartition).toMatchObject({ sizeBytes: 1024 * 1024 * 1024, meetsNeed: true }); // rebuilt to 1 GiB by the repair
    expect(ownDevices(tmp)).toEqual(before);
    rmSync(tmp, { recursive: true, force: true });
  }, 300_000);
});
