import { latestStable } from '../datasource/renovate-body.js';
import { compareVersions, isPrerelease } from '../index/version.js';
import type { DependencyIndex } from '../index/dependency-index.js';
import type { VersionMap } from '../index/version-map.js';
import { oneLine } from '../core/text.js';
import { networkReason, VersionSourceError } from '../errors.js';
import type { FixSource } from './security.js';

/** A repository this source holds indexes of, by the name it is asked with and every URL it stands for. */
export interface HeldRepository {
  name: string;
  /** Its base URL and aliases, as comparable URLs (`repositoryUrl`). */
  urls: string[];
  /** APK arches it has indexes for. */
  arches: string[];
}

/**
 * Where pins come from: indexes read in-process, or a running apk-indexer. Both answer the same questions, so
 * `pin`, `check` and `init` never know which one they talk to. Every question names the repositories it may be
 * answered from (an image's own, by their held names): an image is never judged from another image's repository.
 */
export interface VersionSource {
  /** The repositories this source holds. */
  readonly held: readonly HeldRepository[];
  /**
   * Versions of `name` present on every one of `arches` (APK names) in the named repositories (held names; all of
   * them when not given), ascending in apk order; undefined when none of those repositories knows the name at all.
   */
  versions(name: string, arches: readonly string[], repositories?: readonly string[]): Promise<string[] | undefined>;
  /**
   * What the service answers `GET /<name>` with these filters, as versions ascending in apk order: with no
   * arches, only versions on every arch holding the package (the service's default). Undefined for a 404.
   */
  answer(name: string, query: DatasourceFilters): Promise<string[] | undefined>;
  /** The dependency data of the named repositories on one arch; undefined when this source read none (a service). */
  dependencies(repositories: readonly string[], arch: string): DependencyIndex[] | undefined;
  /** Where the security fixes of a bump come from, when this source knows any. */
  readonly fixSource?: FixSource;
}

/** The filters of a datasource URL (`?arch=`, `?repository=`). */
export interface DatasourceFilters {
  arches?: readonly string[];
  repositories?: readonly string[];
}

export function dependencyKey(repository: string, arch: string): string {
  return `${repository}\u0000${arch}`;
}

/** The held repositories an image's repository (a comparable URL) is read from, by URL or alias. */
export function heldRepositories(source: VersionSource, url: string): HeldRepository[] {
  return source.held.filter((h) => h.urls.includes(url));
}

/**
 * The version to pin, from versions ascending in apk order: the newest stable one, unless the current pin is
 * itself a prerelease (whoever pinned `_rc9` wants `_rc10` and then the release). Only prereleases known: the
 * newest of them. Renovate decides the same way (`ignoreUnstable` unless the current value is unstable).
 */
export function choosePin(versions: readonly string[], current?: string): string | undefined {
  const newest = versions[versions.length - 1];
  if (newest === undefined) return undefined;
  if (current !== undefined && isPrerelease(current)) return newest;
  return latestStable(versions.map((version) => ({ version })))?.version ?? newest;
}

/** Over indexes loaded in this process. */
export class MapVersionSource implements VersionSource {
  constructor(
    private readonly map: VersionMap,
    readonly held: readonly HeldRepository[],
    private readonly dependencyData?: ReadonlyMap<string, DependencyIndex>,
  ) {}

  dependencies(repositories: readonly string[], arch: string): DependencyIndex[] | undefined {
    const data = this.dependencyData;
    if (!data) return undefined;
    return repositories.flatMap((r) => {
      const index = data.get(dependencyKey(r, arch));
      return index ? [index] : [];
    });
  }

  async versions(
    name: string,
    arches: readonly string[],
    repositories?: readonly string[],
  ): Promise<string[] | undefined> {
    return this.map.releases(name, { arches, ...(repositories && { repositories }) })?.map((r) => r.version);
  }

  async answer(name: string, query: DatasourceFilters): Promise<string[] | undefined> {
    const arches = query.arches?.length ? query.arches : undefined;
    const releases = this.map.releases(name, {
      ...(arches ? { arches } : { everyArchHolding: true }),
      ...(query.repositories?.length && { repositories: query.repositories }),
    });
    return releases?.length ? releases.map((r) => r.version) : undefined;
  }
}

