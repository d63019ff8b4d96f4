// Local wall-clock time -> UTC with Windows' time zone rules, checked against the IANA tz database
// (Node's Intl, an independent implementation) over whole years, and against known transition dates.
// The TZI bytes below are what Windows ships in SOFTWARE\...\Time Zones\<zone>\TZI.
import { describe, it, expect } from 'vitest';
import { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import {
  describeTimeZone,
  localToUtc,
  parseSystemTime,
  parseTimeFields,
  parseTzi,
  readTimeZone,
  ruleForYear,
  transitionWall,
  type TimeZoneRules,
  type TziRule,
} from './timezone.js';

const MIN = 60_000;

/** SYSTEMTIME bytes: [year, month, dayOfWeek, day, hour, minute, second, ms]. */
function st(f: number[]): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  f.forEach((v, i) => dv.setUint16(i * 2, v, true));
  return b;
}
/** SYSTEM's TIME_FIELDS bytes, given in SYSTEMTIME order [year, month, dayOfWeek, day, hour, ...]: stored Year, Month, Day, Hour, Minute, Second, Ms, Weekday. */
function tf(f: number[]): Uint8Array {
  const [year = 0, month = 0, dayOfWeek = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0] = f;
  return st([year, month, day, hour, minute, second, ms, dayOfWeek]);
}
/** The 44-byte TZI value. */
function tziBytes(bias: number, std: number[], dlt: number[], standardBias = 0, daylightBias = -60): Uint8Array {
  const b = new Uint8Array(44);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, bias, true);
  dv.setInt32(4, standardBias, true);
  dv.setInt32(8, daylightBias, true);
  b.set(st(std), 12);
  b.set(st(dlt), 28);
  return b;
}
const tzi = (...a: Parameters<typeof tziBytes>): TziRule => parseTzi(tziBytes(...a))!;
const rules = (rule: TziRule, extra: Partial<TimeZoneRules> = {}): TimeZoneRules => ({ rule, dynamicDisabled: false, source: 'test', ...extra });

// Windows' TZI values (Bias; StandardDate = DST end in local daylight time; DaylightDate = DST start in local standard time).
const CENTRAL = tzi(360, [0, 11, 0, 1, 2, 0, 0, 0], [0, 3, 0, 2, 2, 0, 0, 0]);
const W_EUROPE = tzi(-60, [0, 10, 0, 5, 3, 0, 0, 0], [0, 3, 0, 5, 2, 0, 0, 0]);
const AUS_EASTERN = tzi(-600, [0, 4, 0, 1, 3, 0, 0, 0], [0, 10, 0, 1, 2, 0, 0, 0]);
const CHINA = tzi(-480, [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], 0, 0);
const INDIA = tzi(-330, [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], 0, 0);
// Central Standard Time\Dynamic DST: 2006 (the old US rule: first Sunday of April, last Sunday of October), 2007 (today's).
const CENTRAL_2006 = tzi(360, [0, 10, 0, 5, 2, 0, 0, 0], [0, 4, 0, 1, 2, 0, 0, 0]);

