import { latestStable } from '../datasource/renovate-body.js';
import { compareVersions, isPrerelease } from '../index/version.js';
import type { VersionMap } from '../index/version-map.js';
import { VersionSourceError } from './errors.js';
import type { FixSource } from './security.js';

/**
 * Where pins come from: indexes read in-process, or a running apk-indexer. Both answer the same question, so
 * `pin`, `check` and `init` never know which one they talk to.
 */
export interface VersionSource {
  /** The APK arches this source has indexes for; undefined when it cannot tell (a remote service). */
  readonly arches: readonly string[] | undefined;
  /**
   * Versions of `name` present on every one of `arches` (APK names), ascending in apk order;
   * undefined when the source does not know the name at all.
   */
  versions(name: string, arches: readonly string[]): Promise<string[] | undefined>;
  /**
   * What the service answers `GET /<name>` with these filters, as versions ascending in apk order: with no
   * arches, only versions on every arch holding the package (the service's default). Undefined for a 404.
   */
  answer(name: string, query: DatasourceFilters): Promise<string[] | undefined>;
  /** Where the security fixes of a bump come from, when this source knows any. */
  readonly fixSource?: FixSource;
}

/** The filters of a datasource URL (`?arch=`, `?repository=`). */
export interface DatasourceFilters {
  arches?: readonly string[];
  repositories?: readonly string[];
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
  constructor(private readonly map: VersionMap) {}

  get arches(): readonly string[] {
    return this.map.arches;
  }

  async versions(name: string, arches: readonly string[]): Promise<string[] | undefined> {
    return this.map.releases(name, { arches })?.map((r) => r.version);
  }

  async answer(name: string, query: DatasourceFilters): Promise<string[] | undefined> {
    const arches = query.arches?.length ? query.arches : undefined;
    const releases = this.map.releases(name, { ...(arches ? { arches } : { everyArchHolding: true }), ...(query.repositories?.length && { repositories: query.repositories }) });
    return releases?.length ? releases.map((r) => r.version) : undefined;
  }
}

/**
 * Over a running apk-indexer: `GET <server>/<name>?arch=a,b` answers the Renovate datasource body. The server
 * answers 404 both for a name it does not know and for a known name with no version on every requested arch; its
 * line tells them apart, and an older server's 404 is asked again without `?arch=` (once per name), so a known
 * name answers [] as the indexes do.
 */
export class HttpVersionSource implements VersionSource {
  readonly arches = undefined;
  private readonly cache = new Map<string, Promise<string[] | undefined>>();

  constructor(
    private readonly server: string,
    private readonly options: { timeoutMs?: number; fetch?: typeof fetch } = {},
  ) {}

  versions(name: string, arches: readonly string[]): Promise<string[] | undefined> {
    const key = this.url(name, arches);
    let answer = this.cache.get(key);
    if (!answer) {
      answer = this.fetchVersions(key).then(async (versions) => {
        if (versions !== undefined || arches.length === 0) return versions;
        return (await this.versions(name, [])) === undefined ? undefined : [];
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
    const url = `${this.url(name, [])}${params.length > 0 ? `?${params.join('&')}` : ''}`;
    let answer = this.cache.get(`answer ${url}`);
    if (!answer) {
      // Any 404 is "no answer" to Renovate, whichever line it carries.
      answer = this.fetchVersions(url).then((versions) => (versions?.length ? versions : undefined));
      this.cache.set(`answer ${url}`, answer);
    }
    return answer;
  }

  /** As Renovate asks: `+` and `@` as they are (`/libstdc++`), the arch list with plain commas. */
  private url(name: string, arches: readonly string[]): string {
    const path = encodeURIComponent(name).replace(/%2B/g, '+').replace(/%40/g, '@');
    const base = this.server.endsWith('/') ? this.server : `${this.server}/`;
    let url: string;
    try {
      url = new URL(path, base).href;
    } catch {
      throw new VersionSourceError(this.server, 'not a URL (--server takes http://HOST:PORT)');
    }
    return `${url}${arches.length > 0 ? `?arch=${arches.join(',')}` : ''}`;
  }

  private async fetchVersions(url: string): Promise<string[] | undefined> {
    const fetchImpl = this.options.fetch ?? fetch;
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      text = await response.text();
    } catch (err) {
      throw new VersionSourceError(url, `no answer from the server (${reason(err)})`, { cause: err });
    }
    // A known name with no version on every requested arch (or, without ?arch=, on every arch holding it) is a 404
    // too; its one line says which, so it reads as no versions rather than an unknown name.
    if (response.status === 404) return /^package ".*" has no version present on every /.test(text) ? [] : undefined;
    if (!response.ok) {
      const said = text.trim().split('\n')[0]?.slice(0, 200);
      throw new VersionSourceError(url, `HTTP ${response.status}${said ? `: ${said}` : ''}`);
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

/** Why a fetch failed, as the innermost cause says it (`ECONNREFUSED`, a timeout). */
function reason(err: unknown): string {
  let e = err as { cause?: unknown; code?: unknown; message?: unknown; name?: unknown } | undefined;
  while (e?.cause && typeof e.cause === 'object') e = e.cause;
  if (e?.name === 'TimeoutError') return 'timed out';
  return typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message : String(err);
}

/** Checks the one part of the body pins need; the server's order is not trusted, apk order is restored here. */
function parseDatasourceBody(body: unknown, url: string): string[] {
  const releases = (body as { releases?: unknown } | null)?.releases;
  if (!Array.isArray(releases)) throw new VersionSourceError(url, 'not a Renovate datasource body (no releases array)');
  const versions = releases.map((r: unknown) => {
    const version = (r as { version?: unknown } | null)?.version;
    if (typeof version !== 'string' || version === '') throw new VersionSourceError(url, 'not a Renovate datasource body (a release without a version string)');
    return version;
  });
  return [...new Set(versions)].sort(compareVersions);
}
