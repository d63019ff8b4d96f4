// Reads one offline Windows installation (a mounted volume root, optionally its disk) into a
// TargetScan, then derives the findings. Missing files are normal (an older Windows, a trimmed
// image) and simply absent from the result; damaged ones are listed in `problems`.
import path from 'node:path';
import { confine, problemText, readFileSafe, unsafeNotesUnder } from '../shared/safefs.js';
import { openHiveFile, type OpenedHive } from '../hive/hivefile.js';
import { Hive } from '../hive/hive.js';
import { parseBcdStore, describeWinre, formatDevice } from '../formats/bcd.js';
import { readVersion } from '../windows/version.js';
import { currentControlSet, readServices, defaultStart, pendingFileRenames } from '../windows/services.js';
import { userHives } from '../windows/profiles.js';
import { readState, decodeState } from '../windows/wintrust.js';
import { readServicingMarkers, componentsPending, summarizeCbsPackages } from '../windows/servicing.js';
import { readWuPolicy, readQualityCompat, qualityCompatApplies } from '../windows/policy.js';
import { readAllStores } from '../formats/certstore.js';
import { MAX_REAGENT_BYTES, parseReAgentXml } from '../formats/reagent.js';
import { resolveCI } from '../windows/paths.js';
import { readCaches, winRel, fileSize, realDir, realFile } from '../windows/files.js';
import { collectUpdateHistory } from './history.js';
import { deriveFindings } from './rules/index.js';
import type { ScanResult, TargetScan, DiskInfo, HiveWinTrust, CodeInfo } from '../model/scan.js';
import { lookupError } from '../formats/errorcodes.js';

export interface ScanSpec {
  /** Host path of the mounted Windows volume. */
  root: string;
  /** Disk facts gathered by the caller (layout, free space of the recovery partition, BCD). */
  disk?: DiskInfo;
  bitlocker?: { partition: number; start: number }[];
  /** BCD store bytes from the ESP / system partition, when the caller could read them. */
  bcd?: { file: string; bytes: Uint8Array };
  /** Progress messages for long steps (stderr in the CLI). */
  progress?: (msg: string) => void;
}

/** The largest ReAgent.xml read (Windows writes about 1.5 KB). */

const describeError = problemText;

async function tryOpen(file: string | undefined, problems: string[], label: string): Promise<OpenedHive | undefined> {
  if (!file) return undefined;
  try {
    const h = await openHiveFile(file, { inspectLogs: false });
    for (const r of h.refusedLogs) problems.push(`${r.problemLine()} (the hive was read without it)`);
    if (h.unrecoverable) problems.push(`${label}: dirty and its transaction logs are missing or unusable; read as it is on disk`);
    return h;
  } catch (e) {
    problems.push(`${label}: ${describeError(e, label)}`);
    return undefined;
  }
}

