import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { repositorySource, type RepositorySource } from '../config/repository-source.js';
import { loadRepositorySecdb } from '../load/repositories.js';
import type { RepositorySettings, ServiceSettings } from '../config/settings.js';
import { IndexError, isBug } from '../errors.js';
import { DEFAULT_MAX_SECDB_BYTES } from '../load/load-secdb.js';
import type { SecurityDatabase } from '../secdb/parse.js';
import { redactUrl, toUrl } from '../source/locations.js';
import { MAX_TIMER_MS, retryDelay, timerDelay } from './retry.js';

/** One repository's security database as the home page shows it. */
export interface SecdbStatus {
  repository: string;
  url: string;
  origins: number | undefined;
  ids: number | undefined;
  lastSuccess: string | undefined;
  lastError: { message: string; at: string } | undefined;
}

interface Tracked {
  readonly repository: RepositorySettings;
  readonly source: RepositorySource;
  readonly location: string;
  readonly shown: string;
  database: SecurityDatabase | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  lastSuccess: number | undefined;
  lastError: SecdbStatus['lastError'];
  failures: number;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
}

export interface SecdbStoreOptions {
  log: FastifyBaseLogger;
  registry: Registry;
  env?: NodeJS.ProcessEnv;
  retryBaseMs?: number;
  maxBytes?: number;
}

/**
 * Keeps each repository's security database fresh, as the index store does for indexes: conditional requests,
 * a size cap, the last good data kept on failure, retries with backoff, metrics. A missing, broken or huge
 * database only means no fixes are shown for that repository; it never holds up or stops the service.
 */
export class SecdbStore {
  private readonly tracked: Tracked[];
  private readonly abort = new AbortController();
  private stopped = false;
  private started = false;
  private readonly metrics;

  constructor(
    private readonly settings: ServiceSettings,
    private readonly options: SecdbStoreOptions,
  ) {
    const env = options.env ?? process.env;
    this.tracked = settings.repositories.flatMap((repository, i) => {
      if (!repository.secdb) return [];
      const source = repositorySource(repository, env, `repositories[${i}]`);
      const location = toUrl(repository.secdb);
      return [
        {
          repository,
          source,
          location,
          shown: redactUrl(location),
          database: undefined,
          etag: undefined,
          lastModified: undefined,
          lastSuccess: undefined,
          lastError: undefined,
          failures: 0,
          timer: undefined,
          running: undefined,
        },
      ];
    });
    const registers = [options.registry];
    const labelNames = ['repository'] as const;
    this.metrics = {
      ids: new Gauge({
        name: 'apk_indexer_secdb_ids',
        help: 'Fix IDs in the last good read of each security database',
        labelNames,
        registers,
      }),
      lastSuccess: new Gauge({
        name: 'apk_indexer_secdb_last_success_timestamp_seconds',
        help: 'Time of the last successful security database refresh',
        labelNames,
        registers,
      }),
      refreshes: new Counter({
        name: 'apk_indexer_secdb_refreshes_total',
        help: 'Successful security database refreshes by outcome (changed, not-modified)',
        labelNames: ['repository', 'outcome'],
        registers,
      }),
      failures: new Counter({
        name: 'apk_indexer_secdb_refresh_failures_total',
        help: 'Failed security database refreshes by reason',
        labelNames: ['repository', 'reason'],
        registers,
      }),
    };
  }

  /** Starts loading every database; idempotent. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const t of this.tracked) void this.refresh(t);
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    for (const t of this.tracked) clearTimeout(t.timer);
  }

  /** Resolves once every database has been tried at least once (tests, `POST`-less refreshes). */
  async settled(): Promise<void> {
    await Promise.all(this.tracked.map((t) => t.running ?? Promise.resolve()));
  }

  /** Reads every database again now (tests). */
  async refreshAll(): Promise<void> {
    await Promise.all(this.tracked.map((t) => this.refresh(t)));
  }

  /** The last good databases of these repositories (all when undefined). */
  databases(repositories?: readonly string[]): SecurityDatabase[] {
    return this.tracked.flatMap((t) =>
      t.database && (!repositories || repositories.includes(t.repository.name)) ? [t.database] : [],
    );
  }

  /** Whether any of these repositories has a database configured. */
  configured(repositories?: readonly string[]): boolean {
    return this.tracked.some((t) => !repositories || repositories.includes(t.repository.name));
  }

  status(): SecdbStatus[] {
    return this.tracked.map((t) => ({
      repository: t.repository.name,
      url: t.shown,
      origins: t.database?.fixes.size,
      ids: t.database?.ids,
      lastSuccess: t.lastSuccess === undefined ? undefined : new Date(t.lastSuccess).toISOString(),
      lastError: t.lastError,
    }));
  }

  private refresh(t: Tracked): Promise<void> {
    if (this.stopped) return Promise.resolve();
    t.running ??= this.run(t).finally(() => (t.running = undefined));
    return t.running;
  }

  private async run(t: Tracked): Promise<void> {
    clearTimeout(t.timer);
    const interval = t.repository.updateIntervalMs ?? this.settings.updateIntervalMs;
    const labels = { repository: t.repository.name };
    let delay = interval;
    try {
      const deadline = AbortSignal.timeout(Math.min(this.settings.refreshTimeoutMs, MAX_TIMER_MS));
      const result = await loadRepositorySecdb(t.source, {
        timeoutMs: Math.min(this.settings.requestTimeoutMs, MAX_TIMER_MS),
        signal: AbortSignal.any([this.abort.signal, deadline]),
        maxBytes: this.options.maxBytes ?? DEFAULT_MAX_SECDB_BYTES,
        previous: t.database ? { etag: t.etag, lastModified: t.lastModified } : undefined,
      });
      t.lastSuccess = Date.now();
      t.failures = 0;
      t.lastError = undefined;
      this.metrics.refreshes.inc({ ...labels, outcome: result.notModified ? 'not-modified' : 'changed' });
      if (!result.notModified) {
        t.database = result.database;
        t.etag = result.etag;
        t.lastModified = result.lastModified;
        this.options.log.info(
          {
            secdb: t.shown,
            origins: result.database.fixes.size,
            ids: result.database.ids,
            skipped: result.database.skipped,
          },
          'security database loaded',
        );
      }
      this.metrics.ids.set(labels, t.database?.ids ?? 0);
      this.metrics.lastSuccess.set(labels, t.lastSuccess / 1000);
    } catch (err) {
      if (this.stopped) return;
      // A bug in this tool is not the upstream's doing: counted apart, its stack logged, as the index store does.
      const error =
        err instanceof IndexError
          ? err
          : new IndexError(t.shown, isBug(err) ? 'internal' : 'network', (err as Error)?.message ?? String(err), {
              cause: err,
            });
      if (error.reason === 'internal')
        this.options.log.error(
          { secdb: t.shown, err },
          `security database refresh failed on an internal error: ${error.message}`,
        );
      t.failures++;
      t.lastError = { message: error.message, at: new Date().toISOString() };
      this.metrics.failures.inc({ ...labels, reason: error.reason });
      delay = retryDelay(t.failures, interval, this.options.retryBaseMs ?? 5_000, error.retryAfterMs);
      const serving = t.database ? 'keeping the last good data' : 'no fixes shown for this repository';
      this.options.log.warn(
        { secdb: t.shown, reason: error.reason, failures: t.failures },
        `security database refresh failed (${error.reason}), ${serving}: ${error.message}`,
      );
    }
    if (!this.stopped) {
      t.timer = setTimeout(() => void this.refresh(t), timerDelay(delay));
      t.timer.unref();
    }
  }
}
