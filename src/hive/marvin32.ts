// Marvin32 (Microsoft's seeded 64-bit hash), as used for the Hash-1 / Hash-2 fields of new-format
// (type 6, "HvLE") registry transaction log entries. See registry-hives.md section 3.
//
// State is two 32-bit words (lo, hi) initialised from the seed. Each little-endian dword w of the
// input does `lo += w` followed by one block; the 0-3 tail bytes are packed below a 0x80 marker
// byte into the final word (0x80 alone when there is no tail), then one block, then a block with 0.
// The result is hi:lo.

/** Seed used by Windows for registry log entries (0x82EF4D887A4E55C5). */
export const REGISTRY_LOG_SEED = 0x82ef4d887a4e55c5n;

const rotl = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0;

export function marvin32(data: Uint8Array, seed: bigint = REGISTRY_LOG_SEED): bigint {
  let lo = Number(seed & 0xffffffffn) >>> 0;
  let hi = Number((seed >> 32n) & 0xffffffffn) >>> 0;

  const block = (): void => {
    hi = (hi ^ lo) >>> 0;
    lo = (rotl(lo, 20) + hi) >>> 0;
    hi = (rotl(hi, 9) ^ lo) >>> 0;
    lo = (rotl(lo, 27) + hi) >>> 0;
    hi = rotl(hi, 19);
  };

  const len = data.length;
  const whole = len - (len % 4);
  for (let i = 0; i < whole; i += 4) {
    const w = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    lo = (lo + w) >>> 0;
    block();
  }

  // Tail: the remaining bytes in little-endian order, then the 0x80 marker byte above them.
  let final = 0x80;
  switch (len % 4) {
    case 1:
      final = 0x8000 | data[whole]!;
      break;
    case 2:
      final = 0x800000 | data[whole]! | (data[whole + 1]! << 8);
      break;
    case 3:
      final = (0x80000000 | data[whole]! | (data[whole + 1]! << 8) | (data[whole + 2]! << 16)) >>> 0;
      break;
    default:
      break;
  }
  lo = (lo + final) >>> 0;
  block();
  block(); // lo += 0, then a last block
  return (BigInt(hi) << 32n) | BigInt(lo);
}
