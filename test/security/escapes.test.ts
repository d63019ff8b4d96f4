// Issue #14 attack suite: names from the image reach the terminal. ESC sequences (`ESC[2J` clears
// the screen, `ESC]0;x BEL` sets the title, C1 CSI U+009B) in a profile folder name (through
// ProfileImagePath), a setup log's name, a raw 0x9b byte in a file name, and a link's target: the
// text output of scan and repair (stdout and stderr) must carry no raw 0x1b / 0x07 / 0x9b byte.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, copyFileSync, writeFileSync, symlinkSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { openHiveFile, saveHiveFile } from '../../src/hive/hivefile.js';
import {
  attackReason,
  makeDecoys,
  startHostCheck,
  runWufix,
  describeRun,
  stateEnv,
  copyTree,
  controlBytes,
  hostPath,
  ATTACK_SPEC,
  type Decoys,
  type HostCheck,
} from '../helpers/attack.js';

const reason = attackReason();
if (reason) console.warn(`skipping the escape-sequence attacks: ${reason}`);

const ESC = '\x1b[2J\x1b]0;pwned\x07\u009b1;31m';
const PROFILE_LIST = 'Microsoft\\Windows NT\\CurrentVersion\\ProfileList';
const EVE_SID = 'S-1-5-21-3623811015-3361044348-30300820-1002';
const SETUP_LINES = [
  '[0A3C:0B10][2024-01-10T03:12:40]i001: Burn v3.10.4.4718, Windows v10.0 (Build 19045: Service Pack 0)',
  'Final Result: Installation failed with error code: (0x80070643), "Fatal error during installation" (Elapsed time: 0 00:00:12).',
];

