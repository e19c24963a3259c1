import { ConfigError } from './errors.js';
import { LIMIT_OPTIONS, REPOSITORY_OPTIONS, SERVICE_OPTIONS, type Option, type RepositoryOption } from './options.js';
import type { RepositorySettings } from './settings.js';

/** A checked value and where it was given (`config file a.yaml: listen.port`, `APK_INDEXER_PORT`, `--port`). */
export interface Given<T = unknown> {
  value: T;
  where: string;
}

export type ServiceKey = keyof typeof SERVICE_OPTIONS | keyof typeof LIMIT_OPTIONS;
export type RepositoryKey = keyof typeof REPOSITORY_OPTIONS;

/** A repository fully described in the configuration file, defaults filled in. */
export interface DescribedRepository {
  settings: RepositorySettings;
  where: string;
}

/**
 * What one source (file, environment, flags) says, every value already checked, so that a mistake in a lower
 * layer is reported even when a higher one overrides it.
 */
export interface SettingsLayer {
  /** `config file a.yaml`, `environment` or `flags`. */
  origin: string;
  values: Partial<Record<ServiceKey, Given>>;
  /** Fully described repositories (file). */
  repositories?: DescribedRepository[];
  /**
   * Repository options given as lists (environment, flags). `url` makes one repository per URL, replacing those of
   * the layers below; the others apply to those repositories, or without `url` override the repositories below.
   */
  beside: Partial<Record<RepositoryKey, Given>>;
}

export const emptyLayer = (origin: string): SettingsLayer => ({ origin, values: {}, beside: {} });

/** Service-wide options (SERVICE_OPTIONS, then LIMIT_OPTIONS), with the ServiceSettings field they fill. */
export const SERVICE_ENTRIES: ReadonlyArray<{ key: ServiceKey; option: Option<unknown>; group?: 'limits' }> = [
  ...Object.entries(SERVICE_OPTIONS).map(([key, option]) => ({ key: key as ServiceKey, option: option })),
  ...Object.entries(LIMIT_OPTIONS).map(([key, option]) => ({
    key: key as ServiceKey,
    option: option,
    group: 'limits' as const,
  })),
];

export const REPOSITORY_ENTRIES = Object.entries(REPOSITORY_OPTIONS) as ReadonlyArray<
  [RepositoryKey, RepositoryOption<unknown>]
>;

export { splitList } from '../core/list.js';

/** Checks a list given in the environment or flags: a URL list item by item, any other list as a whole. */
export function checkList(key: RepositoryKey, list: string[], where: string): Given {
  const option = REPOSITORY_OPTIONS[key] as RepositoryOption<unknown>;
  if (option.kind.list) return { value: option.kind.parse(list, where), where };
  if (key === 'url') return { value: list.map((item) => option.kind.parse(item, where)), where };
  // A single value given beside URLs (`--secdb`) goes to each of their repositories.
  if (list.length !== 1)
    throw new ConfigError(
      `${where}: takes one value, got ${list.length}; give each repository its own in the configuration file`,
    );
  return { value: option.kind.parse(list[0], where), where };
}
