// ReAgent.xml after a WinRE partition rebuild (winre.md §6 step 9, §7; KB2952359): WinreLocation
// points at \Recovery\WindowsRE on the new partition, WinRE is marked installed, and the staging
// state that blocks WinRE (ImageLocation path + WinREStaged=1) is cleared. Only those attributes
// change; everything else in the file (other elements, formatting, encoding, BOM) stays in place.
import { BadInputError } from '../shared/errors.js';
import { parseGuidText } from '../shared/guid.js';
import { ZERO_GUID_BRACED, writeReAgentXml, type ReAgentConfig } from './reagent.js';

export type ReAgentTarget = { scheme: 'gpt'; diskGuid: string; offset: number } | { scheme: 'mbr'; diskSignature: number; offset: number };

export const WINRE_DIRECTORY = '\\Recovery\\WindowsRE';

function bracedGuid(s: string, what: string): string {
  const g = parseGuidText(s);
  if (g === undefined) throw new BadInputError(`ReAgent.xml target: ${what} "${s}" is not a GUID`, { code: 'reagent-target' });
  return `{${g}}`;
}

/**
 * The bytes of `original` (ReAgent.xml in any encoding) with: WinreLocation path="\Recovery\WindowsRE",
 * offset = partition start in bytes, and guid = {GPT disk GUID} with id="0" (GPT) or id = the MBR
 * disk signature in decimal with guid = zero (MBR); InstallState 1; ImageLocation path="" id="0"
 * offset="0" guid=zero; WinREStaged 0; and WinreBCD id when `winreBcdId` is given. Missing elements
 * are added in the file's style; attributes that already hold the value are not touched.
 */
export function repointReAgent(original: Uint8Array, target: ReAgentTarget, winreBcdId?: string): Uint8Array {
  if (!Number.isSafeInteger(target.offset) || target.offset <= 0) {
    throw new BadInputError(`ReAgent.xml target: partition offset ${target.offset} is not a byte offset`, { code: 'reagent-target' });
  }
  let winreLocation: ReAgentConfig['winreLocation'];
  if (target.scheme === 'gpt') {
    winreLocation = { path: WINRE_DIRECTORY, id: 0, offset: target.offset, guid: bracedGuid(target.diskGuid, 'disk GUID') };
  } else if (target.scheme === 'mbr') {
    const sig = target.diskSignature;
    if (!Number.isInteger(sig) || sig < 0 || sig > 0xffffffff) {
      throw new BadInputError(`ReAgent.xml target: disk signature ${sig} is not a 32-bit number`, { code: 'reagent-target' });
    }
    winreLocation = { path: WINRE_DIRECTORY, id: sig, offset: target.offset, guid: ZERO_GUID_BRACED };
  } else {
    throw new BadInputError(`ReAgent.xml target: unknown scheme "${String((target as { scheme: unknown }).scheme)}"`, { code: 'reagent-target' });
  }
  const config: Partial<ReAgentConfig> = {
    winreLocation,
    imageLocation: { path: '', id: 0, offset: 0, guid: ZERO_GUID_BRACED },
    installState: 1,
    winreStaged: 0,
  };
  if (winreBcdId !== undefined) config.winreBcd = bracedGuid(winreBcdId, 'WinRE BCD id');
  return writeReAgentXml(config, original);
}
