import { repositoryUrl } from '../apko/repository.js';

/**
 * What `pin` and `check` could not check: an image's repository had no data (no index given for it, or none for an
 * arch). A gate never passes on that (exit 3), unless the user names the repository (`--allow-unchecked REPO`).
 */
export interface Unchecked {
  /** Items (pins, findings) not checked for a repository the user did not allow. */
  failing: number;
  /** Items not checked only for allowed repositories. */
  allowed: number;
  /** The repositories without data that were not allowed, as comparable URLs. */
  repositories: string[];
}

/** `lacking`: for each item not checked, the repositories (comparable URLs) that had no data for it. */
export function uncheckedGate(
  lacking: ReadonlyArray<readonly string[]>,
  allow: readonly string[],
  root: string,
): Unchecked {
  const allowed = new Set(allow.map((a) => repositoryUrl(a, root)));
  const repositories = new Set<string>();
  let failing = 0;
  for (const urls of lacking) {
    const refused = urls.filter((u) => !allowed.has(u));
    if (refused.length === 0) continue;
    failing++;
    for (const u of refused) repositories.add(u);
  }
  return { failing, allowed: lacking.length - failing, repositories: [...repositories] };
}

/** The line that says why the gate did not pass, and how to let it. */
export function uncheckedLine(u: Unchecked): string {
  return `not checked: no data for ${u.repositories.join(', ')}; give its index (--index, with --alias for a mirror) or, to pass without it, ${u.repositories.map((r) => `--allow-unchecked ${r}`).join(' ')}`;
}
