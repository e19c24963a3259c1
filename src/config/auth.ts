import { ConfigError } from '../errors.js';
import type { RepositoryAuth } from './settings.js';

/** The Authorization header for a private repository, from the environment variables its `auth` names. */
export function authorizationHeader(auth: RepositoryAuth, env: NodeJS.ProcessEnv, where: string): string {
  if ('bearerTokenEnv' in auth) {
    const token = env[auth.bearerTokenEnv]?.trim();
    if (!token)
      throw new ConfigError(`${where}.bearerTokenEnv: environment variable ${auth.bearerTokenEnv} is not set`);
    return `Bearer ${token}`;
  }
  const user = env[auth.usernameEnv];
  const password = env[auth.passwordEnv];
  if (!user) throw new ConfigError(`${where}.usernameEnv: environment variable ${auth.usernameEnv} is not set`);
  if (password === undefined)
    throw new ConfigError(`${where}.passwordEnv: environment variable ${auth.passwordEnv} is not set`);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
