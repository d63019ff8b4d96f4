// wu-tasks: re-enable Windows Update's scheduled tasks that an "update disabler" disabled
// (wu-tasks-disabled), offline. Task Scheduler (Windows 8.1-11) keeps its own copy of each task in
// SOFTWARE ...\Schedule\TaskCache, in a format Microsoft does not document, so the repair changes a
// task only when what is on disk agrees with the reverse-engineered model (src/windows/taskcache.ts:
// Tree\<path> Id -> Tasks\{GUID} whose Path is the task, a Triggers header of a known version with
// the "task" bit and the enabled bit clear as the XML says, a Hash value, if any, equal to the
// SHA-256 of the current file). Per task, three changes:
//   - Tasks\{GUID} Triggers: only bit 0x00400000 of the JobBucket flags set (its CRC32 field as it was);
//   - Tasks\{GUID} Hash: the SHA-256 of the rewritten file (left absent when absent);
//   - the task file: only Settings' own <Enabled> text "false" -> "true" (BOM, encoding, line endings
//     and a trigger's <Enabled> as they were).
// Every other disabled task is left alone; the finding keeps its schtasks command. The engine
// journals each value and the file before writing and `wufix undo` restores them byte for byte. A
// task file that became a link or special file since the scan refuses the repair (the scan never
// lists one: it does not read through links).
import { createHash } from 'node:crypto';
import type { PlanStep } from '../model/plan.js';
import type { PlanContext, Repair } from '../engine/volume.js';
import { RefusedError } from '../shared/errors.js';
import { MAX_TASK_XML_BYTES, parseTaskXml } from '../formats/taskxml.js';
import { parseTriggersHeader } from '../formats/taskcache.js';
import { checkDisabledTask, regData, type TaskEnablePlan } from '../windows/taskcache.js';

const SOFTWARE_REL = 'Windows\\System32\\config\\SOFTWARE';
const flagsOf = (b: Uint8Array) => {
  const h = parseTriggersHeader(b);
  return 'error' in h ? '?' : `0x${h.flags.toString(16).padStart(8, '0')}`;
};

function stepsFor(p: TaskEnablePlan, hive: string, rel: string, bytes: Uint8Array, taskName: string): PlanStep[] {
  const reason = `wu-tasks-disabled (${taskName})`;
  const steps: PlanStep[] = [
    {
      repair: 'wu-tasks',
      reason,
      change: {
        kind: 'reg-set',
        hive,
        key: p.tasksKey,
        name: 'Triggers',
        value: regData(p.triggers.type, p.triggers.now),
        old: regData(p.triggers.type, p.triggers.old),
      },
      note: `TaskCache Triggers flags ${flagsOf(p.triggers.old)} -> ${flagsOf(p.triggers.now)} (only the enabled bit 0x00400000 set; its CRC32 field as it was)`,
    },
  ];
  if (p.hash)
    steps.push({
      repair: 'wu-tasks',
      reason,
      change: { kind: 'reg-set', hive, key: p.tasksKey, name: 'Hash', value: regData(p.hash.type, p.hash.now), old: regData(p.hash.type, p.hash.old) },
      note: 'TaskCache Hash: the SHA-256 of the rewritten task file (the current Hash was checked to be the SHA-256 of the current file)',
    });
  steps.push({
    repair: 'wu-tasks',
    reason,
    change: { kind: 'write-file', path: rel, base64: Buffer.from(p.xml).toString('base64'), oldSha256: createHash('sha256').update(bytes).digest('hex') },
    note: 'the task file with only Settings/Enabled false -> true',
  });
  return steps;
}

export const wuTasks: Repair = {
  id: 'wu-tasks',
  title: "re-enable Windows Update's disabled scheduled tasks whose registry copy (TaskCache) wufix can verify: task file, Triggers enabled bit, Hash",
  fixes: ['wu-tasks-disabled'],
  needs: 'a disabled task whose TaskCache agrees with what wufix verifies (see the finding; the others need the schtasks commands it gives)',
  uses: ({ scan }) => [SOFTWARE_REL, ...(scan.wuTasks ?? []).filter((x) => x.enabled === false).map((x) => x.path)],
  async plan({ scan, volume }: PlanContext): Promise<PlanStep[]> {
    const disabled = (scan.wuTasks ?? []).filter((x) => x.enabled === false);
    if (!disabled.length) return [];
    const hive = volume.resolve(SOFTWARE_REL);
    const software = hive === undefined ? undefined : await volume.openHive(hive);
    if (hive === undefined || !software) return [];
    const steps: PlanStep[] = [];
    for (const t of disabled) {
      const rel = volume.resolve(t.path);
      if (rel === undefined) continue;
      const kind = volume.kind(rel);
      if (kind === 'link') throw new RefusedError(`wu-tasks: ${rel} is a symbolic link or junction; wufix does not follow it`, 'link');
      if (kind === 'special') throw new RefusedError(`wu-tasks: ${rel} is a device, FIFO or socket, not a file; not opened`, 'special-file');
      const bytes = kind === 'file' ? volume.readFile(rel, MAX_TASK_XML_BYTES) : undefined;
      // Read again from the file as it is now, not from the scan: the plan rewrites what is there.
      if (!bytes || parseTaskXml(bytes).enabled !== false) continue;
      const { plan } = checkDisabledTask(software, rel, bytes);
      if (plan) steps.push(...stepsFor(plan, hive, rel, bytes, t.uri ?? rel));
    }
    return steps;
  },
};
