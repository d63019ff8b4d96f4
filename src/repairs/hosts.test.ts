// Pure planner test: wu-hosts from an in-memory volume; no file system. Which lines it comments out,
// what it keeps byte for byte, and what it refuses.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memoryVolume, type MemoryNode } from '../engine/volume.js';
import type { ScanResult } from '../model/scan.js';
import { RefusedError } from '../shared/errors.js';
import { TooLargeError } from '../shared/safefs.js';
import { MAX_HOSTS_BYTES } from '../formats/hosts.js';
import { wuHosts } from './hosts.js';

const HOSTS = 'Windows\\System32\\drivers\\etc\\hosts';
const ctx = (node: MemoryNode | undefined, at = HOSTS) => ({
  root: '/nowhere',
  scan: { findings: [] } as unknown as ScanResult,
  options: { runId: 'r' },
  volume: memoryVolume(node === undefined ? { 'Windows\\System32\\config\\SOFTWARE': new Uint8Array(1) } : { [at]: node }),
});
const b = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

const DISABLED = [
  '# Copyright (c) 1993-2009 Microsoft Corp.',
  '#',
  '# localhost name resolution is handled within DNS itself.',
  '#\t127.0.0.1       localhost',
  '#\t::1             localhost',
  '127.0.0.1 windowsupdate.microsoft.com',
  '0.0.0.0\tfe2.update.microsoft.com # blocked',
  '0.0.0.0 ads.example download.windowsupdate.com',
  '192.168.1.10 nas.home',
  '',
].join('\r\n');

describe('wu-hosts plan through the volume port', () => {
  it('one write-file step: the Windows Update lines commented out, the other names kept on a line of their own, the rest as it was', async () => {
    const steps = await wuHosts.plan(ctx(b(DISABLED)));
    expect(steps).toHaveLength(1);
    const [s] = steps;
    expect(s!.change).toMatchObject({ kind: 'write-file', path: HOSTS, oldSha256: createHash('sha256').update(b(DISABLED)).digest('hex') });
    const written = s!.change.kind === 'write-file' ? Buffer.from(s!.change.base64, 'base64').toString('utf8') : '';
    expect(written).toBe(
      DISABLED.replace('127.0.0.1 windowsupdate', '# wufix: 127.0.0.1 windowsupdate')
        .replace('0.0.0.0\tfe2', '# wufix: 0.0.0.0\tfe2')
        .replace('0.0.0.0 ads.example download.windowsupdate.com\r\n', '# wufix: 0.0.0.0 ads.example download.windowsupdate.com\r\n0.0.0.0 ads.example\r\n'),
    );
    expect(s!.reason).toBe('wu-hosts-blocked (3 line(s) mapping Windows Update names)');
    expect(s!.note).toBe(
      'comments out line 6 (127.0.0.1 windowsupdate.microsoft.com), line 7 (0.0.0.0 fe2.update.microsoft.com # blocked), line 8 (0.0.0.0 ads.example download.windowsupdate.com) as "# wufix: <line>"; keeps the other names mapped on a line of their own (line 8: ads.example)',
    );
    // Planning what it wrote plans nothing: the repair is done once.
    expect(await wuHosts.plan(ctx(b(written)))).toEqual([]);
  });

  it('nothing to do: no hosts file, a hosts file without Windows Update names, a folder named hosts', async () => {
    expect(await wuHosts.plan(ctx(undefined))).toEqual([]);
    expect(await wuHosts.plan(ctx(b('127.0.0.1 localhost\r\n0.0.0.0 go.microsoft.com\r\n# 0.0.0.0 update.microsoft.com\r\n')))).toEqual([]);
    expect(await wuHosts.plan(ctx('dir'))).toEqual([]);
  });

  it('found case-insensitively, written back under the name it has on the volume', async () => {
    const [s] = await wuHosts.plan(ctx(b('0.0.0.0 update.microsoft.com\n'), 'WINDOWS\\system32\\Drivers\\ETC\\HOSTS'));
    expect(s!.change).toMatchObject({ kind: 'write-file', path: 'WINDOWS\\system32\\Drivers\\ETC\\HOSTS' });
  });

  it('refuses a link or a special file in its place (exit 3, one line), and a file over 1 MiB is not read', async () => {
    const link = wuHosts.plan(ctx('link'));
    await expect(link).rejects.toThrow(RefusedError);
    await expect(wuHosts.plan(ctx('link'))).rejects.toMatchObject({ code: 'link', exitCode: 3 });
    await expect(wuHosts.plan(ctx('link'))).rejects.toThrow(
      /^wu-hosts: Windows\\System32\\drivers\\etc\\hosts is a symbolic link or junction; wufix does not follow it/,
    );
    await expect(wuHosts.plan(ctx('special'))).rejects.toMatchObject({ code: 'special-file', exitCode: 3 });
    for (const p of [wuHosts.plan(ctx('link')), wuHosts.plan(ctx('special'))]) await expect(p).rejects.toThrow(/^[^\n]+$/);
    await expect(wuHosts.plan(ctx(new Uint8Array(MAX_HOSTS_BYTES + 1)))).rejects.toThrow(TooLargeError);
  });
});
