/**
 * apk version ordering, re-implemented from the rules of apk-tools' src/version.c (apk 2.14 / 3.x):
 * `digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}`. Both strings are walked token by token and the
 * first differing token decides; token kinds are ordered, which is what makes `1.0_rc1 < 1.0 < 1.0_p1 < 1.0-r1`.
 *
 * Hot path (~500k calls per index load): no regexes, no allocation; two reusable scanners read char codes.
 */
export type Ordering = -1 | 0 | 1;

// Token kinds in apk's order; the order itself decides when one version runs out first.
const INITIAL_DIGIT = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const COMMIT_HASH = 5;
const REVISION_NO = 6;
const END = 7;
const INVALID = 8;

// Suffix ranks: below NONE is a pre-release, above it a post-release.
const SUFFIX_INVALID = 0;
const SUFFIX_ALPHA = 1;
const SUFFIX_BETA = 2;
const SUFFIX_PRE = 3;
const SUFFIX_RC = 4;
const SUFFIX_NONE = 5;
const SUFFIX_CVS = 6;
const SUFFIX_SVN = 7;
const SUFFIX_GIT = 8;
const SUFFIX_HG = 9;
const SUFFIX_P = 10;
const SUFFIX_NAME = ['', 'alpha', 'beta', 'pre', 'rc', '', 'cvs', 'svn', 'git', 'hg', 'p'];

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
// apk_blob_spn lets every byte >= 0x80 through, so non-ASCII joins a suffix or hash span rather than ending it.
const isSuffixChar = (c: number) => isLower(c) || c >= 0x80;
const isHashChar = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c >= 0x80;

/**
 * The current token of one version string: its kind, and where its text is. Reused, never reallocated. It reads a
 * string's char codes, or (`bytes`) a version's bytes where the index parser keeps them: one grammar for both.
 */
class Scanner {
  s = '';
  bytes: Uint8Array | null = null;
  /** End of the version text (`s.length`, or the end of its bytes). */
  limit = 0;
  token = INITIAL_DIGIT;
  suffix = SUFFIX_INVALID;
  start = 0;
  end = 0;

  first(s: string): void {
    this.s = s;
    this.bytes = null;
    this.begin(0, s.length);
  }

  firstBytes(bytes: Uint8Array, start: number, end: number): void {
    this.bytes = bytes;
    this.begin(start, end);
  }

  /** The char code (or byte) at `i`. */
  at(i: number): number {
    return this.bytes === null ? this.s.charCodeAt(i) : this.bytes[i]!;
  }

  private begin(start: number, limit: number): void {
    this.limit = limit;
    this.token = INITIAL_DIGIT;
    this.suffix = SUFFIX_INVALID;
    this.end = start;
    this.digits();
  }

  private digits(): void {
    let i = this.end;
    this.start = i;
    while (i < this.limit && isDigit(this.at(i))) i++;
    this.end = i;
    if (i === this.start) this.token = INVALID;
  }

  /** Moves to the next token, checking that it may follow the current one (token_next). */
  next(): void {
    let pos = this.end;
    if (pos >= this.limit) {
      this.token = END;
      return;
    }
    const c = this.at(pos);
    const t = this.token;
    if (isLower(c)) {
      if (t > DIGIT) return this.invalid();
      this.start = pos;
      this.end = pos + 1;
      this.token = LETTER;
    } else if (c === 0x2e /* . */ || isDigit(c)) {
      if (c === 0x2e) {
        if (t > DIGIT) return this.invalid();
        pos++;
      }
      if (t === INITIAL_DIGIT || t === DIGIT) this.token = DIGIT;
      else if (t === SUFFIX) this.token = SUFFIX_NO;
      else return this.invalid();
      this.end = pos;
      this.digits();
    } else if (c === 0x5f /* _ */) {
      if (t > SUFFIX_NO) return this.invalid();
      let i = pos + 1;
      while (i < this.limit && isSuffixChar(this.at(i))) i++;
      this.start = pos + 1;
      this.end = i;
      this.suffix = this.suffixValue(pos + 1, i);
      if (this.suffix === SUFFIX_INVALID) return this.invalid();
      this.token = SUFFIX;
    } else if (c === 0x7e /* ~ */) {
      if (t >= COMMIT_HASH) return this.invalid();
      let i = pos + 1;
      while (i < this.limit && isHashChar(this.at(i))) i++;
      if (i === pos + 1) return this.invalid();
      this.start = pos + 1;
      this.end = i;
      this.token = COMMIT_HASH;
    } else if (c === 0x2d /* - */) {
      if (t >= REVISION_NO || pos + 1 >= this.limit || this.at(pos + 1) !== 0x72 /* r */) return this.invalid();
      this.token = REVISION_NO;
      this.end = pos + 2;
      this.digits();
    } else {
      this.invalid();
    }
  }

