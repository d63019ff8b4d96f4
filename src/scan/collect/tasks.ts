// Windows Update's scheduled tasks (issue #19, item 2): the task XML files in
// System32\Tasks\Microsoft\Windows\UpdateOrchestrator and \WindowsUpdate, each read whole (at most
// MAX_TASK_XML_BYTES; no link followed, no special file opened; at most 64 per folder), for the
// task's URI and Settings/Enabled. A file that cannot be read is a problem line, never a finding.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { problemText as describeError, readFileSafe } from '../../shared/safefs.js';
import type { TargetScan } from '../../model/scan.js';
import { MAX_TASK_XML_BYTES, parseTaskXml } from '../../formats/taskxml.js';
import { resolveCI } from '../../windows/paths.js';
import { winRel } from '../../windows/files.js';
import { WU_TASK_FOLDERS } from '../../windows/locations.js';

const MAX_TASKS = 64;

export function collectWuTasks(root: string, t: TargetScan): void {
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
        if (!lstatSync(f).isFile()) continue; // subfolders, links and special files are not task files read here
        out.push({ path: winRel(root, f), ...parseTaskXml(readFileSafe(f, MAX_TASK_XML_BYTES, 'the task file')) });
      } catch (e) {
        t.problems.push(`scheduled task ${winRel(root, f)}: ${describeError(e)}`);
      }
    }
  }
  if (out.length) t.wuTasks = out;
}
