import { parseFlags, type ParsedArgs } from '../core/flags.js';
import { UsageError } from '../errors.js';
import { DEFAULT_ARCHES } from '../source/locations.js';
import { readApkoRepositories } from './from-apko.js';
import {
  besideFrom,
  checkUrls,
  emptyLayer,
  repositoryFor,
  SERVICE_TABLE,
  setGiven,
  type SettingsLayer,
} from './layer.js';
import { SERVE_FLAG_TABLE, SERVE_FLAGS, type ServiceValues } from './options.js';

export interface ParsedFlags {
  layer: SettingsLayer;
  config: string | undefined;
  help: boolean;
}

/**
 * `serve`'s flags as a settings layer, parsed by the one flag parser from SERVE_FLAGS (src/config/options.ts):
 * `--name value`, `--name=value`, `-name value`, `-name=value`; list flags add up when repeated; `--from-apko a.yaml
 * b.yaml` takes every following file name up to the next flag. A command-line mistake is a UsageError; a value a
 * setting cannot take is a ConfigError naming the flag, as the same value in the file or environment would be.
 */
export function readFlags(argv: readonly string[], cwd: string): ParsedFlags {
  return flagsLayer(parseFlags(argv, SERVE_FLAG_TABLE), cwd);
}

/** The flags' layer from `serve`'s parsed command line. */
export function flagsLayer(parsed: ParsedArgs<Record<string, unknown>>, cwd: string): ParsedFlags {
  const { values, positionals, given, help } = parsed;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  /** The flag as last written (`-apk-index-url`, `--index`), for each flag given. */
  const written = new Map(given.map((g) => [g.key, g.spelling] as const));
  const list = (name: string) => {
    const value = values[name];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  };
  const layer = emptyLayer('flags');
  let config: string | undefined;
  let fromApko: string[] = [];
  const repositoryLists = new Map<string, { list: string[]; where: string }>();
  for (const [name, { target }] of SERVE_FLAGS) {
    const where = written.get(name);
    if (where === undefined) continue;
    const value = values[name];
    if (target.to === 'config') config = typeof value === 'string' ? value : undefined;
    else if (target.to === 'fromApko') fromApko = list(name);
    else if (target.to === 'service') setService(layer, target.key, value, where);
    else repositoryLists.set(target.key, { list: list(name), where });
  }
  const urls = repositoryLists.get('url');
  const beside = besideFrom((_, key) => repositoryLists.get(key));
  if (fromApko.length > 0) {
    // Each apko repository with the keys and arches of the images naming it, never another image's; --key adds
    // to every one of them, --arch replaces their arches, --index URLs are read beside them.
    const apko = readApkoRepositories(fromApko, cwd);
    const keys = beside.keys?.value ?? [];
    const arches = beside.arches?.value;
    layer.repositories = apko.map((r, i) => ({
      settings: {
        ...r,
        keys: [...new Set([...r.keys, ...keys])],
        arches: arches ?? (r.arches.length ? r.arches : [...DEFAULT_ARCHES]),
      },
      where: `--from-apko ${fromApko.join(' ')}: repository ${i + 1} (${r.url})`,
    }));
    // --index URLs beside --from-apko are added to the apko repositories, not replacing them.
    for (const url of checkUrls(urls?.list ?? [], urls?.where ?? '--index').value) {
      if (apko.some((r) => r.url === url)) continue;
      layer.repositories.push({
        settings: repositoryFor(url, {
          ...(keys.length && { keys: { value: keys, where: '--key' } }),
          ...(arches && { arches: { value: arches, where: '--arch' } }),
        }),
        where: urls!.where,
      });
    }
    const { keys: _keys, arches: _arches, ...others } = beside;
    layer.beside = others;
  } else {
    if (urls && urls.list.length) layer.urls = checkUrls(urls.list, urls.where);
    layer.beside = beside;
  }
  return { layer, config, help };
}

/** A service-wide setting given as a flag, checked by its kind. */
function setService<K extends keyof ServiceValues>(layer: SettingsLayer, key: K, raw: unknown, where: string): void {
  setGiven(layer.service, key, { value: SERVICE_TABLE[key].kind.parse(raw, where), where });
}
