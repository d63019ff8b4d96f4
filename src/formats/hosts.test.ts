// The hosts parser and its one edit, and which names are Windows Update's (src/windows/wuhosts.ts).
import { describe, expect, it } from 'vitest';
import { FormatError } from '../shared/errors.js';
import { commentOutHostsLines, MAX_HOSTS_BYTES, parseHosts } from './hosts.js';
import { blockedWuLines, wuHostOf } from '../windows/wuhosts.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const BOM = '\ufeff';

// A Windows-written hosts file (CRLF, BOM as Notepad saves UTF-8) with what disablers and users add.
const SAMPLE = [
  `${BOM}# Copyright (c) 1993-2009 Microsoft Corp.`,
  '#',
  '#      127.0.0.1       localhost',
  '',
  '0.0.0.0 update.microsoft.com',
  '127.0.0.1\tDownload.WindowsUpdate.com\t# added by a disabler',
  '  ::1   fe2.update.microsoft.com.  ',
  '0.0.0.0 ads.example tlu.dl.delivery.mp.microsoft.com tracker.example',
  '10.1.2.3 intranet.corp.example',
  'notanip update.microsoft.com',
  '0.0.0.0',
  '0.0.0.0 go.microsoft.com download.microsoft.com notwindowsupdate.com windowsupdate.com.evil.example',
  '#0.0.0.0 sls.update.microsoft.com',
].join('\r\n');

describe('parseHosts', () => {
  it('the entries with their address, names and comment; BOM, CRLF, tabs, trailing comments; comments and non-entries left out', () => {
    const f = parseHosts(bytes(SAMPLE));
    expect(f.bom).toBe(true);
    expect(f.eol).toBe('\r\n');
    expect(f.lines).toBe(13);
    expect(f.entries.map((l) => [l.number, l.address, l.names])).toEqual([
      [5, '0.0.0.0', ['update.microsoft.com']],
      [6, '127.0.0.1', ['Download.WindowsUpdate.com']],
      [7, '::1', ['fe2.update.microsoft.com.']],
      [8, '0.0.0.0', ['ads.example', 'tlu.dl.delivery.mp.microsoft.com', 'tracker.example']],
      [9, '10.1.2.3', ['intranet.corp.example']],
      [12, '0.0.0.0', ['go.microsoft.com', 'download.microsoft.com', 'notwindowsupdate.com', 'windowsupdate.com.evil.example']],
    ]);
    expect(f.entries[0]).toMatchObject({ text: '0.0.0.0 update.microsoft.com', eol: '\r\n' });
    expect(f.entries[0]!.comment).toBeUndefined();
    expect(f.entries[1]!.comment).toBe(' added by a disabler');
    // Each entry's offsets are its line's: the bytes between start and end are the line as written.
    const raw = Buffer.from(bytes(SAMPLE));
    for (const l of f.entries) expect(raw.subarray(l.start, l.end).toString('utf8')).toBe(SAMPLE.replace(BOM, '').split('\r\n')[l.number - 1]);
    // Line 1 starts after the BOM.
    expect(parseHosts(bytes(`${BOM}0.0.0.0 a.example`)).entries[0]).toMatchObject({ number: 1, start: 3, eol: '' });
  });

  it('LF endings, a lone CR as whitespace, an empty file, a UTF-16 file (no entries: the resolver cannot read it)', () => {
    const f = parseHosts(bytes('0.0.0.0 a.example\n\n0.0.0.0\rupdate.microsoft.com\n'));
    expect(f.eol).toBe('\n');
    expect(f.bom).toBe(false);
    expect(f.lines).toBe(3);
    expect(f.entries.map((l) => [l.number, l.eol, l.names])).toEqual([
      [1, '\n', ['a.example']],
      [3, '\n', ['update.microsoft.com']],
    ]);
    expect(parseHosts(new Uint8Array(0))).toEqual({ bom: false, lines: 0, entries: [], eol: '\n' });
    const utf16 = new Uint8Array(Buffer.from('\ufeff0.0.0.0 update.microsoft.com\r\n', 'utf16le'));
    expect(parseHosts(utf16).entries).toEqual([]);
  });

  it('bounded: 1 MiB is read, one byte more is refused with a FormatError naming the size', () => {
    const line = '0.0.0.0 a.example\n';
    const big = new Uint8Array(MAX_HOSTS_BYTES).fill(0x20);
    big.set(bytes(line), 0);
    expect(parseHosts(big).entries[0]!.names).toEqual(['a.example']);
    const over = new Uint8Array(MAX_HOSTS_BYTES + 1);
    expect(() => parseHosts(over)).toThrow(FormatError);
    expect(() => parseHosts(over)).toThrow(/hosts file is 1048577 bytes, more than the 1048576/);
  });
});

