// The offline system's time zone, so local wall-clock log times (CBS, DISM, Panther, the classic
// WindowsUpdate.log) become UTC: SYSTEM <current control set>\Control\TimeZoneInformation (Bias,
// StandardBias, DaylightBias, StandardStart, DaylightStart as 16-byte SYSTEMTIMEs, TimeZoneKeyName,
// DynamicDaylightTimeDisabled) and, when the zone is named, the per-year rules of SOFTWARE
// \Microsoft\Windows NT\CurrentVersion\Time Zones\<name>\Dynamic DST (44-byte TZI per year).
// Values of the wrong type or size are ignored (hostile hives). UTC = local + bias (minutes).
import type { Hive } from '../hive/hive.js';
import { keyAt, regDword, regRaw, regString } from '../hive/query.js';
import type { TimeZoneUsed } from '../model/attempts.js';
import { currentControlSet, controlSetName } from './services.js';

/** A SYSTEMTIME transition: wYear 0 = "the wDay-th wDayOfWeek of wMonth" (5 = last), else an absolute date. */
export interface Transition {
  year: number;
  month: number;
  dayOfWeek: number;
  day: number;
  hour: number;
  minute: number;
}

export interface ZoneRule {
  bias: number;
  standardBias: number;
  daylightBias: number;
  standard: Transition;
  daylight: Transition;
}

export interface TimeZoneRules extends ZoneRule {
  name?: string;
  source: string;
  /** Dynamic DST: the rule of each year from FirstEntry to LastEntry (years outside use the nearest). */
  years?: Map<number, ZoneRule>;
}

const i32 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24) | 0;
const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);

function transition(b: Uint8Array, o: number): Transition {
  return { year: u16(b, o), month: u16(b, o + 2), dayOfWeek: u16(b, o + 4), day: u16(b, o + 6), hour: u16(b, o + 8), minute: u16(b, o + 10) };
}

/** REG_TZI_FORMAT: Bias, StandardBias, DaylightBias, StandardDate, DaylightDate (44 bytes). */
export function parseTzi(b: Uint8Array): ZoneRule | undefined {
  if (b.length !== 44) return undefined;
  return { bias: i32(b, 0), standardBias: i32(b, 4), daylightBias: i32(b, 8), standard: transition(b, 12), daylight: transition(b, 28) };
}

const sane = (n: number | undefined) => n !== undefined && Math.abs(n) <= 24 * 60;

export function readTimeZone(system: Hive, software?: Hive): TimeZoneRules | undefined {
  const cs = currentControlSet(system).paths[0] ?? controlSetName(1);
  const path = `${cs}\\Control\\TimeZoneInformation`;
  const nk = keyAt(system, path);
  if (nk === undefined) return undefined;
  const bias = regDword(system, nk, 'Bias');
  if (bias === undefined || !sane(bias | 0)) return undefined;
  const st = regRaw(system, nk, 'StandardStart');
  const dl = regRaw(system, nk, 'DaylightStart');
  const zero = new Uint8Array(16);
  const rules: TimeZoneRules = {
    bias: bias | 0,
    standardBias: (regDword(system, nk, 'StandardBias') ?? 0) | 0,
    daylightBias: (regDword(system, nk, 'DaylightBias') ?? 0) | 0,
    standard: transition(st && st.data.length === 16 ? st.data : zero, 0),
    daylight: transition(dl && dl.data.length === 16 ? dl.data : zero, 0),
    source: `SYSTEM ${path}`,
  };
  if (!sane(rules.standardBias) || !sane(rules.daylightBias)) return undefined;
  const name = regString(system, nk, 'TimeZoneKeyName');
  if (name && /^[\x20-\x7e]{1,128}$/.test(name) && !/[\\]/.test(name)) {
    rules.name = name;
    const dynamicOff = regDword(system, nk, 'DynamicDaylightTimeDisabled') === 1;
    const dyn = software && !dynamicOff ? keyAt(software, `Microsoft\\Windows NT\\CurrentVersion\\Time Zones\\${name}\\Dynamic DST`) : undefined;
    if (software && dyn !== undefined) {
      const first = regDword(software, dyn, 'FirstEntry');
      const last = regDword(software, dyn, 'LastEntry');
      if (first !== undefined && last !== undefined && first >= 1900 && last >= first && last - first <= 200) {
        const years = new Map<number, ZoneRule>();
        for (let y = first; y <= last; y++) {
          const v = regRaw(software, dyn, String(y));
          const r = v && v.type === 3 ? parseTzi(v.data) : undefined;
          if (r && sane(r.bias) && sane(r.daylightBias) && sane(r.standardBias)) years.set(y, r);
        }
        if (years.size) rules.years = years;
      }
    }
  }
  return rules;
}

/** Wall-clock ms (as UTC fields) of a transition in `year`, or undefined when it is no date. */
function transitionAt(t: Transition, year: number): number | undefined {
  if (t.month < 1 || t.month > 12) return undefined;
  if (t.year !== 0) return t.year === year ? Date.UTC(year, t.month - 1, t.day, t.hour, t.minute) : undefined;
  if (t.day < 1 || t.day > 5 || t.dayOfWeek > 6) return undefined;
  const firstDow = new Date(Date.UTC(year, t.month - 1, 1)).getUTCDay();
  let day = 1 + ((t.dayOfWeek - firstDow + 7) % 7) + (t.day - 1) * 7;
  const daysInMonth = new Date(Date.UTC(year, t.month, 0)).getUTCDate();
  while (day > daysInMonth) day -= 7; // 5 = the last one
  return Date.UTC(year, t.month - 1, day, t.hour, t.minute);
}

function ruleFor(rules: TimeZoneRules, year: number): ZoneRule {
  if (!rules.years) return rules;
  const exact = rules.years.get(year);
  if (exact) return exact;
  const ys = [...rules.years.keys()];
  const y = year < Math.min(...ys) ? Math.min(...ys) : Math.max(...ys);
  return rules.years.get(y) ?? rules;
}

/**
 * UTC of a wall-clock time (its fields held as UTC in `wall`). Daylight time applies from the
 * daylight transition (local standard time) to the standard one (local daylight time); the
 * repeated hour at the fall-back transition is taken as standard time.
 */
export function localToUtc(rules: TimeZoneRules, wall: Date): Date {
  const w = wall.getTime();
  if (Number.isNaN(w)) return wall;
  const r = ruleFor(rules, wall.getUTCFullYear());
  const toDst = transitionAt(r.daylight, wall.getUTCFullYear());
  const toStd = transitionAt(r.standard, wall.getUTCFullYear());
  let dst = false;
  if (toDst !== undefined && toStd !== undefined && r.daylightBias !== r.standardBias) {
    // The standard transition is written in daylight time: in standard wall time it is that much later.
    const stdEnd = toStd + (r.daylightBias - r.standardBias) * 60_000;
    dst = toDst < stdEnd ? w >= toDst && w < stdEnd : w >= toDst || w < stdEnd;
  }
  return new Date(w + (r.bias + (dst ? r.daylightBias : r.standardBias)) * 60_000);
}

export function describeTimeZone(rules: TimeZoneRules | undefined): TimeZoneUsed {
  if (!rules) return { daylight: false, source: 'not found: local times taken as UTC' };
  const daylight = (rules.daylight.month !== 0 && rules.daylightBias !== rules.standardBias) || !!rules.years;
  const off = -(rules.bias + rules.standardBias);
  const u: TimeZoneUsed = { standardOffsetMinutes: off, daylight, source: rules.source };
  if (rules.name) u.name = rules.name;
  return u;
}
