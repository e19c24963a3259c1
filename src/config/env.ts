import { COMMAND_FLAGS } from './options.js';
import { checkList, emptyLayer, REPOSITORY_ENTRIES, SERVICE_ENTRIES, splitList, type SettingsLayer } from './layer.js';

export const ENV_CONFIG = COMMAND_FLAGS.config.env;

/** The environment's layer; empty variables count as unset (GitLab passes unset variables as ""). */
export function readEnvironment(env: NodeJS.ProcessEnv): SettingsLayer {
  const layer = emptyLayer('environment');
  for (const { key, option } of SERVICE_ENTRIES) {
    if (!option.env) continue;
    const raw = env[option.env]?.trim();
    if (!raw) continue;
    layer.values[key] = {
      value: option.kind.parse(option.kind.list ? splitList(raw) : raw, option.env),
      where: option.env,
    };
  }
  for (const [key, option] of REPOSITORY_ENTRIES) {
    if (!option.env) continue;
    const list = splitList(env[option.env]);
    if (list.length) layer.beside[key] = checkList(key, list, option.env);
  }
  return layer;
}
