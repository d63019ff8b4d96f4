// `wufix hive ...`: read and edit offline registry hive files. Thin: parsing and printing only.
import { helpText } from '../shared/style.js';
import { Command, Option } from 'commander';
import { promises as fsp } from 'node:fs';
import { openHiveFile, saveHiveFile, checkWritable, writeNewHiveFile, type OpenedHive } from '../hive/hivefile.js';
import { atomicWrite } from '../shared/atomic.js';
import { confine, mountRootOf } from '../shared/safefs.js';
import { Hive, splitPath } from '../hive/hive.js';
import { writeJsonLines, requireKey, collectKeys } from '../hive/dump.js';
import { encodeValueData, formatValueData } from '../hive/values.js';
import { formatRegFile, encodeRegFile, parseRegFile, stripHivePrefix, parseTypeName, typeName } from '../hive/regtext.js';
import {
  identifyHive,
  isUnmappableRoot,
  KIND_FILE,
  KIND_LABEL,
  aHive,
  mapOntoHive,
  mapRegKeyPath,
  resolveCurrentControlSet,
  splitRoot,
  splitTyped,
  type HiveIdentity,
  type HiveKind,
} from '../hive/keypath.js';
import { BadInputError, RefusedError, UsageError } from '../shared/errors.js';
import { asciiSafe, ChunkedWriter, writeChunks, writeJson, writeOut } from './output.js';

const DEFAULT_PREFIX = 'HKEY_LOCAL_MACHINE\\OFFLINE';

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

async function open(file: string, opts: { logs?: boolean }, readOnly = false): Promise<OpenedHive> {
  // A hive that will be written may sit in a mounted image: every folder from its mount point (or
  // drive) down must be a real one, so a planted link above it cannot lead the write to a host file.
  if (!readOnly) confine(mountRootOf(file));
  return openHiveFile(file, { useLogs: opts.logs !== false, inspectLogs: !readOnly });
}

function infoOf(h: OpenedHive) {
  const bb = h.primary;
  const stats = h.hive.stats();
  return {
    file: h.path,
    version: `${bb.major}.${bb.minor}`,
    sequence: { primary: bb.seq1, secondary: bb.seq2 },
    dirty: h.dirty,
    checksumOk: bb.checksumOk,
    hiveBinsSize: bb.hbinsSize,
    fileName: bb.fileName,
    flags: hex(bb.flags),
    logs: h.logs.map((l) => ({
      file: h.logPaths.find((p) => p.endsWith(l.name)) ?? l.name,
      format: l.format,
      usable: l.usable,
      ...(l.problem ? { problem: l.problem } : {}),
      ...(l.entries.length ? { firstSeq: l.entries[0]!.seq, lastSeq: l.entries[l.entries.length - 1]!.seq } : {}),
    })),
    recovered: h.recovery ? { applied: h.recovery.applied, hiveBinsSize: h.hive.hiveBinsSize } : null,
    unrecoverable: h.unrecoverable,
    rootName: h.hive.keyName(h.hive.rootCell),
    keys: stats.keys,
    values: stats.values,
  };
}

function printInfo(i: ReturnType<typeof infoOf>): void {
  const lines = [
    `file:            ${i.file}`,
    `version:         regf ${i.version}`,
    `sequence:        ${i.sequence.primary} / ${i.sequence.secondary}${i.dirty ? '  (DIRTY: not cleanly closed)' : '  (clean)'}`,
    `checksum:        ${i.checksumOk ? 'ok' : 'BAD'}`,
    `hive bins:       ${i.hiveBinsSize} bytes`,
    `root key:        ${i.rootName}`,
    `keys / values:   ${i.keys} / ${i.values}${i.recovered ? '  (after replaying the logs in memory)' : ''}`,
  ];
  if (i.logs.length === 0) lines.push('logs:            none found');
  for (const l of i.logs) {
    const seqs = l.firstSeq !== undefined ? `, entries ${l.firstSeq}-${l.lastSeq}` : '';
    lines.push(`log:             ${l.file} (${l.format}, ${l.usable ? 'usable' : 'not usable'}${seqs}${l.problem ? `: ${l.problem}` : ''})`);
  }
  if (i.recovered) {
    for (const a of i.recovered.applied) lines.push(`recovery:        would apply ${a.log} ${a.firstSeq}-${a.lastSeq} (${a.entries} entries)`);
  }
  if (i.unrecoverable) lines.push('recovery:        impossible: dirty and no usable log (read-only; writing needs --accept-dirty)');
  writeOut(asciiSafe(lines.join('\n')) + '\n');
}

