// The offline system's time zone on real SYSTEM hives (regipy: Eastern and Pacific machines, values
// checked against hivexsh) and on SYSTEM + SOFTWARE hives written by hivexsh for a UTC-6 machine
// (Central Standard Time, with its Dynamic DST table); conversions checked against the tz database.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openHiveFile } from '../../src/hive/hivefile.js';
import type { Hive } from '../../src/hive/hive.js';
import { describeTimeZone, localToUtc, readTimeZone, type TimeZoneRules } from '../../src/windows/timezone.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { hivexsh } from '../helpers/hive-tools.js';

const reason = skipReason(sharedReason(), toolsReason('hivexsh'));
const TZ_KEY = 'ControlSet001\\Control\\TimeZoneInformation';

const open = async (f: string): Promise<Hive> => (await openHiveFile(f, { inspectLogs: false })).hive;

/** hivexsh's own reading of a key's values: name -> its .reg-style text. */
function hivexValues(file: string, key: string): Map<string, string> {
  const r = hivexsh(file, `cd ${key}\nlsval\n`);
  expect(r.status, r.stderr).toBe(0);
  const m = new Map<string, string>();
  for (const l of r.stdout.split('\n')) {
    const x = /^"([^"]+)"=(.*)$/.exec(l);
    if (x) m.set(x[1]!, x[2]!);
  }
  return m;
}
const hivexDwordSigned = (v: string | undefined) => (v && /^dword:[0-9a-f]{8}$/.test(v) ? parseInt(v.slice(6), 16) | 0 : undefined);
/** "hex(3):00,00,0b,00,..." -> its 8 16-bit words (TIME_FIELDS: Year, Month, Day, Hour, Minute, Second, Ms, Weekday). */
const hivexWords = (v: string | undefined) => {
  const b = Buffer.from((v ?? '').replace(/^hex\(3\):/, '').replace(/,/g, ''), 'hex');
  return Array.from({ length: 8 }, (_, i) => b.readUInt16LE(i * 2));
};

