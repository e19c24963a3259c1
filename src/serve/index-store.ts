import type { FastifyBaseLogger } from 'fastify';
import type { RepositorySettings, ServiceSettings } from '../config/settings.js';
import type { TrustedKey } from '../decode/signature.js';
import { IndexError, type IndexErrorReason } from '../errors.js';
import { loadIndex } from '../index/load.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import { VersionMap } from '../index/version-map.js';
import { indexLocations, redactUrl, type IndexLocation } from '../source/locations.js';
import { loadTrustedKeys } from '../source/keys.js';
import type { ServiceMetrics } from './metrics.js';

/** What one configured index looks like from the outside: the `/-/status` entry. */
export interface IndexStatus {
  url: string;
  arch: string | undefined;
  repository: string;
  records: number | undefined;
  description: string | undefined;
  verifiedBy: string | undefined;
  etag: string | undefined;
  lastSuccess: string | undefined;
  lastChange: string | undefined;
  lastError: { message: string; reason: IndexErrorReason; at: string } | undefined;
  consecutiveFailures: number;
  nextRefresh: string | undefined;
}

interface Tracked {
  location: IndexLocation;
  repository: RepositorySettings;
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
}

const MIN_RETRY_MS = 5_000;

/**
 * Keeps every configured index fresh and exposes one immutable VersionMap. A refresh reads the new index beside
 * the old one and swaps the map in one assignment, so a query sees either the old or the new data, never a mix.
 * Failures keep the last good snapshot and retry with exponential backoff.
 */
