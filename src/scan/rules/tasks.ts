// wu-tasks-disabled (issue #19, item 2): Windows Update's scheduled tasks disabled, as "update
// disabler" tools leave them (UpdateOrchestrator's Schedule Scan, USO_UxBroker, Reboot, ...;
// WindowsUpdate's Scheduled Start): the task XML says Settings/Enabled false. Task Scheduler keeps
// its own copy of each task in the registry (TaskCache); the collector checked each disabled task
// against it (src/windows/taskcache.ts). When at least one passed, the finding offers the wu-tasks
// repair, which re-enables those offline; for the others the explanation gives the schtasks command
// to run in the running Windows.
import type { Finding, TargetScan, WuTask } from '../../model/scan.js';
import type { Rule } from './rule.js';

const name = (x: { path: string; uri?: string }) => x.uri ?? `\\${x.path.replace(/^Windows\\System32\\Tasks\\/i, '')}`;

function cacheNote(x: WuTask): string | undefined {
  const c = x.cache;
  if (!c) return undefined;
  const facts = [
    c.id ? `TaskCache Id ${c.id}` : undefined,
    c.triggersVersion !== undefined ? `Triggers version 0x${c.triggersVersion.toString(16)}` : undefined,
    c.enabledBit !== undefined ? `enabled bit ${c.enabledBit ? 'set' : 'clear'}` : undefined,
    c.hashMatches !== undefined ? `Hash ${c.hashMatches ? 'matches' : 'does not match'} the file` : undefined,
  ].filter((s): s is string => !!s);
  const verdict = c.repairable ? 'the wu-tasks repair re-enables it offline' : `not changed offline: ${c.why ?? 'unknown'}`;
  return `${facts.length ? `${facts.join(', ')}; ` : ''}${verdict}`;
}

function tasksDisabled(t: TargetScan): Finding[] {
  const off = (t.wuTasks ?? []).filter((x) => x.enabled === false);
  if (!off.length) return [];
  const fixable = off.filter((x) => x.cache?.repairable);
  const manual = off.filter((x) => !x.cache?.repairable);
  const cmds = manual
    .slice(0, 3)
    .map((x) => `schtasks /Change /TN "${name(x)}" /ENABLE`)
    .join('; ');
  const list = off
    .slice(0, 4)
    .map((x) => name(x).split('\\').pop())
    .join(', ');
  const offline = fixable.length
    ? ` The wu-tasks repair re-enables ${fixable.length === off.length ? 'them' : `${fixable.length} of them`} offline (the task file and Task Scheduler's registry copy, TaskCache, which agree with the format wufix knows).`
    : '';
  const byHand = manual.length
    ? ` Task Scheduler keeps its own copy in the registry${fixable.length ? ', which for the others does not match what wufix can verify' : ''}, so re-enable ${fixable.length ? 'those' : 'them'} in the running Windows (as Administrator): ${cmds}${manual.length > 3 ? '; ...' : ''}.`
    : '';
  return [
    {
      id: 'wu-tasks-disabled',
      severity: 'warning',
      explanation: `${off.length} of Windows Update's scheduled task(s) are disabled (${list}${off.length > 4 ? ', ...' : ''}), so Windows does not look for or install updates by itself.${offline}${byHand}`,
      evidence: off.slice(0, 20).map((x) => {
        const note = cacheNote(x);
        return { file: x.path, data: 'Settings/Enabled = false', ...(note ? { note } : {}) };
      }),
      ...(fixable.length ? { repair: 'wu-tasks' as const } : {}),
    },
  ];
}

export const tasksRule: Rule = { id: 'wu-tasks-disabled', derive: tasksDisabled };
