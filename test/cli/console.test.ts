// The console of issue #17 items 1 and 2, read from the built CLI as a technician sees it: colour
// only on a real terminal (util-linux `script` gives the CLI a pty; `stty cols` sets its width),
// real ESC bytes and never a literal "\u001b", none with NO_COLOR or --no-color or in a pipe; every
// command's help, `disk show` of real sgdisk/sfdisk images and the scan report of a demo-like
// Windows within 80 columns in a pipe and within the terminal's width on a TTY, wrapped at spaces
// (never inside a word: the words of the 80-column text are those of a 250-column terminal's).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { sharedReason, skipReason, toolsReason } from '../helpers/env.js';
import { testStateDir } from '../helpers/state-dir.js';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { win10Winre } from '../scan/scenarios.js';
import { diskToolsReason, mbrLogicals, server2022, tempDir, win10_22h2 } from '../helpers/disk-images.js';
import { renderText } from '../../src/scan/report/text.js';
import type { ScanReport } from '../../src/model/scan.js';

const ESC = '\x1b';
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The CLI on a pseudo-terminal `cols` wide (`script -qec`): what the terminal received, with the
 * tty's \r\n made \n. stderr goes to the same terminal.
 */
function onTty(args: string[], cols: number, env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const cmd = `stty cols ${cols} rows 50 && exec ${q(process.execPath)} ${q(CLI)} ${args.map(q).join(' ')}`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    encoding: 'utf8',
    input: '',
    timeout: 120_000, // a command waiting for input on the terminal fails the test, never hangs it
    maxBuffer: 1 << 28,
    env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: undefined, FORCE_COLOR: undefined, WUFIX_STATE_DIR: testStateDir(), ...env },
  });
  return { status: r.status, out: r.stdout.replace(/\r\n/g, '\n') };
}

/** The CLI with stdout a pipe (runCli), colour variables cleared unless given. */
const piped = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env: { NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } });

const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const lines = (s: string) => visible(s).replace(/\n$/, '').split('\n');
const over = (s: string, width: number) => lines(s).filter((l) => l.length > width);
// The scan's timestamp and a plan's run id differ from run to run.
const words = (s: string) =>
  visible(s)
    .replace(/^wufix scan - \S+$/m, 'wufix scan - (time)')
    .replace(/\b\d{8}T\d{6}Z-[0-9a-f]{6}\b/g, '(run id)')
    .split(/\s+/)
    .filter(Boolean);

/**
 * The words of `narrow` are those of `wide` (the same text unwrapped), except that a word too long
 * for a line may be cut after a path or list separator: no word is broken anywhere else.
 */
function expectSameWords(narrow: string, wide: string): void {
  const n = words(narrow);
  const w = words(wide);
  let i = 0;
  for (const word of w) {
    let got = n[i++] ?? '';
    while (got !== word && word.startsWith(got) && /[\\/._\-\],]$/.test(got) && i < n.length) got += n[i++];
    expect(got, `a word was broken: "${word}"`).toBe(word);
  }
  expect(i).toBe(n.length);
}

const COMMANDS = [
  [],
  ['scan'],
  ['repair'],
  ['undo'],
  ['journal'],
  ['journal', 'list'],
  ['hive'],
  ...['info', 'dump', 'get', 'set', 'delete', 'recover', 'export', 'import', 'new'].map((c) => ['hive', c]),
  ['disk'],
  ['disk', 'show'],
  ['explain'],
];

const ttyReason = toolsReason('script', 'stty');
const treeReason = skipReason(sharedReason(), toolsReason('python3-hivex'));

