// Task files as Windows writes them (UTF-16LE with a BOM; the format of
// learn.microsoft.com "Task Scheduler Schema"): the task's own Settings/Enabled, not a trigger's.
import { describe, expect, it } from 'vitest';
import { parseTaskXml } from './taskxml.js';

const task = (settingsEnabled: string | undefined, triggerEnabled = 'true') =>
  `<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.6" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\r\n  <RegistrationInfo>\r\n    <URI>\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan</URI>\r\n  </RegistrationInfo>\r\n  <Triggers>\r\n    <TimeTrigger>\r\n      <StartBoundary>2019-12-07T08:00:00Z</StartBoundary>\r\n      <Enabled>${triggerEnabled}</Enabled>\r\n    </TimeTrigger>\r\n  </Triggers>\r\n  <Settings>\r\n    <IdleSettings>\r\n      <StopOnIdleEnd>true</StopOnIdleEnd>\r\n    </IdleSettings>\r\n    <StartWhenAvailable>true</StartWhenAvailable>\r\n${settingsEnabled === undefined ? '' : `    <Enabled>${settingsEnabled}</Enabled>\r\n`}  </Settings>\r\n</Task>\r\n`;
const utf16 = (s: string) => new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]));

describe('task XML', () => {
  it('UTF-16LE with a BOM: the URI and Settings/Enabled', () => {
    expect(parseTaskXml(utf16(task('false')))).toEqual({ uri: '\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan', enabled: false });
    expect(parseTaskXml(utf16(task('true')))).toEqual({ uri: '\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan', enabled: true });
  });
  it("a trigger's Enabled is not the task's; no Settings/Enabled = enabled by default (undefined)", () => {
    expect(parseTaskXml(utf16(task(undefined, 'false'))).enabled).toBeUndefined();
    expect(parseTaskXml(utf16(task('true', 'false'))).enabled).toBe(true);
  });
  it('UTF-8 and garbage: read or nothing, never a throw', () => {
    expect(parseTaskXml(new Uint8Array(Buffer.from(task('false').replace('UTF-16', 'UTF-8')))).enabled).toBe(false);
    expect(parseTaskXml(new Uint8Array([0xff, 0xfe, 0x3c]))).toEqual({});
    expect(parseTaskXml(new Uint8Array(4096).fill(0x41))).toEqual({});
  });
});
