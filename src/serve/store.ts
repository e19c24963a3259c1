import type { FastifyBaseLogger } from 'fastify';
import type { ServiceSettings } from '../config/settings.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import { DownloadBudget } from '../load/download-budget.js';
import { VersionMap } from '../index/version-map.js';
import { redactUrl } from '../source/locations.js';
import { KeyCache } from './key-cache.js';
import type { ServiceMetrics } from './metrics.js';
import { RefreshState, Refresher, type RefreshOutcome } from './refresher.js';
import { timerDelay } from './retry.js';
import { SavedIndexes, type KeptIndex } from './saved-indexes.js';
import { loadRepositoryIndex, repositorySources } from './sources.js';
import { Waiters } from './waiters.js';

import type { IndexStatus } from '../datasource/status.js';
export type { IndexStatus };

/** The part of a query that decides which indexes could change its answer. */
export interface IndexNeeds {
  readonly arches?: readonly string[] | undefined;
  readonly repositories?: readonly string[] | undefined;
}

interface Tracked extends KeptIndex {
  /** Metric labels: the arch is the one /-/status shows (a bare index's comes from its records once loaded). */
  labels: { index: string; arch: string; repository: string };
  readonly intervalMs: number;
  readonly state: RefreshState;
  snapshot: IndexSnapshot | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  /** Last refresh that brought a new index. */
  lastChange: number | undefined;
}

export interface StoreOptions {
  log: FastifyBaseLogger;
  metrics: ServiceMetrics;
  /** Where `auth` environment variables are read; defaults to process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** First retry delay after a failure; doubles per consecutive failure up to the refresh interval. */
  retryBaseMs?: number | undefined;
  /** Called with each new version map before any query reads it: what answers need per map is built here. */
  onMap?: ((map: VersionMap) => void) | undefined;
}

/** A new index with more than this share of records fewer than the previous one is warned about. */
const RECORDS_DROP = 0.25;

/**
 * Keeps every configured index fresh and exposes one immutable VersionMap. A refresh reads the new index beside
 * the old one and swaps the map in one assignment, so a query sees the old data or the new, never a mix.
 * The schedule (retries, backoff, deadlines, failures counted) is the refresher's; the state directory, the keys
 * and the waiting queries each have their own module.
 */
export class IndexStore {
  private readonly tracked: Tracked[];
  private current = new VersionMap([], 0);
  private isReady = false;
  private allLoaded = false;
  private readonly keys: KeyCache;
  private readonly refresher: Refresher<Tracked>;
  private readonly saved: SavedIndexes | undefined;
  /** Queries waiting for a first load, and whenReady: they look again whenever an index settles, and on stop. */
  private readonly waiters = new Waiters();
  private readonly log: FastifyBaseLogger;
  private readonly metrics: ServiceMetrics;
  private readonly onMap: ((map: VersionMap) => void) | undefined;
  /** The compressed bytes held by every download in flight until verified: one total (limits.downloadBudget). */
  private readonly budget: DownloadBudget;

  constructor(
    private readonly settings: ServiceSettings,
    options: StoreOptions,
  ) {
    this.log = options.log;
    this.metrics = options.metrics;
    this.onMap = options.onMap;
    this.budget = new DownloadBudget(settings.downloadBudgetBytes, (held) => this.metrics.downloadHeld.set(held));
    const sources = repositorySources(settings.repositories, options.env ?? process.env);
    this.tracked = sources.flatMap((source) =>
      source.locations.map((location) => {
        const shown = redactUrl(location.url);
        return {
          location,
          repository: source.settings,
          source,
          shown,
          labels: { index: shown, arch: location.arch ?? '', repository: location.repository },
          intervalMs: source.settings.updateIntervalMs ?? settings.updateIntervalMs,
          state: new RefreshState(),
          snapshot: undefined,
          etag: undefined,
          lastModified: undefined,
          lastChange: undefined,
        };
      }),
    );
    this.keys = new KeyCache(timerDelay(settings.requestTimeoutMs));
    this.refresher = new Refresher(this.tracked, {
      what: 'index',
      logField: 'index',
      log: this.log,
      metrics: {
        refreshes: this.metrics.refreshes,
        failures: this.metrics.failures,
        lastSuccess: this.metrics.lastSuccess,
        duration: this.metrics.refreshDuration,
      },
      refreshTimeoutMs: settings.refreshTimeoutMs,
      retryBaseMs: options.retryBaseMs,
      attempt: (t, signal) => this.load(t, signal),
      serving: (t) => (t.snapshot ? 'serving the last good data' : 'not loaded yet'),
      failed: (t, error) => {
        // The repository may have rotated its keys: they are fetched again.
        if (error.reason === 'key' || error.reason === 'signature') this.keys.forget(t.repository.name);
      },
      settled: () => this.settled(),
    });
    this.saved =
      settings.stateDir === undefined
        ? undefined
        : new SavedIndexes(settings.stateDir, {
            log: this.log,
            limits: settings.limits,
            keys: this.keys,
            keySignal: () => this.keySignal(),
          });
    for (const t of this.tracked) this.metrics.holdsReadiness.set(t.labels, 1);
  }

