// Streaming log parsers. Inputs are built in the real on-disk formats from the samples in
// ../shared/docs/windows-update.md section 8 (ReportingEvents sample line from techex2.blogspot.com,
// the CBS.log sample line, the WindowsUpdate.log samples of KB902093) plus realistic scenario lines
// for the seed failures of issue 4. Expected values are read off those samples by hand.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../shared/errors.js';
import { lookupError } from './errorcodes.js';
import { fileChunks, readCbsLogFile, readReportingEventsFile, readSetupLogFile, readWindowsUpdateLogFile } from '../scan/collect/logs-file.js';
import {
  detectEncoding,
  decodeWindows1252,
  extractKb,
  isSetupLogName,
  parseCbsLog,
  parseReportingEvents,
  parseSetupLog,
  parseWindowsUpdateLog,
  readLines,
  type DetectedEncoding,
} from './logs/index.js';

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const utf16 = (s: string, bom = true): Buffer => Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(s, 'utf16le')]);
const ansi = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Split bytes into chunks of `size` (or a cycling list of sizes), as an async iterable. */
async function* chunked(buf: Uint8Array, sizes: number | number[]): AsyncGenerator<Uint8Array> {
  const list = Array.isArray(sizes) ? sizes : [sizes];
  let i = 0;
  for (let o = 0; o < buf.length; i++) {
    const n = list[i % list.length]!;
    yield buf.subarray(o, o + n);
    o += n;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function lines(buf: Uint8Array, sizes: number | number[] = 1 << 20, opts = {}): Promise<string[]> {
  return (await collect(readLines(chunked(buf, sizes), opts))).map((l) => l.text);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-logs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T = '\t';
const tabs = (...f: string[]): string => f.join(T);

// The ReportingEvents sample line of windows-update.md section 8 (tabs shown there as the arrow).
const RE_SAMPLE = tabs(
  '{C7C93C12-61E3-4998-9EBD-B448C62540A4}',
  '2015-03-23 19:39:34:484-0400',
  '1',
  '161 [AGENT_DOWNLOAD_FAILED]',
  '101',
  '{FD8A47F9-2E75-4763-AE52-777D471C87C8}',
  '201',
  '80200056',
  'AutomaticUpdatesWuApp',
  'Failure',
  'Content Download',
  'Error: Download failed.',
);

// KB5034441 (Windows 10 22H2, WinRE) failing with 0x80070643: Win10 line with event name and the
// extra trailing field.
const RE_KB5034441 = tabs(
  '{0B2A6C55-1F3C-4C8B-9A43-6A3E3B5B8E11}',
  '2024-01-10 03:12:45:120+0100',
  '1',
  '182 [AGENT_INSTALLING_FAILED]',
  '101',
  '{D2C1C8C1-3B8C-4D5B-8D64-4E1AE0F2C8A4}',
  '1',
  '80070643',
  'UpdateOrchestrator',
  'Failure',
  'Content Install',
  'Installation Failure: Windows failed to install the following update with error 0x80070643: 2024-01 Security Update for Windows 10 Version 22H2 for x64-based Systems (KB5034441).',
  'Windows Update Client',
);

// Windows 7 KB4056894 rollback loop: the same install failing at every boot (no event names on 7).
const reKb4056894 = (day: number, guid: string): string =>
  tabs(
    guid,
    `2018-01-0${day} 08:0${day}:11:000-0800`,
    '1',
    '182',
    '101',
    '{4D3D0E4A-5F2B-4C7A-9E0F-2B9C5C1A7D10}',
    '201',
    '80073aa2',
    'AutomaticUpdates',
    'Failure',
    'Content Install',
    'Installation Failure: Windows failed to install the following update with error 0x80073aa2: 2018-01 Security Monthly Quality Rollup for Windows 7 for x64-based Systems (KB4056894).',
  );

// WSUS third-party update whose signing root is not trusted.
const RE_WSUS = tabs(
  '{9E6A3C1B-7D2E-4F10-8B5A-1C2D3E4F5A6B}',
  '2019-06-04 14:00:01:000+0200',
  '1',
  '161 [AGENT_DOWNLOAD_FAILED]',
  '101',
  '{7A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}',
  '100',
  '800b0109',
  'AutomaticUpdates',
  'Failure',
  'Content Download',
  'Error: Download failed.',
);

// ---------------------------------------------------------------------------------------------
// encoding + line reader
// ---------------------------------------------------------------------------------------------

describe('encoding detection', () => {
  it('BOMs, UTF-16LE heuristic, UTF-8, ANSI', () => {
    expect(detectEncoding(utf16('abc'))).toEqual({ encoding: 'utf-16le', bomLength: 2, reason: 'bom' });
    expect(detectEncoding(Buffer.from('\ufeffabc', 'utf8'))).toEqual({ encoding: 'utf-8', bomLength: 3, reason: 'bom' });
    expect(detectEncoding(utf16('{C7C9}\tabc\r\n', false)).reason).toBe('utf16-heuristic');
    expect(detectEncoding(utf16('{C7C9}\tabc\r\n', false)).encoding).toBe('utf-16le');
    expect(detectEncoding(Buffer.from('2017-03-10 10:24:32, Info'))).toEqual({ encoding: 'utf-8', bomLength: 0, reason: 'ascii' });
    expect(detectEncoding(Buffer.from('Kb f\u00fcr Windows', 'utf8')).encoding).toBe('utf-8');
    expect(detectEncoding(ansi('Update f\u00fcr Windows')).encoding).toBe('windows-1252');
    expect(detectEncoding(new Uint8Array(0)).reason).toBe('empty');
  });

  it('Windows-1252 decoding of the 0x80-0x9F block', () => {
    expect(decodeWindows1252(Uint8Array.from([0x80, 0x20, 0xe9, 0x93, 0x94, 0x81]))).toBe('\u20ac \u00e9\u201c\u201d\u0081');
  });
});

describe('readLines edge cases', () => {
  it('CRLF split across chunks, LF-only, no trailing newline', async () => {
    const buf = Buffer.from('alpha\r\nbeta\r\ngamma\nlast');
    for (const size of [1, 2, 3, 6, 7, 100]) expect(await lines(buf, size), String(size)).toEqual(['alpha', 'beta', 'gamma', 'last']);
    expect(await lines(Buffer.from('one\r\ntwo\r\n'), 4)).toEqual(['one', 'two']);
    expect(await lines(Buffer.from('one\r\n\r\nthree'), 1)).toEqual(['one', '', 'three']);
    expect(await lines(Buffer.alloc(0), 1)).toEqual([]);
  });

  it('UTF-16LE split at every byte position, surrogate pairs included', async () => {
    const text = 'caf\u00e9 \ud83d\ude00 line\r\nzweite Zeile \u20ac\r\n\u00fcnf';
    for (const bom of [true, false]) {
      const buf = utf16(text, bom);
      for (const sizes of [1, 3, 5, [1, 2, 7], 4096]) {
        expect(await lines(buf, sizes), `${bom} ${String(sizes)}`).toEqual(['caf\u00e9 \ud83d\ude00 line', 'zweite Zeile \u20ac', '\u00fcnf']);
      }
    }
  });

  it('a line longer than a chunk stays whole; maxLineLength cuts and keeps numbering', async () => {
    const long = 'x'.repeat(10_000) + 'END';
    const buf = Buffer.from(`first\r\n${long}\r\nthird\r\n`);
    expect(await lines(buf, 997)).toEqual(['first', long, 'third']);
    const got = await collect(readLines(chunked(buf, 997), { maxLineLength: 4000 }));
    expect(got.map((l) => [l.line, l.text.length])).toEqual([
      [1, 5],
      [2, 4000],
      [3, 5],
    ]);
  });

  it('reports the detected encoding once', async () => {
    const seen: DetectedEncoding[] = [];
    await collect(readLines(chunked(utf16('a\r\nb'), 1), { onEncoding: (e) => seen.push(e) }));
    expect(seen).toEqual([{ encoding: 'utf-16le', bomLength: 2, reason: 'bom' }]);
  });

  it('garbage bytes do not throw and do not shift line numbers', async () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const junk = Buffer.from(
      Array.from({ length: 3000 }, () => {
        const b = rnd();
        return b === 10 ? 0x20 : b; // no LF inside the junk line
      }),
    );
    const buf = Buffer.concat([Buffer.from(RE_SAMPLE + '\r\n'), junk, Buffer.from('\r\n' + RE_WSUS + '\r\n')]);
    const recs = await collect(parseReportingEvents(chunked(buf, 333), 'RE.log', { encoding: 'windows-1252' }));
    expect(recs.map((r) => r.line)).toEqual([1, 3]);
    // UTF-16: an even number of junk bytes keeps the alignment, so the next line is found
    const even16 = Buffer.concat([utf16(RE_SAMPLE + '\r\n'), junk.subarray(0, 1000), Buffer.from('\n\0'), utf16(RE_WSUS + '\r\n', false)]);
    expect((await collect(parseReportingEvents(chunked(even16, 64), 'RE.log'))).map((r) => r.line)).toEqual([1, 3]);
    // an odd number shifts every later code unit: no throw, the lines before are intact
    const odd16 = Buffer.concat([utf16(RE_SAMPLE + '\r\n'), junk.subarray(0, 1001), Buffer.from('\n\0'), utf16(RE_WSUS + '\r\n', false)]);
    const recs16 = await collect(parseReportingEvents(chunked(odd16, 64), 'RE.log'));
    expect(recs16.map((r) => r.line)).toEqual([1]);
  });
});

// ---------------------------------------------------------------------------------------------
// ReportingEvents.log
// ---------------------------------------------------------------------------------------------

describe('ReportingEvents.log', () => {
  it('parses the doc sample line field by field', async () => {
    const [r] = await collect(parseReportingEvents([Buffer.from(RE_SAMPLE + '\r\n')], 'ReportingEvents.log'));
    expect(r).toEqual({
      file: 'ReportingEvents.log',
      line: 1,
      instanceId: '{C7C93C12-61E3-4998-9EBD-B448C62540A4}',
      time: new Date('2015-03-23T23:39:34.484Z'), // 19:39:34.484 at -04:00
      eventId: 161,
      eventName: 'AGENT_DOWNLOAD_FAILED',
      updateId: '{FD8A47F9-2E75-4763-AE52-777D471C87C8}',
      revision: 201,
      hresult: '0x80200056',
      client: 'AutomaticUpdatesWuApp',
      status: 'Failure',
      category: 'Content Download',
      message: 'Error: Download failed.',
    });
  });

  const file = [
    RE_SAMPLE,
    'not a record line',
    reKb4056894(3, '{11111111-2222-3333-4444-555555555501}'),
    reKb4056894(4, '{11111111-2222-3333-4444-555555555502}'),
    reKb4056894(5, '{11111111-2222-3333-4444-555555555503}'),
    RE_WSUS,
    RE_KB5034441,
  ].join('\r\n');

  it.each([
    ['UTF-16LE with BOM', utf16(file, true)],
    ['UTF-16LE without BOM', utf16(file, false)],
    ['ANSI', ansi(file)],
    ['UTF-8 with BOM', Buffer.from('\ufeff' + file, 'utf8')],
  ])('%s, odd chunk sizes', async (_name, buf) => {
    const recs = await collect(parseReportingEvents(chunked(buf, [7, 1, 513]), 'C:\\Windows\\SoftwareDistribution\\ReportingEvents.log'));
    expect(recs.map((r) => r.line)).toEqual([1, 3, 4, 5, 6, 7]);

    // Windows 7 KB4056894 failing at every boot with 0x80073AA2
    const loop = recs.filter((r) => r.kb === 'KB4056894' && r.eventId === 182 && r.status === 'Failure');
    expect(loop.map((r) => r.hresult)).toEqual(['0x80073aa2', '0x80073aa2', '0x80073aa2']);
    expect(loop[0]!.eventName).toBeUndefined();
    expect(loop[0]!.time.toISOString()).toBe('2018-01-03T16:03:11.000Z');
    expect(lookupError(loop[0]!.hresult).repairs).toEqual(['pending', 'au-pause']);

    // WSUS update with an untrusted root
    const wsus = recs.find((r) => r.hresult === '0x800b0109')!;
    expect(wsus.line).toBe(6);
    expect(wsus.category).toBe('Content Download');
    expect(lookupError(wsus.hresult).symbol).toBe('CERT_E_UNTRUSTEDROOT');

    // KB5034441 failing with 0x80070643, Win10 line with the extra field
    const winre = recs.find((r) => r.kb === 'KB5034441')!;
    expect(winre).toMatchObject({
      line: 7,
      eventId: 182,
      eventName: 'AGENT_INSTALLING_FAILED',
      hresult: '0x80070643',
      client: 'UpdateOrchestrator',
      extra: ['Windows Update Client'],
    });
    expect(winre.time.toISOString()).toBe('2024-01-10T02:12:45.120Z');
    expect(lookupError(winre.hresult).repairs).toContain('winre');
  });

  it('skips lines that only look like records', async () => {
    const bad = [
      RE_SAMPLE.replace('Failure', 'Maybe'),
      RE_SAMPLE.replace('2015-03-23', '2015-13-23'),
      RE_SAMPLE.replace('80200056', 'zz'),
      RE_SAMPLE.split(T).slice(0, 11).join(T),
    ].join('\n');
    expect(await collect(parseReportingEvents([Buffer.from(bad)], 'x'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// WindowsUpdate.log
// ---------------------------------------------------------------------------------------------

describe('WindowsUpdate.log (pre-Windows 10)', () => {
  const lines = [
    // sample 1 of the doc (KB902093 format)
    '2017-03-18\t19:07:31:581\t 952\t5b4\tAgent\t  * WSUS server: <NULL>',
    // sample 2 of the doc with the fields TAB-separated as in the file
    '2011-05-13\t07:47:07:169\t 992\t810\tReport\tREPORT EVENT: {AC94DB3B-E1A8-4E91-8E0B-9ED6C7C2D9D0}\t2011-05-13 07:47:07:169+0200\t1\t161\t101\t{00F1F9E2-6C2A-4A4B-8E3C-1B2C3D4E5F60}\t1\t800b0109\tAutomaticUpdatesWuApp\tFailure\tContent Download\tError: Download failed.',
    '2011-05-13\t07:48:00:001\t 992\t810\tPT\t  * WARNING: Exit code = 0x8024402C',
    'garbage line',
    // the same REPORT EVENT as printed with spaces (copies in forums)
    '2011-05-13\t07:49:07:169\t 992\t810\tReport\tREPORT EVENT: {AC94DB3B-E1A8-4E91-8E0B-9ED6C7C2D9D1} 2011-05-13 07:49:07:169+0200 1 182 101 {00F1F9E2-6C2A-4A4B-8E3C-1B2C3D4E5F61} 201 80073aa2 AutomaticUpdates Failure Content Install Installation Failure: Windows failed to install the following update with error 0x80073aa2: Security Update for Windows 7 (KB4056894).',
  ].join('\r\n');

  it('records with component, ids, severity, hresult and REPORT EVENT', async () => {
    const recs = await collect(parseWindowsUpdateLog(chunked(ansi(lines), 50), 'WindowsUpdate.log'));
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3, 5]);
    expect(recs[0]).toEqual({
      file: 'WindowsUpdate.log',
      line: 1,
      time: new Date('2017-03-18T19:07:31.581Z'),
      pid: '952',
      tid: '5b4',
      component: 'Agent',
      text: '  * WSUS server: <NULL>',
    });
    const rep = recs[1]!;
    expect(rep.component).toBe('Report');
    expect(rep.hresult).toBe('0x800b0109');
    expect(rep.report).toMatchObject({
      eventId: 161,
      status: 'Failure',
      category: 'Content Download',
      message: 'Error: Download failed.',
      client: 'AutomaticUpdatesWuApp',
      revision: 1,
    });
    expect(rep.report!.time.toISOString()).toBe('2011-05-13T05:47:07.169Z');
    expect(recs[2]).toMatchObject({ severity: 'warning', hresult: '0x8024402c' });
    const spaced = recs[3]!;
    expect(spaced.report).toMatchObject({ eventId: 182, hresult: '0x80073aa2', category: 'Content Install', kb: 'KB4056894', revision: 201 });
    expect(spaced.report!.message).toMatch(/^Installation Failure: /);
    expect(spaced.kb).toBe('KB4056894');
  });
});

// ---------------------------------------------------------------------------------------------
// CBS.log
// ---------------------------------------------------------------------------------------------

const pad = (level: string, comp: string, msg: string, ts = '2017-03-10 10:24:32'): string => `${ts}, ${level.padEnd(22)}${comp.padEnd(7)}${msg}`;

describe('CBS.log', () => {
  // The doc's sample line, byte for byte.
  const DOC_LINE = '2017-03-10 10:24:32, Error                 CBS    Failed to perform operation.  [HRESULT = 0x800f0922 - CBS_E_INSTALLERS_FAILED]';

  it('the doc sample line has the documented padding', () => {
    expect(pad('Error', 'CBS', 'Failed to perform operation.  [HRESULT = 0x800f0922 - CBS_E_INSTALLERS_FAILED]')).toBe(DOC_LINE);
  });

  const log = [
    pad('Info', 'CBS', 'TI: --- Initializing Trusted Installer ---', '2024-01-10 03:12:40'),
    pad(
      'Info',
      'CBS',
      'Loaded Servicing Stack v10.0.19041.3924 with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3924_none_7b5a3c5e0f3b1c2d\\cbscore.dll',
      '2024-01-10 03:12:40',
    ),
    pad(
      'Info',
      'CBS',
      'Exec: Installing Package: Package_for_KB5034441~31bf3856ad364e35~amd64~~19041.3920.1.1, Update: 5034441-1_neutral',
      '2024-01-10 03:12:44',
    ),
    pad('Info', 'CSI', '00000e64 [SR] Verify complete', '2024-01-10 03:12:44'),
    pad(
      'Error',
      'CBS',
      'Failed to execute WinRE servicing: not enough free space in the recovery partition. [HRESULT = 0x80070643 - ERROR_INSTALL_FAILURE]',
      '2024-01-10 03:12:45',
    ),
    pad(
      'Info',
      'CBS',
      'Package: Package_for_KB5034441~31bf3856ad364e35~amd64~~19041.3920.1.1, current: Staged, pending: Default, start: Staged, applicable: Installed, target: Installed, limit: Installed',
      '2024-01-10 03:12:45',
    ),
    pad(
      'Info',
      'CBS',
      'Reporting package change for package: Package_for_KB5034441~31bf3856ad364e35~amd64~~19041.3920.1.1, current: Staged, pending: Default, start: Staged, applicable: Installed, target: Installed, client id: UpdateAgentLCU, initiated offline: False, execution sequence: 82, first merged sequence: 82,',
      '2024-01-10 03:12:45',
    ),
    ' download source: 0, download time (secs): 4294967295, download status: 0x0 (S_OK),reboot required: False, overall result:0x80070643 (ERROR_INSTALL_FAILURE)',
    pad('Info', 'CBS', 'SQM: Update change report datapoints not populated because SQM is not initialized or not running online.', '2024-01-10 03:12:45'),
    pad('Warning', 'CSI', '00000e65 Warning: Unable to repair payload file ([l:10]"winre.wim") for component', '2024-01-10 03:12:46'),
    pad('Info', 'CBS', 'Session: 31079522_1234567890 finalized. Reboot required: no [HRESULT = 0x00000000 - S_OK]', '2024-01-10 03:12:47'),
    DOC_LINE,
  ].join('\r\n');

  it('yields errors, warnings, HRESULT lines and KB package state lines with evidence', async () => {
    const recs = await collect(parseCbsLog(chunked(ansi(log), [100, 3]), 'C:\\Windows\\Logs\\CBS\\CBS.log'));
    expect(recs.map((r) => [r.line, r.reason])).toEqual([
      [3, 'package'],
      [5, 'level'],
      [6, 'package'],
      [7, 'hresult'],
      [10, 'level'],
      [11, 'hresult'],
      [12, 'level'],
    ]);
    expect(recs[0]).toMatchObject({ kb: 'KB5034441', level: 'Info', component: 'CBS' });
    expect(recs[1]).toMatchObject({
      file: 'C:\\Windows\\Logs\\CBS\\CBS.log',
      line: 5,
      endLine: 5,
      level: 'Error',
      component: 'CBS',
      hresult: '0x80070643',
      message: 'Failed to execute WinRE servicing: not enough free space in the recovery partition. [HRESULT = 0x80070643 - ERROR_INSTALL_FAILURE]',
    });
    expect(recs[1]!.time.toISOString()).toBe('2024-01-10T03:12:45.000Z');
    // continuation line joined; the overall result is on it
    expect(recs[3]).toMatchObject({ line: 7, endLine: 8, kb: 'KB5034441', hresult: '0x80070643' });
    expect(recs[3]!.message).toContain('\n download source: 0');
    expect(recs[4]).toMatchObject({ component: 'CSI', csiSequence: '00000e65', level: 'Warning' });
    expect(recs[5]!.hresult).toBe('0x00000000');
    expect(recs[6]).toMatchObject({
      line: 12,
      level: 'Error',
      hresult: '0x800f0922',
      message: 'Failed to perform operation.  [HRESULT = 0x800f0922 - CBS_E_INSTALLERS_FAILED]',
    });
  });

  it('Windows 7 KB4056894 rollback in CBS.log (UTF-8 without trailing newline)', async () => {
    const win7 = [
      pad(
        'Info',
        'CBS',
        'Exec: Resolving Package: Package_for_KB4056894~31bf3856ad364e35~amd64~~6.1.1.3, Update: 4056894-1, PinDeployment: amd64_...',
        '2018-01-05 08:05:11',
      ),
      pad(
        'Error',
        'CBS',
        'Startup: Failed to process advanced operation queue, startupPhase: 0.  A rollback transaction will be created. [HRESULT = 0x80073aa2 - ERROR_EVT_CONFIGURATION_ERROR]',
        '2018-01-05 08:05:40',
      ),
      pad(
        'Info',
        'CBS',
        'Setting original failure status: HRESULT_FROM_WIN32(ERROR_EVT_CONFIGURATION_ERROR), last forward execute state: CbsExecuteStateResolvePending',
        '2018-01-05 08:05:40',
      ),
    ].join('\n');
    const recs = await collect(parseCbsLog([Buffer.from(win7)], 'CBS.log'));
    expect(recs.map((r) => r.line)).toEqual([1, 2]);
    expect(recs[0]!.kb).toBe('KB4056894');
    expect(recs[1]!.hresult).toBe('0x80073aa2');
  });
});

// ---------------------------------------------------------------------------------------------
// setup logs
// ---------------------------------------------------------------------------------------------

describe('.NET / MSI setup logs', () => {
  it('names', () => {
    for (const n of [
      'dd_dotnetfx35install.txt',
      'dd_NET_Framework40_Setup_Full.txt',
      'KB2656368_20120315_101010123_MSP0.txt',
      'KB2656368_20120315_101010123.html',
      'MSI3a5f1.LOG',
      'NDP40-KB2656368-v2-x64_decompression_log.txt',
    ]) {
      expect(isSetupLogName(n), n).toBe(true);
    }
    for (const n of ['CBS.log', 'ReportingEvents.log', 'notes.txt', 'setupact.log']) expect(isSetupLogName(n), n).toBe(false);
  });

  // .NET 4 KB2656368 patch log: signature verification fails with TRUST_E_FAIL, setup ends 1603.
  const KB2656368_TXT = [
    'OS Version = 6.1.7601, Platform 2, Service Pack 1',
    'OS Description = Windows 7 - x64 Enterprise Edition Service Pack 1',
    'CommandLine = C:\\Windows\\SoftwareDistribution\\Download\\Install\\NDP40-KB2656368-v2-x64.exe /q /norestart',
    'Action: Performing Action on Exe at C:\\Windows\\SoftwareDistribution\\Download\\Install\\NDP40-KB2656368-v2-x64.exe',
    'Signature verification for file NDP40-KB2656368-v2-x64.msp (C:\\Windows\\Temp\\NDP40-KB2656368-v2-x64.msp) failed with error 0x800b010b (Generic trust failure.)',
    'Returning IDCANCEL. INSTALL FAILED',
    'Final Result: Installation failed with error code: (0x00000643), "Fatal error during installation" (Elapsed time: 0 00:00:14).',
  ].join('\r\n');

  it('.NET 4 KB2656368 patch log (_MSP0.txt): 0x800B010B and the Final Result', async () => {
    const recs = await collect(parseSetupLog(chunked(ansi(KB2656368_TXT), 64), 'C:\\Windows\\Temp\\KB2656368_20120315_101010123_MSP0.txt'));
    expect(recs.map((r) => [r.line, r.kind, r.hresult])).toEqual([
      [5, 'signature-failure', '0x800b010b'],
      [7, 'final-result', '0x80070643'],
    ]);
    expect(recs[1]!.success).toBe(false);
    expect(lookupError(recs[0]!.hresult!).repairs).toEqual(['wintrust']);
  });

  it('the same as the HTML patch log, UTF-16LE', async () => {
    const html =
      '<html><head><title>KB2656368</title></head><body><table>\r\n' +
      KB2656368_TXT.split('\r\n')
        .map((l) => `<tr><td>${l.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}</td></tr>`)
        .join('\r\n') +
      '\r\n</table></body></html>\r\n';
    const recs = await collect(parseSetupLog(chunked(utf16(html), 333), 'KB2656368_20120315_101010123.html'));
    expect(recs.map((r) => [r.line, r.kind, r.hresult])).toEqual([
      [6, 'signature-failure', '0x800b010b'],
      [8, 'final-result', '0x80070643'],
    ]);
    expect(recs[1]!.message).toContain('"Fatal error during installation"');
  });

  it('dd_dotnet ***errorlog event*** and a success Final Result', async () => {
    const dd = [
      '[03/15/12,10:20:28] Setup.exe: GetGlobalCustomProperty - Property: {BA464C72-7A17-4C8F-9E7E-7F3A8A2C5C8E} - PropertyName: Install Success Block - Value: 1',
      '[03/15/12,10:20:30] Microsoft .NET Framework 2.0a: ***ERRORLOG EVENT*** : Error: Installation failed for component Microsoft .NET Framework 2.0a. MSI returned error code 1603',
      '[03/15/12,10:20:31] WapUI: ERRORLOG EVENT : DepCheck indicates Microsoft .NET Framework 2.0a is not installed.',
      'Final Result: Installation succeeded',
    ].join('\r\n');
    const recs = await collect(parseSetupLog([ansi(dd)], 'dd_dotnetfx35install.txt'));
    expect(recs.map((r) => [r.line, r.kind, r.hresult, r.success])).toEqual([
      [2, 'errorlog-event', '0x80070643', undefined],
      [4, 'final-result', undefined, true],
    ]);
  });

  it('verbose MSI log: the failing action just above the first Return value 3', async () => {
    const msi = [
      'MSI (s) (A0:B4) [10:20:29:100]: Doing action: CA_InstallAssembly',
      'Action start 10:20:29: CA_InstallAssembly.',
      'MSI (s) (A0:B4) [10:20:30:123]: Executing op: CustomActionSchedule(Action=CA_InstallAssembly,ActionType=3073,Source=BinaryData,Target=InstallAssembly,)',
      'CustomAction CA_InstallAssembly returned actual error code 1603 (note this may not be 100% accurate if translation happened inside sandbox)',
      'Error 1603. A fatal error occurred during installation.',
      'Action ended 10:20:31: CA_InstallAssembly. Return value 3.',
      'Action ended 10:20:31: INSTALL. Return value 3.',
      'MSI (s) (A0:B4) [10:20:32:000]: Product: Microsoft .NET Framework 4 Extended -- Installation failed.',
      'MSI (s) (A0:B4) [10:20:32:001]: Windows Installer installed the product. Product Name: Microsoft .NET Framework 4 Extended. Product Version: 4.0.30319. Product Language: 1033. Manufacturer: Microsoft Corporation. Installation success or error status: 1603.',
    ].join('\r\n');
    const recs = await collect(parseSetupLog(chunked(ansi(msi), 40), 'MSI3a5f1.LOG', { contextLines: 3 }));
    expect(recs.map((r) => [r.line, r.kind, r.action, r.hresult])).toEqual([
      [4, 'custom-action-error', 'CA_InstallAssembly', '0x80070643'],
      [5, 'msi-error', undefined, '0x80070643'],
      [6, 'msi-return-value-3', 'CA_InstallAssembly', undefined],
      [7, 'msi-return-value-3', 'INSTALL', undefined],
      [9, 'error', undefined, '0x80070643'],
    ]);
    expect(recs[1]!.msiError).toBe(1603);
    expect(recs[2]!.context).toEqual([
      'MSI (s) (A0:B4) [10:20:30:123]: Executing op: CustomActionSchedule(Action=CA_InstallAssembly,ActionType=3073,Source=BinaryData,Target=InstallAssembly,)',
      'CustomAction CA_InstallAssembly returned actual error code 1603 (note this may not be 100% accurate if translation happened inside sandbox)',
      'Error 1603. A fatal error occurred during installation.',
    ]);
  });

  it('signature failure without a code, revocation failure in lowercase', async () => {
    const t = [
      'Failed to verify signature of file C:\\Windows\\Temp\\netfx_Core_x64.msi',
      'Signature verification for file netfx_Core_x64.msi (C:\\Windows\\Temp\\netfx_Core_x64.msi) failed with error 0x800b010e (The revocation process could not continue - the certificate(s) could not be checked.)',
    ].join('\n');
    const recs = await collect(parseSetupLog([Buffer.from(t)], 'dd_NET_Framework40_Setup.txt'));
    expect(recs.map((r) => [r.line, r.kind, r.hresult])).toEqual([
      [1, 'signature-failure', undefined],
      [2, 'signature-failure', '0x800b010e'],
    ]);
  });
});

describe('extractKb', () => {
  it('finds KB numbers in package names and titles', () => {
    expect(extractKb('Package_for_KB5034441~31bf3856ad364e35~amd64~~19041.3920.1.1')).toBe('KB5034441');
    expect(extractKb('(KB4056894).')).toBe('KB4056894');
    expect(extractKb('Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3930.1.4')).toBeUndefined();
    expect(extractKb('KB12')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// files
// ---------------------------------------------------------------------------------------------

describe('logs-file', () => {
  it('streams a file in chunks and wraps the parsers', async () => {
    const p = path.join(tmp, 'ReportingEvents.log');
    writeFileSync(p, utf16([RE_SAMPLE, RE_KB5034441].join('\r\n') + '\r\n'));
    const parts = await collect(fileChunks(p, { chunkSize: 7 }));
    expect(parts.every((c) => c.length <= 7)).toBe(true);
    expect(Buffer.concat(parts)).toEqual(utf16([RE_SAMPLE, RE_KB5034441].join('\r\n') + '\r\n'));
    const recs = await collect(readReportingEventsFile(p));
    expect(recs.map((r) => [r.file, r.line, r.hresult])).toEqual([
      [p, 1, '0x80200056'],
      [p, 2, '0x80070643'],
    ]);
    const cbs = path.join(tmp, 'CBS.log');
    writeFileSync(cbs, pad('Error', 'CBS', 'x [HRESULT = 0x800f0922 - CBS_E_INSTALLERS_FAILED]') + '\r\n');
    expect((await collect(readCbsLogFile(cbs)))[0]!.hresult).toBe('0x800f0922');
    const wu = path.join(tmp, 'WindowsUpdate.log');
    writeFileSync(wu, '2017-03-18\t19:07:31:581\t 952\t5b4\tAgent\t  * WSUS server: <NULL>\r\n');
    expect((await collect(readWindowsUpdateLogFile(wu)))[0]!.component).toBe('Agent');
    const su = path.join(tmp, 'dd_dotnetfx35install.txt');
    writeFileSync(su, 'Final Result: Installation failed with error code: (0x00000643)\r\n');
    expect((await collect(readSetupLogFile(su)))[0]!.hresult).toBe('0x80070643');
  });

  it('a missing file is BadInputError log-missing', async () => {
    const p = path.join(tmp, 'nope.log');
    await expect(collect(fileChunks(p))).rejects.toBeInstanceOf(BadInputError);
    await expect(collect(fileChunks(p))).rejects.toMatchObject({ code: 'log-missing', file: p });
  });

  it('stopping early closes the file (it can be deleted and re-created)', async () => {
    const p = path.join(tmp, 'early.log');
    writeFileSync(p, Buffer.alloc(3 << 20, 0x41));
    for await (const c of fileChunks(p)) {
      expect(c.length).toBe(1 << 20);
      break;
    }
    rmSync(p);
  });
});

// ---------------------------------------------------------------------------------------------
// 200 MB CBS.log in bounded memory
// ---------------------------------------------------------------------------------------------

function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('a 200 MB CBS.log', () => {
  it('streams in bounded memory and finds every planted record', async () => {
    const p = path.join(tmp, 'CBS-200MB.log');
    // A block of 1000 lines: one Error with a continuation line, one KB package state line, the
    // rest Info noise of realistic length.
    const BLOCK_LINES = 1000;
    const ERR_AT = 400; // 0-based index in the block
    const KB_AT = 700;
    const block: string[] = [];
    for (let i = 0; i < BLOCK_LINES; i++) {
      if (i === ERR_AT) block.push(pad('Error', 'CBS', 'Failed to perform operation.  [HRESULT = 0x800f0922 - CBS_E_INSTALLERS_FAILED]'));
      else if (i === ERR_AT + 1) block.push(' continuation of the failed operation');
      else if (i === KB_AT)
        block.push(
          pad('Info', 'CBS', 'Package: Package_for_KB5034441~31bf3856ad364e35~amd64~~19041.3920.1.1, current: Staged, pending: Default, target: Installed'),
        );
      else
        block.push(
          pad(
            'Info',
            'CSI',
            `${(i + 0x1000).toString(16).padStart(8, '0')} Performing 1 operations as follows: (0) LockComponentPath: flags: 0 comp: {l:16 b:a1b2c3d4e5f60718293a4b5c6d7e8f90}`,
          ),
        );
    }
    const blockBuf = Buffer.from(block.join('\r\n') + '\r\n', 'latin1');
    const blocks = Math.ceil((200 * 1024 * 1024) / blockBuf.length);
    const fh = await open(p, 'w');
    try {
      for (let b = 0; b < blocks; b++) await fh.write(blockBuf);
    } finally {
      await fh.close();
    }

    // heapUsed alone does not see large strings: Node keeps decoded 1 MiB chunks as external
    // strings, so a record pinning its chunk shows up in `external` (measured: ~500 MB retained
    // when records keep slices of the chunk text). Both are checked.
    const gc = gcFunction();
    gc();
    const m0 = process.memoryUsage();
    const base = m0.heapUsed;
    const baseTotal = m0.heapUsed + m0.external;
    let peak = base;
    let peakTotal = baseTotal;
    const kept: { line: number; endLine: number; hresult?: string; kb?: string; reason: string }[] = [];
    const recs: unknown[] = []; // keep the full records: they must not pin the chunk strings
    for await (const r of readCbsLogFile(p)) {
      recs.push(r);
      kept.push({ line: r.line, endLine: r.endLine, hresult: r.hresult, kb: r.kb, reason: r.reason });
      if (kept.length % 64 === 0) {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed);
        peakTotal = Math.max(peakTotal, m.heapUsed + m.external);
      }
    }
    gc();
    const m1 = process.memoryUsage();
    const retained = m1.heapUsed + m1.external - baseTotal;

    expect(kept.length).toBe(2 * blocks);
    for (let b = 0; b < blocks; b++) {
      const e = kept[2 * b]!;
      const k = kept[2 * b + 1]!;
      expect(e).toEqual({ line: b * BLOCK_LINES + ERR_AT + 1, endLine: b * BLOCK_LINES + ERR_AT + 2, hresult: '0x800f0922', kb: undefined, reason: 'level' });
      expect(k).toEqual({ line: b * BLOCK_LINES + KB_AT + 1, endLine: b * BLOCK_LINES + KB_AT + 1, hresult: undefined, kb: 'KB5034441', reason: 'package' });
    }
    expect(peak - base).toBeLessThan(64 * 1024 * 1024);
    // peak includes read buffers and chunk strings not yet collected (about 80 MB measured)
    expect(peakTotal - baseTotal).toBeLessThan(192 * 1024 * 1024);
    expect(retained).toBeLessThan(48 * 1024 * 1024);
    expect(recs.length).toBe(kept.length);
    rmSync(p);
  });
});