  /** apk's suffix_value: the whole span must be one of the known names. */
  private suffixValue(start: number, end: number): number {
    const len = end - start;
    if (len === 0) return SUFFIX_INVALID;
    let v: number;
    switch (this.at(start)) {
      case 0x61:
        v = SUFFIX_ALPHA;
        break; // a
      case 0x62:
        v = SUFFIX_BETA;
        break; // b
      case 0x63:
        v = SUFFIX_CVS;
        break; // c
      case 0x67:
        v = SUFFIX_GIT;
        break; // g
      case 0x68:
        v = SUFFIX_HG;
        break; // h
      case 0x70:
        v = len > 1 ? SUFFIX_PRE : SUFFIX_P;
        break; // p
      case 0x72:
        v = SUFFIX_RC;
        break; // r
      case 0x73:
        v = SUFFIX_SVN;
        break; // s
      default:
        return SUFFIX_INVALID;
    }
    const name = SUFFIX_NAME[v]!;
    if (name.length !== len) return SUFFIX_INVALID;
    for (let i = 1; i < len; i++) if (this.at(start + i) !== name.charCodeAt(i)) return SUFFIX_INVALID;
    return v;
  }

  private invalid(): void {
    this.token = INVALID;
  }
}

const A = new Scanner();
const B = new Scanner();
const C = new Scanner();

/** Code unit -> code point order, so texts compare like apk's memcmp over UTF-8 even past U+D7FF. */
const rank = (c: number) => (c < 0xd800 ? c : c < 0xe000 ? c + 0x2000 : c <= 0xffff ? c - 0x800 : c);

/** apk_blob_sort: bytewise, and the shorter first on a common prefix. */
function compareText(a: Scanner, b: Scanner): Ordering {
  const la = a.end - a.start;
  const lb = b.end - b.start;
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    const ca = a.s.charCodeAt(a.start + i);
    const cb = b.s.charCodeAt(b.start + i);
    if (ca !== cb) return rank(ca) < rank(cb) ? -1 : 1;
  }
  return la === lb ? 0 : la < lb ? -1 : 1;
}

/** apk reads digit runs into a uint64 that silently wraps; runs of more than 19 digits may have wrapped. */
function wrapped(s: string, start: number, end: number): bigint {
  return BigInt.asUintN(64, BigInt(s.slice(start, end) || '0'));
}