function identify(h: OpenedHive): HiveIdentity {
  return identifyHive(h.hive, [h.path, h.primary.fileName]);
}

function note(line: string): void {
  process.stderr.write(asciiSafe(`wufix: note: ${line}`) + '\n');
}

/**
 * A key path as typed (regedit habits: an HKLM\SYSTEM / HKEY_CURRENT_USER / Computer\HKLM\... root,
 * forward slashes, CurrentControlSet) -> the path relative to the hive's root. A root naming another
 * hive is a usage error; CurrentControlSet is resolved through Select\Current with a note on stderr.
 */
function keyArg(h: OpenedHive, typed: string): string {
  let parts = splitTyped(typed);
  if (parts.length && isUnmappableRoot(parts[0]!)) {
    throw new UsageError(`${typed}: ${parts[0]} is not one hive; give the path relative to the hive's root (without ${parts[0]})`);
  }
  const rooted = splitRoot(parts);
  if (rooted) {
    const id = identify(h);
    const m = mapOntoHive(rooted, id.kind);
    if (m.mismatch) {
      throw new UsageError(
        `${typed} is in the ${KIND_LABEL[m.names!]} hive but ${h.path} is ${aHive(id.kind!)} (${id.because}); ` +
          `give the path relative to this hive's root, or open ${KIND_FILE[m.names!]}`,
      );
    }
    parts = m.path === '' ? [] : m.path.split('\\');
  }
  const cs = resolveCurrentControlSet(h.hive, parts, h.path);
  if (cs.resolved) note(cs.resolved.note);
  return cs.parts.join('\\');
}

function parseType(t: string): number {
  try {
    return parseTypeName(t);
  } catch {
    if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) return Number(t);
    throw new UsageError(`unknown value type "${t}" (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY, REG_NONE or a number)`);
  }
}

const noLogs = () => new Option('--no-logs', 'show the primary file as it is, without replaying .LOG1/.LOG2');
const acceptDirty = () => new Option('--accept-dirty', 'write a dirty hive even though its transaction logs are missing or unusable (their changes are lost)');

export function hiveCommand(): Command {
  const cmd = new Command('hive').description('read and edit offline registry hive files (SYSTEM, SOFTWARE, NTUSER.DAT, BCD, ...)').addHelpText(
    'after',
    helpText(`
Key paths are relative to the hive's root and use backslashes: "Microsoft\\Windows NT\\CurrentVersion" (quote them in the shell). The default value of a key has the empty name "".

regedit spellings work too: a root naming this hive ("HKLM\\SYSTEM\\...", "HKCU\\...") is stripped (another hive's root is refused), "/" separates keys in a path without "\\", and CurrentControlSet is the control set SYSTEM\\Select\\Current names (a note on stderr says which).

A dirty hive (not cleanly closed) is read with its .LOG/.LOG1/.LOG2 replayed in memory; edits replay them into the file first, write a clean hive atomically, then empty the logs.

Examples:
  wufix hive info SOFTWARE
  wufix hive get SOFTWARE "Microsoft\\Windows NT\\CurrentVersion" CurrentBuild
  wufix hive set SYSTEM Setup SystemSetupInProgress --type REG_DWORD --data 0
  wufix hive dump SYSTEM --key Select --json
  wufix hive get SYSTEM "HKLM\\SYSTEM\\CurrentControlSet\\Services\\wuauserv" Start
  wufix hive export SOFTWARE "Policies\\Microsoft\\Windows\\WindowsUpdate" -o wu.reg`),
  );
  addInfoCommand(cmd);
  addDumpCommand(cmd);
  addGetCommand(cmd);
  addSetCommand(cmd);
  addDeleteCommand(cmd);
  addRecoverCommand(cmd);
  addExportCommand(cmd);
  addImportCommand(cmd);
  addNewCommand(cmd);
  return cmd;
}

