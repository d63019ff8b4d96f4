import { describe, it, expect, afterEach } from 'vitest';
import { consoleStyle, hang, setColorOption, wrap, wrapBlock } from './style.js';

const tty = (columns?: number) => ({ isTTY: true, columns });
const pipe = { isTTY: false, columns: undefined };

describe('consoleStyle: colour and width', () => {
  afterEach(() => setColorOption(true));

  it('colour only on a TTY; NO_COLOR (any non-empty value), --no-color and TERM=dumb turn it off', () => {
    expect(consoleStyle({ stream: tty(100), env: {} })).toEqual({ color: true, width: 100 });
    expect(consoleStyle({ stream: pipe, env: {} })).toEqual({ color: false, width: 80 });
    expect(consoleStyle({ stream: tty(100), env: { NO_COLOR: '1' } }).color).toBe(false);
    expect(consoleStyle({ stream: tty(100), env: { NO_COLOR: 'false' } }).color).toBe(false); // any value
    expect(consoleStyle({ stream: tty(100), env: { NO_COLOR: '' } }).color).toBe(true); // empty: not set
    expect(consoleStyle({ stream: tty(100), env: { TERM: 'dumb' } }).color).toBe(false);
    expect(consoleStyle({ stream: tty(100), env: {}, colorOption: false }).color).toBe(false);
    setColorOption(false);
    expect(consoleStyle({ stream: tty(100), env: {} }).color).toBe(false);
  });

  it('FORCE_COLOR colours a pipe, except 0/false; NO_COLOR and --no-color still win', () => {
    expect(consoleStyle({ stream: pipe, env: { FORCE_COLOR: '1' } }).color).toBe(true);
    expect(consoleStyle({ stream: pipe, env: { FORCE_COLOR: '0' } }).color).toBe(false);
    expect(consoleStyle({ stream: tty(80), env: { FORCE_COLOR: 'false' } }).color).toBe(true); // a TTY stays coloured
    expect(consoleStyle({ stream: pipe, env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).color).toBe(false);
    expect(consoleStyle({ stream: pipe, env: { FORCE_COLOR: '1' }, colorOption: false }).color).toBe(false);
  });

  it('width: the terminal columns (at least 40), 80 in a pipe or when the TTY does not say', () => {
    expect(consoleStyle({ stream: tty(60), env: {} }).width).toBe(60);
    expect(consoleStyle({ stream: tty(20), env: {} }).width).toBe(40);
    expect(consoleStyle({ stream: tty(undefined), env: {} }).width).toBe(80);
    expect(consoleStyle({ stream: tty(0), env: {} }).width).toBe(80);
    expect(consoleStyle({ stream: { isTTY: false, columns: 200 }, env: {} }).width).toBe(80);
  });
});

describe('wrapping', () => {
  it('wrap and hang break at spaces; a word longer than a line keeps a line of its own, or is cut at the width when a line holds 20+ characters', () => {
    expect(wrap('aa bb cc dd', 5)).toEqual(['aa bb', 'cc dd']);
    expect(hang('  one two three four', 12, 4)).toEqual(['  one two', '    three', '    four']);
    expect(hang('x averyveryverylongword y', 10, 2)).toEqual(['x', '  averyveryverylongword', '  y']);
    // With room for 20+ characters, a longer word (an SDDL, a hex blob) is cut at the width instead.
    const sddl = 'O:SYG:SYD:(D;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;CCLCSWRPWPDTLOCRRC;;;BA)';
    const cut = hang(`was ${sddl}; now`, 30, 4);
    expect(cut).toEqual(['was', '    O:SYG:SYD:(D;;CCLCSWRPWPDT', '    LOCRRC;;;SY)(A;;CCLCSWRPWP', '    DTLOCRRC;;;BA); now']);
    expect(cut.every((l) => l.length <= 30)).toBe(true);
  });

  it('a size keeps its unit: "570 MB" is never split', () => {
    expect(hang('recovery partition 4 (570 MB, 567 MB free) and more', 24, 2)).toEqual(['recovery partition 4', '  (570 MB, 567 MB free)', '  and more']);
    expect(hang('free: 570 MiB', 10, 0)).toEqual(['free:', '570 MiB']);
  });

  it('wrapBlock: prose flush left, list items under their text, short lines untouched', () => {
    const text = ['Short line.', 'one two three four five six seven eight nine ten', '  id     what it does is long enough to wrap here'].join('\n');
    expect(wrapBlock(text, 30).split('\n')).toEqual([
      'Short line.',
      'one two three four five six',
      'seven eight nine ten',
      '  id     what it does is long',
      '         enough to wrap here',
    ]);
  });
});
