/**
 * Text from elsewhere (package names, versions, file names, IDs) made safe for a terminal or a `text/plain`
 * answer: control characters (C0, DEL, C1) and the bidirectional overrides that reorder what a reader sees are
 * shown as escapes, `\x1b` or `\u202e`, as `cat -v` and `ls -b` show them, so that upstream bytes can neither
 * move the cursor, clear the screen nor fake a line. Everything else, UTF-8 included, is left as it is.
 */
export function escapeControl(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
