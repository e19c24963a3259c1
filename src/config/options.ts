/**
 * Every setting of `apk-indexer serve`, declared once: its file key, environment variable, flags, type, default,
 * limits and one line of doc. The file, environment and flag readers, `serve --help`, the types ServiceSettings and
 * RepositorySettings (inferred from these tables: no hand-written copy) and the tables in docs/configuration.md are
 * all made from these tables.
 *
 * Adding a setting is one entry here (plus its test), then `npm run docs:generate` to rewrite the docs table:
 * - a service-wide value: an entry in SERVICE_OPTIONS; it arrives as `settings.<entry name>`, typed by its kind;
 *   with `flags`, `serve` takes it as a flag too (SERVE_FLAGS below), and its --help and docs say so;
 * - a key of each `repositories[]` entry: an entry in REPOSITORY_OPTIONS; it arrives as `repository.<entry name>`.
 *   With `default` it is always set (the default may depend on the URL); without, it is optional. `env`/`flags`
 *   make it a list given beside URL lists, as `--arch` and `--key` are: it applies to those URLs' repositories, or,
 *   given without URLs, overrides it on every repository below.
 * Kinds (value types, their checks and error messages) are in ./kinds.ts; add one there for a new type of value.
 * A flag of another command is declared with that command (src/cli/commands/), not here.
 */
import { DEFAULT_DOWNLOAD_BUDGET, DEFAULT_LIMITS, type ReadLimits } from '../parse/limits.js';
import { DEFAULT_ARCHES, defaultRepositoryName, isBareIndex } from '../source/locations.js';
import * as kind from './kinds.js';
import type { Kind } from './kinds.js';
import { flag, type FlagSpec, type FlagTable } from '../core/flags.js';

export interface Option<T> {
  /** Dotted key in the YAML file (`listen.port`); none: not settable in the file. */
  file?: string;
  /** The environment variable; the APK_INDEXER_ prefix keeps GitLab CI's job variables and Renovate's own apart. */
  env?: string;
  /** Flags, canonical spelling first. Every long flag is also taken with one dash (`-port`), as Go's flag package does. */
  flags?: readonly string[];
  kind: Kind<T>;
  default: T;
  /** The default as docs and help show it, with what special values mean. */
  defaultText: string;
  /** One line: what the setting is. */
  doc: string;
}

const option = <T>(o: Option<T>): Option<T> => o;

/** A table of options, by the name its value lands under. */
export type OptionTable<V> = { readonly [K in keyof V]: Option<V[K]> };
/** The values a table of options gives. */
export type OptionValues<T> = { [K in keyof T]: T[K] extends Option<infer V> ? V : never };

