// Walks a hive depth first and yields each key with its values: the source of `hive dump` (JSON
// Lines) and `hive export` (.reg). Subkeys in stored (Windows) order, values in value-list order.
import { BadInputError } from '../errors.js';
import type { Hive } from './hive.js';

export interface DumpedValue {
  name: string;
  type: number;
  data: Uint8Array;
}
export interface DumpedKey {
  path: string;
  values: DumpedValue[];
}

/** Resolve `keyPath` (relative to the root; '' = root) or fail with a clear message. */
export function requireKey(hive: Hive, keyPath: string, file?: string): number {
  const nk = hive.lookup(keyPath);
  if (nk === undefined) throw new BadInputError(`key not found: ${keyPath}`, { file, code: 'no-key' });
  return nk;
}

export function* walkKeys(hive: Hive, keyPath = ''): Generator<DumpedKey> {
  const start = requireKey(hive, keyPath);
  const startPath = keyPath === '' ? '' : hive.pathOf(start);
  const items: DumpedKey[] = [];
  // walk() is callback-based; buffer per key and yield in order.
  hive.walk(start, startPath, (nk, path) => {
    items.push({ path, values: hive.values(nk).map((vk) => hive.value(vk)) });
  });
  yield* items;
}

/** JSON Lines as `wufix hive dump --json` prints them; `emit` receives one line (with "\n"). */
export function dumpJsonLines(hive: Hive, keyPath: string, emit: (line: string) => void): void {
  const start = requireKey(hive, keyPath);
  const startPath = keyPath === '' ? '' : hive.pathOf(start);
  hive.walk(start, startPath, (nk, path) => {
    const values = hive.values(nk).map((vk) => {
      const v = hive.value(vk);
      return { name: v.name, type: v.type, data: Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString('hex') };
    });
    emit(JSON.stringify({ path, values }) + '\n');
  });
}
