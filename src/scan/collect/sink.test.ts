import { describe, expect, it } from 'vitest';
import { arraySink } from './sink.js';
import type { UpdateEvent } from '../../model/attempts.js';

const ev = (line: number): UpdateEvent => ({
  source: 'CBS.log',
  file: 'Windows\\Logs\\CBS\\CBS.log',
  line,
  timeIsLocal: true,
  kind: 'install',
  result: 'failed',
  message: 'x',
});

describe('arraySink', () => {
  it('keeps at most the event limit and says so in one problem line naming the first dropped event', () => {
    const s = arraySink(undefined, { events: 3 });
    for (let i = 1; i <= 10; i++) s.event(ev(i));
    expect(s.events.map((e) => e.line)).toEqual([1, 2, 3]);
    expect(s.problems).toEqual(['update history: more than 3 events in the logs; 7 later one(s) not kept (first: Windows\\Logs\\CBS\\CBS.log line 4)']);
  });
  it('problem lines are kept once each, files and problems bounded', () => {
    const s = arraySink(undefined, { files: 2 });
    s.problem('a');
    s.problem('a');
    s.problem('b');
    s.problem('c');
    expect(s.problems).toEqual(['a', 'b']);
    for (let i = 0; i < 5; i++) s.file({ source: 'CBS.log', file: `f${i}`, events: 0, understood: true });
    expect(s.files.map((f) => f.file)).toEqual(['f0', 'f1']);
  });
});