/** Service-wide settings; each lands in ServiceSettings under its name. */
export const SERVICE_OPTIONS = {
  host: option({
    file: 'listen.host',
    env: 'APK_INDEXER_HOST',
    flags: ['--host'],
    kind: kind.word('a host name or address'),
    default: '0.0.0.0',
    defaultText: '`0.0.0.0`',
    doc: 'listen address',
  }),
  port: option({
    file: 'listen.port',
    env: 'APK_INDEXER_PORT',
    flags: ['--port'],
    kind: kind.port,
    default: 3000,
    defaultText: '`3000` (`0`: any free port)',
    doc: 'listen port',
  }),
  managementPort: option<number | undefined>({
    file: 'listen.managementPort',
    env: 'APK_INDEXER_MANAGEMENT_PORT',
    flags: ['--management-port'],
    kind: kind.port,
    default: undefined,
    defaultText: 'none: the probes, `/metrics` and `/-/status` answer on the listen port only',
    doc: 'a second port, on the same host, for `/livez`, `/readyz`, `/metrics` and `/-/status` only: client connections cannot starve it (they still answer on the listen port too)',
  }),
  // hown3d's -update-interval is a whole number of hours; a bare number keeps meaning hours everywhere.
  updateIntervalMs: option({
    file: 'updateInterval',
    env: 'APK_INDEXER_UPDATE_INTERVAL',
    flags: ['--update-interval', '-update-interval'],
    kind: kind.duration('h', 1000, '1s'),
    default: 4 * 3_600_000,
    defaultText: '`4h` (`1s` to `24d`; a bare number is hours)',
    doc: 'refresh interval',
  }),
  firstLoadTimeoutMs: option({
    file: 'firstLoadTimeout',
    env: 'APK_INDEXER_FIRST_LOAD_TIMEOUT',
    flags: ['--first-load-timeout'],
    kind: kind.duration('s', 0, '0s'),
    default: 30_000,
    defaultText: '`30s` (`0`: answer 503 at once)',
    doc: 'how long a query waits for the first load before 503',
  }),
  requestTimeoutMs: option({
    file: 'requestTimeout',
    kind: kind.duration('s', 1, '1ms'),
    default: 60_000,
    defaultText: '`60s`',
    doc: 'upstream timeout (response headers, and each piece of the body)',
  }),
  refreshTimeoutMs: option({
    file: 'refreshTimeout',
    kind: kind.duration('s', 1, '1ms'),
    default: 600_000,
    defaultText: '`10m`',
    doc: 'deadline for a whole refresh (download and read), so a trickling upstream cannot hold it',
  }),
  logLevel: option({
    file: 'logLevel',
    env: 'APK_INDEXER_LOG_LEVEL',
    flags: ['--log-level', '-log-level'],
    kind: kind.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { warning: 'warn' }),
    default: 'info',
    defaultText: '`info`',
    doc: 'log level',
  }),
  logFormat: option({
    file: 'logFormat',
    env: 'APK_INDEXER_LOG_OUTPUT',
    flags: ['--log-output', '-log-output'],
    kind: kind.oneOf(['text', 'json']),
    default: 'text',
    defaultText: '`text`',
    doc: 'log format',
  }),
  refreshToken: option({
    file: 'refreshToken',
    env: 'APK_INDEXER_REFRESH_TOKEN',
    kind: kind.token,
    default: undefined,
    defaultText: 'none: anyone may refresh',
    doc: 'token for `POST /-/refresh`',
  }),
  stateDir: option({
    file: 'stateDir',
    env: 'APK_INDEXER_STATE_DIR',
    flags: ['--state-dir'],
    kind: kind.directory,
    default: undefined,
    defaultText: 'none: nothing survives a restart (the image and the chart set `/var/lib/apk-indexer`)',
    doc: 'where the last verified index of each repository and arch is kept, served at once on start',
  }),
  refreshMinIntervalMs: option({
    file: 'refreshMinInterval',
    env: 'APK_INDEXER_REFRESH_MIN_INTERVAL',
    kind: kind.duration('s', 0, '0s'),
    default: 30_000,
    defaultText: '`30s` (`0`: no limit)',
    doc: 'without a refresh token: the least time between two forced refreshes; sooner ones get 429 with Retry-After',
  }),
  maxConnections: option({
    file: 'maxConnections',
    env: 'APK_INDEXER_MAX_CONNECTIONS',
    kind: kind.positiveInteger,
    default: 1024,
    defaultText: '`1024`',
    doc: 'client connections held at once; more are closed as they arrive',
  }),
  clientTimeoutMs: option({
    file: 'clientTimeout',
    env: 'APK_INDEXER_CLIENT_TIMEOUT',
    kind: kind.duration('s', 100, '100ms'),
    default: 30_000,
    defaultText: '`30s`',
    doc: 'a client must send its whole request within this (else 408), and a connection whose answer is not read for this long is closed',
  }),
  publicUrl: option({
    file: 'publicUrl',
    env: 'APK_INDEXER_PUBLIC_URL',
    flags: ['--public-url'],
    kind: kind.publicUrl,
    default: undefined,
    defaultText: 'none: answers carry no `changelogUrl`',
    doc: "the service's address as reviewers' browsers reach it; set, every datasource answer links to its changes page (`changelogUrl`)",
  }),
  anyArch: option({
    file: 'anyArch',
    env: 'APK_INDEXER_ANY_ARCH',
    kind: kind.boolean,
    default: false,
    defaultText:
      '`false`: a query without `?arch=` answers only versions present on every configured arch of the repository where the package exists at all; `true` answers versions from any arch',
    doc: 'answer any arch without `?arch=`',
  }),
  answerCacheBytes: option({
    file: 'answerCacheBytes',
    env: 'APK_INDEXER_ANSWER_CACHE_BYTES',
    kind: kind.positiveInteger,
    default: 64 * 1024 * 1024,
    defaultText: '`67108864` (64 MiB)',
    doc: 'memory for answers kept for repeated queries, least recently used out first (`apk_indexer_answer_cache_bytes`)',
  }),
  downloadBudgetBytes: option({
    file: 'limits.downloadBudget',
    kind: kind.positiveInteger,
    default: DEFAULT_DOWNLOAD_BUDGET,
    defaultText: '`134217728` (128 MiB)',
    doc: 'compressed bytes all index downloads in flight hold until verified; past it a download waits, or fails (`limit`) when waiting cannot help',
  }),
};

