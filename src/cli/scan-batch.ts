// `wufix scan --image a.img b.img 'lab/*.img' -j N` (issue #18 item 5): many images, each scanned by
// a worker process of this same CLI (`wufix scan --image <one> --json`), so a crash or a hang of one
// is contained in it and its loop devices and mounts are its own Cleanup's. The parent only runs
// workers, shows one progress line per image, writes each result (--jsonl, --out-dir), and ends
// with the summary table (src/scan/report/fleet.ts); its exit code is the worst of the images.
// Ctrl-C / SIGTERM: no new worker starts, every running one gets the signal, detaches its images
// and exits; the batch waits for all of them, then exits 130.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { atomicWrite } from '../shared/atomic.js';
import { BadInputError, EXIT, UsageError } from '../shared/errors.js';
import { readFileSafe } from '../shared/safefs.js';
import { STOP_SIGNALS, watchInterrupts } from '../shared/interrupt.js';
import { asciiSafe, consoleStyle } from '../shared/style.js';
import {
  duplicateClientIds,
  duplicateClientLines,
  elide,
  parseImageResult,
  summaryRow,
  summaryTable,
  worstExit,
  type FleetImage,
  type SummaryRow,
} from '../scan/report/fleet.js';
import { SCAN_SCHEMA_VERSION } from '../model/scan.js';
import { writeOut } from './output.js';

export interface BatchOptions {
  images: string[];
  jobs: number;
  jsonl?: boolean;
  json?: boolean;
  outDir?: string;
  skipDone?: string;
  quiet?: boolean;
  /** Seconds one image may take before its worker is stopped (exit 70 for that image). */
  timeout?: number;
  tool: string;
}

// --- images from the command line: globs expanded by wufix (no shell needed) ---

