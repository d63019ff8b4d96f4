// `wufix scan` on realistic offline installations (test/helpers/winbuilder.ts): one scenario per
// seed failure of issue #4, each asserting the exact findings and their evidence, and a healthy
// system with none. Expected values come from what the builder wrote (and, for the real
// System.evtx, from python3-evtx), never from wufix's own output.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, type InstallSpec } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason, fixture, PROJECT_ROOT } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import * as S from './scenarios.js';
import type { ScanReport, ScanResult, Finding } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
let tmp = '';
const roots: Record<string, string> = {};

async function build(name: string, spec: InstallSpec): Promise<string> {
  const d = path.join(tmp, name);
  await buildWindowsTree(d, spec);
  roots[name] = d;
  return d;
}

function scanJson(root: string, extra: string[] = []): { status: number | null; report: ScanReport; target: ScanResult } {
  const r = runCli(['scan', '--root', root, '--json', ...extra]);
  if (r.status !== 0 && r.status !== 10) throw new Error(`scan failed (${r.status}): ${r.stderr}`);
  const report = JSON.parse(r.stdout) as ScanReport;
  return { status: r.status, report, target: report.targets[0]! };
}

const ids = (fs: Finding[]) => fs.map((f) => `${f.id}${f.subject ? `:${f.subject}` : ''}`).sort();
const find = (t: ScanResult, id: string, subject?: string) => t.findings.find((f) => f.id === id && (subject === undefined || f.subject === subject))!;
/** 1-based line of the n-th entry in a builder-written ReportingEvents.log / WindowsUpdate.log. */
const reLine = (i: number) => i + 1;
const wuLine = (i: number) => i + 2; // WindowsUpdate.log starts with one agent line

