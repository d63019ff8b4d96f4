// BitLocker: nothing on an encrypted volume can be read or changed offline.
import type { Finding } from '../../model/scan.js';
import { BITLOCKER_UNLOCK_ADVICE } from '../../windows/bitlocker.js';
import type { Rule } from './rule.js';

export const bitlockerRule: Rule = {
  id: 'bitlocker-locked',
  derive: (t) =>
    t.bitlocker.map((b): Finding => ({
      id: 'bitlocker-locked',
      severity: 'error',
      explanation: `Partition ${b.partition} is BitLocker-encrypted and locked, so wufix can neither read nor repair it; ${BITLOCKER_UNLOCK_ADVICE}.`,
      evidence: [{ file: t.disk?.path, offset: b.start, data: 'volume boot sector signature -FVE-FS-' }],
    })),
};
