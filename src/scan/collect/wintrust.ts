// The WinTrust "Software Publishing" State of every user hive (the profiles in SOFTWARE).
import { problemText as describeError } from '../../shared/safefs.js';
import type { Hive } from '../../hive/hive.js';
import type { HiveWinTrust } from '../../model/scan.js';
import { userHives } from '../../windows/profiles.js';
import { readState, decodeState } from '../../windows/wintrust.js';
import { winRel } from '../../windows/files.js';
import { tryOpen } from './hives.js';

export async function readWinTrust(software: Hive, root: string, problems: string[]): Promise<HiveWinTrust[]> {
  const out: HiveWinTrust[] = [];
  let hives;
  try {
    hives = userHives(software, root);
  } catch (e) {
    problems.push(`user profiles: ${describeError(e)}`);
    return out;
  }
  for (const u of hives) {
    const rel = u.hivePath ? winRel(root, u.hivePath) : u.profilePath;
    const entry: HiveWinTrust = { kind: u.account, sid: u.sid === '.DEFAULT' ? undefined : u.sid, hive: rel, exists: u.exists };
    if (u.exists && u.hivePath) {
      const h = await tryOpen(u.hivePath, problems, rel);
      if (h) {
        try {
          const s = readState(h.hive);
          if (s !== undefined) {
            entry.state = s;
            entry.enabledOptions = decodeState(s).enabledSet;
          }
        } catch (e) {
          entry.problem = describeError(e);
          problems.push(`${rel}: ${entry.problem}`);
        }
      } else entry.problem = 'unreadable';
    }
    out.push(entry);
  }
  return out;
}
