import { isPrerelease } from '../index/version.js';
import type { Release } from '../index/version-map.js';

/** One release in Renovate's custom datasource schema; optional fields are absent, never null. */
export interface RenovateRelease {
  version: string;
  releaseTimestamp?: string;
  isStable?: false;
}

/** The body Renovate's custom datasource (format `json`) accepts. */
export interface RenovateBody {
  releases: RenovateRelease[];
  homepage?: string;
  changelogUrl?: string;
  tags?: { latest: string };
}

/**
 * JSON Schema of what Renovate's custom datasource accepts (renovatebot/renovate
 * lib/modules/datasource/custom/schema.ts: `ReleaseResultZod`), closed to other fields so that tests catch an
 * answer carrying anything Renovate does not read. Used on the route as documentation and in tests as the check.
 */
export const RENOVATE_BODY_SCHEMA = {
  type: 'object',
  required: ['releases'],
  additionalProperties: false,
  properties: {
    releases: {
      type: 'array',
      items: {
        type: 'object',
        required: ['version'],
        additionalProperties: false,
        properties: {
          version: { type: 'string', minLength: 1 },
          isDeprecated: { type: 'boolean' },
          releaseTimestamp: { type: 'string', format: 'date-time' },
          sourceUrl: { type: 'string' },
          sourceDirectory: { type: 'string' },
          changelogUrl: { type: 'string' },
          digest: { type: 'string' },
          isStable: { type: 'boolean' },
        },
      },
    },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    sourceUrl: { type: 'string' },
    sourceDirectory: { type: 'string' },
    changelogUrl: { type: 'string' },
    homepage: { type: 'string' },
  },
} as const;

/**
 * The changelogUrl template each answer carries when the service knows its public address. Renovate 44 keeps a
 * top-level `changelogUrl` (lib/modules/datasource/custom/schema.ts, then metadata.ts keeps it if it is an
 * http(s) URL) and renders it with Handlebars, unescaped, against each update when it writes the PR body
 * (lib/workers/repository/update/pr/body/index.ts: `compile(changelogUrl, upgrade, true)`), where `packageName`,
 * `currentVersion` and `newVersion` are allowed fields. The query's own filters are percent-encoded, so no `{{`
 * from a request reaches the template.
 */
export function changelogTemplate(
  publicUrl: string | undefined,
  filter: { arches?: readonly string[]; repositories?: readonly string[] },
): string | undefined {
  if (!publicUrl) return undefined;
  let url = `${publicUrl}/-/changes/{{packageName}}?from={{currentVersion}}&to={{newVersion}}`;
  if (filter.arches?.length) url += `&arch=${encodeURIComponent(filter.arches.join(','))}`;
  if (filter.repositories?.length) url += `&repository=${encodeURIComponent(filter.repositories.join(','))}`;
  return url;
}

/** Builds the datasource answer from releases already in ascending apk order. */
export function toRenovateBody(releases: readonly Release[], changelogUrl?: string): RenovateBody {
  const body: RenovateBody = { releases: releases.map(toRenovateRelease) };
  // The newest release that names one (an empty `U:` names none).
  const homepage = releases.findLast((r) => r.url)?.url;
  if (homepage) body.homepage = homepage;
  if (changelogUrl) body.changelogUrl = changelogUrl;
  const latest = latestStable(releases);
  if (latest) body.tags = { latest: latest.version };
  return body;
}

export function latestStable<T extends { version: string }>(releases: readonly T[]): T | undefined {
  for (let i = releases.length - 1; i >= 0; i--) {
    if (!isPrerelease(releases[i]!.version)) return releases[i];
  }
  return undefined;
}

function toRenovateRelease(r: Release): RenovateRelease {
  const out: RenovateRelease = { version: r.version };
  if (r.buildTime !== undefined) out.releaseTimestamp = new Date(r.buildTime * 1000).toISOString();
  if (isPrerelease(r.version)) out.isStable = false;
  return out;
}
