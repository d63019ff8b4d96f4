// EVTX records -> typed UpdateEvents (issue #16), pure: one EvtxEvent in, at most one UpdateEvent out.
//
// Sources and event ids (the data field names are those of the real logs in
// ../shared/fixtures/logs/evtx; the message texts are Event Viewer's wording of these events):
// - System.evtx, provider Microsoft-Windows-WindowsUpdateClient: 19 "Installation Successful",
//   20 "Installation Failure" (errorCode), 43 "Installation Started", 44 "started downloading";
//   fields updateTitle, updateGuid, errorCode.
// - Microsoft-Windows-WindowsUpdateClient/Operational: the same 19/20/43/44, plus 25 "failed to check
//   for updates" (errorCode, serviceGuid), 26 "successfully found N updates" (updateCount, serviceGuid),
//   31 "failed to download an update" (errorCode), 41 "An update was downloaded".
// - Setup.evtx, provider Microsoft-Windows-Servicing (CBS): 1 "Initiating changes for package P.
//   Current state is S. Target state is T. Client id: C", 2 "Package P was successfully changed to
//   the T state", 3 "Package P failed to be changed to the T state. Status: E", 4 "A reboot is
//   necessary before package P can be changed to the T state"; the selectable-update (optional
//   feature / role) events 7/8 (turn on/off initiated), 9/10 (turned on/off), 11/12 (failed to turn
//   on/off), 13/14 (reboot necessary to turn on/off), fields UpdateName, PackageIdentifier, ErrorCode,
//   Client. States come as text (2012 R2: 'Absent') or as numbers next to a *Textized twin
//   (Windows 10: 5000 'Absent', 5112 'Installed': 5000 + the CBS package state value).
// EVTX times are UTC (TimeCreated/@SystemTime): timeIsLocal is always false.
import type { AttemptKind, AttemptResult, UpdateEvent } from '../model/attempts.js';
import type { EvtxEvent } from './evtx.js';
import { extractKb, hexField } from './logs/fields.js';

export type EvtxLogSource = 'System.evtx' | 'Setup.evtx' | 'WindowsUpdateClient.evtx';

export const WU_CLIENT_PROVIDER = 'Microsoft-Windows-WindowsUpdateClient';
export const SERVICING_PROVIDER = 'Microsoft-Windows-Servicing';

const MAX_MESSAGE = 500;
const MAX_FIELD = 300;

/** ASCII-safe, one line, trimmed, bounded. */
function clean(s: string, max = MAX_FIELD): string {
  const t = s
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  return t.length > max ? t.slice(0, max - 3) + '...' : t;
}

function field(ev: EvtxEvent, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = ev.data[n];
    if (v !== undefined && v.trim() !== '') return clean(v);
  }
  return undefined;
}

/** An HRESULT as the event stores it: "0x80073d02", "80073D02" or a (possibly negative) decimal. */
export function evtxCode(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (/^-?\d{1,10}$/.test(t) && !/^0\d/.test(t)) {
    const n = Number(t);
    if (n >= -0x80000000 && n <= 0xffffffff) return '0x' + (n >>> 0).toString(16).padStart(8, '0');
    return undefined;
  }
  return hexField(t);
}

