import { z } from 'zod';
import { httpUrl } from '../core/links.js';
import { isPrerelease } from '../index/version.js';
import type { Release } from '../index/version-map.js';

/**
 * What Renovate's custom datasource (format `json`) reads, after renovatebot/renovate
 * lib/modules/datasource/custom/schema.ts (`ReleaseResultZod`), as the one contract of `GET /<name>`: the service
 * builds its answers to it, `pin`/`check --server` parse answers with it, and the tests check answers against it.
 * Closed to other fields (an answer carries nothing Renovate does not read), and tighter than Renovate where the
 * service promises more: versions are never empty, times are ISO instants, links are http(s) URLs.
 */
/** A link as the service lets one leave it (httpUrl): http(s) only. */
const HttpUrl = z.string().refine((v) => httpUrl(v) === v, 'not an http(s) URL');

const RenovateReleaseSchema = z.strictObject({
  version: z.string().min(1),
  isDeprecated: z.boolean().optional(),
  releaseTimestamp: z.iso.datetime().optional(),
  sourceUrl: HttpUrl.optional(),
  sourceDirectory: z.string().optional(),
  changelogUrl: z.string().optional(),
  digest: z.string().optional(),
  isStable: z.boolean().optional(),
});

export const RenovateBodySchema = z.strictObject({
  releases: z.array(RenovateReleaseSchema),
  tags: z.record(z.string(), z.string()).optional(),
  sourceUrl: HttpUrl.optional(),
  sourceDirectory: z.string().optional(),
  /** A Handlebars template Renovate renders per update (see changelogTemplate), so `{{` is allowed in it. */
  changelogUrl: z.string().optional(),
  homepage: HttpUrl.optional(),
});

export type RenovateBody = z.infer<typeof RenovateBodySchema>;
export type RenovateRelease = z.infer<typeof RenovateReleaseSchema>;

/** The same contract as JSON Schema, for the routes' documentation (`schema.response`). */
export const RENOVATE_BODY_JSON_SCHEMA = z.toJSONSchema(RenovateBodySchema, { target: 'draft-7' });

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
  // The newest release that names one (an empty `U:` names none); only an http(s) URL leaves the service.
  const homepage = releases.findLast((r) => httpUrl(r.url))?.url;
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
