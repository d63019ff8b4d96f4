// Local wall-clock -> UTC with Windows' rules, checked against the IANA tz database (Node's Intl)
// as the independent reference, around each transition.
import { describe, expect, it } from 'vitest';
import { describeTimeZone, localToUtc, parseTzi, type TimeZoneRules, type Transition } from './timezone.js';

const t = (month: number, dayOfWeek: number, day: number, hour: number, year = 0): Transition => ({ year, month, dayOfWeek, day, hour, minute: 0 });
const none = t(0, 0, 0, 0);
const ZONES: Record<string, { iana: string; rules: TimeZoneRules }> = {
  // Windows' registry data for these zones (TZI): Bias, StandardBias, DaylightBias, StandardDate, DaylightDate.
  'Central Standard Time': {
    iana: 'America/Chicago',
    rules: { bias: 360, standardBias: 0, daylightBias: -60, standard: t(11, 0, 1, 2), daylight: t(3, 0, 2, 2), source: 'test' },
  },
  'W. Europe Standard Time': {
    iana: 'Europe/Berlin',
    rules: { bias: -60, standardBias: 0, daylightBias: -60, standard: t(10, 0, 5, 3), daylight: t(3, 0, 5, 2), source: 'test' },
  },
  'AUS Eastern Standard Time': {
    iana: 'Australia/Sydney',
    rules: { bias: -600, standardBias: 0, daylightBias: -60, standard: t(4, 0, 1, 3), daylight: t(10, 0, 1, 2), source: 'test' },
  },
  'India Standard Time': { iana: 'Asia/Kolkata', rules: { bias: -330, standardBias: 0, daylightBias: 0, standard: none, daylight: none, source: 'test' } },
};

/** The wall-clock fields of UTC instant `ms` in an IANA zone, as a UTC Date (Intl as reference). */
const formats = new Map<string, Intl.DateTimeFormat>();
function wallIn(iana: string, ms: number): Date {
  let f = formats.get(iana);
  if (!f)
    formats.set(
      iana,
      (f = new Intl.DateTimeFormat('en-US', {
        timeZone: iana,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      })),
    );
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return new Date(Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!));
}

describe('localToUtc', () => {
  for (const [name, z] of Object.entries(ZONES)) {
    it(`${name} matches ${z.iana} every 30 minutes through 2021 (except the repeated fall-back hour)`, () => {
      let checked = 0;
      for (let ms = Date.UTC(2021, 0, 1); ms < Date.UTC(2022, 0, 1); ms += 30 * 60_000) {
        const wall = wallIn(z.iana, ms);
        const back = localToUtc(z.rules, wall).getTime();
        // A wall time that occurs twice (clocks set back) maps to its standard-time instant.
        const again = wallIn(z.iana, ms + 3600_000).getTime() === wall.getTime() || wallIn(z.iana, ms - 3600_000).getTime() === wall.getTime();
        if (again) continue;
        expect(new Date(back).toISOString(), `${wall.toISOString()} local`).toBe(new Date(ms).toISOString());
        checked++;
      }
      expect(checked).toBeGreaterThan(17_000);
    });
  }
  it('the repeated hour at the fall-back is taken as standard time; the absolute-date form', () => {
    const c = ZONES['Central Standard Time']!.rules;
    expect(localToUtc(c, new Date('2021-11-07T01:30:00Z')).toISOString()).toBe('2021-11-07T07:30:00.000Z'); // CST, UTC-6
    expect(localToUtc(c, new Date('2021-11-07T00:30:00Z')).toISOString()).toBe('2021-11-07T05:30:00.000Z'); // CDT, UTC-5
    const abs: TimeZoneRules = { ...c, standard: t(11, 0, 7, 2, 2021), daylight: t(3, 0, 14, 2, 2021) };
    expect(localToUtc(abs, new Date('2021-07-01T12:00:00Z')).toISOString()).toBe('2021-07-01T17:00:00.000Z');
    expect(localToUtc(abs, new Date('2022-07-01T12:00:00Z')).toISOString()).toBe('2022-07-01T18:00:00.000Z'); // no rule for 2022
  });
  it('parseTzi reads the 44-byte REG_TZI_FORMAT and refuses other sizes; describeTimeZone', () => {
    const b = new Uint8Array(44);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, 360, true);
    dv.setInt32(8, -60, true);
    dv.setUint16(14, 11, true);
    dv.setUint16(18, 1, true);
    dv.setUint16(20, 2, true);
    expect(parseTzi(b)).toMatchObject({ bias: 360, standardBias: 0, daylightBias: -60, standard: { month: 11, day: 1, hour: 2 } });
    expect(parseTzi(b.subarray(0, 40))).toBeUndefined();
    expect(describeTimeZone(undefined)).toEqual({ daylight: false, source: 'not found: local times taken as UTC' });
    expect(describeTimeZone({ ...ZONES['Central Standard Time']!.rules, name: 'Central Standard Time' })).toEqual({
      name: 'Central Standard Time',
      standardOffsetMinutes: -360,
      daylight: true,
      source: 'test',
    });
  });
});
