// Registry transaction logs (System32\config\TxR): Common Log File System files. A .blf base log
// starts with the control record, a log block whose header (CLFS_LOG_BLOCK_HEADER, as described in
// public CLFS research and in the CLFS API documentation's "base log file") is:
//   0x00 UCHAR MajorVersion (0x15)  0x01 UCHAR MinorVersion  0x02 UCHAR Usn  0x03 UCHAR ClientId
//   0x04 USHORT TotalSectorCount    0x06 USHORT ValidSectorCount             ...
//   0x28 ULONG RecordOffsets[16] (the first is the control record's offset in the block)
// and every CLFS file is a whole number of 512-byte sectors. A .regtrans-ms is a container: a
// whole number of sectors of log blocks. What is checked here is only that shape (not the block
// checksum): enough to tell a truncated, zeroed or foreign file from a log Windows wrote.
// Pure: a name, a size and the first bytes in, a problem (or none) out. Bounded by its input.

export const CLFS_SECTOR = 512;
/** The bytes of a .blf the check reads (the control record block's first two sectors). */
export const CLFS_HEAD_BYTES = 1024;
export const CLFS_MAJOR_VERSION = 0x15;
/** The file extensions of the registry's transaction logs (Azure win-fix-transaction-logs: $TransactionLogExtension). */
export const TXR_EXTENSIONS = ['.blf', '.regtrans-ms'] as const;

export const isTxrLogName = (name: string) => {
  const n = name.toLowerCase();
  return TXR_EXTENSIONS.some((e) => n.endsWith(e) && n.length > e.length);
};

/** Why a TxR log file is damaged, or undefined when it has the CLFS shape. `head` = its first bytes (up to CLFS_HEAD_BYTES). */
export function clfsProblem(name: string, size: number, head: Uint8Array): string | undefined {
  if (size === 0) return 'is empty (0 bytes)';
  if (size % CLFS_SECTOR !== 0) return `is ${size} bytes, not a whole number of 512-byte sectors (truncated)`;
  if (!name.toLowerCase().endsWith('.blf')) return undefined;
  if (size < CLFS_HEAD_BYTES || head.length < CLFS_HEAD_BYTES) return `is ${size} bytes, too short for a CLFS control record`;
  const dv = new DataView(head.buffer, head.byteOffset, head.length);
  if (head[0] !== CLFS_MAJOR_VERSION) {
    return head.every((b) => b === 0)
      ? 'starts with zeros, not a CLFS log block (overwritten)'
      : `does not start with a CLFS log block (version byte 0x${head[0]!.toString(16).padStart(2, '0')}, not 0x15)`;
  }
  const total = dv.getUint16(4, true);
  const valid = dv.getUint16(6, true);
  if (total === 0 || valid === 0 || valid > total || total * CLFS_SECTOR > size)
    return `has a control record of ${valid}/${total} sectors, which does not fit the ${size}-byte file`;
  const record = dv.getUint32(0x28, true);
  if (record === 0 || record >= total * CLFS_SECTOR) return `has a control record offset 0x${record.toString(16)} outside its block`;
  return undefined;
}
