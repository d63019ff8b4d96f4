// Findings: what is wrong with an offline Windows, explained with evidence, derived from the data a
// scan collected. Pure: TargetScan in, Finding[] out.
import type { Evidence, Finding, TargetScan, UpdateFailure } from '../model/scan.js';
import { fmtBytes } from '../shared/units.js';
import { WINRE_KBS, WINRE_UPDATE_FREE } from '../windows/winre.js';
import { DEFAULT_STATE } from '../windows/wintrust.js';


const CACHE_CODES = new Set(['0x80240034', '0x8024200d', '0x80070002', '0x8007000d', '0x80246007', '0x80248007', '0x8024a10a']);
const WSUS_UNREACHABLE = new Set(['0x8024402c', '0x80244022', '0x80072ee2', '0x80072efd', '0x8024401c']);
const TRUST_CODES = new Set(['0x800b010b', '0x800b010e']);
const LOOP_CODES = new Set(['0x80073aa2', '0x80070bc9', '0x80242016', '0x800f0922']);
/** Services whose Start=4 breaks updates. */
const UPDATE_SERVICES = ['wuauserv', 'bits', 'cryptsvc', 'TrustedInstaller', 'msiserver', 'UsoSvc', 'EventLog'];
/** Services that must exist on every supported Windows. */
const REQUIRED_SERVICES = new Set(['wuauserv', 'bits', 'cryptsvc', 'TrustedInstaller', 'msiserver', 'EventLog']);

const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;

function failureEvidence(f: UpdateFailure): Evidence {
  const e: Evidence = { file: f.file };
  if (f.line !== undefined) e.line = f.line;
  if (f.recordId !== undefined) e.note = `event record ${f.recordId}`;
  if (f.time) e.time = f.time;
  const what = [f.kb, f.code, f.title && f.title !== f.kb ? f.title : undefined, f.message].filter(Boolean).join(' ');
  e.data = `${f.status === 'failure' ? 'install failed' : 'installed'}: ${what}`.trim();
  return e;
}

function codesOf(fs: UpdateFailure[]): string[] {
  return [...new Set(fs.map((f) => f.code).filter((c): c is string => !!c))].sort();
}

