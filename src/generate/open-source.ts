import { repositoriesFromOptions, type IndexOption, type RepositorySource } from '../config/repository-source.js';
import { loadRepositoriesOnce, loadRepositorySecdb } from '../load/repositories.js';
import { DependencyIndex, DependencyIndexReader } from '../index/dependency-index.js';
import { VersionMap } from '../index/version-map.js';
import { loadSecdb } from '../load/load-secdb.js';
import type { SecurityDatabase } from '../secdb/parse.js';
import { UsageError } from '../errors.js';
import { HttpFixSource, MapFixSource } from './security.js';
import {
  dependencyKey,
  HttpVersionSource,
  MapVersionSource,
  type HeldRepository,
  type VersionSource,
} from './version-source.js';

/** The `--index`, `--alias`, `--key`, `--config`, `--server` and `--wait` options every pinning command takes. */
export interface SourceOptions {
  indexes: readonly IndexOption[];
  keys: readonly string[];
  config: string | undefined;
  server: string | undefined;
  /** How long to wait for a --server still loading. */
  waitMs?: number;
  /** Security databases for the fixes a bump brings (besides the configured repositories' own). */
  secdb?: readonly string[];
}

export function hasSource(options: SourceOptions): boolean {
  return options.indexes.length > 0 || options.config !== undefined || options.server !== undefined;
}

/**
 * Opens the versions to pin from. `arches` says, for a repository URL, which APK arches the images built from it
 * need (`undefined`: the repository is none of theirs, read for `fallbackArches`): a base URL given with `--index`
 * is read for exactly those. `--config` is read as the service reads it (`readConfigFile`): each repository with
 * its own arches (the service's default when it lists none), keys and `auth`. Configuration mistakes are
 * ConfigErrors, unreadable indexes IndexErrors.
 */
export async function openVersionSource(
  options: SourceOptions,
  arches: (urls: readonly string[]) => readonly string[],
  warn: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  withDependencies = false,
): Promise<VersionSource> {
  if (options.server !== undefined) {
    if (options.indexes.length > 0 || options.config !== undefined) {
      throw new UsageError('--server answers for its own indexes; do not combine it with --index or --config');
    }
    if (!/^https?:\/\/[^/\s]+/.test(options.server))
      throw new UsageError(`--server takes an http(s) URL, not ${options.server}`);
    if (options.secdb?.length)
      throw new UsageError('--server answers with its own security databases; do not combine it with --secdb');
    return Object.assign(await HttpVersionSource.open(options.server, { waitMs: options.waitMs }), {
      fixSource: new HttpFixSource(options.server),
    });
  }
  const databases: Array<{ location: string; source?: RepositorySource }> = (options.secdb ?? []).map((location) => ({
    location,
  }));
  const sources = repositoriesFromOptions(
    { indexes: options.indexes, keys: options.keys, config: options.config, arches },
    env,
  );
  for (const source of sources) if (source.settings.secdb) databases.push({ location: source.settings.secdb, source });
  if (sources.length === 0) throw new UsageError('pass --index SRC, --config FILE or --server URL');
  const loaded = await loadRepositoriesOnce(sources, {
    warn,
    ...(withDependencies && { sink: () => new DependencyIndexReader() }),
  });
  const held: HeldRepository[] = sources.map((s) => ({
    name: s.name,
    urls: [...s.urls],
    arches: [...new Set(s.locations.flatMap((l) => (l.arch ? [l.arch] : [])))],
  }));
  const dependencies = withDependencies ? new Map<string, DependencyIndex>() : undefined;
  for (const { source, snapshot, sink } of loaded) {
    // A bare index's arch is known once read.
    const h = held[sources.indexOf(source)]!;
    if (!h.arches.includes(snapshot.arch)) h.arches.push(snapshot.arch);
    const index = sink?.index;
    if (index) dependencies!.set(dependencyKey(snapshot.repository, snapshot.arch), index);
  }
  const map = new VersionMap(loaded.map((l) => l.snapshot));
  return Object.assign(new MapVersionSource(map, held, dependencies), {
    fixSource: new MapFixSource(map, await loadDatabases(databases, warn)),
  });
}

/** Security databases are extras: one that cannot be read is a warning, and its fixes are not reported. */
async function loadDatabases(
  list: ReadonlyArray<{ location: string; source?: RepositorySource }>,
  warn: (message: string) => void,
): Promise<SecurityDatabase[]> {
  const loaded = await Promise.all(
    list.map(async ({ location, source }) => {
      try {
        const result = await (source ? loadRepositorySecdb(source) : loadSecdb(location));
        return result.notModified ? [] : [result.database];
      } catch (err) {
        warn(`${(err as Error).message}; security fixes from it are not reported`);
        return [];
      }
    }),
  );
  return loaded.flat();
}
