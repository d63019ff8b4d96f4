// What a reader of a whole hive does (the fuzz tier's hive "parser call"): base block, Hive.open,
// a full walk (keys, class names, values, value data, each security descriptor once), stats, a
// lookup and the JSON Lines dump; optionally an edit and a save. Returns the output produced.
import { Hive, NIL } from '../../src/hive/hive.js';
import { baseBlockProblems, isDirty, parseBaseBlock } from '../../src/hive/baseblock.js';
import { writeJsonLines } from '../../src/hive/dump.js';
import { formatValueData } from '../../src/hive/values.js';
import { securityDescriptorToSddl } from '../../src/formats/sddl.js';
import { isTypedError } from './harness.js';

/** What a reader of a whole hive does; returns the amount of output it produced. */
export function fullWalk(bytes: Uint8Array, edit: boolean, dump = true): { outSize: number } {
  const bb = parseBaseBlock(bytes);
  baseBlockProblems(bb);
  isDirty(bb);
  const h = Hive.open(bytes);
  let out = 0;
  const sds = new Set<number>();
  h.walk(h.rootCell, '', (nk) => {
    out += h.keyName(nk).length * 2 + 80;
    out += (h.className(nk)?.length ?? 0) * 2;
    for (const vk of h.values(nk)) {
      const v = h.value(vk);
      out += v.name.length * 2 + v.data.length + 24;
      if (v.data.length <= 4096) formatValueData(v.type, v.data);
    }
    // Security cells are shared: decode each one once, as a reader should.
    const sk = h.skOffset(nk);
    if (sk !== NIL && !sds.has(sk)) {
      sds.add(sk);
      try {
        const sd = h.keySecurity(nk);
        if (sd) out += securityDescriptorToSddl(sd).length;
      } catch (e) {
        if (!isTypedError(e)) throw e;
      }
    }
  });
  h.stats();
  h.lookup('Software\\Microsoft\\Windows');
  let dumped = 0;
  if (dump) {
    writeJsonLines(h, '', (chunk) => {
      dumped += chunk.length;
      return true;
    });
  }
  if (edit) {
    const k = h.ensureKey('Software\\Wufix\\Fuzz');
    h.setValue(k, 'State', 4, new Uint8Array([0, 0x3c, 2, 0]));
    h.setValue(k, 'Big', 3, new Uint8Array(20000));
    h.deleteKey(h.lookup('Software\\Wufix')!);
    h.verify();
    Hive.open(h.serialize()).verify();
  }
  // The dump writes each key's full path and data as hex: count it at a quarter (2x hex, JSON).
  return { outSize: out + dumped / 4 };
}
