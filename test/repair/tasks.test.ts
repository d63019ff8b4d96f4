// wu-tasks end to end through the built CLI: the builder's Windows 10 tree (real hives) with
// Windows Update's task files as Windows writes them (UTF-16LE with a BOM, CRLF) and a TaskCache
// written into SOFTWARE with libhivex (python3-hivex, not wufix's hive code). Its Triggers values
// are real blobs (GDATAAdvancedAnalytics/winreg-tasks, MIT; test/fixtures/taskcache); the
// "disabled" ones are MODELLED from a real blob by clearing bit 0x00400000 here (byte 0x2a, 0x40):
// no public sample of a disabled task's Triggers exists. Hash values are computed with the
// coreutils (`tail -c +3 <file> | sha256sum`, the file without its BOM).
//   Schedule Scan, Scheduled Start: disabled, TaskCache agrees -> re-enabled offline.
//   Reboot: disabled, Hash is not the file's SHA-256 -> left alone.
//   USO_UxBroker: disabled, Triggers enabled bit already set -> left alone (the model does not fit).
//   Maintenance Install: enabled (its TaskCache untouched).
//   Planted: a symbolic link to a host file, with a TaskCache that would pass -> never read or followed.
// scan, dry run (writes nothing), repair --yes --only wu-tasks, libhivex and byte-for-byte checks,
// rescan, undo --last (every file of the tree as before, by sha256).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { PROJECT_ROOT, sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { WIN10_22H2 } from '../scan/scenarios.js';
import type { ScanReport, ScanResult } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'sha256sum', 'tail'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const FIX = path.join(PROJECT_ROOT, 'test', 'fixtures', 'taskcache');
const TC = 'Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache';

const xml = (uri: string, enabled: boolean) =>
  Buffer.concat([
    Buffer.from([0xff, 0xfe]),
    Buffer.from(
      `<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.6" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\r\n  <RegistrationInfo>\r\n    <URI>${uri}</URI>\r\n  </RegistrationInfo>\r\n  <Triggers>\r\n    <TimeTrigger>\r\n      <Enabled>false</Enabled>\r\n    </TimeTrigger>\r\n  </Triggers>\r\n  <Settings>\r\n    <StartWhenAvailable>true</StartWhenAvailable>\r\n    <IdleSettings>\r\n      <StopOnIdleEnd>true</StopOnIdleEnd>\r\n    </IdleSettings>\r\n    <Enabled>${enabled}</Enabled>\r\n  </Settings>\r\n</Task>\r\n`,
      'utf16le',
    ),
  ]);

/** The real blob with bit 0x00400000 of the flags at 0x28 cleared (the modelled "disabled" blob). */
const cleared = (b: Buffer) => {
  const x = Buffer.from(b);
  x[0x2a] = x[0x2a]! & ~0x40;
  return x;
};
const shaNoBom = (file: string) => execFileSync('sh', ['-c', 'tail -c +3 "$1" | sha256sum', 'sh', file], { encoding: 'utf8' }).split(' ')[0]!;

interface Task {
  folder: 'UpdateOrchestrator' | 'WindowsUpdate';
  name: string;
  guid: string;
  enabled: boolean;
  blob: string;
  bitSet: boolean;
  hash: 'file' | 'wrong';
}
const TASKS: Task[] = [
  {
    folder: 'UpdateOrchestrator',
    name: 'Schedule Scan',
    guid: '{5A0F2D1C-3B4E-4F60-9A7B-1C2D3E4F5061}',
    enabled: false,
    blob: 'triggers-time-trigger-1.bin',
    bitSet: false,
    hash: 'file',
  },
  {
    folder: 'WindowsUpdate',
    name: 'Scheduled Start',
    guid: '{6B1E3E2D-4C5F-4071-8B8C-2D3E4F506172}',
    enabled: false,
    blob: 'triggers-trigger-parser-1.bin',
    bitSet: false,
    hash: 'file',
  },
  {
    folder: 'UpdateOrchestrator',
    name: 'Reboot',
    guid: '{7C2F4F3E-5D60-4182-9C9D-3E4F50617283}',
    enabled: false,
    blob: 'triggers-boot-trigger-1.bin',
    bitSet: false,
    hash: 'wrong',
  },
  {
    folder: 'UpdateOrchestrator',
    name: 'USO_UxBroker',
    guid: '{8D305040-6E71-4293-ADAE-4F5061728394}',
    enabled: false,
    blob: 'triggers-logon-trigger-1.bin',
    bitSet: true,
    hash: 'file',
  },
  {
    folder: 'UpdateOrchestrator',
    name: 'Maintenance Install',
    guid: '{9E416151-7F82-43A4-BEBF-5061728394A5}',
    enabled: true,
    blob: 'triggers-event-trigger-1.bin',
    bitSet: true,
    hash: 'file',
  },
];
const PLANTED = { folder: 'UpdateOrchestrator', name: 'Planted', guid: '{AF527262-8093-44B5-8FC0-61728394A5B6}' };
const taskPath = (t: { folder: string; name: string }) => `\\Microsoft\\Windows\\${t.folder}\\${t.name}`;
const rel = (t: { folder: string; name: string }) => `Windows\\System32\\Tasks${taskPath(t)}`;
const host = (root: string, t: { folder: string; name: string }) => path.join(root, ...rel(t).split('\\'));
const SOFTWARE = (root: string) => path.join(root, 'Windows', 'System32', 'config', 'SOFTWARE');

