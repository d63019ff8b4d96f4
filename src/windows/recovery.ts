// What a mounted recovery volume holds: its free space, the WinRE files in Recovery\WindowsRE, and
// which Winre.wim it is (the WIM header and XML data, never the whole image).
import { closeSync, lstatSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import type { DiskInfo, WimSummary } from '../model/scan.js';
import { openReadSync } from '../shared/safefs.js';
import { FormatError } from '../shared/errors.js';
import { MAX_WIM_XML_BYTES, parseWimHeader, parseWimXml, WIM_HEADER_BYTES } from '../formats/wim.js';
import { volumeSpace } from './install.js';
import { resolveCI } from './paths.js';

function readAt(fd: number, pos: number, len: number): Uint8Array {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, got);
}

/**
 * The header and XML data of a WIM file in a target (no link followed; only those two ranges read).
 * Throws FormatError (or an unsafe-path error) when it is not a readable WIM.
 */
export function readWimSummary(file: string): WimSummary {
  const { fd, size } = openReadSync(file, Number.MAX_SAFE_INTEGER, 'the WIM file');
  try {
    const { xml, ...header } = parseWimHeader(readAt(fd, 0, WIM_HEADER_BYTES));
    if (xml.size === 0) return { ...header, images: [] };
    if (xml.compressed) throw new FormatError('WIM XML data is marked compressed; not read');
    if (xml.size > MAX_WIM_XML_BYTES) throw new FormatError(`WIM XML data is ${xml.size} bytes, more than the ${MAX_WIM_XML_BYTES} wufix reads`);
    if (xml.offset + xml.size > size) throw new FormatError(`WIM XML data (${xml.size} bytes at ${xml.offset}) lies past the end of the ${size}-byte file`);
    return { ...header, ...parseWimXml(readAt(fd, xml.offset, xml.size)) };
  } finally {
    closeSync(fd);
  }
}

/** Fill in `rec`'s free bytes, WinRE files and Winre.wim summary from its volume mounted at `mnt`. */
export function recoveryFactsAt(mnt: string, rec: DiskInfo['partitions'][number]): void {
  const space = volumeSpace(mnt);
  if (space) rec.freeBytes = space.freeBytes;
  const dir = resolveCI(mnt, 'Recovery\\WindowsRE');
  if (dir) {
    rec.winreFiles = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => ({ name: d.name, bytes: lstatSync(path.join(dir, d.name)).size }));
    const wim = rec.winreFiles.find((f) => f.name.toLowerCase() === 'winre.wim');
    if (wim) {
      try {
        rec.winreWim = readWimSummary(path.join(dir, wim.name));
      } catch (e) {
        rec.winreWimError = (e as Error).message; // shown by `winre info`; not a scan problem
      }
    }
  }
}
