import type { FastifyBaseLogger } from 'fastify';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { formatDuration } from '../config/duration.js';
import { IndexError, type IndexErrorReason } from '../errors.js';
import { RETRY_BASE_MS, retryDelay, timerDelay } from './retry.js';

/**
 * The one refresh scheduler, for indexes and security databases alike: one attempt at a time per thing, under a
 * deadline; a failure keeps the last good data, is classified, counted, logged once and retried with exponential
 * backoff (honouring Retry-After); a success is counted and the next refresh waits the interval.
 */

export type RefreshOutcome = 'changed' | 'not-modified';

/** Where one refreshed thing stands: what /-/status shows, and what the schedule needs. */
export class RefreshState {
  /** The first attempt has finished (it may have failed). */
  attempted = false;
  /** The last failure is one a retry soon may fix (network, 5xx, 408, 429). */
  transient = false;
  failures = 0;
  /** Last attempt that succeeded, changed or not (ms since the epoch). */
  lastSuccess: number | undefined;
  lastError: { message: string; reason: IndexErrorReason; at: string } | undefined;
  nextRefresh: number | undefined;
  /** The attempt running now. */
  running: Promise<void> | undefined;
  /** The attempt that follows `running`, for refreshes asked for while it runs (POST /-/refresh). */
  again: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** One thing the refresher keeps fresh. */
export interface Refreshed {
  readonly state: RefreshState;
  /** Names it in logs and errors (a redacted URL). */
  readonly shown: string;
  /** Its metric labels (read at each use: an index's arch label may change once its records say it). */
  readonly labels: Record<string, string>;
  readonly intervalMs: number;
}

/** Counted per thing: `refreshes` by `outcome`, `failures` by `reason`. */
export interface RefreshMetrics {
  refreshes: Counter<string>;
  failures: Counter<string>;
  lastSuccess: Gauge<string>;
  duration?: Histogram<string>;
}

export interface RefresherOptions<T extends Refreshed> {
  /** What is refreshed, as log messages say it: `index`, `security database`. */
  what: string;
  /** The log field that names it: `index`, `secdb`. */
  logField: string;
  log: FastifyBaseLogger;
  metrics: RefreshMetrics;
  /** Deadline of one whole attempt. */
  refreshTimeoutMs: number;
  /** First wait after a failure (default RETRY_BASE_MS); tests shorten it. */
  retryBaseMs?: number | undefined;
  /**
   * One attempt. Every failure is thrown: an IndexError for the upstream's doing, anything else is a bug here.
   * `signal` aborts on the deadline and on stop.
   */
  attempt(item: T, signal: AbortSignal): Promise<RefreshOutcome>;
  /** What is served meanwhile, as the failure's log line says it. */
  serving(item: T): string;
  /** After a failure has been counted (the index store forgets keys after a key or signature failure). */
  failed?(item: T, error: IndexError): void;
  /** After every attempt, unless stopped (readiness is decided anew, waiting queries look again). */
  settled?(item: T): void;
}

export class Refresher<T extends Refreshed> {
  private readonly abort = new AbortController();
  private isStopped = false;

  constructor(
    private readonly items: readonly T[],
    private readonly options: RefresherOptions<T>,
  ) {}

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Aborts on stop: loads outside an attempt (restoring a saved index) stop with the service. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** One attempt per thing at a time: a scheduled refresh (first load, interval, retry) joins the one running. */
  refresh(item: T): Promise<void> {
    if (this.isStopped) return Promise.resolve();
    const { state } = item;
    state.running ??= this.run(item).finally(() => (state.running = undefined));
    return state.running;
  }

  /**
   * Refreshes everything now (POST /-/refresh); resolves when every attempt has finished. Each attempt starts
   * after the call: one already running may have fetched before a repository published, so one more attempt
   * follows it (shared by every call made while it runs) and this waits for that one.
   */
  async refreshAll(): Promise<void> {
    await Promise.all(this.items.map((item) => this.refreshAfter(item)));
  }