// --- the independent reference: the IANA database through Intl ---------------------------------
const fmts = new Map<string, Intl.DateTimeFormat>();
/** Offset (ms, local - UTC) of `zone` at the UTC instant `u`. */
function offsetAt(zone: string, u: number): number {
  let f = fmts.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    fmts.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(u)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second) - Math.floor(u / 1000) * 1000;
}
/** The tz database's UTC for a wall time: standard time when it exists twice, the standard offset in a gap. */
function referenceUtc(zone: string, wall: number, off = (u: number) => offsetAt(zone, u)): number {
  const y = new Date(wall).getUTCFullYear();
  const standard = Math.min(off(Date.UTC(y, 0, 1)), off(Date.UTC(y, 6, 1)));
  const offs = [...new Set([-1, 0, 1].map((d) => off(wall + d * 86_400_000)))];
  const valid = offs.filter((o) => off(wall - o) === o);
  const o = valid.includes(standard) ? standard : valid.length === 1 ? valid[0]! : standard;
  return wall - o;
}
const STEP = 15 * MIN;
/** The tz database's offsets of `zone` at every 15 minutes of `year` (and 2 days each side), computed once. */
const tables = new Map<string, (u: number) => number>();
function slotOffsets(zone: string, year: number): (u: number) => number {
  const key = `${zone} ${year}`;
  let f = tables.get(key);
  if (!f) {
    const from = Date.UTC(year, 0, 1) - 2 * 86_400_000;
    const slots = new Int32Array((Date.UTC(year + 1, 0, 1) + 2 * 86_400_000 - from) / STEP);
    for (let i = 0; i < slots.length; i++) slots[i] = offsetAt(zone, from + i * STEP);
    // Every transition of these zones is at a multiple of 15 minutes UTC.
    f = (u) => (u % STEP === 0 && u >= from && (u - from) / STEP < slots.length ? slots[(u - from) / STEP]! : offsetAt(zone, u));
    tables.set(key, f);
  }
  return f;
}
/** Every 15 minutes of `year`: the wall times where ours and the tz database disagree. */
function disagreements(r: TimeZoneRules, zone: string, year: number): string[] {
  const bad: string[] = [];
  const off = slotOffsets(zone, year);
  for (let w = Date.UTC(year, 0, 1); w < Date.UTC(year + 1, 0, 1); w += STEP) {
    const ours = localToUtc(r, new Date(w)).getTime();
    const ref = referenceUtc(zone, w, off);
    if (ours !== ref && bad.length < 5) bad.push(`${new Date(w).toISOString()} ours ${new Date(ours).toISOString()} tz ${new Date(ref).toISOString()}`);
  }
  return bad;
}
const utc = (wall: string, r: TimeZoneRules) => localToUtc(r, new Date(`${wall}Z`)).toISOString();

describe('transition dates (SYSTEMTIME day-of-week form)', () => {
  it('US Central 2021: DST from 2021-03-14 02:00 to 2021-11-07 02:00 local', () => {
    expect(new Date(transitionWall(CENTRAL.daylightDate, 2021)).toISOString()).toBe('2021-03-14T02:00:00.000Z');
    expect(new Date(transitionWall(CENTRAL.standardDate, 2021)).toISOString()).toBe('2021-11-07T02:00:00.000Z');
  });
  it('Europe W. 2021: last Sundays 2021-03-28 02:00 and 2021-10-31 03:00; wDay 5 is the last even in a 4-Sunday month', () => {
    expect(new Date(transitionWall(W_EUROPE.daylightDate, 2021)).toISOString()).toBe('2021-03-28T02:00:00.000Z');
    expect(new Date(transitionWall(W_EUROPE.standardDate, 2021)).toISOString()).toBe('2021-10-31T03:00:00.000Z');
    expect(new Date(transitionWall(W_EUROPE.standardDate, 2022)).toISOString()).toBe('2022-10-30T03:00:00.000Z');
  });
  it('AUS Eastern 2021: DST ends 2021-04-04 03:00, starts 2021-10-03 02:00', () => {
    expect(new Date(transitionWall(AUS_EASTERN.standardDate, 2021)).toISOString()).toBe('2021-04-04T03:00:00.000Z');
    expect(new Date(transitionWall(AUS_EASTERN.daylightDate, 2021)).toISOString()).toBe('2021-10-03T02:00:00.000Z');
  });
});

describe('localToUtc: known instants', () => {
  const c = rules(CENTRAL);
  it('US Central 2021 around both transitions', () => {
    expect(utc('2021-01-15T12:00:00', c)).toBe('2021-01-15T18:00:00.000Z');
    expect(utc('2021-03-14T01:59:00', c)).toBe('2021-03-14T07:59:00.000Z');
    expect(utc('2021-03-14T03:00:00', c)).toBe('2021-03-14T08:00:00.000Z');
    expect(utc('2021-07-01T12:00:00', c)).toBe('2021-07-01T17:00:00.000Z');
    expect(utc('2021-11-07T00:59:00', c)).toBe('2021-11-07T05:59:00.000Z');
    expect(utc('2021-11-07T02:00:00', c)).toBe('2021-11-07T08:00:00.000Z');
  });
  it('the hour that exists twice is taken as standard time; the spring-forward gap uses the standard offset', () => {
    expect(utc('2021-11-07T01:30:00', c)).toBe('2021-11-07T07:30:00.000Z'); // 01:30 CST, not 01:30 CDT (06:30Z)
    expect(utc('2021-03-14T02:30:00', c)).toBe('2021-03-14T08:30:00.000Z');
  });
  it('southern hemisphere: AUS Eastern is on daylight time in January, standard in July', () => {
    const a = rules(AUS_EASTERN);
    expect(utc('2021-01-10T12:00:00', a)).toBe('2021-01-10T01:00:00.000Z');
    expect(utc('2021-07-10T12:00:00', a)).toBe('2021-07-10T02:00:00.000Z');
    expect(utc('2021-04-04T02:30:00', a)).toBe('2021-04-03T16:30:00.000Z'); // twice: standard (+10)
    expect(utc('2021-12-31T23:30:00', a)).toBe('2021-12-31T12:30:00.000Z');
  });
  it('no DST: China and India are a fixed offset all year', () => {
    expect(utc('2021-07-01T08:00:00', rules(CHINA))).toBe('2021-07-01T00:00:00.000Z');
    expect(utc('2021-07-01T05:30:00', rules(INDIA))).toBe('2021-07-01T00:00:00.000Z');
  });
  it('keeps milliseconds and gives an invalid Date for an invalid one', () => {
    expect(utc('2021-07-01T12:00:00.123', c)).toBe('2021-07-01T17:00:00.123Z');
    expect(Number.isNaN(localToUtc(c, new Date(NaN)).getTime())).toBe(true);
  });
});

