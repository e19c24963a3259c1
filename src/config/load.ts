import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { resolveLimits, type ReadLimits } from '../parse/limits.js';
import { isBareIndex } from '../source/locations.js';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { readApkoSources } from './from-apko.js';
import { DEFAULTS, LOG_LEVELS, WOLFI, type RepositoryAuth, type RepositorySettings, type ServiceSettings } from './settings.js';

/** One layer of settings before validation; `where` says where each value came from, for errors. */
interface Layer {
  values: Partial<Record<Scalar, string | number>>;
  where: Partial<Record<Scalar | 'repositories' | 'limits', string>>;
  repositories?: RepositorySettings[];
  /** Bare index URLs or base URLs given as a list (flags, environment); expanded with `arches` and `keys`. */
  indexUrls?: string[];
  arches?: string[];
  keys?: string[];
  limits?: Partial<ReadLimits>;
}

type Scalar = 'host' | 'port' | 'updateInterval' | 'firstLoadTimeout' | 'requestTimeout' | 'logLevel' | 'logFormat' | 'refreshToken';

const ENV: Record<string, Scalar | 'indexUrls' | 'arches' | 'keys'> = {
  APK_INDEXER_HOST: 'host',
  APK_INDEXER_PORT: 'port',
  APK_INDEXER_UPDATE_INTERVAL: 'updateInterval',
  APK_INDEXER_FIRST_LOAD_TIMEOUT: 'firstLoadTimeout',
  APK_INDEXER_LOG_LEVEL: 'logLevel',
  APK_INDEXER_LOG_OUTPUT: 'logFormat',
  APK_INDEXER_REFRESH_TOKEN: 'refreshToken',
  APK_INDEXER_INDEX_URL: 'indexUrls',
  APK_INDEXER_ARCHES: 'arches',
  APK_INDEXER_KEYS: 'keys',
};

/** hown3d/renovate-apk-indexer's Go-style single-dash flags, accepted unchanged. */
const GO_FLAGS = ['apk-index-url', 'update-interval', 'log-level', 'log-output'];

export const SERVE_OPTIONS = {
  config: { type: 'string' },
  index: { type: 'string', multiple: true },
  'apk-index-url': { type: 'string', multiple: true },
  arch: { type: 'string', multiple: true },
  key: { type: 'string', multiple: true },
  host: { type: 'string' },
  port: { type: 'string' },
  'update-interval': { type: 'string' },
  'first-load-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  'log-output': { type: 'string' },
  'from-apko': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `-apk-index-url=x` and `-apk-index-url x` become their `--` forms; everything else is left alone. */
export function normalizeGoFlags(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(arg);
    return m && GO_FLAGS.includes(m[1]!) ? `-${arg}` : arg;
  });
}

const list = (v: string | readonly string[] | undefined) =>
  (v === undefined ? [] : typeof v === 'string' ? [v] : v).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);

/** Builds the settings from file < environment < flags, validated once, with errors naming the culprit. */
export function loadSettings(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServiceSettings & { help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: normalizeGoFlags(argv), options: SERVE_OPTIONS, allowPositionals: false, strict: true });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const flags = parsed.values;
  const layers: Layer[] = [];
  const configPath = flags.config ?? env.APK_INDEXER_CONFIG;
  if (configPath) layers.push(fileLayer(configPath));
  layers.push(envLayer(env));
  const flagLayer: Layer = { values: {}, where: {} };
  const setFlag = (key: Scalar, flag: string, value: string | undefined) => {
    if (value === undefined) return;
    flagLayer.values[key] = value;
    flagLayer.where[key] = flag;
  };
  setFlag('host', '--host', flags.host);
  setFlag('port', '--port', flags.port);
  setFlag('updateInterval', '--update-interval', flags['update-interval']);
  setFlag('firstLoadTimeout', '--first-load-timeout', flags['first-load-timeout']);
  setFlag('logLevel', '--log-level', flags['log-level']);
  setFlag('logFormat', '--log-output', flags['log-output']);
  const urls = [...list(flags.index), ...list(flags['apk-index-url'])];
  if (urls.length) flagLayer.indexUrls = urls;
  if (flags.arch) flagLayer.arches = list(flags.arch);
  if (flags.key) flagLayer.keys = list(flags.key);
  if (flags['from-apko']?.length) {
    const apko = readApkoSources(flags['from-apko'], cwd);
    flagLayer.indexUrls = [...(flagLayer.indexUrls ?? []), ...apko.repositories];
    flagLayer.arches ??= apko.arches;
    flagLayer.keys = [...(flagLayer.keys ?? []), ...apko.keyring];
  }
  layers.push(flagLayer);
  return { ...merge(layers), help: flags.help === true };
}

