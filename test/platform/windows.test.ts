// The pure parts of the Windows/WinPE DISM adapter (it cannot run here): the command line,
// `chcp` parsing in several display languages, and OEM output decoding, checked against Python's
// codecs and iconv (independent decoders) rather than our own tables.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { RefusedError } from '../../src/shared/errors.js';
import {
  parseChcp,
  decodeOem,
  decodingFor,
  dismImagePath,
  dismExe,
  dismRevertArgs,
  commandLine,
  dismResult,
  dismSucceeded,
  runDismRevertPendingActions,
} from '../../src/platform/windows.js';
import { toolsReason, skipReason, hasTool } from '../helpers/env.js';

const ALL = new Uint8Array(256).map((_, i) => i);
const pyReason = skipReason(hasTool('/usr/bin/python3') ? undefined : toolsReason('/usr/bin/python3'));
const iconvReason = skipReason(toolsReason('iconv'));

/** Python's decoding of bytes 0..255 in a code page (codec name cp437, cp850, ...). */
function pyDecode(codec: string): string {
  return execFileSync('/usr/bin/python3', ['-c', `import sys; sys.stdout.buffer.write(bytes(range(256)).decode(${JSON.stringify(codec)}).encode('utf-8'))`], {
    encoding: 'utf8',
  });
}

describe('chcp output, any display language', () => {
  it('the number, wherever the words are', () => {
    expect(parseChcp('Active code page: 850\r\n')).toBe(850);
    expect(parseChcp('Aktive Codepage: 850.\r\n')).toBe(850);
    expect(parseChcp('Page de codes active : 850\r\n')).toBe(850);
    expect(parseChcp('P\xe1gina de c\xf3digos activa: 437\r\n')).toBe(437);
    expect(
      parseChcp(
        '\u0422\u0435\u043a\u0443\u0449\u0430\u044f \u043a\u043e\u0434\u043e\u0432\u0430\u044f \u0441\u0442\u0440\u0430\u043d\u0438\u0446\u0430: 866\r\n',
      ),
    ).toBe(866);
    expect(parseChcp('\u73fe\u5728\u306e\u30b3\u30fc\u30c9 \u30da\u30fc\u30b8: 932\r\n')).toBe(932);
    expect(parseChcp('Active code page: 65001')).toBe(65001);
  });
  it('no number, or an impossible one: undefined', () => {
    expect(parseChcp('')).toBeUndefined();
    expect(parseChcp('Invalid code page')).toBeUndefined();
    expect(parseChcp('Active code page: 0')).toBeUndefined();
    expect(parseChcp('Active code page: 99999999')).toBeUndefined();
  });
});

describe('OEM output decoding', () => {
  it('how each code page is decoded', () => {
    for (const cp of [437, 850, 852, 858, 1252]) expect(decodingFor(cp).how).toBe('table');
    expect(decodingFor(1251)).toEqual({ how: 'textdecoder', label: 'windows-1251' });
    expect(decodingFor(866)).toEqual({ how: 'textdecoder', label: 'ibm866' });
    expect(decodingFor(65001)).toEqual({ how: 'textdecoder', label: 'utf-8' });
    expect(decodingFor(932).how).toBe('textdecoder');
    expect(decodingFor(737).how).toBe('latin1');
    expect(decodingFor(undefined).how).toBe('latin1');
  });

  it.skipIf(!!pyReason)('cp437, cp850, cp852, cp858, cp866 (ASCII half too), cp1251, cp1252 and cp932 (a sample) as Python decodes them', () => {
    for (const cp of [437, 850, 852, 858, 866, 1251, 1252]) {
      // Python refuses the bytes undefined in windows-1252 (5) and windows-1251 (0x98); Windows and WHATWG map them to C1 controls.
      const bytes = cp === 1252 ? ALL.filter((b) => ![0x81, 0x8d, 0x8f, 0x90, 0x9d].includes(b)) : cp === 1251 ? ALL.filter((b) => b !== 0x98) : ALL;
      const py = execFileSync(
        '/usr/bin/python3',
        ['-c', `import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]).decode("cp${cp}").encode("utf-8"))`, Buffer.from(bytes).toString('hex')],
        { encoding: 'utf8' },
      );
      expect(decodeOem(bytes, cp), `cp${cp}`).toBe(py);
    }
    expect(decodeOem(ALL, 437)).toBe(pyDecode('cp437'));
    const sjis = new Uint8Array(Buffer.from('82b182ea82cd8365835883678dc58cfa', 'hex'));
    const py = execFileSync(
      '/usr/bin/python3',
      ['-c', `import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]).decode("cp932").encode("utf-8"))`, Buffer.from(sjis).toString('hex')],
      { encoding: 'utf8' },
    );
    expect(decodeOem(sjis, 932)).toBe(py);
  });

  it.skipIf(!!iconvReason)('cp437, cp850 and cp852 as iconv decodes them', () => {
    for (const cp of [437, 850, 852]) {
      const viaIconv = execFileSync('iconv', ['-f', `CP${cp}`, '-t', 'UTF-8'], { input: Buffer.from(ALL.subarray(0x80)), encoding: 'utf8' });
      expect(decodeOem(ALL.subarray(0x80), cp), `cp${cp}`).toBe(viaIconv);
    }
  });

  it('a DISM line in cp850 (German), and an unknown code page falls back to latin1', () => {
    // "Der Vorgang wurde erfolgreich beendet." / "Überprüfung" with cp850 umlauts: Ü = 0x9A, ü = 0x81.
    const bytes = new Uint8Array([...Buffer.from('Der Vorgang wurde erfolgreich beendet. '), 0x9a, ...Buffer.from('berpr'), 0x81, ...Buffer.from('fung\r\n')]);
    expect(decodeOem(bytes, 850)).toBe('Der Vorgang wurde erfolgreich beendet. \u00dcberpr\u00fcfung\r\n');
    expect(decodeOem(new Uint8Array([0x41, 0xe9]), 737)).toBe('A\u00e9');
  });
});

