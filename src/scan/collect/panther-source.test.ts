// collectSetupLogs on a volume holding the real Panther logs where setup writes them, and on hostile
// ones: links (file and folder), a file that is not a setup log, an empty setuperr.log, a file too
// large, SetupDiag results in both folders.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, sharedReason } from '../../../test/helpers/env.js';
import { arraySink } from './sink.js';
import { collectSetupLogs, MAX_SETUP_FILE_BYTES } from './panther-source.js';

const reason = sharedReason();
const real = (name: string) => path.join(FIXTURES, 'logs', 'panther', name);
let tmp = '';

function volume(name: string, files: Record<string, string | Uint8Array>): string {
  const root = path.join(tmp, name);
  for (const [rel, c] of Object.entries(files)) {
    const p = path.join(root, ...rel.split('\\'));
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, typeof c === 'string' ? readFileSync(c) : c);
  }
  return root;
}

const SETUPDIAG_XML =
  '<?xml version="1.0" encoding="utf-8"?>\r\n<SetupDiag>\r\n  <ProfileName>FindSPFatalError</ProfileName>\r\n' +
  '  <UpgradeEndTime>2021-05-18T05:13:00</UpgradeEndTime>\r\n  <FailureData>\r\nError: SetupDiag reports Fatal Error.\r\nLast Setup Phase = First Boot\r\n' +
  'Error: 0xC1900101 - 0x30018</FailureData>\r\n</SetupDiag>\r\n';

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-panther-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!!reason)(`collectSetupLogs${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('the baslr rollback where setup left it: every file understood, the Sysprep cause and the rollback result, one installation', async () => {
    const root = volume('baslr', {
      '$WINDOWS.~BT\\Sources\\Panther\\setuperr.log': real('win10-1909-featureupdate-rollback-0xC1900101-0x30018-Panther-setuperr-baslr.log'),
      '$WINDOWS.~BT\\Sources\\Rollback\\setupact.log': real('win10-1909-featureupdate-rollback-0xC1900101-0x30018-Rollback-setupact-baslr.log'),
      '$WINDOWS.~BT\\Sources\\Rollback\\SETUPERR.LOG': real('win10-1909-featureupdate-rollback-0xC1900101-0x30018-Rollback-setuperr-baslr.log'),
    });
    const sink = arraySink();
    await collectSetupLogs(root, sink);
    expect(sink.problems).toEqual([]);
    expect(sink.files.map((f) => `${f.source} ${f.file} ${f.understood} ${f.format} ${f.events}`)).toEqual([
      'setuperr.log $WINDOWS.~BT\\Sources\\Panther\\setuperr.log true panther 1',
      'setuperr.log $WINDOWS.~BT\\Sources\\Rollback\\SETUPERR.LOG true panther 0',
      'setupact.log $WINDOWS.~BT\\Sources\\Rollback\\setupact.log true panther 1',
    ]);
    expect(sink.events.map((e) => `${e.source} ${e.result} ${e.code} ${e.extendedCode ?? '-'} ${e.phase ?? '-'} ${e.session}`)).toEqual([
      'setuperr.log failed 0x80070005 - - $WINDOWS.~BT#1',
      'setupact.log failed 0xc1900101 0x30018 FirstBoot,Start $WINDOWS.~BT#1',
    ]);
    expect(sink.files[2]!.bytes).toBe(1268287);
  });

  it('rickaK77 in Windows\\Panther and a SetupDiag result: the downlevel failure and the SetupDiag event', async () => {
    const root = volume('panther', {
      'Windows\\Panther\\setupact.log': real('win10-1803-to-21h2-media-upgrade-0x80070032-0x50013-setupact-rickaK77.log'),
      'Windows\\Panther\\NewOS\\setuperr.log': new Uint8Array(0),
      'Windows\\Logs\\SetupDiag\\SetupDiagResults.xml': new TextEncoder().encode(SETUPDIAG_XML),
      'Windows\\Logs\\SetupDiag\\notes.txt': new TextEncoder().encode('not read'),
    });
    const sink = arraySink();
    await collectSetupLogs(root, sink);
    expect(sink.problems).toEqual([]);
    expect(sink.files.map((f) => `${f.file} ${f.understood} ${f.note ?? ''}`)).toEqual([
      'Windows\\Panther\\setupact.log true ',
      'Windows\\Panther\\NewOS\\setuperr.log true empty',
      'Windows\\Logs\\SetupDiag\\SetupDiagResults.xml true ',
    ]);
    expect(sink.events.map((e) => `${e.source} ${e.result} ${e.code ?? '-'} ${e.extendedCode ?? '-'} ${e.phase ?? '-'}`)).toEqual([
      'setupact.log in-progress - - -',
      'setupact.log failed 0x80070032 0x50013 Downlevel',
      'SetupDiag failed 0xc1900101 0x30018 First Boot',
    ]);
    expect(sink.events[0]!.session).toBe('Windows\\Panther#1');
  });

  it('hostile: a link is not followed (file or folder), junk is "not understood", a huge file is not read', async () => {
    const root = volume('hostile', {
      '$WINDOWS.~BT\\Sources\\Panther\\setuperr.log': new TextEncoder().encode('\u0000\u0001 binary junk\r\nmore\r\n'),
      'elsewhere\\setupact.log': real('win10-1803-to-21h2-media-upgrade-0x80070032-0x50013-setupact-rickaK77.log'),
    });
    symlinkSync(path.join(root, 'elsewhere', 'setupact.log'), path.join(root, '$WINDOWS.~BT', 'Sources', 'Panther', 'setupact.log'));
    mkdirSync(path.join(root, 'Windows'), { recursive: true });
    symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'Windows', 'Panther'));
    const big = path.join(root, '$WINDOWS.~BT', 'Sources', 'Rollback', 'setupact.log');
    mkdirSync(path.dirname(big), { recursive: true });
    writeFileSync(big, '');
    truncateSync(big, MAX_SETUP_FILE_BYTES + 1); // sparse: no disk used
    const sink = arraySink();
    await collectSetupLogs(root, sink);
    expect(sink.events).toEqual([]);
    expect(sink.problems).toHaveLength(3);
    expect(sink.problems[0]).toMatch(/^\$WINDOWS\.~BT\\Sources\\Panther\\setupact\.log: not read: .*link/);
    expect(sink.problems[1]).toMatch(/^\$WINDOWS\.~BT\\Sources\\Panther\\setuperr\.log: present but not understood: no setup log line recognized \(2 lines\)$/);
    expect(sink.problems[2]).toMatch(/^\$WINDOWS\.~BT\\Sources\\Rollback\\setupact\.log: not read: .*(large|bytes)/i);
    for (const p of sink.problems) expect(p).toMatch(/^[\x20-\x7e]+$/);
    // The linked Windows\Panther folder was not entered: its setupact.log is not listed.
    expect(sink.files.map((f) => f.file)).toEqual([
      '$WINDOWS.~BT\\Sources\\Panther\\setupact.log',
      '$WINDOWS.~BT\\Sources\\Panther\\setuperr.log',
      '$WINDOWS.~BT\\Sources\\Rollback\\setupact.log',
    ]);
    expect(sink.files.every((f) => !f.understood)).toBe(true);
  });
});
