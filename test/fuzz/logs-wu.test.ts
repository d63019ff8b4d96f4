// WindowsUpdate.log / ReportingEvents.log / dism.log as UpdateEvents (issue #16), integration tier:
// - collectWindowsUpdateLogs and collectDismLogs on Windows trees built from the real logs of
//   ../shared/fixtures/logs (copied into a temporary tree, never into the project): which files are
//   read, the Windows 10+ stub and the ETW traces, links never entered or opened, problem lines;
// - fuzz: seeded mutations of windows of the real logs through windowsUpdateLogEvents,
//   reportingEventsEvents and dismLogEvents (random chunk sizes, each parser also fed the other
//   families' bytes), plus crafted lines built to make the line regular expressions backtrack:
//   events that keep the model's conventions, or a typed error, each case bounded in time and output.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dismLogEvents } from '../../src/formats/logs/dism.js';
import type { ByteChunks } from '../../src/formats/logs/lines.js';
import { reportingEventsEvents } from '../../src/formats/logs/reporting-events.js';
import { windowsUpdateLogEvents } from '../../src/formats/logs/windowsupdate.js';
import { newStats, type UpdateEvent } from '../../src/model/attempts.js';
import { collectDismLogs } from '../../src/scan/collect/dism-source.js';
import { arraySink } from '../../src/scan/collect/sink.js';
import { collectWindowsUpdateLogs } from '../../src/scan/collect/wu-source.js';
import { FIXTURES } from '../helpers/env.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate, type Rng } from './harness.js';

const LOGS = {
  reece: 'windowsupdate/win10-22h2-kb5034441-0x80070643-0x800f0828-ReeceKetley.log',
  privacy: 'windowsupdate/win11-23h2-kb5035853-postreboot-pending-0x80242014-privacytarget.log',
  josemct: 'windowsupdate/win10-21h2-store-download-http403-0x80190193-josemct.log',
  classic: 'windowsupdate/win7sp1-oldformat-sync-0x8024000b-karthikvemula.log',
  re: 'reportingevents/win10-11-ReportingEvents-utf16-detect-fail-0x80072ee2-dcheva.log',
  dism: 'dism/win10-21h2-netfx3-enable-0x800f081f-iideerii.log',
  dism7: 'dism/win7-enable-disable-feature-sessions-DieterReuter.log',
} as const;
const fixturePath = (rel: string) => path.join(FIXTURES, 'logs', rel);
const STUB =
  "Windows Update logs are now generated using ETW (Event Tracing for Windows).\r\nPlease run the Windows PowerShell cmdlet 'Get-WindowsUpdateLog' to convert ETW traces into a readable WindowsUpdate.log.\r\n\r\nFor more information, please visit https://go.microsoft.com/fwlink/?LinkId=518345\r\n";

const tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-wu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string | { copy: string } | { link: string }>): string {
  const root = path.join(tmp, name);
  for (const [rel, what] of Object.entries(files)) {
    const p = path.join(root, ...rel.split('/'));
    mkdirSync(path.dirname(p), { recursive: true });
    if (typeof what === 'string') writeFileSync(p, what);
    else if ('copy' in what) copyFileSync(fixturePath(what.copy), p);
    else symlinkSync(what.link, p);
  }
  return root;
}

