/**
 * Loading a configured repository (see RepositorySource): its keys, indexes and security database, each fetched
 * with the headers the credential rule allows. `query`, the generators and the service all load through here.
 */
import { IndexError } from '../errors.js';
import type { ApkIndexSink } from '../decode/index-archive.js';
import type { TrustedKey } from '../decode/signature.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import type { RepositorySource } from '../config/repository-source.js';
import { redactUrl, toUrl, type IndexLocation } from '../source/locations.js';
import { loadIndex, type LoadOptions, type LoadResult } from './load-index.js';
import { loadTrustedKey } from './load-keys.js';
import { loadSecdb, type SecdbLoadOptions, type SecdbLoadResult } from './load-secdb.js';
import { DEFAULT_DOWNLOAD_BUDGET } from '../parse/limits.js';
import { DownloadBudget } from './download-budget.js';

export interface FetchOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A repository's trusted keys, each fetched with the headers the credential rule allows. `shared` lets the
 * repositories of one run share downloads (the same `--key` for several `--index`).
 */
export async function loadRepositoryKeys(
  source: RepositorySource,
  options: FetchOptions = {},
  shared?: Map<string, Promise<TrustedKey>>,
): Promise<TrustedKey[]> {
  return Promise.all(
    source.settings.keys.map((key) => {
      const headers = source.headersFor(key);
      const load = () => loadTrustedKey(key, { ...options, ...(headers && { headers }) });
      if (!shared) return load();
      const id = `${headers?.authorization ?? ''}\u0000${key}`;
      let loading = shared.get(id);
      if (!loading) shared.set(id, (loading = load()));
      return loading;
    }),
  );
}

/** One index of a repository, with its headers and its `allowForeignArch`; `previous` makes the request conditional. */
export function loadRepositoryIndex(
  source: RepositorySource,
  location: IndexLocation,
  options: Omit<LoadOptions, 'headers' | 'allowForeignArch' | 'dispatcher'>,
): Promise<LoadResult> {
  const headers = source.headersFor(location.url);
  return loadIndex(location, {
    ...options,
    ...(headers && { headers }),
    allowForeignArch: source.settings.allowForeignArch,
  });
}

/** A repository's security database (it must have one), with the headers the credential rule allows. */
export function loadRepositorySecdb(
  source: RepositorySource,
  options: Omit<SecdbLoadOptions, 'headers' | 'dispatcher'> = {},
): Promise<SecdbLoadResult> {
  const location = toUrl(source.settings.secdb!);
  const headers = source.headersFor(location);
  return loadSecdb(location, { ...options, ...(headers && { headers }) });
}

export interface LoadedIndex<S extends ApkIndexSink = ApkIndexSink> {
  source: RepositorySource;
  snapshot: IndexSnapshot;
  /** What `sink` made for this index, having read its APKINDEX text. */
  sink: S | undefined;
}

/**
 * Loads every repository's keys and indexes once, without conditional requests: what the one-shot commands read.
 * An index read without keys is read unverified and `warn`ed about (its URL redacted). Failures are IndexErrors.
 */
export async function loadRepositoriesOnce<S extends ApkIndexSink = ApkIndexSink>(
  sources: readonly RepositorySource[],
  options: {
    warn: (message: string) => void;
    /** A reader that also gets each index's APKINDEX text. */ sink?: () => S;
  },
): Promise<Array<LoadedIndex<S>>> {
  const keyDownloads = new Map<string, Promise<TrustedKey>>();
  const budget = new DownloadBudget(DEFAULT_DOWNLOAD_BUDGET);
  // Several indexes are read on worker threads, in parallel; one alone is read here, saving a thread's start.
  const offThread = sources.reduce((n, s) => n + s.locations.length, 0) > 1;
  const perRepository = await Promise.all(
    sources.map(async (source) => {
      const keys = await loadRepositoryKeys(source, {}, keyDownloads);
      return Promise.all(
        source.locations.map(async (location) => {
          const sink = options.sink?.();
          const result = await loadRepositoryIndex(source, location, {
            keys,
            budget,
            offThread,
            ...(sink && { also: sink }),
          });
          if (result.notModified)
            throw new IndexError(
              redactUrl(location.url),
              'http-status',
              'answered 304 Not Modified to a request that was not conditional',
            );
          if (keys.length === 0) options.warn(`${result.snapshot.url}: signature not verified (no key given)`);
          const { skippedVersions, firstSkipped } = result.snapshot;
          if (firstSkipped)
            options.warn(
              `${result.snapshot.url}: ${skippedVersions} records or provided versions skipped: not a valid APK version (the first: ${JSON.stringify(firstSkipped.name)} version ${JSON.stringify(firstSkipped.version)})`,
            );
          return { source, snapshot: result.snapshot, sink };
        }),
      );
    }),
  );
  return perRepository.flat();
}
