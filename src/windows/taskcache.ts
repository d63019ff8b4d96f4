// Task Scheduler's registry copy of a task in an offline SOFTWARE hive (TaskCache\Tree\<task path>
// Id = "{GUID}", TaskCache\Tasks\{GUID} with Path, Triggers, Hash, ...), and the self-check that
// decides whether wufix may re-enable a disabled task offline. The Triggers and Hash formats are
// reverse-engineered (src/formats/taskcache.ts), so a task is changed only when what is on disk
// agrees with that model: the Tree and Tasks keys point at each other, the Triggers header is one
// we know, says "task" and has the enabled bit clear as the XML says, and a Hash value present is
// the SHA-256 of the current file. Anything else leaves the task alone, with the reason.
import type { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { regRaw, regString } from '../hive/query.js';
import { parseGuidText } from '../shared/guid.js';
import { parseTriggersHeader, taskXmlHash, withEnabledBit } from '../formats/taskcache.js';
import { enableTaskXml } from '../formats/taskxml.js';
import type { TaskCacheCheck } from '../model/scan.js';

export const TASKCACHE_KEY = 'Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache';

/** The task path Task Scheduler uses for a task file (volume-relative, under Windows\System32\Tasks): "\Microsoft\Windows\...". */
export function taskPathOf(fileRel: string): string | undefined {
  const m = /^Windows\\System32\\Tasks(\\.+)$/i.exec(fileRel);
  return m ? m[1] : undefined;
}

/** What the repair writes for one task that passed the check. */
export interface TaskEnablePlan {
  /** Key of the task in SOFTWARE: TaskCache\Tasks\{GUID}. */
  tasksKey: string;
  xml: Uint8Array;
  triggers: { old: Uint8Array; type: number; now: Uint8Array };
  /** Absent when the task has no Hash value (it stays absent). */
  hash?: { old: Uint8Array; type: number; now: Uint8Array };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

/**
 * Check a disabled task (its file's bytes, the XML said Settings/Enabled false) against the
 * TaskCache of `software`: `check` for the scan, `plan` when every check passed.
 */
export function checkDisabledTask(software: Hive, fileRel: string, xml: Uint8Array): { check: TaskCacheCheck; plan?: TaskEnablePlan } {
  const taskPath = taskPathOf(fileRel);
  if (!taskPath) return { check: { repairable: false, why: 'the file is not under Windows\\System32\\Tasks' } };
  const no = (why: string, got: Omit<TaskCacheCheck, 'repairable' | 'why'> = {}) => ({ check: { ...got, repairable: false, why } });
  const tree = `${TASKCACHE_KEY}\\Tree${taskPath}`;
  if (software.lookup(tree) === undefined) return no(`TaskCache has no Tree key for ${taskPath}`);
  const idText = regString(software, tree, 'Id');
  const guid = parseGuidText(idText);
  if (!guid || !/^\s*\{.*\}\s*$/.test(idText ?? '')) return no(`TaskCache Tree${taskPath} has no Id "{GUID}"`);
  const id = `{${guid.toUpperCase()}}`;
  const tasksKey = `${TASKCACHE_KEY}\\Tasks\\${idText!.trim()}`;
  if (software.lookup(tasksKey) === undefined) return no(`TaskCache has no Tasks\\${id}`, { id });
  const p = regString(software, tasksKey, 'Path');
  if (p === undefined || p.toLowerCase() !== taskPath.toLowerCase())
    return no(`TaskCache Tasks\\${id} Path is ${p === undefined ? 'absent' : `"${p}"`}, not ${taskPath}`, { id });
  const trig = regRaw(software, tasksKey, 'Triggers');
  if (!trig) return no(`TaskCache Tasks\\${id} has no Triggers value`, { id });
  if (trig.type !== REG.BINARY) return no(`TaskCache Tasks\\${id} Triggers is of type ${trig.type}, not REG_BINARY`, { id });
  const h = parseTriggersHeader(trig.data);
  if ('error' in h) return no(h.error, { id });
  const got = { id, triggersVersion: h.version, enabledBit: h.enabled };
  if (!h.task) return no(`Triggers flags 0x${h.flags.toString(16).padStart(8, '0')} lack the 0x02000000 "task" bit`, got);
  if (h.enabled)
    return no('the TaskCache Triggers says enabled (bit 0x00400000 set) although the XML says disabled: the format model does not fit this data', got);
  const hashVal = regRaw(software, tasksKey, 'Hash');
  if (hashVal && hashVal.type !== REG.BINARY) return no(`TaskCache Tasks\\${id} Hash is of type ${hashVal.type}, not REG_BINARY`, got);
  const hashMatches = hashVal ? sameBytes(hashVal.data, taskXmlHash(xml)) : undefined;
  const withHash = hashMatches === undefined ? got : { ...got, hashMatches };
  if (hashMatches === false)
    return no('the TaskCache Hash is not the SHA-256 of the task file (without its BOM): the hash model does not fit this machine', withHash);
  const now = enableTaskXml(xml);
  if (!(now instanceof Uint8Array)) return no(now.error, withHash);
  const plan: TaskEnablePlan = {
    tasksKey,
    xml: now,
    triggers: { old: trig.data, type: trig.type, now: withEnabledBit(trig.data, true) },
    ...(hashVal ? { hash: { old: hashVal.data, type: hashVal.type, now: taskXmlHash(now) } } : {}),
  };
  return { check: { ...withHash, repairable: true }, plan };
}

/** A registry value as the plan stores it (type and hex). */
export const regData = (type: number, data: Uint8Array) => ({ type, data: hex(data) });