/** A GUID, lower case, no braces; undefined when it is not one. */
function guid(s: string | undefined): string | undefined {
  const m = s === undefined ? null : /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i.exec(s.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/** CBS package states (MS "CBS Servicing States Chart"); Servicing events write them as 5000 + state. windows/servicing.ts uses it too. */
export const CBS_STATES: Record<number, string> = {
  0x0: 'Absent',
  0x5: 'Uninstall Pending',
  0x20: 'Resolved',
  0x40: 'Staged',
  0x50: 'Superseded',
  0x60: 'Install Pending',
  0x65: 'Partially Installed',
  0x70: 'Installed',
  0x80: 'Permanent',
};

/** 'Installed' from "Installed", "5112" or "112"; the *Textized twin wins when present. */
export function servicingState(ev: EvtxEvent, name: string): string | undefined {
  const text = field(ev, `${name}Textized`);
  if (text !== undefined) return text;
  const v = field(ev, name);
  if (v === undefined) return undefined;
  if (/^\d{1,5}$/.test(v)) {
    const n = Number(v);
    return CBS_STATES[n >= 5000 ? n - 5000 : n] ?? v;
  }
  return v;
}

type Base = Omit<UpdateEvent, 'kind' | 'result' | 'message'>;

function base(ev: EvtxEvent, file: string, source: EvtxLogSource): Base {
  const b: Base = { source, file, eventId: ev.eventId, timeIsLocal: false };
  if (ev.eventRecordId !== undefined) b.recordId = ev.eventRecordId.toString();
  if (!Number.isNaN(ev.timeCreated.getTime())) b.time = ev.timeCreated;
  return b;
}

function make(b: Base, kind: AttemptKind, result: AttemptResult, message: string, extra: Partial<UpdateEvent> = {}): UpdateEvent {
  const e: UpdateEvent = { ...b, kind, result, message: clean(message, MAX_MESSAGE) };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (e as unknown as Record<string, unknown>)[k] = v;
  return e;
}

/** The Windows Update client events (System.evtx and the Operational log). */
function wuClientEvent(ev: EvtxEvent, b: Base, operational: boolean): UpdateEvent | undefined {
  const title = field(ev, 'updateTitle');
  const who = { title, kb: title !== undefined ? extractKb(title) : undefined, updateId: guid(ev.data['updateGuid']) };
  const t = title ?? (who.updateId !== undefined ? `update ${who.updateId}` : 'an update');
  const code = evtxCode(ev.data['errorCode']);
  const service = guid(ev.data['serviceGuid']);
  const svc = service !== undefined ? ` (service {${service}})` : '';
  switch (ev.eventId) {
    case 19:
      return make(b, 'install', 'succeeded', `Installation Successful: Windows successfully installed the following update: ${t}`, who);
    case 20:
      return make(b, 'install', 'failed', `Installation Failure: Windows failed to install the following update with error ${code ?? '(none)'}: ${t}`, {
        ...who,
        code,
      });
    case 43:
      return make(b, 'install', 'in-progress', `Installation Started: Windows has started installing the following update: ${t}`, who);
    case 44:
      return make(b, 'download', 'in-progress', `Windows Update started downloading an update: ${t}`, who);
  }
  if (!operational) return undefined;
  switch (ev.eventId) {
    case 25:
      return make(b, 'scan', 'failed', `Windows Update failed to check for updates with error ${code ?? '(none)'}${svc}`, { code });
    case 26: {
      const n = field(ev, 'updateCount');
      return make(b, 'scan', 'succeeded', `Windows Update successfully found ${n !== undefined && /^\d+$/.test(n) ? n : 'some'} updates${svc}`);
    }
    case 31:
      return make(b, 'download', 'failed', `Windows Update failed to download an update with error ${code ?? '(none)'}: ${t}`, { ...who, code });
    case 41:
      return make(b, 'download', 'succeeded', `An update was downloaded: ${t}`, who);
  }
  return undefined;
}

/** Selectable-update (optional feature, server role) events of the Servicing provider. */
const FEATURE_EVENTS: Record<number, { result: AttemptResult; text: string }> = {
  7: { result: 'in-progress', text: 'Initiating changes to turn on update' },
  8: { result: 'in-progress', text: 'Initiating changes to turn off update' },
  9: { result: 'succeeded', text: 'Selectable update was successfully turned on:' },
  10: { result: 'succeeded', text: 'Selectable update was successfully turned off:' },
  11: { result: 'failed', text: 'Selectable update failed to be turned on:' },
  12: { result: 'failed', text: 'Selectable update failed to be turned off:' },
  13: { result: 'reboot-pending', text: 'A reboot is necessary before this selectable update can be turned on:' },
  14: { result: 'reboot-pending', text: 'A reboot is necessary before this selectable update can be turned off:' },
};

/** The Servicing (CBS) events of Setup.evtx. */
function servicingEvent(ev: EvtxEvent, b: Base): UpdateEvent | undefined {
  const pkg = field(ev, 'PackageIdentifier');
  const client = field(ev, 'Client');
  const target = servicingState(ev, 'IntendedPackageState');
  const code = evtxCode(ev.data['ErrorCode'] ?? ev.data['Status']);
  const failCode = code !== undefined && code !== '0x00000000' ? code : undefined;
  const feat = FEATURE_EVENTS[ev.eventId];
  if (feat) {
    const name = field(ev, 'UpdateName');
    const msg = `${feat.text} ${name ?? '(unnamed)'} of package ${pkg ?? '(unnamed)'}${client !== undefined ? `. Client id: ${client}` : ''}${feat.result === 'failed' ? `. Status: ${code ?? '(none)'}` : ''}`;
    const kb = extractKb(`${name ?? ''} ${pkg ?? ''}`);
    return make(b, 'feature', feat.result, msg, {
      package: pkg,
      title: name,
      kb,
      client,
      code: feat.result === 'failed' ? failCode : undefined,
      rebootRequired: feat.result === 'reboot-pending' ? true : undefined,
    });
  }
  if (![1, 2, 3, 4].includes(ev.eventId) || pkg === undefined) return undefined;
  const kind: AttemptKind = target === 'Absent' ? 'uninstall' : 'install';
  const kb = extractKb(pkg);
  // A PackageIdentifier is either the KB ("KB5010342") or a full CBS identity; keep the latter as package.
  const who = { kb, package: kb !== undefined && /^KB\d+$/i.test(pkg) ? undefined : pkg, client };
  const tgt = target ?? '(unknown)';
  switch (ev.eventId) {
    case 1: {
      const cur = servicingState(ev, 'InitialPackageState') ?? '(unknown)';
      return make(
        b,
        kind,
        'in-progress',
        `Initiating changes for package ${pkg}. Current state is ${cur}. Target state is ${tgt}. Client id: ${client ?? '(none)'}.`,
        who,
      );
    }
    case 2:
      return make(b, kind, 'succeeded', `Package ${pkg} was successfully changed to the ${tgt} state.`, who);
    case 3:
      return make(b, kind, 'failed', `Package ${pkg} failed to be changed to the ${tgt} state. Status: ${code ?? '(none)'}.`, { ...who, code: failCode });
    default:
      return make(b, kind, 'reboot-pending', `A reboot is necessary before package ${pkg} can be changed to the ${tgt} state.`, {
        ...who,
        rebootRequired: true,
      });
  }
}

/**
 * The update event an EVTX record describes, or undefined when it is not one (other providers,
 * other event ids). `file` is the log's path inside the Windows volume.
 */
export function evtxUpdateEvent(ev: EvtxEvent, file: string, source: EvtxLogSource): UpdateEvent | undefined {
  const b = base(ev, file, source);
  if (ev.provider === WU_CLIENT_PROVIDER && source !== 'Setup.evtx') return wuClientEvent(ev, b, source === 'WindowsUpdateClient.evtx');
  if (ev.provider === SERVICING_PROVIDER && source === 'Setup.evtx') return servicingEvent(ev, b);
  return undefined;
}
