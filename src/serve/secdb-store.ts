import type { FastifyBaseLogger } from 'fastify';
import type { RepositorySettings, ServiceSettings } from '../config/settings.js';
import { DEFAULT_MAX_SECDB_BYTES } from '../load/load-secdb.js';
import type { SecurityDatabase } from '../secdb/parse.js';
import { redactUrl, toUrl } from '../source/locations.js';
import type { ServiceMetrics } from './metrics.js';
import { RefreshState, Refresher, type RefreshOutcome } from './refresher.js';
import { timerDelay } from './retry.js';
import { loadRepositorySecdb, repositorySources, type RepositorySource } from './sources.js';

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
  readonly shown: string;
  readonly labels: { repository: string };
  readonly intervalMs: number;
  readonly state: RefreshState;
  database: SecurityDatabase | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
}

export interface SecdbStoreOptions {
  log: FastifyBaseLogger;
  metrics: ServiceMetrics;
  env?: NodeJS.ProcessEnv | undefined;
  retryBaseMs?: number | undefined;
  maxBytes?: number;
}

/**
 * Keeps each repository's security database fresh, on the same refresher as the indexes: conditional requests,
 * a size cap, the last good data kept on failure, retries with backoff, metrics. A missing, broken or huge
 * database only means no fixes are shown for that repository; it never holds up or stops the service.
 */
export class SecdbStore {
  private readonly tracked: Tracked[];
  private readonly refresher: Refresher<Tracked>;
  private started = false;

  constructor(
    private readonly settings: ServiceSettings,
    private readonly options: SecdbStoreOptions,
  ) {
    const withSecdb = settings.repositories.filter((r) => r.secdb);
    this.tracked = repositorySources(withSecdb, options.env ?? process.env).map((source) => ({
      repository: source.settings,
      source,
      shown: redactUrl(toUrl(source.settings.secdb!)),
      labels: { repository: source.name },
      intervalMs: source.settings.updateIntervalMs ?? settings.updateIntervalMs,
      state: new RefreshState(),
      database: undefined,
      etag: undefined,
      lastModified: undefined,
    }));
    const metrics = options.metrics.secdb;
    this.refresher = new Refresher(this.tracked, {
      what: 'security database',
      logField: 'secdb',
      log: options.log,
      metrics,
      refreshTimeoutMs: settings.refreshTimeoutMs,
      retryBaseMs: options.retryBaseMs,
      attempt: (t, signal) => this.load(t, signal),
      serving: (t) => (t.database ? 'keeping the last good data' : 'no fixes shown for this repository'),
    });
  }

  /** Starts loading every database; idempotent. */
  start(): void {
    if (this.started || this.refresher.stopped) return;
    this.started = true;
    for (const t of this.tracked) void this.refresher.refresh(t);
  }

  stop(): void {
    this.refresher.stop();
  }

  /** Resolves once the attempts running now have finished (tests: every database tried once after start()). */
  async settled(): Promise<void> {
    await Promise.all(this.tracked.map((t) => t.state.running ?? Promise.resolve()));
  }

  /** Reads every database again now (tests). */
  refreshAll(): Promise<void> {
    return this.refresher.refreshAll();
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
      lastSuccess: t.state.lastSuccess === undefined ? undefined : new Date(t.state.lastSuccess).toISOString(),
      lastError: t.state.lastError && { message: t.state.lastError.message, at: t.state.lastError.at },
    }));
  }

  private async load(t: Tracked, signal: AbortSignal): Promise<RefreshOutcome> {
    const result = await loadRepositorySecdb(t.source, {
      timeoutMs: timerDelay(this.settings.requestTimeoutMs),
      signal,
      maxBytes: this.options.maxBytes ?? DEFAULT_MAX_SECDB_BYTES,
      previous: t.database ? { etag: t.etag, lastModified: t.lastModified } : undefined,
    });
    if (!result.notModified) {
      t.database = result.database;
      t.etag = result.etag;
      t.lastModified = result.lastModified;
      const { fixes, ids, skipped } = result.database;
      this.options.log.info({ secdb: t.shown, origins: fixes.size, ids, skipped }, 'security database loaded');
    }
    this.options.metrics.secdb.ids.set(t.labels, t.database?.ids ?? 0);
    return result.notModified ? 'not-modified' : 'changed';
  }
}
