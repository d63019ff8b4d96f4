// Issue #14 attack suite: device nodes and FIFOs (mknod/mkfifo as root) at each read path of a
// --root tree: a block device pointing at a decoy loop device (attached to a decoy file), char
// devices 1:5 (/dev/zero) and 1:9 (/dev/urandom), a FIFO nobody writes to. scan must finish within
// the hang bound with bounded memory and say the path is not a regular file; a repair that needs
// the file refuses (exit 3, one line, nothing changed); the decoys never change.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import {
  attackReason,
  makeDecoys,
  startHostCheck,
  runWufix,
  describeRun,
  stateEnv,
  fingerprint,
  fpDiff,
  linesNaming,
  jsonProblems,
  refusalProblems,
  plantSpecial,
  whatIsAt,
  copyTree,
  SPECIAL_PATHS,
  SPECIAL_KINDS,
  ATTACK_SPEC,
  type Decoys,
  type HostCheck,
} from '../helpers/attack.js';

const reason = attackReason();
if (reason) console.warn(`skipping the --root device/FIFO attacks: ${reason}`);

// Generous for a scan of a small tree (about 1 s); what the issue saw was "never ends".
const HANG_MS = 30_000;
const RSS_MIB = 1024;
/** Repairs that need the file at these paths. */
const NEEDS_WINTRUST = new Set(['Users\\Alice\\NTUSER.DAT', 'Users\\Alice\\NTUSER.DAT.LOG1']);

describe.skipIf(!!reason)('device nodes and FIFOs at the read paths of a --root tree (issue #14)', () => {
  let tmp = '';
  let base = '';
  let decoys: Decoys;
  let host: HostCheck;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-attack-specials-'));
    base = path.join(tmp, 'base');
    await buildWindowsTree(base, ATTACK_SPEC);
    decoys = await makeDecoys();
    host = startHostCheck();
  }, 120_000);
  afterAll(() => {
    decoys?.cleanup();
    host?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const cases = SPECIAL_PATHS.flatMap((rel) => SPECIAL_KINDS.map((kind) => ({ name: `${rel} as ${kind}`, rel, kind })));

  it.each(cases)(
    '$name',
    async ({ rel, kind }) => {
      const root = mkdtempSync(path.join(tmp, 'case-'));
      try {
        copyTree(base, root);
        plantSpecial(root, rel, kind, decoys);
        const env = stateEnv(tmp);
        const decoysBefore = decoys.snapshot();
        const treeBefore = fingerprint(root);
        const nodeBefore = whatIsAt(root, rel);
        const bound = { env, timeoutMs: HANG_MS, rssLimitMiB: RSS_MIB };

        const text = await runWufix(['scan', '--root', root], bound);
        expect.soft(text.killed, describeRun(text, 'scan: ')).toBeUndefined();
        expect.soft([0, 10], describeRun(text, 'scan: ')).toContain(text.status);
        expect
          .soft(
            linesNaming(`${text.stdout.toString()}\n${text.stderr.toString()}`.split('\n'), rel),
            `scan text: no line names ${rel} as not a regular file\n${describeRun(text)}`,
          )
          .not.toEqual([]);
        expect.soft(decoys.leaked(text.stdout, text.stderr), 'decoy disk content in the scan output').toEqual([]);
        if (text.killed) throw new Error(`scan hung or blew up (${text.killed}); --json scan and repair not run`);

        const json = await runWufix(['scan', '--root', root, '--json'], bound);
        expect.soft(json.killed, describeRun(json, 'scan --json: ')).toBeUndefined();
        const jp = jsonProblems(json.stdout);
        expect.soft(jp.error, describeRun(json)).toBeUndefined();
        expect.soft(linesNaming(jp.problems, rel), `--json problems do not name ${rel}: ${JSON.stringify(jp.problems)}`).not.toEqual([]);
        expect.soft(decoys.leaked(json.stdout, json.stderr), 'decoy disk content in scan --json').toEqual([]);
        expect.soft(fpDiff(treeBefore, fingerprint(root)), 'scan changed the tree').toEqual([]);

        const rep = await runWufix(['repair', '--root', root, '--only', 'wintrust', '--yes'], bound);
        expect.soft(rep.killed, describeRun(rep, 'repair: ')).toBeUndefined();
        const how = `repair --only wintrust --yes: ${describeRun(rep)}`;
        if (NEEDS_WINTRUST.has(rel) || rep.status === 3) {
          expect.soft(refusalProblems(rep, rel), how).toEqual([]);
          expect.soft(fpDiff(treeBefore, fingerprint(root)), `the refused repair changed the tree\n${how}`).toEqual([]);
        } else expect.soft(rep.status, how).toBe(0);
        expect.soft(whatIsAt(root, rel), 'the node is not in place, untouched').toBe(nodeBefore);
        expect.soft(decoys.changes(decoysBefore), `a decoy changed (through the block device?)\n${how}`).toEqual([]);
        expect.soft(decoys.leaked(rep.stdout, rep.stderr), 'decoy content in the repair output').toEqual([]);
      } finally {
        rmSync(root, { recursive: true, force: true });
        decoys.reset();
      }
    },
    4 * HANG_MS,
  );

  it('no host file outside the targets changed (find / -xdev -newer)', () => {
    expect(host.report([tmp, decoys.dir])).toBeUndefined();
  });
});
