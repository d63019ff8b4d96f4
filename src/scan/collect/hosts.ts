// The hosts file of a scan: which of its entries map a Windows Update name (wu-hosts-blocked). Read
// whole (at most MAX_HOSTS_BYTES, no link followed, no special file opened); a file that cannot be
// read is a problem line of the report, never a finding.
import { problemText as describeError, readFileSafe } from '../../shared/safefs.js';
import type { TargetScan } from '../../model/scan.js';
import { MAX_HOSTS_BYTES, parseHosts } from '../../formats/hosts.js';
import { resolveCI } from '../../windows/paths.js';
import { winRel } from '../../windows/files.js';
import { HOSTS_FILE } from '../../windows/locations.js';
import { blockedWuLines } from '../../windows/wuhosts.js';

export function collectHosts(root: string, t: TargetScan): void {
  const host = resolveCI(root, HOSTS_FILE);
  if (!host) return;
  try {
    const bytes = readFileSafe(host, MAX_HOSTS_BYTES, 'the hosts file');
    t.hosts = { path: winRel(root, host), bytes: bytes.length, blocked: blockedWuLines(parseHosts(bytes)) };
  } catch (e) {
    t.problems.push(`hosts: ${describeError(e)}`);
  }
}
