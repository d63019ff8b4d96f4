// wu-tasks-disabled (issue #19, item 2): Windows Update's scheduled tasks disabled, as "update
// disabler" tools leave them (UpdateOrchestrator's Schedule Scan, USO_UxBroker, Reboot, ...;
// WindowsUpdate's Scheduled Start): the task XML says Settings/Enabled false. No offline repair:
// Task Scheduler keeps its own copy of each task in the registry (TaskCache), so the technician
// re-enables them in the running Windows with schtasks, which the finding spells out.
import type { Finding, TargetScan } from '../../model/scan.js';
import type { Rule } from './rule.js';

function tasksDisabled(t: TargetScan): Finding[] {
  const off = (t.wuTasks ?? []).filter((x) => x.enabled === false);
  if (!off.length) return [];
  const name = (x: { path: string; uri?: string }) => x.uri ?? `\\${x.path.replace(/^Windows\\System32\\Tasks\\/i, '')}`;
  const cmds = off
    .slice(0, 3)
    .map((x) => `schtasks /Change /TN "${name(x)}" /ENABLE`)
    .join('; ');
  return [
    {
      id: 'wu-tasks-disabled',
      severity: 'warning',
      explanation: `${off.length} of Windows Update's scheduled task(s) are disabled (${off
        .slice(0, 4)
        .map((x) => name(x).split('\\').pop())
        .join(
          ', ',
        )}${off.length > 4 ? ', ...' : ''}), so Windows does not look for or install updates by itself. Task Scheduler keeps its own copy in the registry, so re-enable them in the running Windows (as Administrator): ${cmds}${off.length > 3 ? '; ...' : ''}.`,
      evidence: off.slice(0, 20).map((x) => ({ file: x.path, data: 'Settings/Enabled = false' })),
    },
  ];
}

export const tasksRule: Rule = { id: 'wu-tasks-disabled', derive: tasksDisabled };
