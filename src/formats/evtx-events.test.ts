// evtxUpdateEvent on the real event logs of ../shared/fixtures/logs/evtx, against the README's
// ground truth (found with python3-evtx): System.evtx failures and installs, Setup.evtx servicing
// results (numeric and text states), the Operational log's failed scans. The files are parsed here
// chunk by chunk with the pure parser (parseEvtxChunk), as the collector does.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, sharedReason } from '../../test/helpers/env.js';
import type { UpdateEvent } from '../model/attempts.js';
import { EVTX_CHUNK_SIZE, EVTX_FILE_HEADER_SIZE, parseEvtxChunk, type EvtxEvent } from './evtx.js';
import { evtxCode, evtxUpdateEvent, servicingState, type EvtxLogSource } from './evtx-events.js';

const reason = sharedReason();

function records(name: string): EvtxEvent[] {
  const b = readFileSync(path.join(FIXTURES, 'logs', 'evtx', name));
  const out: EvtxEvent[] = [];
  for (let off = EVTX_FILE_HEADER_SIZE, i = 0; off < b.length; off += EVTX_CHUNK_SIZE, i++) {
    const { events, problems } = parseEvtxChunk(b.subarray(off, off + EVTX_CHUNK_SIZE), i);
    expect(problems).toEqual([]);
    out.push(...events);
  }
  return out;
}

function events(name: string, source: EvtxLogSource, file = `Windows\\System32\\winevt\\Logs\\${source}`): UpdateEvent[] {
  return records(name)
    .map((r) => evtxUpdateEvent(r, file, source))
    .filter((e): e is UpdateEvent => e !== undefined);
}

const count = (es: UpdateEvent[], f: (e: UpdateEvent) => string) => {
  const m: Record<string, number> = {};
  for (const e of es) m[f(e)] = (m[f(e)] ?? 0) + 1;
  return m;
};

const SYSTEM = 'win11-21h2-System-wuclient-19-20-43-44-five-failures-DFIRArtifactMuseum.evtx';
const SETUP_21H1 = 'win10-21h1-Setup-servicing-lcu-reboot-required-DFIRArtifactMuseum.evtx';
const SETUP_2012 = 'win2012r2-Setup-servicing-kb2999226-and-roles-DFIRArtifactMuseum.evtx';
const OPERATIONAL = 'win10-ltsc2019-WindowsUpdateClient%4Operational-scan-failures-0x800b0101-DFIRArtifactMuseum.evtx';

function wellFormed(es: UpdateEvent[]) {
  for (const e of es) {
    expect(e.timeIsLocal).toBe(false);
    expect(e.recordId).toMatch(/^[1-9]\d*$/);
    expect(e.message.length).toBeLessThanOrEqual(500);
    expect(e.message).toMatch(/^[\x20-\x7e]+$/);
    if (e.code !== undefined) expect(e.code).toMatch(/^0x[0-9a-f]{8}$/);
    if (e.kb !== undefined) expect(e.kb).toMatch(/^KB\d+$/);
    if (e.updateId !== undefined) expect(e.updateId).toMatch(/^[0-9a-f-]{36}$/);
  }
}

