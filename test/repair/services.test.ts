// The services repair end to end through the engine (buildPlan -> applyPlan -> scan -> undo) on
// builder installations. Expected start types come from windows-update.md §3 (and the documented
// UsoSvc / EventLog choices of src/repairs/services.ts); values are read back with libhivex; the
// --reset-security DACL is compared with the DACL the Windows SCM stored in a real SYSTEM hive
// (regipy/SYSTEM), not with our own encoder.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, type InstallSpec } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';
import { servicesDisabled, win7Loop } from '../scan/scenarios.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan, renderPlan } from '../../src/engine/plan.js';
import { applyPlan } from '../../src/engine/apply.js';
import { undoRun } from '../../src/engine/undo.js';
import { newRunId } from '../../src/engine/journal.js';
import { openHiveFile, saveHiveFile } from '../../src/hive/hivefile.js';
import { services, targetStart, DEFAULT_SDDL, resetDacl } from '../../src/repairs/services.js';
import { serviceSd } from '../helpers/service-sd.js';
import { decodeSecurityDescriptor, encodeSecurityDescriptor, securityDescriptorToSddl } from '../../src/formats/sddl.js';
import { Hive } from '../../src/hive/hive.js';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { RegData } from '../../src/model/plan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));

// --- helpers ----------------------------------------------------------------------------------
import { treeHashes, changedFiles, asMap, withChanges, dw, findingIds } from '../helpers/repair-harness.js';
const SYSTEM = (root: string) => path.join(root, 'Windows', 'System32', 'config', 'SYSTEM');
const ids = findingIds;

/** plan -> apply -> checks -> idempotent re-plan -> undo -> byte-identical tree. */
async function runRepair(root: string, opts: { resetSecurity?: boolean; afterApply?: () => void } = {}) {
  const before = treeHashes(root);
  const dumpBefore = hivexDump(SYSTEM(root));
  const scan = await scanTarget({ root });
  const runId = newRunId();
  const plan = await buildPlan(scan, [services], {}, { runId, resetSecurity: opts.resetSecurity }, { tool: 'test' });
  const journalRoot = path.join(root, 'wufix', 'journal');
  await applyPlan(plan, { journalRoot });
  opts.afterApply?.();
  const after = treeHashes(root);
  const dumpAfter = hivexDump(SYSTEM(root));
  const scanAfter = await scanTarget({ root });
  const replan = await buildPlan(scanAfter, [services], { only: ['services'] }, { runId: newRunId(), resetSecurity: opts.resetSecurity }, { tool: 'test' });
  const undo = await undoRun(journalRoot, runId);
  const undone = treeHashes(root);
  return { before, after, undone, dumpBefore, dumpAfter, scan, scanAfter, plan, replan, undo };
}

