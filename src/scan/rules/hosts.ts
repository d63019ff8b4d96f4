// wu-hosts-blocked (issue #19 item 2): the hosts file maps a Windows Update name to an address, as
// "update disabler" tools do. Any address breaks it (a sinkhole and a real-looking IP alike): the
// resolver answers from the hosts file and never asks DNS. Evidence: each such line, with its number,
// then the newest update failures that say "cannot connect" or "timed out" (what such a line causes).
import type { Finding, TargetScan } from '../../model/scan.js';
import { attemptEvidence, codesOf, failuresOf, type Rule } from './rule.js';

/** What Windows Update fails with when its servers resolve to a sinkhole (refused) or an address that does not answer. */
const UNREACHABLE = new Set(['0x80072efd', '0x80072ee2']);
/** At most this many lines as evidence (a disabler writes a few dozen); the rest counted in one more. */
const MAX_LINES = 100;

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
  // With a WSUS server set, updates come from it and these lines only cut Microsoft Update itself
  // (Features on Demand, a fallback): some administrators want that, so it is a warning there.
  const wsus = t.policy.useWUServer === 1 && !!t.policy.wuServer;
  const core = h.blocked.some((b) => b.core) && !wsus;
  const failed = failuresOf(t).filter((a) => a.code && UNREACHABLE.has(a.code));
  return [
    {
      id: 'wu-hosts-blocked',
      severity: core ? 'error' : 'warning',
      explanation: `The hosts file maps Windows Update's servers to fixed addresses (${listed}; ${h.blocked.length} line(s)), as update-disabling tools do, so ${
        wsus
          ? `Windows Update cannot reach Microsoft Update beside the WSUS server ${t.policy.wuServer} (Features on Demand, fallback); if that is not wanted`
          : core
            ? 'Windows Update cannot reach them'
            : 'parts of Windows Update (delivery, reporting) cannot reach them'
      }; the wu-hosts repair comments out exactly those lines.`,
      evidence: [
        ...h.blocked.slice(0, MAX_LINES).map((b) => ({
          file: h.path,
          line: b.line,
          data: shown(b.text),
          ...(b.otherNames.length ? { note: `also maps ${b.otherNames.length} other name(s); the repair keeps them mapped` } : {}),
        })),
        ...(h.blocked.length > MAX_LINES ? [{ file: h.path, note: `and ${h.blocked.length - MAX_LINES} more line(s) like these` }] : []),
        ...failed.slice(-5).map(attemptEvidence),
      ],
      repair: 'wu-hosts',
      ...(failed.length ? { errorCodes: codesOf(failed) } : {}),
    },
  ];
}

export const hostsRule: Rule = {
  id: 'wu-hosts-blocked',
  derive: hostsBlocked,
};
