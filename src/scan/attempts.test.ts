// The correlation on its own: events from several sources become one attempt each, retries stay
// apart, local times are converted before anything is compared.
import { describe, expect, it } from 'vitest';
import type { UpdateEvent } from '../model/attempts.js';
import { correlate, failedUpdateAttempts } from './attempts.js';

const at = (s: string) => new Date(s + 'Z');
function ev(over: Partial<UpdateEvent> & Pick<UpdateEvent, 'source' | 'result'>): UpdateEvent {
  return { file: 'f', timeIsLocal: false, kind: 'install', message: 'm', ...over };
}
const minus6 = (wall: Date) => new Date(wall.getTime() + 6 * 3600_000);

describe('correlate', () => {
  it('joins a local-time CBS result and a UTC System.evtx result of one failure (UTC-6)', () => {
    const events = [
      ev({ source: 'CBS.log', time: at('2024-01-10T14:24:05'), timeIsLocal: true, kb: 'KB5034441', result: 'failed', code: '0x800f0922' }),
      ev({ source: 'System.evtx', time: at('2024-01-10T20:23:40'), kb: 'KB5034441', result: 'failed', code: '0x80070643', recordId: '42', eventId: 20 }),
    ];
    const naive = correlate(events);
    expect(naive).toHaveLength(2); // without the zone they are six hours apart
    const a = correlate(events, { toUtc: minus6 });
    expect(a).toHaveLength(1);
    expect(a[0]!.sources.sort()).toEqual(['CBS.log', 'System.evtx']);
    expect(a[0]!.result).toBe('failed');
    expect(a[0]!.time).toBe('2024-01-10T20:23:40.000Z');
    expect(a[0]!.evidence.map((e) => e.time)).toEqual(['2024-01-10T20:23:40.000Z', '2024-01-10T20:24:05.000Z']);
    expect(a[0]!.evidence[1]!.note).toContain('logged 2024-01-10 14:24:05 local');
  });

  it('keeps retries from one source apart and counts them as attempts', () => {
    const events: UpdateEvent[] = [];
    for (const h of ['10', '12', '14']) {
      events.push(ev({ source: 'System.evtx', time: at(`2024-02-01T${h}:00:00`), kb: 'KB5034765', result: 'in-progress', eventId: 43 }));
      events.push(ev({ source: 'System.evtx', time: at(`2024-02-01T${h}:20:00`), kb: 'KB5034765', result: 'failed', code: '0x800f0922', eventId: 20 }));
      events.push(ev({ source: 'WindowsUpdate.log', time: at(`2024-02-01T${h}:19:30`), kb: 'KB5034765', result: 'failed', code: '0x800f0922' }));
    }
    const a = correlate(events);
    expect(a).toHaveLength(3);
    expect(a.every((x) => x.events === 3 && x.result === 'failed')).toBe(true);
    expect(failedUpdateAttempts(a)).toHaveLength(3);
  });

  it('follows a reboot-pending install to its completion after the boot', () => {
    const a = correlate([
      ev({ source: 'Setup.evtx', time: at('2022-02-08T20:40:00'), kb: 'KB5010342', result: 'in-progress', eventId: 1 }),
      ev({ source: 'Setup.evtx', time: at('2022-02-08T20:54:59'), kb: 'KB5010342', result: 'reboot-pending', eventId: 4 }),
      ev({ source: 'Setup.evtx', time: at('2022-02-09T08:01:00'), kb: 'KB5010342', result: 'succeeded', eventId: 2 }),
    ]);
    expect(a).toHaveLength(1);
    expect(a[0]!.result).toBe('succeeded');
    expect(a[0]!.rebootRequired).toBeUndefined();
  });

  it('ties events named only by update id or title to the KB another event names', () => {
    const a = correlate([
      ev({ source: 'ReportingEvents.log', time: at('2024-03-01T10:00:00'), updateId: 'ABCD-1', result: 'failed', code: '0x80070643' }),
      ev({
        source: 'WindowsUpdate.log',
        time: at('2024-03-01T10:01:00'),
        updateId: 'abcd-1',
        kb: 'kb5035853',
        title: '2024-03 cumulative update  (KB5035853)',
        result: 'failed',
        code: '0x80070643',
      }),
      ev({ source: 'System.evtx', time: at('2024-03-01T10:00:30'), title: '2024-03 cumulative update  (KB5035853)', result: 'failed', code: '0x80070643' }),
    ]);
    expect(a).toHaveLength(1);
    expect(a[0]!.name).toBe('KB5035853');
    expect(a[0]!.events).toBe(3);
  });

  it('never merges different kinds, and a failure three days after a success is a new attempt', () => {
    const a = correlate([
      ev({ source: 'System.evtx', time: at('2024-04-01T10:00:00'), kb: 'KB1', result: 'succeeded' }),
      ev({ source: 'Setup.evtx', time: at('2024-04-04T10:00:00'), kb: 'KB1', result: 'failed', code: '0x800f0984' }),
      ev({ source: 'WindowsUpdate.log', time: at('2024-04-04T10:01:00'), kb: 'KB1', kind: 'download', result: 'failed', code: '0x80190193' }),
    ]);
    expect(a.map((x) => `${x.kind}:${x.result}`)).toEqual(['install:succeeded', 'install:failed', 'download:failed']);
    expect(failedUpdateAttempts(a).map((x) => x.code)).toEqual(['0x800f0984']);
  });

  it('a failure outranks a success reported at the same moment; the code follows the result', () => {
    const a = correlate([
      ev({ source: 'System.evtx', time: at('2024-05-01T10:00:00'), kb: 'KB2', result: 'succeeded' }),
      ev({ source: 'Setup.evtx', time: at('2024-05-01T10:05:00'), kb: 'KB2', result: 'failed', code: '0x800f0816' }),
    ]);
    expect(a).toHaveLength(1);
    expect(a[0]!.result).toBe('failed');
    expect(a[0]!.code).toBe('0x800f0816');
  });

  it('bounds the evidence kept and names nameless attempts', () => {
    const events = Array.from({ length: 50 }, (_, i) =>
      ev({ source: 'CBS.log', kind: 'component-repair', client: 'SFC', time: at(`2024-06-01T10:${String(i).padStart(2, '0')}:00`), result: 'failed', line: i }),
    );
    events.push(ev({ source: 'CBS.log', kind: 'component-repair', client: 'SFC', time: at('2024-06-01T10:52:00'), result: 'failed', unrepaired: ['a.dll'] }));
    const a = correlate(events);
    expect(a[0]!.evidence).toHaveLength(20);
    expect(a[0]!.name).toBe('component store (SFC)');
    expect(a[0]!.unrepaired).toEqual(['a.dll']);
  });
});