let tmp = '';
beforeAll(() => {
  if (!reason) tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-services-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!!reason)('services repair', () => {
  it('servicesDisabled (Windows 11): wuauserv and BITS back to Manual, UsoSvc to Automatic (Delayed Start)', async () => {
    const root = path.join(tmp, 'w11');
    await buildWindowsTree(root, servicesDisabled);
    const r = await runRepair(root);
    expect(ids(r.scan).filter((i) => i.startsWith('wu-service-disabled'))).toEqual([
      'wu-service-disabled:UsoSvc',
      'wu-service-disabled:bits',
      'wu-service-disabled:wuauserv',
    ]);
    // One step per disabled service (UsoSvc keeps the DelayedAutostart=1 it has).
    expect(r.plan.steps.map((s) => s.change.kind === 'reg-set' && [s.change.key, s.change.name, s.change.value.data, s.change.old?.data])).toEqual([
      ['ControlSet001\\Services\\wuauserv', 'Start', '03000000', '04000000'],
      ['ControlSet001\\Services\\BITS', 'Start', '03000000', '04000000'],
      ['ControlSet001\\Services\\UsoSvc', 'Start', '02000000', '04000000'],
    ]);
    expect(r.plan.notFixed.map((n) => n.id)).toEqual(['winre-disabled']);
    // The plan a technician reads: grouped by repair, one line per change, the reason beside it.
    const text = renderPlan(r.plan, [services]);
    expect(text).toContain('services: set disabled Windows Update services back to their default start type\n');
    expect(text).toContain(
      '  - Windows\\System32\\config\\SYSTEM  [ControlSet001\\Services\\wuauserv] Start REG_DWORD: 0x00000004 -> 0x00000003\n      because: wu-service-disabled (wuauserv, ControlSet001); Disabled -> Manual; Win10/Server 2016+ default',
    );
    expect(text).toContain(
      '[ControlSet001\\Services\\UsoSvc] Start REG_DWORD: 0x00000004 -> 0x00000002\n      because: wu-service-disabled (UsoSvc, ControlSet001); Disabled -> Automatic (Delayed Start); UsoSvc',
    );
    expect(text).toMatch(/Not fixed by this plan:\n {2}- winre-disabled/);
    // libhivex: exactly those values changed, every other key and value as before.
    expect(asMap(r.dumpAfter)).toEqual(
      withChanges(r.dumpBefore, {
        'ControlSet001\\Services\\wuauserv': { Start: dw(3) },
        'ControlSet001\\Services\\BITS': { Start: dw(3) },
        'ControlSet001\\Services\\UsoSvc': { Start: dw(2), DelayedAutostart: dw(1) },
      }),
    );
    // Only the SYSTEM hive changed on disk.
    expect(changedFiles(r.before, r.after)).toEqual(['Windows/System32/config/SYSTEM']);
    // The findings are gone, nothing else changed, and a re-run plans nothing.
    expect(ids(r.scanAfter)).toEqual(ids(r.scan).filter((i) => !i.startsWith('wu-service-disabled')));
    expect(r.replan.steps).toEqual([]);
    // Undo: every file byte-identical.
    expect(r.undo.restored).toBeGreaterThan(0);
    expect(r.undone).toEqual(r.before);
  });

  it('Current and Default control sets: both patched; CryptSvc, TrustedInstaller, msiserver, EventLog to their defaults', async () => {
    const spec: InstallSpec = {
      ...servicesDisabled,
      currentBuild: 19045,
      ubr: 4046,
      productName: 'Windows 10 Pro',
      displayVersion: '22H2',
      serviceStart: { wuauserv: 4, EventLog: 4 },
      reagent: undefined,
    };
    const root = path.join(tmp, 'two-sets');
    await buildWindowsTree(root, spec);
    // ControlSet002 = the Default set (next boot), with other services disabled there.
    const h = await openHiveFile(SYSTEM(root));
    const sel = h.hive.lookup('Select')!;
    h.hive.setValue(sel, 'Default', 4, new Uint8Array([2, 0, 0, 0]));
    for (const [name, start] of [
      ['wuauserv', 4],
      ['CryptSvc', 4],
      ['TrustedInstaller', 4],
      ['msiserver', 4],
      ['BITS', 3],
      ['EventLog', 2],
    ] as const) {
      h.hive.setValue(h.hive.ensureKey(`ControlSet002\\Services\\${name}`), 'Start', 4, new Uint8Array([start, 0, 0, 0]));
    }
    await saveHiveFile(h);
    const r = await runRepair(root);
    expect(r.scan.controlSets).toEqual(['ControlSet001', 'ControlSet002']);
    const steps = r.plan.steps.map((s) => s.change.kind === 'reg-set' && `${s.change.key} ${s.change.name}=${s.change.value.data} (${s.reason})`);
    expect(steps).toEqual([
      'ControlSet001\\Services\\wuauserv Start=03000000 (wu-service-disabled (wuauserv, ControlSet001))',
      'ControlSet001\\Services\\EventLog Start=02000000 (wu-service-disabled (EventLog, ControlSet001))',
      'ControlSet002\\Services\\wuauserv Start=03000000 (wu-service-disabled (wuauserv, ControlSet002))',
      'ControlSet002\\Services\\CryptSvc Start=02000000 (cryptsvc is disabled (Start=4) in ControlSet002)',
      'ControlSet002\\Services\\TrustedInstaller Start=03000000 (TrustedInstaller is disabled (Start=4) in ControlSet002)',
      'ControlSet002\\Services\\msiserver Start=03000000 (msiserver is disabled (Start=4) in ControlSet002)',
    ]);
    expect(asMap(r.dumpAfter)).toEqual(
      withChanges(r.dumpBefore, {
        'ControlSet001\\Services\\wuauserv': { Start: dw(3) },
        'ControlSet001\\Services\\EventLog': { Start: dw(2) },
        'ControlSet002\\Services\\wuauserv': { Start: dw(3) },
        'ControlSet002\\Services\\CryptSvc': { Start: dw(2) },
        'ControlSet002\\Services\\TrustedInstaller': { Start: dw(3) },
        'ControlSet002\\Services\\msiserver': { Start: dw(3) },
      }),
    );
    expect(changedFiles(r.before, r.after)).toEqual(['Windows/System32/config/SYSTEM']);
    expect(ids(r.scanAfter).filter((i) => i.startsWith('wu-service-disabled'))).toEqual([]);
    expect(r.replan.steps).toEqual([]);
    expect(r.undone).toEqual(r.before);
  });

  it('Windows 7: wuauserv and BITS back to Automatic (Delayed Start) = Start 2 + DelayedAutostart 1', async () => {
    const root = path.join(tmp, 'win7');
    await buildWindowsTree(root, { ...win7Loop, serviceStart: { wuauserv: 4, BITS: 4 } });
    const r = await runRepair(root);
    expect(asMap(r.dumpAfter)).toEqual(
      withChanges(r.dumpBefore, {
        'ControlSet001\\Services\\wuauserv': { Start: dw(2), DelayedAutostart: dw(1) },
        'ControlSet001\\Services\\BITS': { Start: dw(2), DelayedAutostart: dw(1) },
      }),
    );
    expect(r.plan.steps.map((s) => s.note)).toEqual([
      'Disabled -> Automatic (Delayed Start); Win7 default (verified: revertservice.com)',
      'delayed automatic start, with Start=2',
      'Disabled -> Automatic (Delayed Start); Win7 default (inferred)',
      'delayed automatic start, with Start=2',
    ]);
    expect(ids(r.scanAfter)).toEqual(ids(r.scan).filter((i) => !i.startsWith('wu-service-disabled')));
    expect(r.replan.steps).toEqual([]);
    expect(r.undone).toEqual(r.before);
  });

  it('--reset-security: bits and wuauserv get the DACL Windows itself stores (regipy/SYSTEM), owner SYSTEM', async () => {
    const root = path.join(tmp, 'sec');
    await buildWindowsTree(root, servicesDisabled);
    const r = await runRepair(root, { resetSecurity: true });
    const sec = r.plan.steps.filter((s) => s.change.kind === 'reg-set' && s.change.name === 'Security');
    expect(sec.map((s) => s.change.kind === 'reg-set' && s.change.key)).toEqual([
      'ControlSet001\\Services\\wuauserv\\Security',
      'ControlSet001\\Services\\BITS\\Security',
    ]);
    expect(sec[1]!.reason).toBe('--reset-security (bits, ControlSet001)');
    // DACLs of the real Windows descriptors (read with libhivex from the fixture).
    const real = hivexDump(hiveFixture('regipy/SYSTEM'));
    const daclOf = (hexSd: string) => {
      const b = Buffer.from(hexSd, 'hex');
      const off = b.readUInt32LE(16);
      return { off, acl: b.subarray(off, off + b.readUInt16LE(off + 2)).toString('hex'), owner: b.readUInt32LE(4), control: b.readUInt16LE(2) };
    };
    const after = asMap(r.dumpAfter);
    for (const [key, realKey] of [
      ['BITS', 'BITS'],
      ['wuauserv', 'wuauserv'],
    ] as const) {
      const written = after[`controlset001\\services\\${key.toLowerCase()}\\security`]!['security']!;
      expect(written.type).toBe(3);
      const realRow = real.find((x) => x.path.toLowerCase() === `controlset001\\services\\${realKey.toLowerCase()}\\security`)!;
      const w = daclOf(written.data);
      expect(w.acl).toBe(daclOf(realRow.values.find((v) => v.name === 'Security')!.data).acl);
      expect(w.control & 0x8004).toBe(0x8004); // self-relative, DACL present
      // Owner = S-1-5-18 (MS-DTYP 2.4.2.2 bytes).
      expect(
        Buffer.from(written.data, 'hex')
          .subarray(w.owner, w.owner + 12)
          .toString('hex'),
      ).toBe('010100000000000512000000');
    }
    expect(securityDescriptorToSddl(Buffer.from(after['controlset001\\services\\wuauserv\\security']!['security']!.data, 'hex'))).toBe(
      `O:SYG:SY${DEFAULT_SDDL.wuauserv}S:NO_ACCESS_CONTROL`, // the builder's placeholder has a present, NULL SACL: kept, as sc sdset keeps the SACL
    );
    // Nothing but Start and the two Security values changed.
    const changes: Record<string, Record<string, RegData>> = {
      'ControlSet001\\Services\\wuauserv': { Start: dw(3) },
      'ControlSet001\\Services\\BITS': { Start: dw(3) },
      'ControlSet001\\Services\\UsoSvc': { Start: dw(2) },
    };
    for (const k of ['BITS', 'wuauserv'])
      changes[`ControlSet001\\Services\\${k}\\Security`] = { Security: after[`controlset001\\services\\${k.toLowerCase()}\\security`]!['security']! };
    expect(after).toEqual(withChanges(r.dumpBefore, changes));
    expect(r.replan.steps).toEqual([]);
    expect(r.undone).toEqual(r.before);
  });

  it('the start-type table (windows-update.md §3 and the documented choices)', () => {
    const t = (n: string, b: number) => [targetStart(n, b).start, targetStart(n, b).delayed];
    expect(t('wuauserv', 22631)).toEqual([3, false]);
    expect(t('bits', 22631)).toEqual([3, false]);
    expect(t('cryptsvc', 17763)).toEqual([2, false]);
    expect(t('TrustedInstaller', 14393)).toEqual([3, false]);
    expect(t('msiserver', 10240)).toEqual([3, false]);
    expect(t('UsoSvc', 19045)).toEqual([2, true]);
    expect(t('EventLog', 7601)).toEqual([2, false]);
    expect(t('wuauserv', 7601)).toEqual([2, true]);
    expect(t('bits', 7601)).toEqual([2, true]);
    expect(t('cryptsvc', 7601)).toEqual([2, false]);
    // Windows 8.1: no column in §3; the Windows 10 value, marked inferred.
    expect(t('wuauserv', 9600)).toEqual([3, false]);
    expect(targetStart('wuauserv', 9600).source).toMatch(/inferred/);
  });
});

describe.skipIf(!!reason)('services repair: what "update disabler" tools leave (issue #19)', () => {
  const utf16z = (s: string) => new Uint8Array(Buffer.from(`${s}\0`, 'utf16le'));
  /** A Windows 10 22H2 tree with DcomLaunch, wlidsvc and WaaSMedicSvc disabled and wuauserv's ServiceDll redirected. */
  async function disabled(name: string, withDll: boolean): Promise<string> {
    const root = path.join(tmp, name);
    await buildWindowsTree(root, {
      ...servicesDisabled,
      currentBuild: 19045,
      ubr: 3930,
      productName: 'Windows 10 Pro',
      displayVersion: '22H2',
      serviceStart: {},
    });
    const h = await openHiveFile(SYSTEM(root));
    for (const [svc, start] of [
      ['RpcSs', 2],
      ['RpcEptMapper', 2],
      ['DcomLaunch', 4],
      ['wlidsvc', 4],
      ['WaaSMedicSvc', 4],
    ] as const)
      h.hive.setValue(h.hive.ensureKey(`ControlSet001\\Services\\${svc}`), 'Start', 4, new Uint8Array([start, 0, 0, 0]));
    h.hive.setValue(h.hive.ensureKey('ControlSet001\\Services\\wuauserv\\Parameters'), 'ServiceDll', 2, utf16z('%systemroot%\\system32\\wuaueng.dll.disabled'));
    h.hive.setValue(h.hive.ensureKey('ControlSet001\\Services\\BITS\\Parameters'), 'ServiceDll', 2, utf16z('%SystemRoot%\\System32\\qmgr.dll'));
    await saveHiveFile(h);
    if (withDll) writeFileSync(path.join(root, 'Windows', 'System32', 'wuaueng.dll'), new Uint8Array(4096));
    return root;
  }

  it('DcomLaunch, wlidsvc, WaaSMedicSvc back to their defaults; wuauserv ServiceDll back to wuaueng.dll (REG_EXPAND_SZ); rescan clean; undo byte for byte', async () => {
    const root = await disabled('disabler', true);
    const r = await runRepair(root);
    expect(ids(r.scan).filter((i) => /^wu-service-(disabled|dll)/.test(i))).toEqual([
      'wu-service-disabled:DcomLaunch',
      'wu-service-disabled:WaaSMedicSvc',
      'wu-service-disabled:wlidsvc',
      'wu-service-dll:wuauserv',
    ]);
    const dll = r.scan.findings.find((f) => f.id === 'wu-service-dll')!;
    expect(dll.explanation).toMatch(/loads %systemroot%\\system32\\wuaueng\.dll\.disabled instead of Windows' own %systemroot%\\system32\\wuaueng\.dll/);
    expect(dll.evidence).toEqual([
      {
        file: 'Windows\\System32\\config\\SYSTEM',
        key: 'ControlSet001\\Services\\wuauserv\\Parameters',
        value: 'ServiceDll',
        data: '%systemroot%\\system32\\wuaueng.dll.disabled',
      },
    ]);
    expect(r.plan.steps.map((s) => s.change.kind === 'reg-set' && [s.change.key, s.change.name, s.change.value.type])).toEqual([
      ['ControlSet001\\Services\\DcomLaunch', 'Start', 4],
      ['ControlSet001\\Services\\wlidsvc', 'Start', 4],
      ['ControlSet001\\Services\\WaaSMedicSvc', 'Start', 4],
      ['ControlSet001\\Services\\wuauserv\\Parameters', 'ServiceDll', 2],
    ]);
    // libhivex: exactly those values, with Windows' own data.
    expect(asMap(r.dumpAfter)).toEqual(
      withChanges(r.dumpBefore, {
        'ControlSet001\\Services\\DcomLaunch': { Start: dw(2) },
        'ControlSet001\\Services\\wlidsvc': { Start: dw(3) },
        'ControlSet001\\Services\\WaaSMedicSvc': { Start: dw(3) },
        'ControlSet001\\Services\\wuauserv\\Parameters': {
          ServiceDll: { type: 2, data: Buffer.from('%systemroot%\\system32\\wuaueng.dll\0', 'utf16le').toString('hex') },
        },
      }),
    );
    expect(ids(r.scanAfter).filter((i) => /^wu-service-(disabled|dll)/.test(i))).toEqual([]);
    expect(r.replan.steps).toEqual([]);
    expect(r.undone).toEqual(r.before);
  });

  it('locked descriptors (sc sdset with a DENY for SYSTEM) of wuauserv, UsoSvc, WaaSMedicSvc and BITS: found, written back to the bytes Windows stores, rescan clean, undo byte for byte', async () => {
    const root = await disabled('locked', true);
    const h = await openHiveFile(SYSTEM(root));
    const lock = 'D:(D;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;CCLCSWRPWPDTLOCRRC;;;BA)';
    // Windows' own descriptors (real hives: regipy SYSTEM_WIN_10_1709 for the first three, regipy/SYSTEM for BITS), then locked as a disabler does.
    const realBits = Buffer.from(
      hivexDump(hiveFixture('regipy/SYSTEM')).find((x) => x.path.toLowerCase() === 'controlset001\\services\\bits\\security')!.values[0]!.data,
      'hex',
    );
    const real: Record<string, Uint8Array> = {
      wuauserv: serviceSd('wuauserv'),
      UsoSvc: serviceSd('UsoSvc'),
      WaaSMedicSvc: serviceSd('WaaSMedicSvc'),
      BITS: new Uint8Array(realBits),
    };
    for (const [svc, sd] of Object.entries(real))
      h.hive.setValue(h.hive.ensureKey(`ControlSet001\\Services\\${svc}\\Security`), 'Security', 3, resetDacl(sd, lock));
    await saveHiveFile(h);
    const r = await runRepair(root);
    expect(ids(r.scan).filter((i) => i.startsWith('wu-service-locked'))).toEqual([
      'wu-service-locked:UsoSvc',
      'wu-service-locked:WaaSMedicSvc',
      'wu-service-locked:bits',
      'wu-service-locked:wuauserv',
    ]);
    const f = r.scan.findings.find((x) => x.id === 'wu-service-locked' && x.subject === 'wuauserv')!;
    expect(f.repair).toBe('services');
    expect(f.explanation).toMatch(/security descriptor does not let SYSTEM start it/);
    expect(f.evidence[0]).toEqual({
      file: 'Windows\\System32\\config\\SYSTEM',
      key: 'ControlSet001\\Services\\wuauserv\\Security',
      value: 'Security',
      data: 'O:SYG:SYD:(D;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;CCLCSWRPWPDTLOCRRC;;;BA)S:(AU;FA;CCDCLCSWRPWPDTLOSDRCWDWO;;;WD)',
    });
    const sec = r.plan.steps.filter((s) => s.change.kind === 'reg-set' && s.change.name === 'Security');
    expect(sec.map((s) => s.reason)).toEqual([
      'wu-service-locked (wuauserv, ControlSet001)',
      'wu-service-locked (bits, ControlSet001)',
      'wu-service-locked (UsoSvc, ControlSet001)',
      'wu-service-locked (WaaSMedicSvc, ControlSet001)',
    ]);
    // libhivex: each Security value is now exactly the descriptor Windows stored; nothing else but the other repairs' values changed.
    const after = asMap(r.dumpAfter);
    for (const [svc, sd] of Object.entries(real))
      expect(after[`controlset001\\services\\${svc.toLowerCase()}\\security`]!['security']).toEqual({ type: 3, data: Buffer.from(sd).toString('hex') });
    expect(ids(r.scanAfter).filter((i) => /^wu-service-/.test(i))).toEqual([]);
    expect(r.replan.steps).toEqual([]);
    expect(r.undone).toEqual(r.before);
    expect(asMap(hivexDump(SYSTEM(root)))).toEqual(asMap(r.dumpBefore));
  });

  it('locked registry keys (WuMgr: a DENY FullControl for SYSTEM on Services\\wuauserv and \\UsoSvc): found, given the permissions the other service keys share, checked with reglookup; undo byte for byte', async () => {
    const root = await disabled('keylocked', true);
    // Every Services key gets the key descriptor Windows wrote for Services\wuauserv in a real hive (regipy/SYSTEM).
    const realHive = Hive.open(new Uint8Array(readFileSync(hiveFixture('regipy/SYSTEM'))));
    const realSd = new Uint8Array(realHive.keySecurity(realHive.lookup('ControlSet001\\Services\\wuauserv')!)!);
    const h = await openHiveFile(SYSTEM(root));
    const services = h.hive.lookup('ControlSet001\\Services')!;
    for (const k of h.hive.subkeys(services)) h.hive.setKeySecurity(k, realSd);
    const sd = decodeSecurityDescriptor(realSd);
    const locked = encodeSecurityDescriptor({
      ...sd,
      dacl: { revision: sd.dacl!.revision, aces: [{ type: 1, flags: 0, mask: 0xf003f, sid: 'S-1-5-18' }, ...sd.dacl!.aces] },
    });
    for (const svc of ['wuauserv', 'UsoSvc']) h.hive.setKeySecurity(h.hive.lookup(`ControlSet001\\Services\\${svc}`)!, locked);
    await saveHiveFile(h);
    const dacl = (file: string, key: string) =>
      execFileSync('reglookup', ['-s', '-t', 'KEY', '-p', key, file], { encoding: 'utf8' })
        .split('\n')
        .find((l) => l.toLowerCase().startsWith(`${key.toLowerCase()},key,`))!
        .split(',')
        .slice(4)
        .join(',');
    const realLine = dacl(hiveFixture('regipy/SYSTEM'), '/ControlSet001/Services/wuauserv');
    expect(dacl(SYSTEM(root), '/ControlSet001/Services/wuauserv')).toMatch(/^S-1-5-32-544,S-1-5-32-544,,S-1-5-18:DENY:/);
    const after = path.join(tmp, 'keylocked-after.hive');
    const r = await runRepair(root, { afterApply: () => writeFileSync(after, readFileSync(SYSTEM(root))) });
    expect(ids(r.scan).filter((i) => i.startsWith('wu-service-key-locked'))).toEqual(['wu-service-key-locked:UsoSvc', 'wu-service-key-locked:wuauserv']);
    const f = r.scan.findings.find((x) => x.id === 'wu-service-key-locked' && x.subject === 'wuauserv')!;
    expect(f.explanation).toMatch(/registry key do not let SYSTEM read or set its values/);
    expect(f.evidence[0]!.data).toMatch(/^key permissions O:BAG:BAD:AI\(D;;KA;;;SY\)/);
    const keySteps = r.plan.steps.filter((s) => s.change.kind === 'reg-set-key-security');
    expect(keySteps.map((s) => s.reason)).toEqual(['wu-service-key-locked (wuauserv, ControlSet001)', 'wu-service-key-locked (UsoSvc, ControlSet001)']);
    // reglookup (libregfi, not our reader) on the repaired hive: the very permissions of the real hive's key.
    expect(realLine).toMatch(/^S-1-5-32-544,S-1-5-32-544,,S-1-5-32-545:ALLOW:/);
    expect(dacl(after, '/ControlSet001/Services/wuauserv')).toBe(realLine);
    expect(dacl(after, '/ControlSet001/Services/UsoSvc')).toBe(realLine);
    expect(ids(r.scanAfter).filter((i) => /^wu-service-/.test(i))).toEqual([]);
    expect(r.replan.steps).toEqual([]);
    expect(r.undone).toEqual(r.before);
    // The values are as the other repairs left them; libhivex still reads the whole hive.
    expect(asMap(hivexDump(SYSTEM(root)))).toEqual(asMap(r.dumpBefore));
  });

  it('the DLL itself renamed away too: the ServiceDll is not pointed at a missing file; after the repair the finding stays', async () => {
    const root = await disabled('disabler-no-dll', false);
    const r = await runRepair(root);
    expect(ids(r.scan)).toContain('wu-service-dll:wuauserv');
    expect(r.plan.steps.some((s) => s.change.kind === 'reg-set' && s.change.name === 'ServiceDll')).toBe(false);
    expect(ids(r.scanAfter).filter((i) => /^wu-service-(disabled|dll)/.test(i))).toEqual(['wu-service-dll:wuauserv']);
    expect(r.undone).toEqual(r.before);
  });
});
