/**
 * Text as it is shown: on one line (a message). Making it safe for a terminal is escape.ts's `escapeControl`.
 */

/**
 * A message on one line whatever it holds (a YAML excerpt, a server's answer, a request's URL): line breaks and
 * the blanks around them become one space; cut at `max` characters with `...` (a message may quote kilobytes).
 */
export function oneLine(text: string, max = Infinity): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
}
