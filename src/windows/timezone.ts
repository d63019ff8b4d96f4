// The offline system's own time zone (issue #16 item 4): CBS.log, DISM.log, Panther and the classic
// WindowsUpdate.log write local wall-clock time; the correlation runs in UTC. Read from
// SYSTEM\<current control set>\Control\TimeZoneInformation and, when TimeZoneKeyName names a zone,
// SOFTWARE\Microsoft\Windows NT\CurrentVersion\Time Zones\<name>\Dynamic DST (one TZI per year).
//
// Windows' conventions (TIME_ZONE_INFORMATION, DYNAMIC_TIME_ZONE_INFORMATION, RTL_TIME_ZONE_INFORMATION):
// - UTC = local + Bias + StandardBias (standard time) or local + Bias + DaylightBias (daylight time).
// - SYSTEM's StandardStart/DaylightStart are TIME_FIELDS (weekday last), the TZI's dates SYSTEMTIMEs
//   (weekday third): the same 16 bytes read differently (the real regipy SYSTEM hives show it).
// - DaylightDate is when daylight time starts, in local STANDARD time; StandardDate is when it ends,
//   in local DAYLIGHT time. wYear == 0: "day-of-week" form (wDay = 1..5th wDayOfWeek of wMonth, 5 =
//   the last); wYear != 0: an absolute date that happens once. DaylightDate.wMonth == 0: no DST.
// - Dynamic DST: the entry of the year; before FirstEntry the first entry, after LastEntry the last.
//   DynamicDaylightTimeDisabled = 1 ("adjust for daylight saving time automatically" off): only the
//   static TimeZoneInformation values count (Windows zeroes their dates then: no DST).
// - RealTimeIsUniversal is about the hardware clock, not the logs: ignored.
// Hostile hives: a value of the wrong type or size, or out of range, is ignored (never throws).
import type { Hive } from '../hive/hive.js';
import { regDword, regRaw, regString } from '../hive/query.js';
import { REG } from '../hive/regtext.js';
import type { TimeZoneUsed } from '../model/attempts.js';
import { controlSetName, currentControlSet } from './services.js';

export const TIME_ZONES_KEY = 'Microsoft\\Windows NT\\CurrentVersion\\Time Zones';
export const NO_TIME_ZONE = 'not found: local times taken as UTC';

/** A Windows SYSTEMTIME as a transition date (wMilliseconds included). */
export interface SystemTime {
  year: number;
  month: number;
  dayOfWeek: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  milliseconds: number;
}

/** One year's rule: the registry TZI / TimeZoneInformation fields (minutes, UTC = local + bias). */
export interface TziRule {
  bias: number;
  standardBias: number;
  daylightBias: number;
  standardDate: SystemTime;
  daylightDate: SystemTime;
}

export interface TimeZoneRules {
  /** TimeZoneKeyName ("Central Standard Time"), printable ASCII, when present. */
  name?: string;
  /** The static rule: SYSTEM TimeZoneInformation (or the zone's TZI when SYSTEM's values are unusable). */
  rule: TziRule;
  /** Dynamic DST of the zone (absent when DynamicDaylightTimeDisabled or not in SOFTWARE). */
  dynamic?: { firstYear: number; lastYear: number; years: Map<number, TziRule> };
  dynamicDisabled: boolean;
  /** Where it was read, e.g. "SYSTEM ControlSet001\\Control\\TimeZoneInformation". */
  source: string;
}

/** Biases beyond a day are not a time zone (Windows' real ones are within -14h..+12h). */
const MAX_BIAS = 24 * 60;
/** At most this many Dynamic DST years are read (Windows' tables span a few dozen). */
export const MAX_DYNAMIC_YEARS = 400;

const int32 = (n: number | undefined) => (n === undefined ? undefined : n | 0);
const biasOk = (n: number | undefined): n is number => n !== undefined && Math.abs(n) <= MAX_BIAS;

/** The 8 little-endian 16-bit words of a 16-byte structure at `offset`, or undefined when too short. */
function words(b: Uint8Array, offset: number): number[] | undefined {
  if (b.length < offset + 16) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset + offset, 16);
  return Array.from({ length: 8 }, (_, i) => dv.getUint16(i * 2, true));
}

/** A 16-byte SYSTEMTIME (the TZI form: wYear, wMonth, wDayOfWeek, wDay, wHour, ...), or undefined when out of range. */
export function parseSystemTime(b: Uint8Array, offset = 0): SystemTime | undefined {
  const w = words(b, offset);
  if (!w) return undefined;
  return checked({ year: w[0]!, month: w[1]!, dayOfWeek: w[2]!, day: w[3]!, hour: w[4]!, minute: w[5]!, second: w[6]!, milliseconds: w[7]! });
}

/**
 * SYSTEM TimeZoneInformation StandardStart / DaylightStart: NOT a SYSTEMTIME but the kernel's
 * TIME_FIELDS (RTL_TIME_ZONE_INFORMATION: Year, Month, Day, Hour, Minute, Second, Milliseconds,
 * Weekday). A US zone's StandardStart is 00 00 0b 00 01 00 02 00 ... 00 00 = November, 1st Sunday, 02:00.
 */
