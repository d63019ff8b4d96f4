// Windows/WinPE host adapter: `wufix repair --only pending --use-dism` runs
//   dism.exe /English /Image:<root> /Cleanup-Image /RevertPendingActions [/ScratchDir:<dir>]
// (windows-update.md §4) and records what it printed. Console programs write in the OEM code page
// (cp437, cp850, cp866, ...), so the output is decoded by the number `chcp` reports. Everything
// except runDismRevertPendingActions / activeCodePage is pure and tested on Linux.
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RefusedError } from '../shared/errors.js';

// --- code pages --------------------------------------------------------------------------------

/**
 * The code page number in `chcp` output, whatever the display language ("Active code page: 850",
 * "Aktive Codepage: 850.", "Page de codes active : 850", "Активная кодовая страница: 866"): the last
 * number on the line. undefined when there is none.
 */
export function parseChcp(output: string): number | undefined {
  const nums = output.match(/\d+/g);
  if (!nums) return undefined;
  const n = Number(nums[nums.length - 1]);
  return Number.isSafeInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

// Upper halves (0x80-0xFF) of the DOS code pages Node's TextDecoder (WHATWG labels only) lacks,
// from Python's codecs; the test checks them against Python and iconv.
const CP437_HIGH =
  '\u00c7\u00fc\u00e9\u00e2\u00e4\u00e0\u00e5\u00e7\u00ea\u00eb\u00e8\u00ef\u00ee\u00ec\u00c4\u00c5' +
  '\u00c9\u00e6\u00c6\u00f4\u00f6\u00f2\u00fb\u00f9\u00ff\u00d6\u00dc\u00a2\u00a3\u00a5\u20a7\u0192' +
  '\u00e1\u00ed\u00f3\u00fa\u00f1\u00d1\u00aa\u00ba\u00bf\u2310\u00ac\u00bd\u00bc\u00a1\u00ab\u00bb' +
  '\u2591\u2592\u2593\u2502\u2524\u2561\u2562\u2556\u2555\u2563\u2551\u2557\u255d\u255c\u255b\u2510' +
  '\u2514\u2534\u252c\u251c\u2500\u253c\u255e\u255f\u255a\u2554\u2569\u2566\u2560\u2550\u256c\u2567' +
  '\u2568\u2564\u2565\u2559\u2558\u2552\u2553\u256b\u256a\u2518\u250c\u2588\u2584\u258c\u2590\u2580' +
  '\u03b1\u00df\u0393\u03c0\u03a3\u03c3\u00b5\u03c4\u03a6\u0398\u03a9\u03b4\u221e\u03c6\u03b5\u2229' +
  '\u2261\u00b1\u2265\u2264\u2320\u2321\u00f7\u2248\u00b0\u2219\u00b7\u221a\u207f\u00b2\u25a0\u00a0';
const CP850_HIGH =
  '\u00c7\u00fc\u00e9\u00e2\u00e4\u00e0\u00e5\u00e7\u00ea\u00eb\u00e8\u00ef\u00ee\u00ec\u00c4\u00c5' +
  '\u00c9\u00e6\u00c6\u00f4\u00f6\u00f2\u00fb\u00f9\u00ff\u00d6\u00dc\u00f8\u00a3\u00d8\u00d7\u0192' +
  '\u00e1\u00ed\u00f3\u00fa\u00f1\u00d1\u00aa\u00ba\u00bf\u00ae\u00ac\u00bd\u00bc\u00a1\u00ab\u00bb' +
  '\u2591\u2592\u2593\u2502\u2524\u00c1\u00c2\u00c0\u00a9\u2563\u2551\u2557\u255d\u00a2\u00a5\u2510' +
  '\u2514\u2534\u252c\u251c\u2500\u253c\u00e3\u00c3\u255a\u2554\u2569\u2566\u2560\u2550\u256c\u00a4' +
  '\u00f0\u00d0\u00ca\u00cb\u00c8\u0131\u00cd\u00ce\u00cf\u2518\u250c\u2588\u2584\u00a6\u00cc\u2580' +
  '\u00d3\u00df\u00d4\u00d2\u00f5\u00d5\u00b5\u00fe\u00de\u00da\u00db\u00d9\u00fd\u00dd\u00af\u00b4' +
  '\u00ad\u00b1\u2017\u00be\u00b6\u00a7\u00f7\u00b8\u00b0\u00a8\u00b7\u00b9\u00b3\u00b2\u25a0\u00a0';
const CP852_HIGH =
  '\u00c7\u00fc\u00e9\u00e2\u00e4\u016f\u0107\u00e7\u0142\u00eb\u0150\u0151\u00ee\u0179\u00c4\u0106' +
  '\u00c9\u0139\u013a\u00f4\u00f6\u013d\u013e\u015a\u015b\u00d6\u00dc\u0164\u0165\u0141\u00d7\u010d' +
  '\u00e1\u00ed\u00f3\u00fa\u0104\u0105\u017d\u017e\u0118\u0119\u00ac\u017a\u010c\u015f\u00ab\u00bb' +
  '\u2591\u2592\u2593\u2502\u2524\u00c1\u00c2\u011a\u015e\u2563\u2551\u2557\u255d\u017b\u017c\u2510' +
  '\u2514\u2534\u252c\u251c\u2500\u253c\u0102\u0103\u255a\u2554\u2569\u2566\u2560\u2550\u256c\u00a4' +
  '\u0111\u0110\u010e\u00cb\u010f\u0147\u00cd\u00ce\u011b\u2518\u250c\u2588\u2584\u0162\u016e\u2580' +
  '\u00d3\u00df\u00d4\u0143\u0144\u0148\u0160\u0161\u0154\u00da\u0155\u0170\u00fd\u00dd\u0163\u00b4' +
  '\u00ad\u02dd\u02db\u02c7\u02d8\u00a7\u00f7\u00b8\u00b0\u00a8\u02d9\u0171\u0158\u0159\u25a0\u00a0';
/** cp858 = cp850 with the euro sign at 0xD5 (where cp850 has dotless i). */
const CP858_HIGH = CP850_HIGH.slice(0, 0x55) + '\u20ac' + CP850_HIGH.slice(0x56);

/**
 * windows-1252: Node 20's TextDecoder decodes it as latin1 (0x80 -> U+0080, not the euro sign), so
 * its 0x80-0x9F row is spelled out; 0xA0-0xFF is latin1. (Undefined bytes map to C1 controls, as
 * in Windows and WHATWG.)
 */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178' +
  Array.from({ length: 0x60 }, (_, i) => String.fromCharCode(0xa0 + i)).join('');

const TABLES: Record<number, string> = { 437: CP437_HIGH, 850: CP850_HIGH, 852: CP852_HIGH, 858: CP858_HIGH, 1252: CP1252_HIGH };

/** WHATWG encoding labels (what Node's TextDecoder knows) for Windows code page numbers. */
const LABELS: Record<number, string> = {
  866: 'ibm866',
  874: 'windows-874',
  932: 'shift_jis',
  936: 'gbk',
  949: 'euc-kr',
  950: 'big5',
  1250: 'windows-1250',
  1251: 'windows-1251',
  1252: 'windows-1252',
  1253: 'windows-1253',
  1254: 'windows-1254',
  1255: 'windows-1255',
  1256: 'windows-1256',
  1257: 'windows-1257',
  1258: 'windows-1258',
  10000: 'macintosh',
  20866: 'koi8-r',
  21866: 'koi8-u',
  28592: 'iso-8859-2',
  28593: 'iso-8859-3',
  28594: 'iso-8859-4',
  28595: 'iso-8859-5',
  28596: 'iso-8859-6',
  28597: 'iso-8859-7',
  28598: 'iso-8859-8',
  28605: 'iso-8859-15',
  54936: 'gb18030',
  65001: 'utf-8',
};

export type Decoding = 'table' | 'textdecoder' | 'latin1';

/** How output in a code page is decoded: a built-in table, TextDecoder, or latin1 as the last resort. */
export function decodingFor(codePage: number | undefined): { how: Decoding; label?: string } {
  if (codePage !== undefined && TABLES[codePage]) return { how: 'table' };
  const label = codePage === undefined ? undefined : LABELS[codePage];
  if (label) {
    try {
      new TextDecoder(label);
      return { how: 'textdecoder', label };
    } catch {
      /* this Node lacks it (small-icu build) */
    }
  }
  return { how: 'latin1' };
}

/** Multi-byte code pages (everything else TextDecoder knows here is one byte per character). */
const MULTI_BYTE = new Set([932, 936, 949, 950, 54936, 65001]);
const derived = new Map<number, string>();

/**
 * The upper half of a single-byte code page: a built-in table, or what TextDecoder makes of bytes
 * 0x80-0xFF (WHATWG single-byte decoders give one character per byte). The lower half is always
 * ASCII, as Windows maps it: Node's ibm866 rotates 0x1A/0x1C/0x7F (ICU's IBM control mapping).
 */
function highHalf(codePage: number, label: string | undefined): string | undefined {
  if (TABLES[codePage]) return TABLES[codePage];
  if (!label || MULTI_BYTE.has(codePage)) return undefined;
  let t = derived.get(codePage);
  if (t === undefined) {
    t = new TextDecoder(label).decode(new Uint8Array(128).map((_, i) => 0x80 + i));
    if (t.length !== 128) return undefined;
    derived.set(codePage, t);
  }
  return t;
}

/** Decode console output written in `codePage` (OEM); unknown code pages fall back to latin1. */
export function decodeOem(bytes: Uint8Array, codePage: number | undefined): string {
  const d = decodingFor(codePage);
  if (d.how === 'latin1') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const high = highHalf(codePage!, d.label);
  if (!high) return new TextDecoder(d.label).decode(bytes);
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += b < 0x80 ? String.fromCharCode(b) : high[b - 0x80]!;
  }
  return out;
}

