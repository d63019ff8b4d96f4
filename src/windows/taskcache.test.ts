// The TaskCache self-check on hives built in memory, with a real Triggers blob (winreg-tasks, MIT;
// test/fixtures/taskcache) whose enabled bit is cleared here (the modelled disabled blob; no public
// sample of a disabled one exists). Each check that fails leaves the task alone with its reason.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { checkDisabledTask, taskPathOf, TASKCACHE_KEY } from './taskcache.js';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/taskcache');
const REAL = new Uint8Array(readFileSync(path.join(FIX, 'triggers-boot-trigger-1.bin')));
const DISABLED = (() => {
  const b = new Uint8Array(REAL);
  b[0x2a] = b[0x2a]! & ~0x40;
  return b;
})();
const REL = 'Windows\\System32\\Tasks\\Microsoft\\Windows\\WindowsUpdate\\Scheduled Start';
const TASK = '\\Microsoft\\Windows\\WindowsUpdate\\Scheduled Start';
const GUID = '{0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9}';
const XML = new Uint8Array(Buffer.from('<Task>\r\n  <Settings>\r\n    <Enabled>false</Enabled>\r\n  </Settings>\r\n</Task>\r\n', 'utf8'));
const sz = (s: string) => new Uint8Array(Buffer.from(`${s}\0`, 'utf16le'));
const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

interface Spec {
  id?: string | null;
  path?: string;
  triggers?: Uint8Array | null;
  triggersType?: number;
  hash?: Uint8Array | null;
  tasksKey?: boolean;
}
function hive(s: Spec = {}): Hive {
  const h = Hive.create({ minor: 5, rootName: 'ROOT' });
  const tree = h.ensureKey(`${TASKCACHE_KEY}\\Tree${TASK}`);
  if (s.id !== null) h.setValue(tree, 'Id', REG.SZ, sz(s.id ?? GUID));
  if (s.tasksKey === false) return h;
  const k = h.ensureKey(`${TASKCACHE_KEY}\\Tasks\\${GUID}`);
  h.setValue(k, 'Path', REG.SZ, sz(s.path ?? TASK));
  if (s.triggers !== null) h.setValue(k, 'Triggers', s.triggersType ?? REG.BINARY, s.triggers ?? DISABLED);
  if (s.hash !== null) h.setValue(k, 'Hash', REG.BINARY, s.hash ?? sha(XML));
  return h;
}

describe('TaskCache check of a disabled task', () => {
  it('task path from the file path', () => {
    expect(taskPathOf(REL)).toBe(TASK);
    expect(taskPathOf('Windows\\Temp\\x')).toBeUndefined();
  });

  it('everything agrees: the plan sets only the enabled bit, the new Hash is the SHA-256 of the new file', () => {
    const { check, plan } = checkDisabledTask(hive(), REL, XML);
    expect(check).toEqual({ id: GUID, triggersVersion: 0x17, enabledBit: false, hashMatches: true, repairable: true });
    expect(Buffer.from(plan!.triggers.now).equals(Buffer.from(REAL))).toBe(true);
    expect(Buffer.from(plan!.xml).toString('utf8')).toBe('<Task>\r\n  <Settings>\r\n    <Enabled>true</Enabled>\r\n  </Settings>\r\n</Task>\r\n');
    expect(Buffer.from(plan!.hash!.now).equals(Buffer.from(sha(plan!.xml)))).toBe(true);
    expect(plan!.tasksKey).toBe(`${TASKCACHE_KEY}\\Tasks\\${GUID}`);
  });

  it('no Hash value: repairable, and the plan writes none', () => {
    const { check, plan } = checkDisabledTask(hive({ hash: null }), REL, XML);
    expect(check).toEqual({ id: GUID, triggersVersion: 0x17, enabledBit: false, repairable: true });
    expect(plan!.hash).toBeUndefined();
  });

  it.each<[string, Spec, RegExp]>([
    ['no Id', { id: null }, /has no Id "\{GUID\}"/],
    ['an Id that is not a GUID', { id: 'Scheduled Start' }, /has no Id "\{GUID\}"/],
    ['an Id without braces', { id: GUID.slice(1, -1) }, /has no Id "\{GUID\}"/],
    ['no Tasks key', { tasksKey: false }, /has no Tasks\\\{0A1B/],
    ['another Path', { path: '\\Microsoft\\Windows\\Other' }, /Path is "\\Microsoft\\Windows\\Other", not/],
    ['no Triggers', { triggers: null }, /has no Triggers value/],
    ['Triggers not REG_BINARY', { triggersType: REG.NONE }, /not REG_BINARY/],
    ['a short Triggers', { triggers: DISABLED.subarray(0, 0x37) }, /shorter than its 56-byte header/],
    ['a Windows 7 Triggers version', { triggers: new Uint8Array([0x14, ...DISABLED.subarray(1)]) }, /version 0x14/],
    ['the task bit clear', { triggers: (() => ((x) => ((x[0x2b] = x[0x2b]! & ~0x02), x))(new Uint8Array(DISABLED)))() }, /lack the 0x02000000 "task" bit/],
    ['the enabled bit set although the XML says disabled', { triggers: REAL }, /says enabled .* although the XML says disabled/],
    ['a Hash of another algorithm (CRC32, 4 bytes)', { hash: new Uint8Array([1, 2, 3, 4]) }, /Hash is not the SHA-256/],
    ['a Hash of the file with something else', { hash: sha(new Uint8Array([0xff, 0xfe, ...XML])) }, /Hash is not the SHA-256/],
  ])('%s: left alone, with the reason', (_, spec, why) => {
    const { check, plan } = checkDisabledTask(hive(spec), REL, XML);
    expect(plan).toBeUndefined();
    expect(check.repairable).toBe(false);
    expect(check.why).toMatch(why);
  });

  it('no Tree key, or a file outside System32\\Tasks', () => {
    expect(checkDisabledTask(Hive.create({ minor: 5, rootName: 'ROOT' }), REL, XML).check).toEqual({
      repairable: false,
      why: `TaskCache has no Tree key for ${TASK}`,
    });
    expect(checkDisabledTask(hive(), 'Windows\\Temp\\Scheduled Start', XML).check.repairable).toBe(false);
  });

  it('a task file whose Settings/Enabled cannot be rewritten (two of them) is left alone', () => {
    const two = new Uint8Array(Buffer.from('<Task><Settings><Enabled>false</Enabled><Enabled>false</Enabled></Settings></Task>', 'utf8'));
    const { check } = checkDisabledTask(hive({ hash: sha(two) }), REL, two);
    expect(check).toMatchObject({ hashMatches: true, repairable: false, why: 'Settings has 2 <Enabled> element(s), not one' });
  });
});
