import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ReadLimits } from '../parse/limits.js';
import { DEFAULT_ARCHES, defaultRepositoryName, isBareIndex } from '../source/locations.js';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { emptyLayer, type Scalar, type SettingsLayer } from './layer.js';
import type { RepositoryAuth, RepositorySettings } from './settings.js';

const TOP_KEYS = ['listen', 'updateInterval', 'firstLoadTimeout', 'requestTimeout', 'refreshTimeout', 'logLevel', 'logFormat', 'refreshToken', 'limits', 'repositories'];
const REPOSITORY_KEYS = ['name', 'url', 'arches', 'keys', 'auth', 'updateInterval'];
const LIMIT_KEYS: ReadonlyArray<keyof ReadLimits> = ['maxDecompressedBytes', 'maxEntries', 'maxLineBytes', 'maxCompressedBytes', 'maxNames', 'maxProvidesPerRecord', 'maxProvides'];

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the YAML configuration file into a layer; shapes are checked here, values after merging. */
export function readConfigFile(path: string): SettingsLayer {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message}`);
  }
  const at = (key: string) => `config file ${path}: ${key}`;
  doc ??= {};
  if (!isMapping(doc)) throw new ConfigError(`config file ${path}: expected a mapping at the top level`);
  unknownKeys(doc, TOP_KEYS, at(''));
  const layer = emptyLayer(`config file ${path}`);
  const set = (key: Scalar, value: unknown, where: string) => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string' && typeof value !== 'number') throw new ConfigError(`${where}: expected a single value, got ${JSON.stringify(value)}`);
    layer.values[key] = value;
    layer.where[key] = where;
  };
  if (doc.listen !== undefined) {
    if (!isMapping(doc.listen)) throw new ConfigError(`${at('listen')}: expected {host, port}`);
    unknownKeys(doc.listen, ['host', 'port'], at('listen.'));
    set('host', doc.listen.host, at('listen.host'));
    set('port', doc.listen.port, at('listen.port'));
  }
  for (const key of ['updateInterval', 'firstLoadTimeout', 'requestTimeout', 'refreshTimeout', 'logLevel', 'logFormat', 'refreshToken'] as const) set(key, doc[key], at(key));
  if (doc.limits !== undefined) layer.limits = limits(doc.limits, at('limits'));
  if (doc.repositories !== undefined) {
    if (!Array.isArray(doc.repositories) || doc.repositories.length === 0) throw new ConfigError(`${at('repositories')}: expected a non-empty list`);
    layer.repositories = doc.repositories.map((r, i) => repository(r, at(`repositories[${i}]`)));
  }
  return layer;
}

function unknownKeys(map: Mapping, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(map)) {
    if (!known.includes(key)) throw new ConfigError(`${prefix}${key}: unknown key (known: ${known.join(', ')})`);
  }
}

function limits(raw: unknown, where: string): Partial<ReadLimits> {
  if (!isMapping(raw)) throw new ConfigError(`${where}: expected a mapping`);
  unknownKeys(raw, LIMIT_KEYS, `${where}.`);
  const out: Partial<ReadLimits> = {};
  for (const key of LIMIT_KEYS) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`${where}.${key}: expected a positive whole number, got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}

function repository(raw: unknown, where: string): RepositorySettings {
  if (!isMapping(raw)) throw new ConfigError(`${where}: expected a mapping with url`);
  unknownKeys(raw, REPOSITORY_KEYS, `${where}.`);
  if (typeof raw.url !== 'string' || raw.url.trim() === '') throw new ConfigError(`${where}.url: required, a base URL or an APKINDEX.tar.gz URL`);
  const url = raw.url.trim();
  if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name.trim() === '')) throw new ConfigError(`${where}.name: expected a non-empty string, got ${JSON.stringify(raw.name)}`);
  const out: RepositorySettings = {
    name: typeof raw.name === 'string' ? raw.name.trim() : defaultRepositoryName(url),
    url,
    arches: strings(raw.arches, `${where}.arches`) ?? (isBareIndex(url) ? [] : [...DEFAULT_ARCHES]),
    keys: strings(raw.keys, `${where}.keys`) ?? [],
  };
  if (raw.auth !== undefined) out.auth = auth(raw.auth, `${where}.auth`);
  if (raw.updateInterval !== undefined) {
    try {
      out.updateIntervalMs = parseDuration(raw.updateInterval as string | number, 'h');
    } catch (err) {
      throw new ConfigError(`${where}.updateInterval: ${(err as Error).message}`);
    }
  }
  return out;
}

function strings(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw new ConfigError(`${where}: expected a list of non-empty strings, got ${JSON.stringify(value)}`);
  }
  return value.map((v: string) => v.trim());
}

function auth(raw: unknown, where: string): RepositoryAuth {
  if (isMapping(raw)) {
    const keys = Object.keys(raw).sort().join(',');
    if (keys === 'bearerTokenEnv' && typeof raw.bearerTokenEnv === 'string' && raw.bearerTokenEnv) return { bearerTokenEnv: raw.bearerTokenEnv };
    if (keys === 'passwordEnv,usernameEnv' && typeof raw.usernameEnv === 'string' && raw.usernameEnv && typeof raw.passwordEnv === 'string' && raw.passwordEnv) {
      return { usernameEnv: raw.usernameEnv, passwordEnv: raw.passwordEnv };
    }
  }
  throw new ConfigError(`${where}: expected {bearerTokenEnv: VAR} or {usernameEnv: VAR, passwordEnv: VAR}, got ${JSON.stringify(raw)}`);
}
