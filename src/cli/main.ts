// wufix command-line entry point. Commands live one per file in src/cli/; this file wires them and
// owns the single top-level error handler that maps errors to the documented exit codes.
import { Command, CommanderError, Help } from 'commander';
import { EXIT } from '../shared/errors.js';
import { asciiSafe, handleError, jsonRequested, writeJson } from './output.js';
import { addExitHelp } from './exit-help.js';
import { versionString } from './version.js';
import { changeStarted, changing, interruptedBy, STOP_SIGNALS } from '../shared/interrupt.js';
import { consoleStyle, consoleWidth, helpText, setColorOption } from '../shared/style.js';

/**
 * The commands in the order `--help` lists them, each loaded only when needed: a dynamic import()
 * becomes a lazily initialised module in the bundle, so `wufix --version` evaluates none of them and
 * `wufix disk show` only the disk command's modules.
 */
const COMMANDS: readonly { name: string; load: () => Promise<Command> }[] = [
  { name: 'scan', load: async () => (await import('./scan.js')).scanCommand() },
  { name: 'repair', load: async () => (await import('./repair.js')).repairCommand() },
  { name: 'undo', load: async () => (await import('./repair.js')).undoCommand() },
  { name: 'journal', load: async () => (await import('./journal.js')).journalCommand() },
  { name: 'hive', load: async () => (await import('./hive.js')).hiveCommand() },
  { name: 'disk', load: async () => (await import('./disk.js')).diskCommand() },
  { name: 'winre', load: async () => (await import('./winre.js')).winreCommand() },
  { name: 'packages', load: async () => (await import('./packages.js')).packagesCommand() },
  { name: 'explain', load: async () => (await import('./explain.js')).explainCommand() },
  { name: 'report', load: async () => (await import('./report.js')).reportCommand() },
];

/**
 * The commands `argv` needs: none for `--version` first (commander prints it before reading further),
 * only the named one when the command comes first, and every one otherwise (top-level help, `help`,
 * an unknown command and its suggestions), so all output is what the full program prints.
 */
export async function loadCommands(argv: readonly string[]): Promise<Command[]> {
  const first = argv[0];
  if (first === '-V' || first === '--version') return [];
  const named = COMMANDS.find((c) => c.name === first);
  return Promise.all((named ? [named] : COMMANDS).map((c) => c.load()));
}

export function buildProgram(commands: readonly Command[]): Command {
  const program = new Command();
  program
    .name('wufix')
    .description(
      // Paragraphs, each one line here: commander wraps them to the console width (80 in a pipe).
      'Offline Windows Update repair toolkit.\n\n' +
        'Diagnoses and repairs a Windows installation that is not running: from WinPE, or on Linux against a disk image or a mounted volume. ' +
        'Nothing is changed without a plan shown first.',
    )
    .version(versionString(), '-V, --version', 'print version, git commit and build date')
    .option('--no-color', 'no colour codes (NO_COLOR=1 does the same); colour is only used on a terminal')
    .exitOverride()
    // --no-color is global: commander reads it before or after the command's name.
    .hook('preAction', () => setColorOption(program.opts<{ color: boolean }>().color));
  for (const command of commands) program.addCommand(command);
  oneLineErrors(program);
  addExitHelp(program);
  program.addHelpText(
    'after',
    helpText(`
Exit codes:
  0   ok (scan: nothing to fix)
  1   usage error
  2   bad or unsupported input (one line names the file, offset and problem)
  3   refused as unsafe (one line says what, why and what to do)
  4   a write did not read back as planned (verification failed)
  10  scan: findings present
  70  internal error: a bug in wufix (stack on stderr); please report it
  130 interrupted (Ctrl-C, SIGTERM, SIGHUP): nothing written, or all rolled back`),
  );
  styleHelp(program);
  return program;
}

/**
 * Every command's help at the console width (src/shared/style.ts) and without colour codes, with
 * the global options (--no-color) listed; commands made apart and added inherit none of it.
 */
const MIN_ROOM = 24;

function styleHelp(cmd: Command): void {
  cmd.configureOutput({
    getOutHelpWidth: consoleWidth,
    getErrHelpWidth: () => consoleStyle({ stream: process.stderr }).width,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  // minWidthToWrap: descriptions beside long terms (`hive` subcommands) wrap too; with less room
  // than that (a narrow terminal), the description goes under its term rather than past the width.
  cmd.configureHelp({
    showGlobalOptions: true,
    minWidthToWrap: MIN_ROOM,
    formatItem(term: string, termWidth: number, description: string, helper: Help): string {
      const width = helper.helpWidth ?? 80;
      if (!description || width - termWidth - 4 >= MIN_ROOM) return Help.prototype.formatItem.call(helper, term, termWidth, description, helper);
      return `  ${term}\n${helper.boxWrap(description, width - 6).replace(/^/gm, '      ')}`;
    },
  });
  for (const sub of cmd.commands) styleHelp(sub);
}

/** `wufix hive get`: the command's name as typed, from the top. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Commander's own errors (unknown option or command, missing argument, a conflict) on every command
 * in the wufix form: one line, `wufix: error: ...`, with a pointer to that command's --help (its
 * suggestion, "Did you mean ...?", kept on the same line). Each command throws instead of exiting,
 * so main() maps the error to exit 1.
 */
function oneLineErrors(cmd: Command): void {
  cmd.exitOverride().showHelpAfterError(false);
  cmd.configureOutput({
    outputError: (str, write) => {
      const text = str.trim().replace(/\s*\n\s*/g, ' ');
      write(asciiSafe(`wufix: ${text.startsWith('error:') ? text : `error: ${text}`} (run ${commandPath(cmd)} --help for usage)`) + '\n');
    },
  });
  for (const sub of cmd.commands) oneLineErrors(sub);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(await loadCommands(argv));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // `wufix` (or `wufix hive`) alone prints the help on stderr with exit code 1: a usage error.
      if (err.exitCode === 0 && (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')) return EXIT.OK;
      if (jsonRequested(argv) && err.code !== 'commander.help')
        writeJson({ error: { code: 'usage', exitCode: EXIT.USAGE, message: err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ') } });
      return EXIT.USAGE;
    }
    return handleError(err);
  }
}

// `wufix hive dump ... | head` closes the pipe early: that is not an error, and the command stops.
// Once a repair or undo has started changing the target, a closed pipe (or terminal) only silences
// the output: the run finishes or rolls back, and its exit code is kept (src/shared/interrupt.ts).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED' && err.code !== 'EIO') throw err;
    if (!changeStarted()) process.exit(process.exitCode ?? EXIT.OK);
  });
}

// A stop signal while nothing is being changed (a scan, a plan, a read): stop now with exit 130.
// Runs that change the target watch the signals themselves (roll back, or finish an undo first), and
// Cleanup (src/platform/linux.ts) detaches what it attached before exiting: this one waits a tick so
// those handlers run first.
for (const sig of STOP_SIGNALS) {
  process.on(sig, () => {
    if (changing()) return;
    setImmediate(() => {
      process.stderr.write(`wufix: ${interruptedBy(sig)}; stopped before changing anything\n`);
      process.exit(EXIT.INTERRUPTED);
    });
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = handleError(err);
  },
);