/** Bounds on reading one index; they land in ServiceSettings.limits. */
export const LIMIT_OPTIONS: { [K in keyof ReadLimits]: Option<number> } = {
  maxDecompressedBytes: option({
    file: 'limits.maxDecompressedBytes',
    kind: kind.positiveInteger,
    default: DEFAULT_LIMITS.maxDecompressedBytes,
    defaultText: '`268435456` (256 MiB)',
    doc: 'inflated bytes per index',
  }),
  maxEntries: option({
    file: 'limits.maxEntries',
    kind: kind.positiveInteger,
    default: DEFAULT_LIMITS.maxEntries,
    defaultText: '`1000000`',
    doc: 'records per index',
  }),
  maxLineBytes: option({
    file: 'limits.maxLineBytes',
    kind: kind.positiveInteger,
    default: DEFAULT_LIMITS.maxLineBytes,
    defaultText: '`1048576` (1 MiB)',
    doc: 'bytes per APKINDEX line',
  }),
  maxCompressedBytes: option({
    file: 'limits.maxCompressedBytes',
    kind: kind.positiveInteger,
    default: DEFAULT_LIMITS.maxCompressedBytes,
    defaultText: '`67108864` (64 MiB)',
    doc: 'compressed bytes per index (with keys, held until its signature is checked)',
  }),
  maxNames: option({
    file: 'limits.maxNames',
    kind: kind.positiveInteger,
    default: DEFAULT_LIMITS.maxNames,
    defaultText: '`250000`',
    doc: 'distinct package names per index, provided names included',
  }),
  maxProvidesPerRecord: option({
    file: 'limits.maxProvidesPerRecord',
    kind: kind.positiveInteger,
    default: DEFAULT_LIMITS.maxProvidesPerRecord,
    defaultText: '`1000`',
    doc: 'unprefixed `name=version` provides per record',
  }),
  maxProvides: option({
    file: 'limits.maxProvides',
    kind: kind.positiveInteger,
    default: DEFAULT_LIMITS.maxProvides,
    defaultText: '`1000000`',
    doc: 'unprefixed `name=version` provides per index',
  }),
};

export interface RepositoryOption<T> {
  /** The key in a `repositories[]` entry. */
  file: string;
  /** A list given beside the URL lists (see the top of this file). */
  env?: string;
  flags?: readonly string[];
  kind: Kind<T>;
  /** The value when none is given, from the repository URL; none: the key stays unset. */
  default?: (url: string) => T;
  defaultText: string;
  doc: string;
  /** Values given beside URLs or over the repositories below reach only repositories whose URL passes. */
  appliesTo?: (url: string) => boolean;
}

/** A table of repository options, by the name its value lands under. */
export type RepositoryOptionTable<V> = { readonly [K in keyof V]: RepositoryOption<V[K]> };

/** A repository option that is always set (it has a default, or is required). */
type Always<T> = RepositoryOption<T> & { default: (url: string) => T };
const always = <T>(o: Always<T>): Always<T> => o;
const optional = <T>(o: RepositoryOption<T> & { default?: never }): RepositoryOption<T> => o;

/** The repository every setting defaults to, and its own defaults when its URL is given without them. */
export const WOLFI = {
  name: 'wolfi',
  url: 'https://packages.wolfi.dev/os',
  arches: ['x86_64', 'aarch64'],
  keys: ['https://packages.wolfi.dev/os/wolfi-signing.rsa.pub'],
  secdb: 'https://packages.wolfi.dev/os/security.json',
  sourceUrl: 'https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml',
} as const;

/** Spelling a known repository's URL out gives what the default gives: its name, arches and keys. */
const known = (url: string) => (url.replace(/\/+$/, '') === WOLFI.url ? WOLFI : undefined);