// The tz database (Node's Intl) as the independent reference, hour by hour.
function offsetAt(zone: string, u: number): number {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const p = Object.fromEntries(f.formatToParts(new Date(u)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute) - u;
}
/** Wall times of `year` (hourly, and each quarter hour of the transition days) where ours and `zone` differ. */
function disagreements(r: TimeZoneRules, zone: string, year: number): string[] {
  const bad: string[] = [];
  const std = Math.min(offsetAt(zone, Date.UTC(year, 0, 1)), offsetAt(zone, Date.UTC(year, 6, 1)));
  for (let u = Date.UTC(year, 0, 1); u < Date.UTC(year + 1, 0, 1); u += 3_600_000) {
    const o = offsetAt(zone, u);
    const wall = u + o;
    // the tz database's answer with the same convention: standard time when a wall time exists twice
    const ref = o !== std && offsetAt(zone, wall - std) === std ? wall - std : u;
    const ours = localToUtc(r, new Date(wall)).getTime();
    if (ours !== ref && bad.length < 5) bad.push(`${new Date(wall).toISOString()}: ours ${new Date(ours).toISOString()} tz ${new Date(ref).toISOString()}`);
  }
  return bad;
}
const utc = (r: TimeZoneRules, wall: string) => localToUtc(r, new Date(`${wall}Z`)).toISOString();

describe.skipIf(!!reason)('real SYSTEM hives (regipy)', () => {
  for (const [file, zone, name, bias] of [
    ['regipy/SYSTEM', 'America/New_York', 'Eastern Standard Time', 300],
    ['regipy/SYSTEM_B', 'America/New_York', 'Eastern Standard Time', 300],
    ['regipy/SYSTEM_2', 'America/Los_Angeles', 'Pacific Standard Time', 480],
  ] as const) {
    it(`${file}: ${name} as hivexsh reads it; conversions = ${zone}`, async () => {
      const f = hiveFixture(file);
      const hx = hivexValues(f, TZ_KEY);
      expect(hx.get('TimeZoneKeyName')).toBe(`"${name}"`);
      const r = readTimeZone(await open(f))!;
      expect(r.name).toBe(name);
      expect(r.rule.bias).toBe(hivexDwordSigned(hx.get('Bias')));
      expect(r.rule.bias).toBe(bias);
      expect(r.rule.daylightBias).toBe(hivexDwordSigned(hx.get('DaylightBias')));
      const sd = r.rule.standardDate;
      const dd = r.rule.daylightDate;
      expect([sd.year, sd.month, sd.day, sd.hour, sd.minute, sd.second, sd.milliseconds, sd.dayOfWeek]).toEqual(hivexWords(hx.get('StandardStart')));
      expect([dd.year, dd.month, dd.day, dd.hour, dd.minute, dd.second, dd.milliseconds, dd.dayOfWeek]).toEqual(hivexWords(hx.get('DaylightStart')));
      // November's first and March's second Sunday at 02:00 (the US rule since 2007)
      expect([sd.month, sd.dayOfWeek, sd.day, sd.hour, dd.month, dd.dayOfWeek, dd.day, dd.hour]).toEqual([11, 0, 1, 2, 3, 0, 2, 2]);
      expect(describeTimeZone(r)).toEqual({ name, standardOffsetMinutes: -bias, daylight: true, source: `SYSTEM ${TZ_KEY}` });
      // Without SOFTWARE: the static (2007+) US rule, exact from 2007 on.
      for (const y of [2019, 2021, 2023]) expect(disagreements(r, zone, y), `${file} ${y}`).toEqual([]);
    });
  }
});

describe.skipIf(!!reason)('a UTC-6 machine (Central Standard Time) written by hivexsh', () => {
  let tmp = '';
  let system = '';
  let software = '';
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-tz-'));
    system = path.join(tmp, 'SYSTEM');
    software = path.join(tmp, 'SOFTWARE');
    copyFileSync(hiveFixture('hivex/minimal'), system);
    copyFileSync(hiveFixture('hivex/minimal'), software);
    // Values as a Windows 10 machine set to "(UTC-06:00) Central Time (US & Canada)" has them (the dates in
    // SYSTEM are TIME_FIELDS: Year, Month, Day, Hour, ..., Weekday; the TZIs in SOFTWARE hold SYSTEMTIMEs).
    const sys = [
      'add Select',
      'cd Select',
      'setval 2',
      'Current',
      'dword:0x1',
      'Default',
      'dword:0x1',
      'cd ..',
      'add ControlSet001',
      'cd ControlSet001',
      'add Control',
      'cd Control',
      'add TimeZoneInformation',
      'cd TimeZoneInformation',
      'setval 9',
      'Bias',
      'dword:0x168',
      'StandardBias',
      'dword:0x0',
      'DaylightBias',
      'dword:0xffffffc4',
      'StandardStart',
      'hex:3:00,00,0b,00,01,00,02,00,00,00,00,00,00,00,00,00',
      'DaylightStart',
      'hex:3:00,00,03,00,02,00,02,00,00,00,00,00,00,00,00,00',
      'StandardName',
      'string:@tzres.dll,-162',
      'DaylightName',
      'string:@tzres.dll,-161',
      'TimeZoneKeyName',
      'string:Central Standard Time',
      'DynamicDaylightTimeDisabled',
      'dword:0x0',
      'commit',
    ];
    const tzi2006 = '68,01,00,00,00,00,00,00,c4,ff,ff,ff,00,00,0a,00,00,00,05,00,02,00,00,00,00,00,00,00,00,00,04,00,00,00,01,00,02,00,00,00,00,00,00,00';
    const tzi2007 = '68,01,00,00,00,00,00,00,c4,ff,ff,ff,00,00,0b,00,00,00,01,00,02,00,00,00,00,00,00,00,00,00,03,00,00,00,02,00,02,00,00,00,00,00,00,00';
    const soft = [
      ...['Microsoft', 'Windows NT', 'CurrentVersion', 'Time Zones', 'Central Standard Time'].flatMap((k) => [`add ${k}`, `cd ${k}`]),
      'setval 2',
      'TZI',
      `hex:3:${tzi2007}`,
      'Std',
      'string:Central Standard Time',
      'add Dynamic DST',
      'cd Dynamic DST',
      'setval 4',
      'FirstEntry',
      'dword:0x7d6',
      'LastEntry',
      'dword:0x7d7',
      '2006',
      `hex:3:${tzi2006}`,
      '2007',
      `hex:3:${tzi2007}`,
      'commit',
    ];
    for (const [f, script] of [
      [system, sys],
      [software, soft],
    ] as const) {
      const r = hivexsh(f, script.join('\n') + '\n', true);
      expect(r.status, r.stderr).toBe(0);
    }
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('SYSTEM alone: UTC-6 with daylight time; a CBS.log time of 2021 becomes the UTC System.evtx writes', async () => {
    const r = readTimeZone(await open(system))!;
    expect(describeTimeZone(r)).toEqual({ name: 'Central Standard Time', standardOffsetMinutes: -360, daylight: true, source: `SYSTEM ${TZ_KEY}` });
    expect(utc(r, '2021-02-10T08:24:11')).toBe('2021-02-10T14:24:11.000Z');
    expect(utc(r, '2021-06-10T08:24:11')).toBe('2021-06-10T13:24:11.000Z');
    expect(utc(r, '2021-11-07T01:30:00')).toBe('2021-11-07T07:30:00.000Z'); // twice that night: standard time
    expect(disagreements(r, 'America/Chicago', 2021)).toEqual([]);
  });

  it('with SOFTWARE: the Dynamic DST table makes 2006 (old US rule) exact too', async () => {
    const sys = await open(system);
    const withSoft = readTimeZone(sys, await open(software))!;
    expect(withSoft.dynamic?.years.size).toBe(2);
    expect(describeTimeZone(withSoft).source).toBe(
      `SYSTEM ${TZ_KEY} + SOFTWARE Microsoft\\Windows NT\\CurrentVersion\\Time Zones\\Central Standard Time\\Dynamic DST 2006-2007`,
    );
    for (const y of [2006, 2007, 2021]) expect(disagreements(withSoft, 'America/Chicago', y), String(y)).toEqual([]);
    // 2006-03-20 was standard time (DST began 2006-04-02); the static rule alone gets it wrong.
    expect(utc(withSoft, '2006-03-20T12:00:00')).toBe('2006-03-20T18:00:00.000Z');
    expect(utc(readTimeZone(sys)!, '2006-03-20T12:00:00')).toBe('2006-03-20T17:00:00.000Z');
  });
});
