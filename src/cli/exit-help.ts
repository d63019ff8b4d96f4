// The "Exit codes:" (and, where the command has none of its own, "Examples:") block at the end of
// every command's --help. One table, so the codes each command can give are listed in one place and
// agree with README "Exit codes" and EXIT in src/shared/errors.ts.
import type { Command } from 'commander';
import { EXIT } from '../shared/errors.js';
import { consoleWidth, hang } from '../shared/style.js';

type Codes = readonly (readonly [number, string])[];

const USAGE = [EXIT.USAGE, 'usage error (unknown or conflicting options, missing argument)'] as const;
const INTERNAL = [EXIT.INTERNAL, 'internal error: a bug in wufix (stack on stderr); please report it'] as const;
const INTERRUPTED = [EXIT.INTERRUPTED, 'interrupted (Ctrl-C, SIGTERM, SIGHUP)'] as const;

const HIVE_READ: Codes = [
  [EXIT.OK, 'ok'],
  USAGE,
  [EXIT.BAD_INPUT, 'bad input: no such file, not a hive, or no such key/value'],
  [EXIT.REFUSED, 'refused (a link or special file in place of the hive)'],
  INTERNAL,
];
const HIVE_WRITE: Codes = [
  [EXIT.OK, 'written (atomically: the old file stays until the new one is complete)'],
  USAGE,
  [EXIT.BAD_INPUT, 'bad input: no such file, not a hive, or no such key/value'],
  [EXIT.REFUSED, 'refused, nothing written (dirty hive without usable logs, a link)'],
  INTERRUPTED,
  INTERNAL,
];

