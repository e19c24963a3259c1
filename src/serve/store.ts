import type { FastifyBaseLogger } from 'fastify';
import { authorizationHeader } from '../config/auth.js';
import type { RepositorySettings, ServiceSettings } from '../config/settings.js';
import { formatDuration } from '../config/duration.js';
import type { TrustedKey } from '../decode/signature.js';
import { IndexError, type IndexErrorReason } from '../errors.js';
import { Readable } from 'node:stream';
import { loadIndex, readIndexBody } from '../index/load.js';
import { readSavedIndex, savedIndexPath, writeSavedIndex } from '../index/saved-index.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import { VersionMap } from '../index/version-map.js';
import { loadTrustedKeys, parseTrustedKey } from '../source/keys.js';
import { indexLocations, redactUrl, toUrl, type IndexLocation } from '../source/locations.js';
import type { ServiceMetrics } from './metrics.js';

/** One configured index as `/-/status` shows it. */
export interface IndexStatus {
  url: string;
  arch: string | undefined;
  repository: string;
  records: number | undefined;
  description: string | undefined;
  verifiedBy: string | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  /** Last refresh that succeeded, changed or not. */
  lastSuccess: string | undefined;
  /** Last refresh that brought a new index. */
  lastChange: string | undefined;
  lastError: { message: string; reason: IndexErrorReason; at: string } | undefined;
  consecutiveFailures: number;
  nextRefresh: string | undefined;
}

interface Tracked {
  readonly location: IndexLocation;
  readonly repository: RepositorySettings;
  readonly shown: string;
  readonly labels: { index: string; arch: string; repository: string };
  snapshot: IndexSnapshot | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  lastSuccess: number | undefined;
  lastChange: number | undefined;
  lastError: IndexStatus['lastError'];
  failures: number;
  timer: NodeJS.Timeout | undefined;
  nextRefresh: number | undefined;
  running: Promise<void> | undefined;
  /** The run that follows `running` for refreshes asked for while it ran (POST /-/refresh). */
  again: Promise<void> | undefined;
}

export interface StoreOptions {
  log: FastifyBaseLogger;
  metrics: ServiceMetrics;
  /** Where `auth` environment variables are read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** First retry delay after a failure; doubles per consecutive failure up to the refresh interval. */
  retryBaseMs?: number;
}

const RETRY_BASE_MS = 5_000;
/** A new index with more than this share of records fewer than the previous one is warned about. */
const RECORDS_DROP = 0.25;

/**
 * The longest delay a Node timer takes (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms instead, and
 * `AbortSignal.timeout` throws on one over 2^32-1. Every delay the store sets is capped to it.
 */
const MAX_TIMER_MS = 2_147_483_647;

function timerDelay(ms: number): number {
  return Number.isNaN(ms) ? MAX_TIMER_MS : Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}

/**
 * Keeps every configured index fresh and exposes one immutable VersionMap. A refresh reads the new index beside
 * the old one and swaps the map in one assignment, so a query sees the old data or the new, never a mix.
 * A failure keeps the last good snapshot, is logged once and counted, and is retried with exponential backoff.
 */
export class IndexStore {
  private readonly tracked: Tracked[];
  private current = new VersionMap([], 0);
  private isReady = false;
  private stopped = false;
  private readonly keys = new Map<string, Promise<TrustedKey[]>>();
  private readonly headers = new Map<string, Record<string, string>>();
  private readyWaiters: Array<(ready: boolean) => void> = [];
  private readonly abort = new AbortController();
  private readonly log: FastifyBaseLogger;
  private readonly metrics: ServiceMetrics;
  private readonly retryBaseMs: number;

  constructor(
    private readonly settings: ServiceSettings,
    options: StoreOptions,
  ) {
    this.log = options.log;
    this.metrics = options.metrics;
    this.retryBaseMs = options.retryBaseMs ?? RETRY_BASE_MS;
    const env = options.env ?? process.env;
    settings.repositories.forEach((repository, i) => {
      if (repository.auth) {
        this.headers.set(repository.name, { authorization: authorizationHeader(repository.auth, env, `repositories[${i}].auth`) });
      }
    });
    this.tracked = settings.repositories.flatMap((repository) =>
      indexLocations({ url: repository.url, arches: repository.arches, name: repository.name }).map((location) => {
        const shown = redactUrl(location.url);
        return {
          location,
          repository,
          shown,
          labels: { index: shown, arch: location.arch ?? 'any', repository: location.repository },
          snapshot: undefined,
          etag: undefined,
          lastModified: undefined,
          lastSuccess: undefined,
          lastChange: undefined,
          lastError: undefined,
          failures: 0,
          timer: undefined,
          nextRefresh: undefined,
          running: undefined,
          again: undefined,
        };
      }),
    );
  }

