/**
 * Text as it is shown: on one line (a message), and safe for a terminal (names, versions, file names and IDs that
 * came from an index, a file or a server).
 */

/**
 * A message on one line whatever it holds (a YAML excerpt, a server's answer, a request's URL): line breaks and
 * the blanks around them become one space; cut at `max` characters with `...` (a message may quote kilobytes).
 */
export function oneLine(text: string, max = Infinity): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

/**
 * Text from an index, a file or a server, made safe to print on a terminal: control characters (C0, DEL, C1) and
 * the Unicode controls that reorder or break lines (bidi overrides and isolates, line and paragraph separators) are
 * shown as escapes (`\x1b`, `\u202e`), as `ls -b` shows them, so a hostile name or version cannot clear the screen,
 * move the cursor, recolour, or make one line read as another. Everything else is kept as it is.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
