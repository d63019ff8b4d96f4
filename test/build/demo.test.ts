// `make demo` (the README's first set-up command) end to end: builds the broken laptop disk image,
// scan -> repair -> scan; green only when the final scan has nothing left to fix.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ownDevices } from '../helpers/own.js';
import { PROJECT_ROOT, sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason } from '../helpers/disk-images.js';

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
      env: { ...process.env, TMPDIR: tmp },
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
    rmSync(tmp, { recursive: true, force: true });
  }, 300_000);
});