/** Keys and values written with libhivex: [key path, name, type, hex]. */
const HIVEX_WRITE = `
import hivex, json, sys
f, rows = sys.argv[1], json.load(sys.stdin)
h = hivex.Hivex(f, write=True)
def ensure(path):
    n = h.root()
    for part in path.split('\\\\'):
        c = h.node_get_child(n, part)
        n = c if c else h.node_add_child(n, part)
    return n
for key, name, t, data in rows:
    n = ensure(key)
    vals = [{'key': h.value_key(v), 't': h.value_type(v)[0], 'value': h.value_value(v)[1]} for v in h.node_values(n) if h.value_key(v) != name]
    h.node_set_values(n, vals + [{'key': name, 't': t, 'value': bytes.fromhex(data)}])
h.commit(None)
`;
const HIVEX_READ = `
import hivex, json, sys
h = hivex.Hivex(sys.argv[1])
out = {}
for key in json.load(sys.stdin):
    n = h.root()
    for part in key.split('\\\\'):
        n = h.node_get_child(n, part) if n else None
    out[key] = {h.value_key(v): [h.value_type(v)[0], h.value_value(v)[1].hex()] for v in h.node_values(n)} if n else None
print(json.dumps(out))
`;
const hivexWrite = (file: string, rows: [string, string, number, string][]) =>
  execFileSync('/usr/bin/python3', ['-c', HIVEX_WRITE, file], { input: JSON.stringify(rows) });
const hivexRead = (file: string, keys: string[]): Record<string, Record<string, [number, string]> | null> =>
  JSON.parse(execFileSync('/usr/bin/python3', ['-c', HIVEX_READ, file], { input: JSON.stringify(keys), encoding: 'utf8' })) as Record<
    string,
    Record<string, [number, string]> | null
  >;
const sz = (s: string) => Buffer.from(`${s}\0`, 'utf16le').toString('hex');
const blob = (t: Task) => readFileSync(path.join(FIX, t.blob));

const scanJson = (root: string): ScanResult => {
  const r = runCli(['scan', '--root', root, '--json']);
  expect([0, 10], r.stderr).toContain(r.status);
  return (JSON.parse(r.stdout) as ScanReport).targets[0]!;
};
const taskFinding = (t: ScanResult) => t.findings.filter((f) => f.id === 'wu-tasks-disabled');

