// wsus-policy end to end through the built CLI (issue #19 item 1): a real Software hive (regipy's
// ntuser_software_partial, with its own Microsoft\Windows\CurrentVersion\WindowsUpdate and Policies
// keys) carrying the builder's Windows 10 values, then, edited by our hive engine, the WSUS client
// identity of a cloned lab image and a WSUS policy that cannot work (UseWUServer=1, WUServer and
// WUStatusServer that are bare names, a TargetGroup leftover). scan finds it with evidence, repair
// --yes deletes exactly those values, the rescan is clean, undo --last restores every byte (hive and
// logs); values read back with libhivex. A well-formed server URL is left alone.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { FIXTURES, sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';
import { runCli } from '../helpers/cli.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { asMap, withChanges } from '../helpers/repair-harness.js';
import { WIN10_22H2_ENT } from '../scan/scenarios.js';
import { Hive } from '../../src/hive/hive.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import type { ScanReport, ScanResult } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const REAL = () => path.join(FIXTURES, 'hives', 'regipy', 'ntuser_software_partial');
const WU = 'Policies\\Microsoft\\Windows\\WindowsUpdate';
const AU = `${WU}\\AU`;
const CLIENT = 'Microsoft\\Windows\\CurrentVersion\\WindowsUpdate';
const SOFTWARE = (root: string) => path.join(root, 'Windows', 'System32', 'config', 'SOFTWARE');
const HOSTILE = 'Lab\u001b[2J<b>x';
const CLONE_ID = '{6A7C1D2E-0B3F-4C5D-9E8F-112233445566}';

const sz = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
const dword = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

/** Every key and value of `from` into `to` (keys created, values set), walked from the root. */
function merge(to: Hive, from: Hive, nk = from.rootCell, at = ''): void {
  const k = at ? to.ensureKey(at) : to.rootCell;
  for (const vk of from.values(nk)) to.setValue(k, from.valueName(vk), from.valueType(vk), from.valueData(vk));
  for (const sub of from.subkeys(nk)) merge(to, from, sub, at ? `${at}\\${from.keyName(sub)}` : from.keyName(sub));
}

interface Wsus {
  wuServer: string;
  targetGroup?: string;
  clientId?: string;
}

/** The builder's Windows 10 tree whose SOFTWARE is the real hive with the builder's values, the clone identity and `w`. */
async function build(root: string, w: Wsus): Promise<void> {
  await buildWindowsTree(root, { ...WIN10_22H2_ENT });
  const h = Hive.open(new Uint8Array(readFileSync(REAL())));
  merge(h, Hive.open(new Uint8Array(readFileSync(SOFTWARE(root)))));
  const c = h.ensureKey(CLIENT);
  h.setValue(c, 'SusClientId', 1, sz(w.clientId ?? CLONE_ID));
  h.setValue(c, 'SusClientIDValidation', 3, new Uint8Array([0x06, 0x02, 0x00, 0x00, 0x14, 0x00, 0x31, 0x00, 0x30, 0x00, 0x35, 0x00]));
  h.setValue(c, 'PingID', 1, sz('{0C1D2E3F-4A5B-4C6D-8E7F-0A1B2C3D4E5F}'));
  h.setValue(c, 'AccountDomainSid', 1, sz('S-1-5-21-1004336348-1177238915-682003330'));
  const wu = h.ensureKey(WU);
  h.setValue(wu, 'WUServer', 1, sz(w.wuServer));
  h.setValue(wu, 'WUStatusServer', 1, sz(w.wuServer));
  if (w.targetGroup !== undefined) {
    h.setValue(wu, 'TargetGroup', 1, sz(w.targetGroup));
    h.setValue(wu, 'TargetGroupEnabled', 4, dword(1));
  }
  h.setValue(h.ensureKey(AU), 'UseWUServer', 4, dword(1));
  await writeNewHiveFile(SOFTWARE(root), h, true);
}

const scanJson = (root: string): ScanResult => {
  const r = runCli(['scan', '--root', root, '--json']);
  expect([0, 10], r.stderr).toContain(r.status);
  return (JSON.parse(r.stdout) as ScanReport).targets[0]!;
};
const wsusFindings = (t: ScanResult) => t.findings.filter((f) => f.id === 'stale-wsus-policy' || f.id === 'wsus-client-identity');

