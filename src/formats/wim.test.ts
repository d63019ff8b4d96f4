// The WIM header and XML data parsers on hand-made bytes (the real files are checked against
// wimlib's wiminfo in test/cli/winre-info.test.ts).
import { describe, it, expect } from 'vitest';
import { parseWimHeader, parseWimXml, WIM_HEADER_BYTES } from './wim.js';

function header(opts: { flags?: number; xmlOffset?: number; xmlSize?: number; images?: number } = {}): Uint8Array {
  const b = new Uint8Array(WIM_HEADER_BYTES);
  const dv = new DataView(b.buffer);
  b.set(new TextEncoder().encode('MSWIM\0\0\0'));
  dv.setUint32(8, WIM_HEADER_BYTES, true);
  dv.setUint32(12, 0x10d00, true);
  dv.setUint32(16, opts.flags ?? 0x80, true);
  dv.setUint32(20, 32768, true);
  for (let i = 0; i < 16; i++) b[24 + i] = i;
  dv.setUint16(40, 1, true);
  dv.setUint16(42, 1, true);
  dv.setUint32(44, opts.images ?? 1, true);
  const size = opts.xmlSize ?? 100;
  dv.setUint32(72, size % 2 ** 32, true);
  dv.setUint16(76, Math.floor(size / 2 ** 32), true);
  b[79] = 0x02; // resource flags: metadata
  dv.setBigUint64(80, BigInt(opts.xmlOffset ?? 4096), true);
  dv.setBigUint64(88, BigInt(opts.xmlSize ?? 100), true);
  dv.setUint32(120, 1, true);
  return b;
}

const utf16 = (s: string) => {
  const b = new Uint8Array(2 + s.length * 2);
  b[0] = 0xff;
  b[1] = 0xfe;
  for (let i = 0; i < s.length; i++) new DataView(b.buffer).setUint16(2 + i * 2, s.charCodeAt(i), true);
  return b;
};

describe('WIM header', () => {
  it('reads the fields wiminfo prints and where the XML data is (7-byte size, flags byte apart)', () => {
    const h = parseWimHeader(header({ flags: 0x80 | 0x2 | 0x40000, xmlOffset: 0x1234567890, xmlSize: 0x1_0000_0010 }));
    expect(h).toMatchObject({ guid: '0x000102030405060708090a0b0c0d0e0f', version: 68864, compression: 'LZX', chunkSize: 32768, partNumber: 1, totalParts: 1 });
    expect(h).toMatchObject({ imageCount: 1, bootIndex: 1 });
    expect(h.xml).toEqual({ offset: 0x1234567890, size: 0x1_0000_0010, compressed: false });
    expect(parseWimHeader(header({ flags: 0x80 })).compression).toBe('None');
  });
  it('refuses what is not a WIM header, in one line', () => {
    expect(() => parseWimHeader(new Uint8Array(208))).toThrow(/not a WIM file/);
    expect(() => parseWimHeader(header().subarray(0, 100))).toThrow(/100 bytes, need 208/);
  });
});

describe('WIM XML data', () => {
  it('reads each image: name (entities decoded), counts, Windows version and architecture', () => {
    const xml =
      '<WIM><TOTALBYTES>5000</TOTALBYTES><IMAGE INDEX="1"><DIRCOUNT>3</DIRCOUNT><FILECOUNT>7</FILECOUNT><TOTALBYTES>1234</TOTALBYTES>' +
      '<WINDOWS><ARCH>9</ARCH><PRODUCTNAME>Microsoft&#174; Windows&#174;</PRODUCTNAME><EDITIONID>WindowsPE</EDITIONID>' +
      '<VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>19041</BUILD><SPBUILD>3920</SPBUILD></VERSION></WINDOWS>' +
      '<NAME>Microsoft Windows Recovery Environment (x64) &amp; more</NAME></IMAGE><IMAGE INDEX="2"><NAME>b</NAME></IMAGE></WIM>';
    const r = parseWimXml(utf16(xml));
    expect(r.totalBytes).toBe(5000);
    expect(r.images).toEqual([
      {
        index: 1,
        name: 'Microsoft Windows Recovery Environment (x64) & more',
        dirCount: 3,
        fileCount: 7,
        totalBytes: 1234,
        arch: 9,
        productName: 'Microsoft\u00ae Windows\u00ae',
        editionId: 'WindowsPE',
        version: '10.0.19041.3920',
      },
      { index: 2, name: 'b' },
    ]);
  });
  it('refuses XML without <WIM>', () => {
    expect(() => parseWimXml(utf16('<html></html>'))).toThrow(/no <WIM> element/);
  });
});
