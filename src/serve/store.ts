import type { FastifyBaseLogger } from 'fastify';
import { repositorySource, type RepositorySource } from '../config/repository-source.js';
import { loadRepositoryIndex, loadRepositoryKeys } from '../load/repositories.js';
import type { RepositorySettings, ServiceSettings } from '../config/settings.js';
import { formatDuration } from '../config/duration.js';
import type { TrustedKey } from '../decode/signature.js';
import { IndexError, type IndexErrorReason } from '../errors.js';
import { Readable } from 'node:stream';
import { readIndexBody } from '../load/load-index.js';
import { DownloadBudget } from '../load/download-budget.js';
import { readSavedIndex, savedIndexPath, writeSavedIndex } from '../index/saved-index.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import { VersionMap } from '../index/version-map.js';
import { parseTrustedKey } from '../load/load-keys.js';
import { redactUrl, toUrl, type IndexLocation } from '../source/locations.js';
import { retryDelay, timerDelay } from './retry.js';
import type { ServiceMetrics } from './metrics.js';

/** One configured index as `/-/status` shows it. */
export interface IndexStatus {
  url: string;
  arch: string | undefined;
  repository: string;
  /** The repository URLs this one stands for (a mirror's upstream), so `pin`/`check --server` match images to it. */
  aliases: string[] | undefined;
  records: number | undefined;
  /** Records and provided versions skipped: not valid APK versions (never served). */
  skippedVersions: number | undefined;
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
  /** Not loaded yet and still worth waiting for: /readyz answers 503 while any index does. */
  holdsReadiness: boolean;
}

/** The part of a query that decides which indexes could change its answer. */
export interface IndexNeeds {
  readonly arches?: readonly string[] | undefined;
  readonly repositories?: readonly string[] | undefined;
}

interface Tracked {
  readonly location: IndexLocation;
  readonly repository: RepositorySettings;
  /** What is fetched for the repository, with which headers. */
  readonly source: RepositorySource;
  readonly shown: string;
  /** Metric labels: the arch is the one /-/status shows (a bare index's comes from its records once loaded). */
  labels: { index: string; arch: string; repository: string };
  /** The first load has been tried (it may have failed). */
  attempted: boolean;
  /** The last failure is one that a retry soon may fix (network, 5xx, 408, 429). */
  transient: boolean;
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
  private allLoaded = false;
  /** Called whenever an index's first load succeeds or fails, and on stop: waiting queries look again. */
  private changeWaiters: Array<() => void> = [];
  private readonly abort = new AbortController();
  private readonly log: FastifyBaseLogger;
  private readonly metrics: ServiceMetrics;
  private readonly retryBaseMs: number;
  /** The compressed bytes held by every download in flight until verified: one total (limits.downloadBudget). */
  private readonly budget: DownloadBudget;

