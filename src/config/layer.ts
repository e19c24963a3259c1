import type { ReadLimits } from '../parse/limits.js';
import type { RepositorySettings } from './settings.js';

/** Single-valued settings; raw until every layer is merged, then validated once. */
export type Scalar = 'host' | 'port' | 'updateInterval' | 'firstLoadTimeout' | 'requestTimeout' | 'refreshTimeout' | 'logLevel' | 'logFormat' | 'refreshToken' | 'anyArch';

/** A list setting and where it came from, for error messages. */
export interface SourcedList {
  list: string[];
  where: string;
}

/**
 * What one source (file, environment, flags) says. `where` names each value's origin
 * (`config file a.yaml: listen.port`, `APK_INDEXER_PORT`, `--port`) so errors can point at it.
 */
export interface SettingsLayer {
  /** `config file a.yaml`, `environment` or `flags`. */
  origin: string;
  values: Partial<Record<Scalar, string | number>>;
  where: Partial<Record<Scalar, string>>;
  /** Fully described repositories (file). */
  repositories?: RepositorySettings[];
  /** Base or bare index URLs given as a list (environment, flags); they replace lower layers' repositories. */
  urls?: SourcedList;
  /** Arches and keys for `urls`; without `urls` they override those of the repositories below. */
  arches?: SourcedList;
  keys?: SourcedList;
  limits?: Partial<ReadLimits>;
}

export const emptyLayer = (origin: string): SettingsLayer => ({ origin, values: {}, where: {} });

/** `a,b` and repeated values (flags, environment, query parameters) alike become one list; blanks are dropped. */
export function splitList(value: string | readonly string[] | undefined): string[] {
  const parts = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return parts.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}
