import { fixedIds, fixesBetween } from '../secdb/fixes.js';
import type { SecurityDatabase, SecurityFix } from '../secdb/parse.js';
import type { VersionMap } from '../index/version-map.js';
import { VersionSourceError } from '../errors.js';

/** The security fixes a move between two versions brings, wherever versions come from (indexes or a service). */
export interface FixSource {
  /** Whether any security database is behind this source: without one, "no fixes" means "not known". */
  readonly known: boolean;
  /** Fixes `to` brings over `from` for `name` (through its origin), on these arches. */
  fixes(name: string, from: string, to: string, arches: readonly string[]): Promise<SecurityFix[]>;
}

/** What `pin` and `check` report about one pin: the IDs a newer version fixes. */
export interface SecurityNote {
  name: string;
  from: string;
  to: string;
  fixes: SecurityFix[];
  /** Every ID once, in apk order of the version that fixed it. */
  ids: string[];
}

/** The fixes of a bump as a note, or undefined when it fixes nothing known. */
export async function securityNote(
  source: FixSource | undefined,
  name: string,
  from: string | undefined,
  to: string,
  arches: readonly string[],
): Promise<SecurityNote | undefined> {
  if (!source?.known || from === undefined) return undefined;
  const fixes = await source.fixes(name, from, to, arches);
  const ids = fixedIds(fixes);
  return ids.length ? { name, from, to, fixes, ids } : undefined;
}

/** "fixes CVE-1, CVE-2 and 3 more" for one-line output; --json carries every ID. */
export function describeIds(ids: readonly string[], shown = 6): string {
  if (ids.length <= shown) return ids.join(', ');
  return `${ids.slice(0, shown).join(', ')} and ${ids.length - shown} more`;
}

/** Over indexes and security databases read in this process. */
export class MapFixSource implements FixSource {
  constructor(
    private readonly map: VersionMap,
    private readonly databases: readonly SecurityDatabase[],
  ) {}

  get known(): boolean {
    return this.databases.length > 0;
  }

  async fixes(name: string, from: string, to: string, arches: readonly string[]): Promise<SecurityFix[]> {
    const release = this.map.releases(name, { arches })?.find((r) => r.version === to);
    return fixesBetween(this.databases, release?.origin ?? name, from, to);
  }
}

/** Over a running apk-indexer: `GET <server>/-/changes/<name>?from=&to=&arch=&format=json`. */
export class HttpFixSource implements FixSource {
  readonly known = true;

  constructor(
    private readonly server: string,
    private readonly options: { timeoutMs?: number; fetch?: typeof fetch } = {},
  ) {}

  async fixes(name: string, from: string, to: string, arches: readonly string[]): Promise<SecurityFix[]> {
    const base = this.server.endsWith('/') ? this.server : `${this.server}/`;
    const query = new URLSearchParams({ from, to, format: 'json' });
    if (arches.length) query.set('arch', arches.join(','));
    const url = `${new URL(`-/changes/${encodeURIComponent(name)}`, base).href}?${query.toString()}`;
    let response: Response;
    let text: string;
    try {
      response = await (this.options.fetch ?? fetch)(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      text = await response.text();
    } catch (err) {
      throw new VersionSourceError(url, `no answer from the server (${(err as Error).message})`, { cause: err });
    }
    // An older service (no changes route) or a version it does not hold: nothing known.
    if (response.status === 404 || response.status === 400) return [];
    if (!response.ok) throw new VersionSourceError(url, `HTTP ${response.status}`);
    try {
      const body = JSON.parse(text) as { fixes?: unknown };
      if (!Array.isArray(body.fixes)) return [];
      return (body.fixes as unknown[]).filter((f): f is SecurityFix => {
        const fix = f as { version?: unknown; ids?: unknown } | null;
        return (
          typeof fix?.version === 'string' &&
          Array.isArray(fix.ids) &&
          fix.ids.every((id: unknown) => typeof id === 'string')
        );
      });
    } catch {
      throw new VersionSourceError(url, 'not a changes answer (not JSON)');
    }
  }
}
