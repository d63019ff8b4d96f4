// `make demo` (the README's first set-up command) end to end: builds the broken laptop disk image,
// scan -> repair -> scan; green only when the final scan has nothing left to fix.
import { describe, it, expect } from 'vitest';
import { spawnSync, execFileSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT, sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason } from '../helpers/disk-images.js';

const reason = skipReason(sharedReason(), toolsReason('ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'wimcapture', 'ntfsresize'), diskToolsReason());
const loops = () => execFileSync('losetup', ['-a'], { encoding: 'utf8' }).trim();

describe.skipIf(!!reason)('make demo', () => {
  it('scan finds the WinRE and WinTrust failures, repair fixes them, the final scan is clean', () => {
    const before = loops();
    const r = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'demo.sh')], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const [first, rest] = r.stdout.split('== 2.');
    expect(first).toMatch(/winre-too-small|recovery partition has/i);
    expect(first).toMatch(/\(exit code 10: 10 = findings\)/);
    expect(rest).toMatch(/Applied \d+ change\(s\) and verified them/);
    const final = r.stdout.split('== 3.')[1]!;
    expect(final).toMatch(/No problems found that wufix repairs/);
    expect(final).toMatch(/\(exit code 0: 0 = nothing left to fix\)/);
    expect(final).toMatch(/recovery\s+ntfs\s+"Windows RE tools"/);
    expect(loops()).toBe(before);
  }, 300_000);
});
