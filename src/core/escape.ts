/**
 * Text from elsewhere (package names, versions, file names, IDs, a server's or an index's bytes) made safe for a
 * terminal or a `text/plain` answer: control characters (C0, DEL, C1) and the Unicode controls that reorder or
 * break what a reader sees (bidi marks, overrides and isolates, line and paragraph separators) are shown as
 * escapes, `\x1b` or `\u202e`, as `cat -v` and `ls -b` show them, so that upstream bytes can neither move the
 * cursor, clear the screen, recolour nor make one line read as another. Everything else, UTF-8 included, is left
 * as it is. The one function for this job: every line the CLI prints and every text answer goes through it.
 */
export function escapeControl(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` as a regular expression matching only itself: every character with a meaning in a pattern escaped, `/`
 * too, so the result also stands inside Renovate's `/.../` form. The one helper for building patterns from names,
 * paths and prefixes.
 */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