/** Keys of each `repositories[]` entry; each lands in RepositorySettings under its name. */
export const REPOSITORY_OPTIONS = {
  // Given as a list (environment, flags), the URLs replace the repositories of the layers below, one per URL.
  url: always({
    file: 'url',
    env: 'APK_INDEXER_INDEX_URL',
    flags: ['--index', '-apk-index-url'],
    kind: kind.location,
    default: (url) => url,
    defaultText: 'Wolfi, `https://packages.wolfi.dev/os` (in the file: required for each entry)',
    doc: 'base URL (`<url>/<arch>/APKINDEX.tar.gz` per arch), or a bare APKINDEX.tar.gz URL, `file://` URL or path',
  }),
  aliases: optional({
    file: 'aliases',
    kind: kind.strings('URL'),
    defaultText: 'none',
    doc: 'repository URLs this one stands for (a mirror or local copy of them), as apko files name them: `pin`, `check` and `gen renovate` match images to it by `url` or `aliases`; shown in `/-/status`',
  }),
  name: always({
    file: 'name',
    kind: kind.repositoryName,
    default: (url) => known(url)?.name ?? defaultRepositoryName(url),
    defaultText: 'the URL (credentials as `***`); `wolfi` for Wolfi',
    doc: 'used by `?repository=`, `/-/status` and metrics; unique, no commas or spaces',
  }),
  arches: always({
    file: 'arches',
    env: 'APK_INDEXER_ARCHES',
    flags: ['--arch'],
    kind: kind.apkArches,
    default: (url) => (isBareIndex(url) ? [] : [...(known(url)?.arches ?? DEFAULT_ARCHES)]),
    defaultText: '`x86_64`; Wolfi: `x86_64,aarch64`',
    doc: 'APK arches read under a base URL (ignored for a bare index URL)',
    appliesTo: (url) => !isBareIndex(url),
  }),
  keys: always({
    file: 'keys',
    env: 'APK_INDEXER_KEYS',
    flags: ['--key'],
    kind: kind.keyLocations,
    default: (url) => [...(known(url)?.keys ?? [])],
    defaultText: "none (unverified, with a warning); Wolfi: Wolfi's key",
    doc: 'trusted public keys, paths or URLs; the file name is the key name',
  }),
  auth: optional({
    file: 'auth',
    kind: kind.auth,
    defaultText: 'none',
    doc: 'credentials from environment variables: `{bearerTokenEnv: VAR}` or `{usernameEnv: VAR, passwordEnv: VAR}`',
  }),
  // Given beside --index, one database goes to every repository of that list; give several in the file.
  secdb: always({
    file: 'secdb',
    flags: ['--secdb'],
    kind: kind.optionalLocation,
    default: (url) => known(url)?.secdb,
    defaultText: 'none; Wolfi: `https://packages.wolfi.dev/os/security.json`',
    doc: 'security database (Alpine secdb JSON) by URL or path: the fixes each version brings, on the changes pages and in `pin`/`check`',
  }),
  sourceUrl: always({
    file: 'sourceUrl',
    kind: kind.sourceTemplate,
    default: (url) => known(url)?.sourceUrl,
    defaultText: 'none; Wolfi: `https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml`',
    doc: "where a record's recipe is: a template with `{{commit}}`, `{{origin}}`, `{{name}}`, `{{version}}`",
  }),
  updateIntervalMs: optional({
    file: 'updateInterval',
    kind: kind.duration('h', 1000, '1s'),
    defaultText: 'the service-wide `updateInterval`',
    doc: "this repository's refresh interval",
  }),
  allowForeignArch: optional({
    file: 'allowForeignArch',
    kind: kind.boolean,
    defaultText:
      '`false`: a record whose `A:` is neither the arch of its URL nor `noarch` fails the refresh (reason `format`), the last good data is kept',
    doc: 'accept records of other arches in `<url>/<arch>/APKINDEX.tar.gz`',
  }),
};

/** `--config FILE`: the configuration file (also APK_INDEXER_CONFIG). Not a setting itself: it names where they are. */
export const CONFIG_FLAG = flag.one({
  names: ['--config'],
  value: 'FILE',
  env: 'APK_INDEXER_CONFIG',
  doc: 'the YAML configuration file',
  defaultText: 'none',
});