/** `wufix hive info` */
function addInfoCommand(parent: Command): void {
  parent
    .command('info')
    .description('version, sequence numbers, dirty state, logs, root name, key and value counts')
    .argument('<file>', 'hive file')
    .option('--json', 'machine-readable output')
    .addOption(noLogs())
    .action(async (file: string, o: { json?: boolean; logs?: boolean }) => {
      const info = infoOf(await open(file, o));
      if (o.json) writeJson(info);
      else printInfo(info);
    });
}

/** `wufix hive dump` */
function addDumpCommand(parent: Command): void {
  parent
    .command('dump')
    .description('every key and value, depth first (JSON Lines with --json: {"path", "values": [{"name", "type", "data"}]})')
    .argument('<file>', 'hive file')
    .option('--key <path>', 'start at this key', '')
    .option('--json', 'JSON Lines, one object per key; data is the raw bytes as lowercase hex')
    .addOption(noLogs())
    .action(async (file: string, o: { key: string; json?: boolean; logs?: boolean }) => {
      const h = await open(file, o, true);
      const key = keyArg(h, o.key);
      const out = new ChunkedWriter();
      if (o.json) {
        await writeChunks((sink) => writeJsonLines(h.hive, key, sink));
        return;
      } else {
        for (const k of collectKeys(h.hive, key)) {
          out.write(asciiSafe(`[${k.path === '' ? '(root)' : k.path}]`) + '\n');
          for (const v of k.values) {
            out.write(asciiSafe(`  ${v.name === '' ? '(default)' : v.name}  ${typeName(v.type)}  ${formatValueData(v.type, v.data)}`) + '\n');
          }
        }
      }
      await out.end();
    });
}

/** `wufix hive get` */
function addGetCommand(parent: Command): void {
  parent
    .command('get')
    .description('print one value, or every value of a key')
    .argument('<file>', 'hive file')
    .argument('<keypath>', 'key path relative to the root (or HKLM\\<this hive>\\...)')
    .argument('[name]', 'value name ("" for the default value)')
    .option('--json', 'machine-readable output')
    .addOption(noLogs())
    .action(async (file: string, keyPath: string, name: string | undefined, o: { json?: boolean; logs?: boolean }) => {
      const h = await open(file, o, true);
      const key = keyArg(h, keyPath);
      const nk = requireKey(h.hive, key, file);
      let vks = h.hive.values(nk);
      if (name !== undefined) {
        const vk = h.hive.findValue(nk, name);
        if (vk === undefined) throw new BadInputError(`value not found: ${key} -> "${name}"`, { file, code: 'no-value' });
        vks = [vk];
      }
      const vals = vks.map((vk) => h.hive.value(vk));
      if (o.json) {
        const rows = vals.map((v) => ({ name: v.name, type: v.type, typeName: typeName(v.type), data: Buffer.from(v.data).toString('hex') }));
        writeJson(name !== undefined ? rows[0] : { path: h.hive.pathOf(nk), values: rows, subkeys: h.hive.subkeys(nk).map((c) => h.hive.keyName(c)) });
      } else if (name !== undefined) {
        writeOut(asciiSafe(`${typeName(vals[0]!.type)}  ${formatValueData(vals[0]!.type, vals[0]!.data)}`) + '\n');
      } else {
        const lines = vals.map((v) => `${v.name === '' ? '(default)' : v.name}  ${typeName(v.type)}  ${formatValueData(v.type, v.data)}`);
        for (const c of h.hive.subkeys(nk)) lines.push(`[${h.hive.keyName(c)}]`);
        writeOut(asciiSafe(lines.join('\n')) + (lines.length ? '\n' : ''));
      }
    });
}