describe('renderText: escaped first, coloured after', () => {
  it("a name holding ESC sequences is shown escaped; the only ESC bytes are the report's own colours", () => {
    const evil = 'Users\\x\x1b[2J\x1b]0;pwned\x07\u202eNTUSER.DAT';
    const report = {
      scannedAt: '2026-01-01T00:00:00Z',
      targets: [
        {
          root: '/mnt/w\x1b[31min',
          system: {},
          attempts: [],
          codes: [],
          problems: [`${evil}: a FIFO, not read`],
          findings: [
            { id: 'wintrust-state', severity: 'error', subject: evil, repair: 'wintrust', explanation: `State of ${evil} is 0xC9`, evidence: [{ file: evil }] },
          ],
        },
      ],
    } as unknown as ScanReport;
    const out = renderText(report, { color: true, width: 80 });
    // Every ESC starts one of our SGR codes; the text from the target keeps none.
    expect(out.replace(/\x1b\[(0|1|31;1|33;1|36)m/g, '')).not.toContain(ESC);
    expect(out).toContain(`${ESC}[31;1m[ERROR]  ${ESC}[0m ${ESC}[1mwintrust-state${ESC}[0m`);
    expect(out).toContain('Users\\x\\u001b[2J\\u001b]0;pwned\\u0007\\u202eNTUSER.DAT');
    expect(/^[\x20-\x7e\n\x1b]*$/.test(out)).toBe(true);
    expect(renderText(report, { color: false, width: 80 })).not.toContain(ESC);
  });
});

describe.skipIf(!!skipReason(ttyReason, treeReason))('colour and width on a real terminal (script(1))', () => {
  let tmp = '';
  let root = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-console-'));
    root = path.join(tmp, 'C');
    await buildWindowsTree(root, { ...win10Winre, wintrust: { default: 0xc9, user: 0xc9 } });
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('scan on a TTY: real ESC colour codes, never a literal \\u001b; the exit code is kept', () => {
    const r = onTty(['scan', '-q', '--root', root], 100);
    expect(r.status).toBe(10);
    expect(r.out).toContain(`${ESC}[31;1m[ERROR]  ${ESC}[0m ${ESC}[1mwintrust-state${ESC}[0m`);
    expect(r.out).not.toMatch(/\\u001b|\\x1b/i);
    expect(visible(r.out)).not.toContain(ESC); // every ESC byte is a colour code
  });

  it('NO_COLOR (any value), --no-color before or after the command, TERM=dumb: no ESC at all on the TTY', () => {
    for (const [args, env] of [
      [['scan', '-q', '--root', root], { NO_COLOR: '1' }],
      [['scan', '-q', '--root', root], { NO_COLOR: 'yes' }],
      [['scan', '-q', '--root', root, '--no-color'], {}],
      [['--no-color', 'scan', '-q', '--root', root], {}],
      [['scan', '-q', '--root', root], { TERM: 'dumb' }],
    ] as const) {
      const r = onTty([...args], 100, env);
      expect(r.status, args.join(' ')).toBe(10);
      expect(r.out).toMatch(/\[ERROR\] {3}wintrust-state/);
      expect(r.out, `${args.join(' ')} ${JSON.stringify(env)}`).not.toContain(ESC);
    }
  });

  it('piped: no ESC, even with --no-color absent; FORCE_COLOR=1 colours a pipe, NO_COLOR still wins', () => {
    const r = piped(['scan', '-q', '--root', root]);
    expect(r.status).toBe(10);
    expect(r.stdout).toMatch(/\[ERROR\] {3}wintrust-state/);
    expect(r.stdout).not.toContain(ESC);
    expect(piped(['scan', '-q', '--root', root], { FORCE_COLOR: '1' }).stdout).toContain(`${ESC}[31;1m[ERROR]`);
    expect(piped(['scan', '-q', '--root', root], { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout).not.toContain(ESC);
    expect(piped(['scan', '-q', '--root', root, '--no-color'], { FORCE_COLOR: '1' }).stdout).not.toContain(ESC);
  });

  it('the width follows the terminal (stty cols 60 and 120) and is 80 in a pipe', () => {
    const at60 = onTty(['scan', '-q', '--root', root], 60).out;
    const at120 = onTty(['scan', '-q', '--root', root], 120).out;
    const pipe = piped(['scan', '-q', '--root', root]).stdout;
    const nextLine = (l: string) => l.startsWith('Next: ');
    expect(lines(at60).filter((l) => l.length > 60 && !nextLine(l))).toEqual([]);
    expect(Math.max(...lines(at60).map((l) => l.length))).toBeGreaterThan(54);
    expect(over(pipe, 80).filter((l) => !nextLine(l))).toEqual([]);
    expect(Math.max(...lines(pipe).map((l) => l.length))).toBeGreaterThan(74);
    expect(Math.max(...lines(at120).map((l) => l.length))).toBeGreaterThan(80);
    // The same report, only wrapped differently.
    expectSameWords(at60, at120);
    expectSameWords(pipe, at120);
    // Help: commander wraps to the terminal too.
    const help60 = onTty(['repair', '--help'], 60).out;
    expect(over(help60, 60)).toEqual([]);
    expect(Math.max(...lines(help60).map((l) => l.length))).toBeGreaterThan(54);
    expectSameWords(help60, piped(['repair', '--help']).stdout);
    // A terminal narrower than 40 columns gets 40.
    expect(Math.max(...lines(onTty(['--help'], 30).out).map((l) => l.length))).toBeGreaterThan(30);
    expect(over(onTty(['--help'], 30).out, 40)).toEqual([]);
  });
});

describe.skipIf(!!ttyReason)('80 columns: every --help, wrapped at spaces', () => {
  it.each(COMMANDS.map((c) => [c.join(' ') || '(top level)', c]))('%s --help', (_name, args) => {
    const r = piped([...args, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: wufix/);
    expect(over(r.stdout, 80)).toEqual([]);
    expect(r.stdout).not.toContain(ESC);
    // The global --no-color is listed for every command.
    expect(r.stdout).toMatch(/^ {2}--no-color {2,}/m);
    // No word broken: the same words as on a terminal wide enough for no wrapping at all.
    expectSameWords(r.stdout, onTty([...args, '--help'], 250).out);
  });

  it('the long paragraphs are paragraphs: repair lists its repairs one per line; the top level has no broken sentence', () => {
    const repair = piped(['repair', '--help']).stdout;
    expect(repair).toMatch(/^ {2}wintrust {2,}reset the WinTrust/m);
    expect(repair).toMatch(/^ {2}winre {2,}rebuild the WinRE recovery partition/m);
    const top = piped(['--help']).stdout;
    expect(top).toMatch(/^Offline Windows Update repair toolkit\.\n\nDiagnoses and repairs/m);
  });
});

describe.skipIf(!!diskToolsReason())('80 columns: disk show of real images', () => {
  let t: { dir: string; cleanup: () => void } | undefined;
  const images: string[] = [];
  beforeAll(() => {
    t = tempDir('wufix-console-disk-');
    // A long path on purpose: the header line does not fit on one line.
    const dir = path.join(t.dir, 'disk-images-of-laptops');
    mkdirSync(dir);
    images.push(win10_22h2(dir).file, server2022(dir).file, mbrLogicals(dir).file);
  });
  afterAll(() => t?.cleanup());

  it('GPT (Windows 10, Server 2022 with a non-ASCII name), MBR with logicals: no line over 80, nothing lost', () => {
    for (const img of images) {
      const r = piped(['disk', 'show', img]);
      expect(r.status).toBe(0);
      expect(over(r.stdout, 80)).toEqual([]);
      const json = JSON.parse(piped(['disk', 'show', '--json', img]).stdout) as { partitions: { start: number; size: number; guid?: string; name?: string }[] };
      for (const p of json.partitions) {
        expect(r.stdout).toContain(`bytes ${p.start}+${p.size}`);
        if (p.guid) expect(r.stdout).toContain(`guid ${p.guid}`);
      }
      // Wrapped, never broken: the words of a 250-column terminal (the same order of facts).
      const wide = onTty(['disk', 'show', img], 250).out;
      expect(words(r.stdout).sort()).toEqual(words(wide).sort());
    }
  });
});

describe.skipIf(!!treeReason)('80 columns: the scan report of a demo-like Windows', () => {
  let tmp = '';
  let root = '';
  const link = 'CbsPersist_20240109201400_a_long_name_so_the_problem_line_is_long.log';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-console-scan-'));
    root = path.join(tmp, 'C');
    await buildWindowsTree(root, { ...win10Winre, wintrust: { default: 0xc9, user: 0xc9 } });
    symlinkSync('/etc/passwd', path.join(root, 'Windows', 'Logs', 'CBS', link));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('prose and evidence wrap to 80; the problem line and Next: stay one line each', () => {
    const r = piped(['scan', '--root', root]);
    expect(r.status).toBe(10);
    const long = over(r.stdout, 80);
    // The documented exceptions only: a problem line (the link and its target together) and Next:.
    expect(long.length).toBeGreaterThan(0);
    for (const l of long) expect(l.startsWith('    - ') || l.startsWith('Next: ')).toBe(true);
    expect(lines(r.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^ {4}- Windows\\\\Logs\\\\CBS\\\\${link}: .*symbolic link.* to /etc/passwd;`)));
    expect(lines(r.stdout)).toContainEqual(expect.stringMatching(/^Next: wufix repair --root \S+ --only \S+$/));
    // The evidence of a registry value longer than a line is cut only after a separator.
    expect(r.stdout).toMatch(/^ {4}evidence: /m);
    if (!ttyReason) expectSameWords(r.stdout, onTty(['scan', '-q', '--root', root], 250).out);
  });

  it('the repair plan: its prose wraps to 80; only the change lines (what is written, whole) are longer', () => {
    const r = piped(['repair', '--root', root]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Dry run: nothing changed/);
    const long = over(r.stdout, 80);
    expect(long.length).toBeGreaterThan(0);
    for (const l of long) expect(l).toMatch(/^ {2}- \S.* {2}\[.*\] State REG_DWORD: 0x[0-9A-F]{8} -> 0x[0-9A-F]{8}$/);
    expect(r.stdout).toMatch(/^ {6}because: wintrust-state /m);
    // --dry-run: on a terminal, repair would ask before applying.
    // The free space of the journal's file system can change between the two runs (other work on the machine).
    const free = (s: string) => s.replace(/\(free there:[\s\S]*?bytes\)\)/g, '(free there: N)');
    if (!ttyReason) expectSameWords(free(piped(['repair', '--root', root, '--dry-run']).stdout), free(onTty(['repair', '--root', root, '--dry-run'], 250).out));
  });
});
