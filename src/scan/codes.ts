// The error codes of a scan's failed attempts, most frequent first, each with its meaning.
import type { CodeInfo, TargetScan } from '../model/scan.js';
import { lookupError } from '../formats/errorcodes.js';

export function explainCodes(t: TargetScan): CodeInfo[] {
  const counts = new Map<string, number>();
  for (const a of t.attempts) if (a.result === 'failed' && a.code) counts.set(a.code, (counts.get(a.code) ?? 0) + 1);
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