  /** The current version map; replaced whole on every change. */
  get map(): VersionMap {
    return this.current;
  }

  /**
   * Ready (/readyz): no index holds readiness back. An index holds it back until it has loaded once, or until its
   * first load has failed for a reason a retry will not soon fix (404, bad signature, a missing key...): waiting
   * would not help then, and the other repositories answer meanwhile. A network error or a 5xx keeps it waiting.
   */
  get ready(): boolean {
    return this.isReady;
  }

  /** Every configured index has loaded at least once (a flag: it is read on every query). */
  get loaded(): boolean {
    return this.allLoaded;
  }

  /** stop() was called: the service is shutting down. */
  get stopping(): boolean {
    return this.refresher.stopped;
  }

  /** How many configured indexes there are, and how many have loaded once. */
  get progress(): { loaded: number; total: number } {
    return { loaded: this.tracked.filter((t) => t.snapshot).length, total: this.tracked.length };
  }

  /** The indexes holding readiness back, as /-/status names them. */
  get waitingFor(): string[] {
    return this.tracked.filter(holdsReadiness).map((t) => t.shown);
  }

  /**
   * The indexes not loaded yet that could change the answer to a query with these filters: those of the
   * repositories asked for (all without ?repository=) whose arch is asked for (all without ?arch=; a bare index
   * not loaded yet may hold any arch).
   */
  missingFor(needs: IndexNeeds = {}): number {
    if (this.allLoaded) return 0;
    let missing = 0;
    for (const t of this.tracked) if (!t.snapshot && couldAnswer(t, needs)) missing++;
    return missing;
  }

  /** How many queries (and `whenReady` callers) wait for a first load now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Resolves true once ready, false when `timeoutMs` passes first or the store stops. */
  whenReady(timeoutMs: number): Promise<boolean> {
    return this.waiters.until(() => (this.stopping ? false : this.isReady ? true : undefined), timeoutMs);
  }

  /**
   * Resolves true once every index that could change a query's answer has loaded; false when `timeoutMs` passes
   * first, the store stops, or each one still missing has failed for a reason a retry will not soon fix.
   */
  whenLoadedFor(needs: IndexNeeds, timeoutMs: number): Promise<boolean> {
    return this.waiters.until(() => {
      if (this.stopping) return false;
      if (this.missingFor(needs) === 0) return true;
      return this.tracked.some((t) => !t.snapshot && couldAnswer(t, needs) && holdsReadiness(t)) ? undefined : false;
    }, timeoutMs);
  }

  /**
   * Starts the first load of every index; each then refreshes on its own interval. With a state directory, the
   * temporary files an earlier run left are removed, and the index saved there is verified and served first; the
   * first refresh is then conditional on its validators.
   */
  start(): void {
    const saved = this.saved;
    if (!saved) {
      for (const t of this.tracked) void this.refresher.refresh(t);
      return;
    }
    const cleaned = saved.removeStaleTempFiles(Date.now());
    for (const t of this.tracked) void cleaned.then(() => this.restore(t, saved)).then(() => this.refresher.refresh(t));
  }

  private async restore(t: Tracked, saved: SavedIndexes): Promise<void> {
    if (this.stopping) return;
    const restored = await saved.restore(t);
    if (!restored || t.snapshot || this.stopping) return;
    t.snapshot = restored.snapshot;
    t.etag = restored.etag;
    t.lastModified = restored.lastModified;
    t.lastChange = restored.savedAt;
    this.metrics.records.set(t.labels, restored.snapshot.records);
    this.noteSkipped(t, restored.snapshot);
    this.swap();
  }

  /** Key loads outside a refresh (restore, save) stop at shutdown and after refreshTimeout. */
  private keySignal(): AbortSignal {
    return AbortSignal.any([this.refresher.signal, AbortSignal.timeout(timerDelay(this.settings.refreshTimeoutMs))]);
  }

  /**
   * Refreshes every index now (POST /-/refresh); resolves when every attempt has finished. Each attempt starts
   * after the call: an index already refreshing may have fetched before a repository published, so one more
   * run follows that one (shared by every call made while it runs) and this waits for it.
   */
  refreshAll(): Promise<void> {
    return this.refresher.refreshAll();
  }

  /** Stops timers, aborts downloads in flight and releases waiting queries (they answer 503). */
  stop(): void {
    this.refresher.stop();
    this.waiters.changed();
  }

