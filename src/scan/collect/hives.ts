// Opening the offline registry hives for a scan: a hive that cannot be opened is a problem line,
// never a failed scan.
import { problemText } from '../../shared/safefs.js';
import { openHiveFile, type OpenedHive } from '../../hive/hivefile.js';
import type { Hive } from '../../hive/hive.js';
import { resolveCI } from '../../windows/paths.js';
import { configHive } from '../../windows/locations.js';

export async function tryOpen(file: string | undefined, problems: string[], label: string): Promise<OpenedHive | undefined> {
  if (!file) return undefined;
  try {
    const h = await openHiveFile(file, { inspectLogs: false });
    for (const r of h.refusedLogs) problems.push(`${r.problemLine()} (the hive was read without it)`);
    if (h.unrecoverable) problems.push(`${label}: dirty and its transaction logs are missing or unusable; read as it is on disk`);
    return h;
  } catch (e) {
    problems.push(`${label}: ${problemText(e, label)}`);
    return undefined;
  }
}

export interface MachineHives {
  software?: Hive;
  system?: Hive;
  components?: Hive;
}

/** SOFTWARE, SYSTEM and COMPONENTS from Windows\System32\config, in that order. */
export async function openMachineHives(root: string, problems: string[]): Promise<MachineHives> {
  const cfgPath = (name: string) => resolveCI(root, configHive(name));
  const software = (await tryOpen(cfgPath('SOFTWARE'), problems, 'SOFTWARE hive'))?.hive;
  const system = (await tryOpen(cfgPath('SYSTEM'), problems, 'SYSTEM hive'))?.hive;
  const components = (await tryOpen(cfgPath('COMPONENTS'), problems, 'COMPONENTS hive'))?.hive;
  return { software, system, components };
}
