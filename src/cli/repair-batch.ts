// `wufix repair --image a.qcow2 b.vhdx 'lab/*.img' --yes`: one repair per image, one after the
// other, each in a child process of the same CLI (its own journal beside its image, its own attach
// and teardown), with the same options. A failed or refused image is reported and the others go
// on; the exit code is the worst (EXIT_ORDER). Ctrl-C/SIGTERM: the running repair gets the signal
// (it rolls back or finishes its step, as on its own), no further image is started, exit 130.
import { spawn } from 'node:child_process';
import { EXIT, UsageError } from '../shared/errors.js';
import { STOP_SIGNALS } from '../shared/interrupt.js';
import { consoleStyle } from '../shared/style.js';
import { elide, worstExit } from '../scan/report/fleet.js';
import { asciiSafe, writeOut } from './output.js';

export interface RepairBatchOptions {
  images: readonly string[];
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  journal?: string;
  overlay?: string;
  /** The command line after the program (process.argv.slice(2)): passed on without the images. */
  argv: readonly string[];
}

/** The command line with every --image value taken out (`--image a b`, `--image=a`). */
export function argvWithoutImages(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--image=')) continue;
    if (a === '--image') {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function checkRepairBatch(o: RepairBatchOptions): void {
  if (!o.yes && !o.dryRun) throw new UsageError('repair of several images asks no questions: add --yes to apply, or --dry-run to see each plan');
  if (o.journal) throw new UsageError('--journal names one journal: with several images each journal goes beside its image (leave --journal out)');
  if (o.overlay) throw new UsageError('--overlay names one new file: repair the images one at a time with --overlay');
}

interface Ended {
  image: string;
  exitCode: number;
  doc?: unknown;
}

/** One image's repair in a child: text straight through (under a header line), or its JSON collected. */
function runOne(image: string, o: RepairBatchOptions, onChild: (kill: (s: NodeJS.Signals) => void) => void): Promise<Ended> {
  return new Promise((resolve) => {
    const args = [...process.execArgv, process.argv[1]!, ...argvWithoutImages(o.argv), `--image=${image}`];
    const child = spawn(process.execPath, args, { stdio: ['ignore', o.json ? 'pipe' : 'inherit', 'inherit'] });
    onChild((s) => child.kill(s));
    const out: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.on('error', () => resolve({ image, exitCode: EXIT.INTERNAL }));
    child.on('close', (code, sig) => {
      const exitCode = code ?? (sig ? EXIT.INTERRUPTED : EXIT.INTERNAL);
      let doc: unknown;
      if (o.json) {
        try {
          doc = JSON.parse(Buffer.concat(out).toString('utf8'));
        } catch {
          doc = undefined;
        }
      }
      resolve({ image, exitCode, doc });
    });
  });
}

const WORDS: Record<number, string> = {
  0: 'repaired (or nothing to do)',
  1: 'usage error',
  2: 'bad input',
  3: 'refused, nothing written',
  4: 'verification failed, rolled back',
  70: 'internal error',
  130: 'interrupted',
};

/** Runs every image's repair; returns the worst exit code. */
export async function runRepairBatch(o: RepairBatchOptions): Promise<number> {
  checkRepairBatch(o);
  let signal: NodeJS.Signals | undefined;
  let kill: ((s: NodeJS.Signals) => void) | undefined;
  const forward = (s: NodeJS.Signals) => {
    if (!signal) process.stderr.write(`wufix: interrupted (${s}): the running repair stops as it would on its own; no further image is started\n`);
    signal ??= s;
    kill?.(s);
  };
  for (const s of STOP_SIGNALS) process.on(s, forward);
  const ended: Ended[] = [];
  try {
    for (const [i, image] of o.images.entries()) {
      if (signal) break;
      if (!o.json) writeOut(asciiSafe(`\n== [${i + 1}/${o.images.length}] ${image}\n`));
      ended.push(await runOne(image, o, (k) => (kill = k)));
      kill = undefined;
    }
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, forward);
  }
  const notRun = o.images.slice(ended.length);
  const codes = [...ended.map((e) => e.exitCode), ...(signal ? [EXIT.INTERRUPTED] : [])];
  const exitCode = worstExit(codes);
  if (o.json) {
    writeOut(
      JSON.stringify(
        { exitCode, images: ended.map((e) => ({ image: e.image, exitCode: e.exitCode, ...(e.doc !== undefined ? { result: e.doc } : {}) })), notRun },
        null,
        2,
      ) + '\n',
    );
    return exitCode;
  }
  const width = consoleStyle({ stream: process.stdout }).width;
  const w = Math.max(10, Math.min(width - 40, Math.max(...o.images.map((s) => s.length))));
  const lines = ['', `${'IMAGE'.padEnd(w)}  EXIT  RESULT`];
  for (const e of ended) lines.push(`${elide(e.image, w, true).padEnd(w)}  ${String(e.exitCode).padStart(4)}  ${WORDS[e.exitCode] ?? 'findings remain'}`);
  for (const im of notRun) lines.push(`${elide(im, w, true).padEnd(w)}     -  not started (interrupted)`);
  lines.push(`${o.images.length} image(s); worst exit code ${exitCode}`);
  writeOut(asciiSafe(lines.join('\n') + '\n'));
  return exitCode;
}