export class IndexStore {
  private tracked: Tracked[];
  private current = new VersionMap([], 0);
  private keys = new Map<string, Promise<TrustedKey[]>>();
  private stopped = false;
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly settings: ServiceSettings,
    private readonly log: FastifyBaseLogger,
    private readonly metrics: ServiceMetrics,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.tracked = settings.repositories.flatMap((repository) =>
      indexLocations({ url: repository.url, arches: repository.arches, name: repository.name }).map((location) => ({
        location,
        repository,
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
      })),
    );
  }

  get map(): VersionMap {
    return this.current;
  }

  private isReady = false;

  /** Every configured index has loaded at least once (set on swap; read on every query). */
  get ready(): boolean {
    return this.isReady;
  }

  /** Resolves true once ready, or false when `timeoutMs` passes first. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.readyWaiters.push(done);
    });
  }

  /** Starts the first load of every index; each then refreshes on its own interval. */
  start(): void {
    for (const t of this.tracked) void this.refresh(t);
  }

  /** Refreshes every index now (POST /-/refresh); resolves when all attempts have finished. */
  async refreshAll(): Promise<void> {
    await Promise.all(this.tracked.map((t) => this.refresh(t)));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.tracked) clearTimeout(t.timer);
  }

  status(): IndexStatus[] {
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    return this.tracked.map((t) => ({
      url: redactUrl(t.location.url),
      arch: t.snapshot?.arch ?? t.location.arch,
      repository: t.location.repository,
      records: t.snapshot?.records,
      description: t.snapshot?.description,
      verifiedBy: t.snapshot?.verifiedBy,
      etag: t.etag,
      lastSuccess: iso(t.lastSuccess),
      lastChange: iso(t.lastChange),
      lastError: t.lastError,
      consecutiveFailures: t.failures,
      nextRefresh: iso(t.nextRefresh),
    }));
  }

  private refresh(t: Tracked): Promise<void> {
    // One refresh per index at a time; a second request joins the running one.
    t.running ??= this.runRefresh(t).finally(() => (t.running = undefined));
    return t.running;
  }

  private async runRefresh(t: Tracked): Promise<void> {
    clearTimeout(t.timer);
    const shown = redactUrl(t.location.url);
    const labels = { index: shown, arch: t.location.arch ?? 'any', repository: t.location.repository };
    const started = performance.now();
    let delay = t.repository.updateIntervalMs ?? this.settings.updateIntervalMs;
    try {
      const keys = await this.keysFor(t.repository);
      const result = await loadIndex(t.location, {
        keys,
        limits: this.settings.limits,
        headers: this.authHeaders(t.repository),
        timeoutMs: this.settings.requestTimeoutMs,
        previous: t.snapshot ? { etag: t.etag, lastModified: t.lastModified } : undefined,
      });
      const now = Date.now();
      t.lastSuccess = now;
      t.failures = 0;
      t.lastError = undefined;
      this.metrics.refreshes.inc({ ...labels, outcome: result.notModified ? 'not-modified' : 'changed' });
      if (!result.notModified) {
        t.snapshot = result.snapshot;
        t.etag = result.etag;
        t.lastModified = result.lastModified;
        t.lastChange = now;
        if (keys.length === 0) this.log.warn({ index: shown }, 'index signature not verified: no keys configured for this repository');
        this.log.info({ index: shown, records: result.snapshot.records, verifiedBy: result.snapshot.verifiedBy }, 'index loaded');
        this.swap();
      }
      this.metrics.entries.set(labels, t.snapshot?.records ?? 0);
      this.metrics.lastSuccess.set(labels, now / 1000);
    } catch (err) {
      const error = err instanceof IndexError ? err : new IndexError(shown, 'network', (err as Error)?.message ?? String(err), { cause: err });
      t.failures++;
      t.lastError = { message: error.message, reason: error.reason, at: new Date().toISOString() };
      this.metrics.failures.inc({ ...labels, reason: error.reason });
      if (error.reason === 'key') this.keys.delete(t.repository.name); // fetch the keys again next time
      // Backoff doubles from 5s up to the refresh interval; a server's Retry-After wins when longer.
      delay = Math.min(delay, MIN_RETRY_MS * 2 ** Math.min(t.failures - 1, 16));
      if (error.retryAfterMs !== undefined) delay = Math.max(delay, error.retryAfterMs);
      this.log.warn({ index: shown, reason: error.reason, failures: t.failures, retryInMs: delay }, `index refresh failed, serving the last good data: ${error.message}`);
    } finally {
      this.metrics.refreshDuration.observe(labels, (performance.now() - started) / 1000);
    }
    if (!this.stopped) {
      t.nextRefresh = Date.now() + delay;
      t.timer = setTimeout(() => void this.refresh(t), delay);
      t.timer.unref();
    }
  }

  private swap(): void {
    const snapshots = this.tracked.flatMap((t) => (t.snapshot ? [t.snapshot] : []));
    this.current = new VersionMap(snapshots, this.current.generation + 1);
    this.metrics.generation.set(this.current.generation);
    this.isReady = this.tracked.every((t) => t.snapshot !== undefined);
    if (this.ready) for (const waiter of this.readyWaiters.splice(0)) waiter();
  }

  private keysFor(repository: RepositorySettings): Promise<TrustedKey[]> {
    let keys = this.keys.get(repository.name);
    if (!keys) {
      keys = loadTrustedKeys(repository.keys, { timeoutMs: this.settings.requestTimeoutMs });
      keys.catch(() => this.keys.delete(repository.name));
      this.keys.set(repository.name, keys);
    }
    return keys;
  }

  private authHeaders(repository: RepositorySettings): Record<string, string> | undefined {
    const auth = repository.auth;
    if (!auth) return undefined;
    if ('bearerTokenEnv' in auth) {
      const token = this.env[auth.bearerTokenEnv];
      if (!token) throw new IndexError(repository.name, 'key', `environment variable ${auth.bearerTokenEnv} (bearer token) is not set`);
      return { authorization: `Bearer ${token}` };
    }
    const user = this.env[auth.usernameEnv];
    const password = this.env[auth.passwordEnv];
    if (user === undefined || password === undefined) {
      throw new IndexError(repository.name, 'key', `environment variables ${auth.usernameEnv}/${auth.passwordEnv} (basic auth) are not set`);
    }
    return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  }
}
