// The disk tests' view of the CLI: the built dist/wufix.js run as a user would (test/helpers/cli.ts).
import { runCli } from '../helpers/cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function wufixSync(...args: string[]): CliResult {
  const r = runCli(args);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export async function wufix(...args: string[]): Promise<CliResult> {
  return wufixSync(...args);
}
