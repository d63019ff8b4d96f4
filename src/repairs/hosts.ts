// wu-hosts: the hosts file lines that map a Windows Update name to an address (issue #19 item 2,
// wu-hosts-blocked), as "update disabler" tools write them. One change: the hosts file rewritten
// with exactly those lines commented out as "# wufix: <original line>" - their bytes and line
// endings kept, every other byte of the file as it was (the BOM, the other lines, a last line
// without an ending). A line that also maps names that are not Windows Update's is commented out
// whole and followed by "<address> <those names>", so they stay mapped as the owner wanted.
// Which names are Windows Update's: src/windows/wuhosts.ts (from Microsoft's endpoint lists).
//
// The engine journals the file before writing it and `wufix undo` puts it back byte for byte. The
// hosts file as a symbolic link, junction or special file refuses the repair (uses(): exit 3, code
// link / special-file), and so does the planner itself when its volume says so.
import { createHash } from 'node:crypto';
import type { PlanStep } from '../model/plan.js';
import type { PlanContext, Repair } from '../engine/volume.js';
import { RefusedError } from '../shared/errors.js';
import { commentOutHostsLines, MAX_HOSTS_BYTES, parseHosts, type HostsEdit } from '../formats/hosts.js';
import { HOSTS_FILE } from '../windows/locations.js';
import { blockedWuLines } from '../windows/wuhosts.js';

/** Printable ASCII only, at most 80 characters: a line from the image in a plan note. */
const safe = (s: string) => {
  const t = s.replace(/\t/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
};

export const wuHosts: Repair = {
  id: 'wu-hosts',
  title: 'hosts file: comment out the lines that map Windows Update servers to an address ("# wufix: <line>"), nothing else',
  fixes: ['wu-hosts-blocked'],
  uses: () => [HOSTS_FILE],
  async plan({ volume }: PlanContext): Promise<PlanStep[]> {
    const rel = volume.resolve(HOSTS_FILE);
    if (rel === undefined) return [];
    const kind = volume.kind(rel);
    if (kind === 'link')
      throw new RefusedError(`wu-hosts: ${rel} is a symbolic link or junction; wufix does not follow it (edit the file it points to by hand)`, 'link');
    if (kind === 'special') throw new RefusedError(`wu-hosts: ${rel} is a device, FIFO or socket, not a file; not opened`, 'special-file');
    const bytes = kind === 'file' ? volume.readFile(rel, MAX_HOSTS_BYTES) : undefined;
    if (!bytes) return [];
    // Read again from the file as it is now, not from the scan: the plan rewrites what is there.
    const blocked = blockedWuLines(parseHosts(bytes));
    if (!blocked.length) return [];
    const edits: HostsEdit[] = blocked.map((b) => (b.otherNames.length ? { line: b.line, after: `${b.address} ${b.otherNames.join(' ')}` } : { line: b.line }));
    const after = commentOutHostsLines(bytes, parseHosts(bytes), edits);
    const lines = blocked.map((b) => `${b.line} (${safe(b.text.trim())})`);
    const kept = blocked.filter((b) => b.otherNames.length).map((b) => `line ${b.line}: ${safe(b.otherNames.join(' '))}`);
    return [
      {
        repair: 'wu-hosts',
        reason: `wu-hosts-blocked (${blocked.length} line(s) mapping Windows Update names)`,
        change: { kind: 'write-file', path: rel, base64: Buffer.from(after).toString('base64'), oldSha256: createHash('sha256').update(bytes).digest('hex') },
        note: `comments out line ${lines.join(', line ')} as "# wufix: <line>"${kept.length ? `; keeps the other names mapped on a line of their own (${kept.join('; ')})` : ''}`,
      },
    ];
  },
};
