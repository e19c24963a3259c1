/** `a,b` and repeated values (flags, environment, query parameters) alike become one list; blanks are dropped. */
export function splitList(value: string | readonly string[] | undefined): string[] {
  const parts = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return parts
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}
