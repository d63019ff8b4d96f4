// While a run changes the target (apply, rollback, undo), nothing from outside may end the process
// between two steps: Ctrl-C, a closed terminal (SIGHUP) and `kill` (SIGTERM) ask for a rollback after
// the current step instead, and a closed stdout/stderr (`wufix repair ... | head`) only silences the
// output (src/cli/main.ts). Cleanup (src/platform/linux.ts) leaves its resources to the run's own
// finally blocks while one is in flight.

export const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

let inFlight = 0;
let started = false;

/** True while a run is changing the target. */
export const changing = (): boolean => inFlight > 0;

/** True once a run started changing something in this process (its outcome must reach the exit code). */
export const changeStarted = (): boolean => started;

export interface InterruptWatch {
  /** A stop signal arrived since watch() (the signal's name), else undefined. */
  readonly signal: NodeJS.Signals | undefined;
  /** Stop watching; the process is interruptible again. */
  release(): void;
}

/**
 * Mark a change in flight and record stop signals instead of dying from them. `then` is what the
 * run does about one (an apply rolls back; an undo finishes first).
 */
export function watchInterrupts(progress: (msg: string) => void, then = 'rolling back after the current step'): InterruptWatch {
  let signal: NodeJS.Signals | undefined;
  const outermost = inFlight === 0; // nested runs (an undo inside an undo) say it once
  const on = (sig: NodeJS.Signals) => {
    if (!signal && outermost) progress(`interrupted (${sig === 'SIGINT' ? 'Ctrl-C' : sig}): ${then}`);
    signal ??= sig;
  };
  for (const s of STOP_SIGNALS) process.on(s, on);
  inFlight++;
  started = true;
  let released = false;
  return {
    get signal() {
      return signal;
    },
    release() {
      if (released) return;
      released = true;
      inFlight--;
      for (const s of STOP_SIGNALS) process.off(s, on);
    },
  };
}

/** The one-line reason for a rollback caused by `sig`. */
export const interruptedBy = (sig: NodeJS.Signals): string =>
  sig === 'SIGINT' ? 'interrupted by Ctrl-C' : sig === 'SIGHUP' ? 'interrupted: the terminal was closed (SIGHUP)' : `interrupted by ${sig}`;
