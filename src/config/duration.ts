/** Durations in configuration: `30s`, `15m`, `4h`, `1d`, `500ms`; a bare number means `bareUnit`. */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string | number, bareUnit: 'ms' | 's' | 'h' = 'ms'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`not a duration: ${value}`);
    return value * UNITS[bareUnit]!;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(value)} (use e.g. 30s, 15m, 4h)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? bareUnit]!);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