describe('localToUtc equals the tz database every 15 minutes of a year', () => {
  for (const [name, r, zone, years] of [
    ['Central Standard Time', CENTRAL, 'America/Chicago', [2021, 2024]],
    ['W. Europe Standard Time', W_EUROPE, 'Europe/Berlin', [2021]],
    ['AUS Eastern Standard Time', AUS_EASTERN, 'Australia/Sydney', [2021]],
    ['China Standard Time', CHINA, 'Asia/Shanghai', [2021]],
    ['India Standard Time', INDIA, 'Asia/Kolkata', [2021]],
  ] as const) {
    for (const y of years) it(`${name} ${y} = ${zone}`, () => expect(disagreements(rules(r), zone, y)).toEqual([]));
  }
  it('the fixture sanity: a wrong rule (Central without DST) does disagree with America/Chicago', () => {
    const noDst = tzi(360, [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]);
    expect(disagreements(rules(noDst), 'America/Chicago', 2021).length).toBeGreaterThan(0);
  });
});

describe('Dynamic DST and the absolute-date form', () => {
  const dyn = rules(CENTRAL, {
    dynamic: {
      firstYear: 2006,
      lastYear: 2007,
      years: new Map([
        [2006, CENTRAL_2006],
        [2007, CENTRAL],
      ]),
    },
  });
  it("uses the year's entry; before FirstEntry the first, after LastEntry the last (= America/Chicago)", () => {
    expect(ruleForYear(dyn, 2006)).toBe(CENTRAL_2006);
    expect(ruleForYear(dyn, 1999)).toBe(CENTRAL_2006);
    expect(ruleForYear(dyn, 2030)).toBe(CENTRAL);
    expect(utc('2006-04-02T03:00:00', dyn)).toBe('2006-04-02T08:00:00.000Z');
    expect(utc('2006-10-29T01:30:00', dyn)).toBe('2006-10-29T07:30:00.000Z');
    expect(utc('2006-03-20T12:00:00', dyn)).toBe('2006-03-20T18:00:00.000Z'); // still standard time under the 2006 rule
    for (const y of [2005, 2006, 2007, 2030]) expect(disagreements(dyn, 'America/Chicago', y), String(y)).toEqual([]);
    // The static rule alone is wrong in 2006: the table matters.
    expect(disagreements(rules(CENTRAL), 'America/Chicago', 2006).length).toBeGreaterThan(0);
  });
  it('absolute dates (wYear != 0) happen in that year only', () => {
    const abs = rules(tzi(360, [2021, 11, 0, 7, 2, 0, 0, 0], [2021, 3, 0, 14, 2, 0, 0, 0]));
    expect(disagreements(abs, 'America/Chicago', 2021)).toEqual([]);
    expect(utc('2022-07-01T12:00:00', abs)).toBe('2022-07-01T18:00:00.000Z');
  });
});

