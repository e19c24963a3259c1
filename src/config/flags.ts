import { parseArgs } from 'node:util';
import { ConfigError } from './errors.js';
import { DEFAULT_ARCHES, defaultRepositoryName, isBareIndex } from '../source/locations.js';
import { readApkoRepositories } from './from-apko.js';
import { emptyLayer, splitList, type Scalar, type SettingsLayer } from './layer.js';

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

const SCALAR_FLAGS: ReadonlyArray<[keyof typeof SERVE_OPTIONS, Scalar]> = [
  ['host', 'host'],
  ['port', 'port'],
  ['update-interval', 'updateInterval'],
  ['first-load-timeout', 'firstLoadTimeout'],
  ['log-level', 'logLevel'],
  ['log-output', 'logFormat'],
];

/**
 * Go's flag package (hown3d/renovate-apk-indexer) takes `-name value` and `-name=value`; those become `--name`
 * for every long option here, so `-apk-index-url`, `-update-interval`, `-log-level` and `-log-output` work unchanged.
 */
export function normalizeGoFlags(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(arg);
    return m && m[1]! in SERVE_OPTIONS ? `-${arg}` : arg;
  });
}

export interface ParsedFlags {
  layer: SettingsLayer;
  config: string | undefined;
  help: boolean;
}

/** The flags' layer. `--from-apko a.yaml b.yaml` takes every following file name up to the next flag. */
export function readFlags(argv: readonly string[], cwd: string): ParsedFlags {
  let parsed;
  try {
    parsed = parseArgs({ args: normalizeGoFlags(argv), options: SERVE_OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split('. ')[0]} (see apk-indexer serve --help)`);
  }
  const flags = parsed.values;
  const apkoFiles = [...(flags['from-apko'] ?? [])];
  let previous: string | undefined;
  for (const token of parsed.tokens) {
    if (token.kind === 'option') previous = token.name;
    else if (token.kind === 'positional') {
      if (previous !== 'from-apko') throw new ConfigError(`unexpected argument ${JSON.stringify(token.value)} (see apk-indexer serve --help)`);
      apkoFiles.push(token.value);
    }
  }

  const layer = emptyLayer('flags');
  for (const [flag, key] of SCALAR_FLAGS) {
    const value = flags[flag];
    if (typeof value !== 'string') continue;
    layer.values[key] = value;
    layer.where[key] = `--${flag}`;
  }
  const urls = [...splitList(flags.index), ...splitList(flags['apk-index-url'])];
  const arches = splitList(flags.arch);
  const keys = splitList(flags.key);
  if (apkoFiles.length) {
    // Each apko repository with the keys and arches of the images naming it; --index, --key and --arch add to them.
    const fromApko = readApkoRepositories(apkoFiles, cwd).map((r) => ({
      ...r,
      keys: [...new Set([...r.keys, ...keys])],
      arches: arches.length ? [...arches] : r.arches.length ? r.arches : [...DEFAULT_ARCHES],
    }));
    const given = urls.map((url) => ({ name: defaultRepositoryName(url), url, arches: isBareIndex(url) ? [] : arches.length ? [...arches] : [...DEFAULT_ARCHES], keys: [...keys] }));
    layer.repositories = [...fromApko, ...given.filter((g) => !fromApko.some((r) => r.url === g.url))];
    return { layer, config: flags.config, help: flags.help === true };
  }
  const where = flags['apk-index-url'] && !flags.index ? '-apk-index-url' : '--index';
  if (urls.length) layer.urls = { list: [...new Set(urls)], where };
  if (arches.length) layer.arches = { list: arches, where: '--arch' };
  if (keys.length) layer.keys = { list: keys, where: '--key' };
  return { layer, config: flags.config, help: flags.help === true };
}
