// Prerequisites of the packaging tests (test/build): the built exe, wine64, wimtools. Same policy
// as test/helpers/env.ts (whose IN_CI and hasTool these use): a missing prerequisite skips the test
// with a clear reason, except under CI=true, where it is a failure. The reasons name the make
// targets that provide what is missing (`make exe`, `make exe-test-deps`), which env.ts's
// toolsReason cannot (it points at `make test-deps`).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { IN_CI, PROJECT_ROOT, hasTool } from '../helpers/env.js';

export const EXE = path.join(PROJECT_ROOT, 'dist', 'wufix.exe');
export const BUNDLE = path.join(PROJECT_ROOT, 'dist', 'wufix.js');
/** Debian's wine64 loader (package wine64); not on PATH. */
export const WINE64 = '/usr/lib/wine/wine64';
export const WINESERVER = '/usr/lib/wine/wineserver';
/** Git-ignored; build/exe.sh keeps its downloads here, the tests their throw-away Wine prefixes. */
export const TOOLS = path.join(PROJECT_ROOT, '.tools');

function missing(reason: string): string {
  if (IN_CI) throw new Error(`CI=true: required prerequisite missing: ${reason}`);
  return reason;
}

/** dist/wufix.exe present and built from the current dist/wufix.js. */
export function exeReason(): string | undefined {
  if (!existsSync(BUNDLE)) return missing(`${BUNDLE} is missing (run \`make build\`)`);
  if (!existsSync(EXE)) return missing(`${EXE} is missing (run \`make exe\`; it takes about 20 s)`);
  if (statSync(EXE).mtimeMs < statSync(BUNDLE).mtimeMs) return missing(`${EXE} is older than ${BUNDLE} (run \`make exe\`)`);
  return undefined;
}

export function wineReason(): string | undefined {
  if (hasTool(WINE64) && hasTool(WINESERVER)) return undefined;
  return missing(`wine64 not installed (${WINE64}; run \`make exe-test-deps\` as root)`);
}

export function wimtoolsReason(): string | undefined {
  const absent = ['wimcapture', 'wimupdate', 'wimdir', 'wimextract', 'wiminfo', 'wimverify'].filter((t) => !hasTool(t));
  if (absent.length === 0) return undefined;
  return missing(`wimtools not installed: ${absent.join(', ')} (run \`make exe-test-deps\` as root)`);
}
