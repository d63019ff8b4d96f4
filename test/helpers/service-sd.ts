// The service descriptors of a real Windows 10 SYSTEM hive, committed in test/fixtures/service-sd
// (regipy, MIT; README.md there), each checked against its MANIFEST.tsv sha256 when read.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const DIR = path.join(__dirname, '..', 'fixtures', 'service-sd');

/** A committed fixture, checked against its MANIFEST.tsv sha256. */
export function serviceSd(name: string): Uint8Array {
  const row = readFileSync(path.join(DIR, 'MANIFEST.tsv'), 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .find((c) => c[0] === `${name}.Security.bin`);
  if (!row) throw new Error(`${name}.Security.bin is not in MANIFEST.tsv`);
  const b = readFileSync(path.join(DIR, row[0]!));
  const sha = createHash('sha256').update(b).digest('hex');
  if (sha !== row[6]) throw new Error(`${row[0]}: sha256 ${sha} does not match MANIFEST.tsv`);
  return new Uint8Array(b);
}