// --- DISM ----------------------------------------------------------------------------------------

/** `D:` / `D:\` / `D:\mnt\win\` -> the /Image: argument DISM expects (`D:\`, `D:\mnt\win`). */
export function dismImagePath(root: string): string {
  const r = root.replace(/\//g, '\\');
  if (/^[A-Za-z]:\\*$/.test(r)) return `${r.slice(0, 2).toUpperCase()}\\`;
  return r.replace(/\\+$/, '');
}

/** The dism.exe of the running Windows/WinPE: %SystemRoot%\System32\Dism.exe. */
export function dismExe(env: NodeJS.ProcessEnv = process.env): string {
  const sysRoot = env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? env.WINDIR ?? 'C:\\Windows';
  return path.win32.join(sysRoot, 'System32', 'Dism.exe');
}

/** Arguments of `dism /Image:<root> /Cleanup-Image /RevertPendingActions` (English output, optional scratch dir / log). */
export function dismRevertArgs(root: string, scratch?: string, logPath?: string): string[] {
  const args = ['/English', `/Image:${dismImagePath(root)}`, '/Cleanup-Image', '/RevertPendingActions'];
  if (scratch) args.push(`/ScratchDir:${scratch.replace(/\//g, '\\').replace(/\\+$/, '')}`);
  if (logPath) args.push(`/LogPath:${logPath.replace(/\//g, '\\')}`);
  return args;
}

/**
 * Arguments of `dism /Image:<root> /Cleanup-Image /RestoreHealth /Source:wim:<wim>:<index>
 * /LimitAccess /ScratchDir:<dir>` (learn.microsoft.com "Repair a Windows Image": /Source with the
 * wim: prefix, esd: for an .esd; /LimitAccess keeps DISM off Windows Update, which an offline image
 * cannot use; the scratch folder on the target, not WinPE's small X: RAM disk).
 */
export function dismRestoreHealthArgs(root: string, source: { wim: string; index: number }, scratch: string, logPath?: string): string[] {
  const kind = /\.esd$/i.test(source.wim) ? 'esd' : 'wim';
  const args = [
    '/English',
    `/Image:${dismImagePath(root)}`,
    '/Cleanup-Image',
    '/RestoreHealth',
    `/Source:${kind}:${source.wim.replace(/\//g, '\\')}:${source.index}`,
    '/LimitAccess',
    `/ScratchDir:${scratch.replace(/\//g, '\\').replace(/\\+$/, '')}`,
  ];
  if (logPath) args.push(`/LogPath:${logPath.replace(/\//g, '\\')}`);
  return args;
}

/** Arguments of `dism /Image:<root> /Remove-Package /PackageName:<name>` (learn.microsoft.com "DISM Operating System Package Servicing"). */
export function dismRemovePackageArgs(root: string, name: string): string[] {
  if (!/^[\w.~+-]+$/.test(name)) throw new RefusedError(`"${name}" is not a CBS package name (letters, digits, . ~ + - _)`, 'package-not-found');
  return ['/English', `/Image:${dismImagePath(root)}`, '/Remove-Package', `/PackageName:${name}`];
}

/** Arguments of `sfc /scannow /offbootdir=<root> /offwindir=<root>\Windows` (learn.microsoft.com "sfc"). */
export function sfcOfflineArgs(root: string): string[] {
  const r = dismImagePath(root);
  const dir = r.endsWith('\\') ? r : `${r}\\`;
  return ['/scannow', `/offbootdir=${dir}`, `/offwindir=${dir}Windows`];
}

/** DISM's progress bar ("[=====  42.5%  ]", rewritten with CR) -> the last whole percent in a chunk of output. */
export function dismPercent(chunk: string): number | undefined {
  const all = [...chunk.matchAll(/(\d{1,3}(?:\.\d)?)%/g)];
  if (!all.length) return undefined;
  const n = Math.floor(Number(all[all.length - 1]![1]));
  return n >= 0 && n <= 100 ? n : undefined;
}

/** sfc.exe writes UTF-16LE to a pipe (DISM writes the OEM code page): told apart by the NUL bytes. */
export function decodeSfc(bytes: Uint8Array, codePage: number | undefined): string {
  let zeros = 0;
  for (let i = 1; i < Math.min(bytes.length, 512); i += 2) if (bytes[i] === 0) zeros++;
  const utf16 = bytes.length >= 2 && zeros * 2 >= Math.min(bytes.length, 512) / 2 - 1;
  const text = utf16
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength & ~1)
        .toString('utf16le')
        .replace(/^\ufeff/, '')
    : decodeOem(bytes, codePage);
  return text.replace(/\r\n/g, '\n');
}