function compareNumber(a: Scanner, b: Scanner): Ordering {
  let as = a.start;
  let bs = b.start;
  while (as < a.end && a.s.charCodeAt(as) === 0x30) as++;
  while (bs < b.end && b.s.charCodeAt(bs) === 0x30) bs++;
  const la = a.end - as;
  const lb = b.end - bs;
  if (la > 19 || lb > 19) {
    // Cold path: reproduce the wrap-around rather than order by true magnitude.
    const x = wrapped(a.s, as, a.end);
    const y = wrapped(b.s, bs, b.end);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  // Below 10^19 the value is exact: more significant digits means larger, else the digits decide.
  if (la !== lb) return la < lb ? -1 : 1;
  for (let i = 0; i < la; i++) {
    const d = a.s.charCodeAt(as + i) - b.s.charCodeAt(bs + i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function compareToken(a: Scanner, b: Scanner): Ordering {
  switch (a.token) {
    case DIGIT:
      // A leading zero in either makes it a string comparison (Gentoo's rule): 1.01 < 1.1, 8.2.0015 < 8.2.002.
      if (a.s.charCodeAt(a.start) === 0x30 || b.s.charCodeAt(b.start) === 0x30) return compareText(a, b);
      return compareNumber(a, b);
    case INITIAL_DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      return compareNumber(a, b);
    case SUFFIX:
      return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
    default:
      // LETTER (one char) and COMMIT_HASH compare as text.
      return compareText(a, b);
  }
}

/**
 * Compares like `apk version -t A B`.
 *
 * Invalid versions: apk-tools' apk_version_compare (behind `apk version -t`) never rejects them. It walks both
 * in step while their tokens are of the same kind, and the first valid token that differs in value decides
 * (`23_foo > 4_beta`). Nothing after the first invalid token is read: two strings that turn invalid at the same
 * token are equal (`1.0-foo = 1.0-bar`, `abc = xyz`); otherwise the kinds where they part decide as for valid
 * versions, INVALID ranking after END, so trailing garbage sorts below its valid prefix (`1.0-foo < 1.0`,
 * `"" < 0`). `1.0bc > 1.0` only because it parts from `1.0` at a valid letter, before turning invalid.
 */
export function compareVersions(a: string, b: string): Ordering {
  if (a === b) return 0;
  A.first(a);
  B.first(b);
  while (A.token === B.token && A.token < END) {
    const r = compareToken(A, B);
    if (r !== 0) return r;
    A.next();
    B.next();
  }
  if (A.token === B.token) return 0;
  // Same leading parts: the longer one is newer, unless what it has more of is a pre-release suffix.
  if (A.token === SUFFIX && A.suffix < SUFFIX_NONE) return -1;
  if (B.token === SUFFIX && B.suffix < SUFFIX_NONE) return 1;
  return A.token > B.token ? -1 : 1;
}

/** apk_version_validate: every token is well formed, up to the end. */
export function isValidVersion(v: string): boolean {
  C.first(v);
  return validTokens(C);
}

/** isValidVersion over a version's bytes (latin1: one byte, one char), as the index parser keeps them. */
export function isValidVersionBytes(bytes: Uint8Array, start: number, end: number): boolean {
  if (plainVersion(bytes, start, end)) return true;
  C.firstBytes(bytes, start, end);
  return validTokens(C);
}

/**
 * Whether the bytes are `digit{.digit}...{-r#}` (`8.11.0-r0`, most versions of an index): valid by the grammar
 * above, known in one pass; anything else is left to the scanner (one load checks a quarter million versions).
 */
function plainVersion(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  for (;;) {
    const digits = i;
    while (i < end && isDigit(bytes[i]!)) i++;
    if (i === digits) return false;
    if (i < end && bytes[i] === 0x2e /* . */) i++;
    else break;
  }
  if (i === end) return true;
  if (bytes[i] !== 0x2d /* - */ || bytes[i + 1] !== 0x72 /* r */ || i + 2 >= end) return false;
  for (i += 2; i < end; i++) if (!isDigit(bytes[i]!)) return false;
  return true;
}

function validTokens(scanner: Scanner): boolean {
  while (scanner.token < END) scanner.next();
  return scanner.token === END;
}

/** `_alpha`, `_beta`, `_pre` and `_rc` mark versions older than their release: not stable. */
export function isPrerelease(v: string): boolean {
  C.first(v);
  while (C.token < END) {
    if (C.token === SUFFIX && C.suffix < SUFFIX_NONE) return true;
    C.next();
  }
  return false;
}

export function versionSymbol(o: Ordering): '<' | '=' | '>' {
  return o < 0 ? '<' : o > 0 ? '>' : '=';
}