  status(): IndexStatus[] {
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    return this.tracked.map((t) => ({
      url: t.shown,
      arch: archOf(t),
      repository: t.location.repository,
      aliases: t.repository.aliases?.length ? [...t.repository.aliases] : undefined,
      records: t.snapshot?.records,
      skippedVersions: t.snapshot?.skippedVersions,
      description: t.snapshot?.description,
      verification: t.snapshot ? (t.snapshot.verifiedBy ? 'verified' : 'unverified') : undefined,
      verifiedBy: t.snapshot?.verifiedBy,
      etag: t.etag,
      lastModified: t.lastModified,
      lastSuccess: iso(t.state.lastSuccess),
      lastChange: iso(t.lastChange),
      lastError: t.state.lastError,
      consecutiveFailures: t.state.failures,
      nextRefresh: iso(t.state.nextRefresh),
      holdsReadiness: holdsReadiness(t),
    }));
  }

  /** One attempt at one index: keys, then the index (conditionally once loaded), swapped in if it changed. */
  private async load(t: Tracked, signal: AbortSignal): Promise<RefreshOutcome> {
    // Keys too are read under the refresh's deadline and abort on shutdown: a key URL trickling bytes must not
    // hold the first load, POST /-/refresh or SIGTERM.
    const keys = await this.keys.get(t.source, signal);
    const result = await loadRepositoryIndex(t.source, t.location, {
      keys,
      limits: this.settings.limits,
      timeoutMs: timerDelay(this.settings.requestTimeoutMs),
      signal,
      previous: t.snapshot ? { etag: t.etag, lastModified: t.lastModified } : undefined,
      budget: this.budget,
      offThread: true,
    });
    if (!result.notModified) {
      if (t.snapshot) this.checkRegression(t, t.snapshot, result.snapshot);
      if (!t.snapshot && !t.location.arch) this.relabel(t, result.snapshot.arch);
      t.snapshot = result.snapshot;
      t.etag = result.etag;
      t.lastModified = result.lastModified;
      t.lastChange = Date.now();
      if (result.archive) await this.saved?.save(t, result.archive, result.etag, result.lastModified);
      const { records, verifiedBy } = result.snapshot;
      if (verifiedBy) this.log.info({ index: t.shown, records, verifiedBy }, 'index loaded');
      else
        this.log.warn(
          { index: t.shown, records },
          'index loaded without signature verification: no keys configured for this repository',
        );
      this.noteSkipped(t, result.snapshot);
      this.swap();
    }
    this.metrics.records.set(t.labels, t.snapshot?.records ?? 0);
    return result.notModified ? 'not-modified' : 'changed';
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
      this.log.warn(
        { index: t.shown, records: next.records, previousRecords: old.records },
        `index lost ${old.records - next.records} of its ${old.records} records; serving it`,
      );
    }
  }

  /** Records skipped for a version apk would refuse: counted, and one warning per load naming the first. */
  private noteSkipped(t: Tracked, snapshot: IndexSnapshot): void {
    this.metrics.skippedVersions.set(t.labels, snapshot.skippedVersions);
    const first = snapshot.firstSkipped;
    if (snapshot.skippedVersions === 0 || !first) return;
    this.log.warn(
      { index: t.shown, skippedVersions: snapshot.skippedVersions },
      `${snapshot.skippedVersions} records or provided versions skipped: not a valid APK version (the first: ${JSON.stringify(first.name)} version ${JSON.stringify(first.version)})`,
    );
  }

  private swap(): void {
    const snapshots = this.tracked.flatMap((t) => (t.snapshot ? [t.snapshot] : []));
    const map = new VersionMap(snapshots, this.current.generation + 1);
    this.onMap?.(map);
    this.current = map;
    this.metrics.generation.set(this.current.generation);
    this.allLoaded = snapshots.length === this.tracked.length;
  }

  /** After every refresh: readiness and waiting queries are decided anew. */
  private settled(): void {
    this.isReady = !this.tracked.some(holdsReadiness);
    for (const x of this.tracked) this.metrics.holdsReadiness.set(x.labels, holdsReadiness(x) ? 1 : 0);
    this.waiters.changed();
  }

  /** A bare index's arch is known once its records say it: its metrics move to that label, as /-/status shows. */
  private relabel(t: Tracked, arch: string): void {
    this.metrics.holdsReadiness.remove(t.labels);
    t.labels = { ...t.labels, arch };
  }
}

function archOf(t: Tracked): string | undefined {
  return t.snapshot?.arch ?? t.location.arch;
}

function holdsReadiness(t: Tracked): boolean {
  return !t.snapshot && (!t.state.attempted || t.state.transient);
}

/** Whether an index could hold part of the answer to a query with these filters. */
function couldAnswer(t: Tracked, needs: IndexNeeds): boolean {
  if (needs.repositories && !needs.repositories.includes(t.location.repository)) return false;
  const arch = archOf(t);
  return !needs.arches || arch === undefined || needs.arches.includes(arch);
}