describe.skipIf(!!reason)('wufix scan explains each seed failure', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-scan-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('Server 2022 KB5034439 0x80070643 (no disk given): winre-too-small from the logs', async () => {
    const root = await build('server2022', S.server2022Winre);
    const { status, target } = scanJson(root);
    expect(status).toBe(10);
    expect(ids(target.findings)).toEqual(['winre-too-small']);
    const f = find(target, 'winre-too-small');
    expect(f.repair).toBe('winre');
    expect(f.errorCodes).toEqual(['0x80070643']);
    expect(f.evidence).toContainEqual(expect.objectContaining({ file: 'Windows\\SoftwareDistribution\\ReportingEvents.log', line: reLine(1) }));
    // CBS.log: the builder writes one header line, then a four-line session per entry; the session's
    // result is its "finalized ... [HRESULT = ...]" line (the 4th).
    expect(f.evidence).toContainEqual(expect.objectContaining({ file: 'Windows\\Logs\\CBS\\CBS.log', line: 5 }));
    expect(target.system).toMatchObject({ productName: 'Windows Server 2022 Standard', installationType: 'Server', currentBuild: 20348, ubr: 2159 });
    expect(target.attempts.filter((a) => a.kind === 'install' && a.result === 'succeeded').map((a) => a.kb)).toEqual(['KB5034129']);
  });

  it('Windows 10 22H2 KB5034441 failing twice: winre-too-small with both attempts', async () => {
    const root = await build('win10', S.win10Winre);
    const { target } = scanJson(root);
    expect(ids(target.findings)).toEqual(['winre-too-small']);
    const lines = find(target, 'winre-too-small')
      .evidence.filter((e) => e.file?.endsWith('ReportingEvents.log'))
      .map((e) => e.line);
    expect(lines).toEqual([reLine(0), reLine(1)]);
  });

  it('.NET 4 KB2656368 with State 0xC9 and 0x800B010B: wintrust-state in exactly the changed hives', async () => {
    const root = await build('dotnet', S.dotnetWintrust);
    const { target } = scanJson(root);
    expect(ids(target.findings)).toEqual(['wintrust-state:Users\\Alice\\NTUSER.DAT', 'wintrust-state:Windows\\System32\\config\\DEFAULT']);
    const f = find(target, 'wintrust-state', 'Windows\\System32\\config\\DEFAULT');
    expect(f.evidence[0]).toMatchObject({ value: 'State', data: expect.stringMatching(/^0xC9 \(setreg options on: 1, 2, 3, 9;/) });
    const setup = S.dotnetWintrust.setupLog!;
    const trustLines = setup.lines.map((l, i) => (/0x800b010b/i.test(l) ? i + 1 : 0)).filter(Boolean);
    const setupFile = `Windows\\Temp\\${setup.name}`;
    for (const line of trustLines) expect(f.evidence).toContainEqual(expect.objectContaining({ file: setupFile, line }));
    expect(f.evidence).toContainEqual(
      expect.objectContaining({ file: 'Windows\\WindowsUpdate.log', line: wuLine(0), data: expect.stringContaining('0x80070643') }),
    );
    // Every other hive keeps the real Windows default and is reported as such.
    const states = Object.fromEntries(target.wintrust.map((w) => [w.hive, w.state]));
    expect(states['Windows\\System32\\config\\DEFAULT']).toBe(0xc9);
    expect(states['Users\\Alice\\NTUSER.DAT']).toBe(0xc9);
    expect(states['Windows\\ServiceProfiles\\LocalService\\NTUSER.DAT']).toBe(0x23c00);
    expect(states['Windows\\ServiceProfiles\\NetworkService\\NTUSER.DAT']).toBe(0x23c00);
    expect(states['Windows\\System32\\config\\systemprofile\\NTUSER.DAT']).toBe(0x23c00);
  });

  it('Windows 7 KB4056894 rollback loop 0x80073AA2: reboot-loop and pending-servicing', async () => {
    const root = await build('win7', S.win7Loop);
    const { target } = scanJson(root);
    expect(ids(target.findings)).toEqual(['pending-servicing', 'reboot-loop:KB4056894']);
    const loop = find(target, 'reboot-loop');
    expect(loop.errorCodes).toEqual(['0x80073aa2']);
    expect(loop.evidence.map((e) => [e.file, e.line])).toEqual(S.win7Loop.windowsUpdateLog!.map((_, i) => ['Windows\\WindowsUpdate.log', wuLine(i)]));
    const p = find(target, 'pending-servicing');
    expect(p.severity).toBe('error');
    const keys = p.evidence.map((e) => e.key ?? e.value ?? e.file);
    expect(keys).toEqual(
      expect.arrayContaining([
        'Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending',
        'Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending',
        'Windows\\WinSxS\\pending.xml',
        'PendingXmlIdentifier',
        'NextQueueEntryIndex',
        'AdvancedInstallersNeedResolving',
      ]),
    );
  });

  it('WSUS third-party update 0x800B0109: wsus-cert-untrusted', async () => {
    const root = await build('wsus', S.wsusCert);
    const { target } = scanJson(root);
    expect(ids(target.findings)).toEqual(['wsus-cert-untrusted']);
    const f = find(target, 'wsus-cert-untrusted');
    expect(f.repair).toBe('trust-cert');
    expect(f.evidence).toContainEqual(expect.objectContaining({ file: 'Windows\\SoftwareDistribution\\ReportingEvents.log', line: reLine(0) }));
    expect(f.evidence).toContainEqual(expect.objectContaining({ value: 'AcceptTrustedPublisherCerts', data: 'not set' }));
    expect(f.evidence).toContainEqual(expect.objectContaining({ value: 'WUServer', data: S.wsusCert.policy!.wuServer }));
  });

  it.skipIf(!!toolsReason('python3-evtx'))(
    'the real System.evtx: repeated failures become reboot-loop, datastore errors wu-cache (checked with python3-evtx)',
    async () => {
      const root = await build('evtx', S.win10Evtx);
      const { target } = scanJson(root);
      // Independent reading of the same file.
      const out = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'test/helpers/evtx_dump.py'), fixture('evtx', 'system.evtx')], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      const failures = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { provider?: string; eventId?: number; data?: Record<string, string> })
        .filter((e) => e.provider === 'Microsoft-Windows-WindowsUpdateClient' && e.eventId === 20);
      expect(failures.length).toBeGreaterThan(0);
      const perKb = new Map<string, number>();
      for (const e of failures) {
        const kb = /KB\d+/i.exec(e.data?.updateTitle ?? '')?.[0]?.toUpperCase();
        if (kb) perKb.set(kb, (perKb.get(kb) ?? 0) + 1);
      }
      const loopKbs = [...perKb].filter(([, n]) => n >= 3).map(([kb]) => kb);
      // Each event-20 failure is an attempt (or part of one) quoting its EventRecordID.
      const failed = target.attempts.filter((a) => a.result === 'failed' && a.sources.includes('System.evtx'));
      expect(failed.flatMap((a) => a.evidence.filter((e) => /\bevent 20\b/.test(e.note ?? ''))).length).toBe(failures.length);
      const expected = [...loopKbs.map((kb) => `reboot-loop:${kb}`), 'qualitycompat-missing', 'wu-cache'].sort();
      expect(ids(target.findings)).toEqual(expected);
      expect(find(target, 'wu-cache').errorCodes).toContain('0x80248007');
    },
  );

  it('disabled services and disabled WinRE', async () => {
    const root = await build('services', S.servicesDisabled);
    const { target } = scanJson(root);
    expect(ids(target.findings)).toEqual(['winre-disabled', 'wu-service-disabled:UsoSvc', 'wu-service-disabled:bits', 'wu-service-disabled:wuauserv']);
    const wu = find(target, 'wu-service-disabled', 'wuauserv');
    expect(wu.errorCodes).toEqual(['0x80070422']);
    expect(wu.evidence[0]).toMatchObject({ key: 'ControlSet001\\Services\\wuauserv', value: 'Start', data: '4 (Disabled)' });
    const w = find(target, 'winre-disabled');
    expect(w.evidence).toContainEqual(expect.objectContaining({ file: 'Windows\\System32\\Recovery\\ReAgent.xml', data: 'InstallState state="0"' }));
    expect(w.evidence).toContainEqual(expect.objectContaining({ file: 'Windows\\System32\\Recovery\\Winre.wim' }));
  });

  it('a stale WSUS policy and paused automatic updates', async () => {
    const root = await build('stale', S.staleWsus);
    const { target } = scanJson(root);
    expect(ids(target.findings)).toEqual(['au-paused', 'stale-wsus-policy']);
    expect(find(target, 'stale-wsus-policy').errorCodes).toEqual(['0x8024402c']);
    expect(find(target, 'au-paused').severity).toBe('info');
  });

  it('a healthy system has no findings: exit 0, text says so, ASCII only', async () => {
    const root = await build('healthy', S.healthy);
    const { status, target } = scanJson(root);
    expect(status).toBe(0);
    expect(target.findings).toEqual([]);
    expect(target.problems).toEqual([]);
    const text = runCli(['scan', '--root', root]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/No problems found that wufix repairs\./);
    expect(/^[\x20-\x7e\n]*$/.test(text.stdout)).toBe(true);
  });

  it('text and HTML reports: readable, self-contained, ASCII-safe', async () => {
    const root = roots.dotnet ?? (await build('dotnet2', S.dotnetWintrust));
    const html = path.join(tmp, 'report.html');
    const r = runCli(['scan', '--root', root, '--html', html, '--no-color']);
    expect(r.status).toBe(10);
    expect(r.stdout).toMatch(/\[ERROR\] {3}wintrust-state \(Windows\\System32\\config\\DEFAULT\) {3}repair: wintrust/);
    // 80 columns: long evidence (a registry path) wraps onto indented continuation lines.
    expect(r.stdout.split('\n').filter((l) => l.length > 80)).toEqual([]);
    expect(r.stdout.replace(/\s+/g, '')).toContain(
      'evidence:Windows\\System32\\config\\DEFAULT[Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust\\TrustProviders\\SoftwarePublishing->State]0xC9',
    );
    expect(r.stdout).toMatch(/^Updates: 2 failed update attempts in the logs/m);
    expect(r.stdout).toMatch(/Next: wufix repair --root \S+ --only wintrust/);
    // Error codes from the logs, explained from the knowledge base (windows-update.md section 7).
    expect(r.stdout).toMatch(/^ {4}0x800b010b {2}TRUST_E_FAIL: /m);
    expect(r.stdout).toMatch(/^ {4}0x80070643 {2}ERROR_INSTALL_FAILURE: /m);
    expect(/^[\x20-\x7e\n]*$/.test(r.stdout)).toBe(true);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toMatch(/wintrust-state/);
    expect(page).toMatch(/<svg[^>]*aria-label="update timeline"/);
    expect(page).not.toMatch(/<script|<link|(src|href)=["']?https?:/i); // self-contained: no scripts, no external resources
  });

  it('bad input: not a Windows volume (exit 2, one line), a missing --image (exit 2)', () => {
    const r = runCli(['scan', '--root', tmp]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not the root of a Windows volume/);
  });
});

describe('shellArg: paths a technician can paste', () => {
  it('leaves plain paths bare and never ends a quoted one in \\"', async () => {
    const { shellArg } = await import('../../src/scan/report/shared.js');
    expect(shellArg('W:\\')).toBe('W:\\');
    expect(shellArg('/mnt/win')).toBe('/mnt/win');
    expect(shellArg('/mnt/my win')).toBe('"/mnt/my win"');
    expect(shellArg('D:\\My Disk\\')).toBe('"D:\\My Disk\\\\"');
  });
});
