// The TaskCache Triggers header and Hash on real blobs: the Triggers values of
// GDATAAdvancedAnalytics/winreg-tasks' tests (MIT; test/fixtures/taskcache/MANIFEST.tsv, each file's
// sha256 checked here first). Every one is a Windows 10/11 blob (version 0x17) of an enabled task.
// No public sample of a disabled task exists: the "disabled" blobs below are modelled from the real
// ones by clearing bit 0x00400000, which is the model under test, not evidence for it.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JOB_BUCKET, parseTriggersHeader, taskHashInput, taskXmlHash, TRIGGERS_HEADER_BYTES, withEnabledBit } from './taskcache.js';
import { enableTaskXml, parseTaskXml } from './taskxml.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/taskcache');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const rows = readFileSync(path.join(DIR, 'MANIFEST.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'));
const blobs = rows.map(([dest, , , , , size, hash]) => {
  const b = new Uint8Array(readFileSync(path.join(DIR, dest!)));
  if (b.length !== Number(size) || sha(b) !== hash) throw new Error(`${dest}: size or sha256 differs from MANIFEST.tsv`);
  return { dest: dest!, b };
});
const header = (b: Uint8Array) => {
  const h = parseTriggersHeader(b);
  if ('error' in h) throw new Error(h.error);
  return h;
};
const differing = (a: Uint8Array, b: Uint8Array) => [...a].flatMap((x, i) => (x === b[i] ? [] : [i]));

describe('TaskCache Triggers header', () => {
  it('has the real blobs of the manifest', () => {
    expect(blobs.length).toBe(9);
  });

  it.each(blobs.map((x) => [x.dest, x.b] as const))('%s: version 0x17, a task, enabled, the flags as the bytes at 0x28 say', (_, b) => {
    const h = header(b);
    expect(h.version).toBe(0x17);
    expect(h.task).toBe(true);
    expect(h.enabled).toBe(true);
    // Independent of the parser: the little-endian u32 read with Buffer.
    expect(h.flags).toBe(Buffer.from(b).readUInt32LE(0x28));
    expect(h.crc32).toBe(Buffer.from(b).readUInt32LE(0x30));
  });

  it('reads the flags of two different real blobs as they differ (0x42412138 and 0x03c2084a: hidden)', () => {
    const parser = header(blobs.find((x) => x.dest === 'triggers-trigger-parser-1.bin')!.b);
    const logon2 = header(blobs.find((x) => x.dest === 'triggers-logon-trigger-2.bin')!.b);
    expect(parser.flags).toBe(0x42412138);
    expect(logon2.flags).toBe(0x03c2084a);
    expect(logon2.flags & JOB_BUCKET.hidden).toBe(JOB_BUCKET.hidden);
    expect(parser.flags & JOB_BUCKET.hidden).toBe(0);
  });

  it('refuses a short blob and an unknown version', () => {
    const b = blobs[0]!.b;
    expect(parseTriggersHeader(b.subarray(0, TRIGGERS_HEADER_BYTES - 1))).toEqual({ error: expect.stringMatching(/shorter than its 56-byte header/) });
    expect('error' in parseTriggersHeader(b.subarray(0, TRIGGERS_HEADER_BYTES))).toBe(false);
    for (const v of [0x00, 0x14, 0x18, 0xff]) {
      const x = new Uint8Array(b);
      x[0] = v;
      expect(parseTriggersHeader(x)).toEqual({ error: expect.stringMatching(/not one of 0x15, 0x16, 0x17/) });
      expect(() => withEnabledBit(x, true)).toThrow(/not one of/);
    }
    for (const v of [0x15, 0x16]) {
      const x = new Uint8Array(b);
      x[0] = v;
      expect(header(x).version).toBe(v);
    }
  });

  it.each(blobs.map((x) => [x.dest, x.b] as const))(
    '%s: clearing and setting the enabled bit changes exactly one byte (0x2a, bit 6) and round-trips',
    (_, b) => {
      const off = withEnabledBit(b, false); // modelled "disabled" blob
      expect(differing(b, off)).toEqual([0x2a]);
      expect(off[0x2a]).toBe(b[0x2a]! & ~0x40);
      expect(header(off).enabled).toBe(false);
      expect(header(off).flags).toBe((header(b).flags & ~0x00400000) >>> 0);
      expect(header(off).crc32).toBe(header(b).crc32);
      const on = withEnabledBit(off, true);
      expect(sha(on)).toBe(sha(b));
      expect(sha(withEnabledBit(b, true))).toBe(sha(b)); // already set: unchanged
      expect(sha(b)).toBe(rows.find((r) => r[0] === _)![6]); // the input was not modified
    },
  );
});

