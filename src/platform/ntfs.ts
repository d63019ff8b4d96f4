// Linux NTFS tools (Debian ntfs-3g): ntfsresize, mkntfs and ntfscp, for the WinRE rebuild. Output is parsed
// in the C locale; every call reports progress and throws one clear line on failure.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { BadInputError, RefusedError } from '../shared/errors.js';

/** The environment for the tools, taken at each call (C locale for parsing; PATH as it is now). */
const env = () => ({ ...process.env, LC_ALL: 'C', LANG: 'C' });

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', env: env(), stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (err.code === 'ENOENT')
      throw new RefusedError(`${cmd} is not installed (Debian package ntfs-3g); it is needed to resize and create NTFS volumes`, 'missing-tool');
    const msg = `${err.stderr ?? ''}\n${err.stdout ?? ''}`
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /error|fail|cannot|can't|not /i.test(l))[0];
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
    throw new RefusedError(
      `ntfsresize cannot resize this NTFS volume${why ? `: ${why.trim()}` : ''}; boot Windows and run chkdsk /f (and disable hibernation/fast startup), then retry`,
      'ntfs-not-resizable',
    );
  }
  const used = /Space in use\s*:\s*(\d+) MB/.exec(out);
  return { volumeBytes, deviceBytes: deviceBytes ?? volumeBytes, minBytes, usedBytes: used ? Number(used[1]) * 1e6 : undefined };
}

export function ntfsInfo(dev: string): NtfsInfo {
  let out: string;
  try {
    out = execFileSync('ntfsresize', ['--info', '--force', '--no-progress-bar', dev], { encoding: 'utf8', env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
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
    const child = spawn('ntfsresize', ['--force', '--force', '--size', size, dev], { env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
      else
        reject(
          new BadInputError(`ntfsresize failed (exit ${code}): ${out.split('\n').filter((l) => /error|fail/i.test(l))[0] ?? out.trim().split('\n').pop()}`),
        );
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
    const out = execFileSync('ntfsfix', ['--no-action', dev], { encoding: 'utf8', env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: !/BAD|error|corrupt/i.test(out), output: out };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/**
 * Copy a file into a new file of an NTFS volume with ntfscp (no FUSE on the write side: ~5x faster
 * than writing through ntfs-3g). The directory of `ntfsPath` must exist and the volume must not be
 * mounted. ntfscp is given the file itself, not a pipe: it then knows the size and allocates the
 * file once instead of growing it write by write (the 480 MiB bench WIM: ~1.8 s against ~3 s fed
 * through a pipe). With `fd` (a descriptor the caller opened without following links and checked),
 * ntfscp reads that very file as /dev/fd/3 and never resolves `hostFile` itself. `onProgress` gets
 * the bytes ntfscp has read so far (its file position, polled from /proc). Rejects with ntfscp's own
 * message when it fails.
 */
export async function ntfsCopyIn(dev: string, hostFile: string, ntfsPath: string, onProgress?: (done: number) => void, fd?: number): Promise<void> {
  const child =
    fd === undefined
      ? spawn('ntfscp', [dev, hostFile, ntfsPath], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('ntfscp', [dev, '/dev/fd/3', ntfsPath], { env: env(), stdio: ['ignore', 'pipe', 'pipe', fd] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const canonical = fd === undefined ? canonicalPath(hostFile) : fdPath(fd, hostFile); // what /proc/PID/fd links to
  const poll =
    onProgress && child.pid !== undefined
      ? setInterval(() => {
          const pos = filePosition(child.pid!, canonical);
          if (pos !== undefined) onProgress(pos);
        }, 250)
      : undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        throw new RefusedError('ntfscp is not installed (Debian package ntfs-3g); it is needed to copy Winre.wim into the new partition', 'missing-tool');
      throw e;
    });
    if (code !== 0) {
      throw new BadInputError(
        `ntfscp failed (${code === null ? 'killed' : `exit ${code}`}) writing ${ntfsPath}: ${
          out
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
            .pop() ?? 'no output'
        }`,
      );
    }
  } finally {
    if (poll) clearInterval(poll);
  }
}

/** The real path of an open descriptor of this process (what the child's /proc/PID/fd links to). */
function fdPath(fd: number, fallback: string): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return fallback;
  }
}

function canonicalPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p; // ntfscp will say what is wrong with it
  }
}

/**
 * Where process `pid` is in its open file `file` (the pos: line of /proc/PID/fdinfo), if it has it
 * open; with several descriptors of it (ntfscp holds the inherited /dev/fd/3 at 0 besides the one it
 * reads with), the furthest.
 */
export function filePosition(pid: number, file: string): number | undefined {
  let best: number | undefined;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (target !== file) continue;
      const m = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) best = Math.max(best ?? 0, Number(m[1]));
    }
  } catch {
    // the process has exited, or there is no /proc: no progress this time
  }
  return best;
}
