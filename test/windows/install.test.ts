// Where the Windows volume's free space comes from: only a volume's own root (a mount point) is
// measured; a folder copied out of an image sits on the host's disk and is not.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isVolumeRoot, volumeSpace } from '../../src/windows/install.js';

describe('isVolumeRoot / volumeSpace', () => {
  it('a mount point is a volume root, a folder inside one is not', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wufix-vol-'));
    try {
      expect(isVolumeRoot('/')).toBe(true);
      expect(isVolumeRoot('/proc')).toBe(true); // procfs is always its own mount
      expect(isVolumeRoot(dir)).toBe(false);
      expect(isVolumeRoot(path.join(dir, 'missing'))).toBe(false);
      const s = volumeSpace(dir);
      expect(s && s.freeBytes > 0 && s.freeBytes <= s.sizeBytes).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
