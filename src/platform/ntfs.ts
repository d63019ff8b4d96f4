// Linux NTFS tools (Debian ntfs-3g): ntfsresize, mkntfs and ntfscp, for the WinRE rebuild. Output is parsed
// in the C locale; every call reports progress and throws one clear line on failure.
import { execFileSync, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadInputError, RefusedError } from '../errors.js';

const ENV = { ...process.env, LC_ALL: 'C', LANG: 'C' };

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new RefusedError(`${cmd} is not installed (Debian package ntfs-3g); it is needed to resize and create NTFS volumes`, 'missing-tool');
    const msg = `${err.stderr ?? ''}\n${err.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => /error|fail|cannot|can't|not /i.test(l))[0];
    throw new BadInputError(`${cmd} failed: ${msg ?? err.message.split('\n')[0]}`);
  }
}

export interface NtfsInfo {
  /** Current file system size in bytes. */
  volumeBytes: number;
  /** Size of the device holding it. */
  deviceBytes: number;
  /** The smallest size ntfsresize could shrink it to ("You might resize at N bytes"). */
  minBytes: number;
  /** Bytes in use. */
  usedBytes?: number;
}

/** Parse `ntfsresize --info` output (C locale). */
export function parseNtfsResizeInfo(out: string): NtfsInfo {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  const volumeBytes = num(/Current volume size:\s*(\d+) bytes/);
  const deviceBytes = num(/Current device size:\s*(\d+) bytes/);
  const minBytes = num(/You might resize at (\d+) bytes/);
  if (volumeBytes === undefined || minBytes === undefined) {
    const why = out.split('\n').find((l) => /ERROR|error|hibernat|unclean|dirty|chkdsk/i.test(l));
    throw new RefusedError(`ntfsresize cannot resize this NTFS volume${why ? `: ${why.trim()}` : ''}; boot Windows and run chkdsk /f (and disable hibernation/fast startup), then retry`, 'ntfs-not-resizable');
  }
  const used = /Space in use\s*:\s*(\d+) MB/.exec(out);
  return { volumeBytes, deviceBytes: deviceBytes ?? volumeBytes, minBytes, usedBytes: used ? Number(used[1]) * 1e6 : undefined };
}

export function ntfsInfo(dev: string): NtfsInfo {
  let out: string;
  try {
    out = execFileSync('ntfsresize', ['--info', '--force', '--no-progress-bar', dev], { encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new RefusedError('ntfsresize is not installed (Debian package ntfs-3g)', 'missing-tool');
    out = `${err.stdout ?? ''}\n${err.stderr ?? ''}`;
  }
  return parseNtfsResizeInfo(out);
}

/**
 * Shrink (or grow) an NTFS file system to `bytes`: a dry run first (`--no-action`), then the real
 * resize. The partition itself is changed separately, after this succeeds (shrink) or before (grow).
 */
export async function ntfsResize(dev: string, bytes: number, progress: (msg: string) => void = () => {}): Promise<void> {
  const size = String(Math.floor(bytes));
  progress(`ntfsresize: test run to ${size} bytes`);
  run('ntfsresize', ['--no-action', '--force', '--no-progress-bar', '--size', size, dev]);
  progress(`ntfsresize: resizing to ${size} bytes`);
  await new Promise<void>((resolve, reject) => {
    // Its own process group: a Ctrl-C at the console must not kill it while it moves clusters (the
    // caller rolls back after it finishes).
    const child = spawn('ntfsresize', ['--force', '--force', '--size', size, dev], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      out += s;
      // ntfsresize prints "  xx.xx percent completed" while relocating clusters.
      const m = /(\d+\.\d+) percent completed/.exec(s);
      if (m) progress(`ntfsresize: ${m[1]}%`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new BadInputError(`ntfsresize failed (exit ${code}): ${out.split('\n').filter((l) => /error|fail/i.test(l))[0] ?? out.trim().split('\n').pop()}`));
    });
  });
}

/**
 * A new NTFS volume on `dev`, labelled as Windows labels the recovery partition. `startSector` and
 * `sectorSize` fill the boot sector's hidden-sectors field as Windows would.
 */
export function mkntfs(dev: string, label: string, opts: { startSector?: number; sectorSize?: number } = {}): void {
  const args = ['-Q', '-q', '-F', '-L', label];
  if (opts.sectorSize) args.push('-s', String(opts.sectorSize));
  if (opts.startSector !== undefined) args.push('-p', String(opts.startSector), '-H', '255', '-S', '63');
  run('mkntfs', [...args, dev]);
}

/** `ntfsfix --no-action`: true when the volume needs no fixing. */
export function ntfsCheck(dev: string): { ok: boolean; output: string } {
  try {
    const out = execFileSync('ntfsfix', ['--no-action', dev], { encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: !/BAD|error|corrupt/i.test(out), output: out };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/**
 * Write a stream into a new file of an NTFS volume with ntfscp (no FUSE: several times faster than
 * a write through ntfs-3g), fed through its standard input. The directory of `ntfsPath` must exist
 * and the volume must not be mounted. Rejects with ntfscp's own message when it fails.
 */
export async function ntfsCopyIn(dev: string, ntfsPath: string, source: Readable): Promise<void> {
  // ntfscp reads a path; Node's stdio pipes are sockets, which /dev/stdin cannot open (ENXIO), so
  // `cat` turns the socket into a pipe. The exit status is ntfscp's.
  const child = spawn('sh', ['-c', 'command -v ntfscp >/dev/null || exit 127; cat | ntfscp "$0" /dev/stdin "$1"', dev, ntfsPath], { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  exited.catch(() => {}); // awaited below, after the pipeline; not an unhandled rejection meanwhile
  let streamError: unknown;
  try {
    await pipeline(source, child.stdin);
  } catch (e) {
    streamError = e;
    child.kill();
  }
  const code = await exited;
  if (code === 127) throw new RefusedError('ntfscp is not installed (Debian package ntfs-3g); it is needed to copy Winre.wim into the new partition', 'missing-tool');
  if (code !== 0 && !(streamError && code === null)) {
    throw new BadInputError(`ntfscp failed (exit ${code}) writing ${ntfsPath}: ${out.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? 'no output'}`);
  }
  if (streamError) throw streamError;
}