  constructor(
    private readonly settings: ServiceSettings,
    options: StoreOptions,
  ) {
    this.log = options.log;
    this.metrics = options.metrics;
    this.retryBaseMs = options.retryBaseMs ?? RETRY_BASE_MS;
    this.budget = new DownloadBudget(settings.downloadBudgetBytes, (held) => this.metrics.downloadHeld.set(held));
    const env = options.env ?? process.env;
    this.tracked = settings.repositories.flatMap((repository, i) => {
      const source = repositorySource(repository, env, `repositories[${i}]`);
      return source.locations.map((location) => {
        const shown = redactUrl(location.url);
        return {
          location,
          repository,
          source,
          shown,
          labels: { index: shown, arch: location.arch ?? '', repository: location.repository },
          attempted: false,
          transient: false,
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
      });
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
    return this.stopped;
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

  /** Resolves true once ready, false when `timeoutMs` passes first or the store stops. */
  whenReady(timeoutMs: number): Promise<boolean> {
    return this.until(() => (this.isReady ? true : undefined), timeoutMs);
  }

  /**
   * Resolves true once every index that could change a query's answer has loaded; false when `timeoutMs` passes
   * first, the store stops, or each one still missing has failed for a reason a retry will not soon fix.
   */
  whenLoadedFor(needs: IndexNeeds, timeoutMs: number): Promise<boolean> {
    return this.until(() => {
      if (this.missingFor(needs) === 0) return true;
      return this.tracked.some((t) => !t.snapshot && couldAnswer(t, needs) && holdsReadiness(t)) ? undefined : false;
    }, timeoutMs);
  }

  /** Waits until `check` says true or false (undefined: not yet), looking again on every change. */
  private until(check: () => boolean | undefined, timeoutMs: number): Promise<boolean> {
    const first = this.stopped ? false : check();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve) => {
      const look = () => {
        const now = this.stopped ? false : check();
        if (now === undefined) return void this.changeWaiters.push(look);
        clearTimeout(timer);
        resolve(now);
      };
      const timer = setTimeout(() => {
        this.changeWaiters = this.changeWaiters.filter((w) => w !== look);
        resolve(false);
      }, timerDelay(timeoutMs));
      this.changeWaiters.push(look);
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
      const keys = await this.keysFor(t.source, this.keySignal()).catch((err: unknown) => {
        // An outage takes key URLs with it: the keys saved with the index, for locations still configured, stand in.
        const configured = new Set(t.repository.keys.map((k) => redactUrl(toUrl(k))));
        const kept = saved.keys.filter((k) => configured.has(k.origin));
        if (kept.length < configured.size) throw err;
        this.log.warn(
          { index: t.shown },
          `keys not loaded (${(err as Error)?.message ?? String(err)}); verifying the saved index with the keys saved beside it`,
        );
        return kept.map((k) => parseTrustedKey(k.name, k.pem, k.origin));
      });
      if (keys.length === 0) throw new Error('no trusted keys are configured to verify it with');
      const { snapshot } = await readIndexBody(Readable.from([saved.archive]), t.location, {
        keys,
        limits: this.settings.limits,
        allowForeignArch: t.repository.allowForeignArch,
      });
      if (t.snapshot || this.stopped) return;
      t.snapshot = snapshot;
      t.etag = saved.etag;
      t.lastModified = saved.lastModified;
      t.lastChange = Date.parse(saved.savedAt) || undefined;
      this.log.info(
        { index: t.shown, records: snapshot.records, verifiedBy: snapshot.verifiedBy, savedAt: saved.savedAt },
        'index restored from the state directory',
      );
      this.metrics.records.set(t.labels, snapshot.records);
      this.noteSkipped(t, snapshot);
      this.swap();
    } catch (err) {
      this.log.warn(
        { index: t.shown, path },
        `saved index ignored, not served: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }

  /** Key loads outside a refresh (restore, save) stop at shutdown and after refreshTimeout. */
  private keySignal(): AbortSignal {
    return AbortSignal.any([this.abort.signal, AbortSignal.timeout(timerDelay(this.settings.refreshTimeoutMs))]);
  }

  /** Keeps a verified index for the next start; a failure to write is a warning, never a failed refresh. */
  private async save(
    t: Tracked,
    archive: readonly Buffer[],
    etag: string | undefined,
    lastModified: string | undefined,
  ): Promise<void> {
    const stateDir = this.settings.stateDir;
    if (stateDir === undefined) return;
    try {
      const keys = (await this.keysFor(t.source, this.keySignal())).map((k) => ({
        origin: k.origin,
        name: k.name,
        pem: k.key.export({ type: 'spki', format: 'pem' }).toString(),
      }));
      await writeSavedIndex(stateDir, {
        repository: t.location.repository,
        url: t.shown,
        etag,
        lastModified,
        keys,
        archive,
      });
    } catch (err) {
      this.log.warn(
        { index: t.shown, stateDir },
        `could not keep the index in the state directory: ${(err as Error)?.message ?? String(err)}`,
      );
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
    this.changed();
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
      verifiedBy: t.snapshot?.verifiedBy,
      etag: t.etag,
      lastModified: t.lastModified,
      lastSuccess: iso(t.lastSuccess),
      lastChange: iso(t.lastChange),
      lastError: t.lastError,
      consecutiveFailures: t.failures,
      nextRefresh: iso(t.nextRefresh),
      holdsReadiness: holdsReadiness(t),
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
      // Keys too are read under the refresh's deadline and abort on shutdown: a key URL trickling bytes must not
      // hold the first load, POST /-/refresh or SIGTERM.
      const signal = AbortSignal.any([this.abort.signal, deadline]);
      const keys = await raceAbort(this.keysFor(t.source, signal), signal);
      const result = await loadRepositoryIndex(t.source, t.location, {
        keys,
        limits: this.settings.limits,
        timeoutMs: timerDelay(this.settings.requestTimeoutMs),
        signal,
        previous: t.snapshot ? { etag: t.etag, lastModified: t.lastModified } : undefined,
        budget: this.budget,
      });
      const now = Date.now();
      if (t.failures > 0) this.log.info({ index: t.shown, failures: t.failures }, 'index refresh recovered');
      t.lastSuccess = now;
      t.failures = 0;
      t.lastError = undefined;
      this.metrics.refreshes.inc({ ...t.labels, outcome: result.notModified ? 'not-modified' : 'changed' });
      if (!result.notModified) {
        if (t.snapshot) this.checkRegression(t, t.snapshot, result.snapshot);
        if (!t.snapshot && !t.location.arch) this.relabel(t, result.snapshot.arch);
        t.snapshot = result.snapshot;
        t.etag = result.etag;
        t.lastModified = result.lastModified;
        t.lastChange = now;
        if (result.archive) await this.save(t, result.archive, result.etag, result.lastModified);
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
      this.metrics.lastSuccess.set(t.labels, now / 1000);
    } catch (err) {
      if (this.stopped) return;
      const error = deadline?.aborted
        ? new IndexError(
            t.shown,
            'network',
            `the refresh did not finish within refreshTimeout (${formatDuration(this.settings.refreshTimeoutMs)})`,
            { cause: err },
          )
        : err instanceof IndexError
          ? err
          : // Anything else is a bug in this tool, not the upstream's doing: counted apart, its stack logged.
            new IndexError(t.shown, 'internal', (err as Error)?.message ?? String(err), { cause: err });
      if (error.reason === 'internal')
        this.log.error({ index: t.shown, err }, `index refresh failed on an internal error: ${error.message}`);
      t.failures++;
      t.transient = isTransient(error);
      t.lastError = { message: error.message, reason: error.reason, at: new Date().toISOString() };
      this.metrics.failures.inc({ ...t.labels, reason: error.reason });
      // Keys are fetched again after a key or signature failure: the repository may have rotated them.
      if (error.reason === 'key' || error.reason === 'signature') this.keys.delete(t.repository.name);
      delay = retryDelay(t.failures, interval, this.retryBaseMs, error.retryAfterMs);
      const serving = t.snapshot ? 'serving the last good data' : 'not loaded yet';
      this.log.warn(
        { index: t.shown, reason: error.reason, failures: t.failures, retryInMs: delay },
        `index refresh failed (${error.reason}), ${serving}: ${error.message}`,
      );
    } finally {
      this.metrics.refreshDuration.observe(t.labels, (performance.now() - started) / 1000);
      if (!this.stopped) this.settled(t);
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
    this.current = new VersionMap(snapshots, this.current.generation + 1);
    this.metrics.generation.set(this.current.generation);
    this.allLoaded = snapshots.length === this.tracked.length;
  }

  /** After every refresh: readiness and waiting queries are decided anew. */
  private settled(t: Tracked): void {
    t.attempted = true;
    this.isReady = !this.tracked.some(holdsReadiness);
    for (const x of this.tracked) this.metrics.holdsReadiness.set(x.labels, holdsReadiness(x) ? 1 : 0);
    this.changed();
  }

  private changed(): void {
    for (const waiter of this.changeWaiters.splice(0)) waiter();
  }

  /** A bare index's arch is known once its records say it: its metrics move to that label, as /-/status shows. */
  private relabel(t: Tracked, arch: string): void {
    this.metrics.holdsReadiness.remove(t.labels);
    t.labels = { ...t.labels, arch };
  }

  private keysFor(source: RepositorySource, signal: AbortSignal): Promise<TrustedKey[]> {
    let keys = this.keys.get(source.name);
    if (!keys) {
      keys = loadRepositoryKeys(source, { timeoutMs: timerDelay(this.settings.requestTimeoutMs), signal });
      keys.catch(() => this.keys.delete(source.name));
      this.keys.set(source.name, keys);
    }
    return keys;
  }
}

function archOf(t: Tracked): string | undefined {
  return t.snapshot?.arch ?? t.location.arch;
}

function holdsReadiness(t: Tracked): boolean {
  return !t.snapshot && (!t.attempted || t.transient);
}

/** Whether an index could hold part of the answer to a query with these filters. */
function couldAnswer(t: Tracked, needs: IndexNeeds): boolean {
  if (needs.repositories && !needs.repositories.includes(t.location.repository)) return false;
  const arch = archOf(t);
  return !needs.arches || arch === undefined || needs.arches.includes(arch);
}

/** Failures a retry soon may fix: the network, and an upstream that is overloaded or failing for now. */
function isTransient(error: IndexError): boolean {
  if (error.reason === 'network') return true;
  if (error.reason !== 'http-status' || error.httpStatus === undefined) return false;
  return error.httpStatus >= 500 || error.httpStatus === 408 || error.httpStatus === 429;
}

/** `promise`, or a rejection as soon as `signal` aborts (a shared key download may outlive one refresh). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = () => (signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (
        signal.removeEventListener('abort', onAbort),
        reject(e instanceof Error ? e : new Error(String(e)))
      ),
    );
  });
}
