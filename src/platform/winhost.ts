// The Windows/WinPE host as the WinRE backend sees it (src/winre/windows.ts): diskpart,
// drive letters, the raw disk for reading, reagentc. `windowsHost()` is the real one (diskpart.exe
// and reagentc.exe of the running Windows/WinPE, output decoded from the console's OEM code page);
// tests drive the same backend on Linux through a host that carries out the same commands on a real
// disk image (test/helpers/diskpart-host.ts), since diskpart itself cannot run here.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RefusedError } from '../shared/errors.js';
import { activeCodePage, commandLine, decodeOem } from './windows.js';

export interface CommandResult {
  commandLine: string;
  exitCode: number | null;
  /** stdout then stderr, decoded, LF line ends. */
  output: string;
}

export interface WinHost {
  /** `diskpart /s <script>` (the script has CRLF line ends). diskpart stops at the first failing command and exits non-zero. */
  diskpart(script: string): Promise<CommandResult>;
  /** What opens disk N read-only for the layout (\\.\PhysicalDriveN). */
  diskPath(disk: number): string;
  /** The directory a drive letter's volume is reachable at ("R:\" on Windows). */
  letterRoot(letter: string): string;
  /** The drive letter of a volume root given as --root ("W:" / "W:\"), undefined when it is not one. */
  letterOf(root: string): string | undefined;
  /** Drive letters in use now (upper case). */
  lettersInUse(): Set<string>;
  /** `diskpart /s` run synchronously: for the exit backstop that detaches a virtual disk when the process ends (no awaiting there). */
  diskpartSync?: (script: string) => CommandResult;
  /** reagentc.exe, when the host has it. */
  reagentc?: (args: string[]) => Promise<CommandResult>;
}

function runExe(exe: string, args: string[], codePage: number | undefined): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const child = spawn(exe, args, { windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => out.push(b));
    child.on('error', (e) => reject(new RefusedError(`could not run ${exe}: ${e.message}`, 'no-tool')));
    child.on('close', (code) =>
      resolve({ commandLine: commandLine(exe, args), exitCode: code, output: decodeOem(new Uint8Array(Buffer.concat(out)), codePage).replace(/\r\n/g, '\n') }),
    );
  });
}

/** The running Windows/WinPE: System32\diskpart.exe and reagentc.exe, \\.\PhysicalDriveN, drive letters. */
export function windowsHost(env: NodeJS.ProcessEnv = process.env): WinHost {
  if (process.platform !== 'win32') throw new RefusedError('the diskpart backend needs Windows or WinPE; on Linux use --image', 'platform');
  const sys32 = path.win32.join(env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows', 'System32');
  const diskpartExe = path.win32.join(sys32, 'diskpart.exe');
  const reagentcExe = path.win32.join(sys32, 'reagentc.exe');
  let cp: Promise<number | undefined> | undefined;
  const codePage = () => (cp ??= activeCodePage());
  return {
    async diskpart(script) {
      if (!existsSync(diskpartExe)) throw new RefusedError(`${diskpartExe} not found: the WinRE rebuild and attaching a VHD/VHDX need diskpart`, 'no-diskpart');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-dp-'));
      try {
        const file = path.join(dir, 'script.txt');
        writeFileSync(file, script, 'latin1');
        return await runExe(diskpartExe, ['/s', file], await codePage());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    diskpartSync(script) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-dp-'));
      try {
        const file = path.join(dir, 'script.txt');
        writeFileSync(file, script, 'latin1');
        const r = spawnSync(diskpartExe, ['/s', file], { windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
        const out = Buffer.concat([r.stdout ?? Buffer.alloc(0), r.stderr ?? Buffer.alloc(0)]);
        return {
          commandLine: commandLine(diskpartExe, ['/s', file]),
          exitCode: r.status,
          output: decodeOem(new Uint8Array(out), undefined).replace(/\r\n/g, '\n'),
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    diskPath: (n) => `\\\\.\\PhysicalDrive${n}`,
    letterRoot: (l) => `${l.toUpperCase()}:\\`,
    letterOf: (root) => /^([A-Za-z]):\\?$/.exec(root)?.[1]?.toUpperCase(),
    lettersInUse() {
      const s = new Set<string>();
      for (let c = 65; c <= 90; c++) if (existsSync(`${String.fromCharCode(c)}:\\`)) s.add(String.fromCharCode(c));
      return s;
    },
    ...(existsSync(reagentcExe) ? { reagentc: async (args: string[]) => runExe(reagentcExe, args, await codePage()) } : {}),
  };
}

/** A free drive letter, from the end of the alphabet (R, S, T, ... preferred, never A-C). */
export function freeLetter(used: Set<string>, prefer: string[] = ['R', 'S', 'T', 'Q', 'P', 'O', 'N', 'M', 'L']): string {
  for (const l of [...prefer, ...'ZYXVUKJIHGFED'.split('')]) if (!used.has(l)) return l;
  throw new RefusedError('no free drive letter for the recovery partition; remove one with diskpart (remove letter=X) and retry', 'no-letter');
}