/**
 * What SFC's last words say (its exit code is not documented as the result): repaired, nothing
 * found, or not all repaired / could not run. English only (sfc has no /English); other languages
 * are 'unknown' and the journal keeps the output.
 */
export function sfcVerdict(output: string): 'clean' | 'repaired' | 'not-repaired' | 'unknown' {
  if (/did not find any integrity violations/i.test(output)) return 'clean';
  if (/found corrupt files and successfully repaired them/i.test(output)) return 'repaired';
  if (/unable to fix some of them|could not perform the requested operation|There is a system repair pending/i.test(output)) return 'not-repaired';
  return 'unknown';
}

/** The command line as a technician would type it (quoting arguments with spaces), for the journal. */
export function commandLine(exe: string, args: string[]): string {
  const q = (a: string) => (/[\s"]/.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a);
  return [q(exe), ...args.map(q)].join(' ');
}

/** DISM exit codes that mean success: 0, and 3010 (ERROR_SUCCESS_REBOOT_REQUIRED). */
export const dismSucceeded = (exitCode: number | null) => exitCode === 0 || exitCode === 3010;

export interface DismResult {
  commandLine: string;
  exitCode: number | null;
  ok: boolean;
  codePage?: number;
  decoding: Decoding;
  /** stdout then stderr, decoded. */
  output: string;
}

/** Decode a finished DISM run (pure: what runDismRevertPendingActions records). */
export function dismResult(cmd: string, exitCode: number | null, stdout: Uint8Array, stderr: Uint8Array, codePage: number | undefined): DismResult {
  const text = decodeOem(stdout, codePage) + (stderr.length ? decodeOem(stderr, codePage) : '');
  return { commandLine: cmd, exitCode, ok: dismSucceeded(exitCode), codePage, decoding: decodingFor(codePage).how, output: text.replace(/\r\n/g, '\n') };
}

// --- the parts that only run on Windows ---------------------------------------------------------

/** The console's active code page (`chcp`), or undefined when it cannot be read. */
export function activeCodePage(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('cmd.exe', ['/d', '/c', 'chcp'], { windowsHide: true, encoding: 'latin1' }, (err, stdout) => {
      resolve(err ? undefined : parseChcp(String(stdout)));
    });
  });
}

