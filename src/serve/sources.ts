/**
 * The service's one door to the loader: what each configured repository fetches (its indexes, keys and security
 * database, with the headers the credential rule allows). The stores load through these only.
 */
import { repositorySource, type RepositorySource } from '../config/repository-source.js';
import { loadRepositoryIndex, loadRepositoryKeys, loadRepositorySecdb } from '../load/repositories.js';
import type { RepositorySettings } from '../config/settings.js';

export { loadRepositoryIndex, loadRepositoryKeys, loadRepositorySecdb, type RepositorySource };

/** Each repository as it is fetched; a missing `auth` variable is a ConfigError naming `repositories[i]`. */
export function repositorySources(
  repositories: readonly RepositorySettings[],
  env: NodeJS.ProcessEnv,
): RepositorySource[] {
  return repositories.map((repository, i) => repositorySource(repository, env, `repositories[${i}]`));
}
