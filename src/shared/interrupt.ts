// While a run checks, journals or changes the target (apply, rollback, undo), nothing from outside
// may end the process at an arbitrary point: Ctrl-C, a closed terminal (SIGHUP) and `kill` (SIGTERM)
// are recorded instead, and the run acts on them at its next safe point. Before the first change
// that means stopping at once (nothing was written: exit 130); during changes, after the current
// step, with a rollback (exit 130); an undo finishes first. Another signal while the run is still
// busy prints what it is waiting for. A closed stdout/stderr (`wufix repair ... | head`) only
// silences the output (src/cli/main.ts). Cleanup (src/platform/linux.ts) leaves its resources to the
// run's own finally blocks while a watch is active.
import { InterruptedError } from './errors.js';

export const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

let inFlight = 0;
let started = false;
/** Active watches, outermost first: the innermost one says what the run does about a signal. */
const stack: Watch[] = [];

/** True while a run is watching for stop signals (checking, journaling or changing the target). */
export const changing = (): boolean => inFlight > 0;

/** True once a run started changing something in this process (its outcome must reach the exit code). */
export const changeStarted = (): boolean => started;

export interface InterruptWatch {
  /** A stop signal arrived since watch() (or before it, inside an enclosing watch): its name, else undefined. */
  readonly signal: NodeJS.Signals | undefined;
  /**
   * What the run does now: `then` is printed on the first signal ("stopping: nothing has been
   * changed yet", "rolling back after the current step"), `doing` on a further one ("still
   * rolling back: restoring the partition table").
   */
  status(then: string, doing?: string): void;
  /** Throws InterruptedError(`<how it was interrupted>; <outcome>`) when a signal arrived. */
  check(outcome: string): void;
  /** Stop watching; the process is interruptible again. */
  release(): void;
}

interface Watch {
  then: string;
  doing?: string;
  signal?: NodeJS.Signals;
}

const signalName = (sig: NodeJS.Signals) => (sig === 'SIGINT' ? 'Ctrl-C' : sig);

/**
 * Record stop signals instead of dying from them while `fn`-like work runs; `then` is what the run
 * does about one (see InterruptWatch.status). Nested watches print once, with the innermost's words.
 */
export function watchInterrupts(progress: (msg: string) => void, then = 'rolling back after the current step'): InterruptWatch {
  const outer = stack[stack.length - 1];
  const me: Watch = { then, signal: outer?.signal };
  const outermost = stack.length === 0;
  const on = (sig: NodeJS.Signals) => {
    const first = !me.signal;
    me.signal ??= sig;
    if (!outermost) return;
    // Every active watch learns of it; the innermost says what happens now.
    for (const w of stack) w.signal ??= sig;
    const top = stack[stack.length - 1] ?? me;
    if (first) progress(`interrupted (${signalName(sig)}): ${top.then}`);
    else
      progress(
        `${signalName(sig)} again: still ${top.doing ?? top.then}; wufix stops by itself at the next safe point (killing it now could leave the disk half-changed)`,
      );
  };
  for (const s of STOP_SIGNALS) process.on(s, on);
  stack.push(me);
  inFlight++;
  started = true;
  let released = false;
  return {
    get signal() {
      return me.signal;
    },
    status(t, doing) {
      me.then = t;
      me.doing = doing;
    },
    check(outcome) {
      if (me.signal) throw new InterruptedError(`${signalWords(me.signal)}; ${outcome}`);
    },
    release() {
      if (released) return;
      released = true;
      inFlight--;
      const i = stack.lastIndexOf(me);
      if (i >= 0) stack.splice(i, 1);
      // An enclosing watch keeps a signal that arrived while this one was the innermost.
      const up = stack[stack.length - 1];
      if (up && me.signal) up.signal ??= me.signal;
      for (const s of STOP_SIGNALS) process.off(s, on);
    },
  };
}

/** How a run was stopped, for an InterruptedError ("wufix: interrupted: Ctrl-C; nothing was written"). */
export const signalWords = (sig: NodeJS.Signals): string => (sig === 'SIGINT' ? 'Ctrl-C' : sig === 'SIGHUP' ? 'the terminal was closed (SIGHUP)' : sig);

/** The one-line reason for a stop caused by `sig`. */
export const interruptedBy = (sig: NodeJS.Signals): string =>
  sig === 'SIGINT' ? 'interrupted by Ctrl-C' : sig === 'SIGHUP' ? 'interrupted: the terminal was closed (SIGHUP)' : `interrupted by ${sig}`;
