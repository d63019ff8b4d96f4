// The journal of a repair run: <journal>/<run-id>/ with plan.json, files.json (sha256 of every
// backed-up file before and after), backup.tar (node-tar: the files as they were), state.json (how
// far the run got) and log.txt. It is what `wufix undo` restores from, byte for byte.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, createReadStream, existsSync, readdirSync, readFileSync, statSync, statfsSync } from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { atomicWrite } from '../hive/hivefile.js';
import { BadInputError, RefusedError } from '../errors.js';
import type { Plan } from './types.js';
import { MiB } from '../disk/types.js';

export interface JournalFile {
  /** Volume-relative path (backslashes). */
  path: string;
  /** Path inside backup.tar (forward slashes). */
  entry: string;
  existed: boolean;
  sha256Before: string | null;
  size: number;
  sha256After?: string | null;
}

export type Phase = 'planned' | 'backed-up' | 'applying' | 'applied' | 'verified' | 'rolled-back' | 'failed' | 'undone';

export interface JournalState {
  phase: Phase;
  /** Indexes of plan steps applied (in order). */
  done: number[];
  /** Renames performed, in order (volume-relative). */
  renames: { from: string; to: string }[];
  error?: string;
  updatedAt: string;
}

export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

/** SHA-256 of a file, read in 1 MiB pieces (64 KiB reads through ntfs-3g take twice as long). */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class Journal {
  readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(journalRoot: string, runId: string): Promise<Journal> {
    const dir = path.join(journalRoot, runId);
    await fsp.mkdir(dir, { recursive: true });
    return new Journal(dir);
  }

  static open(journalRoot: string, runId: string): Journal {
    const dir = path.join(journalRoot, runId);
    if (!existsSync(path.join(dir, 'plan.json'))) throw new BadInputError(`no journal for run ${runId}`, { file: dir, code: 'no-run' });
    return new Journal(dir);
  }

  /** Run ids in a journal root, oldest first. */
  static list(journalRoot: string): string[] {
    if (!existsSync(journalRoot)) return [];
    return readdirSync(journalRoot)
      .filter((d) => existsSync(path.join(journalRoot, d, 'plan.json')))
      .sort();
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    await atomicWrite(this.file(name), new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n'));
  }

  readJson<T>(name: string): T {
    return JSON.parse(readFileSync(this.file(name), 'utf8')) as T;
  }

  async log(line: string): Promise<void> {
    await fsp.appendFile(this.file('log.txt'), `${new Date().toISOString()} ${line}\n`);
  }

  async setState(s: Omit<JournalState, 'updatedAt'>): Promise<void> {
    await this.writeJson('state.json', { ...s, updatedAt: new Date().toISOString() });
  }

  state(): JournalState {
    // A run killed right after writing plan.json has no state yet: nothing was changed.
    if (!existsSync(this.file('state.json'))) return { phase: 'planned', done: [], renames: [], updatedAt: '' };
    return this.readJson<JournalState>('state.json');
  }

  plan(): Plan {
    return this.readJson<Plan>('plan.json');
  }

  files(): JournalFile[] {
    return existsSync(this.file('files.json')) ? this.readJson<JournalFile[]>('files.json') : [];
  }

  get tarPath(): string {
    return this.file('backup.tar');
  }

  /**
   * Back up `files` (host path -> volume-relative path) into backup.tar and record their hashes.
   * Files that do not exist are recorded as absent (undo deletes them).
   */
  async backup(root: string, files: { host: string; rel: string }[]): Promise<JournalFile[]> {
    const out: JournalFile[] = [];
    const present: string[] = [];
    for (const f of files) {
      // Tar names are the host paths relative to the root (their real case on disk).
      const entry = path.relative(root, f.host).split(path.sep).join('/');
      if (existsSync(f.host)) {
        out.push({ path: f.rel, entry, existed: true, sha256Before: await sha256File(f.host), size: statSync(f.host).size });
        present.push(entry);
      } else {
        out.push({ path: f.rel, entry, existed: false, sha256Before: null, size: 0 });
      }
    }
    if (present.length) await tar.c({ file: this.tarPath, cwd: root, portable: true, noDirRecurse: true }, present);
    else await fsp.writeFile(this.tarPath, Buffer.alloc(1024)); // an empty tar archive
    const fh = await fsp.open(this.tarPath, 'r+');
    await fh.sync();
    await fh.close();
    await this.writeJson('files.json', out);
    return out;
  }

  /** Extract the backup into a directory (for restore). */
  async extract(to: string): Promise<void> {
    await fsp.mkdir(to, { recursive: true });
    await tar.x({ file: this.tarPath, cwd: to, preserveOwner: false });
  }
}

/** Bytes free where the journal goes; refuse when the backup would not fit with a margin. */
export function checkJournalSpace(journalRoot: string, needBytes: number): void {
  let dir = journalRoot;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  let free: number;
  try {
    const s = statfsSync(dir);
    free = s.bsize * s.bavail;
  } catch {
    return;
  }
  const need = Math.ceil(needBytes * 1.1) + 16 * 1024 * 1024;
  if (free < need) {
    throw new RefusedError(
      `not enough free space for the journal in ${journalRoot}: ${Math.round(free / 1048576)} MB free, ${Math.round(need / 1048576)} MB needed; free some space or pass --journal <dir> on another volume (e.g. the USB stick)`,
      'journal-space',
    );
  }
}
