// wu-tasks-disabled (issue #19, item 2) on a builder tree with Windows Update's task files as Windows
// writes them (UTF-16LE with a BOM; learn.microsoft.com "Task Scheduler Schema"): two disabled, one
// enabled, one with only a trigger disabled; a link in place of a task file is neither followed nor
// read. The finding names the tasks and the schtasks commands; a healthy tree has none.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { WIN10_22H2 } from './scenarios.js';
import { scanTarget } from '../../src/scan/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));

const xml = (uri: string, enabled: boolean, trigger = true) =>
  Buffer.concat([
    Buffer.from([0xff, 0xfe]),
    Buffer.from(
      `<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.6" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\r\n  <RegistrationInfo>\r\n    <URI>${uri}</URI>\r\n  </RegistrationInfo>\r\n  <Triggers>\r\n    <TimeTrigger>\r\n      <Enabled>${trigger}</Enabled>\r\n    </TimeTrigger>\r\n  </Triggers>\r\n  <Settings>\r\n    <StartWhenAvailable>true</StartWhenAvailable>\r\n    <Enabled>${enabled}</Enabled>\r\n  </Settings>\r\n</Task>\r\n`,
      'utf16le',
    ),
  ]);

describe.skipIf(!!reason)(`wu-tasks-disabled${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-tasks-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('disabled tasks named with their schtasks commands; an enabled task and a disabled trigger are not findings; a link is not read', async () => {
    const root = path.join(tmp, 'w10');
    await buildWindowsTree(root, WIN10_22H2);
    const uo = path.join(root, 'Windows', 'System32', 'Tasks', 'Microsoft', 'Windows', 'UpdateOrchestrator');
    const wu = path.join(root, 'Windows', 'System32', 'Tasks', 'Microsoft', 'Windows', 'WindowsUpdate');
    mkdirSync(uo, { recursive: true });
    mkdirSync(wu, { recursive: true });
    writeFileSync(path.join(uo, 'Schedule Scan'), xml('\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan', false));
    writeFileSync(path.join(uo, 'USO_UxBroker'), xml('\\Microsoft\\Windows\\UpdateOrchestrator\\USO_UxBroker', true));
    writeFileSync(path.join(uo, 'Reboot'), xml('\\Microsoft\\Windows\\UpdateOrchestrator\\Reboot', true, false));
    writeFileSync(path.join(wu, 'Scheduled Start'), xml('\\Microsoft\\Windows\\WindowsUpdate\\Scheduled Start', false));
    const secret = path.join(tmp, 'host-secret');
    writeFileSync(secret, xml('\\Planted', false));
    symlinkSync(secret, path.join(uo, 'Planted'));
    const t = await scanTarget({ root });
    expect(t.wuTasks?.map((x) => [x.path, x.enabled])).toEqual([
      ['Windows\\System32\\Tasks\\Microsoft\\Windows\\UpdateOrchestrator\\Reboot', true],
      ['Windows\\System32\\Tasks\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan', false],
      ['Windows\\System32\\Tasks\\Microsoft\\Windows\\UpdateOrchestrator\\USO_UxBroker', true],
      ['Windows\\System32\\Tasks\\Microsoft\\Windows\\WindowsUpdate\\Scheduled Start', false],
    ]);
    const f = t.findings.filter((x) => x.id === 'wu-tasks-disabled');
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.explanation).toMatch(/^2 of Windows Update's scheduled task\(s\) are disabled \(Schedule Scan, Scheduled Start\)/);
    expect(f[0]!.explanation).toContain('schtasks /Change /TN "\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan" /ENABLE');
    expect(f[0]!.evidence.map((e) => e.file)).toEqual([
      'Windows\\System32\\Tasks\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan',
      'Windows\\System32\\Tasks\\Microsoft\\Windows\\WindowsUpdate\\Scheduled Start',
    ]);

    const healthy = path.join(tmp, 'healthy');
    await buildWindowsTree(healthy, WIN10_22H2);
    const h = await scanTarget({ root: healthy });
    expect(h.wuTasks).toBeUndefined();
    expect(h.findings.some((x) => x.id === 'wu-tasks-disabled')).toBe(false);
  });
});
