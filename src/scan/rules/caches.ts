// Broken update caches: downloads or the update database failing with cache-typical codes.
import { fmtBytes } from '../../shared/units.js';
import { codesOf, attemptEvidence, failuresOf, type Rule } from './rule.js';

const CACHE_CODES = new Set(['0x80240034', '0x8024200d', '0x80070002', '0x8007000d', '0x80246007', '0x80248007', '0x8024a10a']);

export const cachesRule: Rule = {
  id: 'wu-cache',
  derive(t) {
    const cacheFailures = failuresOf(t).filter((f) => f.code && CACHE_CODES.has(f.code));
    const sd = t.caches.softwareDistribution;
    if (!cacheFailures.length || !sd) return [];
    return [
      {
        id: 'wu-cache',
        severity: 'warning',
        explanation: `Downloads or the update database failed (${codesOf(cacheFailures).join(', ')}); the wu-cache repair renames SoftwareDistribution and catroot2 so Windows rebuilds them.`,
        evidence: [{ file: sd.path, data: `${sd.files} files, ${fmtBytes(sd.bytes)}` }, ...cacheFailures.slice(0, 10).map(attemptEvidence)],
        repair: 'wu-cache',
        errorCodes: codesOf(cacheFailures),
      },
    ];
  },
};
