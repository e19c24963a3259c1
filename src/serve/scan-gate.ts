/**
 * Bounds the costly answers computed at once (wildcard scans). Identical requests in flight share one
 * computation; beyond `maxConcurrent` distinct ones, `run` returns undefined and the caller answers 503 with
 * Retry-After. Scans yield to the event loop between slices (see `slices`), so probes and cached answers are
 * served while they run.
 */
export class ScanGate<T> {
  private readonly running = new Map<string, Promise<T>>();

  constructor(private readonly maxConcurrent: number) {}

  get active(): number {
    return this.running.size;
  }

  run(key: string, compute: () => Promise<T>): Promise<T> | undefined {
    const shared = this.running.get(key);
    if (shared) return shared;
    if (this.running.size >= this.maxConcurrent) return undefined;
    const started = compute().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}

/** Names handled between two yields to the event loop while scanning. */
const SLICE = 2_000;

/** Calls `each` for every item, yielding to the event loop after every SLICE items. */
export async function slices<T>(items: Iterable<T>, each: (item: T) => void): Promise<void> {
  let n = 0;
  for (const item of items) {
    each(item);
    if (++n % SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