let tmp = '';
beforeAll(() => {
  if (!reason) tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-wsus-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!!reason)('wsus-policy', () => {
  it('a cloned lab image with a broken WSUS policy: scan, repair --yes, clean rescan, undo byte for byte', async () => {
    const root = path.join(tmp, 'clone');
    // The target group name is hostile: a terminal escape and markup, shown escaped everywhere.
    await build(root, { wuServer: 'wsus01', targetGroup: HOSTILE });
    const hashes0 = treeHashes(root);
    const dump0 = hivexDump(SOFTWARE(root));
    // The real hive's own WindowsUpdate value survives the merge (it is the real hive, not a new one).
    expect(asMap(dump0)[CLIENT.toLowerCase()]).toHaveProperty('trayiconstatus');

    const t0 = scanJson(root);
    expect(t0.policy.wsusClient).toEqual({ susClientId: CLONE_ID, present: ['SusClientId', 'SusClientIDValidation', 'PingID', 'AccountDomainSid'] });
    const [stale, identity] = wsusFindings(t0);
    expect(stale).toMatchObject({ id: 'stale-wsus-policy', severity: 'warning', repair: 'wsus-policy' });
    expect(stale!.evidence.map((e) => `${e.key}|${e.value}|${e.data}`)).toEqual([
      `${WU}|WUServer|wsus01 (not an http:// or https:// server URL)`,
      `${WU}|WUStatusServer|wsus01 (not an http:// or https:// server URL)`,
      `${WU}|TargetGroup|${HOSTILE} (a target group without a usable WUServer)`,
      `${WU}|TargetGroupEnabled|1 (client-side targeting without a usable WUServer)`,
      `${AU}|UseWUServer|1 (WSUS use with a WUServer that is not a URL)`,
    ]);
    expect(identity).toMatchObject({ id: 'wsus-client-identity', severity: 'info', repair: 'wsus-policy' });
    expect(identity!.evidence[0]).toMatchObject({ key: CLIENT, value: 'SusClientId', data: CLONE_ID });
    // The text report and the HTML report show it too, the hostile name escaped.
    const html = path.join(tmp, 'clone.html');
    const text = runCli(['scan', '--root', root, '--html', html]);
    expect(text.stdout).toMatch(/^\[WARNING\] stale-wsus-policy +repair: wsus-policy$/m);
    expect(text.stdout).toMatch(/WindowsUpdate -> WUServer\] +wsus01 \(not/);
    expect(text.stdout).not.toContain('\u001b');
    expect(text.stdout).toContain('Lab\\x1b[2J<b>');
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('stale-wsus-policy');
    expect(page).toContain('wsus-client-identity');
    expect(page).not.toContain('<b>x');
    expect(page).toContain('&#60;b&#62;x');

    // The dry run lists each deletion with what it was; the repair list in --help names the module.
    const dry = runCli(['repair', '--root', root]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^wsus-policy: WSUS: remove policy values that cannot work/m);
    expect(dry.stdout).toContain(`[${WU}] delete value WUServer`);
    expect(dry.stdout).toContain(`[${CLIENT}] delete value SusClientId`);
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);
    expect(runCli(['repair', '--help']).stdout).toMatch(/wsus-policy/);

    const r = runCli(['repair', '--root', root, '--yes']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Applied 9 change\(s\) and verified them/);
    // libhivex: exactly the nine values gone, everything else as it was.
    const dump1 = hivexDump(SOFTWARE(root));
    expect(asMap(dump1)).toEqual(
      withChanges(dump0, {
        [WU]: { WUServer: null, WUStatusServer: null, TargetGroup: null, TargetGroupEnabled: null },
        [AU]: { UseWUServer: null },
        [CLIENT]: { SusClientId: null, SusClientIDValidation: null, PingID: null, AccountDomainSid: null },
      }),
    );
    // The hive (and its logs, when the engine writes them) changed, nothing else outside the journal.
    const changed = treeDiff(hashes0, treeHashes(root));
    expect(changed).toContain('Windows/System32/config/SOFTWARE');
    expect(changed.filter((f) => !/^Windows\/System32\/config\/SOFTWARE(\.LOG\d?)?$/.test(f))).toEqual([]);

    const t1 = scanJson(root);
    expect(wsusFindings(t1)).toEqual([]);
    expect(t1.policy.wsusClient).toBeUndefined();
    // Nothing left to do for it.
    expect(runCli(['repair', '--root', root, '--only', 'wsus-policy']).stdout).not.toMatch(/delete value/);

    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(0);
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);
    expect(asMap(hivexDump(SOFTWARE(root)))).toEqual(asMap(dump0));
  });

  it('a well-formed server URL is never touched: the default run plans nothing, --only clears the identity alone, --wsus-reset-policy the rest', async () => {
    const root = path.join(tmp, 'good-url');
    await build(root, { wuServer: 'http://wsus.corp.example:8530', targetGroup: 'Lab-2019' });
    const hashes0 = treeHashes(root);
    const dump0 = hivexDump(SOFTWARE(root));
    const t0 = scanJson(root);
    expect(wsusFindings(t0).map((f) => [f.id, f.severity])).toEqual([['wsus-client-identity', 'info']]);
    const dry = runCli(['repair', '--root', root]);
    expect(dry.stdout).not.toMatch(/wsus-policy/);

    const r = runCli(['repair', '--root', root, '--only', 'wsus-policy', '--yes']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(asMap(hivexDump(SOFTWARE(root)))).toEqual(
      withChanges(dump0, { [CLIENT]: { SusClientId: null, SusClientIDValidation: null, PingID: null, AccountDomainSid: null } }),
    );
    const t1 = scanJson(root);
    expect(t1.policy).toMatchObject({ wuServer: 'http://wsus.corp.example:8530', useWUServer: 1, targetGroup: 'Lab-2019' });
    expect(wsusFindings(t1)).toEqual([]);
    expect(runCli(['undo', '--last', '--root', root]).status).toBe(0);
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);

    // The opt-in for more: never without --only wsus-policy (exit 1, nothing read).
    const refused = runCli(['repair', '--root', root, '--wsus-reset-policy', '--yes']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^wufix: error: --wsus-reset-policy needs --only wsus-policy/m);
    const reset = runCli(['repair', '--root', root, '--only', 'wsus-policy', '--wsus-reset-policy', '--yes']);
    expect(reset.status, reset.stderr + reset.stdout).toBe(0);
    expect(reset.stdout).toMatch(/Applied 9 change\(s\) and verified them/);
    expect(asMap(hivexDump(SOFTWARE(root)))).toEqual(
      withChanges(dump0, {
        [WU]: { WUServer: null, WUStatusServer: null, TargetGroup: null, TargetGroupEnabled: null },
        [AU]: { UseWUServer: null },
        [CLIENT]: { SusClientId: null, SusClientIDValidation: null, PingID: null, AccountDomainSid: null },
      }),
    );
    const pol = scanJson(root).policy;
    for (const k of ['wuServer', 'wuStatusServer', 'useWUServer', 'targetGroup', 'targetGroupEnabled', 'wsusClient'] as const)
      expect(pol[k], k).toBeUndefined();
    expect(runCli(['undo', '--last', '--root', root]).status).toBe(0);
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);
  });

  it('fleet: two images with the same SusClientId are named by report merge (console, HTML, JSON); a third with its own id is not', async () => {
    const results = path.join(tmp, 'results');
    const trees: string[] = [];
    for (const [name, id] of [
      ['clone-a', CLONE_ID],
      ['clone-b', CLONE_ID.toLowerCase()],
      ['own', '{0F0E0D0C-0B0A-4908-8706-050403020100}'],
    ] as const) {
      const root = path.join(tmp, 'fleet', name);
      await build(root, { wuServer: 'http://wsus.corp.example:8530', clientId: id });
      trees.push(root);
      // A per-image result as any runner calling `wufix scan --json` per image writes it.
      const r = runCli(['scan', '--root', root, '--json']);
      const doc = JSON.parse(r.stdout) as Record<string, unknown>;
      mkdirSync(results, { recursive: true });
      writeFileSync(path.join(results, `${name}.json`), JSON.stringify({ image: `${name}.vhdx`, exitCode: r.status, ...doc }));
    }
    const html = path.join(tmp, 'fleet.html');
    const m = runCli(['report', 'merge', results, '--html', html]);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toContain('duplicate WSUS client id 6a7c1d2e-0b3f-4c5d-9e8f-112233445566 (2 images):\n  - clone-a.vhdx\n  - clone-b.vhdx\n');
    expect(m.stdout).toContain('wufix repair --only wsus-policy');
    expect(m.stdout).not.toMatch(/0f0e0d0c/);
    for (const l of m.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    expect(readFileSync(html, 'utf8')).toMatch(
      /<tr class="dup"><td><code>6a7c1d2e-0b3f-4c5d-9e8f-112233445566<\/code><\/td><td class="n">2<\/td><td><code>clone-a\.vhdx<\/code>, <code>clone-b\.vhdx<\/code><\/td><\/tr>/,
    );
    const j = JSON.parse(runCli(['report', 'merge', results, '--json']).stdout) as { duplicateClientIds: unknown };
    expect(j.duplicateClientIds).toEqual([{ id: '6a7c1d2e-0b3f-4c5d-9e8f-112233445566', images: ['clone-a.vhdx', 'clone-b.vhdx'] }]);

    // After wsus-policy on one clone, the fleet has no duplicate left.
    expect(runCli(['repair', '--root', trees[1]!, '--only', 'wsus-policy', '--yes']).status).toBe(0);
    const again = runCli(['scan', '--root', trees[1]!, '--json']);
    writeFileSync(
      path.join(results, 'clone-b.json'),
      JSON.stringify({ image: 'clone-b.vhdx', exitCode: again.status, ...(JSON.parse(again.stdout) as object) }),
    );
    const m2 = runCli(['report', 'merge', results]);
    expect(m2.status, m2.stderr).toBe(0);
    expect(m2.stdout).not.toMatch(/duplicate WSUS client id/);
  });
});
