import { escapeControl } from '../core/escape.js';
import { splitList } from '../core/list.js';
import type { Reason } from '../datasource/reasons.js';

/** Most distinct values one filter list may name: more arches or repositories than any deployment has. */
export const MAX_FILTER_VALUES = 32;

/** `?arch=` and `?repository=` as given: one value each (Fastify makes arrays of repeated ones), commas inside. */
export interface FilterQuery {
  arch?: string[] | undefined;
  repository?: string[] | undefined;
}

/** A query's filters, normalised: sorted, each value once, so that spellings of one query are one. */
export interface Filters {
  readonly arches: readonly string[] | undefined;
  readonly repositories: readonly string[] | undefined;
  /** The filters as part of a cache key. */
  readonly key: string;
}

/** A query the service cannot answer as asked: the asker's mistake, answered 400 with its reason code. */
export interface Rejection {
  readonly reason: Extract<Reason, 'unknown-arch' | 'unknown-repository' | 'too-many-values'>;
  readonly message: string;
}

export function isRejection(value: Filters | Rejection): value is Rejection {
  return 'reason' in value;
}

/**
 * `?arch=` and `?repository=` as filters. `x86_64,,x86_64`, `aarch64,x86_64` and a 16 KB list repeating one name
 * all ask the same, so they are one key. More than MAX_FILTER_VALUES distinct values is a rejection.
 */
export function readFilters(query: FilterQuery): Filters | Rejection {
  const arches = distinct(query.arch);
  const repositories = distinct(query.repository);
  for (const [name, values] of [
    ['arch', arches],
    ['repository', repositories],
  ] as const) {
    if (values.length > MAX_FILTER_VALUES)
      return {
        reason: 'too-many-values',
        message: `?${name}= names more than ${MAX_FILTER_VALUES} distinct values`,
      };
  }
  return {
    arches: arches.length ? arches : undefined,
    repositories: repositories.length ? repositories : undefined,
    key: `${arches.join(',')}\u0000${repositories.join(',')}`,
  };
}

function distinct(raw: string[] | undefined): string[] {
  return [...new Set(splitList(raw))].sort();
}

/** Names other tools use for APK arches (apko, Docker, Go); `?arch=` takes APK's. */
const OTHER_ARCH_NAMES = new Map<string, string>([
  ['amd64', 'x86_64'],
  ['arm64', 'aarch64'],
  ['386', 'x86'],
  ['i386', 'x86'],
  ['i686', 'x86'],
  ['arm/v7', 'armv7'],
  ['arm/v6', 'armhf'],
  ['arm', 'armv7'],
  ['loong64', 'loongarch64'],
  ['x64', 'x86_64'],
]);

/** What the service is configured with (for the current map): a query naming anything else is a mistake. */
export interface Configured {
  /** APK arches of every configured repository and of the loaded bare indexes, sorted. */
  readonly arches: readonly string[];
  readonly repositories: readonly string[];
}

/**
 * Why filters cannot be answered, or undefined when they can: an arch or repository the service is not configured
 * with. That is the asker's mistake (400), not a missing package (404), so Renovate reports it.
 */
export function outOfScope(filters: Filters, configured: Configured): Rejection | undefined {
  const { arches } = configured;
  for (const arch of filters.arches ?? []) {
    if (arches.includes(arch)) continue;
    const apk = OTHER_ARCH_NAMES.get(arch.toLowerCase());
    const shown = listed([arch]);
    return {
      reason: 'unknown-arch',
      message: apk
        ? `?arch=${shown}: ${shown} is apko's name; use ${apk}${arches.includes(apk) ? '' : ` (not configured here either; configured: ${arches.join(', ')})`}`
        : `?arch=${shown}: not a configured arch; use one of ${arches.join(', ')}`,
    };
  }
  for (const repository of filters.repositories ?? []) {
    if (configured.repositories.includes(repository)) continue;
    return {
      reason: 'unknown-repository',
      message: `?repository=${listed([repository])}: not a configured repository; use one of ${configured.repositories.join(', ')}`,
    };
  }
  return undefined;
}

/** Filter values echoed in one-line answers: a query can carry kilobytes of them, so the list is cut short. */
export function listed(values: readonly string[]): string {
  const text = values.join(',');
  return escapeControl(JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}...` : text).slice(1, -1));
}

/**
 * What queries may name, and how a query without `?arch=` reads (`anyArch`). The arches come from the
 * configuration and, for a bare index URL that names none, from its loaded records: worked out once per version
 * map (each refresh), not per request.
 */
export class QueryScope {
  private last: { map: { readonly arches: readonly string[] }; configured: Configured } | undefined;

  constructor(
    private readonly configuredArches: readonly string[],
    readonly repositories: readonly string[],
    readonly anyArch: boolean,
  ) {}

  configured(map: { readonly arches: readonly string[] }): Configured {
    if (this.last?.map !== map) {
      const arches = [...new Set([...this.configuredArches, ...map.arches])].sort();
      this.last = { map, configured: { arches, repositories: this.repositories } };
    }
    return this.last.configured;
  }
}
