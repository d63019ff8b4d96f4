// The `wufix disk show` command: text table, ASCII safety, options, and exit codes for bad input.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskToolsReason, server2022, sfdiskJson, sparseImage, tempDir, type BuiltImage } from '../helpers/disk-images.js';
import { wufix } from './cli-helper.js';

const reason = diskToolsReason('mkntfs', 'mkfs.fat');
const isAscii = (s: string) => [...s].every((c) => c.charCodeAt(0) < 0x80);

describe.skipIf(!!reason)(`wufix disk show${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  let img: BuiltImage;
  beforeAll(() => {
    t = tempDir();
    img = server2022(t.dir);
  });
  afterAll(() => {
    t?.cleanup();
  });

  it('text table: one row per partition with the exact byte extents sfdisk reports, ASCII only', async () => {
    const r = await wufix('disk', 'show', img.file);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(isAscii(r.stdout)).toBe(true);
    for (const p of sfdiskJson(img.file).partitions) {
      expect(r.stdout).toContain(`bytes ${p.start}+${p.size}`);
      expect(r.stdout).toContain(`guid ${p.guid}`);
    }
    expect(r.stdout).toContain('"Donn\\u00e9es \\u65e5\\u672c"');
    expect(r.stdout).toMatch(/^Disk .*:\s+GPT, 6\.00 GiB \(6442450944 bytes\), 512-byte sectors\n {2}disk GUID [0-9a-f-]{36}\n/);
  });

  it('--json is ASCII too (\\u escapes) and parses back to the real UTF-16 name', async () => {
    const r = await wufix('disk', 'show', '--json', img.file);
    expect(r.code).toBe(0);
    expect(isAscii(r.stdout)).toBe(true);
    const j = JSON.parse(r.stdout);
    expect(j.partitions[4].name).toBe(sfdiskJson(img.file).partitions[4]!.name);
    expect(Object.keys(j)).toEqual(['scheme', 'sectorSize', 'sizeBytes', 'diskGuid', 'partitions', 'free']);
    expect(Object.keys(j.partitions[0])).toEqual(['number', 'start', 'size', 'type', 'role', 'name', 'attributes', 'guid', 'active', 'fs', 'label']);
  });

  it('--sector-size: 4096 on a 512-byte GPT image is bad input (exit 2); 1000 is a usage error (exit 1)', async () => {
    const r = await wufix('disk', 'show', '--sector-size', '4096', img.file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^wufix: error: .*GPT header at LBA 1: invalid signature/);
    const u = await wufix('disk', 'show', '--sector-size', '1000', img.file);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/512 or 4096/);
  });

  it('missing file, directory, empty file: exit 2 with one line', async () => {
    const dir = path.join(t.dir, 'adir');
    mkdirSync(dir);
    const empty = sparseImage(path.join(t.dir, 'empty.img'), 0);
    for (const target of [path.join(t.dir, 'nope.img'), dir, empty]) {
      const r = await wufix('disk', 'show', '--json', target);
      expect(r.code, target).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { exitCode: 2 } }); // --json: the error, as JSON
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });
});
