import { latestStable } from '../datasource/renovate-body.js';
import { compareVersions, isPrerelease } from '../index/version.js';
import type { VersionMap } from '../index/version-map.js';

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
}

/** Over a running apk-indexer: `GET <server>/<name>?arch=a,b` answers the Renovate datasource body, 404 unknown. */
export class HttpVersionSource implements VersionSource {
  readonly arches = undefined;
  private readonly cache = new Map<string, Promise<string[] | undefined>>();

  constructor(
    private readonly server: string,
    private readonly options: { timeoutMs?: number; fetch?: typeof fetch } = {},
  ) {}

  versions(name: string, arches: readonly string[]): Promise<string[] | undefined> {
    // As Renovate asks: `+` and `@` as they are (`/libstdc++`), the arch list with plain commas.
    const path = encodeURIComponent(name).replace(/%2B/g, '+').replace(/%40/g, '@');
    const base = this.server.endsWith('/') ? this.server : `${this.server}/`;
    const key = `${new URL(path, base).href}${arches.length > 0 ? `?arch=${arches.join(',')}` : ''}`;
    let answer = this.cache.get(key);
    if (!answer) {
      answer = this.fetchVersions(key);
      this.cache.set(key, answer);
    }
    return answer;
  }

  private async fetchVersions(url: string): Promise<string[] | undefined> {
    const fetchImpl = this.options.fetch ?? fetch;
    const response = await fetchImpl(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return parseDatasourceBody(await response.json(), url);
  }
}

/** Checks the one part of the body pins need; the server's order is not trusted, apk order is restored here. */
function parseDatasourceBody(body: unknown, url: string): string[] {
  const releases = (body as { releases?: unknown } | null)?.releases;
  if (!Array.isArray(releases)) throw new Error(`${url}: not a Renovate datasource body (no releases array)`);
  const versions = releases.map((r: unknown) => {
    const version = (r as { version?: unknown } | null)?.version;
    if (typeof version !== 'string' || version === '') throw new Error(`${url}: a release without a version string`);
    return version;
  });
  return [...new Set(versions)].sort(compareVersions);
}
