// Independent readers used to check our output: python3-hivex (libhivex), reglookup, regfinfo, hivexsh.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { PROJECT_ROOT } from './env.js';

export interface DumpRow {
  path: string;
  values: { name: string; type: number; data: string }[];
}

const PY = '/usr/bin/python3';

/** The hive as libhivex sees it, in `wufix hive dump --json` form. */
export function hivexDump(file: string): DumpRow[] {
  const out = execFileSync(PY, [path.join(PROJECT_ROOT, 'test/helpers/hivex_dump.py'), file], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as DumpRow);
}

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { input?: string } = {}): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, input: opts.input });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** reglookup prints every key and value; errors go to stderr. */
export function reglookup(file: string): ToolResult {
  return run('reglookup', [file]);
}

/** regfinfo (libregf) checks the file structure. */
export function regfinfo(file: string): ToolResult {
  return run('regfinfo', [file]);
}

/** hivexsh -d opens the hive (debug on) and runs the given commands. */
export function hivexsh(file: string, script: string, write = false): ToolResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-hivexsh-'));
  try {
    const f = path.join(dir, 'script');
    writeFileSync(f, script);
    return run('hivexsh', write ? ['-w', '-f', f, file] : ['-f', f, file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** All three independent readers accept the file. */
export function expectAcceptedByReaders(file: string, opts: { minor?: number } = {}): string[] {
  const problems: string[] = [];
  const a = reglookup(file);
  // reglookup warns when it cannot print a name in US-ASCII or interpret data as its declared
  // type (a 1-byte REG_DWORD): that is about its output, not the file. Anything else is a problem.
  const benign = /converting (key|value) name to encoding|While quoting value .* Data could not be interpreted/;
  // libregfi only follows big-data (db) records in hives of minor version >= 5 (regfi_load_data);
  // the format has them from 1.4 on, so in a 1.4 hive its "Data length larger than remaining cell"
  // and the follow-up line are expected for values above 16344 bytes.
  const benign14 = /Data length \(0x[0-9A-F]+\) larger than remaining cell length|Could not parse data record while parsing VK/;
  const bad = a.stderr.split('\n').filter((l) => /^(ERROR|WARN)/.test(l) && !benign.test(l) && !(opts.minor === 4 && benign14.test(l)));
  if (a.status !== 0 || bad.length) problems.push(`reglookup: status ${a.status}: ${bad.join('\n').slice(0, 400)}`);
  const b = regfinfo(file);
  if (b.status !== 0) problems.push(`regfinfo: status ${b.status}: ${(b.stderr || b.stdout).slice(0, 400)}`);
  // hivexml opens /dev/stdout itself, which fails on the socket spawnSync gives it: use a shell redirect.
  const c = run('sh', ['-c', 'hivexml "$1" > /dev/null', 'sh', file]);
  if (c.status !== 0) problems.push(`hivexml: status ${c.status}: ${c.stderr.slice(0, 400)}`);
  return problems;
}
