import type { RepositorySettings } from '../config/settings.js';
import type { Reason } from '../datasource/reasons.js';
import type { VersionMap } from '../index/version-map.js';
import { compareVersions, isValidVersion } from '../index/version.js';
import { fixesBetween } from '../secdb/fixes.js';
import type { SecurityDatabase, SecurityFix } from '../secdb/parse.js';
import { compareLink, sourceLink } from './source-links.js';

/** One build (record) of a package on one arch. */
export interface Build {
  version: string;
  /** ISO time, when the record has one. */
  buildTime: string | undefined;
  origin: string;
  commit: string | undefined;
  repository: string;
  /** The recipe at that commit, when the repository's sourceUrl is known. */
  sourceUrl: string | undefined;
}

export interface ArchChanges {
  arch: string;
  /** Every build after `from` up to `to`, oldest first. */
  builds: Build[];
  /** The builds of `from` and `to` themselves on this arch, when present. */
  fromBuild: Build | undefined;
  toBuild: Build | undefined;
  compareUrl: string | undefined;
}

export interface Changes {
  name: string;
  from: string;
  to: string;
  arches: ArchChanges[];
  /** Fixes `to` brings over `from`, through the origin of `to`. */
  fixes: SecurityFix[];
  /** No security database is configured (or loaded) for the repositories involved. */
  secdb: 'loaded' | 'not-loaded' | 'none';
}

export type ChangesResult =
  | { ok: true; changes: Changes }
  | {
      ok: false;
      status: 400 | 404;
      reason: Extract<
        Reason,
        'missing-version' | 'bad-version' | 'versions-reversed' | 'unknown-package' | 'unknown-version'
      >;
      message: string;
      versions?: Array<{ arch: string; versions: string[] }>;
    };

export interface ChangesQuery {
  name: string;
  from: string;
  to: string;
  arches?: readonly string[];
  repositories?: readonly string[];
}

export interface ChangesContext {
  map: VersionMap;
  repositories: readonly RepositorySettings[];
  /** Last good security databases of the given repositories. */
  databases: (repositories: readonly string[]) => SecurityDatabase[];
  /** Whether any of them has one configured. */
  secdbConfigured: (repositories: readonly string[]) => boolean;
}

/** Versions of a name per arch (ascending apk order), over the selected repositories and arches. */
export function buildsByArch(
  map: VersionMap,
  name: string,
  arches?: readonly string[],
  repositories?: readonly string[],
  templates = new Map<string, string | undefined>(),
): Map<string, Build[]> {
  const out = new Map<string, Map<string, Build>>();
  for (const snapshot of map.snapshots) {
    if (repositories && !repositories.includes(snapshot.repository)) continue;
    if (arches && !arches.includes(snapshot.arch)) continue;
    const list = snapshot.packages.get(name);
    if (!list) continue;
    let byVersion = out.get(snapshot.arch);
    if (!byVersion) out.set(snapshot.arch, (byVersion = new Map<string, Build>()));
    for (const r of list) {
      if (byVersion.has(r.version)) continue;
      const origin = r.origin ?? name;
      byVersion.set(r.version, {
        version: r.version,
        buildTime: r.buildTime === undefined ? undefined : new Date(r.buildTime * 1000).toISOString(),
        origin,
        commit: r.commit,
        repository: snapshot.repository,
        sourceUrl: sourceLink(templates.get(snapshot.repository), {
          commit: r.commit,
          origin,
          name,
          version: r.version,
        }),
      });
    }
  }
  const sorted = new Map<string, Build[]>();
  for (const arch of [...out.keys()].sort())
    sorted.set(
      arch,
      [...out.get(arch)!.values()].sort((a, b) => compareVersions(a.version, b.version)),
    );
  return sorted;
}

/** What moving `name` from `from` to `to` brings: the builds between them per arch, and the security fixes. */
export function changesBetween(ctx: ChangesContext, q: ChangesQuery): ChangesResult {
  for (const [label, v] of [
    ['from', q.from],
    ['to', q.to],
  ] as const) {
    if (!v)
      return {
        ok: false,
        status: 400,
        reason: 'missing-version',
        message: `?${label}= is required: the version moved from and the version moved to`,
      };
    if (!isValidVersion(v))
      return {
        ok: false,
        status: 400,
        reason: 'bad-version',
        message: `?${label}=${JSON.stringify(v)} is not an apk version`,
      };
  }
  const templates = new Map(ctx.repositories.map((r) => [r.name, r.sourceUrl]));
  const byArch = buildsByArch(ctx.map, q.name, q.arches, q.repositories, templates);
  if (byArch.size === 0) {
    const where = q.repositories ? `repositories ${q.repositories.join(',')}` : 'any configured index';
    const arches = q.arches ? ` on arches ${q.arches.join(',')}` : '';
    return {
      ok: false,
      status: 404,
      reason: 'unknown-package',
      message: `package ${JSON.stringify(q.name)} is not in ${where}${arches}`,
    };
  }
  const versions = [...byArch].map(([arch, builds]) => ({ arch, versions: builds.map((b) => b.version) }));
  for (const v of [q.from, q.to]) {
    const missing = [...byArch].filter(([, builds]) => !builds.some((b) => b.version === v)).map(([arch]) => arch);
    if (missing.length === byArch.size)
      return {
        ok: false,
        status: 404,
        reason: 'unknown-version',
        message: `${q.name} ${v} is not in the index on ${missing.join(', ')}`,
        versions,
      };
  }
  if (compareVersions(q.from, q.to) > 0)
    return {
      ok: false,
      status: 400,
      reason: 'versions-reversed',
      message: `from ${q.from} is newer than to ${q.to}; swap them to see what the update brings`,
      versions,
    };

  const arches: ArchChanges[] = [];
  const involved = new Set<string>();
  let origin: string | undefined;
  for (const [arch, builds] of byArch) {
    const between = builds.filter(
      (b) => compareVersions(b.version, q.from) > 0 && compareVersions(b.version, q.to) <= 0,
    );
    const fromBuild = builds.find((b) => b.version === q.from);
    const toBuild = builds.find((b) => b.version === q.to);
    origin ??= toBuild?.origin;
    for (const b of [...between, ...(fromBuild ? [fromBuild] : [])]) involved.add(b.repository);
    const template = templates.get((toBuild ?? fromBuild)?.repository ?? '');
    arches.push({
      arch,
      builds: between,
      fromBuild,
      toBuild,
      compareUrl: compareLink(template, fromBuild?.commit, toBuild?.commit),
    });
  }
  const repos = [...involved];
  const databases = ctx.databases(repos);
  const secdb = databases.length ? 'loaded' : ctx.secdbConfigured(repos) ? 'not-loaded' : 'none';
  const fixes = fixesBetween(databases, origin ?? q.name, q.from, q.to);
  return { ok: true, changes: { name: q.name, from: q.from, to: q.to, arches, fixes, secdb } };
}
