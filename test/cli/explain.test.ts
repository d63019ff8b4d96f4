// `wufix explain`, run as a user runs it (node dist/wufix.js explain ...; `npm run build` first). The
// expected names and numbers come from public sources, not from our output: STATUS_SXS_ASSEMBLY_NOT_FOUND
// = 0xC0150004 (ntstatus.h), PSFX_E_MATCHING_BINARY_MISSING = 0x800F0984 (Windows SDK winerror.h, public
// transcription), MOSETUP_E_SETUP_PLATFORM = 0xC1900101 and the extended code 0x4000D = phase 4
// SP_EXECUTION_OOBE_BOOT, operation 0x0D SP_EXECUTION_OP_MIGRATE_DATA (learn.microsoft.com: Resolve
// Windows upgrade errors, upgrade-error-codes.md); exit 2 for bad input (README "Exit codes").
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { field } from '../../src/cli/explain.js';

const ISSUE_CODES = ['0xD0150004', '0x800f0984', '0xC1900101-0x4000D'];

function expectConsoleSafe(text: string) {
  for (const line of text.split('\n')) {
    expect(line.length, line).toBeLessThanOrEqual(80);
    expect(line, line).toMatch(/^[\x20-\x7e]*$/);
  }
}

describe('wufix explain (text)', () => {
  const r = runCli(['explain', ...ISSUE_CODES]);
  const blocks = r.stdout.trimEnd().split('\n\n');

  it('exits 0 with one block per code, ASCII, at most 80 columns', () => {
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(blocks).toHaveLength(3);
    expectConsoleSafe(r.stdout);
  });

  it('0xD0150004: HRESULT_FROM_NT(STATUS_SXS_ASSEMBLY_NOT_FOUND), a cause, a step, ntstatus.h', () => {
    const b = blocks[0]!;
    expect(b.split('\n')[0]).toMatch(/^0xd0150004 +STATUS_SXS_ASSEMBLY_NOT_FOUND$/);
    expect(b).toMatch(/facility: +HRESULT_FROM_NT of NTSTATUS 0xc0150004/);
    expect(b).not.toMatch(/facility 4117/);
    expect(b).toMatch(/\n {2}cause: +\S/);
    expect(b).toMatch(/\n {2}manual: +.*RestoreHealth/);
    expect(b).toMatch(/\n {2}source: +ntstatus\.h/);
  });

  it('0x800f0984: PSFX_E_MATCHING_BINARY_MISSING with its cause and source', () => {
    const b = blocks[1]!;
    expect(b.split('\n')[0]).toMatch(/^0x800f0984 +PSFX_E_MATCHING_BINARY_MISSING$/);
    expect(b).toMatch(/\n {2}cause: +\S/);
    expect(b).toMatch(/\n {2}source: +winerror\.h/);
  });

  it('0xC1900101-0x4000D: the rollback, its phase and operation, the documented cause', () => {
    const b = blocks[2]!;
    expect(b.split('\n')[0]).toMatch(/^0xc1900101 - 0x4000d +MOSETUP_E_SETUP_PLATFORM$/);
    const flat = b.replace(/\n {14}/g, ' ');
    expect(flat).toMatch(/extended: +0x4000d: phase 4 SP_EXECUTION_OOBE_BOOT .*operation 0x0d SP_EXECUTION_OP_MIGRATE_DATA/);
    expect(flat).toMatch(/ext cause: +.*second boot/);
    expect(flat).toContain('learn.microsoft.com: Resolve Windows upgrade errors');
  });

  it('the err.exe input forms, the three-word pair and a wufix repair command', () => {
    const t = runCli(['explain', '1603', '-2146498548', '80244019', '0xC1900101', '-', '0x30018']);
    expect(t.status, t.stderr).toBe(0);
    const flat = t.stdout.replace(/\n {14}/g, ' ');
    expect(flat).toMatch(/^0x80070643 +ERROR_INSTALL_FAILURE$/m);
    expect(flat).toContain('1603 read as decimal Win32 error 1603');
    expect(flat).toMatch(/repair: +wufix repair --only wintrust,winre/);
    expect(flat).toMatch(/^0x800f080c +CBS_E_UNKNOWN_UPDATE$/m);
    expect(flat).toMatch(/^0x80244019 +WU_E_PT_HTTP_STATUS_NOT_FOUND$/m);
    expect(flat).toMatch(/^0xc1900101 - 0x30018 +MOSETUP_E_SETUP_PLATFORM$/m);
    expect(flat).toContain('SP_EXECUTION_OP_SYSPREP');
    expectConsoleSafe(t.stdout);
  });

  it('cannot connect / timed out point to the hosts file too (wu-hosts), with what that repair touches', () => {
    const t = runCli(['explain', '0x80072EFD', '0x80072EE2']);
    expect(t.status, t.stderr).toBe(0);
    const [efd, ee2] = t.stdout
      .replace(/\n {14}/g, ' ')
      .trimEnd()
      .split('\n\n');
    expect(efd).toMatch(/repair: +wufix repair --only wsus-policy,wu-hosts /);
    expect(efd).toContain('a hosts file mapping them to 0.0.0.0 or 127.0.0.1');
    expect(efd).toContain('wu-hosts comments out only the hosts-file lines that map Windows Update names');
    expect(ee2).toMatch(/repair: +wufix repair --only wu-hosts /);
    expectConsoleSafe(t.stdout);
  });

  it('an unknown but well-formed code is decoded, never an error exit', () => {
    const u = runCli(['explain', '0x87ff0001', '0xC0159999']);
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).toMatch(/^0x87ff0001 +\(no symbolic name\)$/m);
    expect(u.stdout).toContain('not in the curated table');
    expect(u.stdout).toMatch(/NTSTATUS: FACILITY_SXS_ERROR_CODE/);
  });
});

