// Runs the built CLI like runCli, but asynchronously, sending stop signals to it (only to the wufix
// process itself, as `kill -INT <pid>` would) when its stderr first matches each pattern in turn.
// A generous time bound is a hang detector, not a speed check.
import { spawn } from 'node:child_process';
import { CLI } from './cli.js';

export interface SignalStep {
  /** Sent once stderr (all of it so far, after the previous step fired) matches this. */
  when: RegExp;
  signal: NodeJS.Signals;
}

export interface SignalRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The steps that fired, in order. */
  fired: number;
  timedOut: boolean;
}

export function runCliWithSignals(args: string[], steps: SignalStep[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<SignalRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let fired = 0;
    let from = 0; // stderr offset the next step looks from
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 300_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      while (fired < steps.length && steps[fired]!.when.test(stderr.slice(from))) {
        from = stderr.length;
        child.kill(steps[fired]!.signal);
        fired++;
      }
    });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, fired, timedOut });
    });
  });
}