const xml16 = (inner: string, bom = true) => {
  const body = Buffer.from(
    `<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.6">\r\n  <Triggers>\r\n    <TimeTrigger>\r\n      <Enabled>false</Enabled>\r\n    </TimeTrigger>\r\n  </Triggers>\r\n  <Settings>\r\n    <IdleSettings>\r\n      <StopOnIdleEnd>true</StopOnIdleEnd>\r\n    </IdleSettings>\r\n${inner}  </Settings>\r\n</Task>\r\n`,
    'utf16le',
  );
  return bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body;
};

describe('TaskCache Hash and the task file rewrite', () => {
  it('hashes the file without a leading UTF-16LE BOM, and a file without one whole', () => {
    const f = xml16('    <Enabled>false</Enabled>\r\n');
    expect(Buffer.from(taskXmlHash(f)).toString('hex')).toBe(sha(f.subarray(2)));
    expect(taskHashInput(f).length).toBe(f.length - 2);
    const u8 = Buffer.from('<Task/>', 'utf8');
    expect(Buffer.from(taskXmlHash(u8)).toString('hex')).toBe(sha(u8));
  });

  it('UTF-16LE with a BOM: only Settings/Enabled false -> true, the trigger and every other byte kept', () => {
    const f = xml16('    <Enabled>false</Enabled>\r\n');
    const out = enableTaskXml(f) as Uint8Array;
    expect(out).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(out).equals(xml16('    <Enabled>true</Enabled>\r\n'))).toBe(true);
    expect(parseTaskXml(out).enabled).toBe(true);
    expect(Buffer.from(out).toString('utf16le')).toContain('<TimeTrigger>\r\n      <Enabled>false</Enabled>');
  });

  it('UTF-16LE without a BOM, and UTF-8 with and without one, with LF endings and non-ASCII text', () => {
    const noBom = xml16('    <Enabled>false</Enabled>\r\n', false);
    expect(Buffer.from(enableTaskXml(noBom) as Uint8Array).equals(xml16('    <Enabled>true</Enabled>\r\n', false))).toBe(true);
    const u8 = (en: string, bom: boolean) =>
      Buffer.concat([
        Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []),
        Buffer.from(
          `<Task>\n  <RegistrationInfo><Description>Mise à jour – é</Description></RegistrationInfo>\n  <Settings>\n    <Enabled>${en}</Enabled>\n  </Settings>\n</Task>`,
          'utf8',
        ),
      ]);
    for (const bom of [true, false]) expect(Buffer.from(enableTaskXml(u8('false', bom)) as Uint8Array).equals(u8('true', bom))).toBe(true);
  });

  it('refuses without exactly one Settings/Enabled false', () => {
    expect(enableTaskXml(xml16(''))).toEqual({ error: 'Settings has 0 <Enabled> element(s), not one' });
    expect(enableTaskXml(xml16('    <Enabled>true</Enabled>\r\n'))).toEqual({ error: 'Settings/Enabled is "true", not false' });
    expect(enableTaskXml(xml16('    <Enabled>false</Enabled>\r\n    <Enabled>false</Enabled>\r\n'))).toEqual({
      error: 'Settings has 2 <Enabled> element(s), not one',
    });
    expect(enableTaskXml(Buffer.from('<Task><Triggers><Enabled>false</Enabled></Triggers></Task>'))).toEqual({
      error: 'the task file has no <Settings> element',
    });
  });
});
