// Field helpers the log parsers share: KB numbers, HRESULT fields, wall-clock times.

/**
 * A copy of `s` that does not keep its parent string alive. Lines are slices of the decoded
 * 1 MiB chunk; a record that kept such a slice would pin the whole chunk in memory.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}

export function hexField(s: string): string | undefined {
  const t = s.trim();
  if (!/^(?:0x)?[0-9a-f]{1,8}$/i.test(t)) return undefined;
  return '0x' + (parseInt(t.replace(/^0x/i, ''), 16) >>> 0).toString(16).padStart(8, '0');
}

const KB_RE = /(?:\b|_)KB(\d{6,8})(?!\d)/i;

/** 'KB5034441' from any text mentioning it (Package_for_KB..., "(KB5034441)"), else undefined. */
export function extractKb(text: string): string | undefined {
  const m = KB_RE.exec(text);
  return m ? `KB${m[1]}` : undefined;
}

/**
 * Parse 'YYYY-MM-DD', 'HH:MM:SS[:mmm|.mmm]' and an optional '+HHMM'/'-HHMM' offset. Without an
 * offset the wall-clock time is returned as if it were UTC. Undefined if out of range.
 */
export function parseLogTime(date: string, time: string): { time: Date; local: boolean } | undefined {
  const d = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(date.trim());
  const t = /^(\d{1,2}):(\d{2}):(\d{2})(?:[:.](\d{1,3}))?\s*(?:([+-])(\d{2}):?(\d{2}))?$/.exec(time.trim());
  if (!d || !t) return undefined;
  const [y, mo, da] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const [h, mi, s] = [Number(t[1]), Number(t[2]), Number(t[3])];
  const ms = t[4] ? Number(t[4].padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  let v = Date.UTC(y, mo - 1, da, h, mi, s, ms);
  const local = t[5] === undefined;
  if (!local) {
    const off = (Number(t[6]) * 60 + Number(t[7])) * 60_000;
    v -= t[5] === '+' ? off : -off;
  }
  return { time: new Date(v), local };
}
