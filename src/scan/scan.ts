// Reads one offline Windows installation (a mounted volume root, optionally its disk) into a
// TargetScan, then derives the findings. Missing files are normal (an older Windows, a trimmed
// image) and simply absent from the result; damaged ones are listed in `problems`. Each step of
// the reading is in collect/.
import path from 'node:path';
import { confine, unsafeNotesUnder } from '../shared/safefs.js';
import { resolveCI } from '../windows/paths.js';
import { readCaches, realDir } from '../windows/files.js';
import { isVolumeRoot, volumeSpace } from '../windows/install.js';
import type { ScanResult, TargetScan, DiskInfo } from '../model/scan.js';
import { openMachineHives } from './collect/hives.js';
import { collectComputerName, collectServices, collectVersion } from './collect/system.js';
import { collectComponents, collectPendingXml, collectServicing } from './collect/servicing.js';
import { collectTxr } from './collect/txr.js';
import { collectHosts } from './collect/hosts.js';
import { collectWuTasks } from './collect/tasks.js';
import { collectCertificates, collectPolicy } from './collect/policy.js';
import { readWinTrust } from './collect/wintrust.js';
import { collectBcd, collectReAgent, collectStagedWim } from './collect/winre.js';
import { collectUpdateHistory } from './collect/history.js';
import { collectRepairRuns } from './collect/repairs.js';
import { deriveFindings } from './rules/index.js';
import { explainCodes } from './codes.js';

export interface ScanSpec {
  /** Host path of the mounted Windows volume. */
  root: string;
  /** Disk facts gathered by the caller (layout, free space of the recovery partition, BCD). */
  disk?: DiskInfo;
  bitlocker?: { partition: number; start: number }[];
  /** BCD store bytes from the ESP / system partition, when the caller could read them. */
  bcd?: { file: string; bytes: Uint8Array };
  /** Journal folders outside the target to read repair runs from (`<image>.wufix-journal`). */
  journals?: string[];
  /** Progress messages for long steps (stderr in the CLI). */
  progress?: (msg: string) => void;
}

/** The scan before anything is read: every list empty, every fact unknown. */
function emptyScan(root: string, windowsDir: string, spec: ScanSpec, problems: string[]): TargetScan {
  return {
    root,
    windowsDir,
    system: {},
    services: [],
    controlSets: [],
    wintrust: [],
    servicing: { rebootPending: false, packagesPending: [], sessionsPending: [], rebootRequired: false, componentsPending: [], pendingFileRenames: 0 },
    policy: {},
    certificates: [],
    winre: {},
    disk: spec.disk,
    bitlocker: spec.bitlocker ?? [],
    caches: { bitsQueue: [] },
    attempts: [],
    logs: [],
    problems,
  };
}

/** Free space of the Windows volume: from the disk layout, else from the mounted volume itself. */
function osFreeBytes(root: string, disk: DiskInfo | undefined): number | undefined {
  const os = disk?.partitions.find((p) => p.number === disk.osPartition);
  if (os?.freeBytes !== undefined) return os.freeBytes;
  return isVolumeRoot(root) ? volumeSpace(root)?.freeBytes : undefined;
}

export async function scanTarget(spec: ScanSpec): Promise<ScanResult> {
  const root = confine(spec.root); // every read below stays inside it, following nothing
  const problems: string[] = [];
  const progress = spec.progress ?? (() => {});
  const windowsDir = resolveCI(root, 'Windows') ?? path.join(root, 'Windows');

  progress('reading the registry hives');
  const { software, system, components, damage } = await openMachineHives(root, problems);
  const t = emptyScan(root, windowsDir, spec, problems);
  if (damage.length) t.hiveDamage = damage;

  const build = software ? collectVersion(software, t) : 0;
  if (system) collectServices(system, build, t);
  if (system) collectComputerName(system, t);
  if (software) {
    progress('reading the user hives');
    t.wintrust = await readWinTrust(software, root, problems);
    collectServicing(software, t);
    collectPolicy(software, t);
    collectCertificates(software, t);
  }
  if (components) collectComponents(components, t);
  collectPendingXml(root, t);
  collectTxr(root, t);
  collectHosts(root, t);
  collectWuTasks(root, t, software);

  collectReAgent(root, t);
  collectStagedWim(root, t);
  if (spec.bcd) collectBcd(spec.bcd, t);

  realDir(root, 'wufix'); // where journals go with --root: a link there is reported (and refused by repair)
  progress('measuring the update caches');
  t.caches = readCaches(root);

  t.osFreeBytes = osFreeBytes(root, spec.disk);
  progress('reading the update logs');
  const history = await collectUpdateHistory(root, { system, software }, problems, progress);
  t.attempts = history.attempts;
  t.logs = history.logs;
  t.timeZone = history.timeZone;
  const runs = collectRepairRuns(root, spec.journals);
  if (runs.length) t.repairRuns = runs;
  // What the lookups passed over: a link or special file where a folder was expected.
  for (const line of unsafeNotesUnder(root)) if (!problems.includes(line)) problems.push(line);

  return { ...t, findings: deriveFindings(t), codes: explainCodes(t) };
}
