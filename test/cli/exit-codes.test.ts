// Exit codes tell the truth, conflicts and no-ops are said, errors are one line with a cause
// (issue #17 items 4-6): the built CLI run as a user would, as root and as an unprivileged user
// (setpriv to nobody) on real files, a real Windows tree, a real loop-able disk image, and a TTY
// driven through `script` for the confirmation prompt.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, CLI } from '../helpers/cli.js';
import { testStateDir } from '../helpers/state-dir.js';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { buildGpt, diskToolsReason, MiB, run, TYPE } from '../helpers/disk-images.js';
import { hasTool, sharedReason, skipReason, toolsReason } from '../helpers/env.js';
import { treeDiff, treeHashes } from '../helpers/tree.js';
import { dotnetWintrust } from '../scan/scenarios.js';
import { EXIT } from '../../src/shared/errors.js';
import type { ScanReport } from '../../src/model/scan.js';

const NOBODY = 65534;

/** stderr is exactly one line, starting `wufix:`; returns it. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n');
  expect(lines.at(-1), JSON.stringify(stderr)).toBe('');
  expect(lines, JSON.stringify(stderr)).toHaveLength(2);
  expect(lines[0]).toMatch(/^wufix: /);
  return lines[0]!;
}

/** The built CLI run as nobody (no capabilities, no groups). */
function runAsNobody(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, WUFIX_STATE_DIR: testStateDir(), ...env },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const isRoot = process.getuid?.() === 0;

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-exit-'));
  chmodSync(tmp, 0o755); // nobody may look inside (not write)
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('item 4: exit codes tell the truth', () => {
  it('scan --root of a folder without Windows: exit 2, one line; --json prints the empty scan with the error', () => {
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    const r = runCli(['scan', '--root', empty]);
    expect(r.status).toBe(EXIT.BAD_INPUT);
    expect(oneLine(r.stderr)).toBe(
      `wufix: error: ${empty}: no offline Windows found: no Windows\\System32\\config\\SYSTEM below this folder (not the root of a Windows volume)`,
    );
    expect(r.stdout).toBe('');
    const j = runCli(['scan', '--root', empty, '--json']);
    expect(j.status).toBe(EXIT.BAD_INPUT);
    expect(oneLine(j.stderr)).toBe(oneLine(r.stderr));
    const report = JSON.parse(j.stdout) as ScanReport;
    expect(report.targets).toEqual([]);
    expect(report.schemaVersion).toBe(2);
    expect(report.error).toMatchObject({ code: 'not-windows', exitCode: 2, file: empty });
    expect(report.error?.message).toMatch(/^no offline Windows found/);
  });

  it('scan --disk /nonexist: exit 2, "does not exist" (not an empty scan with exit 0)', () => {
    const r = runCli(['scan', '--disk', '/nonexist/disk.img']);
    expect(r.status).toBe(EXIT.BAD_INPUT);
    expect(oneLine(r.stderr)).toBe('wufix: error: /nonexist/disk.img: does not exist (--disk takes a disk image file or a device)');
  });

  it('wufix alone: the help on stderr, exit 1', () => {
    const r = runCli([]);
    expect(r.status).toBe(EXIT.USAGE);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: wufix \[options\] \[command\]/);
    expect(r.stderr).toMatch(/^Exit codes:$/m);
    // Asked for, the help is not an error.
    const h = runCli(['--help']);
    expect(h.status).toBe(EXIT.OK);
    expect(h.stdout).toBe(r.stderr);
  });

  it('exit code 70 is in the --help table and in the README table, and every code of EXIT is in both', () => {
    const help = runCli(['--help']).stdout;
    const table = help.slice(help.indexOf('Exit codes:'));
    const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('\n## ', readme.indexOf('## Exit codes') + 3));
    for (const code of Object.values(EXIT)) {
      expect(table, String(code)).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
      expect(section, String(code)).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'));
    }
    expect(table).toMatch(/^ {2}70 +internal error/m);
    expect(section).toMatch(/^\| 70 \| internal error/m);
  });

  it('journal list with no journal: exit 0, "No runs in <path>."; undo with nothing to undo: exit 2, one line', () => {
    const jr = path.join(tmp, 'no-journal');
    const l = runCli(['journal', 'list', '--journal', jr]);
    expect(l.status).toBe(EXIT.OK);
    expect(l.stdout).toBe(`No runs in ${jr}.\n`);
    expect(l.stderr).toBe('');
    expect(JSON.parse(runCli(['journal', 'list', '--journal', jr, '--json']).stdout)).toEqual([]);
    for (const args of [['--last'], []]) {
      const u = runCli(['undo', ...args, '--journal', jr]);
      expect(u.status).toBe(EXIT.BAD_INPUT);
      expect(oneLine(u.stderr)).toBe(`wufix: error: ${jr}: no runs in this journal: nothing to undo (see wufix journal list)`);
    }
  });

  it('every command (found from the help itself) lists its exit codes and an example in its --help', () => {
    const commandsIn = (help: string) => {
      const at = help.indexOf('\nCommands:\n');
      const list = help.slice(at, help.indexOf('\n\n', at + 1));
      return [...list.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    };
    const top = commandsIn(runCli(['--help']).stdout);
    expect(top).toEqual(expect.arrayContaining(['scan', 'repair', 'undo', 'journal', 'hive', 'disk', 'explain']));
    const leaves: string[][] = [];
    for (const c of top) {
      const help = runCli([c, '--help']).stdout;
      const subs = help.includes('\nCommands:') ? commandsIn(help) : [];
      if (subs.length) for (const s of subs) leaves.push([c, s]);
      else leaves.push([c]);
    }
    // scan, repair, undo, journal list, 9 hive commands, disk show, explain (and any command added since: it needs an EXIT_HELP entry)
    expect(leaves.length).toBeGreaterThanOrEqual(15);
    for (const cmd of leaves) {
      const r = runCli([...cmd, '--help']);
      expect(r.status, cmd.join(' ')).toBe(0);
      const codes = r.stdout.slice(r.stdout.indexOf('\nExit codes:\n'));
      expect(codes, cmd.join(' ')).toMatch(/^Exit codes:\n {2}0 +\S.*\n {2}1 +usage error/m);
      expect(codes, cmd.join(' ')).toMatch(/^ {2}70 +internal error/m);
      expect(r.stdout, cmd.join(' ')).toMatch(new RegExp(`^Examples:\\n {2}(sudo )?wufix ${cmd.join(' ')} `, 'm'));
    }
  });
});

