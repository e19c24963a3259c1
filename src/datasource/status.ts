import { z } from 'zod';

const Timestamp = z.iso.datetime();

/** One configured index as `/-/status` shows it. */
export const IndexStatusSchema = z.object({
  /** The index URL, credentials redacted. */
  url: z.string(),
  arch: z.string().optional(),
  repository: z.string(),
  /** The repository URLs this one stands for (a mirror's upstream), as configured. */
  aliases: z.array(z.string()).optional(),
  records: z.number().int().optional(),
  /** Records and provided versions of the last good read skipped: not valid APK versions (never served). */
  skippedVersions: z.number().int().optional(),
  description: z.string().optional(),
  /** Once loaded: `verified` (by the key `verifiedBy` names) or `unverified` (no key configured for it). */
  verification: z.enum(['verified', 'unverified']).optional(),
  verifiedBy: z.string().optional(),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  /** Last refresh that succeeded, changed or not. */
  lastSuccess: Timestamp.optional(),
  /** Last refresh that brought a new index. */
  lastChange: Timestamp.optional(),
  lastError: z.object({ message: z.string(), reason: z.string(), at: Timestamp }).optional(),
  consecutiveFailures: z.number().int(),
  nextRefresh: Timestamp.optional(),
  /** Not loaded yet and still worth waiting for: /readyz answers 503 while any index does. */
  holdsReadiness: z.boolean(),
});

/**
 * One configured repository: its name (what `?repository=` takes), the URLs apko files name it by (its base URL,
 * then its aliases, comparable as `repositoryUrl` writes them, credentials redacted) and the arches it has indexes
 * for. `pin`/`check --server` match an image's repositories to these.
 */
export const RepositoryStatusSchema = z.object({
  name: z.string(),
  urls: z.array(z.string()).min(1),
  arches: z.array(z.string()),
});

/** `GET /-/status` (and `POST /-/refresh`'s answer): the one contract of the service's state. */
export const StatusSchema = z.object({
  ready: z.boolean(),
  generation: z.number().int(),
  /** The indexes holding readiness back. */
  waitingFor: z.array(z.string()),
  repositories: z.array(RepositoryStatusSchema),
  indexes: z.array(IndexStatusSchema),
});

export type IndexStatus = z.infer<typeof IndexStatusSchema>;
export type RepositoryStatus = z.infer<typeof RepositoryStatusSchema>;
export type Status = z.infer<typeof StatusSchema>;

/** The same contract as JSON Schema: the status routes serialize with it. */
export const STATUS_JSON_SCHEMA = z.toJSONSchema(StatusSchema, { target: 'draft-7' });