/** One failure per (kb, code, minute) so the same event seen in several logs counts once. */
function distinctAttempts(fs: UpdateFailure[]): UpdateFailure[] {
  const seen = new Set<string>();
  const out: UpdateFailure[] = [];
  for (const f of fs) {
    const k = `${f.kb}|${f.code}|${(f.time ?? '').slice(0, 16)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}

export function deriveFindings(t: TargetScan): Finding[] {
  const out: Finding[] = [];
  const failures = t.updates.filter((u) => u.status === 'failure');

  // --- BitLocker: nothing on an encrypted volume can be read or changed offline.
  for (const b of t.bitlocker) {
    out.push({
      id: 'bitlocker-locked',
      severity: 'error',
      explanation: `Partition ${b.partition} is BitLocker-encrypted and locked, so wufix can neither read nor repair it; unlock it first (WinPE: manage-bde -unlock <drive>: -RecoveryPassword <key>).`,
      evidence: [{ file: t.disk?.path, offset: b.start, data: 'volume boot sector signature -FVE-FS-' }],
    });
  }

  // --- WinRE: the recovery partition and its configuration.
  const winreFailures = failures.filter((f) => f.kb && WINRE_KBS.has(f.kb.toUpperCase()));
  const rec = t.disk?.partitions.find((p) => p.number === t.disk?.recoveryPartition);
  const os = t.disk?.partitions.find((p) => p.number === t.disk?.osPartition);
  if (rec && rec.freeBytes !== undefined && rec.freeBytes < WINRE_UPDATE_FREE) {
    out.push({
      id: 'winre-too-small',
      severity: 'error',
      explanation: `The recovery partition has ${fmtBytes(rec.freeBytes)} free but the WinRE update (KB5034441/KB5034439/KB5034440) needs 250 MB, so it fails with 0x80070643; the winre repair rebuilds the partition larger.`,
      evidence: [
        { file: t.disk!.path, offset: rec.start, data: `partition ${rec.number}: ${fmtBytes(rec.size)}, ${fmtBytes(rec.freeBytes)} free, ${rec.fs}${rec.label ? ` "${rec.label}"` : ''}` },
        ...winreFailures.map(failureEvidence),
      ],
      repair: 'winre',
      errorCodes: ['0x80070643'],
    });
  } else if (winreFailures.length > 0 && (!rec || rec.freeBytes === undefined)) {
    out.push({
      id: 'winre-too-small',
      severity: 'error',
      explanation: rec
        ? `The WinRE update failed with ${codesOf(winreFailures).join(', ') || 'an error'}; the recovery partition's free space could not be measured (scan with --image or --disk as root to mount it), but this failure means less than 250 MB free.`
        : 'The WinRE update failed and no recovery partition was examined; scan with --disk/--image to check the recovery partition (the update needs 250 MB free in it).',
      evidence: [
        ...(rec ? [{ file: t.disk!.path, offset: rec.start, data: `partition ${rec.number}: ${fmtBytes(rec.size)}` }] : []),
        ...winreFailures.map(failureEvidence),
      ],
      repair: 'winre',
      errorCodes: codesOf(winreFailures),
    });
  }
  if (t.winre.installState === 0 || t.winre.recoveryEnabled === false) {
    const ev: Evidence[] = [];
    if (t.winre.reagentXml && t.winre.installState !== undefined) ev.push({ file: t.winre.reagentXml, data: `InstallState state="${t.winre.installState}"` });
    if (t.winre.bcdStore && t.winre.recoveryEnabled === false) ev.push({ file: t.winre.bcdStore, data: 'OS loader recoveryenabled = No' });
    if (t.winre.winreWimOnOs) ev.push({ file: t.winre.winreWimOnOs.path, data: `${fmtBytes(t.winre.winreWimOnOs.bytes)} (the image waits here while WinRE is disabled)` });
    out.push({
      id: 'winre-disabled',
      severity: 'warning',
      explanation: 'Windows RE is disabled, so recovery and the WinRE servicing updates cannot use it; the winre repair re-enables it on a correctly sized recovery partition.',
      evidence: ev,
      repair: 'winre',
    });
  }
  if (rec && os && rec.start < os.start) {
    out.push({
      id: 'winre-misplaced',
      severity: 'warning',
      explanation: `The recovery partition (${rec.number}) sits before the Windows partition (${os.number}), so it cannot be grown by shrinking Windows; the winre repair creates a larger one after Windows instead.`,
      evidence: [{ file: t.disk!.path, data: `recovery at byte ${rec.start}, Windows at byte ${os.start}` }],
      repair: 'winre',
    });
  }

  // --- WinTrust State per user hive.
  // Trust failures, and the 0x80070643 failures of the same updates (the installer's view of them).
  const trustKbs = new Set(failures.filter((f) => f.code && TRUST_CODES.has(f.code) && f.kb).map((f) => f.kb!.toUpperCase()));
  const trustFailures = failures.filter((f) => (f.code && TRUST_CODES.has(f.code)) || (f.code === '0x80070643' && f.kb && trustKbs.has(f.kb.toUpperCase())));
  for (const h of t.wintrust) {
    if (h.state === undefined) continue;
    const s = h.state;
    const revocationChecked = (s & 0x200) === 0 || (s & 0x20000) === 0;
    const offlineOk = (s & 0x400) !== 0 && (s & 0x800) !== 0;
    const onlyTrustDb = (s & 0x40000) !== 0;
    if (!((revocationChecked && !offlineOk) || onlyTrustDb)) continue;
    const why = onlyTrustDb
      ? 'only trusts items in the trust database (0x40000)'
      : 'checks revocation but treats an unreachable revocation server as fatal';
    out.push({
      id: 'wintrust-state',
      severity: 'error',
      subject: h.hive,
      explanation: `The WinTrust "Software Publishing" State of ${h.kind}${h.sid ? ` (${h.sid})` : ''} is ${hex(s)}, which ${why}, so signed updates fail with 0x800B010B/0x800B010E and installers with 0x80070643; the wintrust repair resets it to the Windows default ${hex(DEFAULT_STATE)}.`,
      evidence: [
        {
          file: h.hive,
          key: 'Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust\\Trust Providers\\Software Publishing',
          value: 'State',
          data: `${hex(s)} (setreg options on: ${(h.enabledOptions ?? []).join(', ') || 'none'}; default ${hex(DEFAULT_STATE)} = 2, 3, 4, 5, 6, 7)`,
        },
        ...trustFailures.map(failureEvidence),
      ],
      repair: 'wintrust',
      errorCodes: ['0x80070643', '0x800b010b', '0x800b010e'],
    });
  }

  // --- Services.
  for (const s of t.services) {
    if (!UPDATE_SERVICES.includes(s.name)) continue;
    if (!s.exists && REQUIRED_SERVICES.has(s.name)) {
      out.push({
        id: 'wu-service-disabled',
        severity: 'error',
        subject: s.name,
        explanation: `The ${s.name} service is missing from the registry, so Windows Update cannot run it.`,
        evidence: [{ file: 'Windows\\System32\\config\\SYSTEM', key: `${t.controlSets[0] ?? 'ControlSet001'}\\Services\\${s.name}`, data: 'key not found' }],
        errorCodes: s.name === 'wuauserv' ? ['0x80070422'] : undefined,
      });
    } else if (s.exists && s.start === 4) {
      out.push({
        id: 'wu-service-disabled',
        severity: 'error',
        subject: s.name,
        explanation: `The ${s.name} service is disabled (Start=4), which makes updates fail${s.name === 'wuauserv' ? ' with 0x80070422' : ''}; the services repair restores Start=${s.defaultStart ?? 3}.`,
        evidence: t.controlSets.map((cs) => ({ file: 'Windows\\System32\\config\\SYSTEM', key: `${cs}\\Services\\${s.name}`, value: 'Start', data: '4 (Disabled)' })),
        repair: 'services',
        errorCodes: s.name === 'wuauserv' ? ['0x80070422'] : undefined,
      });
    }
  }

  // --- Repeated failures of the same update: an install -> reboot -> rollback loop.
  const byKb = new Map<string, UpdateFailure[]>();
  for (const f of failures) if (f.kb) byKb.set(f.kb.toUpperCase(), [...(byKb.get(f.kb.toUpperCase()) ?? []), f]);
  const loops: string[] = [];
  for (const [kb, fs] of byKb) {
    // The same failed attempt is often logged in several files at slightly different times: count
    // attempts within each source and take the source that saw the most.
    const bySource = new Map<string, UpdateFailure[]>();
    for (const f of fs) bySource.set(f.source, [...(bySource.get(f.source) ?? []), f]);
    const attempts = [...bySource.values()].map(distinctAttempts).sort((a, b) => b.length - a.length)[0] ?? [];
    if (attempts.length < 3 || WINRE_KBS.has(kb)) continue;
    // The loop is over once the update installed later, or once nothing is queued and automatic
    // installs are paused (what the pending + au-pause repairs leave).
    const lastFail = Math.max(...fs.map((f) => Date.parse(f.time ?? '') || 0));
    const laterSuccess = t.updates.some((u) => u.status === 'success' && u.kb?.toUpperCase() === kb && (Date.parse(u.time ?? '') || 0) > lastFail);
    const sv = t.servicing;
    const stillQueued = sv.rebootPending || sv.packagesPending.length > 0 || sv.sessionsPending.length > 0 || !!sv.pendingXml || sv.componentsPending.length > 0;
    if (laterSuccess || (!stillQueued && t.policy.noAutoUpdate === 1)) continue;
    loops.push(kb);
    out.push({
      id: 'reboot-loop',
      severity: 'error',
      subject: kb,
      explanation: `${kb} failed ${attempts.length} times (${codesOf(fs).join(', ') || 'no code'}): Windows is stuck installing, rolling back and retrying it; the pending repair reverts the queued operations and au-pause stops the retries until it is fixed.`,
      evidence: attempts.map(failureEvidence),
      repair: 'pending',
      errorCodes: codesOf(fs),
    });
  }

  // --- Pending servicing operations.
  const sv = t.servicing;
  const pendingEv: Evidence[] = [];
  const CBS = 'Microsoft\\Windows\\CurrentVersion\\Component Based Servicing';
  if (sv.rebootPending) pendingEv.push({ file: 'Windows\\System32\\config\\SOFTWARE', key: `${CBS}\\RebootPending`, data: 'present' });
  for (const p of sv.packagesPending) pendingEv.push({ file: 'Windows\\System32\\config\\SOFTWARE', key: `${CBS}\\PackagesPending`, data: p });
  for (const p of sv.sessionsPending) pendingEv.push({ file: 'Windows\\System32\\config\\SOFTWARE', key: `${CBS}\\SessionsPending`, data: p });
  if (sv.rebootRequired) pendingEv.push({ file: 'Windows\\System32\\config\\SOFTWARE', key: 'Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired', data: 'present' });
  if (sv.pendingXml) pendingEv.push({ file: sv.pendingXml, data: 'queued component transaction' });
  for (const c of sv.componentsPending) pendingEv.push({ file: 'Windows\\System32\\config\\COMPONENTS', value: c, data: 'present' });
  if (pendingEv.length) {
    const loopFailures = failures.filter((f) => f.code && LOOP_CODES.has(f.code));
    out.push({
      id: 'pending-servicing',
      severity: loops.length || loopFailures.length ? 'error' : 'warning',
      explanation: 'Servicing operations are queued for the next boot; if that boot keeps failing they are replayed and rolled back each time, and the pending repair reverts them.',
      evidence: [...pendingEv, ...loopFailures.slice(0, 5).map(failureEvidence)],
      repair: 'pending',
      errorCodes: codesOf(loopFailures).length ? codesOf(loopFailures) : undefined,
    });
  }

  // --- Broken update caches.
  const cacheFailures = failures.filter((f) => f.code && CACHE_CODES.has(f.code));
  if (cacheFailures.length && t.caches.softwareDistribution) {
    out.push({
      id: 'wu-cache',
      severity: 'warning',
      explanation: `Downloads or the update database failed (${codesOf(cacheFailures).join(', ')}); the wu-cache repair renames SoftwareDistribution and catroot2 so Windows rebuilds them.`,
      evidence: [
        { file: t.caches.softwareDistribution.path, data: `${t.caches.softwareDistribution.files} files, ${fmtBytes(t.caches.softwareDistribution.bytes)}` },
        ...distinctAttempts(cacheFailures).slice(0, 10).map(failureEvidence),
      ],
      repair: 'wu-cache',
      errorCodes: codesOf(cacheFailures),
    });
  }

  // --- WSUS: untrusted third-party signing certificate, stale server policy.
  const wsus = t.policy.useWUServer === 1 && !!t.policy.wuServer;
  const untrusted = failures.filter((f) => f.code === '0x800b0109');
  // Once a publisher certificate is trusted and the policy accepts it, the failures are history.
  const trusted = t.policy.acceptTrustedPublisherCerts === 1 && t.certificates.some((c) => c.store.toLowerCase().includes('trustedpublisher'));
  if (untrusted.length && !trusted) {
    const ev = untrusted.map(failureEvidence);
    if (t.policy.acceptTrustedPublisherCerts !== 1) {
      ev.push({ file: 'Windows\\System32\\config\\SOFTWARE', key: 'Policies\\Microsoft\\Windows\\WindowsUpdate', value: 'AcceptTrustedPublisherCerts', data: t.policy.acceptTrustedPublisherCerts === undefined ? 'not set' : String(t.policy.acceptTrustedPublisherCerts) });
    }
    if (wsus) ev.push({ file: 'Windows\\System32\\config\\SOFTWARE', key: 'Policies\\Microsoft\\Windows\\WindowsUpdate', value: 'WUServer', data: t.policy.wuServer });
    out.push({
      id: 'wsus-cert-untrusted',
      severity: 'error',
      explanation: `Updates published through ${wsus ? 'WSUS' : 'the update server'} fail with 0x800B0109 because their signing certificate is not trusted on this machine; trust-cert --cert <file> imports it into TrustedPublisher (and Root when self-signed).`,
      evidence: ev,
      repair: 'trust-cert',
      errorCodes: ['0x800b0109'],
    });
  }
  const unreachable = failures.filter((f) => f.code && WSUS_UNREACHABLE.has(f.code));
  if (wsus && unreachable.length) {
    out.push({
      id: 'stale-wsus-policy',
      severity: 'warning',
      explanation: `Windows Update is pointed at ${t.policy.wuServer} (UseWUServer=1) and cannot reach it (${codesOf(unreachable).join(', ')}); if the machine left that network, remove the WindowsUpdate policy.`,
      evidence: [
        { file: 'Windows\\System32\\config\\SOFTWARE', key: 'Policies\\Microsoft\\Windows\\WindowsUpdate', value: 'WUServer', data: t.policy.wuServer },
        ...distinctAttempts(unreachable).slice(0, 5).map(failureEvidence),
      ],
      errorCodes: codesOf(unreachable),
    });
  }

  // --- QualityCompat.
  if (t.policy.qualityCompatApplies && t.policy.qualityCompat === undefined) {
    out.push({
      id: 'qualitycompat-missing',
      severity: 'warning',
      explanation: 'This Windows build predates April 2018 and has no QualityCompat value, so security updates since January 2018 are withheld; the qualitycompat repair sets it.',
      evidence: [{ file: 'Windows\\System32\\config\\SOFTWARE', key: 'Microsoft\\Windows\\CurrentVersion\\QualityCompat', value: 'cadca5fe-87d3-4b96-b7fb-a231484277cc', data: 'not set' }],
      repair: 'qualitycompat',
    });
  }

  // --- Reminder: automatic updates paused.
  if (t.policy.noAutoUpdate === 1) {
    out.push({
      id: 'au-paused',
      severity: 'info',
      explanation: 'Automatic updates are paused by policy (NoAutoUpdate=1); resume them once the failing update is fixed (wufix repair --only au-resume).',
      evidence: [{ file: 'Windows\\System32\\config\\SOFTWARE', key: 'Policies\\Microsoft\\Windows\\WindowsUpdate\\AU', value: 'NoAutoUpdate', data: '1' }],
      repair: 'au-resume',
    });
  }
  return out;
}

/** Exit code of a scan: 10 when anything but info findings exist. */
export function hasActionableFindings(findings: Finding[]): boolean {
  return findings.some((f) => f.severity !== 'info');
}