describe('Windows Update names (wuHostOf, blockedWuLines)', () => {
  it('a listed name and every name below it, any case, a trailing dot ignored; nothing that merely ends the same', () => {
    for (const n of [
      'windowsupdate.microsoft.com',
      'v4.windowsupdate.microsoft.com',
      'update.microsoft.com',
      'fe2.update.microsoft.com',
      'sls.update.microsoft.com',
      'download.windowsupdate.com',
      'CTLDL.windowsupdate.com',
      'tlu.dl.delivery.mp.microsoft.com',
      'fe3.delivery.mp.microsoft.com',
      'wustat.windows.com',
      'ntservicepack.microsoft.com',
      'kv801.prod.do.dsp.mp.microsoft.com',
      'emdl.ws.microsoft.com',
      'update.microsoft.com.',
    ])
      expect(wuHostOf(n), n).toBeDefined();
    for (const n of [
      'go.microsoft.com',
      'download.microsoft.com',
      'microsoft.com',
      'windows.com',
      'notwindowsupdate.com',
      'windowsupdate.com.evil.example',
      'xupdate.microsoft.com',
      'mp.microsoft.com',
    ])
      expect(wuHostOf(n), n).toBeUndefined();
    expect(wuHostOf('download.windowsupdate.com')!.core).toBe(true);
    expect(wuHostOf('wustat.windows.com')!.core).toBe(false);
  });

  it('the entries naming one, with their other names; comments, non-addresses and other hosts are not', () => {
    expect(blockedWuLines(parseHosts(bytes(SAMPLE)))).toEqual([
      { line: 5, text: '0.0.0.0 update.microsoft.com', address: '0.0.0.0', wuNames: ['update.microsoft.com'], otherNames: [], core: true },
      {
        line: 6,
        text: '127.0.0.1\tDownload.WindowsUpdate.com\t# added by a disabler',
        address: '127.0.0.1',
        wuNames: ['Download.WindowsUpdate.com'],
        otherNames: [],
        core: true,
      },
      { line: 7, text: '  ::1   fe2.update.microsoft.com.  ', address: '::1', wuNames: ['fe2.update.microsoft.com.'], otherNames: [], core: true },
      {
        line: 8,
        text: '0.0.0.0 ads.example tlu.dl.delivery.mp.microsoft.com tracker.example',
        address: '0.0.0.0',
        wuNames: ['tlu.dl.delivery.mp.microsoft.com'],
        otherNames: ['ads.example', 'tracker.example'],
        core: true,
      },
    ]);
    expect(blockedWuLines(parseHosts(bytes('0.0.0.0 wustat.windows.com\n')))[0]!.core).toBe(false);
  });
});

describe('commentOutHostsLines', () => {
  it('exactly the chosen lines become "# wufix: <line>", their endings kept; every other byte as it was', () => {
    const src = bytes(SAMPLE);
    const f = parseHosts(src);
    const out = commentOutHostsLines(src, f, [{ line: 5 }, { line: 6 }, { line: 8, after: '0.0.0.0 ads.example tracker.example' }]);
    const want = SAMPLE.replace('\r\n0.0.0.0 update.microsoft.com\r\n', '\r\n# wufix: 0.0.0.0 update.microsoft.com\r\n')
      .replace('\r\n127.0.0.1\t', '\r\n# wufix: 127.0.0.1\t')
      .replace(
        '\r\n0.0.0.0 ads.example tlu.dl.delivery.mp.microsoft.com tracker.example\r\n',
        '\r\n# wufix: 0.0.0.0 ads.example tlu.dl.delivery.mp.microsoft.com tracker.example\r\n0.0.0.0 ads.example tracker.example\r\n',
      );
    expect(text(out)).toBe(want);
    // The result parses to no Windows Update entry and keeps the other names mapped.
    const again = parseHosts(out);
    expect(blockedWuLines(again).map((b) => b.line)).toEqual([7]);
    expect(again.entries.find((l) => l.names.includes('ads.example'))?.names).toEqual(['ads.example', 'tracker.example']);
    // Only an entry can be commented out (line 1 is a comment, line 10 not an address).
    expect(() => commentOutHostsLines(src, f, [{ line: 1 }])).toThrow(/line 1 is not an entry/);
    expect(() => commentOutHostsLines(src, f, [{ line: 10 }])).toThrow(/line 10 is not an entry/);
    // Nothing to edit: the same bytes.
    expect(Buffer.from(commentOutHostsLines(src, f, [])).equals(Buffer.from(src))).toBe(true);
  });

  it('line 1 after the BOM, a last line without an ending, invalid UTF-8 kept as bytes', () => {
    const raw = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...bytes('0.0.0.0 update.microsoft.com # \xff'),
      0xff,
      0xfe,
      0x0a,
      ...bytes('0.0.0.0 a.example wustat.windows.com'),
    ]);
    const f = parseHosts(raw);
    const out = commentOutHostsLines(raw, f, [{ line: 1 }, { line: 2, after: '0.0.0.0 a.example' }]);
    const want = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('# wufix: '),
      Buffer.from(raw.subarray(3, raw.indexOf(0x0a) + 1)),
      Buffer.from('# wufix: 0.0.0.0 a.example wustat.windows.com\n0.0.0.0 a.example'),
    ]);
    expect(Buffer.from(out).equals(want)).toBe(true);
    expect(() => commentOutHostsLines(raw, f, [{ line: 3 }])).toThrow(/line 3 is not an entry/);
    expect(() => commentOutHostsLines(raw, f, [{ line: 1, after: 'x\r\ny' }])).toThrow(/line break/);
  });
});
