import { parseArgs } from 'node:util';
import { ConfigError } from './errors.js';
import { readApkoSources } from './from-apko.js';
import { emptyLayer, splitList, type Scalar, type SettingsLayer } from './layer.js';

export const SERVE_OPTIONS = {
  config: { type: 'string' },
  index: { type: 'string', multiple: true },
  'apk-index-url': { type: 'string', multiple: true },
  arch: { type: 'string', multiple: true },
  key: { type: 'string', multiple: true },
  secdb: { type: 'string', multiple: true },
  'public-url': { type: 'string' },
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
  ['public-url', 'publicUrl'],
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
    const apko = readApkoSources(apkoFiles, cwd);
    urls.push(...apko.repositories);
    keys.push(...apko.keyring.filter((k) => !keys.includes(k)));
    if (!arches.length && apko.arches.length) layer.arches = { list: apko.arches, where: `--from-apko ${apkoFiles.join(' ')}: archs` };
  }
  const where = flags['apk-index-url'] && !flags.index ? '-apk-index-url' : apkoFiles.length && !flags.index ? '--from-apko' : '--index';
  if (urls.length) layer.urls = { list: [...new Set(urls)], where };
  if (arches.length) layer.arches = { list: arches, where: '--arch' };
  const secdb = splitList(flags.secdb);
  if (secdb.length) layer.secdb = { list: secdb, where: '--secdb' };
  if (keys.length) layer.keys = { list: keys, where: apkoFiles.length && !flags.key ? '--from-apko keyring' : '--key' };
  return { layer, config: flags.config, help: flags.help === true };
}
