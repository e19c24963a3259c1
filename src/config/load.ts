import { authorizationHeader } from './auth.js';
import { ENV_CONFIG, readEnvironment } from './env.js';
import { ConfigError } from './errors.js';
import { readConfigFile } from './file.js';
import { readFlags } from './flags.js';
import { repositoryName } from './kinds.js';
import {
  REPOSITORY_ENTRIES,
  SERVICE_ENTRIES,
  type DescribedRepository,
  type Given,
  type SettingsLayer,
} from './layer.js';
import { WOLFI } from './options.js';
import type { RepositorySettings, ServiceSettings } from './settings.js';

/**
 * The service settings from the configuration file (`--config` or APK_INDEXER_CONFIG), the environment and the
 * flags, later winning. Every value is checked where it is read, so every mistake is a ConfigError naming the key,
 * variable or flag and the bad value, also one a higher layer overrides.
 */
export function loadSettings(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ServiceSettings {
  const flags = readFlags(argv, cwd);
  const configPath = flags.config ?? (env[ENV_CONFIG]?.trim() || undefined);
  const layers = [...(configPath ? [readConfigFile(configPath)] : []), readEnvironment(env), flags.layer];
  return mergeLayers(layers, env);
}

export function mergeLayers(layers: readonly SettingsLayer[], env: NodeJS.ProcessEnv): ServiceSettings {
  const settings: Record<string, unknown> = { limits: {} };
  for (const { key, option, group } of SERVICE_ENTRIES) {
    let value = option.default;
    for (const layer of layers) if (layer.values[key]) value = layer.values[key].value;
    if (group) (settings[group] as Record<string, unknown>)[key] = value;
    else settings[key] = value;
  }
  settings.repositories = repositories(layers, env);
  return settings as unknown as ServiceSettings;
}

/**
 * A URL list (environment, flags) replaces the repositories of the layers below it, each URL with the lists given
 * beside it (or below it); lists given without URLs override those of the repositories below (the file's, or the
 * Wolfi default).
 */
function repositories(layers: readonly SettingsLayer[], env: NodeJS.ProcessEnv): RepositorySettings[] {
  let repos: DescribedRepository[] | undefined;
  let beside: SettingsLayer['beside'] = {};
  const lists = REPOSITORY_ENTRIES.filter(([key, option]) => key !== 'url' && (option.env || option.flags));
  const withLists = (url: string, given: SettingsLayer['beside']) => {
    const settings: Record<string, unknown> = {};
    for (const [key, option] of REPOSITORY_ENTRIES) {
      const g = key === 'url' ? { value: url } : given[key];
      if (g && (!option.appliesTo || option.appliesTo(url))) settings[key] = g.value;
      else if (option.default) settings[key] = option.default(url);
    }
    return settings as unknown as RepositorySettings;
  };
  for (const layer of layers) {
    if (layer.repositories) repos = layer.repositories;
    const urls = layer.beside.url as Given<string[]> | undefined;
    if (urls) {
      const given = { ...beside, ...layer.beside };
      repos = urls.value.map((url) => ({ settings: withLists(url, given), where: urls.where }));
    } else if (repos) {
      repos = repos.map(({ settings, where }) => {
        const next: Record<string, unknown> = { ...settings };
        for (const [key, option] of lists) {
          const g = layer.beside[key];
          if (g && (!option.appliesTo || option.appliesTo(settings.url))) next[key] = g.value;
        }
        return { settings: next as unknown as RepositorySettings, where };
      });
    }
    beside = { ...beside, ...layer.beside };
  }
  repos ??= [{ settings: withLists(WOLFI.url, beside), where: `default repository (${WOLFI.name})` }];

  const names = new Set<string>();
  return repos.map(({ settings, where }) => {
    repositoryName.parse(settings.name, `${where}.name`);
    if (names.has(settings.name))
      throw new ConfigError(`${where}.name: two repositories are named ${JSON.stringify(settings.name)}`);
    names.add(settings.name);
    if (settings.auth) authorizationHeader(settings.auth, env, `${where}.auth`);
    return settings;
  });
}