function checkEvent(e: UpdateEvent): void {
  expect(e.message.length).toBeLessThanOrEqual(500);
  expect(e.message).toMatch(/^[\x20-\x7e]*$/);
  if (e.code !== undefined) expect(e.code).toMatch(/^0x[0-9a-f]{8}$/);
  if (e.kb !== undefined) expect(e.kb).toMatch(/^KB\d{6,8}$/);
  if (e.updateId !== undefined) expect(e.updateId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  if (e.title !== undefined) expect(e.title.length).toBeLessThanOrEqual(400);
  if (e.time !== undefined) expect(Number.isNaN(e.time.getTime())).toBe(false);
  expect(['failed', 'succeeded', 'reboot-pending', 'cancelled', 'not-applicable', 'in-progress', 'unknown']).toContain(e.result);
  expect(['install', 'uninstall', 'download', 'scan', 'feature', 'component-repair']).toContain(e.kind);
  if (e.source === 'DISM.log') expect(e.timeIsLocal).toBe(true);
  if (e.source === 'ReportingEvents.log') expect(e.kind).not.toBe('component-repair');
}

describe.skipIf(!!fixturesReason())('collectWindowsUpdateLogs on a Windows tree', () => {
  it('ReportingEvents.log, the Windows 10 stub, a decoded log on a Desktop; a linked profile is not entered, a linked log not opened', async () => {
    const outside = tree('outside', { 'Desktop/WindowsUpdate.log': { copy: LOGS.privacy } });
    const root = tree('vol1', {
      'Windows/SoftwareDistribution/ReportingEvents.log': { copy: LOGS.re },
      'Windows/WindowsUpdate.log': STUB,
      'Windows/Logs/WindowsUpdate/WindowsUpdate.20240502.143336.123.1.etl': 'binary',
      'Users/tech/Desktop/windowsupdate.LOG': { copy: LOGS.reece },
      'Users/bob/Desktop/WindowsUpdate.log': { link: '/etc/passwd' },
      'Users/mallory': { link: outside },
      'Users/Public/Desktop/notes.txt': 'x',
    });
    const progress: string[] = [];
    const sink = arraySink((m) => progress.push(m));
    await collectWindowsUpdateLogs(root, sink);
    expect(progress).toEqual(['reading WindowsUpdate.log']);
    expect(sink.files.map((f) => [f.file, f.source, f.format, f.understood])).toEqual([
      ['Windows\\SoftwareDistribution\\ReportingEvents.log', 'ReportingEvents.log', 'reportingevents', true],
      ['Windows\\WindowsUpdate.log', 'WindowsUpdate.log', 'windowsupdate-etw-stub', false],
      ['Users\\bob\\Desktop\\WindowsUpdate.log', 'WindowsUpdate.log', undefined, false],
      ['Users\\tech\\Desktop\\windowsupdate.LOG', 'WindowsUpdate.log', 'windowsupdate-decoded', true],
    ]);
    expect(sink.files[0]).toMatchObject({ bytes: 988282, events: 1709 });
    expect(sink.files[3]).toMatchObject({ bytes: 1659673, lines: 10725 });
    // A decoded log was found: no ETW line; the stub is expected there, so no problem line for it.
    expect(sink.problems).toHaveLength(1);
    expect(sink.problems[0]).toMatch(/^Users\\bob\\Desktop\\WindowsUpdate\.log: not read: /);
    expect(sink.events.some((e) => e.file.includes('mallory'))).toBe(false);
    const failed = sink.events.filter((e) => e.kind === 'install' && e.result === 'failed');
    expect(new Set(failed.map((e) => e.kb))).toEqual(new Set(['KB5034441']));
    expect(failed.every((e) => e.file === 'Users\\tech\\Desktop\\windowsupdate.LOG')).toBe(true);
    for (const e of sink.events) checkEvent(e);
  });

  it('only ETW traces and the stub: one not-understood entry with a Get-WindowsUpdateLog problem line', async () => {
    const root = tree('vol2', {
      'Windows/WindowsUpdate.log': STUB,
      'Windows/Logs/WindowsUpdate/WindowsUpdate.20240502.143336.123.1.etl': 'binary',
      'Windows/Logs/WindowsUpdate/WindowsUpdate.20240503.101010.456.1.etl': 'binary',
    });
    const sink = arraySink();
    await collectWindowsUpdateLogs(root, sink);
    expect(sink.events).toEqual([]);
    expect(sink.files.map((f) => [f.file, f.format, f.understood])).toEqual([
      ['Windows\\WindowsUpdate.log', 'windowsupdate-etw-stub', false],
      ['Windows\\Logs\\WindowsUpdate', 'etl', false],
    ]);
    expect(sink.problems).toEqual([
      "Windows\\Logs\\WindowsUpdate: ETW traces are not decoded offline (2 .etl file(s)); run Get-WindowsUpdateLog on this Windows (or on any Windows 10+ PC with a copy of these .etl files) and save the WindowsUpdate.log it writes on a profile's Desktop, then scan again",
    ]);
  });

  it('the stub alone, a text that is no WindowsUpdate.log, and nothing at all', async () => {
    const a = arraySink();
    await collectWindowsUpdateLogs(tree('vol3', { 'Windows/WindowsUpdate.log': STUB, 'Windows/SoftwareDistribution/ReportingEvents.log': 'not\na log\n' }), a);
    expect(a.problems).toEqual([
      'Windows\\SoftwareDistribution\\ReportingEvents.log: present but not understood: no ReportingEvents.log record recognized (2 lines)',
      'Windows\\WindowsUpdate.log: present but not understood: Windows 10+ stub: the log is kept as ETW traces (Windows\\Logs\\WindowsUpdate\\*.etl); run Get-WindowsUpdateLog to decode them',
    ]);
    const b = arraySink();
    await collectWindowsUpdateLogs(tree('vol4', { 'Windows/System32/x': 'x' }), b);
    expect([b.files, b.problems, b.events]).toEqual([[], [], []]);
  });

  it('the classic log of Windows 7 in Windows\\WindowsUpdate.log', async () => {
    const sink = arraySink();
    await collectWindowsUpdateLogs(tree('vol5', { 'Windows/WindowsUpdate.log': { copy: LOGS.classic } }), sink);
    expect(sink.files).toEqual([
      {
        source: 'WindowsUpdate.log',
        file: 'Windows\\WindowsUpdate.log',
        format: 'windowsupdate-classic',
        bytes: 215807,
        lines: 2651,
        events: 1,
        understood: true,
      },
    ]);
    expect(sink.events.map((e) => [e.kind, e.result, e.code])).toEqual([['scan', 'cancelled', '0x8024000b']]);
  });
});

describe.skipIf(!!fixturesReason())('collectDismLogs on a Windows tree', () => {
  it('dism.log.bak first, then dism.log; a text that is no dism.log and a linked folder', async () => {
    const root = tree('dism1', {
      'Windows/Logs/DISM/dism.log': { copy: LOGS.dism },
      'Windows/Logs/DISM/DISM.log.bak': { copy: LOGS.dism7 },
      'Windows/Logs/DISM/other.txt': 'x',
    });
    const progress: string[] = [];
    const sink = arraySink((m) => progress.push(m));
    await collectDismLogs(root, sink);
    expect(progress).toEqual(['reading dism.log']);
    expect(sink.files).toEqual([
      { source: 'DISM.log', file: 'Windows\\Logs\\DISM\\DISM.log.bak', format: 'dism', bytes: 459577, lines: 2439, events: 7, understood: true },
      { source: 'DISM.log', file: 'Windows\\Logs\\DISM\\dism.log', format: 'dism', bytes: 281009, lines: 1567, events: 6, understood: true },
    ]);
    expect(sink.problems).toEqual([]);
    expect(sink.events.filter((e) => e.result === 'failed').map((e) => [e.file, e.code, e.title])).toEqual(
      Array(5).fill(['Windows\\Logs\\DISM\\dism.log', '0x800f081f', 'NetFx3']),
    );
    for (const e of sink.events) checkEvent(e);

    const other = tree('dism2', { 'Windows/Logs/DISM/dism.log': 'this is\nnot dism\n' });
    const s2 = arraySink();
    await collectDismLogs(other, s2);
    expect(s2.problems).toEqual(['Windows\\Logs\\DISM\\dism.log: present but not understood: no DISM line recognized (2 lines)']);
    expect(s2.files[0]).toMatchObject({ understood: false, events: 0 });

    const linked = tree('dism3', { 'Windows/Logs/DISM': { link: path.join(root, 'Windows', 'Logs', 'DISM') } });
    const s3 = arraySink();
    await collectDismLogs(linked, s3);
    expect([s3.files, s3.events]).toEqual([[], []]);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzz

type Parser = 'wu' | 're' | 'dism';

function* chunksOf(bytes: Uint8Array, rng: Rng): Generator<Uint8Array> {
  for (let o = 0; o < bytes.length;) {
    const n = rng.chance(0.2) ? 1 + rng.int(16) : 1 + rng.int(65536);
    yield bytes.subarray(o, o + n);
    o += n;
  }
}

async function drain(parser: Parser, chunks: ByteChunks, maxLineLength?: number): Promise<{ outSize: number; events: number }> {
  const stats = newStats();
  const opts = maxLineLength === undefined ? { stats } : { stats, maxLineLength };
  const gen =
    parser === 'wu'
      ? windowsUpdateLogEvents(chunks, 'WindowsUpdate.log', opts)
      : parser === 're'
        ? reportingEventsEvents(chunks, 'ReportingEvents.log', opts)
        : dismLogEvents(chunks, 'dism.log', opts);
  let out = 0;
  let events = 0;
  for await (const e of gen) {
    checkEvent(e);
    out += JSON.stringify(e).length * 2;
    events++;
  }
  expect(stats.recognized).toBeLessThanOrEqual(stats.lines);
  return { outSize: out, events };
}

const NATURAL: Record<string, Parser> = { reece: 'wu', privacy: 'wu', josemct: 'wu', classic: 'wu', re: 're', dism: 'dism', dism7: 'dism' };

describe.skipIf(!!fixturesReason())('fuzz: WindowsUpdate.log, ReportingEvents.log and dism.log as events', () => {
  it(`${CASES} mutated windows of the real logs; every parser also gets the other families' bytes`, async () => {
    const keys = Object.keys(LOGS) as (keyof typeof LOGS)[];
    const bytes = Object.fromEntries(keys.map((k) => [k, fixtureBytes('logs', LOGS[k])])) as Record<keyof typeof LOGS, Uint8Array>;
    const r = await fuzz(
      'logs-wu',
      CASES,
      (i) => {
        const rng = caseRng('logs-wu', i);
        const k = keys[rng.int(keys.length)]!;
        const src = bytes[k];
        const len = Math.min(src.length, 1024 + rng.int(96 * 1024));
        const from = rng.int(src.length - len + 1);
        const m = mutate(rng, src.subarray(from, from + len), { maxOps: 12, donor: bytes[keys[rng.int(keys.length)]!] });
        const parser: Parser = rng.chance(0.75) ? NATURAL[k]! : (['wu', 're', 'dism'] as const)[rng.int(3)]!;
        return { input: { bytes: m.bytes, seed: rng.u32(), parser }, inSize: m.bytes.length, ops: m.ops, label: `${k}->${parser} @${from}+${len}` };
      },
      async (c) => drain(c.parser, chunksOf(c.bytes, caseRng('chunks', c.seed)), c.seed % 5 === 0 ? 1 + (c.seed % 300) : undefined),
      { outFactor: 8 },
    );
    expect(r.failures).toEqual([]);
    expect(r.typed).toBe(0); // text never makes these parsers throw
  });

  it('crafted lines: long lines that almost match every line regex, no newline, NUL floods; bounded time', async () => {
    const pad = (n: number, c = ' ') => c.repeat(n);
    const dec = '2024/05/02 16:40:48.0802895 6600  2648  Handler         ';
    const guid = '576B0DD6-57CC-457B-A5EC-E888491B395D';
    const crafted: [Parser, string][] = [
      ['wu', dec + 'LogHistory called for Caller=' + 'a'.repeat(199) + ', idUpdate=' + guid + pad(60000) + '\n'],
      ['wu', dec + 'LogHistory called. idUpdate={' + guid + '}.200, resultMapped=' + '8'.repeat(60000) + '\n'],
      ['wu', dec + 'Command line install completed. Return code = 0x800f0828' + ', Result = '.repeat(5000) + '\n'],
      ['wu', (dec + 'DO job {' + guid + '} ' + "403'd ".repeat(20) + ', updateId = ' + guid + '.1, hr = 0x80190193\n').repeat(2000)],
      ['wu', dec + 'Deployment job Id ' + guid + ' : NotifyClient (' + '('.repeat(30000) + '\n'],
      ['wu', dec + 'Title = ' + 'T'.repeat(60000) + '\n' + dec + 'UpdateId = ' + guid + '.1\n'],
      ['wu', '2024/05/02 16:40:48.0802895 ' + '1 '.repeat(30000) + '\n'],
      ['wu', '2018-05-21\t20:27:47:556\t1008\t680\tAgent\t' + '** START **  Agent: Finding updates [CallerId = ' + ']'.repeat(50000) + '\n'],
      ['re', '{A583FB9E-9C9C-4282-B2AC-021ABB6BCB34}\t2023-06-17 20:20:23:087+0300' + '\t'.repeat(60000) + '\n'],
      [
        're',
        '{A583FB9E-9C9C-4282-B2AC-021ABB6BCB34} 2023-06-17 20:20:23:087+0300 1 162 101 {83CB05B1-36CD-4EF9-A9C6-136D4B522E64} 1 0 x Success ' +
          'following update'.repeat(4000) +
          '\n',
      ],
      [
        'dism',
        '2023-07-05 21:36:50, Info                  DISM   DISM.EXE: <----- Starting Dism.exe session ----->\n' +
          '2023-07-05 21:36:50, Info                  DISM   DISM.EXE: Executing command line: ' +
          '"/a:'.repeat(20000) +
          '\n',
      ],
      ['dism', '2023-07-05 21:36:50, Error                 DISM   DISM.EXE: Exiting ' + 'Exiting '.repeat(7000) + '0x\n'],
      ['dism', '2023-07-05 21:36:50, ' + 'Info '.repeat(12000) + '\n'],
      ['wu', 'x'.repeat(3 << 20)],
      ['re', '\0'.repeat(1 << 20)],
      ['dism', '\r'.repeat(1 << 20)],
    ];
    for (const [parser, text] of crafted) {
      const t0 = performance.now();
      const b = Buffer.from(text);
      const { outSize } = await drain(parser, chunksOf(b, caseRng('crafted', text.length)));
      const ms = performance.now() - t0;
      expect(ms, `${parser}: ${text.slice(0, 80)}`).toBeLessThan(2000);
      expect(outSize).toBeLessThanOrEqual(8 * b.length + (1 << 20));
    }
  });
});
