// A plain model of a registry tree for property tests: what a correct engine must produce.
// Names compare case-insensitively in Windows collation; subkeys are listed in Windows order.
import { compareNames, upcase } from '../../src/hive/names.js';
import type { DumpRow } from './hive-tools.js';

export interface MValue {
  name: string;
  type: number;
  data: Uint8Array;
}
export interface MKey {
  name: string;
  values: MValue[];
  children: Map<string, MKey>;
}

export class Model {
  root: MKey = { name: '', values: [], children: new Map() };

  static fromDump(rows: DumpRow[]): Model {
    const m = new Model();
    for (const r of rows) {
      const k = r.path === '' ? m.root : m.ensure(r.path);
      k.values = r.values.map((v) => ({ name: v.name, type: v.type, data: new Uint8Array(Buffer.from(v.data, 'hex')) }));
    }
    return m;
  }

  get(path: string): MKey | undefined {
    let k: MKey | undefined = this.root;
    for (const part of path.split('\\').filter(Boolean)) {
      k = k.children.get(upcase(part));
      if (!k) return undefined;
    }
    return k;
  }

  ensure(path: string): MKey {
    let k = this.root;
    for (const part of path.split('\\').filter(Boolean)) {
      let c = k.children.get(upcase(part));
      if (!c) {
        c = { name: part, values: [], children: new Map() };
        k.children.set(upcase(part), c);
      }
      k = c;
    }
    return k;
  }

  deleteKey(path: string): void {
    const parts = path.split('\\').filter(Boolean);
    const parent = this.get(parts.slice(0, -1).join('\\'))!;
    parent.children.delete(upcase(parts[parts.length - 1]!));
  }

  setValue(path: string, name: string, type: number, data: Uint8Array): void {
    const k = this.get(path)!;
    const v = k.values.find((x) => upcase(x.name) === upcase(name) && x.name.length === name.length);
    if (v) {
      v.type = type;
      v.data = data;
    } else k.values.push({ name, type, data });
  }

  deleteValue(path: string, name: string): boolean {
    const k = this.get(path)!;
    const i = k.values.findIndex((x) => upcase(x.name) === upcase(name) && x.name.length === name.length);
    if (i < 0) return false;
    k.values.splice(i, 1);
    return true;
  }

  /** Every key path (stored casing), depth first in Windows order. */
  paths(): string[] {
    return this.dump().map((r) => r.path);
  }

  dump(): DumpRow[] {
    const out: DumpRow[] = [];
    const visit = (k: MKey, path: string) => {
      out.push({ path, values: k.values.map((v) => ({ name: v.name, type: v.type, data: Buffer.from(v.data).toString('hex') })) });
      const kids = [...k.children.values()].sort((a, b) => compareNames(a.name, b.name));
      for (const c of kids) visit(c, path === '' ? c.name : `${path}\\${c.name}`);
    };
    visit(this.root, '');
    return out;
  }
}
