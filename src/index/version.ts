/**
 * apk version ordering, following apk-tools' src/version.c (the tokenizer of apk 2.14 and 3.x):
 * `digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}`. Both strings are walked token by token and the
 * first differing token decides; token kinds are ordered, which is what makes `1.0_rc1 < 1.0 < 1.0_p1 < 1.0-r1`.
 */
export type Ordering = -1 | 0 | 1;

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
const SUFFIX_NONE = 5;
const SUFFIX_RANK = new Map<string, number>([
  ['alpha', 1], ['beta', 2], ['pre', 3], ['rc', 4],
  ['cvs', 6], ['svn', 7], ['git', 8], ['hg', 9], ['p', 10],
]);

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** The current token of one version string: its kind, and where its text is. */
class Tokens {
  token = INITIAL_DIGIT;
  suffix = SUFFIX_INVALID;
  start = 0;
  end = 0;

  constructor(readonly s: string) {
    this.digits();
  }

  private digits(): void {
    const s = this.s;
    let i = this.end;
    this.start = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    this.end = i;
    if (i === this.start) this.token = INVALID;
  }

  /** Moves to the next token, checking that it may follow the current one. */
  next(): void {
    const s = this.s;
    let pos = this.end;
    if (pos >= s.length) {
      this.token = END;
      return;
    }
    const c = s.charCodeAt(pos);
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
      while (i < s.length && isLower(s.charCodeAt(i))) i++;
      this.start = pos + 1;
      this.end = i;
      this.suffix = SUFFIX_RANK.get(s.slice(pos + 1, i)) ?? SUFFIX_INVALID;
      if (this.suffix === SUFFIX_INVALID) return this.invalid();
      this.token = SUFFIX;
    } else if (c === 0x7e /* ~ */) {
      if (t >= COMMIT_HASH) return this.invalid();
      let i = pos + 1;
      while (i < s.length && isHex(s.charCodeAt(i))) i++;
      if (i === pos + 1) return this.invalid();
      this.start = pos + 1;
      this.end = i;
      this.token = COMMIT_HASH;
    } else if (c === 0x2d /* - */) {
      if (t >= REVISION_NO || s.charCodeAt(pos + 1) !== 0x72 /* r */) return this.invalid();
      this.token = REVISION_NO;
      this.end = pos + 2;
      this.digits();
    } else {
      this.invalid();
    }
  }

  private invalid(): void {
    this.token = INVALID;
  }
}

/** Byte-wise comparison of two token texts, shorter first on a common prefix (apk_blob_sort). */
function compareText(a: Tokens, b: Tokens): Ordering {
  const la = a.end - a.start;
  const lb = b.end - b.start;
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    const d = a.s.charCodeAt(a.start + i) - b.s.charCodeAt(b.start + i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return la === lb ? 0 : la < lb ? -1 : 1;
}

/** Numeric comparison of digit runs of any length (apk uses 64-bit integers; these never overflow). */
function compareNumber(a: Tokens, b: Tokens): Ordering {
  let as = a.start;
  let bs = b.start;
  while (as < a.end - 1 && a.s.charCodeAt(as) === 0x30) as++;
  while (bs < b.end - 1 && b.s.charCodeAt(bs) === 0x30) bs++;
  const la = a.end - as;
  const lb = b.end - bs;
  if (la !== lb) return la < lb ? -1 : 1;
  for (let i = 0; i < la; i++) {
    const d = a.s.charCodeAt(as + i) - b.s.charCodeAt(bs + i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function compareToken(a: Tokens, b: Tokens): Ordering {
  switch (a.token) {
    case DIGIT:
      // A leading zero in either makes it a string comparison, as in Gentoo's rules: 1.01 < 1.1.
      if (a.s.charCodeAt(a.start) === 0x30 || b.s.charCodeAt(b.start) === 0x30) return compareText(a, b);
      return compareNumber(a, b);
    case INITIAL_DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      return compareNumber(a, b);
    case SUFFIX:
      return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
    default:
      // LETTER and COMMIT_HASH compare as text.
      return compareText(a, b);
  }
}

/**
 * Compares like `apk version -t A B`. Invalid versions are not rejected: as in apk-tools, the walk stops at
 * the first invalid token, two strings invalid at the same point are equal, and otherwise the kind of the
 * token where they part decides (INVALID ranks above END, so a version with trailing garbage sorts lower).
 */
export function compareVersions(a: string, b: string): Ordering {
  if (a === b) return 0;
  const ta = new Tokens(a);
  const tb = new Tokens(b);
  while (ta.token === tb.token && ta.token < END) {
    const r = compareToken(ta, tb);
    if (r !== 0) return r;
    ta.next();
    tb.next();
  }
  if (ta.token === tb.token) return 0;
  // Same leading parts: the longer one is newer, unless what it has more of is a pre-release suffix.
  if (ta.token === SUFFIX && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === SUFFIX && tb.suffix < SUFFIX_NONE) return 1;
  if (ta.token > tb.token) return -1;
  if (tb.token > ta.token) return 1;
  return 0;
}

/** apk's validity rule (apk_version_validate): every token is well formed up to the end. */
export function isValidVersion(v: string): boolean {
  const t = new Tokens(v);
  while (t.token < END) t.next();
  return t.token === END;
}

/** `_alpha`, `_beta`, `_pre` and `_rc` mark versions older than their release: not stable. */
export function isPrerelease(v: string): boolean {
  const t = new Tokens(v);
  while (t.token < END) {
    if (t.token === SUFFIX && t.suffix < SUFFIX_NONE) return true;
    t.next();
  }
  return false;
}

export function versionSymbol(o: Ordering): '<' | '=' | '>' {
  return o < 0 ? '<' : o > 0 ? '>' : '=';
}
