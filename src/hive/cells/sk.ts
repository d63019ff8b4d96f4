// sk: a security record (registry-hives.md section 2, "sk"): a self-relative security descriptor
// shared by every key that points to it, on a circular doubly-linked list of all sk cells.

export const enum SK {
  signature = 0,
  reserved = 2,
  flink = 4,
  blink = 8,
  /** Number of nk records pointing here. */
  refCount = 12,
  descriptorLength = 16,
  descriptor = 20,
}

/** Bytes of an sk record before its descriptor. */
export const SK_FIXED = SK.descriptor;
/** "sk" */
export const SIG_SK = 0x6b73;

/** Write an sk record at file position `d` that is alone on its list, with one reference. */
export function initSk(dv: DataView, buf: Uint8Array, d: number, self: number, sd: Uint8Array): void {
  dv.setUint16(d + SK.signature, SIG_SK, true);
  dv.setUint32(d + SK.flink, self, true);
  dv.setUint32(d + SK.blink, self, true);
  dv.setUint32(d + SK.refCount, 1, true);
  dv.setUint32(d + SK.descriptorLength, sd.length, true);
  buf.set(sd, d + SK.descriptor);
}

/**
 * Self-relative security descriptor for a new hive's root:
 * O:BA G:SY D:P(A;CI;KA;;;SY)(A;CI;KA;;;BA)(A;CI;KR;;;BU) - SYSTEM and Administrators full, Users read.
 */
export const DEFAULT_ROOT_SD: Uint8Array = (() => {
  const sidSY = [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
  const sidBA = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0];
  const sidBU = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 33, 2, 0, 0];
  const ace = (mask: number, sid: number[]) => {
    const size = 8 + sid.length;
    return [0, 0x02 /* CONTAINER_INHERIT */, size & 0xff, size >> 8, mask & 0xff, (mask >> 8) & 0xff, (mask >> 16) & 0xff, (mask >>> 24) & 0xff, ...sid];
  };
  const aces = [...ace(0xf003f, sidSY), ...ace(0xf003f, sidBA), ...ace(0x20019, sidBU)];
  const aclSize = 8 + aces.length;
  const acl = [2, 0, aclSize & 0xff, aclSize >> 8, 3, 0, 0, 0, ...aces];
  const hdr = 20;
  const offOwner = hdr;
  const offGroup = offOwner + sidBA.length;
  const offDacl = offGroup + sidSY.length;
  const control = 0x8004 | 0x1000; // SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_PROTECTED
  const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
  return new Uint8Array([1, 0, control & 0xff, control >> 8, ...le32(offOwner), ...le32(offGroup), ...le32(0), ...le32(offDacl), ...sidBA, ...sidSY, ...acl]);
})();