/** `wufix hive set` */
function addSetCommand(parent: Command): void {
  parent
    .command('set')
    .description('set a value (creating missing keys); the hive is saved atomically')
    .argument('<file>', 'hive file')
    .argument('<keypath>', 'key path relative to the root (or HKLM\\<this hive>\\...)')
    .argument('<name>', 'value name ("" for the default value)')
    .requiredOption('--type <type>', 'REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY, REG_NONE (or a number)')
    .option(
      '--data <value>',
      'the data; repeat for REG_MULTI_SZ; DWORD/QWORD: decimal or 0x hex; BINARY: hex bytes',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .addOption(acceptDirty())
    .action(async (file: string, keyPath: string, name: string, o: { type: string; data: string[]; acceptDirty?: boolean }) => {
      const type = parseType(o.type);
      const data = encodeValueData(type, o.data);
      const h = await open(file, {});
      checkWritable(h, o);
      const nk = h.hive.ensureKey(keyArg(h, keyPath));
      h.hive.setValue(nk, name, type, data);
      await saveHiveFile(h, o);
    });
}

/** `wufix hive delete` */
function addDeleteCommand(parent: Command): void {
  parent
    .command('delete')
    .description('delete a key (with everything below it) or one value')
    .argument('<file>', 'hive file')
    .argument('<keypath>', 'key path relative to the root (or HKLM\\<this hive>\\...)')
    .argument('[name]', 'value name; without it the key itself is deleted')
    .addOption(acceptDirty())
    .action(async (file: string, keyPath: string, name: string | undefined, o: { acceptDirty?: boolean }) => {
      const h = await open(file, {});
      checkWritable(h, o);
      const key = keyArg(h, keyPath);
      const nk = requireKey(h.hive, key, file);
      if (name === undefined) h.hive.deleteKey(nk);
      else if (!h.hive.deleteValue(nk, name)) throw new BadInputError(`value not found: ${key} -> "${name}"`, { file, code: 'no-value' });
      await saveHiveFile(h, o);
    });
}

/** `wufix hive recover` */
function addRecoverCommand(parent: Command): void {
  parent
    .command('recover')
    .description('write the recovered, clean hive (logs replayed) to a new file; the original is not touched')
    .argument('<file>', 'hive file')
    .requiredOption('-o, --output <out>', 'output file (must not exist)')
    .addOption(acceptDirty())
    .action(async (file: string, o: { output: string; acceptDirty?: boolean }) => {
      const h = await open(file, {});
      checkWritable(h, o);
      await writeNewHiveFile(o.output, h.hive);
      const applied = h.recovery?.applied ?? [];
      process.stderr.write(
        applied.length
          ? `recovered: applied ${applied.map((a) => `${a.log} ${a.firstSeq}-${a.lastSeq}`).join(', ')}\n`
          : 'hive was clean: written unchanged apart from the base block\n',
      );
    });
}

/** `wufix hive export` */
function addExportCommand(parent: Command): void {
  parent
    .command('export')
    .description('export keys as a regedit .reg file ("Windows Registry Editor Version 5.00")')
    .argument('<file>', 'hive file')
    .argument('[keypath]', 'key to export (default: the whole hive)', '')
    .option('-o, --output <file>', 'write UTF-16LE with BOM, as regedit does (default: UTF-8 text on stdout)')
    .option('--prefix <root>', 'registry path the hive root is shown under', DEFAULT_PREFIX)
    .addOption(noLogs())
    .action(async (file: string, keyPath: string, o: { output?: string; prefix: string; logs?: boolean }) => {
      const h = await open(file, o, true);
      const text = formatRegFile(collectKeys(h.hive, keyArg(h, keyPath)), { prefix: o.prefix });
      if (o.output)
        await atomicWrite(o.output, encodeRegFile(text)); // never through a link in its place
      else {
        const out = new ChunkedWriter();
        out.write(text);
        await out.end();
      }
    });
}

/** `wufix hive import` */
function addImportCommand(parent: Command): void {
  parent
    .command('import')
    .description('apply a regedit .reg file to the hive (keys, values, [-key] and "value"=- deletions)')
    .argument('<file>', 'hive file')
    .argument('<in.reg>', '.reg file (UTF-16LE or UTF-8; version 5.00 or REGEDIT4)')
    .option('--prefix <root>', 'the part of each [key] path that names the hive root (default: HKLM\\<name>, HKU\\<name>, HKCU)')
    .option('--force', "import even though the .reg file's root names another hive than this one")
    .option('--json', 'print what was applied as JSON')
    .addOption(acceptDirty())
    .action(async (file: string, regFile: string, o: { prefix?: string; force?: boolean; json?: boolean; acceptDirty?: boolean }) => {
      const ops = parseRegFile(new Uint8Array(await fsp.readFile(regFile)));
      const h = await open(file, {});
      checkWritable(h, o);
      const id = identify(h);
      // Map every path before changing anything: a refusal leaves the hive untouched.
      const mismatched = new Map<string, HiveKind>();
      let unknownTarget = '';
      const mapped = ops.map((op) => {
        if (o.prefix !== undefined) return { op, parts: splitPath(stripHivePrefix(op.path, o.prefix)) };
        const m = mapRegKeyPath(op.path, id.kind);
        if (m.mismatch) mismatched.set(m.root, m.names!);
        if (m.names !== undefined && id.kind === undefined) unknownTarget ||= m.root;
        return { op, parts: splitPath(m.path) };
      });
      if (mismatched.size) {
        const [root, kind] = [...mismatched][0]!;
        const what = `${regFile} writes under ${root} (the ${KIND_LABEL[kind]} hive) but ${file} is ${aHive(id.kind!)} (${id.because})`;
        if (!o.force) {
          throw new RefusedError(`${what}: nothing written; import it into ${KIND_FILE[kind]}, or add --force to write its keys at this hive's root anyway`);
        }
        process.stderr.write(asciiSafe(`wufix: warning: ${what}; writing anyway (--force)`) + '\n');
      }
      if (unknownTarget) note(`cannot tell which hive ${file} is (${id.because}); keys under ${unknownTarget} go at its root`);
      // CurrentControlSet is a link Windows makes at boot: in a SYSTEM hive (or one wufix cannot
      // tell) it is resolved through Select\Current, never written as a key of its own.
      const notes = new Set<string>();
      const resolved = mapped.map(({ op, parts }) => {
        if (id.kind !== undefined && id.kind !== 'system') return { op, path: parts };
        const cs = resolveCurrentControlSet(h.hive, parts, h.path);
        if (cs.resolved) notes.add(cs.resolved.note);
        return { op, path: cs.parts };
      });
      for (const n of notes) note(n);
      const done = { keysCreated: 0, valuesSet: 0, valuesDeleted: 0, keysDeleted: 0, absent: 0 };
      for (const { op, path } of resolved) {
        if (op.kind === 'delete-key') {
          const nk = h.hive.lookup(path.join('\\'));
          if (nk === undefined) {
            done.absent++;
            continue;
          }
          h.hive.walk(nk, '', () => done.keysDeleted++);
          h.hive.deleteKey(nk);
          continue;
        }
        let nk = h.hive.rootCell;
        for (const part of path) {
          const child = h.hive.findSubkey(nk, part);
          if (child !== undefined) nk = child;
          else {
            nk = h.hive.createKey(nk, part);
            done.keysCreated++;
          }
        }
        for (const v of op.values) {
          if (!('delete' in v)) {
            h.hive.setValue(nk, v.name, v.type, v.data);
            done.valuesSet++;
          } else if (h.hive.deleteValue(nk, v.name)) done.valuesDeleted++;
          else done.absent++;
        }
      }
      await saveHiveFile(h, o);
      if (o.json) {
        writeJson({ file: h.path, reg: regFile, hiveKind: id.kind ?? null, forced: mismatched.size > 0, ...done, notes: [...notes] });
        return;
      }
      const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
      const parts = [n(done.keysCreated, 'key') + ' created', n(done.valuesSet, 'value') + ' set', n(done.valuesDeleted, 'value') + ' deleted'];
      parts.push(n(done.keysDeleted, 'key') + ' deleted');
      if (done.absent) parts.push(`${done.absent} deletion${done.absent === 1 ? '' : 's'} of something not there`);
      writeOut(asciiSafe(`imported ${regFile} into ${h.path}: ${parts.join(', ')}`) + '\n');
    });
}

/** `wufix hive new` */
function addNewCommand(parent: Command): void {
  parent
    .command('new')
    .description('create a new, empty hive file')
    .argument('<file>', 'output file (must not exist)')
    .option('--minor <n>', 'format minor version: 3 (NTUSER/BCD style) to 6', '5')
    .option('--root-name <name>', 'name of the root key', 'ROOT')
    .action(async (file: string, o: { minor: string; rootName: string }) => {
      const minor = Number(o.minor);
      if (!Number.isInteger(minor)) throw new UsageError(`--minor takes a number, not "${o.minor}"`);
      await writeNewHiveFile(file, Hive.create({ minor, rootName: o.rootName }));
    });
}
