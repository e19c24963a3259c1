import type { ReadLimits } from '../parse/limits.js';
import { ConfigError } from '../errors.js';
import {
  LIMIT_OPTIONS,
  REPOSITORY_OPTIONS,
  SERVICE_OPTIONS,
  keysOf,
  type Option,
  type OptionTable,
  type RepositoryOption,
  type RepositoryOptionTable,
  type RepositoryOptionValues,
  type RepositoryValues,
  type ServiceValues,
} from './options.js';

/** A checked value and where it was given (`config file a.yaml: listen.port`, `APK_INDEXER_PORT`, `--port`). */
export interface Given<T> {
  value: T;
  where: string;
}

/** The values one source gives for some options of a table. */
export type Givens<V> = { [K in keyof V]?: Given<V[K]> };

/** The tables, typed by the values they give: generic code over them keeps each option's own type. */
export const SERVICE_TABLE: OptionTable<ServiceValues> = SERVICE_OPTIONS;
export const LIMIT_TABLE: OptionTable<ReadLimits> = LIMIT_OPTIONS;
export const REPOSITORY_TABLE: RepositoryOptionTable<RepositoryOptionValues> = REPOSITORY_OPTIONS;

/** Repository options other than the URL: what is given beside a URL list. */
export type BesideValues = Omit<RepositoryOptionValues, 'url'>;

/** A repository fully described in the configuration file, defaults filled in. */
export interface DescribedRepository {
  settings: RepositoryValues;
  where: string;
}

/**
 * What one source (file, environment, flags) says, every value already checked, so that a mistake in a lower
 * layer is reported even when a higher one overrides it.
 */
export interface SettingsLayer {
  /** `config file a.yaml`, `environment` or `flags`. */
  origin: string;
  service: Givens<ServiceValues>;
  limits: Givens<ReadLimits>;
  /** Fully described repositories (file, --from-apko). */
  repositories?: DescribedRepository[];
  /** A URL list (environment, flags): one repository per URL, replacing those of the layers below. */
  urls?: Given<string[]>;
  /**
   * Repository options given as lists (environment, flags): they apply to the URLs' repositories, or without URLs
   * override the repositories below.
   */
  beside: Givens<BesideValues>;
}

export const emptyLayer = (origin: string): SettingsLayer => ({ origin, service: {}, limits: {}, beside: {} });

/** The options of a table that `read` finds a value for, each kept with where it was given. */
export function givens<V>(
  table: OptionTable<V>,
  read: <K extends keyof V>(option: Option<V[K]>, key: K) => Given<V[K]> | undefined,
): Givens<V> {
  const out: Givens<V> = {};
  for (const key in table) {
    const given = read(table[key], key);
    if (given) out[key] = given;
  }
  return out;
}

/** Each option's value: its default, then each layer's value in turn (a later layer wins). */
export function merged<V>(table: OptionTable<V>, layers: ReadonlyArray<Givens<V>>): V {
  const out: Partial<V> = {};
  for (const key in table) {
    let value = table[key].default;
    for (const layer of layers) {
      const given = layer[key];
      if (given) value = given.value;
    }
    out[key] = value;
  }
  if (!isWhole(table, out)) throw new Error('merged: an option without a value');
  return out;
}

function isWhole<V>(table: { readonly [K in keyof V]: unknown }, values: Partial<V>): values is V {
  for (const key in table) if (!(key in values)) return false;
  return true;
}

/**
 * The one rule for a repository's options: each given value where its option applies to the URL (arches only to
 * a base URL), else the option's default for that URL (Wolfi's URL gives Wolfi's name, arches, keys, secdb and
 * recipe links; any other its own name and x86_64). Used for the file's entries, URL lists, --from-apko and the
 * one-shot commands' --index alike.
 */
export function repositoryFor(url: string, given: Givens<BesideValues>): RepositoryValues {
  const out = fill(REPOSITORY_TABLE, url, { ...given, url: { value: url, where: '' } });
  if (!isRepository(out)) throw new Error('repositoryFor: a repository without its required options');
  return out;
}