describe('item 5: conflicts and no-ops are said', () => {
  const empty = () => {
    const d = path.join(tmp, 'empty5');
    mkdirSync(d, { recursive: true });
    return d;
  };
  const cases: [string, string[], RegExp][] = [
    ['--root with --image (scan)', ['scan', '--root', '/mnt/win', '--image', 'disk.img'], /^wufix: error: --root and --image both name the target: give one/],
    ['--root with --image (repair)', ['repair', '--root', '/mnt/win', '--image', 'disk.img'], /^wufix: error: --root and --image both name the target/],
    ['--root with --image (undo)', ['undo', '--last', '--root', '/mnt/win', '--image', 'disk.img'], /^wufix: error: --root and --image both name the target/],
    [
      '--only x --skip x',
      ['repair', '--root', 'ROOT', '--only', 'wintrust,services', '--skip', 'services'],
      /^wufix: error: --only and --skip both name services/,
    ],
    [
      '--only au-pause,au-resume',
      ['repair', '--root', 'ROOT', '--only', 'au-pause,au-resume'],
      /^wufix: error: --only au-pause,au-resume: au-resume undoes what au-pause does/,
    ],
    ['--only trust-cert without --cert', ['repair', '--root', 'ROOT', '--only', 'trust-cert'], /^wufix: error: --only trust-cert needs --cert <file>/],
    [
      'an unknown repair id (before the scan)',
      ['repair', '--root', 'ROOT', '--skip', 'frob'],
      /^wufix: error: unknown repair "frob" \(repairs: wintrust, .*\bau-pause\b/,
    ],
  ];
  for (const [name, args, want] of cases) {
    it(`${name}: exit 1, one line`, () => {
      const r = runCli(args.map((a) => (a === 'ROOT' ? empty() : a)));
      expect(r.status).toBe(EXIT.USAGE);
      expect(oneLine(r.stderr)).toMatch(want);
      expect(r.stdout).toBe('');
    });
  }

  describe.skipIf(!!skipReason(sharedReason(), toolsReason('python3-hivex')))('on a real Windows tree', () => {
    let pristine = '';
    beforeAll(async () => {
      pristine = path.join(tmp, 'pristine');
      await buildWindowsTree(pristine, dotnetWintrust);
    }, 120_000);
    const fresh = (name: string) => {
      const d = path.join(tmp, name);
      run('cp', ['-a', pristine, d]);
      return d;
    };

    it('--yes --dry-run: allowed, says the dry run wins, changes nothing (also with --json: said on stderr)', () => {
      const root = fresh('yesdry');
      const before = treeHashes(root, []);
      const r = runCli(['repair', '--root', root, '--yes', '--dry-run']);
      expect(r.status, r.stderr).toBe(EXIT.OK);
      expect(r.stdout).toMatch(/^wintrust: /m);
      expect(r.stdout).toMatch(/\nDry run: nothing will be changed \(--dry-run wins over --yes\)\.\n$/);
      const j = runCli(['repair', '--root', root, '--yes', '--dry-run', '--json']);
      expect(j.status).toBe(EXIT.OK);
      expect(JSON.parse(j.stdout)).toMatchObject({ applied: false });
      expect(j.stderr).toBe('Dry run: nothing will be changed (--dry-run wins over --yes).\n');
      expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
    });

    it.skipIf(!hasTool('script'))('"n" at the confirmation prompt (a real TTY through script): "Nothing changed.", exit 0, nothing written', () => {
      const root = fresh('answer-n');
      const before = treeHashes(root);
      const cmd = [process.execPath, CLI, 'repair', '--root', root].map((a) => `'${a}'`).join(' ');
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
        input: 'n\n',
        encoding: 'utf8',
        env: { ...process.env, WUFIX_STATE_DIR: testStateDir() },
      });
      const out = r.stdout.replace(/\r/g, '');
      expect(r.status, out).toBe(EXIT.OK);
      expect(out).toMatch(/Apply these changes\? \(a backup goes to the journal first\) \[y\/N\] /);
      expect(out).toMatch(/^Nothing changed\.$/m);
      expect(out).not.toMatch(/Applied \d+ change/);
      expect(treeDiff(before, treeHashes(root))).toEqual([]);
    });

    // As root, the tree is root's and nobody may only read it (not root, the tree would be the user's own).
    it.skipIf(!isRoot)('not root, and the Windows volume is root\'s: refused with "needs root: run with sudo", not "read-only"', () => {
      const root = fresh('not-root');
      chmodSync(root, 0o755);
      const state = path.join(tmp, 'nobody-state');
      const journal = path.join(tmp, 'nobody-journal');
      for (const d of [state, journal]) {
        mkdirSync(d, { recursive: true, mode: 0o700 });
        chownSync(d, NOBODY, NOBODY);
      }
      const before = treeHashes(root);
      const r = runAsNobody(['repair', '--root', root, '--yes', '--journal', journal], { WUFIX_STATE_DIR: state });
      expect(r.status, r.stderr).toBe(EXIT.REFUSED);
      const line = oneLine(r.stderr);
      expect(line).toBe(`wufix: refused: ${root}: needs root: run with sudo (this user may not write the Windows volume)`);
      expect(line).not.toMatch(/read-only/);
      expect(treeDiff(before, treeHashes(root))).toEqual([]);
    });
  });
});