function fileLayer(path: string): Layer {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${path}: expected a mapping at the top level`);
  const raw = doc as Record<string, unknown>;
  const known = ['listen', 'updateInterval', 'firstLoadTimeout', 'requestTimeout', 'logLevel', 'logFormat', 'refreshToken', 'limits', 'repositories'];
  for (const key of Object.keys(raw)) if (!known.includes(key)) throw new ConfigError(`config file ${path}: unknown key "${key}" (known: ${known.join(', ')})`);
  const layer: Layer = { values: {}, where: {} };
  const at = (key: string) => `config file ${path}: ${key}`;
  const listen = raw.listen as { host?: unknown; port?: unknown } | undefined;
  if (listen !== undefined) {
    if (typeof listen !== 'object' || listen === null) throw new ConfigError(`${at('listen')}: expected {host, port}`);
    if (listen.host !== undefined) Object.assign(layer.values, { host: String(listen.host) }), (layer.where.host = at('listen.host'));
    if (listen.port !== undefined) Object.assign(layer.values, { port: listen.port as number }), (layer.where.port = at('listen.port'));
  }
  for (const key of ['updateInterval', 'firstLoadTimeout', 'requestTimeout', 'logLevel', 'logFormat', 'refreshToken'] as const) {
    if (raw[key] !== undefined) {
      layer.values[key] = raw[key] as string | number;
      layer.where[key] = at(key);
    }
  }
  if (raw.limits !== undefined) {
    if (typeof raw.limits !== 'object' || raw.limits === null) throw new ConfigError(`${at('limits')}: expected a mapping`);
    layer.limits = {};
    for (const [k, v] of Object.entries(raw.limits)) {
      if (!['maxDecompressedBytes', 'maxEntries', 'maxLineBytes'].includes(k)) throw new ConfigError(`${at(`limits.${k}`)}: unknown limit`);
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ConfigError(`${at(`limits.${k}`)}: expected a positive whole number, got ${JSON.stringify(v)}`);
      layer.limits[k as keyof ReadLimits] = v;
    }
  }
  if (raw.repositories !== undefined) {
    if (!Array.isArray(raw.repositories) || raw.repositories.length === 0) throw new ConfigError(`${at('repositories')}: expected a non-empty list`);
    layer.repositories = raw.repositories.map((r, i) => repository(r, at(`repositories[${i}]`)));
    const names = layer.repositories.map((r) => r.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new ConfigError(`${at('repositories')}: two repositories are named "${dup}"`);
  }
  return layer;
}

function repository(raw: unknown, where: string): RepositorySettings {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError(`${where}: expected a mapping with url`);
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!['name', 'url', 'arches', 'keys', 'auth', 'updateInterval'].includes(key)) throw new ConfigError(`${where}: unknown key "${key}"`);
  }
  if (typeof r.url !== 'string' || r.url === '') throw new ConfigError(`${where}.url: required, a base URL or an APKINDEX.tar.gz URL`);
  const strings = (v: unknown, key: string) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`${where}.${key}: expected a list of strings`);
    return v as string[];
  };
  const out: RepositorySettings = {
    name: typeof r.name === 'string' && r.name ? r.name : r.url.replace(/\/+$/, ''),
    url: r.url,
    arches: strings(r.arches, 'arches') ?? (isBareIndex(r.url) ? [] : ['x86_64']),
    keys: strings(r.keys, 'keys') ?? [],
  };
  if (r.auth !== undefined) out.auth = auth(r.auth, `${where}.auth`);
  if (r.updateInterval !== undefined) out.updateIntervalMs = duration(r.updateInterval as string, `${where}.updateInterval`, 'ms');
  return out;
}

function auth(raw: unknown, where: string): RepositoryAuth {
  const a = raw as Record<string, unknown>;
  if (a && typeof a.bearerTokenEnv === 'string') return { bearerTokenEnv: a.bearerTokenEnv };
  if (a && typeof a.usernameEnv === 'string' && typeof a.passwordEnv === 'string') return { usernameEnv: a.usernameEnv, passwordEnv: a.passwordEnv };
  throw new ConfigError(`${where}: expected {bearerTokenEnv: VAR} or {usernameEnv: VAR, passwordEnv: VAR}`);
}

function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = { values: {}, where: {} };
  for (const [name, key] of Object.entries(ENV)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (key === 'indexUrls' || key === 'arches' || key === 'keys') layer[key] = list(value);
    else {
      layer.values[key] = value;
      layer.where[key] = name;
    }
  }
  return layer;
}

function duration(value: string | number, where: string, bare: 'ms' | 's' | 'h'): number {
  try {
    return parseDuration(value, bare);
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`);
  }
}

