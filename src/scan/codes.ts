// The error codes of a scan's failed attempts (each attempt counted once per code), most frequent first, each with its meaning.
import type { CodeInfo, TargetScan } from '../model/scan.js';
import { lookupError } from '../formats/errorcodes.js';

export function explainCodes(t: TargetScan): CodeInfo[] {
  const counts = new Map<string, number>();
  for (const a of t.attempts) {
    if (a.result !== 'failed') continue;
    // The deciding code, and the codes of the attempt's other failed lines ("setup log: failed
    // 0x800b010b: ..." before the final 0x80070643), each once per attempt.
    const codes = new Set<string>(a.code ? [a.code] : []);
    for (const e of a.evidence) {
      const m = /^[^:]{1,40}: failed (0x[0-9a-f]{8})\b/.exec(e.data ?? '');
      if (m) codes.add(m[1]!);
    }
    for (const c of codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
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