describe('item 6: errors in one line with a cause', () => {
  it('disk show /nonexist and --root /nonexist: "does not exist"', () => {
    const d = runCli(['disk', 'show', '/nonexist']);
    expect(d.status).toBe(EXIT.BAD_INPUT);
    expect(oneLine(d.stderr)).toBe('wufix: error: /nonexist: does not exist (ENOENT)');
    for (const cmd of [['scan'], ['repair'], ['journal', 'list'], ['undo', '--last']]) {
      const r = runCli([...cmd, '--root', '/nonexist']);
      expect(r.status, cmd.join(' ')).toBe(EXIT.BAD_INPUT);
      expect(oneLine(r.stderr)).toBe('wufix: error: /nonexist: does not exist (--root takes the folder where the Windows volume is mounted)');
    }
  });

  it('--html in a folder that does not exist: said before the scan, one line', () => {
    const empty = path.join(tmp, 'empty6');
    mkdirSync(empty, { recursive: true });
    const html = path.join(tmp, 'no', 'such', 'dir', 'x.html');
    const r = runCli(['scan', '--root', empty, '--html', html]);
    expect(r.status).toBe(EXIT.BAD_INPUT);
    expect(oneLine(r.stderr)).toBe(`wufix: error: ${html}: the folder ${path.dirname(html)} does not exist (--html writes a file there; create it first)`);
  });

  it("commander's own errors: the wufix: prefix, one line, a pointer to the command's --help, exit 1", () => {
    const cases: [string[], string][] = [
      [['scan', '--frob'], "wufix: error: unknown option '--frob' (run wufix scan --help for usage)"],
      [['scan', '--jsno'], "wufix: error: unknown option '--jsno' (Did you mean --json?) (run wufix scan --help for usage)"],
      [['frob'], "wufix: error: unknown command 'frob' (run wufix --help for usage)"],
      [['disk', 'show'], "wufix: error: missing required argument 'image|device' (run wufix disk show --help for usage)"],
      [['hive', 'get', 'SOFTWARE'], "wufix: error: missing required argument 'keypath' (run wufix hive get --help for usage)"],
      [['repair', '--root'], "wufix: error: option '--root <dir>' argument missing (run wufix repair --help for usage)"],
    ];
    for (const [args, want] of cases) {
      const r = runCli(args);
      expect(r.status, args.join(' ')).toBe(EXIT.USAGE);
      expect(oneLine(r.stderr)).toBe(want);
    }
    // With --json, the usage error is also on stdout.
    const j = runCli(['scan', '--frob', '--json']);
    expect(JSON.parse(j.stdout)).toEqual({ error: { code: 'usage', exitCode: 1, message: "unknown option '--frob'" } });
  });

  it.skipIf(!isRoot)('EACCES on a disk image: "permission denied: run as root", one line, exit 2', () => {
    const img = path.join(tmp, 'private.img');
    writeFileSync(img, new Uint8Array(MiB));
    chmodSync(img, 0o600);
    const r = runAsNobody(['disk', 'show', img]);
    expect(r.status).toBe(EXIT.BAD_INPUT);
    expect(oneLine(r.stderr)).toBe(`wufix: error: ${img}: permission denied: run as root (sudo) (EACCES)`);
  });

  describe.skipIf(!!diskToolsReason('mkntfs'))('on a real loop-able disk image (GPT, an NTFS volume without Windows)', () => {
    let img = '';
    beforeAll(() => {
      img = path.join(tmp, 'data.img');
      buildGpt(img, 128 * MiB, [{ start: MiB, size: 100 * MiB, type: TYPE.BASIC, name: 'Data', fs: { kind: 'ntfs', label: 'Data' } }]);
      chmodSync(img, 0o644);
    }, 120_000);

    it('scan --image of a disk with no Windows: exit 2, one line, --json prints the scan with the error', () => {
      const r = runCli(['scan', '--image', img]);
      expect(r.status).toBe(EXIT.BAD_INPUT);
      expect(oneLine(r.stderr)).toBe(`wufix: error: ${img}: no offline Windows found: no partition of this image holds Windows\\System32\\config\\SYSTEM`);
      const j = runCli(['scan', '--image', img, '--json']);
      expect(j.status).toBe(EXIT.BAD_INPUT);
      expect(JSON.parse(j.stdout)).toMatchObject({ targets: [], error: { code: 'not-windows', exitCode: 2, file: img } });
    });

    it('scan --image and repair --image as nobody: "needs root: run with sudo", exit 3', () => {
      for (const cmd of ['scan', 'repair']) {
        const r = runAsNobody([cmd, '--image', img, ...(cmd === 'repair' ? ['--journal', tmp] : [])]);
        expect(r.status, r.stderr).toBe(EXIT.REFUSED);
        expect(oneLine(r.stderr)).toBe('wufix: refused: --image needs root: run with sudo (it attaches loop devices and mounts)');
      }
    });

    it('disk show of a loop device as nobody: EACCES, "permission denied: run as root"; as root it shows', () => {
      const dev = run('losetup', ['--find', '--show', '--read-only', img]).trim();
      try {
        const r = runAsNobody(['disk', 'show', dev]);
        expect(r.status).toBe(EXIT.BAD_INPUT);
        expect(oneLine(r.stderr)).toBe(`wufix: error: ${dev}: permission denied: run as root (sudo) (EACCES)`);
        const ok = runCli(['disk', 'show', dev]);
        expect(ok.status, ok.stderr).toBe(EXIT.OK);
        expect(ok.stdout).toMatch(/GPT/);
      } finally {
        run('losetup', ['--detach', dev]);
      }
    });
  });
});
