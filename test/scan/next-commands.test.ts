// Issue #17 item 3: every repair command a scan prints runs as printed. Each "Next:" command is
// taken from the real text output and run with --dry-run (it must parse and plan: exit 0 or 10,
// never 1); --json's nextCommand and the HTML's "Repair:" line carry the same target option.
// Targets: a real GPT disk image (scan --image), the same image loop-mounted (scan --root, where
// the winre repair needs --image: the backing file is found from the mount), and a plain folder
// (the disk unknown: a marked placeholder, and the file repairs with --root).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB } from '../helpers/disk-images.js';
import { ownDevices } from '../helpers/own.js';
import { runCli } from '../helpers/cli.js';
import * as S from './scenarios.js';
import type { ScanReport } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk'), diskToolsReason());

/** The words of a printed command, as a POSIX shell splits them (double quotes only: wufix's shellArg). */
function words(cmd: string): string[] {
  const out: string[] = [];
  for (const m of cmd.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/** Every "Next:" command of a text report, with the lines of its note. */
function nextOf(text: string): { command: string; note: string }[] {
  const lines = text.split('\n');
  const out: { command: string; note: string }[] = [];
  lines.forEach((l, i) => {
    if (!l.startsWith('Next: ')) return;
    let note = '';
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith('      '); j++) note += ` ${lines[j]!.trim()}`;
    out.push({ command: l.slice('Next: '.length), note: note.trim() });
  });
  return out;
}

/** Run a printed command with --dry-run: it must parse and plan. */
function dryRun(command: string): { status: number | null; stdout: string; stderr: string } {
  const w = words(command);
  expect(w[0]).toBe('wufix');
  const r = runCli([...w.slice(1), '--dry-run']);
  expect([0, 10], `${command} --dry-run: exit ${r.status}\n${r.stderr}`).toContain(r.status);
  expect(r.stderr).not.toMatch(/wufix: (error|refused|usage)/);
  return r;
}

describe.skipIf(!!reason)('the Next: commands of a scan run as printed', () => {
  let tmp = '';
  let img = '';
  let layout: ReturnType<typeof buildDisk>;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-next-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, S.server2022Winre);
    img = path.join(tmp, 'server2022.img');
    layout = buildDisk(img, tree, { size: 4 * GiB, recoverySize: 525 * MiB, recoveryFree: 82 * MiB, guid: '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9' });
  }, 300_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('scan --image: Next, --json nextCommand and the HTML Repair line all say --image <the image>; the command plans the rebuild', () => {
    const before = sha256(img);
    const html = path.join(tmp, 'image.html');
    const r = runCli(['scan', '--image', img, '--html', html, '--quiet']);
    expect(r.status, r.stderr).toBe(10);
    const next = nextOf(r.stdout);
    expect(next).toEqual([{ command: `wufix repair --image ${img} --only winre`, note: '(shows the plan; changes nothing until confirmed)' }]);
    const plan = dryRun(next[0]!.command);
    expect(plan.stdout).toContain(`Plan for ${img}`);
    expect(plan.stdout).toContain(`rebuild the WinRE partition on ${img}`);
    const j = JSON.parse(runCli(['scan', '--image', img, '--json']).stdout) as ScanReport;
    const t = j.targets[0]!;
    expect(t.findings.find((f) => f.id === 'winre-too-small')!.nextCommand).toBe(next[0]!.command);
    expect(t.nextCommands).toEqual([{ command: next[0]!.command, runnable: true, repairs: ['winre'] }]);
    expect(readFileSync(html, 'utf8')).toContain(`Repair: <code>wufix repair --image ${img} --only winre</code>`);
    expect(sha256(img)).toBe(before);
    expect(ownDevices(tmp)).toEqual({ loops: [], mounts: [] });
  });

  it('scan --root of the loop-mounted image: Next says --image <backing file> (not --root), with "unmount first"; it plans once unmounted', () => {
    const mnt = path.join(tmp, 'root');
    mkdirSync(mnt, { recursive: true });
    const dev = execFileSync(
      'losetup',
      ['--find', '--show', '-r', '--offset', String(layout.osStart), '--sizelimit', String(layout.recStart - layout.osStart), img],
      { encoding: 'utf8' },
    ).trim();
    let next: { command: string; note: string }[] = [];
    let json: ScanReport;
    try {
      execFileSync('ntfs-3g', ['-o', 'ro', dev, mnt]);
      try {
        const r = runCli(['scan', '--root', mnt, '--quiet']);
        expect(r.status, r.stderr).toBe(10);
        next = nextOf(r.stdout);
        // The Next: block in 80 columns (the rest of the report's width is item 2's).
        for (const l of r.stdout.slice(r.stdout.indexOf('\nNext: ')).split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
        json = JSON.parse(runCli(['scan', '--root', mnt, '--json']).stdout) as ScanReport;
      } finally {
        execFileSync('umount', [mnt]);
      }
    } finally {
      execFileSync('losetup', ['--detach', dev]);
    }
    expect(next).toHaveLength(1);
    expect(next[0]!.command).toBe(`wufix repair --image ${img} --only winre`);
    expect(next[0]!.command).not.toContain('--root');
    expect(next[0]!.note).toContain(`unmount ${mnt} first: the winre repair rewrites the partition table`);
    expect(json!.targets[0]!.findings.find((f) => f.id === 'winre-too-small')!.nextCommand).toBe(next[0]!.command);
    // As the note says: unmounted (above), then the command as printed.
    const plan = dryRun(next[0]!.command);
    expect(plan.stdout).toContain(`rebuild the WinRE partition on ${img}`);
    expect(ownDevices(tmp)).toEqual({ loops: [], mounts: [] });
  });

  it('scan --root of a folder (no disk): the file repairs with --root run as printed; winre is a marked placeholder', async () => {
    const root = path.join(tmp, 'folder');
    await buildWindowsTree(root, { ...S.win10Winre, wintrust: { default: 0xc9 } });
    const r = runCli(['scan', '--root', root]);
    expect(r.status, r.stderr).toBe(10);
    const next = nextOf(r.stdout);
    for (const l of r.stdout.slice(r.stdout.indexOf('\nNext: ')).split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(next.map((n) => n.command)).toEqual([
      `wufix repair --root ${root} --only wintrust`,
      'wufix repair --image <disk image of this volume> --only winre',
    ]);
    expect(next[1]!.note).toMatch(/^\(fill in <disk image of this volume>: the disk image or \/dev\/sdX holding /);
    const plan = dryRun(next[0]!.command);
    expect(plan.stdout).toMatch(/^wintrust: /m);
    // The placeholder filled in with a real disk image: the command's form parses and plans.
    dryRun(next[1]!.command.replace('<disk image of this volume>', img));
    const t = (JSON.parse(runCli(['scan', '--root', root, '--json']).stdout) as ScanReport).targets[0]!;
    expect(t.nextCommands!.map((n) => n.runnable)).toEqual([true, false]);
    expect(t.findings.find((f) => f.id === 'wintrust-state')!.nextCommand).toBe(next[0]!.command);
    expect(t.findings.find((f) => f.id === 'winre-too-small')!.nextCommand).toBe(next[1]!.command);
  });
});