  /** Stops timers and aborts attempts in flight; nothing is scheduled after. */
  stop(): void {
    this.isStopped = true;
    for (const item of this.items) clearTimeout(item.state.timer);
    this.abort.abort();
  }

  private refreshAfter(item: T): Promise<void> {
    const { state } = item;
    if (this.isStopped || !state.running) return this.refresh(item);
    state.again ??= state.running
      .catch(() => undefined)
      .then(() => {
        state.again = undefined;
        return this.refresh(item);
      });
    return state.again;
  }

  private async run(item: T): Promise<void> {
    const { state } = item;
    const { log, metrics, what, logField } = this.options;
    clearTimeout(state.timer);
    const started = performance.now();
    let delay = item.intervalMs;
    let deadline: AbortSignal | undefined;
    try {
      // Inside the try: whatever goes wrong here is one failed attempt, never an unhandled rejection.
      deadline = AbortSignal.timeout(timerDelay(this.options.refreshTimeoutMs));
      const outcome = await this.options.attempt(item, AbortSignal.any([this.abort.signal, deadline]));
      if (state.failures > 0)
        log.info({ [logField]: item.shown, failures: state.failures }, `${what} refresh recovered`);
      state.lastSuccess = Date.now();
      state.failures = 0;
      state.lastError = undefined;
      state.transient = false;
      metrics.refreshes.inc({ ...item.labels, outcome });
      metrics.lastSuccess.set(item.labels, state.lastSuccess / 1000);
    } catch (err) {
      if (this.isStopped) return;
      const error = classifyFailure(err, item.shown, deadline, this.options.refreshTimeoutMs);
      if (error.reason === 'internal')
        log.error({ [logField]: item.shown, err }, `${what} refresh failed on an internal error: ${error.message}`);
      state.failures++;
      state.transient = isTransient(error);
      state.lastError = { message: error.message, reason: error.reason, at: new Date().toISOString() };
      metrics.failures.inc({ ...item.labels, reason: error.reason });
      this.options.failed?.(item, error);
      const base = this.options.retryBaseMs ?? RETRY_BASE_MS;
      delay = retryDelay(state.failures, item.intervalMs, base, error.retryAfterMs);
      log.warn(
        { [logField]: item.shown, reason: error.reason, failures: state.failures, retryInMs: delay },
        `${what} refresh failed (${error.reason}), ${this.options.serving(item)}: ${error.message}`,
      );
    } finally {
      metrics.duration?.observe(item.labels, (performance.now() - started) / 1000);
      if (!this.isStopped) {
        state.attempted = true;
        this.options.settled?.(item);
      }
    }
    if (this.isStopped) return;
    delay = timerDelay(delay);
    state.nextRefresh = Date.now() + delay;
    state.timer = setTimeout(() => void this.refresh(item), delay);
    state.timer.unref();
  }
}

/**
 * Why an attempt failed: past its deadline it is a network failure (a trickling upstream); an IndexError is the
 * upstream's doing as it says; anything else is a bug in this tool, counted apart (`internal`) and its stack logged.
 */
export function classifyFailure(
  err: unknown,
  shown: string,
  deadline: AbortSignal | undefined,
  refreshTimeoutMs: number,
): IndexError {
  if (deadline?.aborted)
    return new IndexError(
      shown,
      'network',
      `the refresh did not finish within refreshTimeout (${formatDuration(refreshTimeoutMs)})`,
      { cause: err },
    );
  if (err instanceof IndexError) return err;
  return new IndexError(shown, 'internal', (err as Error)?.message ?? String(err), { cause: err });
}

/** Failures a retry soon may fix: the network, and an upstream that is overloaded or failing for now. */
export function isTransient(error: IndexError): boolean {
  if (error.reason === 'network') return true;
  if (error.reason !== 'http-status' || error.httpStatus === undefined) return false;
  return error.httpStatus >= 500 || error.httpStatus === 408 || error.httpStatus === 429;
}