function merge(layers: Layer[]): ServiceSettings {
  const values: Layer['values'] = {};
  const where: Layer['where'] = {};
  let repositories: RepositorySettings[] | undefined;
  let limits: Partial<ReadLimits> = {};
  let arches: string[] | undefined;
  let keys: string[] | undefined;
  for (const layer of layers) {
    Object.assign(values, layer.values);
    Object.assign(where, layer.where);
    if (layer.limits) limits = { ...limits, ...layer.limits };
    if (layer.arches) arches = layer.arches;
    if (layer.keys) keys = layer.keys;
    if (layer.repositories) repositories = layer.repositories;
    if (layer.indexUrls?.length) {
      // A list of URLs (flag or environment) replaces the repositories of lower layers.
      const a = layer.arches ?? arches;
      const k = layer.keys ?? keys ?? [];
      repositories = layer.indexUrls.map((url) => ({ name: url.replace(/\/+$/, ''), url, arches: isBareIndex(url) ? [] : (a ?? ['x86_64']), keys: k }));
    }
  }
  const w = (key: Scalar) => where[key] ?? key;
  const port = Number(values.port ?? DEFAULTS.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${w('port')}: expected a port number 0-65535, got ${JSON.stringify(values.port)}`);
  const logLevel = String(values.logLevel ?? DEFAULTS.logLevel);
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError(`${w('logLevel')}: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const logFormat = String(values.logFormat ?? DEFAULTS.logFormat);
  if (logFormat !== 'text' && logFormat !== 'json') throw new ConfigError(`${w('logFormat')}: expected text or json, got ${JSON.stringify(logFormat)}`);
  const settings: ServiceSettings = {
    host: String(values.host ?? DEFAULTS.host),
    port,
    // hown3d's -update-interval is a whole number of hours; a bare number keeps meaning hours everywhere.
    updateIntervalMs: values.updateInterval === undefined ? DEFAULTS.updateIntervalMs : duration(values.updateInterval, w('updateInterval'), 'h'),
    firstLoadTimeoutMs: values.firstLoadTimeout === undefined ? DEFAULTS.firstLoadTimeoutMs : duration(values.firstLoadTimeout, w('firstLoadTimeout'), 's'),
    requestTimeoutMs: values.requestTimeout === undefined ? DEFAULTS.requestTimeoutMs : duration(values.requestTimeout, w('requestTimeout'), 's'),
    logLevel: logLevel as ServiceSettings['logLevel'],
    logFormat,
    refreshToken: values.refreshToken === undefined ? undefined : String(values.refreshToken),
    limits: resolveLimits(limits),
    repositories: repositories ?? [{ ...WOLFI, arches: arches ?? WOLFI.arches, keys: keys ?? WOLFI.keys }],
  };
  if (settings.updateIntervalMs < 1000) throw new ConfigError(`${w('updateInterval')}: must be at least 1s`);
  return settings;
}