let tmp = '';
beforeAll(() => {
  if (!reason) tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-wutasks-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function build(root: string): Promise<string> {
  await buildWindowsTree(root, WIN10_22H2);
  const rows: [string, string, number, string][] = [];
  for (const t of TASKS) {
    mkdirSync(path.dirname(host(root, t)), { recursive: true });
    writeFileSync(host(root, t), xml(taskPath(t), t.enabled));
    const hash = t.hash === 'file' ? shaNoBom(host(root, t)) : sha(readFileSync(host(root, t))); // 'wrong': the BOM hashed too
    const tasks = `${TC}\\Tasks\\${t.guid}`;
    rows.push([`${TC}\\Tree${taskPath(t)}`, 'Id', 1, sz(t.guid)]);
    rows.push([tasks, 'Path', 1, sz(taskPath(t))]);
    rows.push([tasks, 'Triggers', 3, (t.bitSet ? blob(t) : cleared(blob(t))).toString('hex')]);
    rows.push([tasks, 'Hash', 3, hash]);
    rows.push([tasks, 'DynamicInfo', 3, '03000000' + '00'.repeat(24)]);
  }
  // The planted link: the host file it names is a disabled task whose TaskCache entry would pass.
  const secret = path.join(tmp, `secret-${path.basename(root)}`);
  writeFileSync(secret, xml(taskPath(PLANTED), false));
  symlinkSync(secret, host(root, PLANTED));
  rows.push([`${TC}\\Tree${taskPath(PLANTED)}`, 'Id', 1, sz(PLANTED.guid)]);
  rows.push([`${TC}\\Tasks\\${PLANTED.guid}`, 'Path', 1, sz(taskPath(PLANTED))]);
  rows.push([`${TC}\\Tasks\\${PLANTED.guid}`, 'Triggers', 3, cleared(blob(TASKS[0]!)).toString('hex')]);
  rows.push([`${TC}\\Tasks\\${PLANTED.guid}`, 'Hash', 3, shaNoBom(secret)]);
  hivexWrite(SOFTWARE(root), rows);
  return secret;
}

describe.skipIf(!!reason)('wu-tasks', () => {
  it('re-enables the two tasks whose TaskCache agrees, leaves the other two (and a link) alone; dry run writes nothing; undo byte for byte', async () => {
    const root = path.join(tmp, 'w10');
    const secret = await build(root);
    const secret0 = sha(readFileSync(secret));
    const hashes0 = treeHashes(root);
    const files0 = TASKS.map((t) => readFileSync(host(root, t)));

    // The scan: every disabled task checked against the TaskCache.
    const t0 = scanJson(root);
    const byName = new Map((t0.wuTasks ?? []).map((x) => [x.path.split('\\').pop()!, x]));
    expect([...byName.keys()].sort()).toEqual(['Maintenance Install', 'Reboot', 'Schedule Scan', 'Scheduled Start', 'USO_UxBroker']);
    expect(byName.get('Schedule Scan')!.cache).toEqual({ id: TASKS[0]!.guid, triggersVersion: 0x17, enabledBit: false, hashMatches: true, repairable: true });
    expect(byName.get('Scheduled Start')!.cache).toEqual({ id: TASKS[1]!.guid, triggersVersion: 0x17, enabledBit: false, hashMatches: true, repairable: true });
    expect(byName.get('Reboot')!.cache).toMatchObject({
      id: TASKS[2]!.guid,
      enabledBit: false,
      hashMatches: false,
      repairable: false,
      why: expect.stringMatching(/Hash/),
    });
    expect(byName.get('USO_UxBroker')!.cache).toMatchObject({
      id: TASKS[3]!.guid,
      enabledBit: true,
      repairable: false,
      why: expect.stringMatching(/enabled.*XML says disabled/),
    });
    expect(byName.get('USO_UxBroker')!.cache!.hashMatches).toBeUndefined(); // refused before the Hash is looked at
    expect(byName.get('Maintenance Install')!.cache).toBeUndefined();
    expect(t0.problems.some((p) => p.includes('Planted') && /link/.test(p))).toBe(true);
    const [f0, ...more] = taskFinding(t0);
    expect(more).toEqual([]);
    expect(f0).toMatchObject({ severity: 'warning', repair: 'wu-tasks' });
    expect(f0!.explanation).toMatch(/^4 of Windows Update's scheduled task\(s\) are disabled/);
    expect(f0!.explanation).toContain('The wu-tasks repair re-enables 2 of them offline');
    expect(f0!.explanation).toContain('schtasks /Change /TN "\\Microsoft\\Windows\\UpdateOrchestrator\\Reboot" /ENABLE');
    expect(f0!.explanation).toContain('schtasks /Change /TN "\\Microsoft\\Windows\\UpdateOrchestrator\\USO_UxBroker" /ENABLE');
    expect(f0!.explanation).not.toContain('Schedule Scan" /ENABLE');
    // The text and HTML reports render it.
    const text = runCli(['scan', '--root', root]);
    expect(text.stdout).toMatch(/^\[WARN(ING)?\] +wu-tasks-disabled +repair: wu-tasks$/m);
    const html = path.join(tmp, 'report.html');
    const hr = runCli(['scan', '--root', root, '--html', html]);
    expect([0, 10], hr.stderr).toContain(hr.status);
    expect(readFileSync(html, 'utf8')).toContain('wu-tasks-disabled');

    // Dry run: the plan, nothing written.
    const dry = runCli(['repair', '--root', root, '--only', 'wu-tasks']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^wu-tasks: /m);
    expect(dry.stdout).toContain(rel(TASKS[0]!));
    expect(dry.stdout).toContain(rel(TASKS[1]!));
    expect(dry.stdout).not.toContain(rel(TASKS[2]!));
    expect(dry.stdout).not.toContain(rel(TASKS[3]!));
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);

    const r = runCli(['repair', '--root', root, '--yes', '--only', 'wu-tasks']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Applied 6 change\(s\) and verified them/);
    expect(treeDiff(hashes0, treeHashes(root))).toEqual(
      [
        'Windows/System32/Tasks/Microsoft/Windows/UpdateOrchestrator/Schedule Scan',
        'Windows/System32/Tasks/Microsoft/Windows/WindowsUpdate/Scheduled Start',
        'Windows/System32/config/SOFTWARE',
      ].sort(),
    );
    // The files: exactly "false" -> "true" in Settings (the trigger's Enabled kept), the others as they were.
    for (const [i, t] of TASKS.entries()) {
      const now = readFileSync(host(root, t));
      if (i < 2) expect(now.equals(xml(taskPath(t), true)), t.name).toBe(true);
      else expect(now.equals(files0[i]!), t.name).toBe(true);
    }
    expect(readFileSync(host(root, TASKS[0]!)).toString('utf16le')).toContain('<TimeTrigger>\r\n      <Enabled>false</Enabled>');
    expect(sha(readFileSync(secret))).toBe(secret0);
    // The registry as libhivex reads it.
    const keys = [...TASKS, PLANTED].map((t) => `${TC}\\Tasks\\${t.guid}`);
    const reg = hivexRead(SOFTWARE(root), keys);
    for (const [i, t] of TASKS.entries()) {
      const v = reg[keys[i]!]!;
      const fixed = i < 2;
      // Re-enabled: the real (enabled) blob exactly; else what was written.
      expect(v['Triggers'], t.name).toEqual([3, (fixed || t.bitSet ? blob(t) : cleared(blob(t))).toString('hex')]);
      expect(v['Hash']![1], t.name).toBe(fixed ? shaNoBom(host(root, t)) : i === 2 ? sha(files0[i]!) : shaNoBom(host(root, t)));
      expect(v['Path'], t.name).toEqual([1, sz(taskPath(t))]);
      expect(v['DynamicInfo'], t.name).toEqual([3, '03000000' + '00'.repeat(24)]);
    }
    expect(reg[keys[5]!]!['Triggers']).toEqual([3, cleared(blob(TASKS[0]!)).toString('hex')]);

    // Rescan: the two left alone remain, with no repair offered.
    const t1 = scanJson(root);
    const [f1] = taskFinding(t1);
    expect(f1!.evidence.map((e) => e.file)).toEqual([rel(TASKS[2]!), rel(TASKS[3]!)]);
    expect(f1!.repair).toBeUndefined();
    expect(f1!.explanation).toMatch(/^2 of Windows Update's scheduled task\(s\) are disabled \(Reboot, USO_UxBroker\)/);
    expect(runCli(['repair', '--root', root, '--only', 'wu-tasks']).stdout).toMatch(/Nothing to change/);

    // Undo: every file of the tree as before.
    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(0);
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);
    for (const [i, t] of TASKS.entries()) expect(sha(readFileSync(host(root, t))), t.name).toBe(sha(files0[i]!));
    expect(taskFinding(scanJson(root))[0]).toMatchObject({ repair: 'wu-tasks' });
  }, 300_000);

  it('no TaskCache (e.g. a hive without it): the finding keeps only the schtasks commands, the repair changes nothing', async () => {
    const root = path.join(tmp, 'nocache');
    await buildWindowsTree(root, WIN10_22H2);
    const t = TASKS[0]!;
    mkdirSync(path.dirname(host(root, t)), { recursive: true });
    writeFileSync(host(root, t), xml(taskPath(t), false));
    const hashes0 = treeHashes(root);
    const s = scanJson(root);
    expect(s.wuTasks![0]!.cache).toEqual({ repairable: false, why: `TaskCache has no Tree key for ${taskPath(t)}` });
    const [f] = taskFinding(s);
    expect(f!.repair).toBeUndefined();
    expect(f!.explanation).toContain(`schtasks /Change /TN "${taskPath(t)}" /ENABLE`);
    const r = runCli(['repair', '--root', root, '--only', 'wu-tasks', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(treeDiff(hashes0, treeHashes(root))).toEqual([]);
  }, 120_000);
});