/** Run a Windows tool (DISM or SFC) and return its decoded output; `onChunk` sees stdout as it comes. */
function runTool(
  exe: string,
  args: string[],
  codePage: number | undefined,
  decode: (b: Uint8Array) => string,
  onChunk?: (s: string) => void,
): Promise<DismResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const child = spawn(exe, args, { windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      onChunk?.(decode(new Uint8Array(b)));
    });
    child.stderr.on('data', (b: Buffer) => out.push(b));
    child.on('error', (e) => reject(new RefusedError(`could not run ${exe}: ${e.message}`, 'no-dism')));
    child.on('close', (code) => {
      resolve({
        commandLine: commandLine(exe, args),
        exitCode: code,
        ok: dismSucceeded(code),
        codePage,
        decoding: decodingFor(codePage).how,
        output: decode(new Uint8Array(Buffer.concat(out))),
      });
    });
  });
}

/** `dism /Image:<root> /Cleanup-Image /RestoreHealth /Source:... /LimitAccess /ScratchDir:<scratch>` on Windows/WinPE, with progress every 10%. */
export async function runDismRestoreHealth(
  root: string,
  source: { wim: string; index: number },
  scratch: string,
  progress: (m: string) => void,
  logPath?: string,
): Promise<DismResult> {
  if (process.platform !== 'win32') throw new RefusedError('DISM /RestoreHealth needs Windows or WinPE (dism.exe)', 'no-dism');
  const exe = dismExe();
  if (!existsSync(exe)) throw new RefusedError(`${exe} not found: the component store repair needs DISM`, 'no-dism');
  const codePage = await activeCodePage();
  let last = -10;
  return runTool(
    exe,
    dismRestoreHealthArgs(root, source, scratch, logPath),
    codePage,
    (b) => decodeOem(b, codePage).replace(/\r\n/g, '\n'),
    (s) => {
      const p = dismPercent(s);
      if (p !== undefined && p >= last + 10) {
        last = p - (p % 10);
        progress(`DISM /RestoreHealth: ${p}%`);
      }
    },
  );
}