/**
 * Over a running apk-indexer: `GET <server>/<name>?arch=a,b&repository=r` answers the Renovate datasource body.
 * Opening it waits (bounded) for `/readyz`, and reads `/-/status` for the repositories it holds and their URLs, so
 * each image is asked only about its own repositories. A URL whose `/readyz` answers 404 is not an apk-indexer.
 * The server answers 404 both for a name it does not know and for a known name with no version on every requested
 * arch; the second is asked again without `?arch=` (once per name), so a known name answers [] as the indexes do.
 */
export class HttpVersionSource implements VersionSource {
  private readonly cache = new Map<string, Promise<string[] | undefined>>();

  private constructor(
    private readonly server: string,
    readonly held: readonly HeldRepository[],
    private readonly options: HttpSourceOptions,
  ) {}

  static async open(server: string, options: HttpSourceOptions = {}): Promise<HttpVersionSource> {
    const probe = new HttpVersionSource(server, [], options);
    await probe.waitReady(options.waitMs ?? 120_000);
    const status = await probe.get(probe.at('-/status'));
    if (status.response.status === 404)
      throw new VersionSourceError(
        server,
        "not an apk-indexer: GET /-/status answered 404 (is the URL the service's root?)",
      );
    if (!status.response.ok) throw new VersionSourceError(probe.at('-/status'), `HTTP ${status.response.status}`);
    return new HttpVersionSource(server, heldFromStatus(status.text, probe.at('-/status')), options);
  }

  /** Polls `/readyz` until it answers 200; 503 ("still loading") is waited on for at most `waitMs`. */
  private async waitReady(waitMs: number): Promise<void> {
    const url = this.at('readyz');
    const deadline = Date.now() + waitMs;
    for (;;) {
      const { response, text } = await this.get(url);
      if (response.ok) return;
      if (response.status === 404)
        throw new VersionSourceError(
          this.server,
          "not an apk-indexer: GET /readyz answered 404 (is the URL the service's root?)",
        );
      if (response.status !== 503) throw new VersionSourceError(url, `HTTP ${response.status}${said(text)}`);
      if (Date.now() >= deadline) {
        throw new VersionSourceError(
          this.server,
          `still loading after ${Math.round(waitMs / 1000)} s (${text.trim().split('\n')[0]}); --wait DURATION waits longer`,
        );
      }
      await new Promise((r) =>
        setTimeout(r, Math.min(this.options.pollMs ?? 1000, Math.max(0, deadline - Date.now()))),
      );
    }
  }

  dependencies(): undefined {
    return undefined;
  }

  versions(
    name: string,
    arches: readonly string[],
    repositories: readonly string[] = [],
  ): Promise<string[] | undefined> {
    const key = this.url(name, arches, repositories);
    let answer = this.cache.get(key);
    if (!answer) {
      answer = this.fetchVersions(key).then(async (versions) => {
        if (versions !== undefined || arches.length === 0) return versions;
        return (await this.versions(name, [], repositories)) === undefined ? undefined : [];
      });
      this.cache.set(key, answer);
    }
    return answer;
  }

  answer(name: string, query: DatasourceFilters): Promise<string[] | undefined> {
    const params = [
      ...(query.arches?.length ? [`arch=${query.arches.join(',')}`] : []),
      ...(query.repositories?.length ? [`repository=${query.repositories.map(encodeURIComponent).join(',')}`] : []),
    ];
    const url = `${this.url(name, [], [])}${params.length > 0 ? `?${params.join('&')}` : ''}`;
    let answer = this.cache.get(`answer ${url}`);
    if (!answer) {
      // Any 404 is "no answer" to Renovate, whichever line it carries.
      answer = this.fetchVersions(url).then((versions) => (versions?.length ? versions : undefined));
      this.cache.set(`answer ${url}`, answer);
    }
    return answer;
  }

  private at(path: string): string {
    const base = this.server.endsWith('/') ? this.server : `${this.server}/`;
    try {
      return new URL(path, base).href;
    } catch {
      throw new VersionSourceError(this.server, 'not a URL (--server takes http://HOST:PORT)');
    }
  }

