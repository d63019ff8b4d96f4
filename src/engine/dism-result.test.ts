// restoreHealthFromLog: DISM's log of a /RestoreHealth run, in dism.log's real line layout (the
// real dism.logs of ../shared hold no /RestoreHealth session: they give "none"), read back into
// one line: succeeded, or failed with the code and what it means.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, sharedReason } from '../../test/helpers/env.js';
import { restoreHealthFromLog } from './dism-result.js';

const L = (ts: string, level: string, msg: string) => `${ts}, ${level.padEnd(22)}DISM   ${msg}\r\n`;
const session = (cmd: string, body: string[], closed = true) =>
  L('2024-01-20 10:00:00', 'Info', 'DISM.EXE: <----- Starting Dism.exe session ----->') +
  L('2024-01-20 10:00:00', 'Info', `DISM.EXE: Executing command line: ${cmd}`) +
  body.join('') +
  (closed ? L('2024-01-20 10:30:00', 'Info', 'DISM.EXE: Image session has been closed. Reboot required=no.') : '') +
  L('2024-01-20 10:30:00', 'Info', 'DISM.EXE: <----- Ending Dism.exe session ----->');
const RH =
  'Dism.exe /English /Image:W:\\ /Cleanup-Image /RestoreHealth /Source:wim:D:\\sources\\install.wim:6 /LimitAccess /ScratchDir:W:\\wufix\\dism-scratch';

describe('DISM log of a /RestoreHealth run', () => {
  it('failed 0x800f081f: the code and its meaning; the last session counts', async () => {
    const text =
      session(RH, []) +
      session(RH, [
        L(
          '2024-01-20 10:20:00',
          'Error',
          'DISM Package Manager: PID=4243 TID=2 Failed to restore the image health. - CPackageManagerCLIHandler::ProcessCmdLine_CleanupImage(hr:0x800f081f)',
        ),
      ]);
    const r = await restoreHealthFromLog(new Uint8Array(Buffer.from(text)), 'wufix\\dism-restorehealth.log');
    expect(r).toMatchObject({ result: 'failed', code: '0x800f081f' });
    expect(r!.text).toMatch(/^wufix\\dism-restorehealth\.log: \/RestoreHealth failed with 0x800f081f CBS_E_SOURCE_MISSING: /);
    expect(r!.text).toMatch(/^[\x20-\x7e]+$/);
  });

  it('succeeded; a session that did not close is in-progress; other commands are not a RestoreHealth', async () => {
    const ok = await restoreHealthFromLog(new Uint8Array(Buffer.from(session(RH, []))), 'x.log');
    expect(ok).toEqual({ result: 'succeeded', text: 'x.log: /RestoreHealth succeeded' });
    expect((await restoreHealthFromLog(new Uint8Array(Buffer.from(session(RH, [], false))), 'x.log'))?.result).toBe('in-progress');
    expect(await restoreHealthFromLog(new Uint8Array(Buffer.from(session('dism.exe /Online /Cleanup-Image /ScanHealth', []))), 'x.log')).toBeUndefined();
    expect(await restoreHealthFromLog(new Uint8Array(0), 'x.log')).toBeUndefined();
  });

  it.skipIf(!!sharedReason())('the real dism.logs (NetFx3 /Enable-Feature, Windows 7 features): no /RestoreHealth session', async () => {
    for (const f of ['win10-21h2-netfx3-enable-0x800f081f-iideerii.log', 'win7-enable-disable-feature-sessions-DieterReuter.log'])
      expect(await restoreHealthFromLog(new Uint8Array(readFileSync(path.join(FIXTURES, 'logs', 'dism', f))), f)).toBeUndefined();
  });
});
