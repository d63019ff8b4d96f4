// `wufix scan --image a.img b.img 'lab/*' -j 2` (issue #18 item 5) on eight small real disk images:
// two with findings (exit 10), two healthy (exit 0), one GPT whose NTFS volume holds no Windows and
// one blank file (exit 2 each), and two virtual disks converted by qemu-img from the first ones (a
// qcow2 with findings, a healthy VHDX), attached by each worker through QEMU. Each result equals the single-image scan of that image (the time
// aside); the summary lists every image; the exit code is the worst (2 > 10 > 0); --skip-done runs
// nothing the second time; --jsonl parses line by line; Ctrl-C to the parent stops every worker,
// and every worker detaches its loop devices and mounts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, MiB } from '../helpers/disk-images.js';
import { ownDaemons, ownDevices } from '../helpers/own.js';
import { runCli } from '../helpers/cli.js';
import { alive, buildBatchImages, spawnCli, withoutTime, type BatchImage } from '../helpers/batch-images.js';
import * as S from '../scan/scenarios.js';

const reason = skipReason(
  sharedReason(),
  toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'qemu-img', 'qemu-storage-daemon', 'fusermount3'),
  diskToolsReason(),
);

describe.skipIf(!!reason)('wufix scan: many images, one command', () => {
  let tmp = '';
  let lab = '';
  /** The workers' temp dirs (QEMU's FUSE exports, ntfs-3g mount points) under tmp. */
  let wtmp = '';
  let images: BatchImage[] = [];
  /** The single-image scan (--json) of each image, without its time. */
  const single = new Map<string, unknown>();
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-batch-'));
    lab = path.join(tmp, 'lab');
    wtmp = path.join(tmp, 'wtmp');
    mkdirSync(wtmp);
    images = await buildBatchImages(lab, [
      ['a-server2022', { windows: { ...S.server2022Winre, computerName: 'LAB-SRV-01' }, recoveryFree: 82 * MiB, exitCode: 10 }],
      ['b-dotnet', { windows: { ...S.dotnetWintrust, computerName: 'LAB-WKS-02' }, recoveryFree: 280 * MiB, exitCode: 10 }],
      ['c-healthy', { windows: { ...S.healthy, computerName: 'LAB-WKS-03' }, recoveryFree: 280 * MiB, exitCode: 0 }],
      ['d-healthy', { windows: { ...S.healthy, computerName: 'LAB-WKS-04' }, recoveryFree: 280 * MiB, exitCode: 0 }],
      ['e-nowindows', { blank: 'ntfs' }],
      ['f-blank', { blank: 'zero' }],
    ]);
    // Two of them again as lab containers: the same disks inside, read through QEMU.
    for (const [from, to, fmt, exitCode] of [
      ['b-dotnet.img', 'g-dotnet.qcow2', 'qcow2', 10],
      ['c-healthy.img', 'h-healthy.vhdx', 'vhdx', 0],
    ] as const) {
      const file = path.join(lab, to);
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', fmt, path.join(lab, from), file]);
      images.push({ file, exitCode });
    }
    for (const im of images) {
      const r = runCli(['scan', '--image', im.file, '--json']);
      expect(r.status, `${im.file}: ${r.stderr}`).toBe(im.exitCode);
      single.set(im.file, withoutTime(JSON.parse(r.stdout) as Record<string, unknown>));
    }
  }, 600_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("a quoted glob, -j 2, --out-dir: every result equals the image's own scan, the summary lists all, the exit code is the worst", () => {
    const before = ownDevices(tmp);
    const out = path.join(tmp, 'out');
    const r = runCli(['scan', '--image', `${lab}/*`, '-j', '2', '--out-dir', out], { env: { TMPDIR: wtmp } });
    expect(r.status, r.stderr).toBe(2); // 2 (no Windows) is worse than 10 (findings) and 0
    expect(readdirSync(out).sort()).toEqual(images.map((i) => `${path.basename(i.file)}.json`).sort());
    for (const im of images) {
      const doc = JSON.parse(readFileSync(path.join(out, `${path.basename(im.file)}.json`), 'utf8')) as Record<string, unknown>;
      expect(doc.image).toBe(im.file);
      expect(doc.exitCode).toBe(im.exitCode);
      const { image: _i, exitCode: _e, ...rest } = withoutTime(doc);
      expect(rest, im.file).toEqual(single.get(im.file));
    }
    // The summary: a header and one row per image with its exit code, within 80 columns (a pipe).
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^IMAGE +WINDOWS +FINDINGS +WORST +EXIT$/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    for (const im of images) {
      const row = lines.find((l) => l.includes(path.basename(im.file)));
      expect(row, im.file).toMatch(new RegExp(` ${im.exitCode}$`));
    }
    expect(lines.find((l) => l.includes('a-server2022'))).toMatch(/ Windows Server 2022.* winre-too-small +error +10$/);
    expect(lines.find((l) => l.includes('c-healthy'))).toMatch(/ - +- +0$/);
    expect(lines[lines.length - 1]).toBe('8 images; worst exit code 2');
    // In a pipe: one progress line per state change, every image started and done.
    for (const im of images) {
      expect(r.stderr).toMatch(new RegExp(`^wufix: \\[\\d/8\\] .*${path.basename(im.file)}: scanning$`, 'm'));
      expect(r.stderr).toMatch(new RegExp(`^wufix: \\[\\d/8\\] .*${path.basename(im.file)}: done, exit ${im.exitCode}`, 'm'));
    }
    expect(ownDevices(tmp)).toEqual(before);
    expect(ownDaemons(tmp)).toEqual([]);
  }, 300_000);

  it('--skip-done: the second run scans nothing and gives the same summary', () => {
    const out = path.join(tmp, 'out2');
    const first = runCli(['scan', '--image', ...images.map((i) => i.file), '-j', '2', '--out-dir', out, '--quiet']);
    expect(first.status, first.stderr).toBe(2);
    const mtimes = images.map((i) => statSync(path.join(out, `${path.basename(i.file)}.json`)).mtimeMs);
    const again = runCli(['scan', '--image', ...images.map((i) => i.file), '-j', '2', '--out-dir', out, '--skip-done', out]);
    expect(again.status, again.stderr).toBe(2);
    expect(again.stderr).not.toMatch(/: scanning/);
    expect(again.stderr.match(/: skipped: done in /g)).toHaveLength(images.length);
    expect(images.map((i) => statSync(path.join(out, `${path.basename(i.file)}.json`)).mtimeMs)).toEqual(mtimes);
    expect(again.stdout).toContain('8 images (8 skipped: done before); worst exit code 2');
    // Every image has its row again, with its stored exit code and the note.
    for (const im of images) {
      const row = again.stdout.split('\n').find((l) => l.includes(path.basename(im.file)));
      expect(row, im.file).toMatch(new RegExp(` ${im.exitCode} \\(skipped\\)$`));
    }
    // A result that is not a finished scan (interrupted) is scanned again.
    const c = path.join(out, 'c-healthy.img.json');
    const doc = JSON.parse(readFileSync(c, 'utf8')) as Record<string, unknown>;
    rmSync(c);
    writeFileSync(c, JSON.stringify({ ...doc, exitCode: 130 }));
    const third = runCli(['scan', '--image', ...images.map((i) => i.file), '--out-dir', out, '--skip-done', out]);
    expect(third.stderr.match(/: scanning$/gm)).toHaveLength(1);
    expect(third.stderr).toMatch(/c-healthy\.img: scanning$/m);
    expect((JSON.parse(readFileSync(c, 'utf8')) as { exitCode: number }).exitCode).toBe(0);
  }, 300_000);

  it('--jsonl: one JSON document per line on stdout, the summary on stderr', () => {
    const pick = [images[0]!, images[2]!, images[5]!];
    const r = runCli(['scan', '--image', pick[0]!.file, '--image', pick[1]!.file, pick[2]!.file, '-j', '2', '--jsonl', '--quiet']);
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs.map((d) => d.image).sort()).toEqual(pick.map((p) => p.file).sort());
    for (const d of docs) {
      const im = pick.find((p) => p.file === d.image)!;
      expect(d.exitCode).toBe(im.exitCode);
      const { image: _i, exitCode: _e, ...rest } = withoutTime(d);
      expect(rest).toEqual(single.get(im.file));
    }
    expect(r.stderr).toMatch(/^IMAGE +WINDOWS/m);
    expect(r.stderr).toContain('3 images; worst exit code 2');
  }, 300_000);

  it('one image keeps the single-image output (no summary, no image field)', () => {
    const r = runCli(['scan', '--image', images[2]!.file, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc.image).toBeUndefined();
    expect(withoutTime(doc)).toEqual(single.get(images[2]!.file));
  });

  it('usage: same basenames with --out-dir, a glob matching nothing, a bad -j', () => {
    const g = runCli(['scan', '--image', `${tmp}/nothing-*.img`, '--out-dir', path.join(tmp, 'o3')]);
    expect(g.status).toBe(2);
    expect(g.stderr).toBe(`wufix: error: ${tmp}/nothing-*.img: no file matches this pattern (--image)\n`);
    const j = runCli(['scan', '--image', images[0]!.file, images[1]!.file, '-j', '0']);
    expect(j.status).toBe(1);
    expect(j.stderr).toMatch(/^wufix: error: -j takes a number of workers from 1 to 64\n$/);
    const dup = runCli(['scan', '--image', images[0]!.file, `${lab}/./${path.basename(images[0]!.file)}`, '--out-dir', path.join(tmp, 'o4')]);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/have the same name, so their results would be the same <dir>\/a-server2022\.img\.json/);
    expect(existsSync(path.join(tmp, 'o4'))).toBe(false);
  });

  it('Ctrl-C to the parent mid-batch: exit 130, every worker gone, no loop device or mount of the images left', async () => {
    const before = ownDevices(tmp);
    expect(before).toEqual({ loops: [], mounts: [] });
    const out = path.join(tmp, 'out-int');
    // Sent once a worker has its image attached (it reports the Windows partition it mounted).
    // The qcow2 first: a worker holding a QEMU attach is among those stopped.
    const order = [...images].sort((a, b) => Number(b.file.endsWith('.qcow2')) - Number(a.file.endsWith('.qcow2')));
    const r = await spawnCli(['scan', '--image', ...order.map((i) => i.file), '-j', '2', '--out-dir', out], {
      when: /: scanning: Windows found/,
      env: { TMPDIR: wtmp },
    });
    expect(r.fired).toBe(true);
    expect(r.status, r.stderr).toBe(130);
    expect(r.workers.length).toBeGreaterThanOrEqual(1);
    expect(r.stderr).toMatch(/^wufix: interrupted \(Ctrl-C\): no new image is started; every worker detaches its images and stops$/m);
    expect(r.stderr.trimEnd().split('\n').pop()).toBe(
      'wufix: interrupted: Ctrl-C; every worker stopped and detached its images; the results written so far are kept',
    );
    for (const pid of r.workers) expect(alive(pid), `worker ${pid}`).toBe(false);
    expect(ownDevices(tmp)).toEqual({ loops: [], mounts: [] });
    expect(ownDaemons(tmp)).toEqual([]);
    // Not every image was scanned; those that were have their results, none of an interrupted one.
    const written = existsSync(out) ? readdirSync(out) : [];
    expect(written.length).toBeLessThan(images.length);
    for (const f of written) expect((JSON.parse(readFileSync(path.join(out, f), 'utf8')) as { exitCode: number }).exitCode).not.toBe(130);
  }, 300_000);
});
