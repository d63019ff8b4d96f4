// Value data encoding for the CLI (`hive set --type --data`) and readable display.
import { BadInputError } from '../shared/errors.js';
import { termSafe } from '../shared/termsafe.js';
import { REG, typeName } from './regtext.js';

function utf16z(s: string): Uint8Array {
  const b = new Uint8Array(s.length * 2 + 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    b[2 * i] = c & 0xff;
    b[2 * i + 1] = c >> 8;
  }
  return b;
}

function parseInteger(text: string, bits: 32 | 64): bigint {
  const t = text.trim();
  const m = /^(0x[0-9a-f]+|[0-9]+)$/i.exec(t);
  if (!m) throw new BadInputError(`"${text}" is not a number (use decimal or 0x hex)`);
  const v = BigInt(t);
  if (v >= 1n << BigInt(bits)) throw new BadInputError(`${text} does not fit in ${bits} bits`);
  return v;
}

/** Encode `--data` arguments for a value type as regedit would store them. */
export function encodeValueData(type: number, data: string[]): Uint8Array {
  const one = () => {
    if (data.length !== 1) throw new BadInputError(`${typeName(type)} takes exactly one --data (got ${data.length})`);
    return data[0]!;
  };
  switch (type) {
    case REG.SZ:
    case REG.EXPAND_SZ:
    case REG.LINK:
      return utf16z(one());
    case REG.MULTI_SZ: {
      const parts = data.map(utf16z);
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + 2);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    }
    case REG.DWORD: {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, Number(parseInteger(one(), 32)), true);
      return b;
    }
    case REG.DWORD_BIG_ENDIAN: {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, Number(parseInteger(one(), 32)), false);
      return b;
    }
    case REG.QWORD: {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, parseInteger(one(), 64), true);
      return b;
    }
    default: {
      // REG_BINARY, REG_NONE and every other type take hex bytes ("01 02", "01,02", "0102").
      if (data.length > 1) throw new BadInputError(`${typeName(type)} takes one --data of hex bytes`);
      const hex = (data[0] ?? '').replace(/[\s,:]/g, '').replace(/^hex:/i, '');
      if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new BadInputError(`"${data[0]}" is not hex bytes`);
      return new Uint8Array(Buffer.from(hex, 'hex'));
    }
  }
}

function utf16Strings(data: Uint8Array): string[] {
  let s = '';
  for (let i = 0; i + 1 < data.length; i += 2) s += String.fromCharCode(data[i]! | (data[i + 1]! << 8));
  return s.split('\u0000');
}

/** A string as reg.exe shows it: as stored (C:\Windows, no doubled backslashes), control characters escaped, "" when empty. */
function shownString(s: string): string {
  return s === '' ? '""' : termSafe(s);
}

/**
 * A readable rendering of value data for the console. Strings appear as stored, like reg.exe
 * prints them (REG_MULTI_SZ joined with \0 as reg.exe does); --json has the exact bytes.
 */
export function formatValueData(type: number, data: Uint8Array): string {
  const hex = () =>
    Buffer.from(data)
      .toString('hex')
      .replace(/(..)(?!$)/g, '$1 ');
  switch (type) {
    case REG.SZ:
    case REG.EXPAND_SZ:
    case REG.LINK: {
      if (data.length % 2 !== 0) return `hex: ${hex()}`;
      const parts = utf16Strings(data);
      return shownString(parts[0] ?? '');
    }
    case REG.MULTI_SZ: {
      if (data.length % 2 !== 0) return `hex: ${hex()}`;
      const parts = utf16Strings(data);
      while (parts.length && parts[parts.length - 1] === '') parts.pop();
      return parts.length ? parts.map((p) => termSafe(p)).join('\\0') : '""';
    }
    case REG.DWORD:
      if (data.length !== 4) return `hex: ${hex()}`;
      {
        const v = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
        return `0x${v.toString(16).padStart(8, '0')} (${v})`;
      }
    case REG.DWORD_BIG_ENDIAN:
      if (data.length !== 4) return `hex: ${hex()}`;
      {
        const v = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, false);
        return `0x${v.toString(16).padStart(8, '0')} (${v})`;
      }
    case REG.QWORD:
      if (data.length !== 8) return `hex: ${hex()}`;
      {
        const v = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
        return `0x${v.toString(16).padStart(16, '0')} (${v})`;
      }
    default:
      return data.length ? hex() : '(zero-length)';
  }
}
