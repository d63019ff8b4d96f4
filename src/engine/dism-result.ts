// What DISM itself wrote about a /RestoreHealth run (issue #19, item 4): the log it was given with
// /LogPath, read back after the run with the dism.log parser (src/formats/logs/dism.ts) - the
// verdict of the last /Cleanup-Image /RestoreHealth session, its HRESULT and what that code means
// (0x800f081f: the source does not hold the components). Pure: bytes in, a sentence out.
import type { UpdateEvent } from '../model/attempts.js';
import { dismLogEvents } from '../formats/logs/dism.js';
import { lookupError } from '../formats/errorcodes.js';

export interface RestoreHealthLog {
  result: UpdateEvent['result'];
  code?: string;
  corruptionFound?: boolean;
  /** One line for the journal and the console (ASCII). */
  text: string;
}

/** The last /RestoreHealth session of a dism.log, or undefined when it holds none. */
export async function restoreHealthFromLog(bytes: Uint8Array, file: string): Promise<RestoreHealthLog | undefined> {
  let last: UpdateEvent | undefined;
  for await (const e of dismLogEvents([bytes], file)) if (e.kind === 'component-repair' && e.phase === 'RestoreHealth') last = e;
  if (!last) return undefined;
  let meaning = '';
  if (last.code) {
    try {
      const info = lookupError(last.code);
      meaning = `${info.symbol ? ` ${info.symbol}` : ''}: ${info.meaning}`;
    } catch {
      meaning = '';
    }
  }
  const text =
    `${file}: /RestoreHealth ${last.result}${last.code ? ` with ${last.code}${meaning}` : ''}` +
    (last.corruptionFound ? ' (DISM found the component store corrupt)' : '');
  return {
    result: last.result,
    ...(last.code ? { code: last.code } : {}),
    ...(last.corruptionFound ? { corruptionFound: true } : {}),
    text: text.replace(/[^\x20-\x7e]/g, '?').slice(0, 400),
  };
}
