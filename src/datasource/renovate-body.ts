import { isPrerelease } from '../index/version.js';
import type { Release } from '../index/version-map.js';

/** One release in Renovate's custom datasource schema; optional fields are absent, never null. */
export interface RenovateRelease {
  version: string;
  releaseTimestamp?: string;
  isStable?: false;
  sourceUrl?: string;
}

/** The body Renovate's custom datasource (format `json`) accepts. */
export interface RenovateBody {
  releases: RenovateRelease[];
  homepage?: string;
  tags?: { latest: string };
}

/** Builds the datasource answer from releases already in ascending apk order. */
export function toRenovateBody(releases: readonly Release[]): RenovateBody {
  const body: RenovateBody = { releases: releases.map(toRenovateRelease) };
  const newest = releases[releases.length - 1];
  const homepage = newest?.url ?? [...releases].reverse().find((r) => r.url)?.url;
  if (homepage) body.homepage = homepage;
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
