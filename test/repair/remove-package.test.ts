// remove-package --package <name|KB> and `wufix packages` (issue #19, item 5) on a Windows 10 22H2
// tree whose SOFTWARE hive lists CBS packages as a machine after KB5034441 failed does (the
// January 2024 cumulative update installed over December's, KB5034441 partially installed, the
// servicing stack, a Permanent package, the foundation package): the listing decodes their states;
// on Linux the plan names DISM /Remove-Package and applying is refused in one line with what to run
// from WinPE; what wufix never removes is refused (servicing stack, Permanent, the only cumulative
// update); in Windows/WinPE, through a stand-in for DISM, the command line is the golden one and the
// journal and undo say it is not undoable.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { WIN10_22H2 } from '../scan/scenarios.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan } from '../../src/engine/plan.js';
import { applyPlan, type ApplyHost } from '../../src/engine/apply.js';
import { undoRun } from '../../src/engine/undo.js';
import { newRunId } from '../../src/engine/journal.js';
import { REPAIRS } from '../../src/cli/wiring.js';
import { commandLine, dismRemovePackageArgs } from '../../src/platform/windows.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'platform', 'golden', 'remove-package.cmd.txt');

const LCU_JAN = 'Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3930.1.9';
const LCU_DEC = 'Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3803.1.5';
const KB41 = 'Package_for_KB5034441~31bf3856ad364e35~amd64~~19041.3920.1.2';
const PACKAGES: Record<string, number> = {
  [LCU_JAN]: 0x70,
  [LCU_DEC]: 0x50,
  [KB41]: 0x65,
  'Package_1_for_KB5034441~31bf3856ad364e35~amd64~~10.0.1.2': 0x65,
  'Package_for_ServicingStack_3920~31bf3856ad364e35~amd64~~19041.3920.1.2': 0x70,
  'Package_for_KB5011048~31bf3856ad364e35~amd64~~10.0.9.6': 0x80,
  'Microsoft-Windows-Foundation-Package~31bf3856ad364e35~amd64~~10.0.19041.1': 0x70,
};

function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, d.name);
    if (d.isDirectory()) Object.assign(out, tree(dir, r));
    else
      out[r] = createHash('sha256')
        .update(readFileSync(path.join(dir, r)))
        .digest('hex');
  }
  return out;
}