  /** The current version map; replaced whole on every change. */
  get map(): VersionMap {
    return this.current;
  }

  /** Every configured index has loaded at least once (a flag: it is read on every query). */
  get ready(): boolean {
    return this.isReady;
  }

  /** stop() was called: the service is shutting down. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** How many configured indexes there are, and how many have loaded once. */
  get progress(): { loaded: number; total: number } {
    return { loaded: this.tracked.filter((t) => t.snapshot).length, total: this.tracked.length };
  }

  /** Resolves true once ready, false when `timeoutMs` passes first or the store stops. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.isReady) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        resolve(ready);
      };
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        resolve(false);
      }, timerDelay(timeoutMs));
      this.readyWaiters.push(done);
    });
  }

  /**
   * Starts the first load of every index; each then refreshes on its own interval. With a state directory, the
   * index saved there is verified and served first, and the first refresh is conditional on its validators.
   */
  start(): void {
    for (const t of this.tracked) {
      if (this.settings.stateDir === undefined) void this.refresh(t);
      else void this.restore(t, this.settings.stateDir).then(() => this.refresh(t));
    }
  }

  /** Serves the saved index of `t` if it verifies; anything wrong with it is one warning, and it is not served. */
  private async restore(t: Tracked, stateDir: string): Promise<void> {
    const path = savedIndexPath(stateDir, t.location.repository, t.shown);
    try {
      const saved = await readSavedIndex(stateDir, t.location.repository, t.shown);
      if (saved === undefined || this.stopped) return;
      const keys = await this.keysFor(t.repository).catch((err: unknown) => {
        // An outage takes key URLs with it: the keys saved with the index, for locations still configured, stand in.
        const configured = new Set(t.repository.keys.map((k) => redactUrl(toUrl(k))));
        const kept = saved.keys.filter((k) => configured.has(k.origin));
        if (kept.length < configured.size) throw err;
        this.log.warn({ index: t.shown }, `keys not loaded (${(err as Error)?.message ?? String(err)}); verifying the saved index with the keys saved beside it`);
        return kept.map((k) => parseTrustedKey(k.name, k.pem, k.origin));
      });
      if (keys.length === 0) throw new Error('no trusted keys are configured to verify it with');
      const { snapshot } = await readIndexBody(Readable.from([saved.archive]), t.location, { keys, limits: this.settings.limits, allowForeignArch: t.repository.allowForeignArch });
      if (t.snapshot || this.stopped) return;
      t.snapshot = snapshot;
      t.etag = saved.etag;
      t.lastModified = saved.lastModified;
      t.lastChange = Date.parse(saved.savedAt) || undefined;
      this.log.info({ index: t.shown, records: snapshot.records, verifiedBy: snapshot.verifiedBy, savedAt: saved.savedAt }, 'index restored from the state directory');
      this.metrics.records.set(t.labels, snapshot.records);
      this.swap();
    } catch (err) {
      this.log.warn({ index: t.shown, path }, `saved index ignored, not served: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Keeps a verified index for the next start; a failure to write is a warning, never a failed refresh. */
  private async save(t: Tracked, archive: Buffer, etag: string | undefined, lastModified: string | undefined): Promise<void> {
    const stateDir = this.settings.stateDir;
    if (stateDir === undefined) return;
    try {
      const keys = (await this.keysFor(t.repository)).map((k) => ({ origin: k.origin, name: k.name, pem: k.key.export({ type: 'spki', format: 'pem' }).toString() }));
      await writeSavedIndex(stateDir, { repository: t.location.repository, url: t.shown, etag, lastModified, keys, archive });
    } catch (err) {
      this.log.warn({ index: t.shown, stateDir }, `could not keep the index in the state directory: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /**
   * Refreshes every index now (POST /-/refresh); resolves when every attempt has finished. Each attempt starts
   * after the call: an index already refreshing may have fetched before a repository published, so one more
   * run follows that one (shared by every call made while it runs) and this waits for it.
   */
  async refreshAll(): Promise<void> {
    await Promise.all(this.tracked.map((t) => this.refreshAfter(t)));
  }

  /** Stops timers, aborts downloads in flight and releases waiting queries (they answer 503). */
  stop(): void {
    this.stopped = true;
    for (const t of this.tracked) clearTimeout(t.timer);
    this.abort.abort();
    for (const waiter of this.readyWaiters.splice(0)) waiter(false);
  }

  status(): IndexStatus[] {
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    return this.tracked.map((t) => ({
      url: t.shown,
      arch: t.snapshot?.arch ?? t.location.arch,
      repository: t.location.repository,
      records: t.snapshot?.records,
      description: t.snapshot?.description,
      verifiedBy: t.snapshot?.verifiedBy,
      etag: t.etag,
      lastModified: t.lastModified,
      lastSuccess: iso(t.lastSuccess),
      lastChange: iso(t.lastChange),
      lastError: t.lastError,
      consecutiveFailures: t.failures,
      nextRefresh: iso(t.nextRefresh),
    }));
  }

  /** One refresh per index at a time: a scheduled refresh (first load, interval, retry) joins the one running. */
  private refresh(t: Tracked): Promise<void> {
    if (this.stopped) return Promise.resolve();
    t.running ??= this.runRefresh(t).finally(() => (t.running = undefined));
    return t.running;
  }

  /** A refresh that starts now, or right after the one running: every call until then shares that one run. */
  private refreshAfter(t: Tracked): Promise<void> {
    if (this.stopped || !t.running) return this.refresh(t);
    t.again ??= t.running
      .catch(() => undefined)
      .then(() => {
        t.again = undefined;
        return this.refresh(t);
      });
    return t.again;
  }

  private async runRefresh(t: Tracked): Promise<void> {
    clearTimeout(t.timer);
    const started = performance.now();
    const interval = t.repository.updateIntervalMs ?? this.settings.updateIntervalMs;
    let delay = interval;
    let deadline: AbortSignal | undefined;
    try {
      // Inside the try: whatever goes wrong here is one failed refresh, never an unhandled rejection.
      deadline = AbortSignal.timeout(timerDelay(this.settings.refreshTimeoutMs));
      const keys = await this.keysFor(t.repository);
      const result = await loadIndex(t.location, {
        keys,
        limits: this.settings.limits,
        headers: this.headers.get(t.repository.name),
        timeoutMs: timerDelay(this.settings.requestTimeoutMs),
        signal: AbortSignal.any([this.abort.signal, deadline]),
        previous: t.snapshot ? { etag: t.etag, lastModified: t.lastModified } : undefined,
        allowForeignArch: t.repository.allowForeignArch,
      });
      const now = Date.now();
      if (t.failures > 0) this.log.info({ index: t.shown, failures: t.failures }, 'index refresh recovered');
      t.lastSuccess = now;
      t.failures = 0;
      t.lastError = undefined;
      this.metrics.refreshes.inc({ ...t.labels, outcome: result.notModified ? 'not-modified' : 'changed' });
      if (!result.notModified) {
        if (t.snapshot) this.checkRegression(t, t.snapshot, result.snapshot);
        t.snapshot = result.snapshot;
        t.etag = result.etag;
        t.lastModified = result.lastModified;
        t.lastChange = now;
        if (result.archive) await this.save(t, result.archive, result.etag, result.lastModified);
        const { records, verifiedBy } = result.snapshot;
        if (verifiedBy) this.log.info({ index: t.shown, records, verifiedBy }, 'index loaded');
        else this.log.warn({ index: t.shown, records }, 'index loaded without signature verification: no keys configured for this repository');
        this.swap();
      }
      this.metrics.records.set(t.labels, t.snapshot?.records ?? 0);
      this.metrics.lastSuccess.set(t.labels, now / 1000);
    } catch (err) {
      if (this.stopped) return;
      const error = deadline?.aborted
        ? new IndexError(t.shown, 'network', `the refresh did not finish within refreshTimeout (${formatDuration(this.settings.refreshTimeoutMs)})`, { cause: err })
        : err instanceof IndexError
          ? err
          : new IndexError(t.shown, 'network', (err as Error)?.message ?? String(err), { cause: err });
      t.failures++;
      t.lastError = { message: error.message, reason: error.reason, at: new Date().toISOString() };
      this.metrics.failures.inc({ ...t.labels, reason: error.reason });
      // Keys are fetched again after a key or signature failure: the repository may have rotated them.
      if (error.reason === 'key' || error.reason === 'signature') this.keys.delete(t.repository.name);
      delay = Math.min(interval, this.retryBaseMs * 2 ** Math.min(t.failures - 1, 20));
      if (error.retryAfterMs !== undefined) delay = Math.max(delay, error.retryAfterMs);
      delay = timerDelay(delay);
      const serving = t.snapshot ? 'serving the last good data' : 'not loaded yet';
      this.log.warn({ index: t.shown, reason: error.reason, failures: t.failures, retryInMs: delay }, `index refresh failed (${error.reason}), ${serving}: ${error.message}`);
    } finally {
      this.metrics.refreshDuration.observe(t.labels, (performance.now() - started) / 1000);
    }
    if (!this.stopped) {
      delay = timerDelay(delay);
      t.nextRefresh = Date.now() + delay;
      t.timer = setTimeout(() => void this.refresh(t), delay);
      t.timer.unref();
    }
  }

  /**
   * A new, validly signed index that is older than the one it replaces (a mirror rolled back or frozen, a replayed
   * download) is warned about and counted, and still served: its signature is valid, refusing it would pin the
   * service to whatever it saw first, and an operator who alerts on the metric decides. Older means its newest
   * build time went back, or it lost more than a quarter of its records.
   */
  private checkRegression(t: Tracked, old: IndexSnapshot, next: IndexSnapshot): void {
    const iso = (s: number) => new Date(s * 1000).toISOString();
    if (old.newestBuildTime !== undefined && (next.newestBuildTime ?? 0) < old.newestBuildTime) {
      this.metrics.regressions.inc({ ...t.labels, kind: 'build-time' });
      this.log.warn(
        { index: t.shown, newestBuildTime: next.newestBuildTime, previousNewestBuildTime: old.newestBuildTime },
        `index went back in time: its newest build is ${next.newestBuildTime === undefined ? 'undated' : iso(next.newestBuildTime)}, the previous index had one from ${iso(old.newestBuildTime)} (rolled back or frozen mirror?); serving it`,
      );
    }
    if (next.records < old.records * (1 - RECORDS_DROP)) {
      this.metrics.regressions.inc({ ...t.labels, kind: 'records' });
      this.log.warn({ index: t.shown, records: next.records, previousRecords: old.records }, `index lost ${old.records - next.records} of its ${old.records} records; serving it`);
    }
  }

  private swap(): void {
    const snapshots = this.tracked.flatMap((t) => (t.snapshot ? [t.snapshot] : []));
    this.current = new VersionMap(snapshots, this.current.generation + 1);
    this.metrics.generation.set(this.current.generation);
    this.isReady = snapshots.length === this.tracked.length;
    if (this.isReady) for (const waiter of this.readyWaiters.splice(0)) waiter(true);
  }

  private keysFor(repository: RepositorySettings): Promise<TrustedKey[]> {
    let keys = this.keys.get(repository.name);
    if (!keys) {
      // A private repository's credentials go along to keys on its own host, never to another host.
      const origin = new URL(toUrl(repository.url)).origin;
      const headers = this.headers.get(repository.name);
      keys = Promise.all(
        repository.keys.map((k) => loadTrustedKeys([k], { timeoutMs: timerDelay(this.settings.requestTimeoutMs), ...(headers && sameOrigin(k, origin) && { headers }) })),
      ).then((lists) => lists.flat());
      keys.catch(() => this.keys.delete(repository.name));
      this.keys.set(repository.name, keys);
    }
    return keys;
  }
}

function sameOrigin(location: string, origin: string): boolean {
  try {
    return new URL(toUrl(location)).origin === origin;
  } catch {
    return false;
  }
}
