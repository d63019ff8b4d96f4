// The console's colour and width, decided in one place for every command (issue #17), and the text
// helpers that use them. Colour only on a TTY (FORCE_COLOR forces it; --no-color, NO_COLOR and
// TERM=dumb turn it off); width is the terminal's on a TTY (at least MIN_WIDTH), 80 otherwise.
// Text is made ASCII-safe first and coloured after, so our escape codes are the only ESC bytes.

export const DEFAULT_WIDTH = 80;
export const MIN_WIDTH = 40;

export interface ConsoleStyle {
  color: boolean;
  width: number;
}

export interface StyleInputs {
  stream?: { isTTY?: boolean; columns?: number };
  env?: NodeJS.ProcessEnv;
  /** false when --no-color was given. */
  colorOption?: boolean;
}

let colorOption = true;

/** The global --no-color (commander's `color: false`), set once the arguments are parsed. */
export function setColorOption(on: boolean): void {
  colorOption = on;
}

/** Colour and width for output to `stream` (stdout by default). */
export function consoleStyle(inputs: StyleInputs = {}): ConsoleStyle {
  const stream = inputs.stream ?? process.stdout;
  const env = inputs.env ?? process.env;
  const tty = !!stream.isTTY;
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const off = (inputs.colorOption ?? colorOption) === false || !!env.NO_COLOR || (env.TERM === 'dumb' && !force);
  const color = !off && (tty || force);
  const cols = stream.columns;
  const width = tty && typeof cols === 'number' && cols > 0 ? Math.max(MIN_WIDTH, cols) : DEFAULT_WIDTH;
  return { color, width };
}

/** The width commands wrap to (see consoleStyle). */
export function consoleWidth(): number {
  return consoleStyle().width;
}

/**
 * Anything outside printable ASCII as a \uXXXX escape (tabs and newlines kept), so the WinPE
 * console shows it and control characters from the image (ESC sequences, C1) never reach it raw.
 */
export function asciiSafe(s: string): string {
  return s.replace(/[^\x20-\x7e\t\n]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** SGR colour codes around `s` when `on` (call it on text already ASCII-safe). */
export function paint(on: boolean, code: string, s: string): string {
  return on ? `\x1b[${code}m${s}\x1b[0m` : s;
}

/** Words (split at spaces) packed into lines of at most `width`; a longer word keeps a line of its own. */
export function wrap(s: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of s.split(' ')) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

const UNIT = /^(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB|bytes)\b/;

/** `s` split at spaces, a size's unit kept with its number ("570 MB" is never broken). */
function words(s: string): string[] {
  const out: string[] = [];
  for (const w of s.split(' ')) {
    const prev = out[out.length - 1];
    if (prev !== undefined && /\d$/.test(prev) && UNIT.test(w)) out[out.length - 1] = `${prev} ${w}`;
    else out.push(w);
  }
  return out;
}

/**
 * `s` wrapped to `width` at spaces, its leading spaces kept on the first line and continuation lines
 * indented by `indent` spaces; a word longer than a line keeps a line of its own (never cut).
 */
export function hang(s: string, width: number, indent: number): string[] {
  const lead = /^ */.exec(s)![0];
  const out: string[] = [];
  let line = '';
  const roomNow = () => (out.length ? width - indent : width - lead.length);
  for (let w of words(s.slice(lead.length))) {
    if (line && w && line.trimEnd().length + 1 + w.length > roomNow()) {
      out.push(line.trimEnd());
      line = '';
    }
    // A word longer than a whole line (an SDDL, a hex blob) is cut at the width: no line is longer.
    while (!line && w.length > roomNow() && roomNow() >= 20) {
      out.push(w.slice(0, roomNow()));
      w = w.slice(roomNow());
    }
    line = line ? `${line} ${w}` : w;
  }
  if (line.trim()) out.push(line.trimEnd());
  return out.map((l, i) => (i ? ' '.repeat(indent) : lead) + l);
}

/**
 * Help text for commander's addHelpText, wrapped to the console width when shown: each line of
 * `text` is one paragraph or list item (write them unwrapped). Prose wraps flush left; an indented
 * line (a list item, an exit code) wraps with its continuation under its text, after the first run
 * of two spaces past the indent, or two columns in.
 */
export function helpText(text: string): () => string {
  return () => wrapBlock(text, consoleWidth());
}

export function wrapBlock(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((line) => {
      if (line.length <= width) return [line];
      const lead = /^ */.exec(line)![0].length;
      const term = /^( *\S.*?  +)\S/.exec(line);
      const indent = lead === 0 ? 0 : term && term[1]!.length < width / 2 ? term[1]!.length : lead + 2;
      return hang(line, width, indent);
    })
    .join('\n');
}