describe.skipIf(!!reason)(`remove-package and wufix packages${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  let root = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-rmpkg-'));
    root = path.join(tmp, 'w10');
    await buildWindowsTree(root, { ...WIN10_22H2, ubr: 3930, packages: PACKAGES });
  }, 120_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('wufix packages: the update packages with their states (the foundation package only with --all), JSON too', () => {
    const r = runCli(['packages', '--root', root]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Partially Installed +KB5034441 +${KB41.replace(/[.~]/g, '\\$&')}`));
    expect(r.stdout).toMatch(/Superseded {10}\s+Package_for_RollupFix~31bf3856ad364e35~amd64~~19041\.3803\.1\.5/);
    expect(r.stdout).toMatch(/Permanent +KB5011048 /);
    expect(r.stdout).not.toMatch(/Foundation-Package/);
    expect(r.stdout).toMatch(/6 of 7 package\(s\) \(updates; --all for every package\)/);
    expect(runCli(['packages', '--root', root, '--all']).stdout).toMatch(/Foundation-Package/);
    const j = JSON.parse(runCli(['packages', '--root', root, '--json']).stdout) as {
      packages: { name: string; stateName: string; kb?: string }[];
      total: number;
    };
    expect(j.total).toBe(7);
    expect(j.packages.find((p) => p.name === KB41)).toMatchObject({ stateName: 'Partially Installed', kb: 'KB5034441' });
  });

  it('Linux: the plan names DISM /Remove-Package of the KB top-level package; applying refused in one line; protected packages and unknown ones refused; nothing written', () => {
    const before = tree(root);
    const dry = runCli(['repair', '--root', root, '--only', 'remove-package', '--package', 'KB5034441']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`/Remove-Package /PackageName:${KB41} (now Partially Installed;`);
    // Stuck mid-servicing: the offline route without DISM is named (Microsoft documents no registry-only removal).
    expect(dry.stdout.replace(/\s+/g, ' ')).toMatch(
      /stuck in Partially Installed: without DISM \(Linux\), wufix repair --only pending clears the pending servicing/,
    );
    const r = runCli(['repair', '--root', root, '--only', 'remove-package', '--package', 'KB5034441', '--yes']);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`boot WinPE and run wufix repair --root <W:> --only remove-package --package ${KB41}`);
    const refused = (pkg: string) => {
      const x = runCli(['repair', '--root', root, '--only', 'remove-package', '--package', pkg, '--json']);
      expect(x.status, pkg).toBe(3);
      return (JSON.parse(x.stdout) as { error: { code: string; message: string } }).error;
    };
    expect(refused('Package_for_ServicingStack_3920~31bf3856ad364e35~amd64~~19041.3920.1.2')).toMatchObject({
      code: 'package-protected',
      message: expect.stringMatching(/servicing stack/),
    });
    expect(refused('KB5011048')).toMatchObject({ code: 'package-protected', message: expect.stringMatching(/is Permanent: DISM cannot remove it/) });
    expect(refused(LCU_DEC)).toMatchObject({ code: 'package-not-found', message: expect.stringMatching(/is Superseded: nothing installed to remove/) });
    expect(refused('KB5099999')).toMatchObject({ code: 'package-not-found', message: expect.stringMatching(/no CBS package for KB5099999/) });
    // The January cumulative update may go (December's is there to fall back to).
    expect(runCli(['repair', '--root', root, '--only', 'remove-package', '--package', LCU_JAN]).stdout).toContain(`/PackageName:${LCU_JAN}`);
    expect(runCli(['repair', '--root', root, '--package', 'KB5034441']).status).toBe(1);
    expect(runCli(['repair', '--root', root, '--only', 'remove-package']).status).toBe(1);
    expect(tree(root)).toEqual(before);
  });

  it('the only cumulative update is never removed', async () => {
    const one = path.join(tmp, 'one-lcu');
    await buildWindowsTree(one, { ...WIN10_22H2, ubr: 3930, packages: { [LCU_JAN]: 0x70 } });
    const x = runCli(['repair', '--root', one, '--only', 'remove-package', '--package', LCU_JAN, '--json']);
    expect(x.status).toBe(3);
    expect((JSON.parse(x.stdout) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'package-protected',
      message: expect.stringMatching(/only cumulative update in the store/),
    });
  });

  it('Windows/WinPE through a stand-in for DISM: the golden command line, the journal and undo say it is not undoable', async () => {
    const scan = await scanTarget({ root });
    const plan = await buildPlan(scan, REPAIRS, { only: ['remove-package'] }, { runId: newRunId(), removePackage: 'KB5034441' }, { tool: 'test' });
    expect(plan.steps.map((s) => s.change)).toEqual([{ kind: 'dism-remove-package', package: KB41, state: 'Partially Installed' }]);
    expect(commandLine('C:\\Windows\\System32\\Dism.exe', dismRemovePackageArgs('W:', KB41)) + '\n').toBe(readFileSync(GOLDEN, 'utf8'));
    const ran: string[] = [];
    const host: ApplyHost = {
      revertPendingActions: () => Promise.reject(new Error('not in this plan')),
      removePackage(r, name) {
        const cmd = commandLine('Dism.exe', dismRemovePackageArgs(r, name));
        ran.push(cmd);
        return Promise.resolve({
          commandLine: cmd,
          exitCode: 0,
          ok: true,
          output: 'Removing package ' + name + '\n[==========================100.0%==========================]\nThe operation completed successfully.\n',
        });
      },
    };
    const journalRoot = path.join(tmp, 'journal');
    await applyPlan(plan, { journalRoot, host });
    expect(ran).toEqual([`Dism.exe /English /Image:${root.replace(/\//g, '\\')} /Remove-Package /PackageName:${KB41}`]);
    expect(readFileSync(path.join(journalRoot, plan.runId, 'log.txt'), 'utf8')).toMatch(
      /not undoable byte for byte: DISM \/Remove-Package .* install that update again/,
    );
    const u = await undoRun(journalRoot, plan.runId, { root });
    expect(u.notUndone).toEqual([`DISM /Remove-Package ${KB41}`]);
  });
});
