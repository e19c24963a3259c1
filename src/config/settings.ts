import type { ReadLimits } from '../parse/limits.js';
import type { RepositoryAuth } from './kinds.js';
import { LIMIT_OPTIONS, SERVICE_OPTIONS, WOLFI, type RepositoryValues, type ServiceValues } from './options.js';

export type { RepositoryAuth };
export { WOLFI };

/** One configured repository, as declared in REPOSITORY_OPTIONS (./options.ts). */
export type RepositorySettings = RepositoryValues;

/** The validated service configuration (defaults < file < environment < flags), as declared in ./options.ts. */
export type ServiceSettings = ServiceValues & { limits: ReadLimits; repositories: RepositorySettings[] };

const defaults = (options: Record<string, { default: unknown }>): unknown =>
  Object.fromEntries(Object.entries(options).map(([k, o]) => [k, o.default]));

/** What `apk-indexer serve` uses without any configuration (also `npm start`), bar the repositories (Wolfi). */
export const DEFAULTS: Omit<ServiceSettings, 'repositories'> = {
  ...(defaults(SERVICE_OPTIONS) as ServiceValues),
  limits: defaults(LIMIT_OPTIONS) as ReadLimits,
};
