/**
 * Shell words as Renovate's Dockerfile manager splits a `RUN` command (the npm `shlex` package, a port of Python's
 * `shlex.split` in POSIX mode): whitespace separates words; `'…'` is literal; `"…"` and `$"…"` take `\\` and `\"`
 * escapes; `$'…'` takes C escapes; a backslash outside quotes makes the next character literal and an escaped
 * newline disappears. One deliberate difference, the shell's: an unquoted `;`, `&`, `|`, `(` or `)` ends a word
 * and is an operator word of its own (`&&` and `||` one word), so `a=1&&b` is `a=1`, `&&`, `b` as the shell runs
 * it; shlex keeps `a=1&&b` one word, which Renovate then skips as an unsupported version.
 *
 * Each character of a word keeps the offset it came from in the text (-1 for one an escape sequence made), so a
 * value inside a word can be rewritten in place.
 */
export interface ShellWord {
  text: string;
  /** The source offset of each character of `text`; -1 where an escape sequence produced it. */
  offsets: number[];
}

/** Characters with an offset: the text a command was joined from, each character mapped back to its file offset. */
export interface MappedText {
  text: string;
  offsets: readonly number[];
}

/** Thrown for an unterminated quote or a trailing escape: Renovate then reads nothing from the command. */
export class ShellSyntaxError extends Error {
  override readonly name = 'ShellSyntaxError';
}

const WHITESPACE = ' \t\r\n';
const OPERATORS = ';&|()';

const C_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\x08',
  e: '\x1b',
  E: '\x1b',
  f: '\x0c',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\x0b',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

export function splitShellWords(input: MappedText): ShellWord[] {
  const { text, offsets } = input;
  const words: ShellWord[] = [];
  let word: ShellWord | undefined;
  let quote: '"' | "'" | undefined;
  let dollarQuote: '"' | "'" | undefined;
  let lastDollar = -2;
  const push = (ch: string, at: number) => {
    word ??= { text: '', offsets: [] };
    word.text += ch;
    word.offsets.push(at);
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && (quote === undefined || dollarQuote !== undefined || quote === '"')) {
      const next = text[i + 1];
      if (next === undefined) throw new ShellSyntaxError('an escape at the end of the command');
      i++;
      if (next === '\n') continue;
      if (quote === undefined) push(next, offsets[i]!);
      else if (dollarQuote === "'") i = cEscape(text, i, (c) => push(c, -1)) - 1;
      else if (next === '\\' || next === quote) push(next, offsets[i]!);
      else {
        push('\\', offsets[i - 1]!);
        push(next, offsets[i]!);
      }
      continue;
    }
    if (quote !== undefined) {
      if (ch === quote) {
        quote = undefined;
        dollarQuote = undefined;
      } else push(ch, offsets[i]!);
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= { text: '', offsets: [] };
      if (lastDollar === i - 1) {
        // `$'…'` and `$"…"`: the `$` is not part of the word.
        dollarQuote = ch;
        word.text = word.text.slice(0, -1);
        word.offsets.pop();
      }
      continue;
    }
    if (ch === '$') lastDollar = i;
    if (OPERATORS.includes(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      const double = (ch === '&' || ch === '|') && text[i + 1] === ch;
      words.push({ text: double ? ch + ch : ch, offsets: double ? [offsets[i]!, offsets[i + 1]!] : [offsets[i]!] });
      if (double) i++;
      continue;
    }
    if (WHITESPACE.includes(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    push(ch, offsets[i]!);
  }
  if (quote !== undefined) throw new ShellSyntaxError('a quote that is never closed');
  if (word !== undefined) words.push(word);
  return words;
}

/** One C escape of `$'…'` starting at text[at] (the character after the backslash); returns the index after it. */
function cEscape(text: string, at: number, emit: (ch: string) => void): number {
  const ch = text[at]!;
  const simple = C_ESCAPES[ch];
  if (simple !== undefined) {
    emit(simple);
    return at + 1;
  }
  const numeric = (re: RegExp, base: number, skip: number) => {
    const m = re.exec(text.slice(at + skip));
    if (!m) return undefined;
    emit(String.fromCharCode(parseInt(m[0], base)));
    return at + skip + m[0].length;
  };
  const done =
    (/[0-7]/.test(ch) ? numeric(/^[0-7]{1,3}/, 8, 0) : undefined) ??
    (ch === 'x' ? numeric(/^[0-9a-fA-F]{1,2}/, 16, 1) : undefined) ??
    (ch === 'u' ? numeric(/^[0-9a-fA-F]{1,4}/, 16, 1) : undefined) ??
    (ch === 'U' ? numeric(/^[0-9a-fA-F]{1,8}/, 16, 1) : undefined);
  if (done !== undefined) return done;
  if (ch === 'c' && at + 1 < text.length) {
    const c = text[at + 1]!;
    emit(c === '?' ? '\x7f' : c === '@' ? '\x00' : String.fromCharCode(c.charCodeAt(0) & 31));
    return at + 2;
  }
  // Not an escape $'…' knows: both characters stay.
  emit('\\');
  emit(ch);
  return at + 1;
}