describe.skipIf(!!reason)('escape sequences in names that reach the output (issue #14)', () => {
  let tmp = '';
  let base = '';
  let decoys: Decoys;
  let host: HostCheck;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-attack-esc-'));
    base = path.join(tmp, 'base');
    await buildWindowsTree(base, ATTACK_SPEC);
    // A profile folder whose name carries the sequences, holding a real hive with a bad State (a
    // finding and a plan line name it), registered in ProfileList.
    const eve = path.join(base, 'Users', `Eve${ESC}`);
    mkdirSync(eve, { recursive: true });
    copyFileSync(path.join(base, 'Users', 'Alice', 'NTUSER.DAT'), path.join(eve, 'NTUSER.DAT'));
    const h = await openHiveFile(path.join(base, 'Windows', 'System32', 'config', 'SOFTWARE'));
    h.hive.setValue(h.hive.ensureKey(`${PROFILE_LIST}\\${EVE_SID}`), 'ProfileImagePath', 2, new Uint8Array(Buffer.from(`C:\\Users\\Eve${ESC}\0`, 'utf16le')));
    // And one whose folder is missing (a "not found" line may name it).
    h.hive.setValue(h.hive.ensureKey(`${PROFILE_LIST}\\${EVE_SID}9`), 'ProfileImagePath', 2, new Uint8Array(Buffer.from(`C:\\Users\\Gone${ESC}\0`, 'utf16le')));
    // A damaged hive in a folder whose name carries the sequences (an error line names it).
    h.hive.setValue(
      h.hive.ensureKey(`${PROFILE_LIST}\\${EVE_SID}8`),
      'ProfileImagePath',
      2,
      new Uint8Array(Buffer.from(`C:\\Users\\Mallory${ESC}\0`, 'utf16le')),
    );
    await saveHiveFile(h);
    const mallory = path.join(base, 'Users', `Mallory${ESC}`);
    mkdirSync(mallory, { recursive: true });
    writeFileSync(path.join(mallory, 'NTUSER.DAT'), readFileSync(path.join(base, 'Users', 'Alice', 'NTUSER.DAT')).subarray(0, 4096 + 512));
    // Setup logs whose names carry the sequences (UTF-8) and a raw 0x9b byte (not UTF-8).
    writeFileSync(path.join(base, 'Windows', 'Temp', `dd_dotnet${ESC}.txt`), SETUP_LINES.join('\r\n') + '\r\n');
    writeFileSync(
      Buffer.concat([Buffer.from(path.join(base, 'Windows', 'Temp', 'dd_raw')), Buffer.from([0x9b, 0x1b]), Buffer.from('[2J.txt')]),
      SETUP_LINES.join('\r\n') + '\r\n',
    );
    decoys = await makeDecoys();
    host = startHostCheck();
  }, 120_000);
  afterAll(() => {
    decoys?.cleanup();
    host?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const clean = (what: string, r: Awaited<ReturnType<typeof runWufix>>) => {
    expect.soft(r.killed, describeRun(r, `${what}: `)).toBeUndefined();
    expect.soft(controlBytes(r.stdout), `${what}: raw control bytes on stdout\n${describeRun(r)}`).toEqual([]);
    expect.soft(controlBytes(r.stderr), `${what}: raw control bytes on stderr\n${describeRun(r)}`).toEqual([]);
  };

  it('scan and a refused repair: ESC in a profile folder, setup log names and a link target', async () => {
    const root = mkdtempSync(path.join(tmp, 'case-'));
    try {
      copyTree(base, root);
      // Links whose targets carry the sequences (dangling, inside the decoy tree).
      symlinkSync(path.join(decoys.dir, `esc${ESC}`), hostPath(root, 'Users\\Alice\\NTUSER.DAT.LOG1'));
      rmSync(hostPath(root, 'Windows\\WindowsUpdate.log'));
      symlinkSync(path.join(decoys.dir, `wul${ESC}`), hostPath(root, 'Windows\\WindowsUpdate.log'));
      const env = stateEnv(tmp);
      const before = decoys.snapshot();

      const scan = await runWufix(['scan', '--root', root], { env });
      clean('scan', scan);
      expect.soft([0, 10], describeRun(scan)).toContain(scan.status);
      // The names did reach the output (escaped): the Eve hive's finding.
      expect.soft(scan.stdout.toString('utf8'), 'the scan does not mention the Eve profile at all').toMatch(/Eve/);

      const json = await runWufix(['scan', '--root', root, '--json'], { env });
      expect.soft(json.killed, describeRun(json)).toBeUndefined();
      const report = JSON.parse(json.stdout.toString('utf8')) as {
        targets: { wintrust: { sid?: string; exists: boolean }[]; logs: { file: string }[]; attempts: { evidence: { file?: string }[] }[] }[];
      };
      const t = report.targets[0]!;
      expect.soft(t.wintrust.find((w) => w.sid === EVE_SID)?.exists, 'the Eve hive was not read').toBe(true);
      expect
        .soft(
          t.logs.some((l) => l.file.includes('dd_dotnet')) && t.attempts.some((a) => a.evidence.some((e) => e.file?.includes('dd_dotnet'))),
          'the ESC-named setup log was not read',
        )
        .toBe(true);

      const rep = await runWufix(['repair', '--root', root, '--only', 'wintrust', '--yes'], { env });
      clean('repair (refused: LOG1 is a link)', rep);
      expect.soft(rep.status, describeRun(rep)).toBe(3);
      expect.soft(decoys.changes(before), 'a decoy changed').toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
      decoys.reset();
    }
  }, 240_000);

  it("a refusal naming a path with the sequences (a link at the Eve hive's LOG1) is escaped", async () => {
    const root = mkdtempSync(path.join(tmp, 'case-'));
    try {
      copyTree(base, root);
      symlinkSync(path.join(decoys.dir, `log1${ESC}`), path.join(root, 'Users', `Eve${ESC}`, 'NTUSER.DAT.LOG1'));
      const env = stateEnv(tmp);
      const rep = await runWufix(['repair', '--root', root, '--only', 'wintrust', '--yes', '--json'], { env });
      clean('repair (refused: Eve LOG1 is a link)', rep);
      expect.soft(rep.status, describeRun(rep)).toBe(3);
      // --json: the same refusal as an object with its code; the name stays escaped as on stderr (no raw ESC on stdout).
      expect
        .soft(JSON.parse(rep.stdout.toString('utf8')), describeRun(rep))
        .toMatchObject({ error: { code: 'link', exitCode: 3, message: expect.stringMatching(/Users\\Eve\\x1b\[2J/) } });
      expect.soft(rep.stderr.toString('utf8'), 'the refusal does not name the Eve profile').toMatch(/wufix: refused: .*Eve/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 240_000);

  it('a repair that proceeds prints its plan and progress without raw control bytes', async () => {
    const root = mkdtempSync(path.join(tmp, 'case-'));
    try {
      copyTree(base, root);
      const env = stateEnv(tmp);
      const dry = await runWufix(['repair', '--root', root, '--only', 'wintrust'], { env });
      clean('repair (plan only)', dry);
      expect.soft(dry.stdout.toString('utf8'), 'the plan does not name the Eve hive').toMatch(/Eve/);
      const rep = await runWufix(['repair', '--root', root, '--only', 'wintrust', '--yes'], { env });
      clean('repair --yes', rep);
      expect.soft(rep.status, describeRun(rep)).toBe(0);
      const undo = await runWufix(['undo', '--last', '--root', root], { env });
      clean('undo --last', undo);
      const list = await runWufix(['journal', 'list', '--root', root], { env });
      clean('journal list', list);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 240_000);

  it('no host file outside the targets changed (find / -xdev -newer)', () => {
    expect(host.report([tmp, decoys.dir])).toBeUndefined();
  });
});
