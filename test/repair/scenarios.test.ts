// `wufix repair --yes` as a technician runs it, on every seed scenario: the scan afterwards shows
// none of the findings the plan fixed (only what has no repair yet, e.g. winre before #6), and
// `wufix undo --last` puts back every byte of the installation.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, type InstallSpec } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import * as S from '../scan/scenarios.js';
import type { ScanReport } from '../../src/model/scan.js';

/** The `code` of the error a command run with --json printed on stdout. */
const jsonErrorCode = (stdout: string | Buffer): string | undefined => (JSON.parse(stdout.toString()) as { error?: { code?: string } }).error?.code;

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'python3-evtx', 'openssl'));
const actionable = (root: string) => {
  const r = runCli(['scan', '--root', root, '--json']);
  return (JSON.parse(r.stdout) as ScanReport).targets[0]!.findings.filter((f) => f.severity !== 'info')
    .map((f) => f.id)
    .sort();
};

describe.skipIf(!!reason)('repair --yes on the seed scenarios, then undo', () => {
  let tmp = '';
  let cert = '';
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-repscen-'));
    cert = path.join(tmp, 'contoso.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=Contoso Third Party Updates',
        '-days',
        '365',
        '-keyout',
        path.join(tmp, 'k.pem'),
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const cases: [string, InstallSpec, string[], string[]][] = [
    // name, scenario, extra args, findings expected to remain (no repair for them yet)
    ['dotnet-wintrust', S.dotnetWintrust, [], []],
    ['win7-loop', S.win7Loop, [], []],
    ['wsus-cert', S.wsusCert, ['--cert', '<cert>'], []],
    ['services-disabled', S.servicesDisabled, [], ['winre-disabled']],
    ['win10-evtx', S.win10Evtx, [], []],
    ['server2022-winre', S.server2022Winre, [], ['winre-too-small']],
  ];
  for (const [name, spec, extra, remain] of cases) {
    it(name, async () => {
      const root = path.join(tmp, name);
      await buildWindowsTree(root, spec);
      const before = treeHashes(root);
      const found = actionable(root);
      expect(found.length).toBeGreaterThan(0);
      const r = runCli(['repair', '--root', root, '--yes', ...extra.map((a) => (a === '<cert>' ? cert : a))]);
      expect(r.status, r.stderr).toBe(0);
      expect(actionable(root)).toEqual(remain);
      if (remain.length) expect(r.stdout).toMatch(/Not fixed by this plan:/);
      const u = runCli(['undo', '--last', '--root', root]);
      if (r.stdout.includes('Nothing to change.')) expect(u.status).not.toBe(0);
      else expect(u.status, u.stderr).toBe(0);
      expect(treeDiff(before, treeHashes(root))).toEqual([]);
    });
  }
});

describe.skipIf(!!reason || process.platform === 'win32')('--use-dism off Windows', () => {
  it('is refused before anything is written (exit 3, one line), and the plan says what it would run', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-dism-'));
    try {
      const root = path.join(tmp, 'win7');
      await buildWindowsTree(root, S.win7Loop);
      const before = treeHashes(root, []);
      const dry = runCli(['repair', '--root', root, '--only', 'pending', '--use-dism']);
      expect(dry.stdout).toMatch(/run dism \/Image:<volume> \/Cleanup-Image \/RevertPendingActions/);
      const r = runCli(['repair', '--root', root, '--only', 'pending', '--use-dism', '--yes', '--json']);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/^wufix: refused: --use-dism needs Windows or WinPE with DISM/);
      expect(jsonErrorCode(r.stdout)).toBe('no-dism');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
