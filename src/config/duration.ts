/** Durations in configuration: `500ms`, `30s`, `15m`, `4h`, `1d`; a bare number means `bareUnit`. */
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNITS;

/**
 * The longest duration accepted: 24 days. Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay
 * overflows and fires at once, which would turn a refresh interval into a busy loop.
 */
export const MAX_DURATION_MS = 24 * UNITS.d;
export const MAX_DURATION_TEXT = '24d';

export function parseDuration(value: string | number, bareUnit: Unit = 'ms'): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`not a duration: ${value}`);
    ms = Math.round(value * UNITS[bareUnit]);
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
    if (!m) throw new Error(`not a duration: ${JSON.stringify(value)} (use e.g. 30s, 15m, 4h)`);
    ms = Math.round(Number(m[1]) * UNITS[(m[2] as Unit | undefined) ?? bareUnit]);
  }
  if (!(ms <= MAX_DURATION_MS)) throw new Error(`expected at most ${MAX_DURATION_TEXT}, got ${JSON.stringify(value)}`);
  return ms;
}

/** The shortest exact spelling: 14400000 -> `4h`, 90000 -> `90s`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
