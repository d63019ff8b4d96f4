// Issue #14 attack suite: a symbolic link at every place wufix reads or writes, in a --root tree on
// the host file system, pointing at a decoy file and at a decoy folder (never at a real host file).
// scan must finish, name the link and its target, and leak nothing of the decoy; a repair that needs
// the place refuses (exit 3, one line, the tree and the decoys unchanged); one that does not may
// proceed, leaving the link in place and the decoys unchanged. At the end: nothing on the host changed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, existsSync } from 'node:fs';
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
  plantLink,
  whatIsAt,
  copyTree,
  PLACES,
  ATTACK_SPEC,
  type Decoys,
  type HostCheck,
  type Place,
} from '../helpers/attack.js';

const reason = attackReason();
if (reason) console.warn(`skipping the --root link attacks: ${reason}`);

const HANG_MS = 60_000;

describe.skipIf(!!reason)('links at every place of a --root tree (issue #14)', () => {
  let tmp = '';
  let base = '';
  let decoys: Decoys;
  let host: HostCheck;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-attack-links-'));
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

  const cases: { name: string; place: Place; to: 'file' | 'dir' }[] = PLACES.flatMap((place) =>
    (['file', 'dir'] as const).map((to) => ({ name: `${place.rel} -> decoy ${to}`, place, to })),
  );

  it.each(cases)(
    '$name',
    async ({ place, to }) => {
      const root = mkdtempSync(path.join(tmp, 'case-'));
      try {
        copyTree(base, root);
        const target = to === 'file' ? decoys.files[place.file] : decoys.dirs[place.dir];
        plantLink(root, place.rel, target);
        const env = stateEnv(tmp);
        const decoysBefore = decoys.snapshot();
        const treeBefore = fingerprint(root);
        const html = path.join(tmp, `${path.basename(root)}.html`);

        // scan, text (with --html) and --json
        const text = await runWufix(['scan', '--root', root, '--html', html], { env, timeoutMs: HANG_MS });
        expect.soft(text.killed, describeRun(text, 'scan: ')).toBeUndefined();
        expect.soft([0, 10], describeRun(text, 'scan: ')).toContain(text.status);
        const textLines = `${text.stdout.toString()}\n${text.stderr.toString()}`.split('\n');
        expect
          .soft(linesNaming(textLines, place.rel, { linkTarget: target }), `scan text: no line names ${place.rel} as a link to ${target}\n${describeRun(text)}`)
          .not.toEqual([]);
        const page = existsSync(html) ? readFileSync(html) : Buffer.alloc(0);
        expect.soft(decoys.leaked(text.stdout, text.stderr, page), 'decoy content in the scan output / --html').toEqual([]);
        if (text.killed) throw new Error(`scan hung or blew up (${text.killed}); --json scan and repair not run`);

        const json = await runWufix(['scan', '--root', root, '--json'], { env, timeoutMs: HANG_MS });
        expect.soft(json.killed, describeRun(json, 'scan --json: ')).toBeUndefined();
        expect.soft([0, 10], describeRun(json, 'scan --json: ')).toContain(json.status);
        const jp = jsonProblems(json.stdout);
        expect.soft(jp.error, describeRun(json)).toBeUndefined();
        expect
          .soft(
            linesNaming(jp.problems, place.rel, { linkTarget: target }),
            `--json problems do not name ${place.rel} as a link to ${target}: ${JSON.stringify(jp.problems)}`,
          )
          .not.toEqual([]);
        expect.soft(decoys.leaked(json.stdout, json.stderr), 'decoy content in scan --json').toEqual([]);
        expect.soft(fpDiff(treeBefore, fingerprint(root)), 'scan changed the tree').toEqual([]);
        expect.soft(decoys.changes(decoysBefore), 'scan changed a decoy').toEqual([]);

        // repair
        const linkBefore = whatIsAt(root, place.rel);
        const rep = await runWufix(['repair', '--root', root, '--only', place.repair.only, '--yes'], { env, timeoutMs: HANG_MS });
        expect.soft(rep.killed, describeRun(rep, 'repair: ')).toBeUndefined();
        const how = `repair --only ${place.repair.only} --yes: ${describeRun(rep)}`;
        if (place.repair.needs || rep.status === 3) {
          expect.soft(refusalProblems(rep, place.rel), how).toEqual([]);
          expect.soft(fpDiff(treeBefore, fingerprint(root)), `the refused repair changed the tree\n${how}`).toEqual([]);
        } else {
          expect.soft(rep.status, how).toBe(0);
        }
        expect.soft(whatIsAt(root, place.rel), 'the link is not in place, untouched').toBe(linkBefore);
        expect.soft(decoys.changes(decoysBefore), `a decoy changed\n${how}`).toEqual([]);
        expect.soft(decoys.leaked(rep.stdout, rep.stderr), 'decoy content in the repair output').toEqual([]);
      } finally {
        rmSync(root, { recursive: true, force: true });
        decoys.reset();
      }
    },
    4 * HANG_MS,
  );

  it('no host file outside the targets changed (find / -xdev -newer)', () => {
    mkdirSync(tmp, { recursive: true });
    expect(host.report([tmp, decoys.dir])).toBeUndefined();
  });
});
