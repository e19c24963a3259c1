/** Durations in configuration: `500ms`, `30s`, `15m`, `4h`, `1d`; a bare number means `bareUnit`. */
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNITS;

export function parseDuration(value: string | number, bareUnit: Unit = 'ms'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`not a duration: ${value}`);
    return Math.round(value * UNITS[bareUnit]);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(value)} (use e.g. 30s, 15m, 4h)`);
  return Math.round(Number(m[1]) * UNITS[(m[2] as Unit | undefined) ?? bareUnit]);
}

/** The shortest exact spelling: 14400000 -> `4h`, 90000 -> `90s`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