export async function scanTarget(spec: ScanSpec): Promise<ScanResult> {
  const root = confine(spec.root); // every read below stays inside it, following nothing
  const problems: string[] = [];
  const progress = spec.progress ?? (() => {});
  const cfgPath = (name: string) => resolveCI(root, `Windows\\System32\\config\\${name}`);
  const windowsDir = resolveCI(root, 'Windows') ?? path.join(root, 'Windows');

  progress('reading the registry hives');
  const software = (await tryOpen(cfgPath('SOFTWARE'), problems, 'SOFTWARE hive'))?.hive;
  const system = (await tryOpen(cfgPath('SYSTEM'), problems, 'SYSTEM hive'))?.hive;
  const components = (await tryOpen(cfgPath('COMPONENTS'), problems, 'COMPONENTS hive'))?.hive;

  const t: TargetScan = {
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
    updates: [],
    problems,
  };

  let build = 0;
  if (software) {
    try {
      const v = readVersion(software);
      build = v.currentBuild;
      t.system = { productName: v.productName, editionId: v.editionId, installationType: v.installationType, currentBuild: v.currentBuild, ubr: v.ubr, displayVersion: v.displayVersion };
    } catch (e) {
      problems.push(`Windows version: ${describeError(e)}`);
    }
  }

  if (system) {
    try {
      const cs = currentControlSet(system);
      t.controlSets = cs.paths;
      t.services = readServices(system).map((s) => ({
        name: s.name,
        exists: s.exists,
        start: s.start,
        delayedAutostart: s.delayedAutostart ? 1 : 0,
        hasSecurity: s.hasSecurity,
        defaultStart: defaultStart(s.name, { currentBuild: build })?.start,
      }));
      t.servicing.pendingFileRenames = pendingFileRenames(system, cs.paths).length;
    } catch (e) {
      problems.push(`services: ${describeError(e)}`);
    }
  }

  if (software) {
    progress('reading the user hives');
    t.wintrust = await readWinTrust(software, root, problems);
    try {
      const m = readServicingMarkers(software);
      t.servicing.rebootPending = m.rebootPending || m.rebootInProgress;
      t.servicing.packagesPending = m.packagesPending;
      t.servicing.sessionsPending = m.sessionsPending.pending
        ? [
            ...(m.sessionsPending.exclusive ? [`Exclusive=${m.sessionsPending.exclusive}`] : []),
            ...(m.sessionsPending.totalSessionPhases ? [`TotalSessionPhases=${m.sessionsPending.totalSessionPhases}`] : []),
            ...m.sessionsPending.incompleteSessions,
          ]
        : [];
      t.servicing.rebootRequired = m.wuRebootRequired;
      const sum = summarizeCbsPackages(software);
      t.servicing.packageStates = sum.counts;
      t.servicing.pendingPackages = sum.pending.map((p) => ({ name: p.name, state: p.stateName, kb: p.kb }));
    } catch (e) {
      problems.push(`servicing state: ${describeError(e)}`);
    }
    try {
      const p = readWuPolicy(software);
      const q = readQualityCompat(software);
      t.policy = {
        wuServer: p.wuServer,
        wuStatusServer: p.wuStatusServer,
        useWUServer: p.useWuServer,
        noAutoUpdate: p.noAutoUpdate,
        auOptions: p.auOptions,
        acceptTrustedPublisherCerts: p.acceptTrustedPublisherCerts,
        qualityCompat: q.present ? (q.value ?? 0) : undefined,
        qualityCompatApplies: t.system.currentBuild !== undefined ? qualityCompatApplies({ currentBuild: t.system.currentBuild, ubr: t.system.ubr }) : undefined,
      };
    } catch (e) {
      problems.push(`update policy: ${describeError(e)}`);
    }
    try {
      for (const [store, certs] of Object.entries(readAllStores(software))) {
        for (const c of certs) t.certificates.push({ store, thumbprint: c.thumbprint ?? c.keyName, subject: c.subject ?? '', notAfter: c.notAfter });
      }
    } catch (e) {
      problems.push(`certificate stores: ${describeError(e)}`);
    }
  }
  if (components) {
    try {
      const c = componentsPending(components);
      for (const [k, name] of [['pendingXmlIdentifier', 'PendingXmlIdentifier'], ['nextQueueEntryIndex', 'NextQueueEntryIndex'], ['advancedInstallersNeedResolving', 'AdvancedInstallersNeedResolving']] as const) {
        if (c[k]) t.servicing.componentsPending.push(name);
      }
    } catch (e) {
      problems.push(`COMPONENTS hive: ${describeError(e)}`);
    }
  }
  const pendingXml = realFile(root, 'Windows\\WinSxS\\pending.xml');
  if (pendingXml) t.servicing.pendingXml = winRel(root, pendingXml);

  // WinRE configuration.
  const reagent = resolveCI(root, 'Windows\\System32\\Recovery\\ReAgent.xml');
  if (reagent) {
    t.winre.reagentXml = winRel(root, reagent);
    try {
      const r = parseReAgentXml(readFileSafe(reagent, MAX_REAGENT_BYTES, 'ReAgent.xml'));
      const { elements: _e, unknownElements: _u, ...fields } = r;
      t.winre.reagent = fields;
      t.winre.installState = r.installState;
      t.winre.staged = r.winreStaged;
      t.winre.imageLocation = r.imageLocation?.path;
      if (r.winreLocation) {
        t.winre.winreLocation = {
          path: r.winreLocation.path ?? '',
          offset: r.winreLocation.offset,
          guid: r.winreLocation.guid,
          id: r.winreLocation.id !== undefined ? String(r.winreLocation.id) : undefined,
        };
      }
    } catch (e) {
      problems.push(`ReAgent.xml: ${describeError(e)}`);
    }
  }
  const stagedWim = realFile(root, 'Windows\\System32\\Recovery\\Winre.wim');
  const stagedSize = fileSize(stagedWim);
  if (stagedWim && stagedSize !== undefined) t.winre.winreWimOnOs = { path: winRel(root, stagedWim), bytes: stagedSize };
  if (spec.bcd) readBcdFacts(spec.bcd, t, problems);

  realDir(root, 'wufix'); // where journals go with --root: a link there is reported (and refused by repair)
  progress('measuring the update caches');
  t.caches = readCaches(root);

  progress('reading the update logs');
  t.updates = await collectUpdateHistory(root, problems, progress);
  // What the lookups passed over: a link or special file where a folder was expected.
  for (const line of unsafeNotesUnder(root)) if (!problems.includes(line)) problems.push(line);

  return { ...t, findings: deriveFindings(t), codes: explainCodes(t) };
}

function explainCodes(t: TargetScan): CodeInfo[] {
  const counts = new Map<string, number>();
  for (const u of t.updates) if (u.status === 'failure' && u.code) counts.set(u.code, (counts.get(u.code) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code, count]) => {
      try {
        const e = lookupError(code);
        return { code: e.code, symbol: e.symbol, meaning: e.meaning, repairs: e.repairs, count };
      } catch {
        return { code, meaning: 'not an error code', repairs: [], count };
      }
    });
}

async function readWinTrust(software: Hive, root: string, problems: string[]): Promise<HiveWinTrust[]> {
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

/** Recovery facts from the BCD store: the default OS loader's recoverysequence / recoveryenabled. */
function readBcdFacts(bcd: { file: string; bytes: Uint8Array }, t: TargetScan, problems: string[]): void {
  t.winre.bcdStore = bcd.file;
  try {
    const w = describeWinre(parseBcdStore(Hive.open(bcd.bytes.slice())));
    const os = w.osLoaders.find((l) => l.isDefault) ?? w.osLoaders[0];
    if (os) {
      t.winre.recoverySequence = os.recoverySequence?.[0];
      t.winre.recoveryEnabled = os.recoveryEnabled;
    }
    if (w.winreLoader) {
      const l = w.winreLoader;
      t.winre.winreLoader = { id: l.id, exists: l.exists, description: l.description, device: l.deviceText, path: l.path };
    }
    if (w.ramdiskOptions) {
      const o = w.ramdiskOptions;
      t.winre.ramdiskOptions = { id: o.id, exists: o.exists, sdiDevice: o.sdiDevice ? formatDevice(o.sdiDevice) : undefined, sdiPath: o.sdiPath };
    }
    if (w.problems.length) t.winre.bcdProblems = w.problems;
  } catch (e) {
    problems.push(`${bcd.file}: ${describeError(e)}`);
  }
}