export function parseTimeFields(b: Uint8Array, offset = 0): SystemTime | undefined {
  const w = words(b, offset);
  if (!w) return undefined;
  return checked({ year: w[0]!, month: w[1]!, day: w[2]!, hour: w[3]!, minute: w[4]!, second: w[5]!, milliseconds: w[6]!, dayOfWeek: w[7]! });
}

/** The transition date when every field is in range (all zero / month 0 = "no transition"). */
function checked(t: SystemTime): SystemTime | undefined {
  if (t.month === 0) return t; // no transition: the other fields do not matter
  const inRange = t.month <= 12 && t.hour <= 23 && t.minute <= 59 && t.second <= 59 && t.milliseconds <= 999;
  if (!inRange) return undefined;
  if (t.year === 0) return t.dayOfWeek <= 6 && t.day >= 1 && t.day <= 5 ? t : undefined;
  return t.year >= 1601 && t.year <= 30827 && t.day >= 1 && t.day <= daysInMonth(t.year, t.month) ? t : undefined;
}

/** The 44-byte TZI value (Bias, StandardBias, DaylightBias, StandardDate, DaylightDate), or undefined. */
export function parseTzi(b: Uint8Array): TziRule | undefined {
  if (b.length !== 44) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, 44);
  const [bias, standardBias, daylightBias] = [dv.getInt32(0, true), dv.getInt32(4, true), dv.getInt32(8, true)];
  const standardDate = parseSystemTime(b, 12);
  const daylightDate = parseSystemTime(b, 28);
  if (!biasOk(bias) || !biasOk(standardBias) || !biasOk(daylightBias) || !standardDate || !daylightDate) return undefined;
  return { bias, standardBias, daylightBias, standardDate, daylightDate };
}

function binary(h: Hive, nk: number, name: string, size: number): Uint8Array | undefined {
  const v = regRaw(h, nk, name);
  return v && v.type === REG.BINARY && v.data.length === size ? v.data : undefined;
}

/** A TimeZoneKeyName usable as a key name and printable: 1..128 printable ASCII characters, no backslash. */
function cleanName(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t && t.length <= 128 && /^[\x20-\x7e]+$/.test(t) && !t.includes('\\') ? t : undefined;
}

/** The zone's static TZI and Dynamic DST table from SOFTWARE (bounded, wrong values skipped). */
function readZone(software: Hive, name: string): { tzi?: TziRule; dynamic?: TimeZoneRules['dynamic'] } {
  const zone = software.lookup(`${TIME_ZONES_KEY}\\${name}`);
  if (zone === undefined) return {};
  const raw = binary(software, zone, 'TZI', 44);
  const tzi = raw && parseTzi(raw);
  const dk = software.findSubkey(zone, 'Dynamic DST');
  if (dk === undefined) return { tzi };
  const first = regDword(software, dk, 'FirstEntry');
  const last = regDword(software, dk, 'LastEntry');
  if (first === undefined || last === undefined || first < 1601 || last > 30827 || last < first || last - first >= MAX_DYNAMIC_YEARS) return { tzi };
  const years = new Map<number, TziRule>();
  for (let y = first; y <= last; y++) {
    const b = binary(software, dk, String(y), 44);
    const r = b && parseTzi(b);
    if (r) years.set(y, r);
  }
  return { tzi, dynamic: years.size ? { firstYear: first, lastYear: last, years } : undefined };
}

/** SYSTEM's TimeZoneInformation as a rule, when Bias and both dates are usable. */
function systemRule(system: Hive, nk: number): TziRule | undefined {
  const bias = int32(regDword(system, nk, 'Bias'));
  const standardBias = int32(regDword(system, nk, 'StandardBias')) ?? 0;
  const daylightBias = int32(regDword(system, nk, 'DaylightBias')) ?? 0;
  const sd = binary(system, nk, 'StandardStart', 16);
  const dd = binary(system, nk, 'DaylightStart', 16);
  const standardDate = sd && parseTimeFields(sd);
  const daylightDate = dd && parseTimeFields(dd);
  if (!biasOk(bias) || !biasOk(standardBias) || !biasOk(daylightBias)) return undefined;
  const none = parseSystemTime(new Uint8Array(16))!;
  // Both dates missing: a zone without DST. One missing or broken: DST cannot be applied.
  if (!standardDate || !daylightDate) return { bias, standardBias, daylightBias, standardDate: none, daylightDate: none };
  return { bias, standardBias, daylightBias, standardDate, daylightDate };
}

/**
 * The offline system's time zone, or undefined when SYSTEM has no usable TimeZoneInformation
 * (then local log times are taken as UTC; `describeTimeZone(undefined)` says so).
 */
