import { releaseFilter, type DatasourceFilters } from '../datasource/filter.js';
import { REASON_HEADER, reasonOf } from '../datasource/reasons.js';
import { latestStable, RenovateBodySchema } from '../datasource/renovate-body.js';
import { StatusSchema, type RepositoryStatus } from '../datasource/status.js';
import { compareVersions, isPrerelease } from '../index/version.js';
import type { DependencyIndex } from '../index/dependency-index.js';
import type { VersionMap } from '../index/version-map.js';
import { oneLine } from '../core/text.js';
import { networkReason, VersionSourceError } from '../errors.js';
import type { FixSource } from './security.js';

/**
 * A repository this source holds indexes of, by the name it is asked with and every URL it stands for (its base
 * URL and aliases, as comparable URLs: `repositoryUrl`), with the APK arches it has indexes for. A service lists
 * them in `/-/status` (datasource/status.ts).
 */
export type HeldRepository = RepositoryStatus;

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

export type { DatasourceFilters };

export function dependencyKey(repository: string, arch: string): string {
  return `${repository}\u0000${arch}`;
}

/** The held repositories an image's repository (a comparable URL) is read from, by URL or alias. */
export function heldRepositories(source: VersionSource, url: string): HeldRepository[] {
  return source.held.filter((h) => h.urls.includes(url));
}

/**
 * The held repository an image's repository is read from on one arch: of those standing for its URL (two bare
 * indexes given with one --alias are its two arches), the one holding that arch; else the first.
 */
export function heldRepositoryOn(source: VersionSource, url: string, arch: string): HeldRepository | undefined {
  const matches = heldRepositories(source, url);
  return matches.find((h) => h.arches.includes(arch)) ?? matches[0];
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
    const releases = this.map.releases(name, releaseFilter(query));
    return releases?.length ? releases.map((r) => r.version) : undefined;
  }
}

/**
 * Over a running apk-indexer: `GET <server>/<name>?arch=a,b&repository=r` answers the Renovate datasource body.
 * Opening it waits (bounded) for `/readyz`, and reads `/-/status` for the repositories it holds and their URLs, so
 * each image is asked only about its own repositories. A URL whose `/readyz` answers 404 is not an apk-indexer.
 * Answers are read by the service's contract (datasource/): bodies by RenovateBodySchema, the status by
 * StatusSchema, and a 404 by its reason code: `no-common-version` is a known name with no version on every
 * requested arch (versions: []), anything else an unknown one.
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
      answer = this.fetchVersions(key);
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
    // too; its reason code says so, and it reads as no versions rather than an unknown name.
    if (response.status === 404)
      return reasonOf(response.headers.get(REASON_HEADER)) === 'no-common-version' ? [] : undefined;
    if (!response.ok) {
      throw new VersionSourceError(url, `HTTP ${response.status}${said(text)}`);
    }
    return parseDatasourceBody(text, url);
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

/** The repositories `/-/status` lists (StatusSchema): each with its name, URLs and arches. */
function heldFromStatus(text: string, url: string): HeldRepository[] {
  const status = StatusSchema.safeParse(parseJson(text));
  if (!status.success) throw new VersionSourceError(url, `not an apk-indexer status (${firstIssue(status.error)})`);
  return status.data.repositories;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The first thing a body got wrong, as `path: message`. */
function firstIssue(error: { issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  if (!issue) return 'not as expected';
  return issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message;
}

/** The versions of a datasource body (RenovateBodySchema); the server's order is not trusted, apk order is restored. */
function parseDatasourceBody(text: string, url: string): string[] {
  const body = RenovateBodySchema.safeParse(parseJson(text));
  if (!body.success) throw new VersionSourceError(url, `not a Renovate datasource body (${firstIssue(body.error)})`);
  return [...new Set(body.data.releases.map((r) => r.version))].sort(compareVersions);
}
