import { authorizationHeader } from './auth.js';
import { ENV_CONFIG, readEnvironment } from './env.js';
import { ConfigError } from '../errors.js';
import { readConfigFile } from './file.js';
import { readFlags, type ParsedFlags } from './flags.js';
import { repositoryName } from './kinds.js';
import {
  LIMIT_TABLE,
  merged,
  repositoryFor,
  SERVICE_TABLE,
  withOverrides,
  type BesideValues,
  type DescribedRepository,
  type Givens,
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
  return settingsFromFlags(readFlags(argv, cwd), env);
}

/** The settings from `serve`'s flags as read (flagsLayer), the file they name and the environment. */
export function settingsFromFlags(flags: ParsedFlags, env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  const configPath = flags.config ?? (env[ENV_CONFIG]?.trim() || undefined);
  const layers = [...(configPath ? [readConfigFile(configPath)] : []), readEnvironment(env), flags.layer];
  return mergeLayers(layers, env);
}

export function mergeLayers(layers: readonly SettingsLayer[], env: NodeJS.ProcessEnv): ServiceSettings {
  return {
    ...merged(
      SERVICE_TABLE,
      layers.map((l) => l.service),
    ),
    limits: merged(
      LIMIT_TABLE,
      layers.map((l) => l.limits),
    ),
    repositories: repositories(layers, env),
  };
}

/**
 * A URL list (environment, flags) replaces the repositories of the layers below it, each URL with the lists given
 * beside it (or below it); lists given without URLs override those of the repositories below (the file's, or the
 * Wolfi default).
 */
function repositories(layers: readonly SettingsLayer[], env: NodeJS.ProcessEnv): RepositorySettings[] {
  let repos: DescribedRepository[] | undefined;
  let beside: Givens<BesideValues> = {};
  for (const layer of layers) {
    if (layer.repositories) repos = layer.repositories;
    const urls = layer.urls;
    if (urls) {
      const given = { ...beside, ...layer.beside };
      repos = urls.value.map((url) => ({ settings: repositoryFor(url, given), where: urls.where }));
    } else if (repos) {
      repos = repos.map(({ settings, where }) => ({ settings: withOverrides(settings, layer.beside), where }));
    }
    beside = { ...beside, ...layer.beside };
  }
  repos ??= [{ settings: repositoryFor(WOLFI.url, beside), where: `default repository (${WOLFI.name})` }];

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
