import { resolveLimits, type ReadLimits } from '../parse/limits.js';
import { APK_ARCHES, DEFAULT_ARCHES, defaultRepositoryName, isBareIndex, toUrl } from '../source/locations.js';
import { authorizationHeader } from './auth.js';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from './duration.js';
import { ENV_CONFIG, readEnvironment } from './env.js';
import { ConfigError } from './errors.js';
import { readConfigFile } from './file.js';
import { readFlags } from './flags.js';
import { apkArch } from './from-apko.js';
import type { Scalar, SettingsLayer, SourcedList } from './layer.js';
import { DEFAULTS, LOG_LEVELS, WOLFI, type LogLevel, type RepositorySettings, type ServiceSettings } from './settings.js';

/**
 * The service settings from the configuration file (`--config` or APK_INDEXER_CONFIG), the environment and the
 * flags, later winning, validated once. Every mistake is a ConfigError naming the key, variable or flag and the
 * bad value.
 */
export function loadSettings(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServiceSettings {
  const flags = readFlags(argv, cwd);
  const configPath = flags.config ?? (env[ENV_CONFIG]?.trim() || undefined);
  const layers = [...(configPath ? [readConfigFile(configPath)] : []), readEnvironment(env), flags.layer];
  return validate(layers, env);
}

function validate(layers: SettingsLayer[], env: NodeJS.ProcessEnv): ServiceSettings {
  const values: SettingsLayer['values'] = {};
  const where: SettingsLayer['where'] = {};
  let limits: Partial<ReadLimits> = {};
  for (const layer of layers) {
    Object.assign(values, layer.values);
    Object.assign(where, layer.where);
    if (layer.limits) limits = { ...limits, ...layer.limits };
  }
  const w = (key: Scalar) => where[key] ?? key;
  const bad = (key: Scalar, expected: string) => new ConfigError(`${w(key)}: expected ${expected}, got ${JSON.stringify(values[key])}`);
  const duration = (key: Scalar, fallback: number, bareUnit: 'h' | 's', min: number, minText: string) => {
    const raw = values[key];
    if (raw === undefined) return fallback;
    let ms;
    try {
      ms = parseDuration(raw, bareUnit);
    } catch (err) {
      throw new ConfigError(`${w(key)}: ${(err as Error).message}`);
    }
    if (ms < min) throw bad(key, `at least ${minText}`);
    return ms;
  };

  const flag = (key: Scalar, fallback: boolean) => {
    const raw = values[key];
    if (raw === undefined) return fallback;
    const text = String(raw).trim().toLowerCase();
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    throw bad(key, 'true or false');
  };

  const host = String(values.host ?? DEFAULTS.host).trim();
  if (!host || /\s/.test(host)) throw bad('host', 'a host name or address');
  const portText = String(values.port ?? DEFAULTS.port).trim();
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw bad('port', 'a port number 0-65535');
  const logLevel = String(values.logLevel ?? DEFAULTS.logLevel).trim().toLowerCase().replace(/^warning$/, 'warn');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw bad('logLevel', `one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = String(values.logFormat ?? DEFAULTS.logFormat).trim().toLowerCase();
  if (logFormat !== 'text' && logFormat !== 'json') throw bad('logFormat', 'text or json');
  let refreshToken: string | undefined;
  if (values.refreshToken !== undefined) {
    refreshToken = String(values.refreshToken);
    if (!refreshToken.trim() || /\s/.test(refreshToken)) throw bad('refreshToken', 'a token without spaces');
  }
  return {
    host,
    port,
    // hown3d's -update-interval is a whole number of hours; a bare number keeps meaning hours everywhere.
    updateIntervalMs: duration('updateInterval', DEFAULTS.updateIntervalMs, 'h', 1000, '1s'),
    firstLoadTimeoutMs: duration('firstLoadTimeout', DEFAULTS.firstLoadTimeoutMs, 's', 0, '0s'),
    requestTimeoutMs: duration('requestTimeout', DEFAULTS.requestTimeoutMs, 's', 1, '1ms'),
    refreshTimeoutMs: duration('refreshTimeout', DEFAULTS.refreshTimeoutMs, 's', 1, '1ms'),
    logLevel: logLevel as LogLevel,
    logFormat,
    refreshToken,
    limits: resolveLimits(limits),
    anyArch: flag('anyArch', DEFAULTS.anyArch),
    repositories: repositories(layers, env),
  };
}

/**
 * A URL list (environment, flags) replaces the repositories of the layers below it; arches and keys given
 * without URLs override those of the repositories below (the file's, or the Wolfi default).
 */
function repositories(layers: SettingsLayer[], env: NodeJS.ProcessEnv): RepositorySettings[] {
  let repos: Array<RepositorySettings & { where: string }> | undefined;
  let arches: SourcedList | undefined;
  let keys: SourcedList | undefined;
  for (const layer of layers) {
    for (const arch of layer.arches?.list ?? []) checkArch(arch, layer.arches!.where);
    if (layer.repositories) repos = layer.repositories.map((r, i) => ({ ...r, where: `${layer.origin}: repositories[${i}]` }));
    if (layer.urls) {
      const a = layer.arches ?? arches;
      const k = layer.keys ?? keys;
      const where = layer.urls.where;
      repos = layer.urls.list.map((url) => ({ name: defaultRepositoryName(url), url, arches: isBareIndex(url) ? [] : [...(a?.list ?? DEFAULT_ARCHES)], keys: [...(k?.list ?? [])], where }));
    } else if (repos) {
      const a = layer.arches;
      const k = layer.keys;
      repos = repos.map((r) => ({ ...r, ...(a && !isBareIndex(r.url) && { arches: [...a.list] }), ...(k && { keys: [...k.list] }) }));
    }
    if (layer.arches) arches = layer.arches;
    if (layer.keys) keys = layer.keys;
  }
  repos ??= [{ ...WOLFI, arches: [...(arches?.list ?? WOLFI.arches)], keys: [...(keys?.list ?? WOLFI.keys)], where: 'default repository (wolfi)' }];

  const names = new Set<string>();
  return repos.map(({ where, ...repo }) => {
    if (names.has(repo.name)) throw new ConfigError(`${where}.name: two repositories are named ${JSON.stringify(repo.name)}`);
    names.add(repo.name);
    if (/[,\s]/.test(repo.name)) throw new ConfigError(`${where}.name: no commas or spaces (it is used in ?repository=a,b), got ${JSON.stringify(repo.name)}`);
    checkUrl(repo.url, `${where}.url`);
    for (const arch of repo.arches) checkArch(arch, `${where}.arches`);
    if (repo.auth) authorizationHeader(repo.auth, env, `${where}.auth`);
    if (repo.updateIntervalMs !== undefined && repo.updateIntervalMs < 1000) {
      throw new ConfigError(`${where}.updateInterval: expected at least 1s, got ${repo.updateIntervalMs}ms`);
    }
    // parseDuration refuses longer values already; kept here for settings built without it.
    if (repo.updateIntervalMs !== undefined && repo.updateIntervalMs > MAX_DURATION_MS) {
      throw new ConfigError(`${where}.updateInterval: expected at most ${MAX_DURATION_TEXT}, got ${repo.updateIntervalMs}ms`);
    }
    return repo;
  });
}

function checkUrl(url: string, where: string): void {
  // Anything with a scheme must be one we read; without one it is a path.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && !['http', 'https', 'file'].includes(scheme)) {
    throw new ConfigError(`${where}: expected an http(s) URL, file:// URL or path, got ${JSON.stringify(url)}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(toUrl(url));
  } catch {
    throw new ConfigError(`${where}: not a URL or path: ${JSON.stringify(url)}`);
  }
  if (!['http:', 'https:', 'file:'].includes(parsed.protocol)) throw new ConfigError(`${where}: expected an http(s) URL, file:// URL or path, got ${JSON.stringify(url)}`);
}

function checkArch(arch: string, where: string): void {
  if ((APK_ARCHES as readonly string[]).includes(arch)) return;
  const apk = apkArch(arch);
  if (apk && apk !== arch) throw new ConfigError(`${where}: ${JSON.stringify(arch)} is apko's name; repositories use the APK name ${JSON.stringify(apk)}`);
  if (!/^[a-z0-9_]+$/.test(arch)) throw new ConfigError(`${where}: not an arch name: ${JSON.stringify(arch)} (APK arches: ${APK_ARCHES.join(', ')})`);
}