describe('evtxUpdateEvent: field helpers', () => {
  it('codes as stored: hex with or without 0x, negative and positive decimal; junk is undefined', () => {
    expect(evtxCode('0x80073d02')).toBe('0x80073d02');
    expect(evtxCode('800F0984')).toBe('0x800f0984');
    expect(evtxCode('-2146498172')).toBe('0x800f0984');
    expect(evtxCode('2148469124')).toBe('0x800f0984');
    expect(evtxCode('0x0')).toBe('0x00000000');
    expect(evtxCode('')).toBeUndefined();
    expect(evtxCode('error')).toBeUndefined();
    expect(evtxCode('99999999999')).toBeUndefined();
  });
  it('servicing states: the Textized twin, 5000 + CBS state, plain text', () => {
    const ev = (data: Record<string, string>): EvtxEvent => ({ recordId: 1n, timeCreated: new Date(0), provider: 'x', eventId: 1, data });
    expect(servicingState(ev({ S: '5112', STextized: 'Installed' }), 'S')).toBe('Installed');
    expect(servicingState(ev({ S: '5064' }), 'S')).toBe('Staged');
    expect(servicingState(ev({ S: '5000' }), 'S')).toBe('Absent');
    expect(servicingState(ev({ S: 'Absent' }), 'S')).toBe('Absent');
    expect(servicingState(ev({ S: '4242' }), 'S')).toBe('4242');
    expect(servicingState(ev({}), 'S')).toBeUndefined();
  });
  it('a failure (Servicing 3) with its ErrorCode; target Absent is an uninstall; other providers are nothing', () => {
    const rec = (eventId: number, data: Record<string, string>, provider = 'Microsoft-Windows-Servicing'): EvtxEvent => ({
      recordId: 7n,
      eventRecordId: 9n,
      timeCreated: new Date('2022-02-11T10:00:00Z'),
      provider,
      eventId,
      data,
    });
    const f = 'Windows\\System32\\winevt\\Logs\\Setup.evtx';
    const failed = evtxUpdateEvent(
      rec(3, { PackageIdentifier: 'KB5010342', IntendedPackageState: '5112', ErrorCode: '0x800f0984', Client: 'UpdateAgentLCU' }),
      f,
      'Setup.evtx',
    );
    expect(failed).toMatchObject({
      kind: 'install',
      result: 'failed',
      kb: 'KB5010342',
      code: '0x800f0984',
      recordId: '9',
      eventId: 3,
      client: 'UpdateAgentLCU',
    });
    expect(failed!.message).toBe('Package KB5010342 failed to be changed to the Installed state. Status: 0x800f0984.');
    const un = evtxUpdateEvent(
      rec(1, { PackageIdentifier: 'KB5010342', InitialPackageState: '5112', IntendedPackageState: '5000', Client: 'DISM' }),
      f,
      'Setup.evtx',
    );
    expect(un).toMatchObject({ kind: 'uninstall', result: 'in-progress' });
    expect(evtxUpdateEvent(rec(3, { PackageIdentifier: 'KB1' }, 'Microsoft-Windows-Kernel-Power'), f, 'Setup.evtx')).toBeUndefined();
    // Servicing events in System.evtx (not their log) and WU events in Setup.evtx are not read.
    expect(evtxUpdateEvent(rec(2, { PackageIdentifier: 'KB5010342' }), f, 'System.evtx')).toBeUndefined();
    expect(evtxUpdateEvent(rec(20, { errorCode: '0x80240016' }, 'Microsoft-Windows-WindowsUpdateClient'), f, 'Setup.evtx')).toBeUndefined();
  });
});

