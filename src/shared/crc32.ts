// CRC-32 (IEEE 802.3 / zlib, reflected, polynomial 0xEDB88320): the checksum of GPT headers and
// entries and of EVTX headers and chunks.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  return crc32Continue(0, buf.subarray(start, end));
}

/** The CRC-32 of (what gave `prev`) followed by `buf`: crc32Continue(crc32(a), b) = crc32(a + b). */
export function crc32Continue(prev: number, buf: Uint8Array): number {
  let c = ~prev >>> 0;
  for (let i = 0; i < buf.length; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