describe('the DISM command line', () => {
  it('/Image: is the volume root (a drive keeps its backslash, a folder loses it)', () => {
    expect(dismImagePath('D:')).toBe('D:\\');
    expect(dismImagePath('d:\\')).toBe('D:\\');
    expect(dismImagePath('C:\\mnt\\offline\\')).toBe('C:\\mnt\\offline');
    expect(dismImagePath('C:/mnt/offline')).toBe('C:\\mnt\\offline');
  });
  it('arguments: /English, /Image, /Cleanup-Image, /RevertPendingActions, then /ScratchDir and /LogPath when given', () => {
    expect(dismRevertArgs('D:\\')).toEqual(['/English', '/Image:D:\\', '/Cleanup-Image', '/RevertPendingActions']);
    expect(dismRevertArgs('D:', 'D:\\Scratch\\', 'E:\\wufix\\dism.log')).toEqual([
      '/English',
      '/Image:D:\\',
      '/Cleanup-Image',
      '/RevertPendingActions',
      '/ScratchDir:D:\\Scratch',
      '/LogPath:E:\\wufix\\dism.log',
    ]);
  });
  it('dism.exe of the running Windows/WinPE, and the command line as typed (quoted where it has spaces)', () => {
    expect(dismExe({ SystemRoot: 'X:\\windows' })).toBe('X:\\windows\\System32\\Dism.exe');
    expect(dismExe({})).toBe('C:\\Windows\\System32\\Dism.exe');
    const exe = dismExe({ SystemRoot: 'X:\\windows' });
    expect(commandLine(exe, dismRevertArgs('D:\\', 'D:\\My Scratch'))).toBe(
      'X:\\windows\\System32\\Dism.exe /English /Image:D:\\ /Cleanup-Image /RevertPendingActions "/ScratchDir:D:\\My Scratch"',
    );
  });
  it('a finished run: decoded output, exit codes 0 and 3010 succeed', () => {
    const out = new Uint8Array([
      ...Buffer.from('Reverting pending actions from the image...\r\n'),
      ...Buffer.from('The operation completed successfully.\r\n'),
    ]);
    const r = dismResult('dism ...', 0, out, new Uint8Array(0), 437);
    expect(r).toEqual({
      commandLine: 'dism ...',
      exitCode: 0,
      ok: true,
      codePage: 437,
      decoding: 'table',
      output: 'Reverting pending actions from the image...\nThe operation completed successfully.\n',
    });
    expect(dismSucceeded(3010)).toBe(true);
    expect(dismSucceeded(87)).toBe(false);
    expect(dismSucceeded(null)).toBe(false);
    expect(dismResult('d', 87, new Uint8Array(Buffer.from('Error: 87\r\n')), new Uint8Array(Buffer.from('x')), undefined)).toMatchObject({
      ok: false,
      decoding: 'latin1',
      output: 'Error: 87\nx',
    });
  });
  it.skipIf(process.platform === 'win32')('refuses to run off Windows', async () => {
    await expect(runDismRevertPendingActions('/mnt/win')).rejects.toThrow(RefusedError);
    await expect(runDismRevertPendingActions('/mnt/win')).rejects.toThrow(/needs Windows or WinPE/);
  });
});
