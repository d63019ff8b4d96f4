// Small real disk images for the batch scan and the fleet report (issue #18 items 5 and 6): GPT
// images with Windows trees built by winbuilder (with findings, or healthy), a GPT image whose only
// NTFS volume holds no Windows, and a blank file with no partition table (both: exit 2). Sparse
// files; the recovery partitions hold a Winre.wim that fills them to the free space asked for.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildDisk, buildWindowsTree, type InstallSpec } from './winbuilder.js';
import { buildGpt, GiB, MiB, sparseImage, TYPE } from './disk-images.js';
import { CLI } from './cli.js';
import { testStateDir } from './state-dir.js';

export interface BatchImage {
  file: string;
  /** The exit code a single `wufix scan --image` of it gives. */
  exitCode: number;
}

export type BatchKind = { windows: InstallSpec; recoveryFree: number; exitCode: number } | { blank: 'ntfs' | 'zero' };

/** Build each image in `dir` (named `<name>.img`); Windows trees are built in `dir/trees`. */
export async function buildBatchImages(dir: string, specs: readonly (readonly [string, BatchKind])[]): Promise<BatchImage[]> {
  mkdirSync(dir, { recursive: true });
  const out: BatchImage[] = [];
  for (const [name, k] of specs) {
    const file = path.join(dir, `${name}.img`);
    if ('windows' in k) {
      const tree = path.join(path.dirname(dir), 'trees', name);
      await buildWindowsTree(tree, k.windows);
      // 4 GiB (sparse): a healthy image has more than the 2 GiB free under which low-disk-space warns.
      buildDisk(file, tree, { size: 4 * GiB, recoverySize: 300 * MiB, recoveryFree: k.recoveryFree });
      out.push({ file, exitCode: k.exitCode });
    } else if (k.blank === 'ntfs') {
      buildGpt(file, 256 * MiB, [{ start: MiB, size: 200 * MiB, type: TYPE.BASIC, name: 'Data', fs: { kind: 'ntfs', label: 'Data' } }]);
      out.push({ file, exitCode: 2 });
    } else {
      sparseImage(file, 64 * MiB);
      out.push({ file, exitCode: 2 });
    }
  }
  return out;
}

/** A scan result without what differs from run to run: the time, and the temp folder ntfs-3g mounted the volume on. */
export function withoutTime<T extends Record<string, unknown>>(doc: T): Omit<T, 'scannedAt'> {
  const { scannedAt: _t, ...rest } = doc;
  return JSON.parse(JSON.stringify(rest).replace(/"[^"]*\/wufix-mnt-[A-Za-z0-9]+\//g, '"MNT/')) as Omit<T, 'scannedAt'>;
}

export interface SpawnedRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parent's child processes (the workers) seen while it ran, by pid. */
  workers: number[];
  fired: boolean;
}

/** The direct children of `pid` (Linux /proc). */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/**
 * The built CLI, run asynchronously; its workers are noted every 50 ms; `signal` is sent to the
 * parent alone (as `kill -INT <pid>`) once stderr matches `when`.
 */
export function spawnCli(
  args: string[],
  opts: { when?: RegExp; signal?: NodeJS.Signals; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<SpawnedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, WUFIX_STATE_DIR: testStateDir(), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let fired = false;
    const workers = new Set<number>();
    const note = () => {
      for (const p of childrenOf(child.pid!)) workers.add(p);
    };
    const poll = setInterval(note, 50);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!fired && opts.when && opts.when.test(stderr)) {
        fired = true;
        note();
        child.kill(opts.signal ?? 'SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, workers: [...workers], fired });
    });
  });
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