  /** As Renovate asks: `+` and `@` as they are (`/libstdc++`), the lists with plain commas. */
  private url(name: string, arches: readonly string[], repositories: readonly string[]): string {
    const path = encodeURIComponent(name).replace(/%2B/g, '+').replace(/%40/g, '@');
    const query = [
      ...(arches.length > 0 ? [`arch=${arches.join(',')}`] : []),
      ...(repositories.length > 0 ? [`repository=${repositories.map(encodeURIComponent).join(',')}`] : []),
    ];
    return `${this.at(path)}${query.length > 0 ? `?${query.join('&')}` : ''}`;
  }

  private async get(url: string): Promise<{ response: Response; text: string }> {
    const fetchImpl = this.options.fetch ?? fetch;
    try {
      const response = await fetchImpl(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      return { response, text: await response.text() };
    } catch (err) {
      throw new VersionSourceError(url, `no answer from the server (${networkReason(err)})`, { cause: err });
    }
  }

  private async fetchVersions(url: string): Promise<string[] | undefined> {
    const { response, text } = await this.get(url);
    // A known name with no version on every requested arch (or, without ?arch=, on every arch holding it) is a 404
    // too; its one line says which, so it reads as no versions rather than an unknown name.
    if (response.status === 404) return /^package ".*" has no version present on every /.test(text) ? [] : undefined;
    if (!response.ok) {
      throw new VersionSourceError(url, `HTTP ${response.status}${said(text)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new VersionSourceError(url, 'not a Renovate datasource body (not JSON)');
    }
    return parseDatasourceBody(body, url);
  }
}

export interface HttpSourceOptions {
  /** Per request. */
  timeoutMs?: number;
  /** How long to wait for a service still loading its indexes (`--wait`). */
  waitMs?: number;
  pollMs?: number;
  fetch?: typeof fetch;
}

/** What a server said with an error status, as `: <one line>` (nothing when it said nothing). */
function said(text: string): string {
  const line = oneLine(text, 200);
  return line ? `: ${line}` : '';
}

/**
 * The repositories `/-/status` lists: each index's repository name, its base URL (the index URL without
 * `/<arch>/APKINDEX.tar.gz`) and any `aliases` it reports, with the arches it has indexes for.
 */
function heldFromStatus(text: string, url: string): HeldRepository[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new VersionSourceError(url, 'not an apk-indexer status (not JSON)');
  }
  const indexes = (body as { indexes?: unknown } | null)?.indexes;
  if (!Array.isArray(indexes)) throw new VersionSourceError(url, 'not an apk-indexer status (no indexes list)');
  const held = new Map<string, HeldRepository>();
  for (const raw of indexes) {
    const index = raw as { url?: unknown; arch?: unknown; repository?: unknown; aliases?: unknown };
    if (typeof index.url !== 'string' || typeof index.repository !== 'string') continue;
    let entry = held.get(index.repository);
    if (!entry) {
      entry = { name: index.repository, urls: [], arches: [] };
      held.set(index.repository, entry);
    }
    const base = index.url.replace(/\/(?:[^/]+\/)?APKINDEX\.tar\.gz$/, '').replace(/\/+$/, '');
    const archFolder = /\/([^/]+)\/APKINDEX\.tar\.gz$/.exec(index.url)?.[1];
    const urls = [
      typeof index.arch === 'string' && archFolder === index.arch
        ? base
        : index.url.replace(/\/APKINDEX\.tar\.gz$/, ''),
      ...(Array.isArray(index.aliases) ? index.aliases.filter((a): a is string => typeof a === 'string') : []),
    ];
    for (const u of urls) if (!entry.urls.includes(u.replace(/\/+$/, ''))) entry.urls.push(u.replace(/\/+$/, ''));
    if (typeof index.arch === 'string' && !entry.arches.includes(index.arch)) entry.arches.push(index.arch);
  }
  return [...held.values()];
}

/** Checks the one part of the body pins need; the server's order is not trusted, apk order is restored here. */
function parseDatasourceBody(body: unknown, url: string): string[] {
  const releases = (body as { releases?: unknown } | null)?.releases;
  if (!Array.isArray(releases)) throw new VersionSourceError(url, 'not a Renovate datasource body (no releases array)');
  const versions = releases.map((r: unknown) => {
    const version = (r as { version?: unknown } | null)?.version;
    if (typeof version !== 'string' || version === '')
      throw new VersionSourceError(url, 'not a Renovate datasource body (a release without a version string)');
    return version;
  });
  return [...new Set(versions)].sort(compareVersions);
}
