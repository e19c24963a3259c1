import { emptyLayer, splitList, type Scalar, type SettingsLayer } from './layer.js';

/**
 * Environment variables carry the APK_INDEXER_ prefix: GitLab CI hands a job's variables to its service
 * containers, and Renovate itself reads LOG_LEVEL.
 */
export const ENV_SCALARS: Record<string, Scalar> = {
  APK_INDEXER_HOST: 'host',
  APK_INDEXER_PORT: 'port',
  APK_INDEXER_UPDATE_INTERVAL: 'updateInterval',
  APK_INDEXER_FIRST_LOAD_TIMEOUT: 'firstLoadTimeout',
  APK_INDEXER_LOG_LEVEL: 'logLevel',
  APK_INDEXER_LOG_OUTPUT: 'logFormat',
  APK_INDEXER_REFRESH_TOKEN: 'refreshToken',
  APK_INDEXER_ANY_ARCH: 'anyArch',
};

export const ENV_CONFIG = 'APK_INDEXER_CONFIG';

/** The environment's layer; empty variables count as unset (GitLab passes unset variables as ""). */
export function readEnvironment(env: NodeJS.ProcessEnv): SettingsLayer {
  const layer = emptyLayer('environment');
  for (const [name, key] of Object.entries(ENV_SCALARS)) {
    const value = env[name]?.trim();
    if (!value) continue;
    layer.values[key] = value;
    layer.where[key] = name;
  }
  const list = (name: string) => {
    const values = splitList(env[name]);
    return values.length ? { list: values, where: name } : undefined;
  };
  const urls = list('APK_INDEXER_INDEX_URL');
  const arches = list('APK_INDEXER_ARCHES');
  const keys = list('APK_INDEXER_KEYS');
  if (urls) layer.urls = urls;
  if (arches) layer.arches = arches;
  if (keys) layer.keys = keys;
  return layer;
}
