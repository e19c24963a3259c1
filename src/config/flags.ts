import { nearest } from '../core/nearest.js';
import { ConfigError } from './errors.js';
import { DEFAULT_ARCHES, defaultRepositoryName, isBareIndex } from '../source/locations.js';
import { readApkoRepositories } from './from-apko.js';
import type { RepositorySettings } from './settings.js';
import {
  checkList,
  emptyLayer,
  REPOSITORY_ENTRIES,
  SERVICE_ENTRIES,
  splitList,
  type RepositoryKey,
  type ServiceKey,
  type SettingsLayer,
} from './layer.js';
import { COMMAND_FLAGS } from './options.js';

type Target =
  | { to: 'service'; key: ServiceKey }
  | { to: 'repository'; key: RepositoryKey }
  | { to: 'command'; key: keyof typeof COMMAND_FLAGS };

interface FlagSpec {
  /** The declared spelling errors name: `--port`, `-apk-index-url`. */
  spelling: string;
  target: Target;
  takesValue: boolean;
  list: boolean;
}

/** Every flag by its name without dashes; `-x` and `--x` are one flag, as in Go's flag package (hown3d's). */
const FLAGS = new Map<string, FlagSpec>();
const declare = (spellings: readonly string[] | undefined, target: Target, takesValue: boolean, list: boolean) => {
  for (const spelling of spellings ?? []) {
    const name = spelling.replace(/^--?/, '');
    if (!FLAGS.has(name)) FLAGS.set(name, { spelling, target, takesValue, list });
  }
};
for (const { key, option } of SERVICE_ENTRIES)
  declare(option.kind.secret ? [] : option.flags, { to: 'service', key }, true, option.kind.list === true);
for (const [key, option] of REPOSITORY_ENTRIES) declare(option.flags, { to: 'repository', key }, true, true);
for (const [key, flag] of Object.entries(COMMAND_FLAGS))
  declare(flag.flags, { to: 'command', key: key as keyof typeof COMMAND_FLAGS }, key !== 'help', key === 'fromApko');

const SEE_HELP = '(see apk-indexer serve --help)';

export interface ParsedFlags {
  layer: SettingsLayer;
  config: string | undefined;
  help: boolean;
}

/**
 * The flags' layer. `--name value`, `--name=value`, `-name value` and `-name=value` all work; list flags add up
 * when repeated. `--from-apko a.yaml b.yaml` takes every following file name up to the next flag.
 */
export function readFlags(argv: readonly string[], cwd: string): ParsedFlags {
  const scalars = new Map<ServiceKey, { value: string; where: string }>();
  const lists = new Map<RepositoryKey | ServiceKey, { list: string[]; where: string }>();
  const apkoFiles: string[] = [];
  let config: string | undefined;
  let help = false;
  let previous: FlagSpec | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^(--?)([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    if (!m || arg === '-' || arg === '--') {
      if (previous?.target.key !== 'fromApko')
        throw new ConfigError(`unexpected argument ${JSON.stringify(arg)} ${SEE_HELP}`);
      apkoFiles.push(arg);
      continue;
    }
    const [, dashes, name, inline] = m as unknown as [string, string, string, string | undefined];
    const spec = FLAGS.get(name);
    if (!spec)
      throw new ConfigError(`unknown flag ${arg.replace(/=[\s\S]*$/, '')}${suggestion(dashes, name)} ${SEE_HELP}`);
    previous = spec;
    if (!spec.takesValue) {
      if (spec.target.key === 'help') help = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // A value may start with a dash (`--first-load-timeout -1s`), but not be another flag.
      if (next === undefined || FLAGS.has(next.replace(/^--?/, '').replace(/=[\s\S]*$/, '')))
        throw new ConfigError(`${spec.spelling}: missing value ${SEE_HELP}`);
      value = next;
      i++;
    }
    const { target } = spec;
    if (target.to === 'command') {
      if (target.key === 'config') config = value;
      else apkoFiles.push(value);
    } else if (spec.list) {
      const entry = lists.get(target.key) ?? { list: [], where: spec.spelling };
      entry.list.push(...splitList(value));
      lists.set(target.key, entry);
    } else {
      scalars.set(target.key as ServiceKey, { value, where: spec.spelling });
    }
  }

  const layer = emptyLayer('flags');
  for (const [key, { value, where }] of scalars)
    layer.values[key] = { value: optionOf(key).kind.parse(value, where), where };
  const urls = lists.get('url');
  const keys = lists.get('keys');
  const arches = lists.get('arches');
  if (apkoFiles.length) {
    // Each apko repository with the keys and arches of the images naming it, never another image's; --key adds
    // to every one of them, --arch replaces their arches, --index URLs are read beside them.
    const fromApko = readApkoRepositories(apkoFiles, cwd);
    const given = (urls?.list ?? []).filter((u) => !fromApko.some((r) => r.url === u));
    const apkoArches = arches ? (checkList('arches', arches.list, arches.where).value as string[]) : undefined;
    layer.repositories = fromApko.map((r, i) => ({
      settings: {
        ...r,
        keys: [...new Set([...r.keys, ...(keys?.list ?? [])])],
        arches: apkoArches ?? (r.arches.length ? r.arches : [...DEFAULT_ARCHES]),
      },
      where: `--from-apko ${apkoFiles.join(' ')}: repository ${i + 1} (${r.url})`,
    }));
    // --index URLs beside --from-apko are added to the apko repositories, not replacing them.
    for (const settings of readGiven(given, keys?.list ?? [], apkoArches))
      layer.repositories.push({ settings, where: urls!.where });
    for (const key of ['url', 'keys', 'arches'] as const) lists.delete(key);
  }
  for (const [key, { list, where }] of lists) {
    if (!list.length) continue;
    const serviceEntry = SERVICE_ENTRIES.find((e) => e.key === key);
    if (serviceEntry) layer.values[key as ServiceKey] = { value: serviceEntry.option.kind.parse(list, where), where };
    else layer.beside[key as RepositoryKey] = checkList(key as RepositoryKey, list, where);
  }
  return { layer, config, help };
}

/** --index URLs given beside --from-apko, as repositories with the --key and --arch lists. */
function readGiven(
  urls: readonly string[],
  keys: readonly string[],
  arches: readonly string[] | undefined,
): RepositorySettings[] {
  return urls.map((url) => ({
    name: defaultRepositoryName(url),
    url,
    arches: isBareIndex(url) ? [] : [...(arches ?? DEFAULT_ARCHES)],
    keys: [...keys],
  }));
}

const optionOf = (key: ServiceKey) => SERVICE_ENTRIES.find((e) => e.key === key)!.option;

/** ` (did you mean --index?)` for a flag within a few typos of a known one. */
function suggestion(dashes: string, name: string): string {
  const best = nearest(name, FLAGS.keys(), Math.max(2, Math.floor(name.length / 3)));
  return best === undefined || best.length === 1 ? '' : ` (did you mean ${dashes}${best}?)`;
}
