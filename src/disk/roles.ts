// Partition types: well-known GPT type GUIDs and MBR type bytes, and the role wufix gives them.
import type { Role } from '../model/disk.js';

export const GPT_TYPE = {
  ESP: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  MSR: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  BASIC_DATA: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  RECOVERY: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
  LDM_METADATA: '5808c8aa-7e8f-42e0-85d2-e1e90434cfb3',
  LDM_DATA: 'af9b60a0-1431-4f62-bc68-3311714a69ad',
  LINUX_DATA: '0fc63daf-8483-4772-8e79-3d69d8477de4',
  LINUX_SWAP: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f',
  LINUX_LVM: 'e6d6d379-f507-44c2-a23c-238f2a3df928',
  LINUX_RAID: 'a19d880f-05fc-4d3b-a006-743f0f84911e',
  LINUX_ROOT_X86_64: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
  LINUX_HOME: '933ac7e1-2eb4-4f13-b844-0e14e2aef915',
} as const;

/** GPT attribute bits (UEFI spec table 5-7 and Microsoft basic-data attributes). */
export const GPT_ATTR = {
  PLATFORM_REQUIRED: 1n,
  NO_BLOCK_IO: 2n,
  LEGACY_BIOS_BOOTABLE: 4n,
  READ_ONLY: 1n << 60n,
  SHADOW_COPY: 1n << 61n,
  HIDDEN: 1n << 62n,
  NO_DRIVE_LETTER: 1n << 63n,
} as const;

/** WinRE recovery partition attributes 0x8000000000000001. */
export const WINRE_ATTRIBUTES = GPT_ATTR.NO_DRIVE_LETTER | GPT_ATTR.PLATFORM_REQUIRED;

export function gptRole(type: string): Role {
  switch (type) {
    case GPT_TYPE.ESP:
      return 'esp';
    case GPT_TYPE.MSR:
      return 'msr';
    case GPT_TYPE.BASIC_DATA:
      return 'basic';
    case GPT_TYPE.RECOVERY:
      return 'recovery';
    case GPT_TYPE.LDM_METADATA:
    case GPT_TYPE.LDM_DATA:
      return 'windows-ldm';
    case GPT_TYPE.LINUX_DATA:
    case GPT_TYPE.LINUX_SWAP:
    case GPT_TYPE.LINUX_LVM:
    case GPT_TYPE.LINUX_RAID:
    case GPT_TYPE.LINUX_ROOT_X86_64:
    case GPT_TYPE.LINUX_HOME:
      return 'linux';
    default:
      return 'other';
  }
}

export function mbrRole(type: number): Role {
  switch (type) {
    case 0x01:
    case 0x04:
    case 0x06:
    case 0x07:
    case 0x0b:
    case 0x0c:
    case 0x0e:
      return 'basic';
    case 0x27:
      return 'recovery';
    case 0xef:
      return 'esp';
    case 0x42:
      return 'windows-ldm';
    case 0x05:
    case 0x0f:
    case 0x85:
      return 'extended';
    case 0x82:
    case 0x83:
    case 0x8e:
    case 0xfd:
      return 'linux';
    default:
      return 'other';
  }
}

export function mbrTypeString(t: number): string {
  return '0x' + t.toString(16).padStart(2, '0');
}

/** "0x27" / "27" / "0X0c" -> byte, or undefined. */
export function parseMbrType(s: string): number | undefined {
  const m = /^(?:0x)?([0-9a-f]{1,2})$/i.exec(s.trim());
  return m ? parseInt(m[1]!, 16) : undefined;
}

export function attributesString(a: bigint): string {
  return '0x' + a.toString(16).padStart(16, '0');
}
