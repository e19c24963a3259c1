/**
 * Byte-level helpers for the APKINDEX parser. Turning bytes into strings is its main cost, and most
 * field values repeat from one record to the next (all subpackages of an origin share them).
 */

const NON_ASCII = /[^\x00-\x7f]/;

/** Returns the previous string when a field's bytes spell it again; compares in place, without copying. */
export class RepeatedField {
  private value = '';
  /** Only ASCII values are compared: then one byte is one UTF-16 code unit. */
  private comparable = false;

  constructor(private readonly encoding: 'latin1' | 'utf8') {}

  read(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    const previous = this.value;
    if (this.comparable && n === previous.length) {
      let i = 0;
      while (i < n && buf[start + i] === previous.charCodeAt(i)) i++;
      if (i === n) return previous;
    }
    const value = buf.toString(this.encoding, start, end);
    this.value = value;
    this.comparable = this.encoding === 'latin1' || (value.length === n && !NON_ASCII.test(value));
    return value;
  }
}

const SPACE = 0x20;
const EQUALS = 0x3d;
const COLON = 0x3a;

/**
 * Keeps the `name=version` tokens of a `p:` value that name a package. Prefixed ones (`cmd:`, `so:`, `pc:`,
 * `py3.12:` …) are virtual names and are skipped without being decoded; so are unversioned provides.
 */
export function scanProvides(buf: Buffer, start: number, end: number): Array<readonly [string, string]> | undefined {
  let out: Array<readonly [string, string]> | undefined;
  let pos = start;
  while (pos < end) {
    let tokenEnd = pos;
    let eq = -1;
    let prefixed = false;
    while (tokenEnd < end && buf[tokenEnd] !== SPACE) {
      const b = buf[tokenEnd];
      if (b === EQUALS && eq === -1) eq = tokenEnd;
      else if (b === COLON && eq === -1) prefixed = true;
      tokenEnd++;
    }
    if (!prefixed && eq > pos && eq + 1 < tokenEnd) {
      (out ??= []).push([buf.toString('latin1', pos, eq), buf.toString('latin1', eq + 1, tokenEnd)]);
    }
    pos = tokenEnd + 1;
  }
  return out;
}