function fill<V>(table: RepositoryOptionTable<V>, url: string, given: Givens<V>): Partial<V> {
  const out: Partial<V> = {};
  for (const key in table) {
    const option = table[key];
    const g = given[key];
    if (g && (!option.appliesTo || option.appliesTo(url))) out[key] = g.value;
    else if (option.default) {
      const value = option.default(url);
      if (value !== undefined) out[key] = value;
    }
  }
  return out;
}

/** Lists given without URLs override those of a repository below, where their option applies to its URL. */
export function withOverrides(settings: RepositoryValues, given: Givens<BesideValues>): RepositoryValues {
  const out = { ...settings, ...overrides(REPOSITORY_TABLE, settings.url, given) };
  if (!isRepository(out)) throw new Error('withOverrides: a repository without its required options');
  return out;
}

function overrides<V>(table: RepositoryOptionTable<V>, url: string, given: Givens<V>): Partial<V> {
  const out: Partial<V> = {};
  for (const key in table) {
    const g = given[key];
    const option = table[key];
    if (g && (!option.appliesTo || option.appliesTo(url))) out[key] = g.value;
  }
  return out;
}

/** Every always-set option of a repository has its value. */
function isRepository(values: Partial<RepositoryOptionValues>): values is RepositoryValues {
  return (
    typeof values.url === 'string' &&
    typeof values.name === 'string' &&
    Array.isArray(values.arches) &&
    Array.isArray(values.keys)
  );
}

/** Checks a list given beside URLs (environment, flags): a list option as a whole, any other as its one value. */
export function checkList<K extends keyof BesideValues>(key: K, list: string[], where: string): Given<BesideValues[K]> {
  const option: RepositoryOption<BesideValues[K]> = REPOSITORY_TABLE[key];
  if (option.kind.list) return { value: option.kind.parse(list, where), where };
  // A single value given beside URLs (`--secdb`) goes to each of their repositories.
  if (list.length !== 1)
    throw new ConfigError(
      `${where}: takes one value, got ${list.length}; give each repository its own in the configuration file`,
    );
  return { value: option.kind.parse(list[0], where), where };
}

/** A URL list given in the environment or flags, each URL checked. */
export function checkUrls(list: readonly string[], where: string): Given<string[]> {
  return { value: list.map((item) => REPOSITORY_TABLE.url.kind.parse(item, where)), where };
}

/** The repository options (but the URL) that `read` finds a value for: a `repositories[]` entry of the file. */
export function repositoryGivens(read: <T>(option: RepositoryOption<T>) => Given<T> | undefined): Givens<BesideValues> {
  const out: Givens<BesideValues> = {};
  for (const key of keysOf(REPOSITORY_OPTIONS).filter(isBeside)) readInto(out, key, read);
  return out;
}

function readInto<K extends keyof BesideValues>(
  out: Givens<BesideValues>,
  key: K,
  read: <T>(option: RepositoryOption<T>) => Given<T> | undefined,
): void {
  const given = read<BesideValues[K]>(REPOSITORY_TABLE[key]);
  if (given) setGiven(out, key, given);
}

/** The lists given beside URLs, each checked by its option: `find` says what was given for an option, and where. */
export function besideFrom(
  find: (option: RepositoryOption<unknown>, key: keyof BesideValues) => { list: string[]; where: string } | undefined,
): Givens<BesideValues> {
  const out: Givens<BesideValues> = {};
  for (const key of BESIDE_KEYS) {
    const given = find(REPOSITORY_TABLE[key], key);
    if (given?.list.length) setGiven(out, key, checkList(key, given.list, given.where));
  }
  return out;
}

/** Sets one option's value in a layer (generic over the table, so each key keeps its own value type). */
export function setGiven<V, K extends keyof V>(out: Givens<V>, key: K, given: Given<V[K]>): void {
  out[key] = given;
}

const isBeside = (key: keyof RepositoryOptionValues): key is keyof BesideValues => key !== 'url';

/** The repository options that can be given as lists beside URLs (`--arch`, `--key`, `--secdb`): those with env or flags. */
const BESIDE_KEYS = keysOf(REPOSITORY_OPTIONS)
  .filter(isBeside)
  .filter((key) => REPOSITORY_TABLE[key].env !== undefined || REPOSITORY_TABLE[key].flags !== undefined);