describe.skipIf(!!reason)(`evtxUpdateEvent on real event logs${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('System.evtx (Windows 11): five install failures (3 x 0x80073d02, 2 x 0x80240016), KB5009566 installed', () => {
    const es = events(SYSTEM, 'System.evtx');
    wellFormed(es);
    const failed = es.filter((e) => e.result === 'failed');
    expect(count(failed, (e) => e.code ?? '-')).toEqual({ '0x80073d02': 3, '0x80240016': 2 });
    expect(failed.every((e) => e.kind === 'install' && e.eventId === 20)).toBe(true);
    // python3-evtx: System/EventRecordID of the five event-20 records.
    expect(failed.map((e) => e.recordId).sort()).toEqual(['470', '507', '531', '602', '712']);
    const photos = failed.find((e) => e.recordId === '470')!;
    expect(photos).toMatchObject({ title: '9WZDNCRFJBH4-Microsoft.Windows.Photos', updateId: '6ce0fd31-e410-43e3-aaca-edd43c217639', source: 'System.evtx' });
    expect(photos.time!.toISOString()).toBe('2022-02-05T19:17:25.687Z');
    expect(failed.find((e) => e.recordId === '507')!.kb).toBe('KB2267602');
    const lcu = es.filter((e) => e.kb === 'KB5009566');
    expect(lcu.map((e) => `${e.eventId} ${e.kind} ${e.result}`)).toEqual(['44 download in-progress', '43 install in-progress', '19 install succeeded']);
    expect(count(es, (e) => String(e.eventId))).toEqual({ '19': 62, '20': 5, '43': 66, '44': 116 });
  });

  it('Setup.evtx (Windows 10 21H1): servicing 1/4/2 with numeric states; KB5010342 ends pending a reboot; no failure', () => {
    const es = events(SETUP_21H1, 'Setup.evtx');
    wellFormed(es);
    expect(es.filter((e) => e.result === 'failed')).toEqual([]);
    const kb = es.filter((e) => e.kb === 'KB5010342');
    expect(kb.map((e) => `${e.eventId} ${e.result}`)).toEqual(['1 in-progress', '4 reboot-pending']);
    expect(kb[1]).toMatchObject({ kind: 'install', rebootRequired: true, client: 'UpdateAgentLCU', recordId: '20' });
    expect(kb[1]!.time!.toISOString()).toMatch(/^2022-02-08T20:54:59/);
    expect(kb[0]!.message).toBe('Initiating changes for package KB5010342. Current state is Absent. Target state is Installed. Client id: UpdateAgentLCU.');
    expect(kb[1]!.message).toBe('A reboot is necessary before package KB5010342 can be changed to the Installed state.');
    // KB5009543: started, reboot, then installed after the restart.
    expect(es.filter((e) => e.kb === 'KB5009543').map((e) => e.result)).toEqual(['in-progress', 'reboot-pending', 'succeeded']);
    // Defender definitions (selectable update turned off: 8, 14 reboot, 10 done) are a feature, not an install.
    expect(es.filter((e) => e.kind === 'feature').map((e) => `${e.eventId} ${e.result}`)).toEqual(['8 in-progress', '14 reboot-pending', '10 succeeded']);
  });

  it('Setup.evtx (2012 R2): KB2999226 installed with text-only states; role features 7/9 are features; no failure', () => {
    const es = events(SETUP_2012, 'Setup.evtx');
    wellFormed(es);
    expect(es.filter((e) => e.result === 'failed')).toEqual([]);
    expect(es.filter((e) => e.kb === 'KB2999226').map((e) => `${e.kind} ${e.result}`)).toEqual(['install in-progress', 'install succeeded']);
    expect(es.find((e) => e.kb === 'KB2999226')!.message).toMatch(/Current state is Absent\. Target state is Installed\. Client id: WindowsUpdateAgent/);
    const feats = es.filter((e) => e.kind === 'feature');
    expect(feats.length).toBe(es.length - 2);
    expect(new Set(feats.map((e) => e.eventId))).toEqual(new Set([7, 9]));
    expect(feats.find((e) => e.title === 'DNS-Server-Full-Role' && e.result === 'succeeded')).toMatchObject({ package: 'DNS-Server-Full-Role-Package' });
  });

  it('Operational: 26 failed scans (14 x 0x800b0101 all on service 8b24b027, 10 x 0x80240438, 2 x 0x8024402c); 26 is a scan that worked', () => {
    const es = events(OPERATIONAL, 'WindowsUpdateClient.evtx', 'Windows\\System32\\winevt\\Logs\\Microsoft-Windows-WindowsUpdateClient%4Operational.evtx');
    wellFormed(es);
    const failed = es.filter((e) => e.result === 'failed');
    expect(failed.every((e) => e.kind === 'scan' && e.eventId === 25)).toBe(true);
    expect(count(failed, (e) => e.code!)).toEqual({ '0x800b0101': 14, '0x80240438': 10, '0x8024402c': 2 });
    expect(failed.filter((e) => e.code === '0x800b0101').every((e) => e.message.includes('{8b24b027-1dee-babb-9a95-3517dfb9c552}'))).toBe(true);
    expect(es.filter((e) => e.eventId === 26).every((e) => e.kind === 'scan' && e.result === 'succeeded')).toBe(true);
    expect(es.filter((e) => e.eventId === 41).every((e) => e.kind === 'download' && e.result === 'succeeded')).toBe(true);
    expect(es.filter((e) => e.kind === 'install' || e.kind === 'uninstall')).toEqual([]);
    // Records 1-6 are dated after the 2020 records that follow them: the times are the records' own.
    expect(es[0]!.time!.toISOString()).toBe('2021-02-13T19:52:05.296Z');
    expect(es[13]!.time!.toISOString()).toMatch(/^2020-08-01T20:59:45/);
  });
});
