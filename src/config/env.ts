import { CONFIG_FLAG } from './options.js';
import {
  besideFrom,
  checkUrls,
  emptyLayer,
  givens,
  LIMIT_TABLE,
  REPOSITORY_TABLE,
  SERVICE_TABLE,
  type Given,
  type SettingsLayer,
} from './layer.js';
import type { Option } from './options.js';
import { splitList } from '../core/list.js';

export const ENV_CONFIG = CONFIG_FLAG.env!;

/** The environment's layer; empty variables count as unset (GitLab passes unset variables as ""). */
export function readEnvironment(env: NodeJS.ProcessEnv): SettingsLayer {
  const layer = emptyLayer('environment');
  const read = <T>(option: Option<T>): Given<T> | undefined => {
    const raw = option.env && env[option.env]?.trim();
    if (!option.env || !raw) return undefined;
    return { value: option.kind.parse(option.kind.list ? splitList(raw) : raw, option.env), where: option.env };
  };
  layer.service = givens(SERVICE_TABLE, read);
  layer.limits = givens(LIMIT_TABLE, read);
  const urls = REPOSITORY_TABLE.url.env;
  if (urls && splitList(env[urls]).length) layer.urls = checkUrls(splitList(env[urls]), urls);
  layer.beside = besideFrom((option) =>
    option.env ? { list: splitList(env[option.env]), where: option.env } : undefined,
  );
  return layer;
}