describe('SYSTEM TimeZoneInformation dates are TIME_FIELDS, TZI dates SYSTEMTIMEs', () => {
  it("a US zone's StandardStart as Windows stores it (regipy SYSTEM): November, first Sunday, 02:00", () => {
    const bytes = new Uint8Array([0, 0, 0x0b, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseTimeFields(bytes)).toEqual({ year: 0, month: 11, dayOfWeek: 0, day: 1, hour: 2, minute: 0, second: 0, milliseconds: 0 });
    // Read as a SYSTEMTIME the same bytes would say "2nd Monday, 00:00": the wrong layout.
    expect(parseSystemTime(bytes)).toMatchObject({ dayOfWeek: 1, day: 2, hour: 0 });
    expect(parseTimeFields(tf([0, 3, 0, 2, 2, 0, 0, 0]))).toEqual(parseSystemTime(st([0, 3, 0, 2, 2, 0, 0, 0])));
  });
});

describe('hostile values are ignored', () => {
  it('SYSTEMTIME out of range, TZI of the wrong size', () => {
    expect(parseSystemTime(st([0, 13, 0, 1, 2, 0, 0, 0]))).toBeUndefined();
    expect(parseSystemTime(st([0, 3, 7, 1, 2, 0, 0, 0]))).toBeUndefined();
    expect(parseSystemTime(st([0, 3, 0, 6, 2, 0, 0, 0]))).toBeUndefined();
    expect(parseSystemTime(st([0, 3, 0, 2, 24, 0, 0, 0]))).toBeUndefined();
    expect(parseSystemTime(st([2021, 2, 0, 30, 2, 0, 0, 0]))).toBeUndefined();
    expect(parseSystemTime(new Uint8Array(15))).toBeUndefined();
    expect(parseSystemTime(st([0, 3, 0, 2, 2, 0, 0, 0]))).toMatchObject({ month: 3, day: 2, hour: 2 });
    expect(parseTzi(tziBytes(360, [0, 11, 0, 1, 2, 0, 0, 0], [0, 3, 0, 2, 2, 0, 0, 0]).subarray(0, 43))).toBeUndefined();
    expect(parseTzi(tziBytes(100_000, [0, 11, 0, 1, 2, 0, 0, 0], [0, 3, 0, 2, 2, 0, 0, 0]))).toBeUndefined();
  });
});

// --- readTimeZone on hives built in memory -------------------------------------------------------
const dword = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
const sz = (s: string) => new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
const TZ_KEY = 'ControlSet001\\Control\\TimeZoneInformation';

function systemHive(values: Record<string, [number, Uint8Array]>, select = true): Hive {
  const h = Hive.create({ minor: 5, rootName: 'ROOT' });
  if (select) h.setValue(h.ensureKey('Select'), 'Current', REG.DWORD, dword(1));
  const k = h.ensureKey(TZ_KEY);
  for (const [n, [t, d]] of Object.entries(values)) h.setValue(k, n, t, d);
  return h;
}
const centralSystem = (over: Record<string, [number, Uint8Array]> = {}) =>
  systemHive({
    Bias: [REG.DWORD, dword(360)],
    StandardBias: [REG.DWORD, dword(0)],
    DaylightBias: [REG.DWORD, dword(-60)],
    StandardStart: [REG.BINARY, tf([0, 11, 0, 1, 2, 0, 0, 0])],
    DaylightStart: [REG.BINARY, tf([0, 3, 0, 2, 2, 0, 0, 0])],
    TimeZoneKeyName: [REG.SZ, sz('Central Standard Time')],
    DynamicDaylightTimeDisabled: [REG.DWORD, dword(0)],
    ...over,
  });
function centralSoftware(first = 2006, last = 2007): Hive {
  const h = Hive.create({ minor: 5, rootName: 'ROOT' });
  const z = h.ensureKey('Microsoft\\Windows NT\\CurrentVersion\\Time Zones\\Central Standard Time');
  h.setValue(z, 'TZI', REG.BINARY, tziBytes(360, [0, 11, 0, 1, 2, 0, 0, 0], [0, 3, 0, 2, 2, 0, 0, 0]));
  const d = h.ensureKey('Microsoft\\Windows NT\\CurrentVersion\\Time Zones\\Central Standard Time\\Dynamic DST');
  h.setValue(d, 'FirstEntry', REG.DWORD, dword(first));
  h.setValue(d, 'LastEntry', REG.DWORD, dword(last));
  h.setValue(d, '2006', REG.BINARY, tziBytes(360, [0, 10, 0, 5, 2, 0, 0, 0], [0, 4, 0, 1, 2, 0, 0, 0]));
  h.setValue(d, '2007', REG.BINARY, tziBytes(360, [0, 11, 0, 1, 2, 0, 0, 0], [0, 3, 0, 2, 2, 0, 0, 0]));
  return h;
}

describe('readTimeZone', () => {
  it('SYSTEM alone: the static rule, described as UTC-6 with daylight time', () => {
    const r = readTimeZone(centralSystem())!;
    expect(r.name).toBe('Central Standard Time');
    expect(r.dynamic).toBeUndefined();
    expect(describeTimeZone(r)).toEqual({ name: 'Central Standard Time', standardOffsetMinutes: -360, daylight: true, source: `SYSTEM ${TZ_KEY}` });
    expect(disagreements(r, 'America/Chicago', 2021)).toEqual([]);
  });
  it('with SOFTWARE: the Dynamic DST table of the named zone', () => {
    const r = readTimeZone(centralSystem(), centralSoftware())!;
    expect([r.dynamic?.firstYear, r.dynamic?.lastYear, r.dynamic?.years.size]).toEqual([2006, 2007, 2]);
    expect(describeTimeZone(r).source).toMatch(/Time Zones\\Central Standard Time\\Dynamic DST 2006-2007$/);
    expect(disagreements(r, 'America/Chicago', 2006)).toEqual([]);
  });
  it('DynamicDaylightTimeDisabled = 1: the table is not used', () => {
    const r = readTimeZone(centralSystem({ DynamicDaylightTimeDisabled: [REG.DWORD, dword(1)] }), centralSoftware())!;
    expect(r.dynamic).toBeUndefined();
    expect(r.dynamicDisabled).toBe(true);
  });
  it('DST off (dates zeroed, as Windows writes it): a fixed offset', () => {
    const r = readTimeZone(
      centralSystem({ StandardStart: [REG.BINARY, st([0, 0, 0, 0, 0, 0, 0, 0])], DaylightStart: [REG.BINARY, st([0, 0, 0, 0, 0, 0, 0, 0])] }),
    )!;
    expect(describeTimeZone(r)).toMatchObject({ standardOffsetMinutes: -360, daylight: false });
    expect(utc('2021-07-01T12:00:00', r)).toBe('2021-07-01T18:00:00.000Z');
  });
  it('a UTC zone reports offset 0 (not -0)', () => {
    const r = readTimeZone(systemHive({ Bias: [REG.DWORD, dword(0)], TimeZoneKeyName: [REG.SZ, sz('UTC')] }))!;
    expect(Object.is(describeTimeZone(r).standardOffsetMinutes, 0)).toBe(true);
  });
  it('hostile values: wrong types and sizes are ignored, a broken Bias falls back to the TZI, names with a backslash are not looked up', () => {
    const shortDates = readTimeZone(centralSystem({ DaylightStart: [REG.BINARY, new Uint8Array(15)] }))!;
    expect(describeTimeZone(readTimeZone(centralSystem({ DaylightStart: [REG.BINARY, tf([0, 3, 9, 2, 2, 0, 0, 0])] }))).daylight).toBe(false);
    expect(describeTimeZone(shortDates).daylight).toBe(false);
    const szBias = centralSystem({ Bias: [REG.SZ, sz('360')] });
    expect(readTimeZone(szBias)).toBeUndefined();
    const fallback = readTimeZone(szBias, centralSoftware())!;
    expect(fallback.source).toMatch(/^SOFTWARE .*Central Standard Time\\TZI/);
    expect(describeTimeZone(fallback).standardOffsetMinutes).toBe(-360);
    const sneaky = readTimeZone(centralSystem({ TimeZoneKeyName: [REG.SZ, sz('..\\Central Standard Time')] }), centralSoftware())!;
    expect([sneaky.name, sneaky.dynamic]).toEqual([undefined, undefined]);
    const huge = readTimeZone(centralSystem(), centralSoftware(1601, 30827))!;
    expect(huge.dynamic).toBeUndefined();
    expect(readTimeZone(centralSystem({ Bias: [REG.DWORD, dword(0x7fffffff)] }))).toBeUndefined();
  });
  it('no Select: the lowest control set; no TimeZoneInformation or not a SYSTEM hive: undefined, described as UTC', () => {
    expect(readTimeZone(systemHive({ Bias: [REG.DWORD, dword(-330)] }, false))?.rule.bias).toBe(-330);
    const empty = Hive.create({ minor: 5, rootName: 'ROOT' });
    expect(readTimeZone(empty)).toBeUndefined();
    empty.ensureKey('ControlSet001\\Control');
    expect(readTimeZone(empty)).toBeUndefined();
    expect(describeTimeZone(undefined)).toEqual({ daylight: false, source: 'not found: local times taken as UTC' });
  });
});
