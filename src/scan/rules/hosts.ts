// wu-hosts-blocked (issue #19 item 2): the hosts file maps a Windows Update name to an address, as
// "update disabler" tools do. Any address breaks it (a sinkhole and a real-looking IP alike): the
// resolver answers from the hosts file and never asks DNS. Evidence: each such line, with its number.
import type { Finding, TargetScan } from '../../model/scan.js';
import type { Rule } from './rule.js';

/** Printable ASCII, at most 160 characters: a line from the image in the evidence. */
const shown = (s: string) => {
  const t = s.replace(/[^\x20-\x7e\t]/g, '?');
  return t.length > 160 ? `${t.slice(0, 157)}...` : t;
};

function hostsBlocked(t: TargetScan): Finding[] {
  const h = t.hosts;
  if (!h?.blocked.length) return [];
  const names = [...new Set(h.blocked.flatMap((b) => b.wuNames.map((n) => n.toLowerCase())))];
  const listed = names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
  const core = h.blocked.some((b) => b.core);
  return [
    {
      id: 'wu-hosts-blocked',
      severity: core ? 'error' : 'warning',
      explanation: `The hosts file maps Windows Update's servers to fixed addresses (${listed}; ${h.blocked.length} line(s)), as update-disabling tools do, so ${
        core ? 'Windows Update cannot reach them' : 'parts of Windows Update (delivery, reporting) cannot reach them'
      }; the wu-hosts repair comments out exactly those lines.`,
      evidence: h.blocked.map((b) => ({
        file: h.path,
        line: b.line,
        data: shown(b.text),
        ...(b.otherNames.length ? { note: `also maps ${b.otherNames.length} other name(s); the repair keeps them mapped` } : {}),
      })),
      repair: 'wu-hosts',
    },
  ];
}

export const hostsRule: Rule = {
  id: 'wu-hosts-blocked',
  derive: hostsBlocked,
};