const GLOB = /[*?[]/;

/** One path segment's glob (* ? [abc] [!abc]) as a regular expression. */
export function globRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let set = seg.slice(i + 1, end);
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        re += `[${set.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const join = (base: string, name: string) => (base === '' ? name : base.endsWith('/') ? `${base}${name}` : `${base}/${name}`);

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The paths a pattern matches, sorted; names starting with "." only when the pattern's segment does. */
function globPaths(pattern: string): string[] {
  const segs = pattern.split('/');
  let bases = [pattern.startsWith('/') ? '/' : ''];
  if (pattern.startsWith('/')) segs.shift();
  for (const [i, seg] of segs.entries()) {
    const last = i === segs.length - 1;
    if (seg === '' && !last) continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!GLOB.test(seg)) {
        const p = join(base, seg);
        if (last ? existsSync(p) : isDir(p)) next.push(p);
        continue;
      }
      const re = globRegExp(seg);
      let names: string[];
      try {
        names = readdirSync(base === '' ? '.' : base);
      } catch {
        continue;
      }
      for (const n of names.sort()) {
        if ((n.startsWith('.') && !seg.startsWith('.')) || !re.test(n)) continue;
        const p = join(base, n);
        if (last ? !isDir(p) : isDir(p)) next.push(p);
      }
    }
    bases = next;
  }
  return bases;
}

/**
 * The --image arguments with each glob (* ? [..], quoted so the shell left it) expanded by wufix;
 * a path that exists is taken as it is, a pattern that matches nothing is bad input (exit 2).
 * Each image once, in the order given.
 */
export function expandImages(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!GLOB.test(a) || existsSync(a)) out.push(a);
    else {
      const m = globPaths(a);
      if (!m.length) throw new BadInputError('no file matches this pattern (--image)', { file: a, code: 'not-found' });
      out.push(...m);
    }
  }
  return [...new Set(out)];
}

// --- results ---

/** Where --out-dir (and --skip-done) keep an image's result: <dir>/<image basename>.json. */
export const resultFile = (dir: string, image: string) => path.join(dir, `${path.basename(image)}.json`);

/** Exit codes of a finished scan: a result with one of them is done; 70 and 130 are scanned again. */
const DONE = new Set<number>([EXIT.OK, EXIT.FINDINGS, EXIT.BAD_INPUT, EXIT.REFUSED]);
const MAX_RESULT_BYTES = 64 * 1024 * 1024;
const MAX_WORKER_OUTPUT = 512 * 1024 * 1024;

/** The result already in `dir` for `image`, when it is a valid one of a finished scan. */
function doneResult(dir: string, image: string): { doc: Record<string, unknown>; result: FleetImage } | undefined {
  const file = resultFile(dir, image);
  if (!existsSync(file)) return undefined;
  try {
    const doc = JSON.parse(new TextDecoder().decode(readFileSafe(file, MAX_RESULT_BYTES, 'the result file'))) as Record<string, unknown>;
    const result = parseImageResult(doc);
    return typeof result !== 'string' && DONE.has(result.exitCode) ? { doc, result } : undefined;
  } catch {
    return undefined; // unreadable or half-written by hand: scanned again, and replaced
  }
}

function checkBatch(o: BatchOptions): void {
  if (!Number.isSafeInteger(o.jobs) || o.jobs < 1 || o.jobs > 64) throw new UsageError('-j takes a number of workers from 1 to 64');
  if (o.json && o.jsonl) throw new UsageError('--json and --jsonl both choose the output: give one (--jsonl: one line per image)');
  if (o.outDir || o.skipDone) {
    const seen = new Map<string, string>();
    for (const im of o.images) {
      const b = path.basename(im);
      const had = seen.get(b);
      if (had)
        throw new UsageError(
          `${had} and ${im} have the same name, so their results would be the same <dir>/${b}.json: scan them in separate batches (or rename one)`,
        );
      seen.set(b, im);
    }
  }
  for (const [flag, dir] of [
    ['--out-dir', o.outDir],
    ['--skip-done', o.skipDone],
  ] as const) {
    if (!dir) continue;
    if (existsSync(dir) && !isDir(dir)) throw new BadInputError(`is not a folder (${flag} takes a folder)`, { file: dir, code: 'bad-input' });
    if (flag === '--skip-done' && !existsSync(dir) && dir !== o.outDir)
      throw new BadInputError(`does not exist (${flag} takes a folder)`, { file: dir, code: 'not-found' });
  }
  if (o.outDir && !existsSync(o.outDir)) {
    if (!isDir(path.dirname(path.resolve(o.outDir))))
      throw new BadInputError(`the folder above it does not exist (--out-dir creates only the last folder)`, { file: o.outDir, code: 'not-found' });
    mkdirSync(o.outDir);
  }
}

// --- the progress lines: one per image, in place on a terminal, one line per change in a pipe ---

class Board {
  private readonly states: string[];
  private drawn = false;
  private readonly tty: boolean;
  private readonly width: number;
  constructor(
    private readonly images: readonly string[],
    private readonly quiet: boolean,
    stdoutLines: boolean,
  ) {
    this.states = images.map(() => 'queued');
    const style = consoleStyle({ stream: process.stderr });
    this.width = style.width;
    const rows = process.stderr.rows ?? 0;
    // In place only when every line fits on the screen; else (and in a pipe) one line per change.
    // (Not when JSON lines go to the same terminal: they would be drawn over.)
    this.tty = !!process.stderr.isTTY && images.length + 2 <= rows && !(stdoutLines && process.stdout.isTTY);
  }
  private line(i: number): string {
    const head = `[${i + 1}/${this.images.length}] `;
    const name = elide(asciiSafe(this.images[i]!), Math.max(12, Math.floor(this.width / 2) - head.length), true);
    return elide(`${head}${name}: ${asciiSafe(this.states[i]!)}`, this.width - 1);
  }
  set(i: number, state: string): void {
    if (this.states[i] === state) return;
    this.states[i] = state;
    if (this.quiet) return;
    if (!this.tty) {
      process.stderr.write(`wufix: ${this.line(i)}\n`);
      return;
    }
    this.draw();
  }
  draw(): void {
    if (this.quiet || !this.tty) return;
    const up = this.drawn ? `\x1b[${this.images.length}A` : '';
    this.drawn = true;
    process.stderr.write(up + this.images.map((_, i) => `\x1b[2K${this.line(i)}\n`).join(''));
  }
  /** A message of its own (the interrupt notice): on a terminal the board is drawn again below it. */
  note(msg: string): void {
    if (this.tty && this.drawn) {
      process.stderr.write(`${asciiSafe(msg)}\n`);
      this.drawn = false;
      this.draw();
    } else process.stderr.write(`${asciiSafe(msg)}\n`);
  }
}

// --- the workers ---

interface WorkerEnd {
  doc: Record<string, unknown>;
  result: FleetImage;
}

/** The scan of one image in a worker: its JSON document with `image` and `exitCode` first. */
function runWorker(image: string, o: BatchOptions, onProgress: (msg: string) => void, workers: Set<ChildProcess>): Promise<WorkerEnd> {
  return new Promise((resolve) => {
    const script = process.argv[1]!;
    const child = spawn(process.execPath, [...process.execArgv, script, 'scan', `--image=${image}`, '--json', '--batch-worker'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.add(child);
    const out: Buffer[] = [];
    let outBytes = 0;
    let tooMuch = false;
    let errTail = '';
    let lastError = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer =
      o.timeout !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM'); // it detaches its images and exits
            killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          }, o.timeout * 1000)
        : undefined;
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > MAX_WORKER_OUTPUT) {
        tooMuch = true;
        child.kill('SIGTERM');
      } else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      errTail += d.toString('utf8');
      let nl: number;
      while ((nl = errTail.indexOf('\n')) >= 0) {
        const l = errTail.slice(0, nl);
        errTail = errTail.slice(nl + 1);
        const m = /^ {2}\.\.\. (.*)$/.exec(l);
        if (m) onProgress(m[1]!);
        else if (l.startsWith('wufix: ')) lastError = l.slice('wufix: '.length);
      }
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      workers.delete(child);
      let parsed: unknown;
      try {
        parsed = tooMuch ? undefined : JSON.parse(Buffer.concat(out).toString('utf8'));
      } catch {
        parsed = undefined;
      }
      let doc: Record<string, unknown>;
      if (!timedOut && code !== null && parsed && typeof parsed === 'object' && !Array.isArray(parsed)) doc = { image, exitCode: code, ...parsed };
      else {
        const how = timedOut
          ? `took longer than --timeout ${o.timeout} s and was stopped`
          : tooMuch
            ? `printed more than ${MAX_WORKER_OUTPUT} bytes and was stopped`
            : signal
              ? `ended by ${signal}`
              : `ended with exit code ${code} and no result`;
        const exitCode = code === EXIT.INTERRUPTED || signal ? EXIT.INTERRUPTED : EXIT.INTERNAL;
        const message = `the worker scanning this image ${how}${lastError ? ` (${lastError})` : ''}`;
        doc = { image, exitCode: timedOut || tooMuch ? EXIT.INTERNAL : exitCode, error: { code: timedOut ? 'timeout' : 'internal', exitCode, message } };
      }
      const result = parseImageResult(doc);
      resolve({ doc, result: typeof result === 'string' ? { image, exitCode: EXIT.INTERNAL, findings: [], error: `unreadable result: ${result}` } : result });
    };
    child.on('error', () => finish(null, null));
    child.on('close', finish);
  });
}

function stateOf(r: FleetImage): string {
  const act = r.findings.filter((f) => f.severity !== 'info').length;
  if (r.exitCode === EXIT.FINDINGS || r.exitCode === EXIT.OK)
    return `done, exit ${r.exitCode}: ${act ? `${act} finding${act === 1 ? '' : 's'}` : 'nothing to fix'}`;
  return `done, exit ${r.exitCode}: ${r.error ?? 'failed'}`;
}

/** Runs the batch; returns its exit code (the worst image's, EXIT_ORDER). Throws InterruptedError after a stop signal. */
export async function runBatch(o: BatchOptions): Promise<number> {
  checkBatch(o);
  const board = new Board(o.images, !!o.quiet, !!o.jsonl);
  const results: (FleetImage | undefined)[] = o.images.map(() => undefined);
  const notes: (string | undefined)[] = o.images.map(() => undefined);
  const docs: (Record<string, unknown> | undefined)[] = o.images.map(() => undefined);
  const queue: number[] = [];
  for (const [i, im] of o.images.entries()) {
    const done = o.skipDone ? doneResult(o.skipDone, im) : undefined;
    if (done) {
      results[i] = done.result;
      notes[i] = '(skipped)';
      if (o.json) docs[i] = { ...done.doc, skipped: true };
      board.set(i, `skipped: done in ${resultFile(o.skipDone!, im)} (exit ${done.result.exitCode})`);
    } else queue.push(i);
  }
  board.draw();
  const workers = new Set<ChildProcess>();
  // Stop signals are recorded (main.ts does not exit at once) and passed on to every worker.
  const watch = watchInterrupts((m) => board.note(`wufix: ${m}`), 'no new image is started; every worker detaches its images and stops');
  let killTimer: NodeJS.Timeout | undefined;
  const forward = (sig: NodeJS.Signals) => {
    for (const w of workers) w.kill(sig);
    // A worker stuck in the kernel (a hung device) is killed after a minute: the batch still ends.
    killTimer ??= setTimeout(() => {
      for (const w of workers) w.kill('SIGKILL');
    }, 60_000);
    killTimer.unref();
  };
  for (const s of STOP_SIGNALS) process.on(s, forward);
  try {
    await new Promise<void>((resolve) => {
      let running = 0;
      // On Windows diskpart attaches the images, and an attached disk is found as the one new row of
      // `list disk`: one image at a time there.
      const jobs = process.platform === 'win32' ? 1 : o.jobs;
      const next = () => {
        while (running < jobs && queue.length && !watch.signal) {
          const i = queue.shift()!;
          const im = o.images[i]!;
          running++;
          board.set(i, 'scanning');
          void runWorker(im, o, (m) => board.set(i, `scanning: ${m}`), workers).then(async ({ doc, result }) => {
            try {
              if (watch.signal && result.exitCode === EXIT.INTERRUPTED) {
                board.set(i, 'stopped (interrupted): nothing kept for this image');
                return;
              }
              results[i] = result;
              if (o.outDir) await atomicWrite(resultFile(o.outDir, im), new TextEncoder().encode(JSON.stringify(doc, null, 2) + '\n'));
              if (o.jsonl) writeOut(JSON.stringify(doc) + '\n');
              if (o.json) docs[i] = doc;
              board.set(i, stateOf(result));
            } catch (e) {
              results[i] = { image: im, exitCode: EXIT.INTERNAL, findings: [], error: `result not written: ${(e as Error).message}` };
              board.set(i, `failed: ${results[i].error!}`);
            } finally {
              running--;
              if (running === 0 && (!queue.length || watch.signal)) resolve();
              else next();
            }
          });
        }
        if (running === 0) resolve();
      };
      next();
    });
    watch.check('every worker stopped and detached its images; the results written so far are kept');
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, forward);
    if (killTimer) clearTimeout(killTimer);
    watch.release();
  }
  return summarize(o, results, notes, docs);
}

/** The --json document (if asked), the summary table and the last line; the worst exit code. */
function summarize(o: BatchOptions, results: (FleetImage | undefined)[], notes: (string | undefined)[], docs: (Record<string, unknown> | undefined)[]): number {
  const rows: SummaryRow[] = [];
  for (const [i, r] of results.entries()) if (r) rows.push(summaryRow(r, notes[i]));
  const exitCode = worstExit(results.filter((r): r is FleetImage => !!r).map((r) => r.exitCode));
  if (o.json) writeOut(JSON.stringify({ schemaVersion: SCAN_SCHEMA_VERSION, tool: o.tool, exitCode, images: docs.filter((d) => !!d) }, null, 2) + '\n');
  // The table goes to stdout, unless stdout carries the JSON (then to stderr, after the progress).
  const toErr = o.json || o.jsonl;
  const width = consoleStyle({ stream: toErr ? process.stderr : process.stdout }).width;
  const table = summaryTable(rows, width) + duplicateClientLines(duplicateClientIds(results.filter((r): r is FleetImage => !!r)));
  const skipped = notes.filter(Boolean).length;
  const tail = `${o.images.length} image${o.images.length === 1 ? '' : 's'}${skipped ? ` (${skipped} skipped: done before)` : ''}; worst exit code ${exitCode}\n`;
  if (toErr) process.stderr.write(table + tail);
  else writeOut(table + tail);
  return exitCode;
}
