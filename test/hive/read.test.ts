// Reading: every fixture that libhivex opens dumps exactly as libhivex sees it; the negative
// fixtures are rejected with a clear one-line error and exit code 2.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Hive } from '../../src/hive/hive.js';
import { dumpJsonLines } from '../../src/hive/dump.js';
import { FormatError } from '../../src/shared/errors.js';
import { sharedReason, toolsReason, skipReason, readManifest, hiveFixture } from '../helpers/env.js';
import { hivexDump, type DumpRow } from '../helpers/hive-tools.js';
import { runCli } from '../helpers/cli.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const NEGATIVE = new Set(['regipy/corrupted_system_hive', 'DFIRArtifactMuseum/Win7/SAMBadHBinHeader', 'DFIRArtifactMuseum/Win7/NotAHive']);

function primaries(): string[] {
  return readManifest('hives')
    .map((r) => r.dest)
    .filter((d) => !/\.log\d?$/i.test(d) && !NEGATIVE.has(d));
}

function ourDump(file: string): DumpRow[] {
  const hive = Hive.open(new Uint8Array(readFileSync(file)));
  const rows: DumpRow[] = [];
  dumpJsonLines(hive, '', (l) => rows.push(JSON.parse(l)));
  return rows;
}

describe.skipIf(!!reason)('hive read vs libhivex', () => {
  for (const dest of reason ? [] : primaries()) {
    it(`${dest}: dump --no-logs equals python3-hivex`, () => {
      const file = hiveFixture(dest);
      const ours = ourDump(file);
      const theirs = hivexDump(file);
      expect(ours.length).toBe(theirs.length);
      expect(ours).toEqual(theirs);
      // And the structure passes our own invariant checks (order, hashes, hints, counts).
      Hive.open(new Uint8Array(readFileSync(file))).verify();
    });
  }

  it('the CLI prints the same JSON Lines (BCD store)', () => {
    const file = hiveFixture('regipy/BCD');
    const r = runCli(['hive', 'dump', file, '--json', '--no-logs']);
    expect(r.status).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toEqual(hivexDump(file));
    expect(r.stdout.split('\n')[0]).toMatch(/^\{"path":"","values":\[/);
  });

  it('dump --key starts at a subkey with paths relative to the root', () => {
    const file = hiveFixture('regipy/SYSTEM');
    const r = runCli(['hive', 'dump', file, '--key', 'select', '--json']);
    expect(r.status).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows[0].path).toBe('Select');
    const ref = hivexDump(file).filter((x) => x.path === 'Select' || x.path.startsWith('Select\\'));
    expect(rows).toEqual(ref);
  });
});

describe.skipIf(!!sharedReason())('bad hives are refused with exit 2 and one line', () => {
  const cases: [string, RegExp][] = [
    ['regipy/corrupted_system_hive', /corrupted_system_hive: at offset 0x1a000: no "hbin" signature/],
    ['DFIRArtifactMuseum/Win7/SAMBadHBinHeader', /at offset 0x2000: no "hbin" signature/],
    ['DFIRArtifactMuseum/Win7/NotAHive', /at offset 0x0: not a registry hive/],
  ];
  for (const [dest, msg] of cases) {
    it(dest, () => {
      const file = hiveFixture(dest);
      const r = runCli(['hive', 'dump', file, '--json']);
      expect(r.status).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'format', exitCode: 2, file } }); // --json: the error, as JSON
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(() => Hive.open(new Uint8Array(readFileSync(file)))).toThrow(FormatError);
    });
  }
});