/** `dism /Image:<root> /Remove-Package /PackageName:<name>` on Windows/WinPE. */
export async function runDismRemovePackage(root: string, name: string): Promise<DismResult> {
  if (process.platform !== 'win32') throw new RefusedError('DISM /Remove-Package needs Windows or WinPE (dism.exe)', 'no-dism');
  const exe = dismExe();
  if (!existsSync(exe)) throw new RefusedError(`${exe} not found: removing a package needs DISM`, 'no-dism');
  const codePage = await activeCodePage();
  return runTool(exe, dismRemovePackageArgs(root, name), codePage, (b) => decodeOem(b, codePage).replace(/\r\n/g, '\n'));
}

/** `sfc /scannow /offbootdir /offwindir` on Windows/WinPE; ok only when its words say clean or repaired. */
export async function runSfcOffline(root: string, env: NodeJS.ProcessEnv = process.env): Promise<DismResult> {
  if (process.platform !== 'win32') throw new RefusedError('SFC needs Windows or WinPE (sfc.exe)', 'no-dism');
  const exe = path.win32.join(env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows', 'System32', 'sfc.exe');
  if (!existsSync(exe)) throw new RefusedError(`${exe} not found: the component store repair needs SFC`, 'no-dism');
  const codePage = await activeCodePage();
  const r = await runTool(exe, sfcOfflineArgs(root), codePage, (b) => decodeSfc(b, codePage));
  const v = sfcVerdict(r.output);
  return { ...r, ok: v === 'clean' || v === 'repaired' || (v === 'unknown' && r.exitCode === 0) };
}

/**
 * Run `dism /Image:<root> /Cleanup-Image /RevertPendingActions` on Windows/WinPE and return its
 * decoded output. Refuses elsewhere and when dism.exe is missing; a non-zero exit is returned
 * (`ok: false`) for the caller to show and journal, not thrown.
 */
export async function runDismRevertPendingActions(root: string, scratch?: string, opts: { logPath?: string } = {}): Promise<DismResult> {
  if (process.platform !== 'win32') {
    throw new RefusedError('--use-dism needs Windows or WinPE (dism.exe); on Linux use the pending repair without --use-dism', 'no-dism');
  }
  const exe = dismExe();
  if (!existsSync(exe)) throw new RefusedError(`${exe} not found; use the pending repair without --use-dism`, 'no-dism');
  const args = dismRevertArgs(root, scratch, opts.logPath);
  const codePage = await activeCodePage();
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const child = spawn(exe, args, { windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new RefusedError(`could not run ${exe}: ${e.message}`, 'no-dism')));
    child.on('close', (code) => {
      resolve(dismResult(commandLine(exe, args), code, new Uint8Array(Buffer.concat(out)), new Uint8Array(Buffer.concat(err)), codePage));
    });
  });
}