describe('wufix explain --json', () => {
  it('the three codes of the issue with names, causes and sources (schemaVersion 1)', () => {
    const r = runCli(['explain', '--json', ...ISSUE_CODES]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { schemaVersion: number; codes: Record<string, unknown>[] };
    expect(doc.schemaVersion).toBe(1);
    expect(doc.codes.map((c) => [c.code, c.symbol, c.kind])).toEqual([
      ['0xd0150004', 'STATUS_SXS_ASSEMBLY_NOT_FOUND', 'ntstatus'],
      ['0x800f0984', 'PSFX_E_MATCHING_BINARY_MISSING', 'cbs'],
      ['0xc1900101', 'MOSETUP_E_SETUP_PLATFORM', 'setup'],
    ]);
    for (const c of doc.codes) {
      expect(typeof c.cause, String(c.code)).toBe('string');
      expect(c.source, String(c.code)).toMatch(/ntstatus\.h|winerror\.h|learn\.microsoft\.com/);
    }
    expect(doc.codes[0]!.ntstatus).toEqual({ code: '0xc0150004', name: 'STATUS_SXS_ASSEMBLY_NOT_FOUND', wrapped: true });
    expect(doc.codes[2]!.extendedCode).toBe('0x4000d');
    expect(doc.codes[2]!.extended).toMatchObject({
      phase: 4,
      phaseName: 'SP_EXECUTION_OOBE_BOOT',
      operation: 13,
      operationName: 'SP_EXECUTION_OP_MIGRATE_DATA',
    });
  });
});

describe('wufix explain: bad input and help', () => {
  it('a malformed code: exit 2, one line on stderr, no stack, nothing on stdout', () => {
    const r = runCli(['explain', '0x800f0984', 'not-a-code']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^wufix: error: not an error code: "not-a-code"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('with --json the error is also JSON on stdout', () => {
    const r = runCli(['explain', '--json', '0x123456789']);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'bad-error-code', exitCode: 2 } });
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
  it('no code at all is a usage error (exit 1)', () => {
    expect(runCli(['explain']).status).toBe(1);
  });
  it('--help teaches with examples', () => {
    const r = runCli(['explain', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('wufix explain 0xC1900101-0x4000D');
    expect(r.stdout).toContain('-2146498548');
    expectConsoleSafe(r.stdout);
  });
  it('explain is listed in the top-level help', () => {
    expect(runCli(['--help']).stdout).toMatch(/^ {2}explain /m);
  });
});

describe('field(): wrapping at 80 columns', () => {
  it('wraps words, indents continuations and cuts an over-long word at an underscore', () => {
    const lines = field('name:', 'CBS_E_MANIFEST_VALIDATION_MULTIPLE_UPDATE_COMPONENT_ON_SAME_FAMILY_NOT_ALLOWED and more words here');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^ {2}name: +CBS_E_MANIFEST_VALIDATION_.*_$/);
    expect(lines[1]).toMatch(/^ {14}\S/);
    expect(lines.join(' ').replace(/_ +/g, '_').replace(/\s+/g, ' ')).toContain('FAMILY_NOT_ALLOWED and more words here');
  });
});