export function readTimeZone(system: Hive, software?: Hive): TimeZoneRules | undefined {
  try {
    const sel = currentControlSet(system);
    const cs = sel.paths[0] ?? controlSetName(sel.current);
    const keyPath = `${cs}\\Control\\TimeZoneInformation`;
    const nk = system.lookup(keyPath);
    if (nk === undefined) return undefined;
    const name = cleanName(regString(system, nk, 'TimeZoneKeyName'));
    const dynamicDisabled = regDword(system, nk, 'DynamicDaylightTimeDisabled') === 1;
    const zone = name && software ? readZone(software, name) : {};
    let source = `SYSTEM ${keyPath}`;
    let rule = systemRule(system, nk);
    if (!rule && zone.tzi) {
      rule = zone.tzi;
      source = `SOFTWARE ${TIME_ZONES_KEY}\\${name}\\TZI (SYSTEM ${keyPath} has no usable Bias)`;
    }
    if (!rule) return undefined;
    const dynamic = dynamicDisabled ? undefined : zone.dynamic;
    if (dynamic) source += ` + SOFTWARE ${TIME_ZONES_KEY}\\${name}\\Dynamic DST ${dynamic.firstYear}-${dynamic.lastYear}`;
    return { name, rule, dynamic, dynamicDisabled, source };
  } catch {
    return undefined; // not a SYSTEM hive, or cells too broken to walk: no zone
  }
}

/** The rule Windows applies in `year`: the Dynamic DST entry (clamped to its range), else the static one. */
export function ruleForYear(rules: TimeZoneRules, year: number): TziRule {
  const d = rules.dynamic;
  if (!d) return rules.rule;
  const y = Math.min(Math.max(year, d.firstYear), d.lastYear);
  // A year missing inside the range (a broken entry): the nearest earlier one, else the first kept.
  for (let k = y; k >= d.firstYear; k--) {
    const r = d.years.get(k);
    if (r) return r;
  }
  return d.years.values().next().value ?? rules.rule;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const MINUTE = 60_000;

/** The wall-clock instant (fields held as UTC, in ms) of a transition in `year`. */
export function transitionWall(t: SystemTime, year: number): number {
  const time = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d, t.hour, t.minute, t.second, t.milliseconds);
  if (t.year !== 0) return time(t.year, t.month, t.day);
  const firstDow = new Date(Date.UTC(year, t.month - 1, 1)).getUTCDay();
  let day = 1 + ((t.dayOfWeek - firstDow + 7) % 7) + 7 * (t.day - 1);
  while (day > daysInMonth(year, t.month)) day -= 7; // wDay 5 = the last one of the month
  return time(year, t.month, day);
}

/** The UTC instants (ms) daylight time starts and ends in `year`, or undefined when the rule has no DST. */
function dstBounds(r: TziRule, year: number): { start: number; end: number } | undefined {
  if (r.daylightDate.month === 0 || r.standardDate.month === 0) return undefined;
  const start = transitionWall(r.daylightDate, year) + (r.bias + r.standardBias) * MINUTE;
  const end = transitionWall(r.standardDate, year) + (r.bias + r.daylightBias) * MINUTE;
  return start === end ? undefined : { start, end };
}

/** Whether the UTC instant `u` is in daylight time under bounds of one year (southern zones wrap the year end). */
const inDaylight = (b: { start: number; end: number }, u: number) => (b.start < b.end ? u >= b.start && u < b.end : u >= b.start || u < b.end);

/**
 * A local wall-clock time (its fields held as UTC, as parseLogTime gives it) to UTC with the rule
 * of its year. A time that exists twice (the hour before the fall-back) is taken as STANDARD time
 * (the later instant); a time that does not exist (the spring-forward gap) also uses the standard
 * offset, i.e. the clock before it moved.
 */
export function localToUtc(rules: TimeZoneRules, wall: Date): Date {
  const w = wall.getTime();
  if (Number.isNaN(w)) return new Date(NaN);
  const r = ruleForYear(rules, wall.getUTCFullYear());
  const std = w + (r.bias + r.standardBias) * MINUTE;
  const b = dstBounds(r, wall.getUTCFullYear());
  if (!b || inDaylight(b, std)) {
    if (!b) return new Date(std);
    // `std` lands in daylight time: either the wall time is daylight time, or it is in the gap.
    const dst = w + (r.bias + r.daylightBias) * MINUTE;
    return new Date(inDaylight(b, dst) ? dst : std);
  }
  return new Date(std);
}

/** Whether the zone observes daylight time in any year it describes. */
function hasDaylight(rules: TimeZoneRules): boolean {
  const rs = rules.dynamic ? [...rules.dynamic.years.values()] : [rules.rule];
  return rs.some((r) => r.daylightDate.month !== 0 && r.standardDate.month !== 0);
}

/** What the report states about the conversion (model/attempts.ts TimeZoneUsed). */
export function describeTimeZone(rules: TimeZoneRules | undefined): TimeZoneUsed {
  if (!rules) return { daylight: false, source: NO_TIME_ZONE };
  const out: TimeZoneUsed = { standardOffsetMinutes: 0 - (rules.rule.bias + rules.rule.standardBias), daylight: hasDaylight(rules), source: rules.source };
  if (rules.name) out.name = rules.name;
  return out;
}
