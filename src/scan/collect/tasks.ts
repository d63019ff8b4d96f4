// Windows Update's scheduled tasks (issue #19, item 2): the task XML files in
// System32\Tasks\Microsoft\Windows\UpdateOrchestrator and \WindowsUpdate, each read whole (at most
// MAX_TASK_XML_BYTES; no link followed, no special file opened; at most 64 per folder), for the
// task's URI and Settings/Enabled. A file that cannot be read is a problem line, never a finding;
// so is a link or special file in place of a task file (not read, not followed). Each disabled task
// is checked against Task Scheduler's registry copy in SOFTWARE (TaskCache: src/windows/taskcache.ts),
// which says whether the wu-tasks repair may re-enable it offline.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { problemText as describeError, readFileSafe } from '../../shared/safefs.js';
import type { TargetScan, TaskCacheCheck } from '../../model/scan.js';
import { MAX_TASK_XML_BYTES, parseTaskXml } from '../../formats/taskxml.js';
import { resolveCI } from '../../windows/paths.js';
import { winRel } from '../../windows/files.js';
import { WU_TASK_FOLDERS } from '../../windows/locations.js';
import { checkDisabledTask } from '../../windows/taskcache.js';
import type { Hive } from '../../hive/hive.js';

const MAX_TASKS = 64;

function cacheCheck(software: Hive | undefined, rel: string, bytes: Uint8Array): TaskCacheCheck {
  if (!software) return { repairable: false, why: 'the SOFTWARE hive was not read' };
  try {
    return checkDisabledTask(software, rel, bytes).check;
  } catch (e) {
    return { repairable: false, why: `the TaskCache could not be read (${describeError(e)})` };
  }
}

export function collectWuTasks(root: string, t: TargetScan, software?: Hive): void {
  const out: NonNullable<TargetScan['wuTasks']> = [];
  for (const rel of WU_TASK_FOLDERS) {
    const dir = resolveCI(root, rel);
    if (!dir) continue;
    let names: string[];
    try {
      if (!lstatSync(dir).isDirectory()) continue;
      names = readdirSync(dir).sort().slice(0, MAX_TASKS);
    } catch (e) {
      t.problems.push(`scheduled tasks: ${describeError(e)}`);
      continue;
    }
    for (const n of names) {
      const f = path.join(dir, n);
      try {
        const st = lstatSync(f);
        if (st.isDirectory()) continue; // subfolders are not task files read here
        if (!st.isFile()) {
          t.problems.push(`scheduled task ${winRel(root, f)}: ${st.isSymbolicLink() ? 'is a symbolic link or junction' : 'is not a regular file'}; not read`);
          continue;
        }
        const rel = winRel(root, f);
        const bytes = readFileSafe(f, MAX_TASK_XML_BYTES, 'the task file');
        const task: NonNullable<TargetScan['wuTasks']>[number] = { path: rel, ...parseTaskXml(bytes) };
        if (task.enabled === false) task.cache = cacheCheck(software, rel, bytes);
        out.push(task);
      } catch (e) {
        t.problems.push(`scheduled task ${winRel(root, f)}: ${describeError(e)}`);
      }
    }
  }
  if (out.length) t.wuTasks = out;
}