/** Per command (as typed after `wufix`): its exit codes, and examples for the commands whose help has none. */
export const EXIT_HELP: Readonly<Record<string, { codes: Codes; examples?: readonly string[] }>> = {
  scan: {
    codes: [
      [EXIT.OK, 'nothing to fix'],
      USAGE,
      [EXIT.BAD_INPUT, 'bad input: no offline Windows found, or a path that does not exist'],
      [EXIT.REFUSED, 'refused (--image without root, a locked BitLocker volume)'],
      [EXIT.FINDINGS, 'findings present: see the report (a batch: the worst of its images, 130 > 70 > 3 > 2 > 10 > 0)'],
      INTERRUPTED,
      INTERNAL,
    ],
  },
  repair: {
    codes: [
      [EXIT.OK, 'applied and verified; or nothing changed (nothing to do, dry run, "n")'],
      USAGE,
      [EXIT.BAD_INPUT, 'bad input: no offline Windows, a path that does not exist, a bad --cert'],
      [EXIT.REFUSED, 'refused as unsafe: nothing changed (the line says why and what to do)'],
      [EXIT.VERIFY_FAILED, 'a write did not read back as planned: the journal has what to undo'],
      [EXIT.INTERRUPTED, 'interrupted: nothing written, or everything rolled back'],
      INTERNAL,
    ],
  },
  packages: {
    codes: [
      [EXIT.OK, 'listed'],
      USAGE,
      [EXIT.BAD_INPUT, 'bad input: no offline Windows there, a path that does not exist, a damaged SOFTWARE hive'],
      [EXIT.REFUSED, 'refused (--image without root, a link in place of the hive)'],
      INTERRUPTED,
      INTERNAL,
    ],
  },
  undo: {
    codes: [
      [EXIT.OK, 'every byte the run changed is restored'],
      USAGE,
      [EXIT.BAD_INPUT, 'bad input: no runs in the journal, no journal for that run id'],
      [EXIT.REFUSED, 'refused: not authenticated, already undone, or changed since the run'],
      [EXIT.VERIFY_FAILED, 'a restored file did not read back as the backup'],
      [EXIT.INTERRUPTED, 'interrupted: the undo finishes what it started first'],
      INTERNAL,
    ],
    examples: [
      'wufix undo --last --root D:\\                   # WinPE: the newest run on D:',
      'wufix undo 20261203T064721Z-1a2b3c --root /mnt/win',
      'sudo wufix undo --last --image disk.img',
    ],
  },
  'journal list': {
    codes: [
      [EXIT.OK, 'listed (also "No runs in <dir>." when there are none)'],
      USAGE,
      [EXIT.BAD_INPUT, 'bad input: the --root, --image or --journal path does not exist'],
      [EXIT.REFUSED, 'refused: the journal folder is a link'],
      INTERNAL,
    ],
    examples: ['wufix journal list --root D:\\', 'sudo wufix journal list --image disk.img', 'wufix journal list --journal /media/usb/wufix-journal --json'],
  },
  'journal prune': {
    codes: [
      [EXIT.OK, 'removed (--yes), or only shown (a dry run; "n" at the prompt)'],
      USAGE,
      [EXIT.BAD_INPUT, 'bad input: the --root, --image or --journal path does not exist'],
      [EXIT.REFUSED, 'refused: the journal folder is a link (journal-link)'],
      INTERRUPTED,
      INTERNAL,
    ],
    examples: ['wufix journal prune --root D:\\            # what would be removed', 'wufix journal prune --root D:\\ --yes'],
  },
  'hive info': { codes: HIVE_READ, examples: ['wufix hive info SOFTWARE', 'wufix hive info NTUSER.DAT --json'] },
  'hive dump': { codes: HIVE_READ, examples: ['wufix hive dump SYSTEM --key Select', 'wufix hive dump SOFTWARE --json | head'] },
  'hive get': {
    codes: HIVE_READ,
    examples: ['wufix hive get SOFTWARE "Microsoft\\Windows NT\\CurrentVersion" CurrentBuild', 'wufix hive get SYSTEM Select --json'],
  },
  'hive set': {
    codes: HIVE_WRITE,
    examples: ['wufix hive set SYSTEM Setup SystemSetupInProgress --type REG_DWORD --data 0'],
  },
  'hive delete': {
    codes: HIVE_WRITE,
    examples: [
      'wufix hive delete SOFTWARE "Policies\\Microsoft\\Windows\\WindowsUpdate" WUServer',
      'wufix hive delete SOFTWARE "Policies\\Microsoft\\Windows\\WindowsUpdate"',
    ],
  },
  'hive recover': { codes: HIVE_WRITE, examples: ['wufix hive recover SYSTEM            # replay SYSTEM.LOG1/.LOG2 into the file'] },
  'hive export': { codes: HIVE_READ, examples: ['wufix hive export SOFTWARE "Policies\\Microsoft\\Windows" -o wu.reg'] },
  'hive import': { codes: HIVE_WRITE, examples: ['wufix hive import SOFTWARE wu.reg'] },
  'hive new': { codes: HIVE_WRITE, examples: ['wufix hive new test.hiv --root-name ROOT'] },
  'disk show': {
    codes: [[EXIT.OK, 'shown'], USAGE, [EXIT.BAD_INPUT, 'bad input: does not exist, permission denied, or not a GPT/MBR disk'], INTERNAL],
    examples: ['wufix disk show disk.img', 'sudo wufix disk show /dev/sda --json', 'wufix disk show \\\\.\\PhysicalDrive0     # WinPE, as Administrator'],
  },
  'disk list': {
    codes: [
      [EXIT.OK, 'listed (a host disk that cannot be read is listed with why)'],
      USAGE,
      [EXIT.BAD_INPUT, 'a disk named on the command line could not be read'],
      INTERNAL,
    ],
    examples: ['wufix disk list disk1.img disk2.img --json', 'sudo wufix disk list', 'wufix disk list     # WinPE, as Administrator'],
  },
  'winre info': {
    codes: [
      [EXIT.OK, 'shown (changes nothing)'],
      USAGE,
      [EXIT.BAD_INPUT, 'bad input: no offline Windows found, or a path that does not exist'],
      [EXIT.REFUSED, 'refused (--image without root, a locked BitLocker volume)'],
      INTERRUPTED,
      INTERNAL,
    ],
  },
  explain: {
    codes: [[EXIT.OK, 'explained'], USAGE, [EXIT.BAD_INPUT, 'not a Windows error code'], INTERNAL],
  },
  'report merge': {
    codes: [
      [EXIT.OK, 'merged (result files that cannot be used are listed on stderr, not fatal)'],
      USAGE,
      [EXIT.BAD_INPUT, 'bad input: a path that does not exist, or no usable result at all'],
      [EXIT.REFUSED, 'refused: the --csv or --html file is a link'],
      INTERNAL,
    ],
    examples: ['wufix report merge results/ --csv fleet.csv --html fleet.html', 'wufix report merge node1.jsonl node2.jsonl --json'],
  },
};

function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function block(entry: (typeof EXIT_HELP)[string]): string {
  const codes = [...entry.codes]
    .sort((a, b) => a[0] - b[0])
    .flatMap(([c, what]) => hang(`  ${String(c).padEnd(3)} ${what}`, consoleWidth(), 6))
    .join('\n');
  const examples = entry.examples?.length ? `\n\nExamples:\n${entry.examples.map((e) => `  ${e}`).join('\n')}` : '';
  return `\nExit codes:\n${codes}${examples}`;
}

/** Every command below `program` that has an entry in EXIT_HELP gets its block after its own help. */
export function addExitHelp(program: Command): void {
  const visit = (cmd: Command) => {
    const entry = EXIT_HELP[fullName(cmd)];
    if (entry) cmd.addHelpText('after', block(entry));
    for (const sub of cmd.commands) visit(sub);
  };
  for (const sub of program.commands) visit(sub);
}