/** `--from-apko FILE...`: repositories from apko image files (./from-apko.ts). */
export const FROM_APKO_FLAG = flag.rest({
  names: ['--from-apko'],
  value: 'FILE...',
  doc: 'repositories, keyring and archs from apko image files (follows `include:`)',
});

/** What a flag of `serve` sets: a service-wide option, a repository option given as a list, or itself. */
export type ServeFlagTarget =
  | { to: 'service'; key: keyof ServiceValues }
  | { to: 'repository'; key: keyof RepositoryOptions }
  | { to: 'config' }
  | { to: 'fromApko' };

export interface ServeFlag {
  spec: FlagSpec<unknown>;
  target: ServeFlagTarget;
}

/**
 * `serve`'s flags, made from the tables above (each option's `flags`), by the name the parser gives their values:
 * its parser, --help and docs read this one table. Secrets never become flags (argv is visible to every user of the
 * machine).
 */
export const SERVE_FLAGS: ReadonlyMap<string, ServeFlag> = new Map<string, ServeFlag>([
  ['config', { spec: CONFIG_FLAG, target: { to: 'config' } }],
  ...keysOf(REPOSITORY_OPTIONS).flatMap((key) => {
    const o: RepositoryOption<unknown> = REPOSITORY_OPTIONS[key];
    if (!o.flags) return [];
    const spec = flag.list({
      names: o.flags,
      value: o.kind.placeholder,
      doc: `${o.doc}; repeatable or a,b`,
      ...(o.env && { env: o.env }),
      defaultText: o.defaultText,
    });
    return [[`repository.${key}`, { spec, target: { to: 'repository', key } }] satisfies [string, ServeFlag]];
  }),
  ['fromApko', { spec: FROM_APKO_FLAG, target: { to: 'fromApko' } }],
  ...keysOf(SERVICE_OPTIONS).flatMap((key) => {
    const o: Option<unknown> = SERVICE_OPTIONS[key];
    if (!o.flags || o.kind.secret) return [];
    const declared = {
      names: o.flags,
      value: o.kind.placeholder,
      doc: o.doc,
      defaultText: o.defaultText,
      ...(o.env && { env: o.env }),
    };
    const spec = o.kind.list ? flag.list(declared) : flag.one(declared);
    return [[`service.${key}`, { spec, target: { to: 'service', key } }] satisfies [string, ServeFlag]];
  }),
]);

/** SERVE_FLAGS as the parser reads them. */
export const SERVE_FLAG_TABLE: FlagTable<Record<string, unknown>> = Object.fromEntries(
  [...SERVE_FLAGS].map(([name, { spec }]) => [name, spec]),
);

/** An object's own keys, typed: for tables declared as literals here, whose keys are exactly those. */
export function keysOf<T extends object>(table: T): Array<Extract<keyof T, string>> {
  const keys: Array<Extract<keyof T, string>> = [];
  for (const key in table) if (Object.hasOwn(table, key)) keys.push(key);
  return keys;
}

export type ServiceValues = OptionValues<typeof SERVICE_OPTIONS>;
type RepositoryOptions = typeof REPOSITORY_OPTIONS;
type RepositoryValueOf<O> = O extends RepositoryOption<infer T> ? T : never;
/** Keys always set to a value: a default that may give undefined (secdb for a repository without one) keeps the key optional. */
type AlwaysKeys = {
  [K in keyof RepositoryOptions]: RepositoryOptions[K] extends Always<unknown>
    ? undefined extends RepositoryValueOf<RepositoryOptions[K]>
      ? never
      : K
    : never;
}[keyof RepositoryOptions];
/** Every repository option's value, as its kind gives it (for a value given beside URLs, or in the file). */
export type RepositoryOptionValues = { [K in keyof RepositoryOptions]: RepositoryValueOf<RepositoryOptions[K]> };
export type RepositoryValues = { [K in AlwaysKeys]: RepositoryOptionValues[K] } & {
  [K in Exclude<keyof RepositoryOptions, AlwaysKeys>]?: RepositoryOptionValues[K];
};
/** The keys of every repository that are always set: RepositoryValues' required keys. */
export const ALWAYS_SET: ReadonlyArray<keyof RepositoryOptions> = keysOf(REPOSITORY_OPTIONS).filter(
  (key) => REPOSITORY_OPTIONS[key].default !== undefined,
);
